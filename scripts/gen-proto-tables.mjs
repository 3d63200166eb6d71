#!/usr/bin/env node
// Generates src/apimachinery/protobuf/proto-tables.json: keelson's table of the protobuf field
// numbers of every built-in kind it decodes from `application/vnd.kubernetes.protobuf` bodies
// (src/apimachinery/protobuf/decode.ts), keyed by proto message name.
//
// This is a tool that was run once by hand; the build does not run it and needs no network. Its
// inputs are local files:
//
//   * The protobuf *descriptors* compiled into a kubectl binary. Go programs built with
//     gogo-protobuf embed every `generated.proto` of k8s.io/api and k8s.io/apimachinery as a
//     gzipped FileDescriptorProto (the `fileDescriptor_…` byte slices). The script scans the
//     binary for gzip members, keeps those that decode as a FileDescriptorProto named
//     `k8s.io/…/generated.proto`, and reads field numbers, types and the gogoproto
//     `(nullable)` option (65001) from them. `nullable=false` marks a non-pointer Go field, whose
//     zero value is always on the wire; its absence marks a pointer (`*int32`, `*bool`, …).
//     Default: /usr/lib/google-cloud-sdk/bin/kubectl.1.32 (the same build kubectl 1.32 sends).
//   * apiextensions.k8s.io/v1 (CustomResourceDefinition) is not linked into kubectl; its
//     descriptor comes from another Go binary that embeds it (default: the Google Cloud SDK's
//     `anthoscli`). That descriptor predates a few fields; SUPPLEMENTS below adds them (numbers
//     as published in generated.proto / the types' protobuf tags).
//   * src/api/generated/schemas.json (keelson's OpenAPI schemas) for JSON property names,
//     `required` lists and inline (embedded) structs, and src/api/resources.ts for the kinds.
//
// Usage: node scripts/gen-proto-tables.mjs [--kubectl PATH] [--crd-binary PATH] [--out FILE]
// Deterministic: messages and fields are emitted sorted, so re-running gives the same bytes.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const KUBECTL = opt('--kubectl', '/usr/lib/google-cloud-sdk/bin/kubectl.1.32');
const CRD_BINARY = opt('--crd-binary', '/usr/lib/google-cloud-sdk/bin/anthoscli');
const OUT = opt('--out', join(root, 'src', 'apimachinery', 'protobuf', 'proto-tables.json'));

// ---------------------------------------------------------------------------------------------
// Minimal protobuf reader for descriptors (standalone: the script runs before any tsc build).
// ---------------------------------------------------------------------------------------------

function fields(buf) {
  const out = [];
  let pos = 0;
  const varint = () => {
    let x = 0n;
    let s = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++];
      x |= BigInt(b & 0x7f) << s;
      s += 7n;
      if (!(b & 0x80)) return x;
    }
  };
  while (pos < buf.length) {
    const k = Number(varint());
    const f = k >> 3;
    const w = k & 7;
    let v;
    if (w === 0) v = varint();
    else if (w === 2) {
      const n = Number(varint());
      if (pos + n > buf.length) throw new Error('truncated bytes');
      v = buf.subarray(pos, pos + n);
      pos += n;
    } else if (w === 5) { v = buf.readUInt32LE(pos); pos += 4; }
    else if (w === 1) { v = buf.readBigUInt64LE(pos); pos += 8; }
    else throw new Error(`wire type ${w}`);
    out.push({ f, v });
  }
  return out;
}
const str = (b) => Buffer.from(b).toString('utf8');
const first = (fs, n) => fs.find((x) => x.f === n)?.v;

// FieldDescriptorProto.Type
const SCALAR = {
  1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool',
  9: 'string', 12: 'bytes', 13: 'uint32', 15: 'sfixed32', 16: 'sfixed64', 17: 'sint32', 18: 'sint64',
};
const TYPE_MESSAGE = 11;
const LABEL_REPEATED = 3;
const GOGO_NULLABLE = 65001;
const GOGO_CUSTOMNAME = 65004;

