#!/usr/bin/env node
// Generates src/api/generated/schemas.json: the OpenAPI v3 schemas of the built-in Kubernetes kinds,
// keyed by Kubernetes' schema names (io.k8s.api.core.v1.Pod, ...).
//
// Input: the .d.ts files of the `kubernetes-types` npm package, read with a small dedicated parser
// (they are machine-generated and very regular), plus keelson's own tables in ./patch-metadata.mjs
// (integer formats, strategic-merge-patch / list-type metadata, extra GVKs).
//
// Deterministic: files and keys are processed in sorted order; running it twice gives the same bytes.
// Usage: node scripts/gen-schemas.mjs [--check]   (--check: exit 1 if the checked-in file is stale)

import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import {
  FIELD_EXTENSIONS, TYPE_EXTENSIONS, INT64_FIELDS, FLOAT_FIELDS, BYTE_FIELDS, EXTRA_GVKS, INT_OR_STRING_DESCRIPTION,
  DEFAULT_ATOMIC_LIST_PACKAGES, ATOMIC_EXCEPTIONS, META_ATOMIC, EVERY_GROUP_KINDS, EXTRA_PROPERTIES,
} from './patch-metadata.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const OUT = join(root, 'src', 'api', 'generated', 'schemas.json');

function typesDir() {
  const req = createRequire(join(root, 'package.json'));
  return dirname(req.resolve('kubernetes-types/package.json'));
}

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------

/** @typedef {{t: 'doc'|'id'|'str'|'p', v: string}} Tok */

/** @returns {Tok[]} */
function tokenize(src) {
  const toks = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated comment');
      const body = src.slice(i, end + 2);
      if (body.startsWith('/**')) toks.push({ t: 'doc', v: docText(body) });
      i = end + 2;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') { const e = src.indexOf('\n', i); i = e < 0 ? n : e + 1; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < n && src[j] !== c) { if (src[j] === '\\') { s += src[j + 1]; j += 2; } else s += src[j++]; }
      toks.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(src[j])) j++;
      toks.push({ t: 'id', v: src.slice(i, j) });
      i = j;
      continue;
    }
    if ('{}[]<>():;?|,='.includes(c)) { toks.push({ t: 'p', v: c }); i++; continue; }
    throw new Error(`unexpected character ${JSON.stringify(c)} at ${i}`);
  }
  return toks;
}

