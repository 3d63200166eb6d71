/**
 * The storage contract (kine's Backend, narrowed). Only the API server uses it.
 *
 * Contract:
 * - Keys are strings like `/registry/<group>/<resource>/<namespace>/<name>`; values are opaque
 *   strings (the API server stores JSON).
 * - Every successful write (create, update, delete) gets a new global revision; revisions are
 *   monotonic and never reused. `createRevision` is the revision of the write that created the
 *   key; `modRevision` is the revision of the last write to it.
 * - `update` and `delete` are compare-and-swap on `modRevision`; the backend never retries. The
 *   generic registry owns the retry loop (guaranteedUpdate).
 * - `list` and `get` at a `revision` read the state as of that revision; asking for a compacted
 *   revision throws `CompactedError`; asking for a future revision throws `FutureRevisionError`.
 * - `watch(prefix, fromRevision)` delivers, in revision order and exactly once, every event with
 *   revision > fromRevision for keys under prefix, then live events. If fromRevision is older
 *   than the compacted revision the watch fails with `CompactedError`.
 * - A write that resolved is durable: it survives a SIGKILL of the process.
 */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

export type WatchEventType = 'create' | 'update' | 'delete';

export interface StorageEvent {
  type: WatchEventType;
  /** For create/update: the new value. For delete: the last value, with modRevision = the deletion's revision. */
  kv: KeyValue;
  /** The value before this event (update and delete). */
  prevKv?: KeyValue;
  /** Revision of this event (equals kv.modRevision). */
  revision: number;
}

export interface ListOptions {
  /** Maximum number of items; 0 or undefined = all. */
  limit?: number;
  /** Return only keys strictly greater than this key (pagination). */
  startAfter?: string;
  /** Read as of this revision (0 or undefined = latest). */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when more items exist after the last one returned. */
  more: boolean;
}

export interface Watch {
  /** Stops the watch; the iterator ends. */
  stop(): void;
}

export interface Storage {
  /** The latest revision of the whole store. */
  currentRevision(): Promise<number>;
  /** The oldest revision that can still be read or watched from (compaction floor). */
  compactedRevision(): Promise<number>;
  get(key: string, revision?: number): Promise<KeyValue | undefined>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;
  /** Throws KeyExistsError if the key exists. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Throws NotFoundError if absent, ConflictError (carrying the current kv) if modRevision differs. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /**
   * Deletes the key. With expectedModRevision, compare-and-swap as update. Returns the deleted kv
   * with modRevision set to the revision of the delete. Throws NotFoundError if absent.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /**
   * Calls onEvent for every event under prefix with revision > fromRevision, in order, then live.
   * onError is called once (and the watch stops) on CompactedError or a backend failure.
   */
  watch(prefix: string, fromRevision: number, onEvent: (ev: StorageEvent) => void, onError: (err: Error) => void): Watch;
  /** Drops history older than revision (keeps latest values). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export class StorageError extends Error {}
export class KeyExistsError extends StorageError {
  constructor(public key: string) { super(`key exists: ${key}`); }
}
export class NotFoundError extends StorageError {
  constructor(public key: string) { super(`key not found: ${key}`); }
}
export class ConflictError extends StorageError {
  constructor(public key: string, public current: KeyValue) { super(`modRevision mismatch for ${key}`); }
}
export class CompactedError extends StorageError {
  constructor(public requested: number, public compacted: number) {
    super(`revision ${requested} has been compacted (oldest available ${compacted})`);
  }
}
export class FutureRevisionError extends StorageError {
  constructor(public requested: number, public current: number) {
    super(`revision ${requested} is in the future (current ${current})`);
  }
}
