/**
 * The aggregation layer (kube-aggregator): APIService objects with a `spec.service` register a
 * group/version served by another API server. keelson checks each one (resolving the Service to
 * an endpoint, as --enable-aggregator-routing does, and fetching its discovery), records the
 * Available condition, publishes its resources in keelson's discovery, and proxies every request
 * under /apis/<group>/<version> to it with the caller's identity in X-Remote-User/X-Remote-Group,
 * authenticating itself with a front-proxy client certificate.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ResourceInfo, SubresourceInfo } from '../api/resources.js';
import type { ResourceStore, WriteContext } from '../registry/store.js';
import type { WatchCache, CacheEvent } from './watch-cache.js';
import type { UserInfo } from './admission/admission.js';
import { StatusError, serviceUnavailable } from '../apimachinery/errors.js';
import { nowRFC3339 } from '../util/objects.js';
import { logger } from '../util/log.js';

const log = logger('aggregator');
const SYSTEM_CTX: WriteContext = { user: { username: 'system:kube-aggregator', groups: ['system:masters', 'system:authenticated'] }, dryRun: false, warnings: [] };

interface Target {
  name: string;
  group: string;
  version: string;
  service: { namespace: string; name: string; port: number };
  ca?: string;
  insecure: boolean;
  infos: ResourceInfo[];
  available: boolean;
}

export interface AggregatorHost {
  cache: WatchCache;
  apiServices: ResourceStore;
  services: ResourceStore;
  endpoints: ResourceStore;
  /** Client certificate the aggregator presents to backends (front proxy). */
  clientCert: { certPem: string; keyPem: string };
  publish(infos: ResourceInfo[]): void;
}

export class Aggregator {
  private targets = new Map<string, Target>();
  private stopWatch?: () => void;
  private timer?: NodeJS.Timeout;
  private checking = new Set<string>();

  constructor(private host: AggregatorHost, private opts: { recheckMs?: number } = {}) {}

  async start(): Promise<void> {
    const { cache, apiServices } = this.host;
    for (const e of cache.list(apiServices.prefix)) this.upsert(apiServices.decode(e.json, e.rev));
    this.stopWatch = cache.watch({
      prefix: apiServices.prefix,
      onEvent: (ev: CacheEvent) => {
        const obj = apiServices.decode(ev.entry.json, ev.rev);
        if (ev.type === 'DELETED') { this.targets.delete(obj.metadata.name); this.publish(); }
        else this.upsert(obj);
      },
      onBookmark: () => {},
      onError: (err) => log.error('APIService watch failed', { err }),
    }, cache.revision);
    this.timer = setInterval(() => { for (const t of this.targets.values()) void this.check(t); }, this.opts.recheckMs ?? 30000);
    this.timer.unref();
  }

  close(): void {
    this.stopWatch?.();
    if (this.timer) clearInterval(this.timer);
  }

  private upsert(obj: any): void {
    const spec = obj.spec ?? {};
    if (!spec.service || !spec.group || !spec.version) {
      // Local APIServices (no service) describe groups this server serves itself.
      if (this.targets.delete(obj.metadata.name)) this.publish();
      return;
    }
    const prev = this.targets.get(obj.metadata.name);
    const t: Target = {
      name: obj.metadata.name, group: spec.group, version: spec.version,
      service: { namespace: spec.service.namespace, name: spec.service.name, port: spec.service.port ?? 443 },
      ca: spec.caBundle ? Buffer.from(spec.caBundle, 'base64').toString('utf8') : undefined,
      insecure: !!spec.insecureSkipTLSVerify, infos: prev?.infos ?? [], available: prev?.available ?? false,
    };
    this.targets.set(t.name, t);
    void this.check(t);
  }

  private publish(): void {
    this.host.publish([...this.targets.values()].filter((t) => t.available).flatMap((t) => t.infos));
  }

  /** The target serving /apis/<group>/<version>, if aggregated. */
  route(group: string, version: string): Target | undefined {
    for (const t of this.targets.values()) if (t.group === group && t.version === version) return t;
    return undefined;
  }

  /** Resolves the Service to one endpoint address (aggregator routing). */
  private endpoint(t: Target): { host: string; port: number } {
    const svcEntry = this.host.cache.get(this.host.services.key(t.service.namespace, t.service.name));
    if (!svcEntry) throw new Error(`service/${t.service.name} in "${t.service.namespace}" is not present`);
    const svc = JSON.parse(svcEntry.json);
    const sp = (svc.spec?.ports ?? []).find((p: any) => p.port === t.service.port);
    if (!sp) throw new Error(`service/${t.service.name} in "${t.service.namespace}" is not listening on port ${t.service.port}`);
    const epEntry = this.host.cache.get(this.host.endpoints.key(t.service.namespace, t.service.name));
    const ep = epEntry ? JSON.parse(epEntry.json) : undefined;
    for (const ss of ep?.subsets ?? []) {
      const port = (ss.ports ?? []).find((p: any) => (sp.name ? p.name === sp.name : true) && (typeof sp.targetPort !== 'string' || p.name === sp.targetPort))
        ?? (ss.ports ?? [])[0];
      const addr = (ss.addresses ?? [])[0];
      if (port && addr?.ip) return { host: addr.ip, port: port.port };
    }
    throw new Error(`no endpoints for service/${t.service.name} in "${t.service.namespace}"`);
  }

