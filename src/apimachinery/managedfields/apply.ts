/**
 * Server-side apply and managed-fields tracking (`metadata.managedFields`), with the behaviour of
 * the Kubernetes API server's field manager:
 *
 *   - `applyConfiguration`: a PATCH with `application/apply-patch+yaml`. Merges the configuration
 *     into the live object, takes ownership of the configuration's fields for the manager (an
 *     `Apply` entry), removes the fields the manager applied last time but not this time unless
 *     another manager owns them, and refuses (409) to change a field another manager owns unless
 *     `force`, which moves the ownership.
 *   - `recordUpdate`: any other write (POST, PUT, non-apply PATCH). The fields the request changed
 *     become owned by the manager's `Update` entry and are taken from every other manager.
 *
 * Also as upstream: managers are identified by name + operation (+ apiVersion for Update) +
 * subresource; `metadata.name/namespace/uid/...` and `apiVersion`/`kind` are never tracked; an
 * apply to an object without managed fields first gives its existing fields to a
 * "before-first-apply" Update manager; an update of an existing object without managed fields is
 * not tracked; managedFields sent in an update replace the live ones (`[]` or `[{}]` clears them);
 * at most 10 Update entries are kept, the oldest merged into "ancient-changes"; for the "kubectl"
 * manager, conflicts with fields the client-side-apply annotation
 * (`kubectl.kubernetes.io/last-applied-configuration`) still matches are allowed, and that
 * annotation is rewritten on apply when present.
 */
import type { SchemaMap } from '../../api/schema-types.js';
import type { FieldError, StatusCause } from '../errors.js';
import { StatusError, badRequest, fieldError } from '../errors.js';
import type { Path } from './fieldset.js';
import { FieldSet, goJSON, goQuote, isPrintable, pathOf, pathToString } from './fieldset.js';
import type { TypeContext, TypeRef } from './typed.js';
import {
  cloneJSON, compareTyped, createdFieldsV1, ensureNamedFieldsAreMembers, excludeFromComparison, isBuiltinSchema, jsonEqual, mergeTyped, removeItems,
  rootType, toFieldSet, toPathSet,
} from './typed.js';
import type { Comparison } from './typed.js';

export type ManagedFieldsOperation = 'Apply' | 'Update';

/** One `metadata.managedFields[]` entry (meta/v1 ManagedFieldsEntry), fields in upstream's order. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  /** RFC 3339, seconds. Absent only where upstream leaves it absent (an entry created by a no-op apply). */
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';
export const DEFAULT_MAX_UPDATE_MANAGERS = 10;
export const FIELD_MANAGER_MAX_LENGTH = 128;
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const SERVER_METADATA = ['creationTimestamp', 'uid', 'resourceVersion', 'generation', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/** Never tracked (upstream's stripMeta set). */
const STRIPPED = FieldSet.of(
  pathOf('apiVersion'), pathOf('kind'), pathOf('metadata'),
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => pathOf('metadata', f)),
);

// ---------------------------------------------------------------------------------------------
// Managers

export interface ManagerState {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  subresource?: string;
  set: FieldSet;
  time?: string;
}

type Managed = Map<string, ManagerState>;

/**
 * The identity of a manager, as upstream builds it: the JSON of the entry without fields and time,
 * and without apiVersion for appliers (so an applier keeps one entry across versions).
 */
export function managerIdentifier(e: { manager: string; operation: ManagedFieldsOperation; apiVersion?: string; subresource?: string }): string {
  const parts: string[] = [];
  if (e.manager) parts.push(`"manager":${goJSON(e.manager)}`);
  if (e.operation) parts.push(`"operation":${goJSON(e.operation)}`);
  if (e.operation !== 'Apply' && e.apiVersion) parts.push(`"apiVersion":${goJSON(e.apiVersion)}`);
  if (e.subresource) parts.push(`"subresource":${goJSON(e.subresource)}`);
  return `{${parts.join(',')}}`;
}

