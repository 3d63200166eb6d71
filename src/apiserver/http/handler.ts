/**
 * The API server's HTTP handler: routing of Kubernetes paths, authentication → authorization →
 * the resource's store, content negotiation, watch streaming. Works the same over HTTP/2 and
 * HTTP/1.1 (Node's compatibility API). Every failure is written as a Kubernetes Status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { randomUUID } from 'node:crypto';
import { stringify as toYAML } from 'yaml';
import {
  StatusError, badRequest, fieldError, internalError, invalid, methodNotAllowed, pathNotFound, unauthorized, forbidden,
  notFound, type Status,
} from '../../apimachinery/errors.js';
import type { ResourceInfo } from '../../api/resources.js';
import { gvString } from '../../api/resources.js';
import type { SchemaMap } from '../../api/schema-types.js';
import { parseLabelSelector, formatLabelSelector } from '../../apimachinery/labels.js';
import { parseFieldSelector } from '../../apimachinery/fields.js';
import { convertFieldSelector } from '../../api/field-attrs.js';
import { applyJsonPatch } from '../../apimachinery/patch/json-patch.js';
import { applyMergePatch } from '../../apimachinery/patch/merge-patch.js';
import { applyStrategicMergePatch } from '../../apimachinery/patch/strategic-merge-patch.js';
import { checkObject, pruneUnknown, fieldErrors, firstTypeError, decodeErrorMessage } from '../../api/field-check.js';
import { toTable, toTableWithColumns, type TableOptions } from '../tables/table.js';
import { ExpiredError, withResourceVersion, type CacheEvent } from '../watch-cache.js';

/** Encoded watch lines per cache event, shared by all JSON watchers of that resource. */
const EVENT_LINES = new WeakMap<CacheEvent, Map<string, string>>();
import type { WatchCache } from '../watch-cache.js';
import type { ResourceStore, WriteContext, DeleteOptions, ListOptions } from '../../registry/store.js';
import { parseRV } from '../../registry/store.js';
import { ignoredPathsFor } from '../../registry/strategy.js';
import type { Discovery, Doc } from '../discovery.js';
import { negotiate, AGGREGATED_V2, AGGREGATED_V2BETA1, type ResponseFormat } from './negotiation.js';
import { readBody, decodeObjectBody, mediaType, parseJSON, parseYAML } from './body.js';
import type { Authenticator } from '../auth/authn.js';
import type { Authorizer, AuthorizationAttributes } from '../auth/authz.js';
import { forbiddenMessage } from '../auth/authz.js';
import type { UserInfo } from '../admission/admission.js';
import { logger } from '../../util/log.js';
import { review, type ReviewDeps } from '../../registry/reviews/reviews.js';
import { evictPod } from '../../registry/core/pods/eviction.js';
import { applyConfiguration, validateFieldManager } from '../../apimachinery/managedfields/apply.js';
// -- pod log/exec/attach/portforward via the kubelet (node-proxy.ts) --
import { ServerResponse as Http1ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { NODE_PROXY_SUBRESOURCES, type NodeProxy, type UpgradeConnection } from './node-proxy.js';
/** The raw connection of an HTTP/1.1 upgrade request, by request (see handleUpgrade). */
const UPGRADES = new WeakMap<object, UpgradeConnection>();

const log = logger('apiserver');

export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;

export interface OpenAPIProvider {
  root(): unknown;
  groupVersion(path: string): { body: string; etag: string } | undefined;
}

export interface HandlerDeps {
  stores: () => Map<string, ResourceStore>;
  discovery: Discovery;
  openapi: OpenAPIProvider;
  authn: Authenticator;
  authz: Authorizer;
  cache: WatchCache;
  schemas: () => SchemaMap;
  serverAddress: string;
  version: Record<string, string>;
  ready: () => boolean;
  /** Server-side watch timeout range when the client gives none. */
  watchTimeoutSeconds?: [number, number];
  /** Create-only resources answered without storage (reviews, bindings), keyed group/version/plural. */
  virtual: Map<string, ResourceInfo>;
  reviews: ReviewDeps;
  /** The aggregation layer: group/versions served by other API servers. */
  aggregator?: { route(group: string, version: string): unknown | undefined; proxy(target: unknown, req: IncomingMessage, res: Res, pathAndQuery: string, user: UserInfo): void };
  /** Resolves once a CRD write is being served (its stores exist), so clients can use it at once. */
  afterCRDWrite?: () => Promise<void>;
  /** Pod log/exec/attach/portforward, served by the pod's kubelet. */
  nodeProxy?: NodeProxy;
}

const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);
const isPublic = (p: string) => PUBLIC_PATHS.has(p) || /^\/(healthz|livez|readyz)\//.test(p);

function writeJSON(res: Res, code: number, body: string, extraHeaders: Record<string, string> = {}, contentType = 'application/json'): void {
  if (res.headersSent) { res.end(); return; }
  (res as ServerResponse).writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', ...extraHeaders });
  res.end(body);
}

function writeStatus(res: Res, err: StatusError): void {
  const headers: Record<string, string> = {};
  if (err.details?.retryAfterSeconds) headers['Retry-After'] = String(err.details.retryAfterSeconds);
  writeJSON(res, err.code, JSON.stringify(err.toStatus()), headers);
}

interface Route {
  info: ResourceInfo;
  /** Undefined for virtual (create-only, never stored) resources such as reviews. */
  store: ResourceStore;
  virtual?: boolean;
  namespace?: string;
  name?: string;
  subresource?: string;
  legacyWatch: boolean;
  /** nodes/{name}/proxy/{path}: the path after proxy/. */
  proxyPath?: string;
}

