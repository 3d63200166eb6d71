/**
 * RoutingTable: the immutable routing decision the ingress proxy makes for each request, built
 * from every served Ingress at once (buildRoutingTable) and swapped whole on every change.
 *
 * Matching follows the Ingress spec (networking.k8s.io/v1) and, where the spec leaves room,
 * ingress-nginx:
 * - Hosts: a rule's host matches the request's Host (lower-cased, port and trailing dot
 *   removed) exactly, or — for `*.example.com` — when the request's host is exactly one label
 *   followed by `.example.com` (`a.example.com`, not `example.com`, not `a.b.example.com`). An
 *   exact host wins over a wildcard, and a wildcard over rules without a host (which match
 *   every host). The request goes to the most specific group and stays there: when none of its
 *   paths match, the default backend answers (as ingress-nginx's per-host server blocks do).
 * - Paths: `Exact` compares the whole path, case-sensitively. `Prefix` compares element by
 *   element on '/': `/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`; a trailing
 *   slash in the rule is ignored and `/` matches everything. `ImplementationSpecific` is
 *   treated as Prefix. The query string is not part of the path.
 * - Precedence: the longest matching path wins; on equal length Exact wins over Prefix.
 * - Merging: the rules of all served Ingresses are merged per host. When two Ingresses claim
 *   the same host + path + type (or the same TLS host, or both have a default backend), the
 *   oldest Ingress (creationTimestamp, then namespace/name) wins, as ingress-nginx resolves
 *   conflicts; the loser is reported in `conflicts`.
 * - Default backend: `spec.defaultBackend` of the oldest served Ingress that has one;
 *   otherwise none, and the proxy answers 404 itself.
 * - TLS: `spec.tls[].hosts` (exact or `*.` wildcard) map to a Secret of the Ingress's namespace;
 *   an entry without hosts covers the hosts of that Ingress's own rules. A host is a TLS host
 *   only when its Secret could be loaded: such hosts get their certificate by SNI and plain HTTP
 *   requests for them are redirected to HTTPS (308, ingress-nginx's default ssl-redirect).
 */
import type { SecureContext } from 'node:tls';
import type { Ingress, IngressBackend } from 'kubernetes-types/networking/v1.js';

export interface Endpoint {
  ip: string;
  port: number;
}

/** Where a route sends requests: the ready endpoints of a Service port, resolved already. */
export interface Backend {
  /** `namespace/service:port`, for balancing state and logs. */
  key: string;
  /** Ready endpoints, sorted (so balancing order survives table swaps). */
  endpoints: Endpoint[];
  /** Why there are no endpoints (no such service or port, nothing ready), for events and logs. */
  problem?: string;
}

export type PathKind = 'Exact' | 'Prefix';

export interface Route {
  /** The rule's host ('' = every host). */
  host: string;
  /** The path as written in the Ingress. */
  path: string;
  pathType: PathKind;
  backend: Backend;
  /** `namespace/name` of the Ingress the route comes from. */
  ingress: string;
}

export interface TLSCertificate {
  /** `namespace/name` of the Secret. */
  secret: string;
  context: SecureContext;
}

/** Resolves an Ingress backend in the Ingress's namespace. */
export type BackendResolver = (namespace: string, backend: IngressBackend) => Backend;
/** Loads a TLS Secret (undefined when missing or invalid). */
export type CertificateResolver = (namespace: string, secretName: string) => TLSCertificate | undefined;

export interface Conflict {
  /** The Ingress whose claim lost. */
  ingress: string;
  /** The older Ingress that keeps it. */
  winner: string;
  what: string;
}

interface HostGroup {
  host: string;
  /** Sorted by precedence: longest first, Exact before Prefix. */
  routes: CompiledRoute[];
}

interface CompiledRoute extends Route {
  /** Exact: the path; Prefix: the path without trailing slashes ('' for '/'). */
  match: string;
}

export interface RouteResult {
  /** The matching route, if any. */
  route?: Route;
  /** Where the request goes: the route's backend, else the default backend; undefined = 404. */
  backend?: Backend;
}

export class RoutingTable {
  /** An empty table: every request gets the controller's 404. */
  static readonly EMPTY = new RoutingTable(new Map(), new Map(), undefined, undefined, new Map(), new Map(), [], []);