const idOf = (s: ManagerState) => managerIdentifier(s);

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes `metadata.managedFields`; throws an Error like upstream's on a malformed entry. */
export function decodeManagedFields(entries: unknown): Map<string, ManagerState> {
  const managed: Managed = new Map();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((e, i) => {
    if (!isObj(e)) throw new Error(`managed fields entry ${i} must be an object`);
    if (!e.fieldsType) throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${goQuote(String(e.fieldsType))} in managed fields entry ${i}`);
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(e.fieldsV1 ?? {});
    } catch (err) {
      throw new Error(`error decoding versioned set from entry ${i}: error decoding set: ${(err as Error).message}`);
    }
    const st: ManagerState = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      set,
    };
    if (typeof e.subresource === 'string' && e.subresource) st.subresource = e.subresource;
    if (typeof e.time === 'string' && e.time) st.time = e.time;
    managed.set(idOf(st), st);
  });
  return managed;
}

const seconds = (t?: string) => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
};
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Entries in upstream's order: Apply before Update, then by time (seconds), manager, apiVersion, subresource. */
export function sortManagedFields(entries: ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  return entries.sort((p, q) =>
    cmp(p.operation, q.operation) || seconds(p.time) - seconds(q.time) || cmp(p.manager, q.manager) ||
    cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? ''));
}

function encodeEntry(st: Omit<ManagerState, 'set'>, fieldsV1: Record<string, unknown>): ManagedFieldsEntry {
  const e: ManagedFieldsEntry = { manager: st.manager, operation: st.operation, apiVersion: st.apiVersion } as ManagedFieldsEntry;
  if (st.time) e.time = st.time;
  e.fieldsType = 'FieldsV1';
  e.fieldsV1 = fieldsV1;
  if (st.subresource) e.subresource = st.subresource;
  return e;
}

function encodeManaged(managed: Managed): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const st of managed.values()) out.push(encodeEntry(st, st.set.toFieldsV1()));
  return sortManagedFields(out);
}

/** Sets (or, for none, removes) `metadata.managedFields` of an object in place; returns it. */
export function setManagedFields<T>(obj: T, entries: ManagedFieldsEntry[]): T {
  const o: unknown = obj;
  if (!isObj(o)) return obj;
  if (entries.length) {
    if (!isObj(o.metadata)) o.metadata = {};
    o.metadata.managedFields = entries;
  } else if (isObj(o.metadata)) delete o.metadata.managedFields;
  return obj;
}

/**
 * An object without `metadata.managedFields` ({} for none): a shallow copy (with a copy of its
 * metadata) that shares everything else with `obj`, so it must only be read.
 */
function withoutManagedFields(obj: unknown): Record<string, any> {
  if (!isObj(obj)) return {};
  const md = obj.metadata;
  if (!isObj(md) || !Object.hasOwn(md, 'managedFields')) return obj;
  const c: Record<string, any> = { ...obj };
  const m: Record<string, any> = { ...md };
  delete m.managedFields;
  c.metadata = m;
  return c;
}

/** Merges the oldest Update entries into "ancient-changes" until at most `max` remain (upstream capManagers). */
function capManagers(managed: Managed, max: number): void {
  const updaters = [...managed.entries()].filter(([, st]) => st.operation === 'Update');
  if (updaters.length <= max) return;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmp(ia, ib));
  const versionsSeen = new Set<string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const [id, st] = updaters[i];
    const bucket: ManagerState = { manager: ANCIENT_CHANGES_MANAGER, operation: 'Update', apiVersion: st.apiVersion, set: st.set };
    const bucketId = idOf(bucket);
    if (id !== bucketId) {
      const prev = managed.get(bucketId);
      managed.set(bucketId, { ...bucket, set: prev ? st.set.union(prev.set) : st.set, time: st.time });
      managed.delete(id);
      length--;
    }
    if (!versionsSeen.has(st.apiVersion)) {
      versionsSeen.add(st.apiVersion);
      if (id !== bucketId) length++;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Conflicts

export interface ApplyConflict {
  /** The manager identifier (see managerIdentifier). */
  manager: string;
  path: Path;
}

class ConflictsError extends Error {
  constructor(readonly conflicts: ApplyConflict[]) {
    super('conflicts');
  }
}

/** A manager as conflict messages name it: `"kubectl"`, `"x" using apps/v1`, `"x" with subresource "status" using v1`. */
export function printManager(id: string): string {
  let e: any;
  try {
    e = JSON.parse(id);
  } catch {
    return goQuote(id);
  }
  if (!isObj(e)) return goQuote(id);
  let s = goQuote(typeof e.manager === 'string' ? e.manager : '');
  if (e.subresource) s = `${s} with subresource ${goQuote(String(e.subresource))}`;
  if (e.operation === 'Update') {
    if (!e.time) return `${s} using ${e.apiVersion ?? ''}`;
    return `${s} using ${e.apiVersion ?? ''} at ${new Date(e.time).toISOString().replace(/\.\d+Z$/, 'Z')}`;
  }
  return s;
}

/**
 * The 409 for apply conflicts, as upstream's NewConflictError:
 *   one:  `Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas`
 *   many: `Apply failed with 2 conflicts: conflicts with "m" using apps/v1:\n- .a\n- .b`
 *         (managers sorted by identifier, each followed by its paths)
 * with one cause per conflict: `{reason: "FieldManagerConflict", message: 'conflict with "m" using apps/v1', field: ".spec.replicas"}`.
 */
export function applyConflictError(conflicts: ApplyConflict[]): StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathToString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${pathToString(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, Path[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort(cmp)) {
      lines.push(`conflicts with ${printManager(m)}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${pathToString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

// ---------------------------------------------------------------------------------------------
// The update / apply core (upstream's merge.Updater and the managers wrapped around it)

interface Core {
  ctx: TypeContext;
  root: TypeRef;
  ignored?: FieldSet;
}

/**
 * Compares old and new; takes the changed fields from every manager but `workflow` (a conflict
 * unless `force`) and the removed fields from all of them; drops managers left with nothing.
 */
function updateManagers(core: Core, old: unknown, next: unknown, managed: Managed, workflow: string, force: boolean): Comparison {
  const raw = compareTyped(core.ctx, old, next, core.root);
  const c = excludeFromComparison(raw, core.ignored);
  const changed = c.modified.union(c.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, st] of managed) {
    if (id === workflow) continue;
    const i = st.set.intersection(changed);
    if (!i.isEmpty()) conflicts.set(id, i);
  }
  if (!force && conflicts.size) {
    const list: ApplyConflict[] = [];
    for (const id of [...conflicts.keys()].sort(cmp)) for (const p of conflicts.get(id)!.paths()) list.push({ manager: id, path: p });
    throw new ConflictsError(list);
  }
  for (const [id, i] of conflicts) {
    const st = managed.get(id)!;
    managed.set(id, { ...st, set: st.set.difference(i) });
  }
  if (!c.removed.isEmpty()) {
    for (const [id, st] of managed) if (id !== workflow) managed.set(id, { ...st, set: st.set.difference(c.removed) });
  }
  for (const [id, st] of managed) if (st.set.isEmpty()) managed.delete(id);
  return raw;
}

const CURRENT_OPERATION = 'current-operation';

/** The sets of ignored paths by their JSON (they repeat for every write); only ever read. */
const ignoredSets = new Map<string, FieldSet | undefined>();

function ignoredSet(paths: ReadonlyArray<ReadonlyArray<string>> | undefined): FieldSet | undefined {
  if (!paths) return undefined;
  const key = JSON.stringify(paths);
  let s = ignoredSets.get(key);
  if (s === undefined && !ignoredSets.has(key)) {
    s = toPathSet(paths);
    if (ignoredSets.size >= 256) ignoredSets.clear();
    ignoredSets.set(key, s);
  }
  return s;
}

/** An Update by `who`: the fields it changed become its own (merged into its entry), time set if any. */
function trackUpdate(core: Core, old: unknown, next: unknown, managed: Managed, who: Omit<ManagerState, 'set'>, time: string): void {
  const c = updateManagers(core, old, next, managed, CURRENT_OPERATION, true);
  let set = c.modified.union(c.added).difference(c.removed);
  if (core.ignored) set = set.recursiveDifference(core.ignored);
  set = set.difference(STRIPPED);
  if (set.isEmpty()) return;
  const id = managerIdentifier(who);
  const prev = managed.get(id);
  managed.set(id, { ...who, set: prev ? set.union(prev.set) : set, time });
}

/** Removes what the applier owned last time and nobody (the applier included) owns now. */
function prune(core: Core, merged: unknown, last: FieldSet | undefined, managed: Managed): unknown {
  if (!last || last.isEmpty()) return merged;
  let all = new FieldSet();
  for (const st of managed.values()) all = all.union(st.set);
  const toRemove = ensureNamedFieldsAreMembers(core.ctx, last, core.root).difference(ensureNamedFieldsAreMembers(core.ctx, all, core.root));
  return removeItems(core.ctx, merged, toRemove, core.root);
}

function stripManager(managed: Managed, id: string): void {
  const st = managed.get(id);
  if (!st) return;
  const set = st.set.difference(STRIPPED);
  if (set.isEmpty()) managed.delete(id);
  else managed.set(id, { ...st, set });
}

// ---------------------------------------------------------------------------------------------
// Apply

export interface ApplyOptions {
  /** The fieldManager (required for apply; see validateFieldManager). */
  manager: string;
  /** The group/version of the endpoint, e.g. `apps/v1` or `v1`. */
  apiVersion: string;
  force: boolean;
  /** The schema of the kind, e.g. `io.k8s.api.apps.v1.Deployment` (unknown names: schemaless). */
  schemaName: string;
  schemas: SchemaMap;
  /** The kind; when given, the configuration's apiVersion and kind must match it and apiVersion. */
  kind?: string;
  /** RFC 3339 timestamp to record; defaults to now (seconds). */
  now?: string;
  subresource?: string;
  /**
   * Paths never tracked for this endpoint, as field names (upstream's reset fields), e.g.
   * `[['status']]` for the main resource of a kind with a status subresource, `[['spec']]` for
   * its status subresource.
   */
  ignoredPaths?: ReadonlyArray<ReadonlyArray<string>>;
  /** At most this many Update entries are kept (default 10). */
  maxUpdateManagers?: number;
}

export interface ApplyResult {
  /** The new object with `metadata.managedFields` set (the live object, unchanged, when the apply changed nothing). */
  obj: any;
  managedFields: ManagedFieldsEntry[];
  /** Whether the object (apart from managedFields) changed. */
  changed: boolean;
}

function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const i = av.indexOf('/');
  const gv = i < 0 ? `/${av}` : av;
  return `${gv}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

let lastTimeIn: string | undefined;
let lastTimeOut = '';

/** RFC 3339 in seconds, UTC. */
export function rfc3339(t: Date | string = new Date()): string {
  if (typeof t === 'string' && t === lastTimeIn) return lastTimeOut;
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return String(t);
  const iso = d.toISOString(); // always ends with ".sssZ"
  const out = `${iso.slice(0, iso.length - 5)}Z`;
  if (typeof t === 'string') {
    lastTimeIn = t;
    lastTimeOut = out;
  }
  return out;
}

/**
 * Server-side apply of `config` to `live` (undefined: the object does not exist yet). Throws a 409
 * StatusError on conflicts (unless force), 400 for a configuration with managedFields or of the
 * wrong version/kind, 500 for a configuration whose lists cannot be keyed (as upstream).
 */
export function applyConfiguration(live: any | undefined, config: any, opts: ApplyOptions): ApplyResult {
  if (!isObj(config)) throw badRequest('the apply configuration must be an object');
  if (isObj(config.metadata) && config.metadata.managedFields !== undefined && config.metadata.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
  if (opts.kind !== undefined) {
    if (config.apiVersion !== opts.apiVersion || config.kind !== opts.kind) throw badRequest(`invalid object type: ${gvkString(config.apiVersion, config.kind)}`);
  } else if (config.apiVersion !== opts.apiVersion) {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${typeof config.apiVersion === 'string' ? config.apiVersion : ''}, expected: ${opts.apiVersion}`);
  }
  const applied = config;
  // A null for a field the server owns (`creationTimestamp: null` as kubectl sends) does not unset it.
  if (isObj(config.metadata) && SERVER_METADATA.some((k) => config.metadata[k] === null)) {
    config = { ...config, metadata: { ...config.metadata } };
    for (const k of SERVER_METADATA) if (config.metadata[k] === null) delete config.metadata[k];
  }
  const time = rfc3339(opts.now ?? new Date());
  const core: Core = {
    ctx: { schemas: opts.schemas, goStructs: isBuiltinSchema(opts.schemaName) },
    root: rootType(opts.schemas, opts.schemaName),
    ignored: ignoredSet(opts.ignoredPaths),
  };

  // The configuration's own fields; its lists must be keyable (upstream validates the typed patch).
  const errors: string[] = [];
  let configSet = toFieldSet({ ...core.ctx, errors }, config, core.root);
  if (errors.length) {
    const md = isObj(config.metadata) ? config.metadata : {};
    const what = `${typeof md.namespace === 'string' ? md.namespace : ''}/${typeof md.name === 'string' ? md.name : ''}; ${gvkString(config.apiVersion, config.kind)}`;
    const msg = errors.length === 1 ? errors[0] : ['errors:', ...errors.map((e) => `  ${e}`)].join('\n');
    throw new StatusError(500, '', `failed to create typed patch object (${what}): ${msg}`);
  }
  if (core.ignored) configSet = configSet.recursiveDifference(core.ignored);

  let liveManaged: Managed;
  try {
    liveManaged = decodeManagedFields(isObj(live?.metadata) ? live.metadata.managedFields : undefined);
  } catch (err) {
    throw new StatusError(500, 'InternalError', `failed to decode managed fields: ${(err as Error).message}`);
  }
  const liveClean = withoutManagedFields(live);
  const applier: Omit<ManagerState, 'set'> = { manager: opts.manager, operation: 'Apply', apiVersion: opts.apiVersion };
  if (opts.subresource) applier.subresource = opts.subresource;
  const applierId = managerIdentifier(applier);

  const run = (force: boolean): { obj: Record<string, any>; managed: Managed; changed: boolean } => {
    const managed: Managed = new Map(liveManaged);
    if (managed.size === 0 && live !== undefined) {
      // Fields that existed before the first apply belong to "before-first-apply".
      trackUpdate(core, {}, liveClean, managed, { manager: BEFORE_FIRST_APPLY_MANAGER, operation: 'Update', apiVersion: opts.apiVersion }, time);
    }
    let merged = mergeTyped(core.ctx, liveClean, config, core.root) as Record<string, any>;
    const previous = managed.get(applierId);
    managed.set(applierId, { ...applier, set: configSet, time: previous?.time });
    merged = prune(core, merged, previous?.set, managed) as Record<string, any>;
    updateManagers(core, liveClean, merged, managed, applierId, force);
    stripManager(managed, applierId);
    const changed = !jsonEqual(liveClean, merged);
    if (changed) {
      const st = managed.get(applierId);
      if (st) managed.set(applierId, { ...st, time });
    }
    capManagers(managed, opts.maxUpdateManagers ?? DEFAULT_MAX_UPDATE_MANAGERS);
    return { obj: changed ? merged : cloneJSON(liveClean), managed, changed };
  };

  let result: ReturnType<typeof run>;
  try {
    result = run(opts.force);
  } catch (err) {
    if (!(err instanceof ConflictsError)) throw err;
    let conflicts = err.conflicts;
    // kubectl upgrading from client-side apply: conflicts on fields the last-applied annotation
    // still matches are allowed (upstream lastAppliedManager).
    const allowed = opts.manager === 'kubectl' ? allowedFromLastApplied(core, liveClean, opts.apiVersion) : undefined;
    if (!allowed) throw applyConflictError(conflicts);
    conflicts = conflicts.filter((c) => !allowed.has(c.path));
    if (conflicts.length) throw applyConflictError(conflicts);
    result = run(true);
  }

  const obj = result.obj;
  if (opts.manager === 'kubectl') syncLastApplied(obj, applied);
  const managedFields = encodeManaged(result.managed);
  setManagedFields(obj, managedFields);
  return { obj, managedFields, changed: result.changed };
}

