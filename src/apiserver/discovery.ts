/**
 * Discovery documents: aggregated discovery v2 (`/api`, `/apis` with the apidiscovery Accept),
 * legacy APIVersions / APIGroupList / APIGroup / APIResourceList, each with an ETag so clients
 * revalidate with If-None-Match and get 304 (shared/reference/kubectl-wire.md §1.3).
 */
import { createHash } from 'node:crypto';
import { GROUP_ORDER, gvString, type ResourceInfo } from '../api/resources.js';

export interface Doc { body: string; etag: string }

const doc = (o: unknown): Doc => {
  const body = JSON.stringify(o);
  return { body, etag: `"${createHash('sha512').update(body).digest('hex').slice(0, 64).toUpperCase()}"` };
};

interface GroupVersions { group: string; versions: string[] }

function groupsOf(resources: ResourceInfo[]): GroupVersions[] {
  const m = new Map<string, Set<string>>();
  for (const r of resources) {
    if (!m.has(r.group)) m.set(r.group, new Set());
    m.get(r.group)!.add(r.version);
  }
  const order = (g: string) => { const i = GROUP_ORDER.indexOf(g); return i < 0 ? GROUP_ORDER.length : i; };
  const versionRank = (v: string) => {
    const m2 = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m2) return -1;
    const stage = m2[2] === 'alpha' ? 0 : m2[2] === 'beta' ? 1 : 2;
    return stage * 1e6 + Number(m2[1]) * 1e3 + Number(m2[3] ?? 0);
  };
  return [...m.entries()]
    .sort((a, b) => order(a[0]) - order(b[0]) || a[0].localeCompare(b[0]))
    .map(([group, vs]) => ({ group, versions: [...vs].sort((a, b) => versionRank(b) - versionRank(a)) }));
}

function aggregatedResource(r: ResourceInfo) {
  const out: Record<string, unknown> = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: [...r.verbs].sort(),
  };
  if (r.shortNames.length) out.shortNames = r.shortNames;
  if (r.categories.length) out.categories = r.categories;
  if (r.subresources.length) {
    out.subresources = r.subresources.map((s) => ({
      subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs,
    }));
  }
  return out;
}

function legacyResources(r: ResourceInfo) {
  const main: Record<string, unknown> = {
    name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: [...r.verbs].sort(),
  };
  if (r.shortNames.length) main.shortNames = r.shortNames;
  if (r.categories.length) main.categories = r.categories;
  main.storageVersionHash = createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest('base64').slice(0, 11);
  const subs = r.subresources.map((s) => {
    const o: Record<string, unknown> = { name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs };
    if (s.group !== r.group || s.version !== r.version) { o.group = s.group; o.version = s.version; }
    return o;
  });
  return [main, ...subs];
}

/** Builds and caches every discovery document for a set of resources. */
export class Discovery {
  private cache = new Map<string, Doc>();
  constructor(private resources: () => ResourceInfo[]) {}

  invalidate(): void { this.cache.clear(); }

  private memo(k: string, build: () => unknown): Doc {
    let d = this.cache.get(k);
    if (!d) { d = doc(build()); this.cache.set(k, d); }
    return d;
  }

  private aggregatedGroup(g: GroupVersions, all: ResourceInfo[]) {
    return {
      metadata: { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: all.filter((r) => r.group === g.group && r.version === v).sort((a, b) => a.plural.localeCompare(b.plural)).map(aggregatedResource),
        freshness: 'Current',
      })),
    };
  }

  /** `/api` (core) or `/apis` (named groups) as APIGroupDiscoveryList. */
  aggregated(core: boolean, version: 'v2' | 'v2beta1'): Doc {
    return this.memo(`agg:${core}:${version}`, () => {
      const all = this.resources();
      const groups = groupsOf(all).filter((g) => (g.group === '') === core);
      return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items: groups.map((g) => this.aggregatedGroup(g, all)) };
    });
  }

  apiVersions(serverAddress: string): Doc {
    return this.memo(`api:${serverAddress}`, () => ({
      kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    }));
  }

  private groupDoc(g: GroupVersions) {
    const versions = g.versions.map((v) => ({ groupVersion: gvString(g.group, v), version: v }));
    return { name: g.group, versions, preferredVersion: versions[0] };
  }

  apiGroupList(): Doc {
    return this.memo('apis', () => ({
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: groupsOf(this.resources()).filter((g) => g.group !== '').map((g) => this.groupDoc(g)),
    }));
  }

  apiGroup(group: string): Doc | undefined {
    const g = groupsOf(this.resources()).find((x) => x.group === group && group !== '');
    if (!g) return undefined;
    return this.memo(`group:${group}`, () => ({ kind: 'APIGroup', apiVersion: 'v1', ...this.groupDoc(g) }));
  }

  resourceList(group: string, version: string): Doc | undefined {
    const rs = this.resources().filter((r) => r.group === group && r.version === version);
    if (!rs.length) return undefined;
    return this.memo(`rl:${group}/${version}`, () => ({
      kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gvString(group, version),
      resources: rs.sort((a, b) => a.plural.localeCompare(b.plural)).flatMap(legacyResources),
    }));
  }
}
