/**
 * OpenAPI v3: `GET /openapi/v3` (the root listing one document per group version) and
 * `GET /openapi/v3/<api/v1 | apis/<group>/<version>>?hash=<HEX>` (the group-version document).
 *
 * What kubectl needs (shared/reference/kubectl-wire.md §0 items 2–3, §1.8):
 *  - every PATCH operation carries `x-kubernetes-group-version-kind` and a `fieldValidation` query
 *    parameter (kubectl then sends fieldValidation=Strict instead of validating client side), and a
 *    requestBody with the patch media types; `application/strategic-merge-patch+json` there makes
 *    client-side apply build its strategic merge patch from this document (built-in kinds only:
 *    custom resources do not take strategic merge patches);
 *  - `api/v1` holds the Namespace PATCH operation (kubectl checks it for CRDs);
 *  - `components.schemas` holds the kind schemas with their GVK extension and everything they
 *    reference (explain renders descriptions from there), in the v3 reference convention.
 *
 * Documents are built lazily, cached, and rebuilt when the resource list or the schema map changes
 * (or after invalidate()). The hash in the root URLs is the uppercase hex SHA-512 of the document
 * bytes; the ETag is that hash, quoted.
 */
import { createHash } from 'node:crypto';
import { BUILTIN_RESOURCES, schemaPackage, type ResourceInfo, type SubresourceInfo } from '../api/resources.js';
import { REF_PREFIX, type OpenAPISchema, type SchemaMap } from '../api/schema-types.js';

export interface OpenAPIDoc { body: string; etag: string; hash: string }

export interface OpenAPIV3Options {
  /** `info.version` of every document. */
  version?: string;
  /** Custom resources get no strategic-merge-patch media type. Default: not one of BUILTIN_RESOURCES. */
  isCustom?: (r: ResourceInfo) => boolean;
}

type Op = Record<string, unknown>;
type PathItem = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string) => ({ $ref: REF_PREFIX + name });
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const PATCH = `${META}.Patch`;
const WATCH_EVENT = `${META}.WatchEvent`;
const API_RESOURCE_LIST = `${META}.APIResourceList`;
/** Meta schemas every group-version document carries. */
const META_ROOTS = [STATUS, DELETE_OPTIONS, PATCH, WATCH_EVENT, API_RESOURCE_LIST, `${META}.ListMeta`, `${META}.ObjectMeta`];

