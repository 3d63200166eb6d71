/**
 * JSON Patch (RFC 6902, `application/json-patch+json`) over plain JSON values.
 *
 * Behaviour follows what a Kubernetes API server does with such a patch (it applies it with
 * gopkg.in/evanphx/json-patch.v4 in staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
 *
 * - A body that is not a JSON array of objects fails to decode: 400 BadRequest.
 * - More than 10000 operations: 413 RequestEntityTooLarge
 *   ("The allowed maximum operations in a JSON patch is 10000, got N").
 * - Any failure while applying (failed `test`, missing path, bad index, unknown op, ...) is answered
 *   with errors.NewGenericServerResponse(422, ...): code 422, reason Invalid, and the fixed message
 *   "the server rejected our request due to an error in our request" (the generic 422 text; the
 *   underlying reason is not put on the wire). We keep the wire shape identical and attach the
 *   detailed reason as the error's `cause` (an Error) for logs and tests.
 *
 * Where the upstream library is more lenient than the RFC, we follow upstream so that clients
 * written against Kubernetes keep working:
 * - `replace` of a missing object member creates it (the RFC requires it to exist);
 * - a missing object member compares equal to `null` in `test`;
 * - negative array indices count from the end (-1 is the last element; for `add`, -1 appends);
 * - an operation without `value` uses `null`.
 * Where upstream has plain bugs we follow the RFC instead: `copy` from a missing location fails
 * (upstream copies `null`), `add` with path "" replaces the whole document, and `move` into one's
 * own child fails with a clear message.
 *
 * The input document is never mutated.
 */
import { StatusError, badRequest, tooLarge } from '../errors.js';
import { clone, deepEqual, isObject } from '../../util/objects.js';

/** Maximum number of operations in one JSON patch (maxJSONPatchOperations upstream). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** The message Kubernetes returns for any JSON patch that fails to apply. */
export const JSON_PATCH_APPLY_FAILED_MESSAGE = 'the server rejected our request due to an error in our request';

/** One RFC 6902 operation, as it appears on the wire. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** Internal: a failure while applying; turned into the 422 StatusError at the top. */
class ApplyFailure extends Error {}

function fail(message: string): never {
  throw new ApplyFailure(message);
}

/** The 422 Invalid StatusError Kubernetes answers a failed JSON patch with; `cause` holds the detail. */
export function jsonPatchApplyError(detail: string): StatusError {
  const err = new StatusError(422, 'Invalid', JSON_PATCH_APPLY_FAILED_MESSAGE, {});
  err.cause = new Error(detail);
  return err;
}

/** The JSON type name Go's decoder uses in "cannot unmarshal X into ..." messages. */
function goJsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string': return 'string';
    case 'number': return 'number';
    case 'boolean': return 'bool';
    default: return 'object';
  }
}

/**
 * Checks that `patch` is a decodable JSON patch (an array of objects, at most 10000 entries)
 * and returns it typed. Throws 400 BadRequest / 413 RequestEntityTooLarge as Kubernetes does.
 */
