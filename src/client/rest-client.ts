/**
 * RestClient: how keelson's components (controllers, scheduler, node agent) talk to the API
 * server. Every component talks to the others only through the API server, so this is the one
 * way in and out.
 *
 * Transport: HTTP/2 (node:http2) over TLS, one session per client shared by all requests and
 * watches (as client-go's http2 transport multiplexes one connection). The session is replaced
 * when the server sends GOAWAY or the connection closes; a request refused because of that
 * (never seen by the server) is retried once on the new session. The session is unref'd while
 * no request is in flight, so an idle client never keeps a process alive. A connection that
 * carries streams but has been silent for 30 s is pinged and dropped if the ping is not answered
 * within 15 s (client-go's http2 ReadIdleTimeout/PingTimeout), so a dead peer cannot hang a
 * watch forever.
 *
 * Authentication: a TLS client certificate (cert + key) and/or a bearer token.
 *
 * Rate limiting: one token bucket per client for every request including watches, as
 * client-go's flowcontrol limiter. Defaults are **50 qps, burst 100**: client-go's own 5/10
 * are too low for an in-cluster controller manager (kube-controller-manager runs at 20/30 and
 * the scheduler at 50/100); `qps: Infinity` turns it off.
 *
 * Retries: a 429, or a 5xx on a GET, that carries `Retry-After` is retried after that many
 * seconds, up to 10 times (client-go's default maxRetries). Nothing else is retried here.
 *
 * Errors: any non-2xx answer rejects with ApiError carrying the server's Status (or one
 * synthesized from the HTTP code when the body is not a Status, as client-go does).
 */
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import zlib from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseYAML } from 'yaml';
import type { Status, StatusDetails } from '../apimachinery/errors.js';
import { TokenBucket, sleep } from './rate-limit.js';
import { logger } from '../util/log.js';

const log = logger('rest-client');

/** What a request needs to know about a resource to build its URL. */
export interface ResourceDescriptor {
  /** API group; '' for the core group (served under /api). */
  group: string;
  version: string;
  /** Lower-case plural, as in the URL ("pods", "deployments"). */
  plural: string;
  namespaced: boolean;
}

export interface RestClientOptions {
  /** https://host:port[/prefix] of the API server. */
  server: string;
  /** PEM of the CA to trust; omitted = the system roots. */
  ca?: string | Buffer;
  /** Client certificate and key (PEM) for x509 authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token. */
  token?: string;
  /** Do not verify the server's certificate (kubeconfig `insecure-skip-tls-verify`). */
  insecureSkipTLSVerify?: boolean;
  /** Name to verify the server certificate against (kubeconfig `tls-server-name`). */
  tlsServerName?: string;
  /** Requests per second for this client (default 50; Infinity = unlimited). */
  qps?: number;
  /** Requests allowed in a burst (default 100). */
  burst?: number;
  userAgent?: string;
  /** Time limit for one non-watch request in ms (default 60000; 0 = none). */
  timeoutMs?: number;
  /** Retries on 429 / Retry-After (default 10). */
  maxRetries?: number;
  /** Default namespace (from the kubeconfig context); informational, never applied implicitly. */
  namespace?: string;
}

export const DEFAULT_QPS = 50;
export const DEFAULT_BURST = 100;
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 10;

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

/** Accept headers asking for metadata only (PartialObjectMetadata), as client-go's metadata client does. */
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export interface ListOptions {
  /** Items carry only metadata (PartialObjectMetadata). */
  metadataOnly?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  signal?: AbortSignal;
}

