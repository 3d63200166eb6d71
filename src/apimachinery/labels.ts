/**
 * Label selectors, as Kubernetes reads them in `?labelSelector=` and in metav1.LabelSelector.
 *
 * String syntax (k8s.io/apimachinery/pkg/labels):
 *
 *   selector    := requirement ("," requirement)*          (comma = AND; "" selects everything)
 *   requirement := ["!"] KEY
 *                | KEY ("=" | "==" | "!=") [VALUE]
 *                | KEY ("in" | "notin") "(" [VALUE] ("," [VALUE])* ")"
 *                | KEY (">" | "<") INTEGER
 *
 * Blanks (space, tab, CR, LF) may surround every token; `in`/`notin` are keywords only where an
 * operator is expected (`in in (in)` is the key "in" in the set {"in"}). Keys are qualified names
 * (`[dns-subdomain/]name`, name at most 63 chars), values are label values (empty allowed).
 * Parse errors are 400 BadRequest with the text kube-apiserver 1.32 returns, e.g.
 * `unable to parse requirement: <nil>: Invalid value: "a:b": name part must consist of ...`.
 */

import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './validation.js';
import { badRequest } from './errors.js';

/** selection.Operator spellings. */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Empty for exists / `!`; one value for =, ==, !=, gt, lt; one or more for in / notin. */
  readonly values: readonly string[];
}

export type Labels = Record<string, string> | undefined | null;

export interface LabelSelector {
  /** AND of these, sorted by key (as upstream's parser and Add() leave them). */
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector does not restrict anything (matches every object). */
  readonly empty: boolean;
  /** True only for the selector of a null metav1.LabelSelector: it matches no object at all. */
  readonly nothing: boolean;
  matches(labels: Labels): boolean;
  /** The value `key` must have, when the selector pins it (`key=v`, `key==v`, `key in (v)`). */
  requiresExactMatch(key: string): string | undefined;
  /** Canonical form, as labels.Selector.String(): `a=b,c in (x,y),!d`. */
  toString(): string;
}

// ---------------------------------------------------------------------------------------------
// Validation: the same validators (and messages) as everywhere else in keelson.

/** IsDNS1123Subdomain: the messages for a bad DNS subdomain (empty list when valid). */
export const dns1123SubdomainErrors = isDNS1123Subdomain;
/** IsQualifiedName: the messages for a bad label key (empty list when valid). */
export const labelKeyErrors = isQualifiedName;
/** IsValidLabelValue: the messages for a bad label value (empty list when valid). */
export const labelValueErrors = isValidLabelValue;

/** Go's %q for a string (strconv.Quote): what upstream messages print around values. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's %#v for a []string, as field.Invalid prints a bad value list. */
const goStringSlice = (v: readonly string[] | null) => (v === null ? '[]string(nil)' : `[]string{${v.map(goQuote).join(', ')}}`);

/** field.Error.Error() for an Invalid error: `<path>: Invalid value: <value>: <detail>`. */
const invalidMsg = (path: string, value: string, detail: string) => `${path}: Invalid value: ${value}: ${detail}`;

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated in brackets. */
function aggregate(msgs: string[]): string {
  const uniq = [...new Set(msgs)];
  return uniq.length === 1 ? uniq[0] : `[${uniq.join(', ')}]`;
}

/** strconv.ParseInt(s, 10, 64) succeeds. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined;
  return n;
}

class SelectorError extends Error {}

/**
 * labels.NewRequirement: validates and builds one requirement. `rawValues` null stands for a nil
 * Go slice (only matters for how an error prints it). Throws SelectorError with upstream's text.
 */