const JSON_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const LIST_TYPES = [...JSON_TYPES, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const WATCH_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const PATCH_TYPES_BUILTIN = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const PATCH_TYPES_CUSTOM = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

// ---- parameters (descriptions are keelson's own) ----------------------------------------------

function query(name: string, type: 'string' | 'integer' | 'boolean', description: string): Op {
  return { description, in: 'query', name, schema: { type, uniqueItems: true } };
}

const P = {
  allowWatchBookmarks: query('allowWatchBookmarks', 'boolean', 'Ask for BOOKMARK watch events carrying the latest resourceVersion. Ignored when not watching.'),
  continue: query('continue', 'string', 'Token from the metadata.continue of a previous chunked list response; fetches the next chunk.'),
  dryRun: query('dryRun', 'string', 'All: run every stage of the request without persisting the result.'),
  fieldManager: query('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields. Required for apply patches.'),
  fieldSelector: query('fieldSelector', 'string', 'Restrict the returned objects by field values (e.g. metadata.name=x). Default: everything.'),
  fieldValidation: query('fieldValidation', 'string',
    'How to treat unknown or duplicate fields in the object: Ignore drops them silently, Warn (default) drops them and returns a warning for each, Strict fails the request with BadRequest.'),
  force: query('force', 'boolean', 'Apply patches only: take ownership of fields other managers own instead of failing with a conflict.'),
  gracePeriodSeconds: query('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted; 0 deletes immediately. Default: the per-kind grace period.'),
  labelSelector: query('labelSelector', 'string', 'Restrict the returned objects by labels. Default: everything.'),
  limit: query('limit', 'integer', 'Maximum number of objects in a list response; metadata.continue is set when more remain.'),
  orphanDependents: query('orphanDependents', 'boolean', 'Deprecated, use propagationPolicy. Orphan the dependents when true.'),
  pretty: query('pretty', 'string', 'Indent the output when true.'),
  propagationPolicy: query('propagationPolicy', 'string', 'Garbage collection of dependents: Orphan, Background or Foreground.'),
  resourceVersion: query('resourceVersion', 'string', 'Serve the request from at least this resource version (see resourceVersionMatch). Default: the latest.'),
  resourceVersionMatch: query('resourceVersionMatch', 'string', 'How resourceVersion applies to a list: NotOlderThan or Exact.'),
  sendInitialEvents: query('sendInitialEvents', 'boolean', 'With watch=true: start the stream with synthetic ADDED events for the current state, then a bookmark.'),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Upper bound on the duration of the list or watch call.'),
  watch: query('watch', 'boolean', 'Stream add, update and delete events instead of returning a list.'),
};

function pathParam(name: string, description: string): Op {
  return { description, in: 'path', name, required: true, schema: { type: 'string', uniqueItems: true } };
}

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion,
  P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector, P.limit,
  P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

const SUBRESOURCE_PARAMS: Record<string, Op[]> = {
  log: [
    query('container', 'string', 'The container to read logs from; may be omitted when the pod has one container.'),
    query('follow', 'boolean', 'Stream the log as it grows.'),
    query('insecureSkipTLSVerifyBackend', 'boolean', 'Do not verify the serving certificate of the kubelet.'),
    query('limitBytes', 'integer', 'Stop after this many bytes.'),
    query('previous', 'boolean', 'Logs of the previous, terminated instance of the container.'),
    query('sinceSeconds', 'integer', 'Only lines newer than this many seconds.'),
    query('stream', 'string', 'All (default), Stdout or Stderr.'),
    query('tailLines', 'integer', 'Only this many lines from the end.'),
    query('timestamps', 'boolean', 'Prefix every line with an RFC3339 timestamp.'),
  ],
  exec: [
    query('command', 'string', 'The command to run, one argument per parameter.'),
    query('container', 'string', 'The container to run in.'),
    query('stderr', 'boolean', 'Stream stderr.'), query('stdin', 'boolean', 'Stream stdin.'),
    query('stdout', 'boolean', 'Stream stdout.'), query('tty', 'boolean', 'Allocate a terminal.'),
  ],
  attach: [
    query('container', 'string', 'The container to attach to.'),
    query('stderr', 'boolean', 'Stream stderr.'), query('stdin', 'boolean', 'Stream stdin.'),
    query('stdout', 'boolean', 'Stream stdout.'), query('tty', 'boolean', 'Allocate a terminal.'),
  ],
  portforward: [query('ports', 'integer', 'Ports to forward.')],
  proxy: [query('path', 'string', 'Path to proxy to.')],
};

// ---- helpers --------------------------------------------------------------------------------

/** Path segment of a group version in /openapi/v3: `api/v1`, `apis/apps/v1`. */
export function gvDocPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const upperFirst = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
/** `rbac.authorization.k8s.io` → `RbacAuthorization`, `` → `Core`. */
function groupCamel(group: string): string {
  if (!group) return 'Core';
  return group.replace(/\.k8s\.io$/, '').split(/[.-]/).map(upperFirst).join('');
}
const lowerFirst = (s: string) => (s ? s[0].toLowerCase() + s.slice(1) : s);

function content(types: string[], schema: object | undefined): Record<string, object> {
  const out: Record<string, object> = {};
  for (const t of types) out[t] = schema ? { schema } : {};
  return out;
}

function okResponses(codes: Record<string, string>, types: string[], schemaName: string | undefined): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [code, description] of Object.entries(codes)) out[code] = { content: content(types, schemaName ? ref(schemaName) : undefined), description };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

function gvk(group: string, version: string, kind: string) {
  return { group, kind, version };
}

// ---- document building ------------------------------------------------------------------------

interface Built { doc: OpenAPIDoc; parsed: object }

export class OpenAPIV3 {
  private cache = new Map<string, Built>();
  private fingerprint = '';
  private schemaRef: SchemaMap | undefined;
  private readonly version: string;
  private readonly isCustom: (r: ResourceInfo) => boolean;

  constructor(private readonly resources: () => ResourceInfo[], private readonly schemas: () => SchemaMap, opts: OpenAPIV3Options = {}) {
    this.version = opts.version ?? 'v1.32.0';
    if (opts.isCustom) this.isCustom = opts.isCustom;
    else {
      const builtin = new Set(BUILTIN_RESOURCES.map((r) => `${r.group}/${r.version}/${r.plural}`));
      this.isCustom = (r) => !builtin.has(`${r.group}/${r.version}/${r.plural}`);
    }
  }