/** The fields of the last-applied annotation that still have the live value (or undefined). */
function allowedFromLastApplied(core: Core, liveClean: Record<string, any>, apiVersion: string): FieldSet | undefined {
  const text = liveClean.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof text !== 'string' || !text) return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(last) || last.apiVersion !== apiVersion) return undefined;
  const set = toFieldSet(core.ctx, last, core.root);
  const c = compareTyped(core.ctx, last, liveClean, core.root);
  return set.difference(c.modified).difference(c.added).difference(c.removed);
}

/** kubectl's server-side apply keeps an existing client-side-apply annotation in step (upstream lastAppliedUpdater). */
function syncLastApplied(obj: Record<string, any>, config: Record<string, any>): void {
  const annotations = obj.metadata?.annotations;
  if (!isObj(annotations) || typeof annotations[LAST_APPLIED_ANNOTATION] !== 'string' || !annotations[LAST_APPLIED_ANNOTATION]) return;
  const c = cloneJSON(config);
  if (isObj(c.metadata) && isObj(c.metadata.annotations)) delete c.metadata.annotations[LAST_APPLIED_ANNOTATION];
  annotations[LAST_APPLIED_ANNOTATION] = `${goJSON(c)}\n`;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
}

// ---------------------------------------------------------------------------------------------
// Update

