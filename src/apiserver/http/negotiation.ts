/**
 * Content negotiation for the API server, following what kubectl and client-go send
 * (shared/reference/kubectl-wire.md §1.2): Table, PartialObjectMetadata, aggregated discovery,
 * JSON, YAML. Protobuf responses are not produced: every protobuf Accept seen also lists JSON.
 */
import { notAcceptable } from '../../apimachinery/errors.js';

export type ResponseFormat =
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'partial'; list: boolean; version: 'v1' | 'v1beta1' }
  | { kind: 'aggregated'; version: 'v2' | 'v2beta1' };

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

interface MediaRange { type: string; params: Record<string, string> }

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: type.toLowerCase(), params };
  }).filter((m) => m.type);
}

/**
 * Picks the response format. `allow` says which special formats the endpoint can produce
 * (tables and partial metadata for resources, aggregated lists for /api and /apis).
 */
export function negotiate(accept: string | undefined, allow: { table?: boolean; partial?: boolean; aggregated?: boolean }): ResponseFormat {
  for (const m of parseAccept(accept)) {
    const { type, params } = m;
    if (type === 'application/json' && params.as) {
      if (params.as === 'Table' && params.g === 'meta.k8s.io' && allow.table && (params.v === 'v1' || params.v === 'v1beta1')) return { kind: 'table', version: params.v };
      if ((params.as === 'PartialObjectMetadata' || params.as === 'PartialObjectMetadataList') && params.g === 'meta.k8s.io' && allow.partial && (params.v === 'v1' || params.v === 'v1beta1')) {
        return { kind: 'partial', list: params.as.endsWith('List'), version: params.v };
      }
      if (params.as === 'APIGroupDiscoveryList' && params.g === 'apidiscovery.k8s.io' && allow.aggregated && (params.v === 'v2' || params.v === 'v2beta1')) return { kind: 'aggregated', version: params.v };
      continue;
    }
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return { kind: 'json' };
    if (type === 'application/yaml') return { kind: 'yaml' };
  }
  throw notAcceptable('only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
}