  /** Drops every cached document (call after CRDs or schemas change; changes are also detected). */
  invalidate(): void {
    this.cache.clear();
    this.fingerprint = '';
    this.schemaRef = undefined;
  }

  /** `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}, ...}}` */
  root(): { paths: Record<string, { serverRelativeURL: string }> } {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const p of this.gvPaths()) {
      const b = this.build(p);
      if (b) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${b.doc.hash}` };
    }
    return { paths };
  }

  /** The document of one group version (`api/v1`, `apis/apps/v1`), or undefined when none is served. */
  groupVersion(path: string): OpenAPIDoc | undefined {
    return this.build(path.replace(/^\/+|\/+$/g, ''))?.doc;
  }

  /** The parsed document (shared: do not modify). */
  document(path: string): any {
    return this.build(path.replace(/^\/+|\/+$/g, ''))?.parsed;
  }

  private gvPaths(): string[] {
    const seen = new Set<string>();
    for (const r of this.resources()) seen.add(gvDocPath(r.group, r.version));
    return [...seen];
  }

  private checkFresh(list: ResourceInfo[], schemas: SchemaMap): void {
    const fp = list.map((r) => `${r.group}/${r.version}/${r.plural}/${r.kind}/${r.schemaName}/${r.namespaced ? 1 : 0}/${r.verbs.join(',')}/${r.subresources.map((s) => s.name).join(',')}`).join(';');
    if (fp !== this.fingerprint || schemas !== this.schemaRef) {
      this.cache.clear();
      this.fingerprint = fp;
      this.schemaRef = schemas;
    }
  }

  private build(path: string): Built | undefined {
    const list = this.resources();
    const schemas = this.schemas();
    this.checkFresh(list, schemas);
    const hit = this.cache.get(path);
    if (hit) return hit;
    const rs = list.filter((r) => gvDocPath(r.group, r.version) === path);
    if (!rs.length) return undefined;
    const parsed = this.buildDocument(rs, schemas);
    const body = JSON.stringify(parsed);
    const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
    const built: Built = { doc: { body, etag: `"${hash}"`, hash }, parsed };
    this.cache.set(path, built);
    return built;
  }

  private buildDocument(rs: ResourceInfo[], schemas: SchemaMap): object {
    const { group, version } = rs[0];
    const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const tag = `${lowerFirst(groupCamel(group))}_${version}`;
    const op = `${groupCamel(group)}${upperFirst(version)}`;
    const extra: SchemaMap = {};
    const roots = new Set<string>(META_ROOTS);
    const paths: Record<string, PathItem> = {};

    paths[`${prefix}/`] = {
      get: {
        description: 'get available resources', operationId: `get${op}APIResources`,
        responses: okResponses({ 200: 'OK' }, JSON_TYPES, API_RESOURCE_LIST), tags: [tag],
      },
    };

    const ensureKind = (name: string): string | undefined => {
      if (schemas[name] || extra[name]) { roots.add(name); return name; }
      return undefined;
    };

    for (const r of [...rs].sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0))) {
      const custom = this.isCustom(r);
      const kindSchema = r.schemaName;
      if (!schemas[kindSchema]) extra[kindSchema] = fallbackKind(r);
      roots.add(kindSchema);
      const listName = `${r.schemaName}List`;
      const canList = r.verbs.includes('list') || r.verbs.includes('watch') || r.verbs.includes('deletecollection');
      let listSchema: string | undefined;
      if (canList) {
        if (!schemas[listName]) extra[listName] = fallbackList(r);
        listSchema = listName;
        roots.add(listName);
      }
      const k = gvk(r.group, r.version, r.kind);
      const ns = r.namespaced ? 'Namespaced' : '';
      const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
      const nsParam = r.namespaced ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')] : [];
      const nameParam = pathParam('name', `name of the ${r.kind}`);
      const common = (o: Op) => ({ ...o, tags: [tag] });

      // Collection.
      const coll: PathItem = {};
      if (r.verbs.includes('list')) {
        coll.get = common({
          description: `list or watch objects of kind ${r.kind}`, operationId: `list${op}${ns}${r.kind}`, parameters: LIST_PARAMS,
          responses: okResponses({ 200: 'OK' }, LIST_TYPES, listSchema),
          'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': k,
        });
      }
      if (r.verbs.includes('create')) {
        coll.post = common({
          description: `create a ${r.kind}`, operationId: `create${op}${ns}${r.kind}`, parameters: WRITE_PARAMS,
          requestBody: { content: content(['*/*'], ref(kindSchema)), required: true },
          responses: okResponses({ 200: 'OK', 201: 'Created', 202: 'Accepted' }, JSON_TYPES, kindSchema),
          'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': k,
        });
      }
      if (r.verbs.includes('deletecollection')) {
        coll.delete = common({
          description: `delete collection of ${r.kind}`, operationId: `delete${op}Collection${ns}${r.kind}`, parameters: DELETE_COLLECTION_PARAMS,
          requestBody: { content: content(['*/*'], ref(DELETE_OPTIONS)) },
          responses: okResponses({ 200: 'OK' }, JSON_TYPES, STATUS),
          'x-kubernetes-action': 'deletecollection', 'x-kubernetes-group-version-kind': k,
        });
      }
      if (Object.keys(coll).length) paths[base] = { ...coll, parameters: [...nsParam, P.pretty] };

      // Across namespaces.
      if (r.namespaced && r.verbs.includes('list')) {
        paths[`${prefix}/${r.plural}`] = {
          get: common({
            description: `list or watch objects of kind ${r.kind}`, operationId: `list${op}${r.kind}ForAllNamespaces`,
            responses: okResponses({ 200: 'OK' }, LIST_TYPES, listSchema),
            'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': k,
          }),
          parameters: [...LIST_PARAMS, P.pretty],
        };
      }

      // Item.
      const item: PathItem = {};
      if (r.verbs.includes('get')) {
        item.get = common({
          description: `read the specified ${r.kind}`, operationId: `read${op}${ns}${r.kind}`,
          responses: okResponses({ 200: 'OK' }, JSON_TYPES, kindSchema),
          'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': k,
        });
      }
      if (r.verbs.includes('update')) item.put = replaceOp(`replace the specified ${r.kind}`, `replace${op}${ns}${r.kind}`, kindSchema, k, tag);
      if (r.verbs.includes('patch')) item.patch = patchOp(`partially update the specified ${r.kind}`, `patch${op}${ns}${r.kind}`, kindSchema, k, tag, custom);
      if (r.verbs.includes('delete')) {
        item.delete = common({
          description: `delete a ${r.kind}`, operationId: `delete${op}${ns}${r.kind}`, parameters: DELETE_PARAMS,
          requestBody: { content: content(['*/*'], ref(DELETE_OPTIONS)) },
          responses: okResponses({ 200: 'OK', 202: 'Accepted' }, JSON_TYPES, STATUS),
          'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': k,
        });
      }
      if (Object.keys(item).length) paths[`${base}/{name}`] = { ...item, parameters: [nameParam, ...nsParam, P.pretty] };

      // Legacy watch paths (/watch/...), still published by Kubernetes.
      if (r.verbs.includes('watch')) {
        const wbase = r.namespaced ? `${prefix}/watch/namespaces/{namespace}/${r.plural}` : `${prefix}/watch/${r.plural}`;
        const watchOp = (what: string, id: string, action: string) => common({
          description: what, operationId: id, responses: okResponses({ 200: 'OK' }, WATCH_TYPES, WATCH_EVENT),
          'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': k,
        });
        paths[wbase] = { get: watchOp(`watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, `watch${op}${ns}${r.kind}List`, 'watchlist'), parameters: [...LIST_PARAMS, ...nsParam, P.pretty] };
        paths[`${wbase}/{name}`] = { get: watchOp(`watch changes to an object of kind ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, `watch${op}${ns}${r.kind}`, 'watch'), parameters: [...LIST_PARAMS, nameParam, ...nsParam, P.pretty] };
        if (r.namespaced) {
          paths[`${prefix}/watch/${r.plural}`] = { get: watchOp(`watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, `watch${op}${r.kind}ListForAllNamespaces`, 'watchlist'), parameters: [...LIST_PARAMS, P.pretty] };
        }
      }

      // Subresources.
      for (const sr of r.subresources) {
        const sub = subresourcePath(r, sr, { base, op, ns, tag, nameParam, nsParam, custom, schemas, extra, ensureKind });
        if (sub) {
          for (const n of sub.roots) roots.add(n);
          Object.assign(paths, sub.paths);
        }
      }
    }

    const all: SchemaMap = { ...schemas, ...extra };
    const components: SchemaMap = {};
    const queue = [...roots];
    while (queue.length) {
      const name = queue.pop()!;
      if (components[name] || !all[name]) continue;
      components[name] = all[name];
      collectRefs(all[name], queue);
    }
    const sortedPaths: Record<string, PathItem> = {};
    for (const p of Object.keys(paths).sort()) sortedPaths[p] = paths[p];
    // explain and client-side apply find kinds by their GVK extension: make sure served kinds carry it.
    for (const r of rs) {
      for (const [name, kind] of [[r.schemaName, r.kind], [`${r.schemaName}List`, r.listKind]] as const) {
        const s = components[name];
        if (s && !s['x-kubernetes-group-version-kind']) components[name] = { ...s, 'x-kubernetes-group-version-kind': [gvk(r.group, r.version, kind)] };
      }
    }
    const sortedSchemas: SchemaMap = {};
    for (const n of Object.keys(components).sort()) sortedSchemas[n] = components[n];
    return {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: this.version },
      paths: sortedPaths,
      components: { schemas: sortedSchemas },
    };
  }
}