/** @returns {Map<string, {fields: any[], mapEntry: boolean}>} */
function parseFile(buf, into) {
  const fd = fields(buf);
  const pkg = str(first(fd, 2));
  for (const { f, v } of fd) if (f === 4) parseMessage(v, pkg, into);
  return pkg;
}

function parseMessage(buf, prefix, into) {
  const m = fields(buf);
  const name = `${prefix}.${str(first(m, 1))}`;
  const mopts = first(m, 7);
  const mapEntry = mopts ? fields(Buffer.from(mopts)).some((x) => x.f === 7 && x.v === 1n) : false;
  const fs = [];
  for (const { f, v } of m) {
    if (f === 2) {
      const fl = fields(Buffer.from(v));
      const opts = first(fl, 8) ? fields(Buffer.from(first(fl, 8))) : [];
      const nullableOpt = opts.find((x) => x.f === GOGO_NULLABLE);
      const customName = opts.find((x) => x.f === GOGO_CUSTOMNAME);
      fs.push({
        name: str(first(fl, 1)),
        number: Number(first(fl, 3)),
        repeated: Number(first(fl, 4)) === LABEL_REPEATED,
        type: Number(first(fl, 5)),
        typeName: first(fl, 6) ? str(first(fl, 6)).replace(/^\./, '') : undefined,
        nullable: nullableOpt ? nullableOpt.v !== 0n : true,
        goName: customName ? str(customName.v) : undefined,
      });
    } else if (f === 3) parseMessage(v, name, into);
  }
  into.set(name, { fields: fs, mapEntry });
}