/** Query booleans as Kubernetes converts them: present and not "false"/"0" (any case) is true. */
const boolParam = (v: string | null) => v !== null && !['false', '0'].includes(v.toLowerCase());

/** Reads a simple `.a.b.c` JSON path (the form scale subresource paths take). */
function getPath(obj: any, path: string): any {
  let cur = obj;
  for (const f of path.replace(/^\./, '').split('.')) { if (cur === null || typeof cur !== 'object') return undefined; cur = cur[f]; }
  return cur;
}
function setPath(obj: any, path: string, value: unknown): void {
  const fs = path.replace(/^\./, '').split('.');
  let cur = obj;
  for (const f of fs.slice(0, -1)) { if (cur[f] === null || typeof cur[f] !== 'object') cur[f] = {}; cur = cur[f]; }
  cur[fs[fs.length - 1]] = value;
}

export class APIHandler {
  constructor(private deps: HandlerDeps) {}

  handle = (req: Req, res: Res): void => {
    const started = Date.now();
    (res as ServerResponse).setHeader?.('Audit-Id', randomUUID());
    this.dispatch(req, res).catch((err) => {
      if (err instanceof StatusError) return writeStatus(res, err);
      log.error('request failed', { method: req.method, url: req.url, err });
      writeStatus(res, internalError((err as Error).message ?? String(err)));
    }).finally(() => {
      log.debug('request', { method: req.method, url: req.url, code: res.statusCode, ms: Date.now() - started });
    });
  };