export interface WatchOptions {
  /** Event objects carry only metadata (PartialObjectMetadata). */
  metadataOnly?: boolean;
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One line of a watch stream. For ERROR the object is a Status. */
export interface WatchEvent<T = any> {
  type: WatchEventType;
  object: T;
}

export interface WriteOptions {
  /** Send dryRun=All. */
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  signal?: AbortSignal;
}

export interface UpdateOptions extends WriteOptions {
  /** "status", "scale", ... */
  subresource?: string;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface PatchOptions extends WriteOptions {
  subresource?: string;
  /** Apply only: take over conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this request. */
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

// ---- errors ------------------------------------------------------------------------------------

const REASON_BY_CODE: Record<number, Status['reason']> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  406: 'NotAcceptable', 409: 'Conflict', 410: 'Expired', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType',
  422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

/** A non-2xx answer from the API server, with its Status. */
export class ApiError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message || `the server responded with status ${status.code}${status.reason ? ` (${status.reason})` : ''}`);
    this.name = 'ApiError';
    this.status = status;
  }
  get code(): number { return this.status.code; }
  get reason(): string { return this.status.reason ?? ''; }
  get details(): StatusDetails | undefined { return this.status.details; }

  /** From an HTTP answer: its Status body, or one synthesized from the code and text. */
  static fromResponse(code: number, body: Buffer | string): ApiError {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    try {
      const parsed = JSON.parse(text);
      if (parsed && parsed.kind === 'Status' && typeof parsed.code === 'number') return new ApiError(parsed as Status);
      if (parsed && parsed.kind === 'Status') return new ApiError({ ...parsed, code } as Status);
    } catch { /* not JSON */ }
    const trimmed = text.trim();
    return new ApiError({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code,
      reason: REASON_BY_CODE[code] ?? (code >= 500 ? 'InternalError' : ''),
      message: trimmed ? trimmed.slice(0, 1024) : `the server responded with the status code ${code} but did not return more information`,
    });
  }
}

const codeOf = (err: unknown): number | undefined => (err instanceof ApiError ? err.code : undefined);
export const isNotFound = (err: unknown) => codeOf(err) === 404;
export const isAlreadyExists = (err: unknown) => err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
export const isConflict = (err: unknown) => err instanceof ApiError && err.code === 409 && err.reason !== 'AlreadyExists';
/** 410: the resourceVersion asked for is no longer available (reason Expired or Gone). */
export const isGone = (err: unknown) => codeOf(err) === 410;
export const isTooManyRequests = (err: unknown) => codeOf(err) === 429;

// ---- paths -------------------------------------------------------------------------------------

const seg = (s: string) => encodeURIComponent(s);

/** /api/v1 or /apis/<group>/<version>. */
export function groupVersionPath(res: Pick<ResourceDescriptor, 'group' | 'version'>): string {
  return res.group ? `/apis/${seg(res.group)}/${seg(res.version)}` : `/api/${seg(res.version)}`;
}

/**
 * The URL path of a collection or object. A namespaced resource without a namespace is the
 * all-namespaces collection; a cluster-scoped resource ignores `namespace`.
 */
export function resourcePath(res: ResourceDescriptor, namespace?: string, name?: string, subresource?: string): string {
  let p = groupVersionPath(res);
  if (res.namespaced && namespace) p += `/namespaces/${seg(namespace)}`;
  p += `/${seg(res.plural)}`;
  if (name !== undefined) {
    if (!name) throw new Error(`${res.plural}: a resource name is required`);
    p += `/${seg(name)}`;
    if (subresource) p += `/${seg(subresource)}`;
  }
  return p;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== false) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- kubeconfig --------------------------------------------------------------------------------