  constructor(
    private readonly exact: Map<string, HostGroup>,
    private readonly wildcard: Map<string, HostGroup>,
    private readonly anyHost: HostGroup | undefined,
    readonly defaultBackend: Backend | undefined,
    private readonly tlsExact: Map<string, TLSCertificate>,
    private readonly tlsWildcard: Map<string, TLSCertificate>,
    /** `namespace/name` of every Ingress the table was built from, oldest first. */
    readonly ingresses: string[],
    readonly conflicts: Conflict[],
  ) {}

  /** Routes a request: `host` as sent in the Host header (port and case allowed), `path` without the query. */
  route(host: string, path: string): RouteResult {
    const group = this.group(normalizeHost(host));
    if (group) {
      for (const r of group.routes) {
        if (pathMatches(r.pathType, r.match, path)) return { route: r, backend: r.backend };
      }
    }
    return { backend: this.defaultBackend };
  }

  /** The certificate for an SNI name, if a served Ingress has one for it. */
  certificate(serverName: string): TLSCertificate | undefined {
    const h = normalizeHost(serverName);
    const c = this.tlsExact.get(h);
    if (c) return c;
    const dot = h.indexOf('.');
    return dot > 0 ? this.tlsWildcard.get(h.slice(dot + 1)) : undefined;
  }

  /** Whether plain-HTTP requests for this host are redirected to HTTPS (it has a certificate). */
  redirectsToHTTPS(host: string): boolean {
    return this.certificate(host) !== undefined;
  }

  /** Every backend the table can send to (routes and the default backend). */
  backends(): Backend[] {
    const out = new Map<string, Backend>();
    const groups = [...this.exact.values(), ...this.wildcard.values(), ...(this.anyHost ? [this.anyHost] : [])];
    for (const g of groups) for (const r of g.routes) out.set(r.backend.key, r.backend);
    if (this.defaultBackend) out.set(this.defaultBackend.key, this.defaultBackend);
    return [...out.values()];
  }

  /** The routes, grouped per host in matching order (for logs, tests and `describe`-like output). */
  dump(): Array<{ host: string; routes: Array<{ path: string; pathType: PathKind; backend: string; ingress: string }> }> {
    const groups = [...this.exact.values(), ...this.wildcard.values(), ...(this.anyHost ? [this.anyHost] : [])];
    return groups.map((g) => ({ host: g.host, routes: g.routes.map((r) => ({ path: r.path, pathType: r.pathType, backend: r.backend.key, ingress: r.ingress })) }));
  }

  private group(host: string): HostGroup | undefined {
    const g = this.exact.get(host);
    if (g) return g;
    const dot = host.indexOf('.');
    if (dot > 0) {
      const w = this.wildcard.get(host.slice(dot + 1));
      if (w) return w;
    }
    return this.anyHost;
  }
}

/** Lower-cases a Host header or SNI name and drops the port, IPv6 brackets' port and a trailing dot. */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) return '';
  let h = raw.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** The key a path is matched by: Exact keeps it; Prefix drops trailing slashes ('/' → ''). */
export function matchKey(pathType: PathKind, path: string): string {
  if (pathType === 'Exact') return path;
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return path.slice(0, end);
}

/** Whether a request path matches a compiled rule path (see the module comment). */
export function pathMatches(pathType: PathKind, key: string, path: string): boolean {
  if (pathType === 'Exact') return path === key;
  if (key === '') return true;
  return path.startsWith(key) && (path.length === key.length || path.charCodeAt(key.length) === 47);
}

/** Ingress path types as the table uses them: ImplementationSpecific (and anything unknown) is Prefix. */
export function pathKind(pathType: string | undefined): PathKind {
  return pathType === 'Exact' ? 'Exact' : 'Prefix';
}

const byPrecedence = (a: CompiledRoute, b: CompiledRoute) =>
  b.match.length - a.match.length || (a.pathType === b.pathType ? 0 : a.pathType === 'Exact' ? -1 : 1);

