/**
 * Field selectors, as Kubernetes reads `?fieldSelector=` (k8s.io/apimachinery/pkg/fields).
 *
 *   selector := term ("," term)*        (comma = AND; empty terms are skipped; "" selects all)
 *   term     := FIELD ("=" | "==" | "!=") VALUE
 *
 * The field is everything before the first operator (no escaping there). In the value, `\,`
 * `\=` and `\\` stand for `,` `=` `\`; any other backslash sequence, and an unescaped `,` or `=`,
 * is an error. A missing field compares as "" (so `spec.nodeName=` selects unscheduled pods).
 * Which fields a kind accepts is decided elsewhere (src/api/field-attrs.ts).
 */

import { badRequest } from './errors.js';

export interface FieldRequirement {
  readonly field: string;
  /** `==` is read as `=`. */
  readonly op: '=' | '!=';
  /** Unescaped value. */
  readonly value: string;
}

export interface FieldSelector {
  /** AND of these, in upstream's order (terms sorted as written). */
  readonly requirements: readonly FieldRequirement[];
  /** True when nothing is required (matches every object). */
  readonly empty: boolean;
  matches(fields: Record<string, string>): boolean;
  /** The value `field` must equal, when some `field=value` term pins it. */
  requiresExactMatch(field: string): string | undefined;
  /** requiresExactMatch('metadata.name'): lets a list be answered with a single get. */
  exactName(): string | undefined;
  /** A copy with every term rewritten (e.g. field label conversion); fn may throw. */
  transform(fn: (field: string, value: string) => { field: string; value: string }): FieldSelector;
  /** Canonical form, values escaped: `metadata.name=a\,b,status.phase!=Running`. */
  toString(): string;
}

/** fields.EscapeValue: escape `\`, `,` and `=` for use in a selector value. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

class FieldSelectorError extends Error {}

/** fields.UnescapeValue. */
function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    // Upstream prints the rune with %v, i.e. as its number ("=" is 61, "," is 44).
    else if (c === ',' || c === '=') throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new FieldSelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not backslash-escaped; the escapes stay in the terms. */
function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') { terms.push(s.slice(start, i)); start = i + 1; }
  }
  terms.push(s.slice(start));
  return terms;
}

/** Splits a term at the first operator; "!=" and "==" are tried before "=" at each position. */
function splitTerm(term: string): { lhs: string; op: '=' | '==' | '!='; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function makeSelector(reqs: FieldRequirement[]): FieldSelector {
  const requirements = Object.freeze(reqs.map((r) => Object.freeze({ ...r })));
  const sel: FieldSelector = {
    requirements,
    empty: requirements.length === 0,
    matches(fields) {
      for (const r of requirements) {
        const actual = Object.prototype.hasOwnProperty.call(fields, r.field) ? fields[r.field] : '';
        if ((actual === r.value) !== (r.op === '=')) return false;
      }
      return true;
    },
    requiresExactMatch(field) {
      for (const r of requirements) if (r.field === field && r.op === '=') return r.value;
      return undefined;
    },
    exactName() { return sel.requiresExactMatch('metadata.name'); },
    transform(fn) {
      return makeSelector(requirements.map((r) => ({ op: r.op, ...fn(r.field, r.value) })));
    },
    toString() { return requirements.map((r) => `${r.field}${r.op}${escapeFieldValue(r.value)}`).join(','); },
  };
  return Object.freeze(sel);
}

/** fields.Everything(). */
export const everythingFields: FieldSelector = makeSelector([]);

function parse(s: string): FieldSelector {
  // Upstream sorts the raw terms before reading them; the order shows in errors and String().
  const parts = splitTerms(s).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw new FieldSelectorError(`invalid selector: '${s}'; can't understand '${part}'`);
    reqs.push({ field: t.lhs, op: t.op === '!=' ? '!=' : '=', value: unescapeValue(t.rhs) });
  }
  return makeSelector(reqs);
}

/**
 * fields.ParseSelector: a selector string as given in `?fieldSelector=`. Throws a 400 BadRequest
 * StatusError with upstream's message, e.g. `invalid selector: 'foo'; can't understand 'foo'`.
 */
export function parseFieldSelector(s: string): FieldSelector {
  try {
    return parse(s);
  } catch (e) {
    if (e instanceof FieldSelectorError) throw badRequest(e.message);
    throw e;
  }
}

/** fields.OneTermEqualSelector / SelectorFromSet: `k=v` for every entry. */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  return makeSelector(Object.entries(set).map(([field, value]) => ({ field, op: '=' as const, value })));
}
