/**
 * The OpenAPI v3 schemas of the built-in kinds, generated from `kubernetes-types` plus keelson's
 * patch-metadata tables by `node scripts/gen-schemas.mjs` into src/api/generated/schemas.json.
 *
 * The JSON is read once, on first use. It lives in the source tree only (tsc does not copy it), so
 * the loader looks for it relative to this module: next to it (running from src/) and in
 * `src/api/generated/` of every ancestor directory (running from dist/ or another outDir).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiregistrationSchemas } from './apiregistration-schemas.js';
import { dataFileCandidates } from '../util/data-file.js';
import type { ResourceInfo } from './resources.js';
import { schemaPackage } from './resources.js';
import type { OpenAPISchema, SchemaMap } from './schema-types.js';

const FILE = 'schemas.json';

let cache: SchemaMap | undefined;

/** Candidate locations of the generated JSON, nearest first. */
export function schemaFileCandidates(from: string = fileURLToPath(import.meta.url)): string[] {
  return dataFileCandidates(from, join('generated', FILE), join('src', 'api', 'generated', FILE));
}

function load(): SchemaMap {
  const tried: string[] = [];
  for (const file of schemaFileCandidates()) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      tried.push(file);
      continue;
    }
    // The aggregator's kinds are not in kubernetes-types: keelson's own schemas join the map.
    return deepFreeze({ ...(JSON.parse(text) as SchemaMap), ...apiregistrationSchemas() });
  }
  throw new Error(`keelson: generated schemas not found (run node scripts/gen-schemas.mjs); looked in ${tried.join(', ')}`);
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}

/** All built-in schemas keyed by Kubernetes schema name. Shared and frozen: copy before changing. */
export function builtinSchemas(): SchemaMap {
  cache ??= load();
  return cache;
}

/** The schema of a resource's kind (e.g. io.k8s.api.apps.v1.Deployment), if kubernetes-types has it. */
export function schemaFor(info: ResourceInfo): OpenAPISchema | undefined {
  return builtinSchemas()[info.schemaName];
}

/** Schema name of a group/version/kind as Kubernetes names it (the kind need not exist). */
export function schemaNameFor(group: string, version: string, kind: string): string {
  return `${schemaPackage(group, version)}.${kind}`;
}

/** The schema of any built-in kind by GVK (e.g. autoscaling/v1 Scale, policy/v1 Eviction). */
export function schemaForGVK(group: string, version: string, kind: string): OpenAPISchema | undefined {
  return builtinSchemas()[schemaNameFor(group, version, kind)];
}