/** Reads a kubeconfig into client options (one context: the given one or current-context). */
export function loadKubeconfig(path: string, context?: string): RestClientOptions {
  const doc = parseYAML(readFileSync(path, 'utf8')) ?? {};
  const dir = dirname(resolvePath(path));
  const named = (list: unknown, name: string, what: string): Record<string, any> => {
    const entry = Array.isArray(list) ? list.find((e: any) => e?.name === name) : undefined;
    if (!entry) throw new Error(`kubeconfig ${path}: no ${what} named ${JSON.stringify(name)}`);
    return (entry as any)[what] ?? {};
  };
  const ctxName = context ?? doc['current-context'];
  if (!ctxName) throw new Error(`kubeconfig ${path}: no context given and no current-context set`);
  const ctx = named(doc.contexts, ctxName, 'context');
  if (!ctx.cluster) throw new Error(`kubeconfig ${path}: context ${JSON.stringify(ctxName)} names no cluster`);
  const cluster = named(doc.clusters, ctx.cluster, 'cluster');
  const user = ctx.user ? named(doc.users, ctx.user, 'user') : {};
  if (!cluster.server) throw new Error(`kubeconfig ${path}: cluster ${JSON.stringify(ctx.cluster)} has no server`);

  // *-data fields hold base64 PEM; the plain fields are file paths relative to the kubeconfig.
  const material = (data: unknown, file: unknown): Buffer | undefined => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
    if (typeof file === 'string' && file) return readFileSync(resolvePath(dir, file));
    return undefined;
  };
  if (user.exec || user['auth-provider']) {
    throw new Error(`kubeconfig ${path}: user ${JSON.stringify(ctx.user)} uses exec/auth-provider credentials, which are not supported`);
  }
  let token: string | undefined = typeof user.token === 'string' && user.token ? user.token : undefined;
  if (!token && typeof user.tokenFile === 'string' && user.tokenFile) token = readFileSync(resolvePath(dir, user.tokenFile), 'utf8').trim();
  return {
    server: String(cluster.server),
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: material(user['client-certificate-data'], user['client-certificate']),
    key: material(user['client-key-data'], user['client-key']),
    token,
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    namespace: typeof ctx.namespace === 'string' && ctx.namespace ? ctx.namespace : undefined,
  };
}

// ---- the client --------------------------------------------------------------------------------

const NGHTTP2_REFUSED_STREAM = http2.constants.NGHTTP2_REFUSED_STREAM;
const NGHTTP2_CANCEL = http2.constants.NGHTTP2_CANCEL;
/** Errors that mean the stream never reached the server, so the request is safe to resend. */
const UNSENT_CODES = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION']);
const READ_IDLE_MS = 30_000;
const PING_TIMEOUT_MS = 15_000;

class UnsentError extends Error {
  constructor(readonly original: unknown) { super(`request not sent: ${(original as Error)?.message ?? original}`); }
}

interface SessionState {
  session: http2.ClientHttp2Session;
  active: number;
  lastRead: number;
  health: NodeJS.Timeout;
}

export class RestClient {
  readonly server: string;
  readonly namespace?: string;
  readonly limiter: TokenBucket;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly connectOptions: http2.SecureClientSessionOptions;
  private readonly authHeader?: string;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private current?: SessionState;

  constructor(opts: RestClientOptions) {
    const url = new URL(opts.server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`unsupported server URL ${opts.server}`);
    this.server = opts.server;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.namespace = opts.namespace;
    this.connectOptions = {
      // Informers list thousands of objects on the connection their watches share.
      maxSessionMemory: 256,
      ca: opts.ca, cert: opts.cert, key: opts.key,
      rejectUnauthorized: !opts.insecureSkipTLSVerify,
      ...(opts.tlsServerName ? { servername: opts.tlsServerName } : {}),
    };
    if (opts.token) this.authHeader = `Bearer ${opts.token}`;
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    this.userAgent = opts.userAgent ?? `keelson-client/0.1.0 (${process.platform}/${arch})`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.limiter = new TokenBucket(opts.qps ?? DEFAULT_QPS, opts.burst ?? DEFAULT_BURST);
  }

  /** A client for a kubeconfig's context (default: current-context). */
  static fromKubeconfig(path: string, context?: string, overrides: Partial<RestClientOptions> = {}): RestClient {
    return new RestClient({ ...loadKubeconfig(path, context), ...overrides });
  }

  /** Closes the connection; in-flight requests finish, later ones open a new connection. */
  close(): void {
    const st = this.current;
    this.current = undefined;
    if (st) {
      clearInterval(st.health);
      st.session.close();
    }
  }

  /** Drops the connection at once, failing in-flight requests and watches. */
  destroy(): void {
    const st = this.current;
    this.current = undefined;
    if (st) {
      clearInterval(st.health);
      st.session.destroy();
    }
  }

