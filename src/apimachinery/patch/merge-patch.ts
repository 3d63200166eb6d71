/**
 * JSON Merge Patch (RFC 7386, `application/merge-patch+json`) over plain JSON values.
 *
 * Semantics (RFC 7386 section 2): a patch that is an object is merged member by member into the
 * target (a non-object target is first replaced by `{}`); a member whose patch value is `null`
 * is removed; object values merge recursively; anything else (strings, numbers, booleans,
 * arrays) replaces the target value wholesale.
 *
 * Top-level behaviour follows Kubernetes (jsonpatch.MergePatch from evanphx/json-patch, called in
 * staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
 * - a top-level patch that is `null` or a scalar fails with ErrBadJSONPatch, which the API server
 *   answers with 400 BadRequest "Invalid JSON Patch";
 * - a top-level array replaces the document (the API server then fails to decode the result into
 *   the resource type and answers 422 Invalid; that check belongs to the caller).
 *
 * Inputs are never mutated.
 */
import { badRequest } from '../errors.js';
import { clone, deepEqual, isObject } from '../../util/objects.js';

type JsonObject = Record<string, unknown>;

/** Message of jsonpatch.ErrBadJSONPatch, sent as 400 BadRequest. */
export const BAD_MERGE_PATCH_MESSAGE = 'Invalid JSON Patch';

/** Own member lookup that never reads the prototype chain (e.g. for the key "__proto__"). */
export function ownValue(o: JsonObject, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Member assignment that creates an own "__proto__" member instead of changing the prototype. */
export function setOwn(o: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/** Applies an RFC 7386 merge patch to a copy of `doc` and returns the result. */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (Array.isArray(patch)) return clone(patch);
  if (!isObject(patch)) throw badRequest(BAD_MERGE_PATCH_MESSAGE);
  const target = isObject(doc) ? clone(doc) : {};
  return mergeInto(target, patch);
}

/** Merges `patch` into `target` in place (target is ours to mutate; patch is only read). */
function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [key, pv] of Object.entries(patch)) {
    if (pv === null) {
      delete target[key];
    } else if (isObject(pv)) {
      const cur = ownValue(target, key);
      setOwn(target, key, mergeInto(isObject(cur) ? cur : {}, pv));
    } else {
      setOwn(target, key, clone(pv));
    }
  }
  return target;
}

/**
 * Builds a merge patch that turns `original` into `modified`: members added or changed in
 * `modified` are set, members missing from `modified` are set to `null`, and nested objects are
 * diffed recursively (an unchanged object is left out). Arrays are compared as a whole.
 * If either side is not an object, the patch is `modified` itself.
 *
 * Limitation inherent to RFC 7386: a `null` member in `modified` cannot be expressed (it would
 * mean "delete"), so such members end up absent after applying the patch.
 */
export function createMergePatch(original: unknown, modified: unknown): unknown {
  if (!isObject(original) || !isObject(modified)) return clone(modified);
  return diffObjects(original, modified);
}

function diffObjects(original: JsonObject, modified: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const [key, mv] of Object.entries(modified)) {
    if (!Object.hasOwn(original, key)) {
      setOwn(patch, key, clone(mv));
      continue;
    }
    const ov = original[key];
    if (isObject(ov) && isObject(mv)) {
      const sub = diffObjects(ov, mv);
      if (Object.keys(sub).length > 0) setOwn(patch, key, sub);
    } else if (!deepEqual(ov, mv)) {
      setOwn(patch, key, clone(mv));
    }
  }
  for (const key of Object.keys(original)) {
    if (!Object.hasOwn(modified, key)) setOwn(patch, key, null);
  }
  return patch;
}
