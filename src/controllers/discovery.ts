/**
 * Discovery for controllers: every resource the API server serves, read the way client-go's
 * discovery client does it, so that controllers which act on "all kinds" (namespace deletion,
 * garbage collection) pick up CustomResourceDefinitions without code changes.
 *
 * - First choice: aggregated discovery (`GET /api` and `GET /apis` with the
 *   `apidiscovery.k8s.io/v2` Accept), one request per half of the API.
 * - Fallback (servers without aggregated discovery): the legacy documents — APIVersions and
 *   APIGroupList, then one APIResourceList per group version. A group version that fails is
 *   reported in `failed` and skipped, as client-go's ErrGroupDiscoveryFailed.
 *
 * Versions of a group come in the server's preference order (preferred first), so
 * `preferredResources` can pick, for each group and resource, the first version serving it
 * (client-go's ServerPreferredResources).
 *
 * Shared by the controllers in src/controllers/; it only uses the public RestClient. (It could
 * move to src/client/ once other components need it.)
 */
import type { ResourceDescriptor, RestClient } from '../client/index.js';

/** One resource (not a subresource) of one group version. */
export interface DiscoveredResource extends ResourceDescriptor {
  kind: string;
  verbs: string[];
}

export interface DiscoveryResult {
  /** Every resource of every group version, preferred version first within each group. */
  resources: DiscoveredResource[];
  /** Group versions ("v1", "apps/v1") that could not be read, with the reason. */
  failed: Map<string, string>;
}

const AGGREGATED_ACCEPT = [
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  'application/json',
].join(',');

const gv = (group: string, version: string) => (group ? `${group}/${version}` : version);

function parseBody(body: Buffer): any {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

async function getJSON(client: RestClient, path: string, signal?: AbortSignal): Promise<any> {
  return client.requestJSON('GET', path, undefined, {}, { signal });
}

/** Reads an APIGroupDiscoveryList into `out`. */
function fromAggregated(doc: any, out: DiscoveryResult): void {
  for (const g of doc.items ?? []) {
    const group: string = g?.metadata?.name ?? '';
    for (const v of g?.versions ?? []) {
      const version: string = v?.version ?? '';
      if (!version) continue;
      // A stale group version (an aggregated API server that did not answer) is a failure.
      if (v.freshness === 'Stale') out.failed.set(gv(group, version), 'stale discovery information');
      for (const r of v.resources ?? []) {
        if (!r?.resource) continue;
        out.resources.push({
          group, version, plural: r.resource, namespaced: r.scope === 'Namespaced',
          kind: r.responseKind?.kind ?? '', verbs: Array.isArray(r.verbs) ? r.verbs : [],
        });
      }
    }
  }
}

/** Reads one legacy APIResourceList (subresources, named "pods/status", are skipped). */
async function fromResourceList(client: RestClient, group: string, version: string, out: DiscoveryResult, signal?: AbortSignal): Promise<void> {
  const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
  try {
    const list = await getJSON(client, path, signal);
    for (const r of list?.resources ?? []) {
      if (!r?.name || String(r.name).includes('/')) continue;
      out.resources.push({
        group, version, plural: r.name, namespaced: r.namespaced === true,
        kind: r.kind ?? '', verbs: Array.isArray(r.verbs) ? r.verbs : [],
      });
    }
  } catch (err) {
    out.failed.set(gv(group, version), (err as Error).message);
  }
}

/**
 * Discovers every resource the server serves. Throws only when nothing at all could be read
 * (both halves of the API failed); partial failures are listed in `failed`.
 */
export async function discoverResources(client: RestClient, signal?: AbortSignal): Promise<DiscoveryResult> {
  const out: DiscoveryResult = { resources: [], failed: new Map() };
  let anyOK = false;
  let firstErr: unknown;
  for (const root of ['/api', '/apis'] as const) {
    try {
      const res = await client.request('GET', root, undefined, { accept: AGGREGATED_ACCEPT }, { signal });
      const doc = res.status === 200 ? parseBody(res.body) : undefined;
      if (doc?.kind === 'APIGroupDiscoveryList') {
        fromAggregated(doc, out);
        anyOK = true;
        continue;
      }
      // Legacy discovery.
      if (root === '/api') {
        const versions: string[] = (doc?.kind === 'APIVersions' ? doc : await getJSON(client, '/api', signal))?.versions ?? [];
        for (const v of versions) await fromResourceList(client, '', v, out, signal);
      } else {
        const groups = doc?.kind === 'APIGroupList' ? doc : await getJSON(client, '/apis', signal);
        for (const g of groups?.groups ?? []) {
          const preferred: string | undefined = g?.preferredVersion?.version;
          const versions: string[] = (g?.versions ?? []).map((v: any) => v?.version).filter(Boolean);
          versions.sort((a, b) => (a === preferred ? -1 : b === preferred ? 1 : 0));
          for (const v of versions) await fromResourceList(client, g.name, v, out, signal);
        }
      }
      anyOK = true;
    } catch (err) {
      if (signal?.aborted) throw err;
      firstErr ??= err;
      out.failed.set(root === '/api' ? 'v1' : '*', (err as Error).message);
    }
  }
  if (!anyOK) throw firstErr instanceof Error ? firstErr : new Error('discovery failed');
  return out;
}

/**
 * For each group and resource, the first (most preferred) version serving it — client-go's
 * ServerPreferredResources.
 */
export function preferredResources(resources: DiscoveredResource[]): DiscoveredResource[] {
  const seen = new Set<string>();
  const out: DiscoveredResource[] = [];
  for (const r of resources) {
    const k = `${r.group}/${r.plural}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

/** "plural.group" (or "plural" for the core group), as GroupResource.String(). */
export function groupResourceString(r: Pick<ResourceDescriptor, 'group' | 'plural'>): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** "group/version" or "version" — an object's apiVersion. */
export function apiVersionOf(r: Pick<ResourceDescriptor, 'group' | 'version'>): string {
  return gv(r.group, r.version);
}

/** Splits an apiVersion into group and version ("v1" → core group). */
export function parseAPIVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
