/**
 * The JSONPath subset CRD additionalPrinterColumns use (client-go jsonpath semantics, missing keys
 * allowed): `.a.b`, `['a.b']`, `.labels.app\.kubernetes\.io/name`, `[0]`, `[-1]`, `[1:3]`, `[*]`,
 * `.*`, and filters `[?(@.type=="Ready")]` (==, !=, <, <=, >, >=, or bare existence `[?(@.x)]`).
 * The path may be wrapped in `{…}` and may start with `$`.
 */

type Step =
  | { t: 'field'; name: string }
  | { t: 'wildcard' }
  | { t: 'index'; index: number }
  | { t: 'slice'; start?: number; end?: number; step?: number }
  | { t: 'filter'; left: Step[]; op?: string; right?: Operand };

type Operand = { kind: 'literal'; value: string | number | boolean | null } | { kind: 'path'; steps: Step[] };

export class JSONPathError extends Error {}

export interface CompiledPath {
  source: string;
  /** All values the path selects, in document order (an empty list when nothing matches). */
  find(data: unknown): unknown[];
}

export function compileJSONPath(path: string): CompiledPath {
  let src = path.trim();
  if (src.startsWith('{') && src.endsWith('}')) src = src.slice(1, -1).trim();
  const p = new Parser(src);
  const steps = p.parsePath(false);
  if (!p.done()) throw new JSONPathError(`unexpected ${JSON.stringify(src.slice(p.pos))} in JSONPath ${JSON.stringify(path)}`);
  return { source: path, find: (data) => evaluate(steps, [data]) };
}

/** The values a JSONPath selects from data; [] when it is invalid or nothing matches. */
export function findJSONPath(path: string, data: unknown): unknown[] {
  try {
    return compileJSONPath(path).find(data);
  } catch {
    return [];
  }
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.pos >= this.s.length;
  }

  private peek(n = 0): string {
    return this.s[this.pos + n] ?? '';
  }

  private skipSpace(): void {
    while (this.peek() === ' ') this.pos++;
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) throw new JSONPathError(`expected ${JSON.stringify(ch)} at ${this.pos} in ${JSON.stringify(this.s)}`);
    this.pos++;
  }

  /** Steps until the end of input, or (inside a filter) until an operator or ")". */
  parsePath(inFilter: boolean): Step[] {
    const steps: Step[] = [];
    if (!inFilter && this.peek() === '$') this.pos++;
    while (!this.done()) {
      const c = this.peek();
      if (c === '.') {
        this.pos++;
        if (this.peek() === '.') throw new JSONPathError('recursive descent (..) is not supported');
        if (this.peek() === '*') {
          this.pos++;
          steps.push({ t: 'wildcard' });
          continue;
        }
        const name = this.fieldName();
        if (name === '') {
          // A lone "." (the whole object) selects the current value.
          continue;
        }
        steps.push({ t: 'field', name });
      } else if (c === '[') {
        steps.push(this.bracket());
      } else if (inFilter) {
        break;
      } else {
        throw new JSONPathError(`unexpected ${JSON.stringify(c)} at ${this.pos} in ${JSON.stringify(this.s)}`);
      }
    }
    return steps;
  }

  private fieldName(): string {
    let name = '';
    while (!this.done()) {
      const c = this.peek();
      if (c === '\\' && this.peek(1) !== '') {
        name += this.peek(1);
        this.pos += 2;
        continue;
      }
      if (c === '.' || c === '[' || c === ']' || c === ' ' || c === ')' || c === '(' || c === '=' || c === '!' || c === '<' || c === '>') break;
      name += c;
      this.pos++;
    }
    return name;
  }

  private bracket(): Step {
    this.expect('[');
    this.skipSpace();
    const c = this.peek();
    let step: Step;
    if (c === '?') {
      this.pos++;
      this.skipSpace();
      this.expect('(');
      step = this.filter();
      this.skipSpace();
      this.expect(')');
    } else if (c === '*') {
      this.pos++;
      step = { t: 'wildcard' };
    } else if (c === "'" || c === '"') {
      step = { t: 'field', name: this.quoted() };
    } else {
      const body = this.until(']');
      step = this.indexOrSlice(body);
    }
    this.skipSpace();
    this.expect(']');
    return step;
  }

  private until(ch: string): string {
    const start = this.pos;
    while (!this.done() && this.peek() !== ch) this.pos++;
    return this.s.slice(start, this.pos).trim();
  }

  private indexOrSlice(body: string): Step {
    const int = (x: string): number | undefined => {
      if (x.trim() === '') return undefined;
      if (!/^\s*-?\d+\s*$/.test(x)) throw new JSONPathError(`invalid array index ${JSON.stringify(body)}`);
      return Number(x);
    };
    if (!body.includes(':')) {
      const index = int(body);
      if (index === undefined) throw new JSONPathError('empty array index');
      return { t: 'index', index };
    }
    const parts = body.split(':');
    if (parts.length > 3) throw new JSONPathError(`invalid array slice ${JSON.stringify(body)}`);
    return { t: 'slice', start: int(parts[0]), end: int(parts[1]), step: parts[2] === undefined ? undefined : int(parts[2]) };
  }

  private quoted(): string {
    const q = this.peek();
    this.pos++;
    let out = '';
    while (!this.done() && this.peek() !== q) {
      if (this.peek() === '\\' && this.peek(1) !== '') {
        out += this.peek(1);
        this.pos += 2;
        continue;
      }
      out += this.peek();
      this.pos++;
    }
    this.expect(q);
    return out;
  }

  private filter(): Step {
    this.skipSpace();
    const left = this.operandSteps();
    this.skipSpace();
    const op = ['==', '!=', '<=', '>=', '<', '>'].find((o) => this.s.startsWith(o, this.pos));
    if (!op) return { t: 'filter', left };
    this.pos += op.length;
    this.skipSpace();
    return { t: 'filter', left, op, right: this.operand() };
  }

  private operandSteps(): Step[] {
    this.expect('@');
    return this.parsePath(true);
  }

  private operand(): Operand {
    const c = this.peek();
    if (c === '@') return { kind: 'path', steps: this.operandSteps() };
    if (c === '"' || c === "'") return { kind: 'literal', value: this.quoted() };
    let word = '';
    while (!this.done() && this.peek() !== ')' && this.peek() !== ' ') word += this.s[this.pos++];
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(word)) return { kind: 'literal', value: Number(word) };
    if (word === 'true' || word === 'false') return { kind: 'literal', value: word === 'true' };
    if (word === 'nil' || word === 'null') return { kind: 'literal', value: null };
    return { kind: 'literal', value: word };
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function evaluate(steps: Step[], input: unknown[]): unknown[] {
  let cur = input;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) applyStep(step, v, next);
    cur = next;
    if (cur.length === 0) break;
  }
  return cur;
}