function replaceOp(description: string, operationId: string, schema: string, k: object, tag: string): Op {
  return {
    description, operationId, parameters: WRITE_PARAMS,
    requestBody: { content: content(['*/*'], ref(schema)), required: true },
    responses: okResponses({ 200: 'OK', 201: 'Created' }, JSON_TYPES, schema),
    tags: [tag], 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': k,
  };
}

function patchOp(description: string, operationId: string, schema: string, k: object, tag: string, custom: boolean): Op {
  return {
    description, operationId, parameters: PATCH_PARAMS,
    requestBody: { content: content(custom ? PATCH_TYPES_CUSTOM : PATCH_TYPES_BUILTIN, ref(PATCH)), required: true },
    responses: okResponses({ 200: 'OK', 201: 'Created' }, JSON_TYPES, schema),
    tags: [tag], 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': k,
  };
}

interface SubCtx {
  base: string; op: string; ns: string; tag: string; nameParam: Op; nsParam: Op[]; custom: boolean;
  schemas: SchemaMap; extra: SchemaMap;
  ensureKind: (name: string) => string | undefined;
}

const CONNECT = new Set(['exec', 'attach', 'portforward', 'proxy']);
const HTTP_OF_VERB: Record<string, string> = { get: 'get', update: 'put', patch: 'patch', create: 'post', delete: 'delete' };
const OP_OF_VERB: Record<string, string> = { get: 'read', update: 'replace', patch: 'patch', create: 'create', delete: 'delete' };
const ACTION_OF_VERB: Record<string, string> = { get: 'get', update: 'put', patch: 'patch', create: 'post', delete: 'delete' };

