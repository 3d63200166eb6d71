/**
 * The generic registry store (Kubernetes' registry/generic/registry/store.go): one instance per
 * resource, applying its Strategy in a fixed order, reading from the watch cache and writing to
 * storage with compare-and-swap. It owns the retry-on-conflict loop (guaranteedUpdate).
 *
 * Objects are stored without metadata.resourceVersion; the revision of the row is the version.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceInfo } from '../api/resources.js';
import type { Storage, KeyValue } from '../storage/interface.js';
import { CompactedError, ConflictError, KeyExistsError, NotFoundError } from '../storage/interface.js';
import {
  StatusError, alreadyExists, badRequest, conflict, expired, fieldError, forbidden, internalError, invalid, notFound,
  type FieldError,
} from '../apimachinery/errors.js';
import type { Strategy } from './strategy.js';
import { isAllocating } from './strategy.js';
import { WatchCache, withResourceVersion, type CacheEntry } from '../apiserver/watch-cache.js';
import type { LabelSelector } from '../apimachinery/labels.js';
import type { FieldSelector } from '../apimachinery/fields.js';
import { deepEqual, nowRFC3339 } from '../util/objects.js';
import type { Admission, UserInfo } from '../apiserver/admission/admission.js';
import type { PrinterColumn } from '../apiserver/tables/table.js';
import type { ScaleReplicasPaths } from '../apiextensions/crd-resource.js';

export interface WriteContext {
  user: UserInfo;
  dryRun: boolean;
  fieldManager?: string;
  /** The request's User-Agent (default field manager name). */
  userAgent?: string;
  /** Set when server-side apply already computed metadata.managedFields for this write. */
  managedFieldsDone?: boolean;
  /** Warnings to return in `Warning` headers. */
  warnings: string[];
}