export interface UpdateOptions {
  manager: string;
  /** The group/version of the endpoint. */
  apiVersion: string;
  operation?: 'Update';
  subresource?: string;
  schemaName: string;
  schemas: SchemaMap;
  now?: string;
  /** As ApplyOptions.ignoredPaths. */
  ignoredPaths?: ReadonlyArray<ReadonlyArray<string>>;
  maxUpdateManagers?: number;
}

/** `managedFields: []` or `[{}]` in a request: clear them (upstream isResetManagedFields). */
function isReset(mf: unknown): boolean {
  if (!Array.isArray(mf)) return false;
  if (mf.length === 0) return true;
  return mf.length === 1 && isObj(mf[0]) && Object.values(mf[0]).every((v) => v === undefined || v === null || v === '');
}

/**
 * The managedFields of an object written by a create/update/non-apply patch (`old` undefined for a
 * create). Set them on the object with `setManagedFields(next, entries)`; an empty result means
 * the object carries none. The managedFields in `next` (if any, and not for a subresource) are
 * taken as the current ones, as upstream lets clients edit them.
 */
export function recordUpdate(old: any | undefined, next: any, opts: UpdateOptions): ManagedFieldsEntry[] {
  let managed: Managed;
  const fromNext = isObj(next?.metadata) ? next.metadata.managedFields : undefined;
  const liveManaged = (): Managed => {
    try {
      return decodeManagedFields(isObj(old?.metadata) ? old.metadata.managedFields : undefined);
    } catch {
      return new Map();
    }
  };
  if (opts.subresource) managed = liveManaged();
  else if (isReset(fromNext)) managed = new Map();
  else {
    try {
      managed = decodeManagedFields(fromNext);
    } catch {
      managed = new Map();
    }
    if (managed.size === 0) managed = liveManaged();
  }
  // An existing object that has no managed fields is not tracked (until an apply).
  const creating = old === undefined || !(isObj(old.metadata) && old.metadata.uid);
  if (managed.size === 0 && !creating) return [];

  const core: Core = {
    ctx: { schemas: opts.schemas, goStructs: isBuiltinSchema(opts.schemaName) },
    root: rootType(opts.schemas, opts.schemaName),
    ignored: ignoredSet(opts.ignoredPaths),
  };
  const who: Omit<ManagerState, 'set'> = { manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion };
  if (opts.subresource) who.subresource = opts.subresource;
  const time = rfc3339(opts.now ?? new Date());
  const max = opts.maxUpdateManagers ?? DEFAULT_MAX_UPDATE_MANAGERS;
  if (old === undefined && managed.size === 0 && 1 <= max) {
    // A create that nobody manages yet: the one entry holds what the object sets, as trackUpdate
    // would find it (everything added), built directly.
    const fieldsV1 = createdFieldsV1(core.ctx, withoutManagedFields(next), core.root, core.ignored, STRIPPED);
    if (fieldsV1 === undefined) return [];
    if (fieldsV1 !== null) return [encodeEntry({ ...who, time }, fieldsV1)];
  }
  trackUpdate(core, withoutManagedFields(old), withoutManagedFields(next), managed, who, time);
  capManagers(managed, max);
  return encodeManaged(managed);
}