/** All gzipped FileDescriptorProtos named k8s.io/…/generated.proto inside a binary. */
function descriptorsIn(binary, want = () => true) {
  const data = readFileSync(binary);
  const out = [];
  const magic = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
  for (let at = data.indexOf(magic); at >= 0; at = data.indexOf(magic, at + 1)) {
    let raw;
    try {
      // 10-byte gzip header (Go writes no optional fields), then a raw deflate stream.
      raw = inflateRawSync(data.subarray(at + 10, at + 10 + 4 * 1024 * 1024));
    } catch {
      continue;
    }
    if (raw[0] !== 0x0a) continue;
    const n = raw[1];
    const name = raw.subarray(2, 2 + n).toString('latin1');
    if (/^k8s\.io\/.*generated\.proto$/.test(name) && want(name)) out.push({ name, raw });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

const messages = new Map();
for (const d of descriptorsIn(KUBECTL, (n) => !n.includes('apiextensions'))) parseFile(d.raw, messages);
const crd = descriptorsIn(CRD_BINARY, (n) => n.endsWith('apiextensions-apiserver/pkg/apis/apiextensions/v1/generated.proto'));
if (!crd.length) throw new Error(`no apiextensions v1 descriptor in ${CRD_BINARY}`);
parseFile(crd[0].raw, messages);

// Fields added to apiextensions/v1 after the embedded descriptor was built. nullable:false = non-pointer.
const CRD = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';
const SUPPLEMENTS = {
  [`${CRD}.ValidationRule`]: [
    { name: 'messageExpression', number: 3, type: 9, nullable: false },
    { name: 'reason', number: 4, type: 9, nullable: true },
    { name: 'fieldPath', number: 5, type: 9, nullable: false },
    { name: 'optionalOldSelf', number: 6, type: 8, nullable: true },
  ],
  [`${CRD}.CustomResourceDefinitionVersion`]: [
    { name: 'selectableFields', number: 9, type: TYPE_MESSAGE, typeName: `${CRD}.SelectableField`, repeated: true, nullable: false },
  ],
};
messages.set(`${CRD}.SelectableField`, { fields: [{ name: 'jsonPath', number: 1, type: 9, nullable: false }], mapEntry: false });
for (const [msg, extra] of Object.entries(SUPPLEMENTS)) {
  const m = messages.get(msg);
  if (!m) throw new Error(`supplement target ${msg} missing`);
  for (const f of extra) if (!m.fields.some((x) => x.number === f.number)) m.fields.push({ repeated: false, ...f });
}

const schemas = JSON.parse(readFileSync(join(root, 'src', 'api', 'generated', 'schemas.json'), 'utf8'));

// Kinds: every built-in resource kind plus the subresource/review kinds clients POST.
const resourcesSrc = readFileSync(join(root, 'src', 'api', 'resources.ts'), 'utf8');
const kinds = [...resourcesSrc.matchAll(/\{ gv: '([^']+)', kind: '([^']+)'/g)].map((m) => [m[1], m[2]]);
kinds.push(
  ['autoscaling/v1', 'Scale'],
  ['policy/v1', 'Eviction'],
  ['v1', 'Binding'],
  ['authentication.k8s.io/v1', 'TokenRequest'],
  ['authentication.k8s.io/v1', 'TokenReview'],
  ['authentication.k8s.io/v1', 'SelfSubjectReview'],
  ['authentication.k8s.io/v1beta1', 'TokenReview'],
  ['authentication.k8s.io/v1beta1', 'SelfSubjectReview'],
  ['authentication.k8s.io/v1alpha1', 'SelfSubjectReview'],
  ['authorization.k8s.io/v1', 'SelfSubjectAccessReview'],
  ['authorization.k8s.io/v1', 'SelfSubjectRulesReview'],
  ['authorization.k8s.io/v1', 'SubjectAccessReview'],
  ['authorization.k8s.io/v1', 'LocalSubjectAccessReview'],
  ['authorization.k8s.io/v1beta1', 'SelfSubjectAccessReview'],
  ['authorization.k8s.io/v1beta1', 'SelfSubjectRulesReview'],
  ['authorization.k8s.io/v1beta1', 'SubjectAccessReview'],
  ['authorization.k8s.io/v1beta1', 'LocalSubjectAccessReview'],
  ['meta.k8s.io/v1', 'DeleteOptions'],
  ['v1', 'DeleteOptions'],
);

const GROUP_PKG = {
  '': 'core', 'apps': 'apps', 'batch': 'batch', 'autoscaling': 'autoscaling', 'policy': 'policy',
  'networking.k8s.io': 'networking', 'rbac.authorization.k8s.io': 'rbac', 'storage.k8s.io': 'storage',
  'coordination.k8s.io': 'coordination', 'events.k8s.io': 'events', 'scheduling.k8s.io': 'scheduling',
  'discovery.k8s.io': 'discovery', 'node.k8s.io': 'node', 'certificates.k8s.io': 'certificates',
  'authorization.k8s.io': 'authorization', 'authentication.k8s.io': 'authentication',
  'admissionregistration.k8s.io': 'admissionregistration', 'flowcontrol.apiserver.k8s.io': 'flowcontrol',
};

function protoMessageFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (kind === 'DeleteOptions') return 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions';
  if (group === 'apiextensions.k8s.io') return `${CRD.replace(/\.v1$/, '')}.${version}.${kind}`;
  const pkg = GROUP_PKG[group];
  if (!pkg) throw new Error(`no proto package for group ${group}`);
  return `k8s.io.api.${pkg}.${version}.${kind}`;
}

function schemaNameOf(msg) {
  if (msg.startsWith('k8s.io.apiextensions_apiserver.')) return `io.k8s.apiextensions-apiserver.${msg.slice('k8s.io.apiextensions_apiserver.'.length)}`;
  return `io.${msg}`.replace(/^io\.k8s\.io\./, 'io.k8s.');
}

/** The schema of a message, falling back to the same type in v1 (authorization v1beta1 has no schemas). */
function schemaOf(msg) {
  const name = schemaNameOf(msg);
  if (schemas[name]) return { name, schema: schemas[name] };
  const v1 = name.replace(/\.v\d+(alpha|beta)\d+\./, '.v1.');
  if (schemas[v1]) return { name: v1, schema: schemas[v1] };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Special messages (decoded to JSON scalars/values, not objects)
// ---------------------------------------------------------------------------------------------

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const SPECIAL = {
  [`${META}.Time`]: 'time',
  [`${META}.MicroTime`]: 'microTime',
  [`${META}.Duration`]: 'duration',
  [`${META}.FieldsV1`]: 'fieldsV1',
  'k8s.io.apimachinery.pkg.api.resource.Quantity': 'quantity',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'intOrString',
  'k8s.io.apimachinery.pkg.runtime.RawExtension': 'rawExtension',
  [`${CRD}.JSON`]: 'json',
  [`${CRD}.JSONSchemaPropsOrArray`]: 'schemaOrArray',
  [`${CRD}.JSONSchemaPropsOrBool`]: 'schemaOrBool',
  [`${CRD}.JSONSchemaPropsOrStringArray`]: 'schemaOrStringArray',
};

/** Go named slice types (`type ExtraValue []string`) are messages {repeated items = 1} on the wire, arrays in JSON. */
function isItemsWrapper(name, m) {
  return !SPECIAL[name] && m.fields.length === 1 && m.fields[0].name === 'items' && m.fields[0].number === 1 &&
    m.fields[0].repeated && !schemaOf(name);
}

// ---------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------

const kebab = (s) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The JSON property a proto field name stands for in a schema's properties. go-to-protobuf names
 * fields after the JSON tag, but not always with the same case (`aPIGroup`, `uID`, `Webhooks`),
 * and apiextensions spells `$ref`/`x-kubernetes-…` in ways a proto name cannot.
 */
function jsonNameIn(name, props) {
  if (name in props) return name;
  const lower = name.toLowerCase();
  const ci = Object.keys(props).filter((p) => p.toLowerCase() === lower);
  if (ci.length === 1) return ci[0];
  if (`$${name}` in props) return `$${name}`;
  if (/^x[A-Z]/.test(name) && kebab(name) in props) return kebab(name);
  return undefined;
}

/**
 * Whether a field is a Go embedded struct with `json:",inline"`: its Go name is its type's name
 * and most of its fields (newer ones may postdate the schemas) land in the parent's properties.
 */
function inlinesInto(f, props) {
  const m = messages.get(f.typeName);
  if (!m || !m.fields.length || f.goName !== f.typeName.split('.').pop()) return false;
  const landing = m.fields.filter((x) => jsonNameIn(x.name, props) !== undefined ||
    (x.type === TYPE_MESSAGE && !x.repeated && inlinesInto(x, props)));
  return landing.length * 2 >= m.fields.length;
}

function typeOf(f) {
  if (f.type === TYPE_MESSAGE) return f.typeName;
  const t = SCALAR[f.type];
  if (!t) throw new Error(`unsupported proto type ${f.type} (${f.name})`);
  return t;
}

const out = {};
const warnings = [];
const newer = [];
const queue = [];
const kindsOut = {};
for (const [apiVersion, kind] of kinds) {
  const msg = protoMessageFor(apiVersion, kind);
  if (!messages.has(msg)) { warnings.push(`kind ${apiVersion} ${kind}: no message ${msg}`); continue; }
  kindsOut[`${apiVersion}/${kind}`] = msg;
  queue.push(msg);
}

// Not reachable from the kinds above today, but decode.ts knows how to render it.
queue.push('k8s.io.apimachinery.pkg.apis.meta.v1.Duration');

const seen = new Set();
/** Inline (embedded) message → the schema of the first message it is inlined into. */
const inlineSchema = new Map();
while (queue.length) {
  const name = queue.shift();
  if (seen.has(name)) continue;
  seen.add(name);
  const m = messages.get(name);
  if (!m) throw new Error(`message ${name} not found`);
  const entry = {};
  const own = schemaOf(name);
  if (own && own.name === schemaNameOf(name)) entry.schema = own.name;
  // An inline struct without a schema of its own is checked against the schema it is inlined into.
  const sch = own ?? inlineSchema.get(name);
  if (SPECIAL[name]) entry.special = SPECIAL[name];
  else if (isItemsWrapper(name, m)) entry.special = 'items';
  const props = sch?.schema.properties ?? {};
  const required = new Set(sch?.schema.required ?? []);
  const fieldsOut = {};
  for (const f of [...m.fields].sort((a, b) => a.number - b.number)) {
    const o = { name: f.name };
    const mapType = f.type === TYPE_MESSAGE ? messages.get(f.typeName) : undefined;
    if (mapType?.mapEntry) {
      const k = mapType.fields.find((x) => x.number === 1);
      const v = mapType.fields.find((x) => x.number === 2);
      o.type = 'map';
      o.map = { key: typeOf(k), value: typeOf(v) };
      if (v.type === TYPE_MESSAGE) queue.push(v.typeName);
    } else {
      o.type = typeOf(f);
      if (f.repeated) o.repeated = true;
      if (f.type === TYPE_MESSAGE) queue.push(f.typeName);
      // Pointer fields are on the wire only when set; non-pointer ones always (zero values included).
      if (!f.repeated && f.nullable && f.type !== 12) o.pointer = true;
    }
    // JSON name: the proto field name, unless the schema spells it differently.
    if (!entry.special && sch) {
      const resolved = jsonNameIn(f.name, props);
      if (resolved !== undefined) o.name = resolved;
      else if (f.type === TYPE_MESSAGE && !mapType?.mapEntry && !f.repeated && inlinesInto(f, props)) {
        o.inline = true;
        if (!inlineSchema.has(f.typeName)) inlineSchema.set(f.typeName, sch);
      }
      else if (/^[a-z][a-z0-9]*([A-Z][a-z0-9]+)*$/.test(f.name) || f.name === 'podIPs') newer.push(`${name}.${f.name} (#${f.number})`);
      else warnings.push(`${name}.${f.name} (#${f.number}) has no JSON property in ${sch.name}`);
    } else if (!entry.special && !/^[a-z][a-zA-Z0-9]*$/.test(f.name)) {
      warnings.push(`${name}.${f.name} (#${f.number}): no schema to check the JSON name against`);
    }
    if (required.has(o.name)) o.required = true;
    fieldsOut[f.number] = o;
  }
  entry.fields = fieldsOut;
  out[name] = entry;
}

// Schema properties with no proto field are either TypeMeta (apiVersion, kind) or worth a look.
for (const [name, entry] of Object.entries(out)) {
  if (!entry.schema || entry.special) continue;
  const props = Object.keys(schemas[entry.schema].properties ?? {});
  const have = new Set();
  const collect = (fs) => {
    for (const f of Object.values(fs)) {
      if (f.inline) collect(out[f.type].fields);
      else have.add(f.name);
    }
  };
  collect(entry.fields);
  for (const p of props) if (!have.has(p) && p !== 'apiVersion' && p !== 'kind') warnings.push(`${entry.schema}.${p} has no proto field in ${name}`);
}

const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
const doc = {
  comment: 'Generated by scripts/gen-proto-tables.mjs from the protobuf descriptors embedded in kubectl 1.32 (and apiextensions v1) plus src/api/generated/schemas.json. Field numbers are facts of the Kubernetes wire format.',
  kinds: Object.fromEntries(Object.keys(kindsOut).sort().map((k) => [k, kindsOut[k]])),
  messages: sorted,
};
// One kind / message per line: small diffs when the table is regenerated.
const lines = (o) => Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n');
writeFileSync(OUT, `{\n"comment": ${JSON.stringify(doc.comment)},\n"kinds": {\n${lines(doc.kinds)}\n},\n"messages": {\n${lines(doc.messages)}\n}\n}\n`);
for (const w of warnings) console.warn(`warning: ${w}`);
for (const w of newer) console.warn(`note: ${w} is newer than the schemas; JSON name = proto name`);
console.log(`wrote ${OUT}: ${Object.keys(kindsOut).length} kinds, ${Object.keys(sorted).length} messages`);