function subresourcePath(r: ResourceInfo, sr: SubresourceInfo, c: SubCtx): { paths: Record<string, PathItem>; roots: string[] } | undefined {
  const path = `${c.base}/{name}/${sr.name}`;
  const suffix = `${r.kind}${upperFirst(sr.name)}`;
  const k = gvk(sr.group, sr.version, sr.kind);
  const schemaName = c.ensureKind(`${schemaPackage(sr.group, sr.version)}.${sr.kind}`);
  const roots = schemaName ? [schemaName] : [];
  const item: PathItem = {};
  const params = [c.nameParam, ...c.nsParam];

  if (CONNECT.has(sr.name)) {
    const qp = SUBRESOURCE_PARAMS[sr.name] ?? [];
    for (const verb of sr.verbs) {
      const method = HTTP_OF_VERB[verb];
      if (!method) continue;
      item[method] = {
        description: `connect ${method.toUpperCase()} requests to ${sr.name} of ${r.kind}`,
        operationId: `connect${c.op}${upperFirst(method)}${c.ns}${suffix}`,
        responses: { 200: { content: { '*/*': { schema: { type: 'string' } } }, description: 'OK' }, 401: { description: 'Unauthorized' } },
        tags: [c.tag], 'x-kubernetes-action': 'connect', 'x-kubernetes-group-version-kind': k,
      };
    }
    const out: Record<string, PathItem> = { [path]: { ...item, parameters: [...params, ...qp] } };
    if (sr.name === 'proxy') {
      const withPath: PathItem = {};
      for (const [m, o] of Object.entries(item)) withPath[m] = { ...(o as Op), operationId: `${(o as Op).operationId}WithPath` };
      out[`${path}/{path}`] = { ...withPath, parameters: [...params, pathParam('path', 'path to the resource')] };
    }
    return { paths: out, roots };
  }

  if (sr.name === 'log') {
    item.get = {
      description: `read log of the specified ${r.kind}`, operationId: `read${c.op}${c.ns}${suffix}`,
      responses: { 200: { content: { 'text/plain': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'string' } }, 'application/yaml': { schema: { type: 'string' } }, 'application/vnd.kubernetes.protobuf': { schema: { type: 'string' } } }, description: 'OK' }, 401: { description: 'Unauthorized' } },
      tags: [c.tag], 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk(r.group, r.version, r.kind),
    };
    return { paths: { [path]: { ...item, parameters: [...params, ...SUBRESOURCE_PARAMS.log, P.pretty] } }, roots };
  }

  if (!schemaName) return undefined;
  for (const verb of sr.verbs) {
    const method = HTTP_OF_VERB[verb];
    if (!method) continue;
    const id = `${OP_OF_VERB[verb]}${c.op}${c.ns}${suffix}`;
    if (verb === 'patch') item.patch = patchOp(`partially update ${sr.name} of the specified ${r.kind}`, id, schemaName, k, c.tag, c.custom);
    else if (verb === 'update') item.put = replaceOp(`replace ${sr.name} of the specified ${r.kind}`, id, schemaName, k, c.tag);
    else if (verb === 'get') {
      item.get = {
        description: `read ${sr.name} of the specified ${r.kind}`, operationId: id,
        responses: okResponses({ 200: 'OK' }, JSON_TYPES, schemaName),
        tags: [c.tag], 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': k,
      };
    } else {
      item[method] = {
        description: `${verb} ${sr.name} of a ${r.kind}`, operationId: id, parameters: WRITE_PARAMS,
        requestBody: { content: content(['*/*'], ref(schemaName)), required: true },
        responses: okResponses(verb === 'create' ? { 200: 'OK', 201: 'Created', 202: 'Accepted' } : { 200: 'OK' }, JSON_TYPES, schemaName),
        tags: [c.tag], 'x-kubernetes-action': ACTION_OF_VERB[verb], 'x-kubernetes-group-version-kind': k,
      };
    }
  }
  if (!Object.keys(item).length) return undefined;
  return { paths: { [path]: { ...item, parameters: [...params, P.pretty] } }, roots };
}