const keyOfIngress = (ing: Ingress) => `${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;

/**
 * Builds the table from the served Ingresses, which must be sorted oldest first (conflicts go
 * to the first claimant). Backends and certificates are resolved through the given functions,
 * each at most once per distinct reference.
 */
export function buildRoutingTable(served: Ingress[], resolveBackend: BackendResolver, resolveCertificate: CertificateResolver): RoutingTable {
  const exact = new Map<string, HostGroup>();
  const wildcard = new Map<string, HostGroup>();
  let anyHost: HostGroup | undefined;
  let defaultBackend: Backend | undefined;
  let defaultOwner = '';
  const tlsExact = new Map<string, TLSCertificate>();
  const tlsWildcard = new Map<string, TLSCertificate>();
  const tlsOwner = new Map<string, string>();
  const conflicts: Conflict[] = [];
  /** group host → route key → owning ingress */
  const claimed = new Map<string, Map<string, string>>();

  const backendCache = new Map<string, Backend>();
  const backend = (ns: string, b: IngressBackend): Backend => {
    const k = `${ns}\u0000${JSON.stringify(b)}`;
    let v = backendCache.get(k);
    if (!v) backendCache.set(k, (v = resolveBackend(ns, b)));
    return v;
  };
  const certCache = new Map<string, TLSCertificate | null>();
  const certificate = (ns: string, name: string): TLSCertificate | undefined => {
    const k = `${ns}/${name}`;
    if (!certCache.has(k)) certCache.set(k, resolveCertificate(ns, name) ?? null);
    return certCache.get(k) ?? undefined;
  };

  const groupFor = (host: string): HostGroup => {
    if (!host) return (anyHost ??= { host: '', routes: [] });
    const [map, k] = host.startsWith('*.') ? [wildcard, host.slice(2)] : [exact, host];
    let g = map.get(k);
    if (!g) map.set(k, (g = { host, routes: [] }));
    return g;
  };

  for (const ing of served) {
    const ns = ing.metadata?.namespace ?? 'default';
    const ingKey = keyOfIngress(ing);
    const spec = ing.spec ?? {};
    if (spec.defaultBackend) {
      if (!defaultBackend) { defaultBackend = backend(ns, spec.defaultBackend); defaultOwner = ingKey; }
      else conflicts.push({ ingress: ingKey, winner: defaultOwner, what: 'the default backend' });
    }
    const ruleHosts: string[] = [];
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      if (host) ruleHosts.push(host);
      // A rule without paths still claims its host: requests for it get the default backend.
      const group = groupFor(host);
      let claims = claimed.get(group.host);
      if (!claims) claimed.set(group.host, (claims = new Map()));
      for (const p of rule.http?.paths ?? []) {
        const pathType = pathKind(p.pathType);
        const path = p.path || '/';
        const match = matchKey(pathType, path);
        const rk = `${pathType} ${match}`;
        const owner = claims.get(rk);
        if (owner !== undefined) {
          if (owner !== ingKey) conflicts.push({ ingress: ingKey, winner: owner, what: `${pathType} path ${path} on ${host || 'every host'}` });
          continue;
        }
        claims.set(rk, ingKey);
        group.routes.push({ host, path, pathType, match, backend: backend(ns, p.backend), ingress: ingKey });
      }
    }
    for (const t of spec.tls ?? []) {
      if (!t.secretName) continue;
      const hosts = t.hosts?.length ? t.hosts.map((h) => h.toLowerCase()) : ruleHosts;
      for (const h of hosts) {
        const owner = tlsOwner.get(h);
        if (owner !== undefined) {
          if (owner !== ingKey) conflicts.push({ ingress: ingKey, winner: owner, what: `the TLS certificate of ${h}` });
          continue;
        }
        const cert = certificate(ns, t.secretName);
        // A Secret that cannot be used leaves the host to a younger Ingress (or the default certificate).
        if (!cert) continue;
        tlsOwner.set(h, ingKey);
        if (h.startsWith('*.')) tlsWildcard.set(h.slice(2), cert);
        else tlsExact.set(h, cert);
      }
    }
  }
  for (const g of [...exact.values(), ...wildcard.values(), ...(anyHost ? [anyHost] : [])]) g.routes.sort(byPrecedence);
  return new RoutingTable(exact, wildcard, anyHost, defaultBackend, tlsExact, tlsWildcard, served.map(keyOfIngress), conflicts);
}