  /**
   * The server's 'upgrade' event (HTTP/1.1 requests with Upgrade: SPDY/3.1 or websocket, as
   * kubectl sends for exec/attach/port-forward). The request goes through the normal handler
   * with an HTTP/1.1 response on its connection, so authentication, authorization and errors
   * are as for any request; the node proxy takes the connection over when it relays. The
   * connection closes after any ordinary response.
   */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const res = new Http1ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    let released = false;
    res.on('finish', () => { if (!released) { socket.end(); setTimeout(() => socket.destroy(), 10_000).unref(); } });
    socket.on('error', () => socket.destroy());
    UPGRADES.set(req, { socket, head, release: () => { released = true; res.detachSocket(socket as Socket); } });
    this.handle(req, res);
  };

  private async dispatch(req: Req, res: Res): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://keelson');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = (req.method ?? 'GET').toUpperCase();

    if (isPublic(path)) return this.publicEndpoint(path, res);

    const user = await this.deps.authn.authenticate(req as any);
    if (!user) throw unauthorized();

    const agg = /^\/apis\/([^/]+)\/([^/]+)(\/|$)/.exec(path);
    if (agg && this.deps.aggregator) {
      const target = this.deps.aggregator.route(agg[1], agg[2]);
      if (target) return this.deps.aggregator.proxy(target, req as IncomingMessage, res, url.pathname + url.search, user);
    }

    if (path === '/api' || path === '/apis' || path === '/api/v1' || /^\/apis\/[^/]+(\/[^/]+)?$/.test(path)) {
      if (method !== 'GET') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
      await this.authorizeNonResource(user, 'get', path);
      return this.discoveryEndpoint(req, res, path);
    }
    if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) {
      await this.authorizeNonResource(user, 'get', path);
      return this.openapiEndpoint(req, res, path);
    }
    if (path === '/openapi/v2' || path === '/swagger.json') {
      // kubectl only accepts v2 as protobuf; with a complete v3, v2 is absent (404).
      throw pathNotFound();
    }
    if (path.startsWith('/api/') || path.startsWith('/apis/')) {
      const route = this.route(path);
      if (!route) throw pathNotFound();
      return this.resourceRequest(req, res, url, method, route, user);
    }
    if (path === '/debug/memory' && process.env.KEELSON_DEBUG_MEMORY === '1') {
      // Benchmarks only: memory after a full collection (node --expose-gc).
      (globalThis as any).gc?.();
      return writeJSON(res, 200, JSON.stringify({ ...process.memoryUsage(), objects: this.deps.cache.size() }));
    }
    if (path === '/') {
      const paths = ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/readyz', '/version', '/openapi/v3'];
      return writeJSON(res, 200, JSON.stringify({ paths }));
    }
    throw pathNotFound();
  }

  private publicEndpoint(path: string, res: Res): void {
    if (path === '/version') return writeJSON(res, 200, JSON.stringify(this.deps.version, null, 2));
    const ok = this.deps.ready();
    if (/\/verbose$/.test(path)) {
      const name = path.split('/')[1];
      const body = `[+]ping ok\n[+]etcd ok\n[+]watch-cache ${ok ? 'ok' : 'not ready'}\n${name} check ${ok ? 'passed' : 'failed'}\n`;
      (res as ServerResponse).writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body);
      return;
    }
    (res as ServerResponse).writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(ok ? 'ok' : 'not ready');
  }

  private async authorizeNonResource(user: UserInfo, verb: string, path: string): Promise<void> {
    const a: AuthorizationAttributes = { user, verb, resourceRequest: false, path };
    const d = await this.deps.authz.authorize(a);
    if (d.decision !== 'allow') throw forbidden(forbiddenMessage(a));
  }

  private sendDoc(req: Req, res: Res, d: Doc, contentType = 'application/json'): void {
    const inm = req.headers['if-none-match'];
    if (inm && inm === d.etag) {
      (res as ServerResponse).writeHead(304, { ETag: d.etag, 'Content-Type': contentType });
      res.end();
      return;
    }
    writeJSON(res, 200, d.body, { ETag: d.etag, Vary: 'Accept' }, contentType);
  }

  private discoveryEndpoint(req: Req, res: Res, path: string): void {
    const accept = req.headers['accept'] as string | undefined;
    if (path === '/api' || path === '/apis') {
      const fmt = negotiate(accept, { aggregated: true });
      if (fmt.kind === 'aggregated') {
        return this.sendDoc(req, res, this.deps.discovery.aggregated(path === '/api', fmt.version), fmt.version === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1);
      }
      return this.sendDoc(req, res, path === '/api' ? this.deps.discovery.apiVersions(this.deps.serverAddress) : this.deps.discovery.apiGroupList());
    }
    negotiate(accept, {});
    const parts = path.split('/').filter(Boolean);
    let d: Doc | undefined;
    if (parts[0] === 'api') d = this.deps.discovery.resourceList('', 'v1');
    else if (parts.length === 2) d = this.deps.discovery.apiGroup(parts[1]);
    else d = this.deps.discovery.resourceList(parts[1], parts[2]);
    if (!d) throw pathNotFound();
    this.sendDoc(req, res, d);
  }

  private openapiEndpoint(req: Req, res: Res, path: string): void {
    if (path === '/openapi/v3') {
      const body = JSON.stringify(this.deps.openapi.root());
      return writeJSON(res, 200, body);
    }
    const gvPath = path.slice('/openapi/v3/'.length);
    const d = this.deps.openapi.groupVersion(gvPath);
    if (!d) throw pathNotFound();
    const inm = req.headers['if-none-match'];
    if (inm && inm.replace(/"/g, '') === d.etag.replace(/"/g, '')) {
      (res as ServerResponse).writeHead(304, { ETag: d.etag });
      res.end();
      return;
    }
    writeJSON(res, 200, d.body, { ETag: d.etag, 'Cache-Control': 'public, immutable' });
  }

  // ---- routing ------------------------------------------------------------------------------

  private route(path: string): Route | undefined {
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string, version: string, rest: string[];
    if (seg[0] === 'api') { group = ''; version = seg[1]; rest = seg.slice(2); }
    else { group = seg[1]; version = seg[2]; rest = seg.slice(3); }
    if (!version) return undefined;
    let legacyWatch = false;
    if (rest[0] === 'watch') { legacyWatch = true; rest = rest.slice(1); }
    const stores = this.deps.stores();
    const find = (resource: string) => stores.get(`${group}/${version}/${resource}`);
    const virt = (resource: string) => this.deps.virtual.get(`${group}/${version}/${resource}`);
    if (rest[0] === 'namespaces' && rest.length === 3 && virt(rest[2])?.namespaced) {
      return { info: virt(rest[2])!, store: undefined as unknown as ResourceStore, virtual: true, namespace: rest[1], legacyWatch };
    }
    if (rest.length === 1 && virt(rest[0]) && !virt(rest[0])!.namespaced) {
      return { info: virt(rest[0])!, store: undefined as unknown as ResourceStore, virtual: true, legacyWatch };
    }
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const s = find(rest[2]);
      if (s && s.info.namespaced) {
        if (rest.length > 5) return undefined;
        return { info: s.info, store: s, namespace: rest[1], name: rest[3], subresource: rest[4], legacyWatch };
      }
    }
    const s = find(rest[0]);
    if (s && !group && rest[0] === 'nodes' && rest[2] === 'proxy' && rest.length > 3) {
      return { info: s.info, store: s, name: rest[1], subresource: 'proxy', proxyPath: rest.slice(3).join('/'), legacyWatch };
    }
    if (!s || rest.length > 3) return undefined;
    if (s.info.namespaced && rest.length > 1) return undefined; // namespaced object without a namespace
    return { info: s.info, store: s, name: rest[1], subresource: rest[2], legacyWatch };
  }

  // ---- resources ----------------------------------------------------------------------------

  private async resourceRequest(req: Req, res: Res, url: URL, method: string, r: Route, user: UserInfo): Promise<void> {
    const q = url.searchParams;
    const watch = r.legacyWatch || boolParam(q.get('watch'));
    let verb: string;
    if (method === 'GET' || method === 'HEAD') verb = r.name ? (watch ? 'watch' : 'get') : watch ? 'watch' : 'list';
    else if (method === 'POST') verb = 'create';
    else if (method === 'PUT') verb = 'update';
    else if (method === 'PATCH') verb = 'patch';
    else if (method === 'DELETE') verb = r.name ? 'delete' : 'deletecollection';
    else throw methodNotAllowed(`the server does not allow this method on the requested resource`);

    if (r.subresource) {
      const sub = r.info.subresources.find((s) => s.name === r.subresource);
      if (!sub) throw pathNotFound();
    }
    if (!r.info.verbs.includes(verb) && !r.subresource) {
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    if (r.info.namespaced && !r.namespace && !['list', 'watch'].includes(verb) && !(verb === 'create' && !r.info.namespaced)) {
      throw pathNotFound();
    }
    if (method === 'POST' && r.name && !r.subresource) throw methodNotAllowed('the server does not allow this method on the requested resource');

    const attrs: AuthorizationAttributes = {
      user, verb, resourceRequest: true, namespace: r.namespace, apiGroup: r.info.group, apiVersion: r.info.version,
      resource: r.info.plural, subresource: r.subresource, name: r.name,
    };
    const d = await this.deps.authz.authorize(attrs);
    if (d.decision !== 'allow') throw forbidden(forbiddenMessage(attrs));

    if (this.deps.nodeProxy && !r.info.group && r.info.plural === 'pods' && r.name && r.subresource && NODE_PROXY_SUBRESOURCES.has(r.subresource)) {
      if (r.subresource !== 'log' && verb === 'get') {
        // A WebSocket exec/attach/portforward is a GET; it needs `create` as well (KEP-4006).
        const c: AuthorizationAttributes = { ...attrs, verb: 'create' };
        if ((await this.deps.authz.authorize(c)).decision !== 'allow') throw forbidden(forbiddenMessage(c));
      }
      return this.deps.nodeProxy.serve(req, res, { namespace: r.namespace!, name: r.name, subresource: r.subresource, method, query: q }, UPGRADES.get(req));
    }
    if (this.deps.nodeProxy && !r.info.group && r.info.plural === 'nodes' && r.name && r.subresource === 'proxy') {
      return this.deps.nodeProxy.proxyNode(req, res, r.name, r.proxyPath ?? '', method, q);
    }

    const ctx: WriteContext = {
      user, dryRun: this.dryRun(q), fieldManager: q.get('fieldManager') ?? undefined, warnings: [],
      userAgent: req.headers['user-agent'] as string | undefined,
    };
    if (ctx.fieldManager !== undefined && ['create', 'update', 'patch'].includes(verb)) {
      const errs = validateFieldManager(ctx.fieldManager, false);
      if (errs.length) throw invalid('PatchOptions', 'meta.k8s.io', '', errs);
    }
    const accept = req.headers['accept'] as string | undefined;

    if (r.virtual) {
      if (verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
      const body: any = decodeObjectBody(await readBody(req), req.headers['content-type'] as string | undefined);
      if (r.info.kind === 'Binding') {
        const pods = this.deps.stores().get('/v1/pods')!;
        return this.binding(res, { ...r, store: pods, info: pods.info, name: body?.metadata?.name }, ctx, body);
      }
      const out = await review(this.deps.reviews, r.info.group, r.info.version, r.info.plural, body, user, r.namespace);
      return this.sendObject(res, 201, out, negotiate(accept, {}), r.info, q, ctx);
    }

    if (r.info.group === 'apiextensions.k8s.io' && r.info.kind === 'CustomResourceDefinition' && !ctx.dryRun && ['create', 'update', 'patch', 'delete'].includes(verb)) {
      const settle = this.deps.afterCRDWrite;
      if (settle) {
        const orig = (res as ServerResponse).end.bind(res as ServerResponse);
        let pending: any[] | undefined;
        (res as any).end = (...args: any[]) => {
          if (pending) return res;
          pending = args;
          settle().finally(() => orig(...(pending as [any])));
          return res;
        };
      }
    }
    if (r.subresource === 'scale') return this.scale(req, res, r, method, ctx);
    if (r.subresource === 'binding' && method === 'POST') {
      return this.binding(res, r, ctx, decodeObjectBody(await readBody(req), req.headers['content-type'] as string | undefined));
    }
    if (r.subresource === 'eviction' && !r.info.group && r.info.kind === 'Pod') {
      if (method !== 'POST') throw methodNotAllowed('the server does not allow this method on the requested resource');
      const body = decodeObjectBody(await readBody(req), req.headers['content-type'] as string | undefined);
      const status = await evictPod({ pods: r.store, pdbs: this.deps.stores().get('policy/v1/poddisruptionbudgets') }, r.namespace!, r.name!, body, ctx);
      return writeJSON(res, status.code, JSON.stringify(status), this.warningHeaders(ctx));
    }
    if (r.subresource && !['status', 'finalize'].includes(r.subresource)) {
      throw new StatusError(404, 'NotFound', `the subresource ${r.info.plural}/${r.subresource} is not served yet`);
    }
    if (r.subresource === 'finalize' && method !== 'PUT') throw methodNotAllowed('the server does not allow this method on the requested resource');

    switch (verb) {
      case 'get': {
        const fmt = negotiate(accept, { table: true, partial: true });
        const obj = await r.store.get(r.namespace, r.name!, q.get('resourceVersion') ?? undefined);
        return this.sendObject(res, 200, obj, fmt, r.info, q);
      }
      case 'list': return this.list(req, res, q, r);
      case 'watch': return this.watch(req, res, q, r);
      case 'create': {
        const body = await this.decodeBody(req, q, r.info, ctx);
        const obj = await r.store.create(r.namespace, body, ctx);
        return this.sendObject(res, 201, obj, negotiate(accept, {}), r.info, q, ctx);
      }
      case 'update': {
        const body = await this.decodeBody(req, q, r.info, ctx);
        const { obj, created } = await r.store.update(r.namespace, r.name!, body, ctx, r.subresource);
        return this.sendObject(res, created ? 201 : 200, obj, negotiate(accept, {}), r.info, q, ctx);
      }
      case 'patch': return this.patch(req, res, q, r, ctx);
      case 'delete': {
        const opts = await this.deleteOptions(req, q);
        const { obj, deletedNow } = await r.store.delete(r.namespace, r.name!, opts, ctx);
        if (deletedNow && !r.store.strategy.returnDeletedObject) {
          const status: Status = {
            kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
            details: { name: r.name, group: r.info.group || undefined, kind: r.info.plural, uid: obj.metadata?.uid }, code: 200,
          };
          return writeJSON(res, 200, JSON.stringify(status), this.warningHeaders(ctx));
        }
        return this.sendObject(res, 200, obj, negotiate(accept, {}), r.info, q, ctx);
      }
      case 'deletecollection': {
        const opts = await this.deleteOptions(req, q);
        const items = await r.store.deleteCollection(r.namespace, this.listOptions(q, r.info), opts, ctx);
        const list = { kind: r.info.listKind, apiVersion: gvString(r.info.group, r.info.version), metadata: {}, items };
        return writeJSON(res, 200, JSON.stringify(list), this.warningHeaders(ctx));
      }
    }
  }

  private dryRun(q: URLSearchParams): boolean {
    const vals = q.getAll('dryRun');
    for (const v of vals) if (v !== 'All') throw badRequest(`Invalid dryRun value: ${JSON.stringify(v)}: supported values: "All"`);
    return vals.length > 0;
  }

  private warningHeaders(ctx?: WriteContext): Record<string, string> {
    if (!ctx?.warnings.length) return {};
    return { Warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
  }

  private fieldValidation(q: URLSearchParams): 'Strict' | 'Warn' | 'Ignore' {
    const v = q.get('fieldValidation') ?? '';
    if (v === '') return 'Warn';
    if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
    throw badRequest(`fieldValidation parameter unsupported: ${v}: supported values: "Ignore", "Strict", "Warn"`);
  }

  /** Checks an incoming object against its schema per fieldValidation; wrong types are always 400. */
  private checkFields(obj: any, info: ResourceInfo, q: URLSearchParams, ctx: WriteContext, raw?: string): void {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw badRequest(decodeErrorMessage(info.kind, info.version, `json: cannot unmarshal ${Array.isArray(obj) ? 'array' : typeof obj} into Go value of type struct`));
    }
    const mode = this.fieldValidation(q);
    const schemas = this.deps.schemas();
    const schemaName = info.schemaName;
    if (!schemas[schemaName]) return;
    const result = checkObject(obj, schemaName, schemas, { raw: mode === 'Ignore' ? undefined : raw });
    // Custom resources have no Go decoder: a wrong type is a schema error (422) found by validation.
    const typeError = this.storeOf(info)?.custom ? undefined : firstTypeError(result);
    if (typeError) throw badRequest(decodeErrorMessage(info.kind, info.version, typeError.message));
    const problems = fieldErrors(result);
    if (!problems.length) return;
    if (mode === 'Strict') throw badRequest(decodeErrorMessage(info.kind, info.version, `strict decoding error: ${problems.join(', ')}`));
    if (mode === 'Warn') ctx.warnings.push(...problems);
    pruneUnknown(obj, schemaName, schemas);
  }

  private async decodeBody(req: Req, q: URLSearchParams, info: ResourceInfo, ctx: WriteContext): Promise<any> {
    const buf = await readBody(req);
    const ct = req.headers['content-type'] as string | undefined;
    const obj = decodeObjectBody(buf, ct) as any;
    this.checkFields(obj, info, q, ctx, mediaType(ct) === 'application/yaml' ? undefined : buf.toString('utf8'));
    return obj;
  }

  private async deleteOptions(req: Req, q: URLSearchParams): Promise<DeleteOptions> {
    const buf = await readBody(req);
    let opts: any = {};
    if (buf.length) {
      opts = decodeObjectBody(buf, req.headers['content-type'] as string | undefined);
      if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw badRequest('DeleteOptions must be an object');
    }
    const grace = q.get('gracePeriodSeconds');
    if (grace !== null) {
      if (!/^-?\d+$/.test(grace)) throw badRequest(`invalid gracePeriodSeconds: ${JSON.stringify(grace)}`);
      opts.gracePeriodSeconds = Number(grace);
    }
    const pp = q.get('propagationPolicy');
    if (pp !== null) opts.propagationPolicy = pp;
    const od = q.get('orphanDependents');
    if (od !== null) opts.orphanDependents = boolParam(od);
    if (opts.gracePeriodSeconds !== undefined && (typeof opts.gracePeriodSeconds !== 'number' || !Number.isInteger(opts.gracePeriodSeconds))) {
      throw badRequest('gracePeriodSeconds must be an integer');
    }
    if (opts.gracePeriodSeconds < 0) opts.gracePeriodSeconds = 0;
    return opts as DeleteOptions;
  }

  private listOptions(q: URLSearchParams, info: ResourceInfo): ListOptions {
    const ls = q.get('labelSelector');
    const fs = q.get('fieldSelector');
    const limit = q.get('limit');
    if (limit !== null && !/^\d+$/.test(limit)) throw badRequest(`invalid limit: ${JSON.stringify(limit)}`);
    const fieldSelector = fs ? convertFieldSelector(info, parseFieldSelector(fs)) : undefined;
    return {
      labelSelector: ls ? parseLabelSelector(ls) : undefined,
      fieldSelector,
      limit: limit ? Number(limit) : undefined,
      continueToken: q.get('continue') || undefined,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    };
  }

  private async list(req: Req, res: Res, q: URLSearchParams, r: Route): Promise<void> {
    const fmt = negotiate(req.headers['accept'] as string | undefined, { table: true, partial: true });
    const opts = this.listOptions(q, r.info);
    if (opts.continueToken && opts.resourceVersion) throw badRequest('specifying resource version is not allowed when using continue');
    const out = await r.store.list(r.namespace, opts);
    const meta: Record<string, unknown> = { resourceVersion: String(out.resourceVersion) };
    if (out.continueToken) meta.continue = out.continueToken;
    if (out.remainingItemCount !== undefined) meta.remainingItemCount = out.remainingItemCount;
    const apiVersion = gvString(r.info.group, r.info.version);
    if (fmt.kind === 'json' || fmt.kind === 'yaml') {
      if (fmt.kind === 'yaml') {
        const list = { apiVersion, items: out.items.map((e) => r.store.decode(e.json, e.rev)), kind: r.info.listKind, metadata: meta };
        return writeJSON(res, 200, toYAML(list), {}, 'application/yaml');
      }
      // Fast path: stored JSON concatenated (no parse, no re-serialization).
      const head = `{"kind":${JSON.stringify(r.info.listKind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(meta)},"items":[`;
      const parts: string[] = [head];
      for (let i = 0; i < out.items.length; i++) {
        if (i) parts.push(',');
        parts.push(r.store.encodeServed(out.items[i]));
      }
      parts.push(']}');
      return writeJSON(res, 200, parts.join(''));
    }
    const objs = out.items.map((e) => r.store.decode(e.json, e.rev));
    if (fmt.kind === 'table') {
      const t = this.table(r.info, objs, { listMeta: meta as any, includeObject: (q.get('includeObject') as any) ?? 'Metadata' });
      (t as any).apiVersion = `meta.k8s.io/${fmt.version}`;
      return writeJSON(res, 200, JSON.stringify(t));
    }
    if (fmt.kind === 'partial') {
      const list = {
        kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${fmt.version}`, metadata: meta,
        items: objs.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${fmt.version}`, metadata: o.metadata })),
      };
      return writeJSON(res, 200, JSON.stringify(list));
    }
    throw badRequest('unsupported response format');
  }

  private storeOf(info: ResourceInfo): ResourceStore | undefined {
    return this.deps.stores().get(`${info.group}/${info.version}/${info.plural}`);
  }

  /** Server-side printing: a CRD's additionalPrinterColumns, or the kind's own columns. */
  private table(info: ResourceInfo, objs: any[], opts: TableOptions) {
    const cols = this.storeOf(info)?.printerColumns;
    return cols ? toTableWithColumns(cols, objs, opts) : toTable(info, objs, opts);
  }

  private sendObject(res: Res, code: number, obj: any, fmt: ResponseFormat, info: ResourceInfo, q: URLSearchParams, ctx?: WriteContext): void {
    const headers = this.warningHeaders(ctx);
    if (fmt.kind === 'table') {
      const t = this.table(info, [obj], { includeObject: (q.get('includeObject') as any) ?? 'Metadata' });
      (t as any).apiVersion = `meta.k8s.io/${fmt.version}`;
      return writeJSON(res, code, JSON.stringify(t), headers);
    }
    if (fmt.kind === 'partial') {
      return writeJSON(res, code, JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${fmt.version}`, metadata: obj.metadata }), headers);
    }
    if (fmt.kind === 'yaml') return writeJSON(res, code, toYAML(obj), headers, 'application/yaml');
    writeJSON(res, code, JSON.stringify(obj), headers);
  }

  // ---- patch --------------------------------------------------------------------------------

  private async patch(req: Req, res: Res, q: URLSearchParams, r: Route, ctx: WriteContext): Promise<void> {
    const ct = mediaType(req.headers['content-type'] as string | undefined);
    const types = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/apply-patch+cbor'];
    if (!types.includes(ct) || ct === 'application/apply-patch+cbor') {
      throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${types.slice(0, 4).join(', ')}`);
    }
    const buf = await readBody(req);
    if (!buf.length) throw badRequest('the request body is empty; a patch is required');
    const patch: any = ct === 'application/apply-patch+yaml' ? parseYAML(buf) : parseJSON(buf, 'patch');
    const force = q.get('force');
    if (force !== null && ct !== 'application/apply-patch+yaml') throw badRequest('force flag is only allowed for apply patches');
    if (ct === 'application/apply-patch+yaml' && !ctx.fieldManager) {
      throw invalid('PatchOptions', 'meta.k8s.io', '', [fieldError.required('fieldManager', 'is required for apply patch')]);
    }
    if (ct !== 'application/json-patch+json' && (typeof patch !== 'object' || patch === null || Array.isArray(patch))) {
      throw badRequest('the patch must be a JSON object');
    }
    const schemas = this.deps.schemas();
    const schema = schemas[r.info.schemaName];
    const isApply = ct === 'application/apply-patch+yaml';
    const applyOpts = () => ({
      manager: ctx.fieldManager!, apiVersion: gvString(r.info.group, r.info.version), kind: r.info.kind, force: boolParam(force),
      schemaName: r.info.schemaName, schemas, subresource: r.subresource, ignoredPaths: ignoredPathsFor(r.info, r.subresource),
    });
    const result = await r.store.guaranteedUpdate(r.namespace, r.name!, ctx, async (current) => {
      if (!current) {
        if (isApply && !r.subresource) {
          // Server-side apply creates an absent object.
          const applied = applyConfiguration(undefined, structuredClone(patch), applyOpts());
          const obj = applied.obj;
          this.checkFields(obj, r.info, q, ctx);
          obj.metadata ??= {};
          obj.metadata.name ??= r.name;
          if (r.namespace) obj.metadata.namespace ??= r.namespace;
          return { obj: await this.createViaApply(r, obj, { ...ctx, managedFieldsDone: true }), preconditionRV: undefined, subresource: '__created__' };
        }
        throw notFound({ group: r.info.group, resource: r.info.plural }, r.name!);
      }
      let patched: any;
      if (isApply) {
        this.checkFields(structuredClone(patch), r.info, q, ctx);
        patched = applyConfiguration(current, patch, applyOpts()).obj;
        ctx.managedFieldsDone = true;
      } else if (ct === 'application/json-patch+json') patched = applyJsonPatch(current, patch);
      else if (ct === 'application/merge-patch+json') patched = applyMergePatch(current, patch);
      else patched = applyStrategicMergePatch(current, patch, schema, schemas);
      if (!isApply) this.checkFields(patched, r.info, q, ctx);
      const rv = patched?.metadata?.resourceVersion;
      const preconditionRV = rv && rv !== current.metadata.resourceVersion ? rv : undefined;
      if (patched?.metadata?.uid && patched.metadata.uid !== current.metadata.uid) {
        throw new StatusError(409, 'Conflict', `Precondition failed: UID in precondition: ${patched.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      return { obj: patched, preconditionRV, subresource: r.subresource };
    }).catch((err) => {
      if (err && err.__created) return { obj: err.obj, created: true };
      throw err;
    });
    const accept = req.headers['accept'] as string | undefined;
    this.sendObject(res, result.created ? 201 : 200, result.obj, negotiate(accept, {}), r.info, q, ctx);
  }

  /** Creates the object an apply patch describes, then leaves guaranteedUpdate via a marker. */
  private async createViaApply(r: Route, obj: any, ctx: WriteContext): Promise<never> {
    const created = await r.store.create(r.namespace, obj, ctx);
    throw Object.assign(new Error('created'), { __created: true, obj: created });
  }

  // ---- scale and binding ---------------------------------------------------------------------

  private toScale(obj: any, info: ResourceInfo): any {
    const paths = this.storeOf(info)?.scalePaths;
    if (paths) {
      const selector = paths.labelSelectorPath ? getPath(obj, paths.labelSelectorPath) : undefined;
      return {
        kind: 'Scale', apiVersion: 'autoscaling/v1',
        metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
        spec: { replicas: getPath(obj, paths.specReplicasPath) ?? 0 },
        status: { replicas: getPath(obj, paths.statusReplicasPath) ?? 0, ...(typeof selector === 'string' ? { selector } : {}) },
      };
    }
    const sel = obj.spec?.selector;
    const selector = info.group === '' && info.kind === 'ReplicationController'
      ? Object.entries(sel ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
      : sel ? formatLabelSelector(sel) : '';
    return {
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector },
    };
  }

  private async scale(req: Req, res: Res, r: Route, method: string, ctx: WriteContext): Promise<void> {
    negotiate(req.headers['accept'] as string | undefined, {}); // 406 for unacceptable Accept
    if (method === 'GET') {
      const obj = await r.store.get(r.namespace, r.name!);
      return writeJSON(res, 200, JSON.stringify(this.toScale(obj, r.info)));
    }
    if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const buf = await readBody(req);
    const ct = mediaType(req.headers['content-type'] as string | undefined);
    const body: any = method === 'PUT' ? decodeObjectBody(buf, ct) : ct === 'application/apply-patch+yaml' ? parseYAML(buf) : parseJSON(buf, 'patch');
    const schemas = this.deps.schemas();
    const result = await r.store.guaranteedUpdate(r.namespace, r.name!, ctx, async (current) => {
      if (!current) throw notFound({ group: r.info.group, resource: r.info.plural }, r.name!);
      const scale = this.toScale(current, r.info);
      let next: any;
      if (method === 'PUT') next = body;
      else if (ct === 'application/json-patch+json') next = applyJsonPatch(scale, body);
      else if (ct === 'application/merge-patch+json' || ct === 'application/apply-patch+yaml') next = applyMergePatch(scale, body);
      else if (ct === 'application/strategic-merge-patch+json') next = applyStrategicMergePatch(scale, body, schemas['io.k8s.api.autoscaling.v1.Scale'], schemas);
      else throw new StatusError(415, 'UnsupportedMediaType', `unsupported patch type ${ct}`);
      const replicas = next?.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
        if (replicas === undefined) throw invalid('Scale', 'autoscaling', r.name!, [fieldError.required('spec.replicas')]);
        throw badRequest(`Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
      }
      if (replicas < 0) throw invalid('Scale', 'autoscaling', r.name!, [fieldError.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
      const rv = next?.metadata?.resourceVersion;
      const preconditionRV = method === 'PUT' ? rv || undefined : rv && rv !== current.metadata.resourceVersion ? rv : undefined;
      const obj = structuredClone(current);
      const paths = r.store.scalePaths;
      if (paths) setPath(obj, paths.specReplicasPath, replicas);
      else obj.spec = { ...(obj.spec ?? {}), replicas };
      return { obj, preconditionRV };
    });
    writeJSON(res, 200, JSON.stringify(this.toScale(result.obj, r.info)), this.warningHeaders(ctx));
  }

  private async binding(res: Res, r: Route, ctx: WriteContext, body: any): Promise<void> {
    if (r.info.kind !== 'Pod') throw pathNotFound();
    if (!r.name) throw invalid('Binding', '', '', [fieldError.required('metadata.name')]);
    const node = body?.target?.name;
    if (!node) throw invalid('Binding', '', r.name!, [fieldError.required('target.name')]);
    await r.store.guaranteedUpdate(r.namespace, r.name!, ctx, async (current) => {
      if (!current) throw notFound({ group: '', resource: 'pods' }, r.name!);
      if (current.metadata.deletionTimestamp) throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${r.name}": pod ${r.name} is being deleted, cannot be assigned to a host`);
      if (current.spec?.nodeName) throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${r.name}": pod ${r.name} is already assigned to node "${current.spec.nodeName}"`);
      const obj = structuredClone(current);
      obj.spec.nodeName = node;
      const conds = (obj.status.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
      obj.status.conditions = conds;
      return { obj, subresource: '__binding__' };
    });
    writeJSON(res, 201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
  }

  // ---- watch --------------------------------------------------------------------------------

  private async watch(req: Req, res: Res, q: URLSearchParams, r: Route): Promise<void> {
    const fmt = negotiate(req.headers['accept'] as string | undefined, { table: true, partial: true });
    const opts = this.listOptions(q, r.info);
    if (r.name) {
      // GET .../pods/x?watch=1 is a watch with a metadata.name field selector.
      const byName = parseFieldSelector(`metadata.name=${r.name}`);
      opts.fieldSelector = opts.fieldSelector ? parseFieldSelector(`${q.get('fieldSelector')},metadata.name=${r.name}`) : byName;
    }
    const rv = parseRV(opts.resourceVersion);
    const bookmarks = boolParam(q.get('allowWatchBookmarks'));
    const sendInitial = boolParam(q.get('sendInitialEvents'));
    const timeoutParam = q.get('timeoutSeconds');
    if (timeoutParam !== null && !/^\d+$/.test(timeoutParam)) throw badRequest(`invalid timeoutSeconds: ${JSON.stringify(timeoutParam)}`);
    const [minT, maxT] = this.deps.watchTimeoutSeconds ?? [1800, 3600];
    const timeout = timeoutParam ? Number(timeoutParam) : minT + Math.floor(Math.random() * (maxT - minT));
    const cache = this.deps.cache;
    const store = r.store;
    const info = r.info;
    const apiVersion = gvString(info.group, info.version);
    const matches = (e: { labels?: Record<string, string>; fields: Record<string, string> } | undefined) =>
      !!e && (!opts.labelSelector || opts.labelSelector.matches(e.labels ?? {})) && (!opts.fieldSelector || opts.fieldSelector.matches(e.fields));

    if (rv === undefined) await cache.sync();

    (res as ServerResponse).writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    (res as any).flushHeaders?.();
    let closed = false;
    let unregister: (() => void) | undefined;
    let firstTable = true;
    const close = () => {
      if (closed) return;
      closed = true;
      unregister?.();
      clearTimeout(timer);
      res.end();
    };
    const timer = setTimeout(close, timeout * 1000);
    res.on('close', close);
    (req as IncomingMessage).on('close', close);

    const encodeObject = (json: string, rev: number): string => {
      if (fmt.kind === 'json' || fmt.kind === 'yaml') return store.encodeServed({ json, rev });
      const obj = store.decode(json, rev);
      if (fmt.kind === 'partial') return JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${fmt.version}`, metadata: obj.metadata });
      const t: any = this.table(info, [obj], { includeObject: (q.get('includeObject') as any) ?? 'Metadata', noHeaders: !firstTable });
      t.apiVersion = `meta.k8s.io/${fmt.version}`;
      firstTable = false;
      return JSON.stringify(t);
    };
    const send = (type: string, objectJSON: string) => {
      if (closed) return;
      (res as ServerResponse).write(`{"type":"${type}","object":${objectJSON}}\n`);
      // A client that cannot keep up is dropped (as the real watch cache does); it will re-watch.
      if ((res as any).writableLength > 32 * 1024 * 1024) close();
    };
    const sendError = (err: StatusError) => send('ERROR', JSON.stringify(err.toStatus()));
    const bookmark = (rev: number, extra?: Record<string, string>) => {
      const md: Record<string, unknown> = { resourceVersion: String(rev) };
      if (extra) md.annotations = extra;
      send('BOOKMARK', JSON.stringify({ kind: info.kind, apiVersion, metadata: md }));
    };

    // Plain JSON watchers of a resource without conversion all send the same bytes for an event:
    // encode it once per event, not once per watcher.
    const shared = (fmt.kind === 'json' || fmt.kind === 'yaml') && !store.conversion;
    const sendEvent = (ev: CacheEvent, type: string, entry: { json: string }) => {
      if (!shared) return send(type, encodeObject(entry.json, ev.rev));
      let memo = EVENT_LINES.get(ev);
      if (!memo) { memo = new Map(); EVENT_LINES.set(ev, memo); }
      let line = memo.get(type);
      if (line === undefined) { line = `{"type":"${type}","object":${withResourceVersion(entry.json, ev.rev)}}\n`; memo.set(type, line); }
      if (closed) return;
      (res as ServerResponse).write(line);
      if ((res as any).writableLength > 32 * 1024 * 1024) close();
    };
    const onEvent = (ev: CacheEvent) => {
      const now = ev.type === 'DELETED' ? false : matches(ev.entry);
      const before = ev.type === 'ADDED' ? false : ev.type === 'DELETED' ? matches(ev.prev ?? ev.entry) : matches(ev.prev);
      if (ev.type === 'DELETED') {
        if (before) sendEvent(ev, 'DELETED', ev.prev ?? ev.entry);
        return;
      }
      if (now && before) sendEvent(ev, 'MODIFIED', ev.entry);
      else if (now && !before) sendEvent(ev, 'ADDED', ev.entry);
      else if (!now && before) sendEvent(ev, 'DELETED', ev.prev!);
    };

    try {
      if (rv === undefined || rv === 0 || sendInitial) {
        // Initial state as ADDED events, then changes after the cache revision.
        const start = cache.revision;
        const entries = cache.list(store.prefix, info.namespaced ? r.namespace : undefined);
        for (const e of entries) if (matches(e)) send('ADDED', encodeObject(e.json, e.rev));
        if (sendInitial && bookmarks) bookmark(start, { 'k8s.io/initial-events-end': 'true' });
        unregister = cache.watch({ prefix: store.prefix, namespace: info.namespaced ? r.namespace : undefined, onEvent, onBookmark: (x) => { if (bookmarks) bookmark(x); }, onError: (e) => { sendError(new StatusError(410, 'Expired', e.message)); close(); } }, start);
      } else {
        unregister = cache.watch({ prefix: store.prefix, namespace: info.namespaced ? r.namespace : undefined, onEvent, onBookmark: (x) => { if (bookmarks) bookmark(x); }, onError: (e) => { sendError(new StatusError(410, 'Expired', e.message)); close(); } }, rv);
      }
    } catch (err) {
      if (err instanceof ExpiredError) {
        sendError(new StatusError(410, 'Expired', `too old resource version: ${err.requested} (${err.oldest})`));
        close();
        return;
      }
      throw err;
    }
  }
}