  private requestOptions(t: Target, method: string, path: string, headers: Record<string, string | string[]>): https.RequestOptions {
    const ep = this.endpoint(t);
    return {
      method, host: ep.host, port: ep.port, path, headers,
      servername: `${t.service.name}.${t.service.namespace}.svc`,
      ca: t.ca, rejectUnauthorized: !t.insecure && !!t.ca,
      cert: this.host.clientCert.certPem, key: this.host.clientCert.keyPem,
      timeout: 30000,
    };
  }

  /** Availability check: the backend answers its discovery document. */
  private async check(t: Target): Promise<void> {
    if (this.checking.has(t.name)) return;
    this.checking.add(t.name);
    let available = false;
    let reason = 'Passed';
    let message = 'all checks passed';
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = https.request(this.requestOptions(t, 'GET', `/apis/${t.group}/${t.version}`, { accept: 'application/json' }), (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d) => chunks.push(d));
          res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`failing or missing response from ${req.host}: bad status from /apis/${t.group}/${t.version}: ${res.statusCode}`))));
        });
        req.on('timeout', () => req.destroy(new Error('discovery check timed out')));
        req.on('error', reject);
        req.end();
      });
      t.infos = resourceInfosFromList(t.group, t.version, JSON.parse(body));
      available = true;
    } catch (err) {
      const m = (err as Error).message;
      reason = /not present/.test(m) ? 'ServiceNotFound' : /no endpoints/.test(m) ? 'MissingEndpoints' : 'FailedDiscoveryCheck';
      message = m;
    } finally {
      this.checking.delete(t.name);
    }
    const changed = t.available !== available;
    t.available = available;
    if (changed) this.publish();
    await this.setCondition(t.name, available, reason, message).catch((err) => log.warn('APIService status update failed', { apiservice: t.name, err }));
  }

  private async setCondition(name: string, available: boolean, reason: string, message: string): Promise<void> {
    await this.host.apiServices.guaranteedUpdate(undefined, name, SYSTEM_CTX, async (current) => {
      if (!current) throw new StatusError(404, 'NotFound', 'gone');
      const obj = structuredClone(current);
      const conds: any[] = obj.status?.conditions ?? [];
      const prev = conds.find((c) => c.type === 'Available');
      const status = available ? 'True' : 'False';
      const next = { type: 'Available', status, reason, message, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : nowRFC3339() };
      obj.status = { ...(obj.status ?? {}), conditions: [...conds.filter((c) => c.type !== 'Available'), next] };
      return { obj, subresource: '__status__' };
    });
  }

  /** Proxies one request to the target, streaming both ways. */
  proxy(t: Target, req: IncomingMessage, res: any, pathAndQuery: string, user: UserInfo): void {
    if (!t.available) throw serviceUnavailable(`the server is currently unable to handle the request (${t.version}.${t.group} is not available)`);
    const headers: Record<string, string | string[]> = {};
    for (const h of ['accept', 'content-type', 'content-length', 'accept-encoding', 'user-agent']) {
      const v = req.headers[h];
      if (v !== undefined) headers[h] = v as string;
    }
    headers['x-remote-user'] = user.username;
    headers['x-remote-group'] = user.groups;
    const out = https.request(this.requestOptions(t, req.method ?? 'GET', pathAndQuery, headers), (up) => {
      const h: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (v === undefined || ['connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'proxy-connection'].includes(k)) continue;
        h[k] = v as string | string[];
      }
      res.writeHead(up.statusCode ?? 502, h);
      up.pipe(res);
    });
    out.on('error', (err) => {
      if (!res.headersSent) {
        const e = serviceUnavailable(`error trying to reach service: ${err.message}`);
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(e.toStatus()));
      } else res.end();
    });
    req.pipe(out);
  }
}

/** Discovery entries from a backend's APIResourceList. */
export function resourceInfosFromList(group: string, version: string, list: any): ResourceInfo[] {
  const all: any[] = list?.resources ?? [];
  const subs = new Map<string, SubresourceInfo[]>();
  for (const r of all) {
    const [parent, sub] = String(r.name).split('/');
    if (!sub) continue;
    if (!subs.has(parent)) subs.set(parent, []);
    subs.get(parent)!.push({ name: sub, group: r.group ?? group, version: r.version ?? version, kind: r.kind ?? '', verbs: r.verbs ?? [] });
  }
  return all.filter((r) => !String(r.name).includes('/')).map((r) => ({
    group, version, kind: r.kind, listKind: `${r.kind}List`, plural: r.name, singular: r.singularName || String(r.kind).toLowerCase(),
    namespaced: !!r.namespaced, shortNames: r.shortNames ?? [], categories: r.categories ?? [], verbs: r.verbs ?? [],
    subresources: subs.get(r.name) ?? [], storageGroup: group, storageResource: r.name, schemaName: '',
  }));
}