export interface ListOptions {
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListOutcome {
  /** Items as stored JSON with resourceVersion (cheap to concatenate) or objects (converted). */
  items: { json: string; rev: number }[];
  resourceVersion: number;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/** Converts between the stored form and a served version (events.k8s.io/v1 over core events). */
export interface Conversion {
  toServed(obj: any): any;
  toStored(obj: any): any;
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
export function generateNameSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_CHARS[Math.floor(Math.random() * GENERATE_CHARS.length)];
  return s;
}

/** Continue tokens as the real API server shapes them: base64 JSON with the list revision and start key. */
export function encodeContinue(rv: number, startAfterKey: string, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: startAfterKey.slice(prefix.length) })).toString('base64url');
}
export function decodeContinue(token: string, prefix: string): { rv: number; startAfter: string } {
  try {
    const d = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (d.v !== 'meta.k8s.io/v1' || typeof d.rv !== 'number' || typeof d.start !== 'string') throw new Error('bad');
    return { rv: d.rv, startAfter: prefix + d.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

export function parseRV(s: string | undefined, what = 'resourceVersion'): number | undefined {
  if (s === undefined || s === '') return undefined;
  if (!/^\d+$/.test(s)) throw badRequest(`invalid ${what}: ${JSON.stringify(s)}`);
  return Number(s);
}

/** Stored JSON: apiVersion, kind, metadata (without resourceVersion) first, so the RV can be spliced in. */
export function encodeForStorage(obj: any): string {
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = metadata ?? {};
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

export class ResourceStore {
  readonly prefix: string;
  readonly gr: { group: string; resource: string };
  /** Custom resources: no Go decoder (type errors are schema errors, 422), printer columns, scale paths. */
  custom = false;
  printerColumns?: PrinterColumn[];
  scalePaths?: ScaleReplicasPaths;

  constructor(
    readonly info: ResourceInfo,
    readonly strategy: Strategy,
    private storage: Storage,
    private cache: WatchCache,
    private admission: Admission,
    readonly conversion?: Conversion,
  ) {
    this.prefix = `/registry/${info.storageGroup || 'core'}/${info.storageResource}/`;
    this.gr = { group: info.group, resource: info.plural };
  }

  key(namespace: string | undefined, name: string): string {
    return this.info.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  /** Decodes a stored value into a served object with its resourceVersion. */
  decode(json: string, rev: number): any {
    const obj = JSON.parse(withResourceVersion(json, rev));
    return this.conversion ? this.conversion.toServed(obj) : obj;
  }

  /** Serialized served object (fast path without conversion). */
  encodeServed(entry: { json: string; rev: number }): string {
    if (!this.conversion) return withResourceVersion(entry.json, entry.rev);
    return JSON.stringify(this.decode(entry.json, entry.rev));
  }

  private notFound(name: string): StatusError {
    return notFound(this.gr, name);
  }

  // ---- reads -------------------------------------------------------------------------------

  async get(namespace: string | undefined, name: string, resourceVersion?: string): Promise<any> {
    const entry = await this.getEntry(namespace, name, resourceVersion);
    return this.decode(entry.json, entry.rev);
  }

  async getEntry(namespace: string | undefined, name: string, resourceVersion?: string): Promise<{ json: string; rev: number }> {
    const key = this.key(namespace, name);
    const rv = parseRV(resourceVersion);
    if (rv === undefined) {
      // Consistent read: the cache must have caught up with storage first.
      await this.cache.sync();
    } else if (rv > this.cache.revision) {
      await this.waitForRV(rv);
    }
    const e = this.cache.get(key);
    if (!e) throw this.notFound(name);
    return e;
  }

  private async waitForRV(rv: number): Promise<void> {
    try {
      await this.cache.waitForRevision(rv, 3000);
    } catch {
      throw new StatusError(504, 'Timeout', `Too large resource version: ${rv}, current: ${this.cache.revision}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1,
      });
    }
  }

  async list(namespace: string | undefined, opts: ListOptions): Promise<ListOutcome> {
    const match = (e: { labels?: Record<string, string>; fields: Record<string, string> }) =>
      (!opts.labelSelector || opts.labelSelector.matches(e.labels ?? {})) && (!opts.fieldSelector || opts.fieldSelector.matches(e.fields));
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;

    if (opts.continueToken) {
      // Later pages come from storage at the first page's revision: a consistent snapshot.
      const { rv, startAfter } = decodeContinue(opts.continueToken, this.prefix);
      return this.listFromStorage(namespace, rv, startAfter, limit, match, opts);
    }

    const rv = parseRV(opts.resourceVersion);
    if (opts.resourceVersionMatch === 'Exact') {
      if (rv === undefined) throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
      return this.listFromStorage(namespace, rv, undefined, limit, match, opts);
    }
    if (opts.resourceVersionMatch && opts.resourceVersionMatch !== 'NotOlderThan') {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${opts.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"`);
    }
    if (rv === undefined) await this.cache.sync();
    else if (rv > 0) await this.waitForRV(rv);

    const pinned = opts.fieldSelector?.exactName?.();
    let entries: CacheEntry[];
    if (pinned !== undefined && (namespace !== undefined || !this.info.namespaced)) {
      const e = this.cache.get(this.key(namespace, pinned));
      entries = e ? [e] : [];
    } else {
      entries = this.cache.list(this.prefix, this.info.namespaced ? namespace : undefined);
    }
    const revision = this.cache.revision;
    // resourceVersion=0 is served from the cache whole (the real server ignores limit there too).
    const pageLimit = rv === 0 ? 0 : limit;
    const items: { json: string; rev: number }[] = [];
    let i = 0;
    for (; i < entries.length; i++) {
      const e = entries[i];
      if (!match(e)) continue;
      if (pageLimit && items.length === pageLimit) break;
      items.push(e);
    }
    const out: ListOutcome = { items, resourceVersion: revision };
    if (pageLimit && i < entries.length) {
      // More entries remain (some may not match; the client just asks again).
      out.continueToken = encodeContinue(revision, entries[i - 1].key, this.prefix);
      if (!opts.labelSelector && !opts.fieldSelector) out.remainingItemCount = entries.length - i;
    }
    return out;
  }

  private async listFromStorage(namespace: string | undefined, rv: number, startAfter: string | undefined, limit: number,
    match: (e: { labels?: Record<string, string>; fields: Record<string, string> }) => boolean, opts: ListOptions): Promise<ListOutcome> {
    const prefix = this.info.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
    const items: { json: string; rev: number }[] = [];
    let cursor = startAfter;
    let more = false;
    let lastKey = '';
    try {
      for (;;) {
        const page = await this.storage.list(prefix, { revision: rv, startAfter: cursor, limit: limit ? Math.max(limit, 100) : 0 });
        let stopped = false;
        for (const kv of page.items) {
          if (limit && items.length === limit) { more = true; stopped = true; break; }
          lastKey = kv.key;
          const e = this.indexer(kv);
          if (match(e)) items.push({ json: kv.value, rev: kv.modRevision });
        }
        if (stopped || !page.more || !page.items.length) break;
        cursor = page.items[page.items.length - 1].key;
      }
    } catch (err) {
      if (err instanceof CompactedError) {
        throw expired(opts.continueToken
          ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
          : `The resourceVersion for the provided list is too old.`);
      }
      throw err;
    }
    const out: ListOutcome = { items, resourceVersion: rv };
    if (more) out.continueToken = encodeContinue(rv, lastKey, this.prefix);
    return out;
  }

  /**
   * Set by the API server: records the request's field manager in metadata.managedFields
   * (an Update entry) for a create (old undefined) or an update.
   */
  fieldManager?: (old: any | undefined, obj: any, ctx: WriteContext, subresource?: string) => void;

  private trackManagedFields(old: any | undefined, obj: any, ctx: WriteContext, subresource?: string): void {
    if (ctx.managedFieldsDone || !this.fieldManager || subresource?.startsWith('__')) return;
    this.fieldManager(old, obj, ctx, subresource);
  }

  /** Set by the API server: labels/fields of a stored object (same as the cache's indexer). */
  indexer: (kv: KeyValue) => { labels?: Record<string, string>; fields: Record<string, string> } = () => ({ fields: {} });

  // ---- writes ------------------------------------------------------------------------------

  /** Common checks on the incoming object's type and identity. */
  private checkIncoming(obj: any, namespace: string | undefined, name?: string): void {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw badRequest('the body of the request was not a JSON object');
    const wantApi = this.info.group ? `${this.info.group}/${this.info.version}` : this.info.version;
    if (obj.kind !== undefined && obj.kind !== this.info.kind) {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${this.info.kind})`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== wantApi) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${wantApi})`);
    }
    obj.apiVersion = wantApi;
    obj.kind = this.info.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) throw badRequest('metadata must be an object');
    if (this.info.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace;
    } else {
      delete obj.metadata.namespace;
    }
    if (name !== undefined) {
      if (obj.metadata.name && obj.metadata.name !== name) {
        throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
      }
      obj.metadata.name = name;
    }
  }

  private toStored(obj: any): any {
    return this.conversion ? this.conversion.toStored(obj) : obj;
  }

  private throwInvalid(obj: any, errs: FieldError[]): void {
    if (errs.length) throw invalid(this.info.kind, this.info.group, obj.metadata?.name ?? '', errs);
  }

  async create(namespace: string | undefined, obj: any, ctx: WriteContext): Promise<any> {
    this.checkIncoming(obj, namespace);
    const meta = obj.metadata;
    const generated = !meta.name && !!meta.generateName;
    if (generated) meta.name = meta.generateName + generateNameSuffix();
    if (!meta.name) this.throwInvalid(obj, [fieldError.required('metadata.name', 'name or generateName is required')]);
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    for (const f of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'generation']) delete meta[f];
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRFC3339();
    this.strategy.defaults(obj);
    this.strategy.prepareForCreate(obj);
    await this.admission.admit({ operation: 'CREATE', info: this.info, namespace, name: meta.name, obj, user: ctx.user, dryRun: ctx.dryRun, phase: 'mutate' });
    this.throwInvalid(obj, this.strategy.validate(obj));
    await this.admission.admit({ operation: 'CREATE', info: this.info, namespace, name: meta.name, obj, user: ctx.user, dryRun: ctx.dryRun, phase: 'validate' });
    this.trackManagedFields(undefined, obj, ctx);

    let key = this.key(namespace, meta.name);
    if (ctx.dryRun) {
      if (this.cache.get(key)) throw alreadyExists(this.gr, meta.name);
      if (isAllocating(this.strategy)) await this.strategy.allocate(obj, undefined, true);
      return obj;
    }
    let undo: (() => Promise<void>) | undefined;
    if (isAllocating(this.strategy)) {
      if (this.cache.get(key)) throw alreadyExists(this.gr, meta.name);
      undo = await this.strategy.allocate(obj, undefined, false);
    }
    try {
      let kv: KeyValue | undefined;
      // A generated name that is taken is replaced and the write retried (upstream's
      // RetryGenerateName, GA in 1.32: up to 8 attempts in all).
      for (let attempt = 1; !kv; attempt++) {
        try {
          kv = await this.storage.create(key, this.encodeFor(key, obj));
        } catch (err) {
          if (!(err instanceof KeyExistsError) || !generated || attempt >= 8) throw err;
          meta.name = meta.generateName + generateNameSuffix();
          key = this.key(namespace, meta.name);
        }
      }
      if (this.conversion) return this.decode(kv.value, kv.modRevision);
      // The stored form is this object without its resourceVersion: no need to parse it back.
      obj.metadata.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (err) {
      await undo?.();
      if (err instanceof KeyExistsError) throw alreadyExists(this.gr, meta.name);
      throw err;
    }
  }

  /**
   * guaranteedUpdate: reads the current object, applies `mutate` (which returns the new object or
   * throws), and compare-and-swaps it in; retries on conflicts the caller did not pin.
   * `mutate` receives a decoded copy of the current object (or undefined if absent).
   */
  async guaranteedUpdate(namespace: string | undefined, name: string, ctx: WriteContext,
    mutate: (current: any | undefined) => Promise<{ obj: any; preconditionRV?: string; subresource?: string }>): Promise<{ obj: any; created: boolean }> {
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < 16; attempt++) {
      const kv = await this.storage.get(key);
      const current = kv ? this.decode(kv.value, kv.modRevision) : undefined;
      const { obj, preconditionRV, subresource } = await mutate(current === undefined ? undefined : structuredClone(current));
      if (!kv) {
        if (!this.strategy.allowCreateOnUpdate || subresource) throw this.notFound(name);
        return { obj: await this.create(namespace, obj, ctx), created: true };
      }
      if (preconditionRV && preconditionRV !== String(kv.modRevision)) {
        throw conflict(this.gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      try {
        const result = await this.writeUpdate(key, kv, current, obj, ctx, subresource);
        return { obj: result, created: false };
      } catch (err) {
        if (err instanceof ConflictError) {
          if (preconditionRV) throw conflict(this.gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
          continue;
        }
        throw err;
      }
    }
    throw conflict(this.gr, name, 'too many concurrent updates; please retry');
  }

  /** Applies the update rules to `obj` against `current` and writes it (CAS on kv.modRevision). */
  private async writeUpdate(key: string, kv: KeyValue, current: any, obj: any, ctx: WriteContext, subresource?: string): Promise<any> {
    const name = current.metadata.name;
    this.checkIncoming(obj, current.metadata.namespace, name);
    const meta = obj.metadata;
    // An unconditional update validates as if it named the current version (as the real store does).
    meta.resourceVersion = String(kv.modRevision);
    // Immutable, system-owned metadata.
    meta.uid = current.metadata.uid;
    meta.creationTimestamp = current.metadata.creationTimestamp;
    if (current.metadata.deletionTimestamp) meta.deletionTimestamp = current.metadata.deletionTimestamp; else delete meta.deletionTimestamp;
    if (current.metadata.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds; else delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (current.metadata.generateName !== undefined && meta.generateName === undefined) meta.generateName = current.metadata.generateName;
    if (current.metadata.deletionTimestamp && (meta.finalizers ?? []).some((f: string) => !(current.metadata.finalizers ?? []).includes(f))) {
      throw invalid(this.info.kind, this.info.group, name, [fieldError.forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted')]);
    }

    if (subresource?.startsWith('__')) {
      // Internal updates made by the API server itself (binding): no strategy rewrites.
    } else if (subresource === 'status') {
      this.strategy.prepareForStatusUpdate(obj, current);
    } else if (subresource === 'finalize' && 'prepareForFinalize' in this.strategy) {
      (this.strategy as any).prepareForFinalize(obj, current);
    } else {
      this.strategy.defaults(obj);
      this.strategy.prepareForUpdate(obj, current);
    }
    await this.admission.admit({ operation: 'UPDATE', info: this.info, namespace: current.metadata.namespace, name, obj, old: current, subresource, user: ctx.user, dryRun: ctx.dryRun, phase: 'mutate' });
    // Internal writes of the API server itself (binding, finalize by the CRD cleanup, aggregator
    // status) set fields users may not change; their own code checks them.
    const errs = subresource?.startsWith('__') ? [] : subresource === 'status' ? this.strategy.validateStatusUpdate(obj, current) : this.strategy.validateUpdate(obj, current);
    this.throwInvalid(obj, errs);
    await this.admission.admit({ operation: 'UPDATE', info: this.info, namespace: current.metadata.namespace, name, obj, old: current, subresource, user: ctx.user, dryRun: ctx.dryRun, phase: 'validate' });
    this.trackManagedFields(current, obj, ctx, subresource);

    // The last finalizer gone from an object being deleted: the update is the deletion.
    if (meta.deletionTimestamp && !(meta.finalizers?.length) && !meta.deletionGracePeriodSeconds && !this.namespaceHoldsFinalizers(obj)) {
      if (ctx.dryRun) return obj;
      const deleted = await this.storage.delete(key, kv.modRevision);
      await this.afterDelete(current);
      return this.decode(encodeForStorage(this.toStored(obj)), deleted.modRevision);
    }

    const stored = this.encodeFor(key, obj);
    if (stored === kv.value || deepEqual(JSON.parse(stored), JSON.parse(kv.value))) {
      // No-op updates are not written: the resourceVersion does not move (as Kubernetes).
      return current;
    }
    if (ctx.dryRun) {
      if (isAllocating(this.strategy) && !subresource) await this.strategy.allocate(obj, current, true);
      return obj;
    }
    let undo: (() => Promise<void>) | undefined;
    if (isAllocating(this.strategy) && !subresource) undo = await this.strategy.allocate(obj, current, false);
    try {
      const next = await this.storage.update(key, stored, kv.modRevision);
      if (isAllocating(this.strategy) && !subresource) await this.strategy.release(current, obj);
      return this.decode(next.value, next.modRevision);
    } catch (err) {
      await undo?.();
      throw err;
    }
  }

  private namespaceHoldsFinalizers(obj: any): boolean {
    return this.info.kind === 'Namespace' && !this.info.group && (obj.spec?.finalizers?.length ?? 0) > 0;
  }

  /** PUT: replaces the object (optionally a subresource). */
  async update(namespace: string | undefined, name: string, obj: any, ctx: WriteContext, subresource?: string): Promise<{ obj: any; created: boolean }> {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw badRequest('the body of the request was not a JSON object');
    const preconditionRV: string | undefined = obj.metadata?.resourceVersion || undefined;
    if (preconditionRV !== undefined) parseRV(preconditionRV);
    return this.guaranteedUpdate(namespace, name, ctx, async (current) => {
      if (current && obj.metadata?.uid && obj.metadata.uid !== current.metadata.uid) {
        throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      return { obj: structuredClone(obj), preconditionRV, subresource };
    });
  }

  // ---- delete ------------------------------------------------------------------------------

  async delete(namespace: string | undefined, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<{ obj: any; deletedNow: boolean }> {
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < 16; attempt++) {
      const kv = await this.storage.get(key);
      if (!kv) throw this.notFound(name);
      const current = this.decode(kv.value, kv.modRevision);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== String(kv.modRevision)) {
        throw conflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${kv.modRevision}`);
      }
      await this.admission.admit({ operation: 'DELETE', info: this.info, namespace, name, obj: undefined, old: current, user: ctx.user, dryRun: ctx.dryRun, phase: 'validate' });
      try {
        return await this.deleteOnce(key, kv, current, opts, ctx);
      } catch (err) {
        if (err instanceof ConflictError) continue;
        if (err instanceof NotFoundError) throw this.notFound(name);
        throw err;
      }
    }
    throw conflict(this.gr, name, 'too many concurrent updates; please retry');
  }

  private async deleteOnce(key: string, kv: KeyValue, current: any, opts: DeleteOptions, ctx: WriteContext): Promise<{ obj: any; deletedNow: boolean }> {
    const next = structuredClone(current);
    const meta = next.metadata;
    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
    if (policy && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw invalid('DeleteOptions', '', '', [fieldError.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan'])]);
    }
    let changed = false;
    // The garbage collector's finalizers record the propagation policy (as Kubernetes does).
    const finalizers: string[] = [...(meta.finalizers ?? [])];
    if (policy === 'Orphan' && !finalizers.includes('orphan')) { finalizers.push('orphan'); changed = true; }
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) { finalizers.push('foregroundDeletion'); changed = true; }
    if (policy === 'Background' || policy === 'Foreground') {
      const i = finalizers.indexOf('orphan');
      if (i >= 0 && policy === 'Background') { finalizers.splice(i, 1); changed = true; }
    }
    if (finalizers.length) meta.finalizers = finalizers;

    // Namespaces: deletion starts Terminating; the namespace controller finishes it.
    if (this.info.kind === 'Namespace' && !this.info.group) {
      if (!meta.deletionTimestamp) { meta.deletionTimestamp = nowRFC3339(); meta.deletionGracePeriodSeconds = 0; changed = true; }
      if (next.status?.phase !== 'Terminating') { next.status = { ...(next.status ?? {}), phase: 'Terminating' }; changed = true; }
      if ((next.spec?.finalizers?.length ?? 0) > 0 || finalizers.length) {
        return { obj: changed ? await this.writeRaw(key, kv, next, ctx) : current, deletedNow: false };
      }
    }

    const grace = this.strategy.gracePeriod(current, opts.gracePeriodSeconds);
    if (grace > 0) {
      // Graceful deletion: mark it; the node agent deletes it for good after the containers stop.
      const existing = meta.deletionGracePeriodSeconds;
      if (!meta.deletionTimestamp || existing === undefined || grace < existing) {
        meta.deletionTimestamp = nowRFC3339(new Date(Date.now() + grace * 1000));
        meta.deletionGracePeriodSeconds = grace;
        changed = true;
      }
      return { obj: changed ? await this.writeRaw(key, kv, next, ctx) : current, deletedNow: false };
    }
    if (finalizers.length) {
      if (!meta.deletionTimestamp) { meta.deletionTimestamp = nowRFC3339(); changed = true; }
      if (meta.deletionGracePeriodSeconds !== 0) { meta.deletionGracePeriodSeconds = 0; changed = true; }
      return { obj: changed ? await this.writeRaw(key, kv, next, ctx) : current, deletedNow: false };
    }
    if (ctx.dryRun) return { obj: current, deletedNow: true };
    const deleted = await this.storage.delete(key, kv.modRevision);
    await this.afterDelete(current);
    return { obj: this.decode(kv.value, deleted.modRevision), deletedNow: true };
  }

  private async writeRaw(key: string, kv: KeyValue, obj: any, ctx: WriteContext): Promise<any> {
    if (ctx.dryRun) return obj;
    const next = await this.storage.update(key, this.encodeFor(key, obj), kv.modRevision);
    return this.decode(next.value, next.modRevision);
  }

  /** The stored JSON of obj, about to be written at key; the watch cache is told its object (WatchCache.hint). */
  private encodeFor(key: string, obj: any): string {
    const stored = this.toStored(obj);
    const json = encodeForStorage(stored);
    this.cache.hint(key, json, stored);
    return json;
  }

  private async afterDelete(obj: any): Promise<void> {
    if (isAllocating(this.strategy)) {
      try { await this.strategy.release(obj); } catch (err) { throw internalError(`releasing allocations: ${(err as Error).message}`); }
    }
  }

  async deleteCollection(namespace: string | undefined, list: ListOptions, opts: DeleteOptions, ctx: WriteContext): Promise<any[]> {
    const { items } = await this.list(namespace, { labelSelector: list.labelSelector, fieldSelector: list.fieldSelector });
    const out: any[] = [];
    for (const it of items) {
      const obj = this.decode(it.json, it.rev);
      try {
        const r = await this.delete(obj.metadata.namespace, obj.metadata.name, opts, ctx);
        out.push(r.obj);
      } catch (err) {
        if (err instanceof StatusError && err.code === 404) continue;
        throw err;
      }
    }
    return out;
  }
}