function newRequirement(key: string, operator: LabelOperator, rawValues: readonly string[] | null): LabelRequirement {
  const values = rawValues ?? [];
  const errs: string[] = [];
  const keyErrs = labelKeyErrors(key);
  if (keyErrs.length) errs.push(invalidMsg('key', goQuote(key), keyErrs.join('; ')));
  switch (operator) {
    case 'in': case 'notin':
      if (values.length === 0) errs.push(invalidMsg('values', goStringSlice(rawValues), "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=': case '==': case '!=':
      if (values.length !== 1) errs.push(invalidMsg('values', goStringSlice(rawValues), 'exact-match compatibility requires one single value'));
      break;
    case 'exists': case '!':
      if (values.length !== 0) errs.push(invalidMsg('values', goStringSlice(rawValues), 'values set must be empty for exists and does not exist'));
      break;
    case 'gt': case 'lt':
      if (values.length !== 1) errs.push(invalidMsg('values', goStringSlice(rawValues), "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalidMsg(`values[${i}]`, goQuote(v), "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
    default: {
      const op = operator as string;
      errs.push(`operator: Unsupported value: ${goQuote(op)}: supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"`);
    }
  }
  values.forEach((v, i) => {
    const valErrs = labelValueErrors(v);
    if (valErrs.length) errs.push(invalidMsg(`values[${i}][${key}]`, goQuote(v), valErrs.join('; ')));
  });
  if (errs.length) throw new SelectorError(aggregate(errs));
  return Object.freeze({ key, operator, values: Object.freeze([...values]) });
}

// ---------------------------------------------------------------------------------------------
// Matching and printing

const has = (labels: Labels, key: string): labels is Record<string, string> =>
  !!labels && Object.prototype.hasOwnProperty.call(labels, key);

export function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  switch (r.operator) {
    case '=': case '==': case 'in':
      return has(labels, r.key) && r.values.includes(labels[r.key]);
    case '!=': case 'notin':
      return !has(labels, r.key) || !r.values.includes(labels[r.key]);
    case 'exists':
      return has(labels, r.key);
    case '!':
      return !has(labels, r.key);
    case 'gt': case 'lt': {
      if (!has(labels, r.key) || r.values.length !== 1) return false;
      const actual = parseInt64(labels[r.key]);
      const bound = parseInt64(r.values[0]);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** Requirement.String(): values of a set requirement are printed sorted. */
export function requirementString(r: LabelRequirement): string {
  const vals = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  switch (r.operator) {
    case 'exists': return r.key;
    case '!': return `!${r.key}`;
    case 'in': return `${r.key} in (${vals})`;
    case 'notin': return `${r.key} notin (${vals})`;
    case 'gt': return `${r.key}>${vals}`;
    case 'lt': return `${r.key}<${vals}`;
    default: return `${r.key}${r.operator}${vals}`;
  }
}

function makeSelector(reqs: LabelRequirement[]): LabelSelector {
  // Stable sort by key (code-unit order, as Go compares strings bytewise for ASCII keys).
  const requirements = Object.freeze(reqs.map((r, i) => [r, i] as const)
    .sort(([a, ai], [b, bi]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : ai - bi))
    .map(([r]) => r));
  return Object.freeze({
    requirements,
    empty: requirements.length === 0,
    nothing: false,
    matches(labels: Labels) {
      for (const r of requirements) if (!requirementMatches(r, labels)) return false;
      return true;
    },
    requiresExactMatch(key: string) {
      for (const r of requirements) {
        if (r.key !== key) continue;
        if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
        return undefined;
      }
      return undefined;
    },
    toString() { return requirements.map(requirementString).join(','); },
  });
}

/** labels.Everything(): matches every object. */
export const everythingSelector: LabelSelector = makeSelector([]);

/** labels.Nothing(): matches no object (what a null metav1.LabelSelector means). */
export const nothingSelector: LabelSelector = Object.freeze({
  requirements: Object.freeze([]) as readonly LabelRequirement[],
  empty: false,
  nothing: true,
  matches: () => false,
  requiresExactMatch: () => undefined,
  toString: () => '',
});

// ---------------------------------------------------------------------------------------------
// Lexer and parser for the string form

type Tok = 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'ident' | 'in' | '<' | '!=' | 'notin' | '(';

const SYMBOLS = new Set<string>([')', ',', '!', '==', '=', '>', '<', '!=', '(']);
const KEYWORDS = new Set<string>(['in', 'notin']);

const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSymbol = (c: string) => c === '=' || c === '!' || c === '(' || c === ')' || c === ',' || c === '>' || c === '<';

interface Item { tok: Tok; lit: string }

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isBlank(s[pos])) pos++;
    if (pos >= s.length) { items.push({ tok: 'eos', lit: '' }); return items; }
    if (isSymbol(s[pos])) {
      // Longest operator made of special characters: "!=" and "==" win over "!" and "=".
      let buf = '';
      let best: Item | undefined;
      while (pos < s.length && isSymbol(s[pos])) {
        const next = buf + s[pos];
        if (SYMBOLS.has(next)) { best = { tok: next as Tok, lit: next }; buf = next; pos++; }
        else if (best) break;
        else { buf = next; pos++; }
      }
      items.push(best ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    const start = pos;
    while (pos < s.length && !isSymbol(s[pos]) && !isBlank(s[pos])) pos++;
    const word = s.slice(start, pos);
    items.push({ tok: KEYWORDS.has(word) ? (word as Tok) : 'ident', lit: word });
  }
}

/** Where `in` / `notin` are plain identifiers (keys and values) or operators. */
type Ctx = 'keyAndOperator' | 'values';

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  private view(i: number, ctx: Ctx): Item {
    const it = this.items[Math.min(i, this.items.length - 1)];
    if (ctx === 'values' && (it.tok === 'in' || it.tok === 'notin')) return { tok: 'ident', lit: it.lit };
    return it;
  }
  private lookahead(ctx: Ctx): Item { return this.view(this.pos, ctx); }
  private consume(ctx: Ctx): Item { const it = this.view(this.pos, ctx); this.pos++; return it; }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead('values');
      if (tok === 'ident' || tok === '!') {
        try {
          reqs.push(this.parseRequirement());
        } catch (e) {
          if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
          throw e;
        }
        const next = this.consume('values');
        if (next.tok === 'eos') return reqs;
        if (next.tok === ',') {
          const after = this.lookahead('values');
          if (after.tok !== 'ident' && after.tok !== '!') throw new SelectorError(`found '${after.lit}', expected: identifier after ','`);
          continue;
        }
        throw new SelectorError(`found '${next.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === 'eos') return reqs;
      throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  private parseRequirement(): LabelRequirement {
    let { tok, lit } = this.consume('values');
    let op: LabelOperator | undefined;
    if (tok === '!') { op = '!'; ({ tok, lit } = this.consume('values')); }
    if (tok !== 'ident') throw new SelectorError(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErrs = labelKeyErrors(key);
    if (keyErrs.length) throw new SelectorError(invalidMsg('<nil>', goQuote(key), keyErrs.join('; ')));
    const after = this.lookahead('values').tok;
    if (op === '!') return newRequirement(key, '!', []);
    if (after === 'eos' || after === ',') return newRequirement(key, 'exists', []);

    const opItem = this.consume('keyAndOperator');
    switch (opItem.tok) {
      case 'in': op = 'in'; break;
      case 'notin': op = 'notin'; break;
      case '=': op = '='; break;
      case '==': op = '=='; break;
      case '!=': op = '!='; break;
      case '>': op = 'gt'; break;
      case '<': op = 'lt'; break;
      default: throw new SelectorError(`found '${opItem.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    // sets.String.List(): unique and sorted.
    return newRequirement(key, op, [...new Set(values)].sort());
  }

  private parseValues(): string[] {
    const open = this.consume('values');
    if (open.tok !== '(') throw new SelectorError(`found '${open.lit}' expected: '('`);
    const first = this.lookahead('values');
    if (first.tok === 'ident' || first.tok === ',') {
      const vals = this.parseIdentifiersList();
      // Upstream reports the token that followed "(" here, not the offending one.
      if (this.consume('values').tok !== ')') throw new SelectorError(`found '${first.lit}', expected: ')'`);
      return vals;
    }
    if (first.tok === ')') { this.consume('values'); return ['']; }
    throw new SelectorError(`found '${first.lit}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): string[] {
    const vals = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume('values');
      if (tok === 'ident') {
        vals.add(lit);
        const next = this.lookahead('values');
        if (next.tok === ',') continue;
        if (next.tok === ')') return [...vals];
        throw new SelectorError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        if (vals.size === 0) vals.add(''); // "(,"
        const next = this.lookahead('values').tok;
        if (next === ')') { vals.add(''); return [...vals]; } // ",)"
        if (next === ',') vals.add(''); // ",,"
        continue;
      }
      throw new SelectorError(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): string[] {
    const next = this.lookahead('values').tok;
    if (next === 'eos' || next === ',') return [''];
    const { tok, lit } = this.consume('values');
    if (tok === 'ident') return [lit];
    throw new SelectorError(`found '${lit}', expected: identifier`);
  }
}

/**
 * labels.Parse: a selector string as given in `?labelSelector=`. "" (or only blanks) selects
 * everything. Throws a 400 BadRequest StatusError carrying upstream's message.
 */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return makeSelector(new Parser(lex(s)).parse());
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

/** Like parseLabelSelector, but returns the error text instead of throwing. */
export function tryParseLabelSelector(s: string): { selector: LabelSelector; error?: undefined } | { selector?: undefined; error: string } {
  try {
    return { selector: makeSelector(new Parser(lex(s)).parse()) };
  } catch (e) {
    if (e instanceof SelectorError) return { error: e.message };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// metav1.LabelSelector

export interface LabelSelectorRequirementObject {
  key: string;
  operator: string;
  values?: string[] | null;
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirementObject[] | null;
}

const EXPRESSION_OPS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector. Upstream semantics, which callers rely on:
 *  - a null/undefined selector matches NOTHING (labels.Nothing()), e.g. a PodDisruptionBudget
 *    or Service-less controller without a selector selects no pods;
 *  - a selector with no matchLabels and no matchExpressions ({}) matches EVERYTHING.
 * matchLabels become `key=value` requirements; expressions use In, NotIn, Exists, DoesNotExist.
 * Invalid keys/values/operators throw 400 BadRequest with upstream's message, e.g.
 * `"Foo" is not a valid pod selector operator`.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | undefined | null): LabelSelector {
  if (sel === null || sel === undefined) return nothingSelector;
  const matchLabels = sel.matchLabels ?? {};
  const exprs = sel.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + exprs.length === 0) return everythingSelector;
  try {
    const reqs: LabelRequirement[] = [];
    for (const [k, v] of Object.entries(matchLabels)) reqs.push(newRequirement(k, '=', [String(v)]));
    for (const e of exprs) {
      const op = Object.prototype.hasOwnProperty.call(EXPRESSION_OPS, e.operator) ? EXPRESSION_OPS[e.operator] : undefined;
      if (!op) throw new SelectorError(`${goQuote(String(e.operator))} is not a valid pod selector operator`);
      const values = e.values && e.values.length ? [...e.values] : null;
      reqs.push(newRequirement(e.key, op, values));
    }
    return makeSelector(reqs);
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

/**
 * metav1.FormatLabelSelector: the selector as a string (`app=x,tier in (a,b)`), `<none>` when it
 * prints empty (null or {}), `<error>` when it is invalid. Used in scale status and tables.
 */
export function formatLabelSelector(sel: LabelSelectorObject | undefined | null): string {
  let s: string;
  try {
    s = labelSelectorFromObject(sel).toString();
  } catch {
    return '<error>';
  }
  return s.length === 0 ? '<none>' : s;
}

/** labels.SelectorFromSet: `k=v` for every entry; an empty or missing set selects everything. */
export function selectorFromSet(set: Record<string, string> | undefined | null): LabelSelector {
  if (!set) return everythingSelector;
  return makeSelector(Object.entries(set).map(([key, v]) => Object.freeze({ key, operator: '=' as const, values: Object.freeze([v]) })));
}