export function decodeJsonPatch(patch: unknown): Record<string, unknown>[] {
  if (!Array.isArray(patch)) {
    throw badRequest(`json: cannot unmarshal ${goJsonKind(patch)} into Go value of type jsonpatch.Patch`);
  }
  const ops: Record<string, unknown>[] = [];
  for (const op of patch) {
    // A JSON null decodes into an empty operation map in Go; it then fails as an unknown op (422).
    if (op === null) { ops.push({}); continue; }
    if (!isObject(op)) throw badRequest(`json: cannot unmarshal ${goJsonKind(op)} into Go value of type jsonpatch.Operation`);
    ops.push(op);
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw tooLarge(`Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  return ops;
}

/** Applies an RFC 6902 patch to a copy of `doc` and returns the result. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decodeJsonPatch(patch);
  const state = { root: clone(doc) as unknown };
  for (const op of ops) {
    try {
      applyOperation(state, op);
    } catch (e) {
      if (e instanceof ApplyFailure) throw jsonPatchApplyError(e.message);
      throw e;
    }
  }
  return state.root;
}

// ---------------------------------------------------------------------------------------------

type Container = Record<string, unknown> | unknown[];

function stringField(op: Record<string, unknown>, name: 'path' | 'from', opName: string): string {
  if (!Object.hasOwn(op, name) || op[name] === null) fail(`${opName} operation missing ${name} field`);
  const v = op[name];
  if (typeof v !== 'string') return fail(`${opName} operation failed to decode ${name}: not a string`);
  return v;
}

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 → "/" then ~0 → "~". */
function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) fail(`invalid JSON pointer "${pointer}": must be empty or start with "/"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function ownMember(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

function setMember(o: Record<string, unknown>, key: string, value: unknown): void {
  // Assigning "__proto__" would change the prototype instead of creating a member.
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/** Index for reading, replacing or removing an existing element (negative counts from the end). */
function existingIndex(arr: unknown[], token: string, pointer: string): number {
  if (!/^-?\d+$/.test(token)) fail(`value was not a proper array index: '${token}' in path '${pointer}'`);
  let i = Number(token);
  if (i < 0) i += arr.length;
  if (i < 0 || i >= arr.length) fail(`Unable to access invalid index: ${token} in path '${pointer}'`);
  return i;
}

/** Index for inserting ("-" appends; 0..length inserts; negative counts from the end of length+1). */
function insertIndex(arr: unknown[], token: string, pointer: string): number {
  if (token === '-') return arr.length;
  if (!/^-?\d+$/.test(token)) fail(`value was not a proper array index: '${token}' in path '${pointer}'`);
  let i = Number(token);
  if (i < 0) i += arr.length + 1;
  if (i < 0 || i > arr.length) fail(`Unable to access invalid index: ${token} in path '${pointer}'`);
  return i;
}

/** Walks to the container holding the last token; fails if any intermediate value is missing. */
function parentOf(root: unknown, tokens: string[], pointer: string, opName: string): Container {
  let cur: unknown = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (Array.isArray(cur)) cur = cur[existingIndex(cur, t, pointer)];
    else if (isObject(cur)) cur = ownMember(cur, t);
    else cur = undefined;
    if (cur === undefined || cur === null) fail(`${opName} operation does not apply: doc is missing path: "${pointer}"`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) fail(`${opName} operation does not apply: doc is missing path: "${pointer}"`);
  return cur as Container;
}

/** Value at `pointer`; `undefined` for a missing object member, failure for anything else missing. */
function getValue(root: unknown, pointer: string, opName: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return root;
  const parent = parentOf(root, tokens, pointer, opName);
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent[existingIndex(parent, key, pointer)];
  return ownMember(parent, key);
}

function addValue(state: { root: unknown }, pointer: string, value: unknown, opName: string): void {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) { state.root = value; return; }
  const parent = parentOf(state.root, tokens, pointer, opName);
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(insertIndex(parent, key, pointer), 0, value);
  else setMember(parent, key, value);
}

function removeValue(state: { root: unknown }, pointer: string, opName: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return fail(`${opName} operation does not apply: cannot remove the whole document`);
  const parent = parentOf(state.root, tokens, pointer, opName);
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent.splice(existingIndex(parent, key, pointer), 1)[0];
  if (!Object.hasOwn(parent, key)) fail(`Unable to remove nonexistent key: ${key}: missing value`);
  const old = parent[key];
  delete parent[key];
  return old;
}

function applyOperation(state: { root: unknown }, op: Record<string, unknown>): void {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  const value = Object.hasOwn(op, 'value') ? op.value : null;
  switch (kind) {
    case 'add': {
      addValue(state, stringField(op, 'path', kind), clone(value), kind);
      return;
    }
    case 'remove': {
      removeValue(state, stringField(op, 'path', kind), kind);
      return;
    }
    case 'replace': {
      const path = stringField(op, 'path', kind);
      const tokens = parsePointer(path);
      if (tokens.length === 0) { state.root = clone(value); return; }
      const parent = parentOf(state.root, tokens, path, kind);
      const key = tokens[tokens.length - 1];
      if (Array.isArray(parent)) parent[existingIndex(parent, key, path)] = clone(value);
      else setMember(parent, key, clone(value)); // upstream does not require the member to exist
      return;
    }
    case 'move': {
      const from = stringField(op, 'from', kind);
      const path = stringField(op, 'path', kind);
      const fromTokens = parsePointer(from);
      const pathTokens = parsePointer(path);
      if (getValue(state.root, from, kind) === undefined) fail(`move operation does not apply: doc is missing from path: ${from}`);
      if (from === path) return;
      if (pathTokens.length > fromTokens.length && fromTokens.every((t, i) => pathTokens[i] === t)) {
        fail(`move operation does not apply: cannot move ${from} into its own child ${path}`);
      }
      const moved = removeValue(state, from, kind);
      addValue(state, path, moved, kind);
      return;
    }
    case 'copy': {
      const from = stringField(op, 'from', kind);
      const path = stringField(op, 'path', kind);
      const v = getValue(state.root, from, kind);
      if (v === undefined) fail(`copy operation does not apply: doc is missing from path: ${from}`);
      addValue(state, path, clone(v), kind);
      return;
    }
    case 'test': {
      const path = stringField(op, 'path', kind);
      const actual = getValue(state.root, path, kind);
      const ok = actual === undefined ? value === null : deepEqual(actual, value);
      if (!ok) fail(`testing value ${path} failed: test failed`);
      return;
    }
    default:
      fail(`Unexpected kind: ${kind}`);
  }
}