function applyStep(step: Step, v: unknown, out: unknown[]): void {
  switch (step.t) {
    case 'field':
      if (isRecord(v) && Object.prototype.hasOwnProperty.call(v, step.name)) out.push(v[step.name]);
      return;
    case 'wildcard':
      if (Array.isArray(v)) out.push(...v);
      else if (isRecord(v)) for (const k of Object.keys(v).sort()) out.push(v[k]);
      return;
    case 'index': {
      if (!Array.isArray(v)) return;
      const i = step.index < 0 ? v.length + step.index : step.index;
      if (i >= 0 && i < v.length) out.push(v[i]);
      return;
    }
    case 'slice': {
      if (!Array.isArray(v)) return;
      const n = v.length;
      const norm = (x: number | undefined, dflt: number) => {
        if (x === undefined) return dflt;
        const y = x < 0 ? n + x : x;
        return Math.min(Math.max(y, 0), n);
      };
      const stepBy = step.step ?? 1;
      if (stepBy <= 0) return;
      for (let i = norm(step.start, 0); i < norm(step.end, n); i += stepBy) out.push(v[i]);
      return;
    }
    case 'filter': {
      const items = Array.isArray(v) ? v : [];
      for (const item of items) if (matches(step, item)) out.push(item);
      return;
    }
  }
}

function matches(f: Extract<Step, { t: 'filter' }>, item: unknown): boolean {
  const lefts = evaluate(f.left, [item]);
  if (lefts.length === 0) return false;
  if (!f.op || !f.right) return lefts[0] !== null && lefts[0] !== undefined && lefts[0] !== false;
  const rights = f.right.kind === 'literal' ? [f.right.value] : evaluate(f.right.steps, [item]);
  if (rights.length === 0) return false;
  return compare(lefts[0], f.op, rights[0]);
}

function compare(a: unknown, op: string, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '==': return a === b;
      case '!=': return a !== b;
      case '<': return a < b;
      case '<=': return a <= b;
      case '>': return a > b;
      case '>=': return a >= b;
    }
  }
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  switch (op) {
    case '==': return sa === sb;
    case '!=': return sa !== sb;
    case '<': return sa < sb;
    case '<=': return sa <= sb;
    case '>': return sa > sb;
    case '>=': return sa >= sb;
  }
  return false;
}