  // ---- typed verbs -----------------------------------------------------------------------------

  get<T = any>(res: ResourceDescriptor, namespace: string | undefined, name: string, opts: { subresource?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.requestJSON<T>('GET', resourcePath(res, this.ns(res, namespace), name, opts.subresource), undefined, undefined, opts);
  }

  list<T = any>(res: ResourceDescriptor, namespace?: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const q = query({
      labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit,
      continue: opts.continue, resourceVersion: opts.resourceVersion, resourceVersionMatch: opts.resourceVersionMatch,
    });
    return this.requestJSON<ObjectList<T>>('GET', resourcePath(res, namespace) + q, undefined, opts.metadataOnly ? { accept: METADATA_LIST_ACCEPT } : undefined, opts);
  }

  create<T = any>(res: ResourceDescriptor, namespace: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = namespace ?? (obj as any)?.metadata?.namespace;
    return this.requestJSON<T>('POST', resourcePath(res, this.ns(res, ns)) + this.writeQuery(opts), obj, undefined, opts);
  }

  /** PUT of the whole object (its metadata.resourceVersion, if set, is the precondition). */
  update<T = any>(res: ResourceDescriptor, namespace: string | undefined, obj: T, opts: UpdateOptions = {}): Promise<T> {
    const meta = (obj as any)?.metadata ?? {};
    const ns = namespace ?? meta.namespace;
    return this.requestJSON<T>('PUT', resourcePath(res, this.ns(res, ns), meta.name ?? '', opts.subresource) + this.writeQuery(opts), obj, undefined, opts);
  }

  patch<T = any>(res: ResourceDescriptor, namespace: string | undefined, name: string, patch: unknown, type: PatchType, opts: PatchOptions = {}): Promise<T> {
    if (type === 'apply' && !opts.fieldManager) throw new Error('apply patches need a fieldManager');
    const q = this.writeQuery(opts, type === 'apply' && opts.force ? { force: true } : {});
    const body = typeof patch === 'string' || Buffer.isBuffer(patch) ? patch : JSON.stringify(patch);
    return this.requestJSON<T>('PATCH', resourcePath(res, this.ns(res, namespace), name, opts.subresource) + q, body, { 'content-type': PATCH_CONTENT_TYPES[type] }, opts);
  }

  /** Deletes; resolves with what the server returns (the object, or a Success Status). */
  delete<T = any>(res: ResourceDescriptor, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.dryRun) body.dryRun = ['All'];
    return this.requestJSON<T>('DELETE', resourcePath(res, this.ns(res, namespace), name), body, undefined, opts);
  }