function collectRefs(v: unknown, out: string[]): void {
  if (Array.isArray(v)) { for (const x of v) collectRefs(x, out); return; }
  if (!v || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  if (typeof o.$ref === 'string' && o.$ref.startsWith(REF_PREFIX)) out.push(o.$ref.slice(REF_PREFIX.length));
  for (const x of Object.values(o)) if (x && typeof x === 'object') collectRefs(x, out);
}

/** Schema for a kind the schema map lacks (e.g. a custom resource without one): any fields. */
function fallbackKind(r: ResourceInfo): OpenAPISchema {
  return {
    description: `${r.kind} of ${r.group ? `${r.group}/` : ''}${r.version}`,
    properties: {
      apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
      kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
      metadata: { allOf: [ref(`${META}.ObjectMeta`)], description: "Standard object's metadata." },
    },
    type: 'object',
    'x-kubernetes-group-version-kind': [gvk(r.group, r.version, r.kind)],
    'x-kubernetes-preserve-unknown-fields': true,
  };
}

/** `<Kind>List` schema (custom resources have none in the map). */
function fallbackList(r: ResourceInfo): OpenAPISchema {
  return {
    description: `${r.listKind} is a list of ${r.kind}`,
    properties: {
      apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
      items: { description: `List of ${r.plural}.`, items: ref(r.schemaName), type: 'array' },
      kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
      metadata: { allOf: [ref(`${META}.ListMeta`)], description: 'Standard list metadata.' },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [gvk(r.group, r.version, r.listKind)],
  };
}