/** The text of a `/** ... *\/` comment: one line per source line, the ` * ` gutter removed. */
function docText(body) {
  const inner = body.slice(3, -2);
  const lines = inner.split('\n').map((l) => {
    const m = /^\s*\* ?(.*)$/.exec(l);
    return (m ? m[1] : l).replace(/\s+$/, '');
  });
  while (lines.length && lines[0].trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 1) return lines[0].trim();
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/**
 * Type expressions:
 *   {k:'prim', name:'string'|'number'|'boolean'} | {k:'lit', value} | {k:'ref', name}
 *   {k:'array', of} | {k:'map', of} | {k:'union', of:[...]} | {k:'object'} (empty `{}`)
 */
class Parser {
  constructor(toks, file) { this.toks = toks; this.i = 0; this.file = file; }
  peek(o = 0) { return this.toks[this.i + o]; }
  next() { return this.toks[this.i++]; }
  fail(msg) { const t = this.peek(); throw new Error(`${this.file}: ${msg} at token ${this.i} (${t ? t.t + ' ' + JSON.stringify(t.v) : 'EOF'})`); }
  is(t, v) { const k = this.peek(); return !!k && k.t === t && (v === undefined || k.v === v); }
  eat(t, v) { if (!this.is(t, v)) this.fail(`expected ${t} ${v ?? ''}`); return this.next(); }
  accept(t, v) { if (this.is(t, v)) { this.next(); return true; } return false; }

  parseFile() {
    const imports = []; // {names: string[], from: string}
    const decls = []; // {kind, name, doc, fields?, type?}
    let doc;
    while (this.peek()) {
      if (this.is('doc')) { doc = this.next().v; continue; }
      if (this.accept('id', 'import')) {
        this.eat('p', '{');
        const names = [];
        while (!this.accept('p', '}')) { names.push(this.eat('id').v); this.accept('p', ','); }
        this.eat('id', 'from');
        imports.push({ names, from: this.eat('str').v });
        this.accept('p', ';');
        doc = undefined;
        continue;
      }
      if (this.accept('id', 'export')) {
        if (this.accept('id', 'interface')) {
          const name = this.eat('id').v;
          this.eat('p', '{');
          decls.push({ kind: 'interface', name, doc, fields: this.parseMembers() });
        } else if (this.accept('id', 'type')) {
          const name = this.eat('id').v;
          this.eat('p', '=');
          const type = this.parseType();
          this.accept('p', ';');
          decls.push({ kind: 'type', name, doc, type });
        } else this.fail('expected interface or type');
        doc = undefined;
        continue;
      }
      this.fail('unexpected token');
    }
    return { imports, decls };
  }

  /** Members after `{` up to and including `}`. */
  parseMembers() {
    const fields = [];
    let doc;
    while (!this.accept('p', '}')) {
      if (this.is('doc')) { doc = this.next().v; continue; }
      if (this.is('p', '[')) { // index signature: [name: string]: T;
        this.next(); this.eat('id'); this.eat('p', ':'); this.eat('id', 'string'); this.eat('p', ']'); this.eat('p', ':');
        const of = this.parseType();
        this.accept('p', ';'); this.accept('p', ',');
        fields.push({ index: true, type: of });
        doc = undefined;
        continue;
      }
      let readonly = false;
      if (this.is('id', 'readonly') && (this.peek(1).t === 'id' || this.peek(1).t === 'str')) { this.next(); readonly = true; }
      const nameTok = this.next();
      if (nameTok.t !== 'id' && nameTok.t !== 'str') this.fail('expected field name');
      const optional = this.accept('p', '?');
      this.eat('p', ':');
      const type = this.parseType();
      this.accept('p', ';'); this.accept('p', ',');
      fields.push({ name: nameTok.v, optional, readonly, doc, type });
      doc = undefined;
    }
    return fields;
  }

  parseType() {
    const alts = [this.parsePostfix()];
    while (this.accept('p', '|')) alts.push(this.parsePostfix());
    return alts.length === 1 ? alts[0] : { k: 'union', of: alts };
  }

  parsePostfix() {
    let t = this.parsePrimary();
    while (this.is('p', '[') && this.peek(1)?.t === 'p' && this.peek(1).v === ']') { this.next(); this.next(); t = { k: 'array', of: t }; }
    return t;
  }

  parsePrimary() {
    const tok = this.peek();
    if (!tok) this.fail('unexpected EOF in type');
    if (tok.t === 'str') { this.next(); return { k: 'lit', value: tok.v }; }
    if (tok.t === 'p' && tok.v === '(') { this.next(); const t = this.parseType(); this.eat('p', ')'); return t; }
    if (tok.t === 'p' && tok.v === '{') {
      this.next();
      const members = this.parseMembers();
      if (members.length === 0) return { k: 'object' };
      if (members.length === 1 && members[0].index) return { k: 'map', of: members[0].type };
      this.fail('inline object types with named members are not supported');
    }
    if (tok.t === 'id') {
      this.next();
      if (tok.v === 'string' || tok.v === 'number' || tok.v === 'boolean') return { k: 'prim', name: tok.v };
      if (tok.v === 'Array' || tok.v === 'ReadonlyArray') { this.eat('p', '<'); const of = this.parseType(); this.eat('p', '>'); return { k: 'array', of }; }
      if (tok.v === 'Record') { this.eat('p', '<'); this.eat('id', 'string'); this.eat('p', ','); const of = this.parseType(); this.eat('p', '>'); return { k: 'map', of }; }
      if (tok.v === 'any' || tok.v === 'unknown' || tok.v === 'object') return { k: 'object' };
      return { k: 'ref', name: tok.v };
    }
    this.fail('unexpected token in type');
  }
}

// ---------------------------------------------------------------------------------------------
// Naming
// ---------------------------------------------------------------------------------------------

/** kubernetes-types module path ("core/v1", "meta/v1", "api/resource", "runtime") → OpenAPI package prefix. */
function packageOf(mod) {
  if (mod === 'meta/v1') return 'io.k8s.apimachinery.pkg.apis.meta.v1';
  if (mod === 'api/resource') return 'io.k8s.apimachinery.pkg.api.resource';
  if (mod === 'runtime') return 'io.k8s.apimachinery.pkg.runtime';
  if (mod === 'version') return 'io.k8s.apimachinery.pkg.version';
  if (mod.startsWith('apiextensions/')) return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${mod.split('/')[1]}`;
  const [group, version] = mod.split('/');
  if (!version) throw new Error(`unknown module ${mod}`);
  return `io.k8s.api.${group}.${version}`;
}

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
const REF = '#/components/schemas/';

function listFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Schema building
// ---------------------------------------------------------------------------------------------

function gvkOfApiVersion(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return { group, kind, version };
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

export function generate() {
  const dir = typesDir();
  const files = listFiles(dir);
  /** @type {Map<string, {pkg: string, decl: any, mod: string, scope: Map<string,string>}>} */
  const decls = new Map();
  const parsed = [];
  for (const f of files) {
    const mod = relative(dir, f).split(sep).join('/').replace(/\.d\.ts$/, '');
    const { imports, decls: ds } = new Parser(tokenize(readFileSync(f, 'utf8')), mod).parseFile();
    const pkg = packageOf(mod);
    const scope = new Map(); // local name → full schema name
    for (const d of ds) scope.set(d.name, `${pkg}.${d.name}`);
    for (const imp of imports) {
      const target = join(dirname(mod), imp.from).split(sep).join('/').replace(/^\.\//, '');
      for (const nm of imp.names) scope.set(nm, `${packageOf(target)}.${nm}`);
    }
    parsed.push({ mod, pkg, ds, scope });
  }

  /** @type {Record<string, any>} */
  const schemas = {};
  const unresolved = new Set();
  const apiVersions = new Set();

  for (const { pkg, ds, scope } of parsed) {
    const conv = (type, owner, field) => typeSchema(type, scope, owner, field, unresolved);
    for (const d of ds) {
      const name = `${pkg}.${d.name}`;
      if (d.kind === 'type') {
        schemas[name] = aliasSchema(name, d, conv);
        continue;
      }
      const s = { description: d.doc, type: 'object' };
      if (name === 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON' || name.endsWith('apiextensions.v1beta1.JSON')) {
        // Any JSON value: Kubernetes publishes it without a type.
        schemas[name] = { description: d.doc };
        continue;
      }
      const props = {};
      const required = [];
      let apiVersion;
      let kind;
      for (const f of d.fields) {
        if (f.index) { s.additionalProperties = conv(f.type, d.name, '*'); continue; }
        let p;
        if (f.type.k === 'lit' && (f.name === 'apiVersion' || f.name === 'kind')) {
          if (f.name === 'apiVersion') apiVersion = f.type.value; else kind = f.type.value;
          p = { type: 'string' };
        } else p = conv(f.type, d.name, f.name);
        if (f.doc) p = withDescription(p, f.doc);
        props[f.name] = p;
        if (!f.optional) required.push(f.name);
      }
      if (Object.keys(props).length) s.properties = props;
      if (required.length) s.required = required;
      if (apiVersion && kind) {
        s['x-kubernetes-group-version-kind'] = [gvkOfApiVersion(apiVersion, kind)];
        apiVersions.add(apiVersion);
      }
      if (s.description === undefined) delete s.description;
      schemas[name] = s;
    }
  }

  // Types Kubernetes publishes that kubernetes-types inlines.
  schemas[INT_OR_STRING] = {
    description: INT_OR_STRING_DESCRIPTION,
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
  };

  for (const u of unresolved) if (!schemas[u]) throw new Error(`unresolved type reference ${u}`);

  applyTables(schemas, [...apiVersions]);
  const dangling = [];
  const walk = (v, where) => {
    if (Array.isArray(v)) { for (const x of v) walk(x, where); return; }
    if (!v || typeof v !== 'object') return;
    if (typeof v.$ref === 'string' && !schemas[v.$ref.slice(REF.length)]) dangling.push(`${where} -> ${v.$ref}`);
    for (const x of Object.values(v)) walk(x, where);
  };
  for (const [n, s] of Object.entries(schemas)) walk(s, n);
  if (dangling.length) throw new Error(`dangling references:\n${dangling.join('\n')}`);
  return sortKeys(schemas);
}

function aliasSchema(name, d, conv) {
  const base = d.doc ? { description: d.doc } : {};
  if (name === QUANTITY) return { ...base, oneOf: [{ type: 'string' }, { type: 'number' }] };
  if (name === TIME || name === MICRO_TIME) return { ...base, format: 'date-time', type: 'string' };
  // JSONSchemaPropsOrArray / OrBool / OrStringArray: unions Kubernetes publishes as untyped schemas.
  if (d.type.k === 'union') return base;
  return { ...base, ...conv(d.type, d.name, '') };
}

/** A property schema with a description beside it: references get the `allOf` wrapper, as in Kubernetes' v3 documents. */
function withDescription(p, doc) {
  if (p.$ref) return { allOf: [{ $ref: p.$ref }], description: doc };
  return { ...p, description: doc };
}

function typeSchema(type, scope, owner, field, unresolved) {
  switch (type.k) {
    case 'prim':
      if (type.name === 'string') {
        return BYTE_FIELDS.has(`${owner}.${field}`) ? { format: 'byte', type: 'string' } : { type: 'string' };
      }
      if (type.name === 'boolean') return { type: 'boolean' };
      if (FLOAT_FIELDS.has(`${owner}.${field}`)) return { format: 'double', type: 'number' };
      return { format: INT64_FIELDS.has(`${owner}.${field}`) || INT64_FIELDS.has(`*.${field}`) ? 'int64' : 'int32', type: 'integer' };
    case 'lit': return { type: 'string' };
    case 'object': return { type: 'object' };
    case 'array': return { items: typeSchema(type.of, scope, owner, field, unresolved), type: 'array' };
    case 'map': return { additionalProperties: typeSchema(type.of, scope, owner, field, unresolved), type: 'object' };
    case 'union': {
      const names = type.of.map((t) => (t.k === 'prim' ? t.name : t.k)).sort().join('|');
      if (names === 'number|string') return { $ref: REF + INT_OR_STRING };
      throw new Error(`unsupported union in ${owner}.${field}: ${names}`);
    }
    case 'ref': {
      const full = scope.get(type.name);
      if (!full) throw new Error(`unknown type ${type.name} in ${owner}.${field}`);
      unresolved.add(full);
      return { $ref: REF + full };
    }
    default: throw new Error(`bad type node ${JSON.stringify(type)}`);
  }
}

/** Applies keelson's tables: field extensions (patch strategy, list/map types), type extensions, extra GVKs. */
function applyTables(schemas, apiVersions) {
  const problems = [];
  for (const [typeName, props] of Object.entries(EXTRA_PROPERTIES)) {
    const s = schemas[typeName];
    if (!s) { problems.push(`EXTRA_PROPERTIES: no schema ${typeName}`); continue; }
    s.properties = { ...s.properties, ...props };
  }
  for (const [typeName, fields] of Object.entries(FIELD_EXTENSIONS)) {
    const s = schemas[typeName];
    if (!s) { problems.push(`FIELD_EXTENSIONS: no schema ${typeName}`); continue; }
    for (const [field, ext] of Object.entries(fields)) {
      const p = s.properties?.[field];
      if (!p) { problems.push(`FIELD_EXTENSIONS: ${typeName} has no field ${field}`); continue; }
      if ((ext['x-kubernetes-list-map-keys'] || ext['x-kubernetes-patch-merge-key']) && p.type !== 'array') problems.push(`FIELD_EXTENSIONS: ${typeName}.${field} is not a list`);
      Object.assign(p, ext);
    }
  }
  for (const [typeName, ext] of Object.entries(TYPE_EXTENSIONS)) {
    const s = schemas[typeName];
    if (!s) { problems.push(`TYPE_EXTENSIONS: no schema ${typeName}`); continue; }
    Object.assign(s, ext);
  }
  for (const [typeName, gvks] of Object.entries(EXTRA_GVKS)) {
    const s = schemas[typeName];
    if (!s) { problems.push(`EXTRA_GVKS: no schema ${typeName}`); continue; }
    s['x-kubernetes-group-version-kind'] = gvks;
  }
  // DeleteOptions / WatchEvent are registered in every group version.
  const gvks = [...new Set(apiVersions)].sort((a, b) => {
    const [ga, va] = a.includes('/') ? a.split('/') : ['', a];
    const [gb, vb] = b.includes('/') ? b.split('/') : ['', b];
    return ga === gb ? (va < vb ? -1 : va > vb ? 1 : 0) : ga < gb ? -1 : 1;
  });
  for (const typeName of EVERY_GROUP_KINDS) {
    const s = schemas[typeName];
    if (!s) { problems.push(`EVERY_GROUP_KINDS: no schema ${typeName}`); continue; }
    const kind = typeName.slice(typeName.lastIndexOf('.') + 1);
    s['x-kubernetes-group-version-kind'] = gvks.map((av) => gvkOfApiVersion(av, kind));
  }
  // Default list type: atomic, for the packages that annotate every list (List.items excepted).
  for (const key of META_ATOMIC) {
    const i = key.lastIndexOf('.');
    const p = schemas[key.slice(0, i)]?.properties?.[key.slice(i + 1)];
    if (!p) problems.push(`META_ATOMIC: no field ${key}`); else p['x-kubernetes-list-type'] ??= 'atomic';
  }
  for (const [name, s] of Object.entries(schemas)) {
    if (!DEFAULT_ATOMIC_LIST_PACKAGES.some((pkg) => name.startsWith(pkg))) continue;
    const isList = (s['x-kubernetes-group-version-kind'] ?? []).some((g) => g.kind.endsWith('List'));
    for (const [field, p] of Object.entries(s.properties ?? {})) {
      if (p.type !== 'array' || p['x-kubernetes-list-type'] || ATOMIC_EXCEPTIONS.has(`${name}.${field}`)) continue;
      if (isList && field === 'items') continue;
      p['x-kubernetes-list-type'] = 'atomic';
    }
  }
  for (const key of [...INT64_FIELDS, ...FLOAT_FIELDS, ...BYTE_FIELDS]) {
    const [t, f] = splitKey(key);
    if (!Object.keys(schemas).some((n) => (t === '*' || n.endsWith(`.${t}`)) && schemas[n].properties?.[f])) problems.push(`format table: no field ${key}`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
}

function splitKey(key) {
  const i = key.indexOf('.');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** One schema per line: small diffs, reasonable size. */
export function serialize(schemas) {
  const names = Object.keys(schemas);
  return '{\n' + names.map((n, i) => `${JSON.stringify(n)}:${JSON.stringify(schemas[n])}${i < names.length - 1 ? ',' : ''}`).join('\n') + '\n}\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  const text = serialize(generate());
  if (process.argv.includes('--check')) {
    const cur = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
    if (cur !== text) { console.error(`${relative(root, OUT)} is stale: run node scripts/gen-schemas.mjs`); process.exit(1); }
    console.log(`${relative(root, OUT)} is up to date`);
  } else {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, text);
    console.log(`wrote ${relative(root, OUT)}: ${Object.keys(JSON.parse(text)).length} schemas, ${text.length} bytes, ${Date.now() - t0} ms`);
  }
}