  /**
   * Watches a collection. `onEvent` gets every line of the stream in order, including
   * BOOKMARK and ERROR (object = Status) events; if it returns a promise the stream is paused
   * until it settles. Resolves when the server ends the stream or `signal` aborts it; rejects
   * with ApiError when the watch is refused (e.g. 410 for a too old resourceVersion) and with
   * the transport error when the connection breaks.
   */
  async watch<T = any>(
    res: ResourceDescriptor, namespace: string | undefined, opts: WatchOptions,
    onEvent: (ev: WatchEvent<T>) => void | Promise<void>, signal?: AbortSignal,
  ): Promise<void> {
    if (signal?.aborted) return;
    const q = query({
      watch: true, resourceVersion: opts.resourceVersion, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      allowWatchBookmarks: opts.allowWatchBookmarks, timeoutSeconds: opts.timeoutSeconds,
    });
    const path = resourcePath(res, namespace) + q;
    let opened: Opened;
    try {
      await this.limiter.acquire(signal);
      opened = await this.openWithRetry('GET', path, undefined, opts.metadataOnly ? { accept: METADATA_WATCH_ACCEPT } : {}, signal, 0);
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const { stream, status } = opened;
    if (status < 200 || status > 299) {
      const body = await readAll(stream, opened.headers, 0).catch(() => Buffer.alloc(0));
      throw ApiError.fromResponse(status, body);
    }
    const decoder = new StringDecoder('utf8');
    let buf = '';
    const emit = async (line: string) => {
      line = line.trim();
      if (!line) return;
      let ev: WatchEvent<T>;
      try { ev = JSON.parse(line); } catch { throw new Error(`watch ${path}: malformed event: ${line.slice(0, 200)}`); }
      await onEvent(ev);
    };
    try {
      for await (const chunk of stream) {
        buf += decoder.write(chunk as Buffer);
        let start = 0;
        let nl: number;
        while ((nl = buf.indexOf('\n', start)) >= 0) {
          const line = buf.slice(start, nl);
          start = nl + 1;
          await emit(line);
          if (signal?.aborted) return;
        }
        buf = buf.slice(start);
      }
      buf += decoder.end();
      // A last line without its newline is only complete if it parses.
      if (buf.trim()) {
        try { JSON.parse(buf); } catch { return; }
        await emit(buf);
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    } finally {
      if (!stream.closed) stream.close(NGHTTP2_CANCEL);
    }
  }

  // ---- raw requests ----------------------------------------------------------------------------

  /**
   * Sends one request and returns the answer whatever its status (no ApiError). `body` may be
   * a Buffer, a string, or a value sent as JSON. Rate limited and retried on Retry-After.
   */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, opts: RequestOptions = {}): Promise<RawResponse> {
    let payload: Buffer | undefined;
    const hdrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) hdrs[k.toLowerCase()] = v;
    if (body !== undefined) {
      if (Buffer.isBuffer(body)) payload = body;
      else if (typeof body === 'string') payload = Buffer.from(body, 'utf8');
      else payload = Buffer.from(JSON.stringify(body), 'utf8');
      hdrs['content-type'] ??= 'application/json';
    }
    await this.limiter.acquire(opts.signal);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
      const opened = await this.openWithRetry(method, path, payload, hdrs, opts.signal, timeoutMs);
      const remaining = deadline ? Math.max(1, deadline - Date.now()) : 0;
      const resBody = await readAll(opened.stream, opened.headers, remaining);
      const { status } = opened;
      const retryAfter = Number(opened.headers['retry-after']);
      const retriable = status === 429 || (status >= 500 && status <= 599 && method === 'GET');
      if (retriable && Number.isFinite(retryAfter) && opened.headers['retry-after'] !== undefined && attempt < this.maxRetries) {
        log.debug('retrying after server asked to', { method, path, status, retryAfterSeconds: retryAfter });
        await sleep(Math.max(0, retryAfter) * 1000, opts.signal);
        continue;
      }
      return { status, headers: opened.headers, body: resBody };
    }
  }

  /** A request whose 2xx answer is JSON; anything else rejects with ApiError. */
  async requestJSON<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, body, { accept: 'application/json', ...headers }, opts);
    if (res.status < 200 || res.status > 299) throw ApiError.fromResponse(res.status, res.body);
    if (!res.body.length) return undefined as T;
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new Error(`${method} ${path}: the server answered ${res.status} with a body that is not JSON`);
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private ns(res: ResourceDescriptor, namespace: string | undefined): string | undefined {
    if (!res.namespaced) return undefined;
    if (!namespace) throw new Error(`${res.plural} is namespaced: a namespace is required`);
    return namespace;
  }

  private writeQuery(opts: WriteOptions, extra: Record<string, string | boolean> = {}): string {
    return query({
      dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager, fieldValidation: opts.fieldValidation, ...extra,
    });
  }

  private session(): SessionState {
    const cur = this.current;
    if (cur && !cur.session.closed && !cur.session.destroyed) return cur;
    const session = http2.connect(this.origin, this.connectOptions);
    const st: SessionState = {
      session, active: 0, lastRead: Date.now(),
      health: setInterval(() => this.checkHealth(st), READ_IDLE_MS / 2),
    };
    st.health.unref();
    const drop = () => {
      clearInterval(st.health);
      if (this.current === st) this.current = undefined;
    };
    // Without an 'error' listener a failed connect would crash the process; the streams on
    // the session fail on their own and report the error to their callers.
    session.on('error', (err) => log.debug('http2 session error', { server: this.origin, err: err.message }));
    session.on('goaway', drop);
    session.on('close', drop);
    session.unref();
    this.current = st;
    return st;
  }

  /** Pings a session that has streams open but has received nothing for a while. */
  private checkHealth(st: SessionState): void {
    if (st.active === 0 || st.session.destroyed || Date.now() - st.lastRead < READ_IDLE_MS) return;
    const timer = setTimeout(() => {
      log.warn('http2 ping timed out; closing the connection', { server: this.origin });
      st.session.destroy(new Error('http2 ping timeout'));
    }, PING_TIMEOUT_MS);
    timer.unref();
    const ok = st.session.ping((err) => {
      clearTimeout(timer);
      if (err) { st.session.destroy(err); return; }
      st.lastRead = Date.now();
    });
    if (!ok) clearTimeout(timer);
  }

  private async openWithRetry(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>, signal: AbortSignal | undefined, timeoutMs: number): Promise<Opened> {
    try {
      return await this.open(method, path, body, headers, signal, timeoutMs);
    } catch (err) {
      if (!(err instanceof UnsentError)) throw err;
      // The old session was going away; one more try on a fresh one.
      try {
        return await this.open(method, path, body, headers, signal, timeoutMs);
      } catch (err2) {
        throw err2 instanceof UnsentError ? err2.original : err2;
      }
    }
  }

  /** Sends the request; resolves with the stream once the response headers arrive. */
  private open(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>, signal: AbortSignal | undefined, timeoutMs: number): Promise<Opened> {
    return new Promise<Opened>((resolve, reject) => {
      signal?.throwIfAborted();
      const st = this.session();
      const h: http2.OutgoingHttpHeaders = {
        ':method': method, ':path': this.basePath + path,
        accept: 'application/json', 'user-agent': this.userAgent, ...headers,
      };
      if (this.authHeader) h.authorization = this.authHeader;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = st.session.request(h, { endStream: !body, signal });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException)?.code;
        if (this.current === st) this.current = undefined;
        reject(code && UNSENT_CODES.has(code) ? new UnsentError(err) : err);
        return;
      }
      st.active++;
      if (st.active === 1) st.session.ref();
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          if (!settled) stream.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms waiting for the server`));
        }, timeoutMs);
      }
      stream.on('data', () => { st.lastRead = Date.now(); });
      stream.on('error', (err) => {
        if (settled) return; // the reader of the body sees it
        settled = true;
        clearTimeout(timer);
        reject(stream.rstCode === NGHTTP2_REFUSED_STREAM ? new UnsentError(err) : err);
      });
      stream.on('close', () => {
        st.active--;
        if (st.active === 0 && !st.session.destroyed) st.session.unref();
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const err = new Error(`${method} ${path}: stream closed before a response (http2 code ${stream.rstCode})`);
        reject(stream.rstCode === NGHTTP2_REFUSED_STREAM ? new UnsentError(err) : err);
      });
      stream.on('response', (hdrs) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        st.lastRead = Date.now();
        resolve({ stream, status: Number(hdrs[':status']), headers: hdrs });
      });
      if (body) stream.end(body);
    });
  }
}

interface Opened {
  stream: http2.ClientHttp2Stream;
  status: number;
  headers: http2.IncomingHttpHeaders;
}

/** Reads a response body to the end (gunzipping if needed), within timeoutMs (0 = no limit). */
async function readAll(stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders, timeoutMs: number): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs > 0) timer = setTimeout(() => stream.destroy(new Error(`timed out after ${timeoutMs} ms reading the response`)), timeoutMs);
  try {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    const enc = String(headers['content-encoding'] ?? '').toLowerCase();
    return enc === 'gzip' ? zlib.gunzipSync(buf) : buf;
  } finally {
    clearTimeout(timer);
  }
}