// ---------------------------------------------------------------------------------------------
// Manager names

/**
 * The manager name for a request without `fieldManager`: the User-Agent up to its first "/",
 * without unprintable characters, at most 128 bytes (`kubectl/v1.31.0 (linux/amd64) ...` → `kubectl`).
 */
export function defaultManagerName(userAgent?: string): string {
  const head = (userAgent ?? '').split('/')[0];
  let out = '';
  let bytes = 0;
  for (const ch of head) {
    if (!isPrintable(ch)) continue;
    const n = Buffer.byteLength(ch);
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Upstream's checks of the fieldManager query parameter (`isApply`: required for apply patches). */
export function validateFieldManager(fieldManager: string | undefined, isApply: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = fieldManager ?? '';
  if (isApply && !name) errs.push(fieldError.required('fieldManager', 'is required for apply patch'));
  if (Buffer.byteLength(name) > FIELD_MANAGER_MAX_LENGTH) errs.push(fieldError.tooLong('fieldManager', name, FIELD_MANAGER_MAX_LENGTH));
  let pos = 0;
  for (const ch of name) {
    if (!isPrintable(ch)) {
      const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      errs.push(fieldError.invalid('fieldManager', name, `invalid character U+${cp} (at position ${pos})`));
    }
    pos += Buffer.byteLength(ch);
  }
  return errs;
}
