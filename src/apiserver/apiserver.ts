/**
 * The API server, assembled: PKI, storage, watch cache, one generic store per resource, the
 * authentication/authorization/admission chains and an HTTPS server speaking HTTP/2 and
 * HTTP/1.1 (also to clients that offer no ALPN, as kubectl's upgrade requests do).
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { BUILTIN_RESOURCES, type ResourceInfo } from '../api/resources.js';
import { builtinSchemas } from '../api/schemas.js';
import type { SchemaMap } from '../api/schema-types.js';
import { selectableFields } from '../api/field-attrs.js';
import type { Storage, KeyValue } from '../storage/interface.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import { WatchCache, prefixOf } from './watch-cache.js';
import { ResourceStore, type WriteContext } from '../registry/store.js';
import { GenericStrategy, ignoredPathsFor, type Strategy } from '../registry/strategy.js';
import { recordUpdate, setManagedFields, defaultManagerName } from '../apimachinery/managedfields/apply.js';
import { gvString } from '../api/resources.js';
import { PodStrategy } from '../registry/core/pods/strategy.js';
import { NamespaceStrategy } from '../registry/core/namespaces/strategy.js';
import { ServiceStrategy, firstServiceIP } from '../registry/core/services/strategy.js';
import { DeploymentStrategy } from '../registry/apps/deployments/strategy.js';
import { JobStrategy } from '../registry/batch/jobs/strategy.js';
import { eventsV1Conversion } from '../registry/events/conversion.js';
import { CRDStrategy } from '../registry/apiextensions/crd-strategy.js';
import { CRDManager } from './crd-manager.js';
import { Aggregator } from './aggregator.js';
import { AdmissionChain } from './admission/admission.js';
import { NamespaceLifecycle } from './admission/namespace-lifecycle.js';
import { DefaultTolerationSeconds } from './admission/default-toleration-seconds.js';
import { Priority } from './admission/priority.js';
import { AuthenticatorChain, ClientCertAuthenticator, StaticTokenAuthenticator } from './auth/authn.js';
import { AllowAuthenticated, AuthorizerChain, allowAllRules } from './auth/authz.js';
import { ensureKubeletClientCert, ensurePki, issueClientCert, type Pki } from '../util/pki.js';
import { Discovery } from './discovery.js';
import { OpenAPIV3 } from './openapi.js';
import { APIHandler } from './http/handler.js';
import { NodeProxy } from './http/node-proxy.js';
import { StatusError } from '../apimachinery/errors.js';
import { adminKubeconfig, writeKubeconfig } from '../cli/kubeconfig.js';
import { logger } from '../util/log.js';

const log = logger('apiserver');

export interface APIServerOptions {
  dataDir: string;
  /** Port for HTTPS (0 = pick a free one). */
  port: number;
  bindAddress?: string;
  /** Store: 'sqlite' (default, <dataDir>/state.db) or 'memory' (tests). */
  storage?: 'sqlite' | 'memory';
  serviceCIDR?: string;
  nodePortRange?: [number, number];
  /** Extra SANs for the serving certificate. */
  hosts?: string[];
  /** Also serve plain HTTP on this port (debugging; no authentication is skipped). */
  watchHistorySize?: number;
  /** Keep cached objects deflated (default true): much less memory per object, slower large LISTs. */
  watchCacheCompression?: boolean;
  /** Server-side watch timeout range (seconds) when the client gives none. */
  watchTimeoutSeconds?: [number, number];
  compactIntervalMs?: number;
  retainRevisions?: number;
}

export const KUBERNETES_VERSION = {
  major: '1', minor: '32', gitVersion: 'v1.32.0-keelson', gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean', buildDate: '2026-11-22T00:00:00Z', goVersion: `node${process.versions.node}`,
  compiler: 'tsc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

const SYSTEM_USER = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export class APIServer {
  storage!: Storage;
  cache!: WatchCache;
  pki!: Pki;
  /** Built-in stores, keyed group/version/plural. */
  stores = new Map<string, ResourceStore>();
  /** Built-in and custom resource stores (what the HTTP layer routes to). */
  allStores = new Map<string, ResourceStore>();
  crds?: CRDManager;
  aggregator?: Aggregator;
  /** Pod log/exec/attach/portforward to kubelets. */
  nodeProxy?: NodeProxy;
  private crdInfos: ResourceInfo[] = [];
  private remoteInfos: ResourceInfo[] = [];
  private remoteKeys = new Set<string>();
  server?: http2.Http2SecureServer;
  private byPrefix = new Map<string, ResourceInfo>();
  private builtinSchemas: SchemaMap = {};
  private onResourcesChanged: () => void = () => {};
  url = '';
  kubeconfigPath = '';
  private resources: ResourceInfo[] = [...BUILTIN_RESOURCES];
  private schemas: SchemaMap = {};
  private ready = false;

  constructor(public opts: APIServerOptions) {}

  get serviceCIDR(): string { return this.opts.serviceCIDR ?? '10.96.0.0/16'; }

  async start(signal?: AbortSignal): Promise<void> {
    const { dataDir } = this.opts;
    mkdirSync(dataDir, { recursive: true });
    const t0 = Date.now();
    const hosts = ['localhost', '127.0.0.1', os.hostname(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local', firstServiceIP(this.serviceCIDR), ...(this.opts.hosts ?? [])];
    this.pki = await ensurePki(join(dataDir, 'pki'), { hosts });
    this.storage = this.opts.storage === 'memory'
      ? new MemoryStorage()
      : SqliteStorage.open(join(dataDir, 'state.db'), { compactIntervalMs: this.opts.compactIntervalMs, retainRevisions: this.opts.retainRevisions });
    this.builtinSchemas = builtinSchemas();
    this.schemas = this.builtinSchemas;

    const byPrefix = this.byPrefix;
    const admission = new AdmissionChain();
    this.cache = new WatchCache(this.storage, (prefix, obj) => {
      const info = byPrefix.get(prefix);
      if (!info) return { labels: obj?.metadata?.labels, fields: { 'metadata.name': obj?.metadata?.name ?? '', 'metadata.namespace': obj?.metadata?.namespace ?? '' } };
      return { labels: obj?.metadata?.labels, fields: selectableFields(info, obj) };
    }, { historySize: this.opts.watchHistorySize, compress: this.opts.watchCacheCompression });

    for (const info of this.resources) {
      if (info.verbs.length === 1 && info.verbs[0] === 'create') continue; // virtual kinds (bindings) are not stored
      const strategy = this.strategyFor(info);
      const conversion = info.group === 'events.k8s.io' ? eventsV1Conversion : undefined;
      const store = new ResourceStore(info, strategy, this.storage, this.cache, admission, conversion);
      this.prepareStore(store);
      this.stores.set(`${info.group}/${info.version}/${info.plural}`, store);
    }
    this.allStores = new Map(this.stores);
    const nsStore = this.stores.get('/v1/namespaces')!;
    admission.add(new NamespaceLifecycle(async (name) => {
      const e = this.cache.get(nsStore.key(undefined, name));
      return e ? JSON.parse(e.json) : undefined;
    }));
    admission.add(new DefaultTolerationSeconds());
    const pcPrefix = this.stores.get('scheduling.k8s.io/v1/priorityclasses')!.key(undefined, '');
    admission.add(new Priority(() => this.cache.list(pcPrefix).map((e) => JSON.parse(e.json))));

    await this.cache.start();
    await this.bootstrap();
    this.crds = new CRDManager({
      storage: this.storage, cache: this.cache, admission, crdStore: this.stores.get('apiextensions.k8s.io/v1/customresourcedefinitions')!,
      prepareStore: (s) => this.prepareStore(s),
      publish: (infos, stores, schemas) => {
        this.crdInfos = infos;
        this.resources = [...BUILTIN_RESOURCES, ...this.crdInfos, ...this.remoteInfos];
        this.allStores = new Map([...this.stores, ...stores]);
        this.schemas = Object.keys(schemas).length ? { ...this.builtinSchemas, ...schemas } : this.builtinSchemas;
        this.onResourcesChanged();
      },
    });
    await this.crds.start();
    const proxyCert = await issueClientCert(this.pki, 'front-proxy-client', []);
    this.aggregator = new Aggregator({
      cache: this.cache, apiServices: this.stores.get('apiregistration.k8s.io/v1/apiservices')!,
      services: this.stores.get('/v1/services')!, endpoints: this.stores.get('/v1/endpoints')!, clientCert: proxyCert,
      publish: (infos) => {
        this.remoteInfos = infos;
        this.remoteKeys = new Set(infos.map((r) => `${r.group}/${r.version}/${r.plural}`));
        this.resources = [...BUILTIN_RESOURCES, ...this.crdInfos, ...this.remoteInfos];
        this.onResourcesChanged();
      },
    });
    await this.aggregator.start();

    const authn = new AuthenticatorChain([new ClientCertAuthenticator(), (() => {
      const t = new StaticTokenAuthenticator();
      t.add(this.pki.adminToken, { username: 'kubernetes-admin', groups: ['system:masters'] });
      return t;
    })()]);
    const discovery = new Discovery(() => this.resources.filter((r) => {
      const k = `${r.group}/${r.version}/${r.plural}`;
      return this.allStores.has(k) || this.remoteKeys.has(k) || r.verbs.includes('create');
    }));
    const openapi = new OpenAPIV3(() => this.resources.filter((r) => !(r.verbs.length === 1 && r.verbs[0] === 'create') && !this.remoteKeys.has(`${r.group}/${r.version}/${r.plural}`)), () => this.schemas);
    this.onResourcesChanged = () => { discovery.invalidate(); openapi.invalidate(); };
    const authz = new AuthorizerChain([new AllowAuthenticated()]);
    const virtual = new Map(this.resources.filter((r) => r.verbs.length === 1 && r.verbs[0] === 'create').map((r) => [`${r.group}/${r.version}/${r.plural}`, r] as const));
    const stores = this.stores;
    this.nodeProxy = new NodeProxy({
      getPod: (ns, name) => stores.get('/v1/pods')!.get(ns, name),
      getNode: (name) => stores.get('/v1/nodes')!.get(undefined, name),
      clientCert: await ensureKubeletClientCert(this.pki),
    });
    const handler = new APIHandler({
      stores: () => this.allStores, discovery, openapi, authn, authz, virtual,
      reviews: { authz, authn, rules: { rulesFor: (user) => allowAllRules(user) } },
      cache: this.cache, schemas: () => this.schemas, serverAddress: '', version: KUBERNETES_VERSION,
      ready: () => this.ready, watchTimeoutSeconds: this.opts.watchTimeoutSeconds,
      afterCRDWrite: async () => { await this.cache.sync(); await this.crds?.settled(); },
      aggregator: { route: (g, v) => this.aggregator?.route(g, v), proxy: (t, req, res, p, u) => this.aggregator!.proxy(t as any, req, res, p, u) },
      nodeProxy: this.nodeProxy,
    });

    this.server = http2.createSecureServer({
      key: this.pki.serverKeyPem, cert: this.pki.serverCertPem, ca: this.pki.caCertPem,
      requestCert: true, rejectUnauthorized: false, allowHTTP1: true,
      settings: { maxConcurrentStreams: 1000 },
      // Large lists and many watches share one connection (informers): Node's 10 MB default
      // answers ENHANCE_YOUR_CALM to new streams once that much is buffered.
      maxSessionMemory: 256,
    }, handler.handle as any);
    this.server.on('upgrade', handler.handleUpgrade); // exec/attach/portforward (HTTP/1.1 upgrades)
    this.server.on('sessionError', (err) => log.debug('http2 session error', { err }));
    this.server.on('tlsClientError', (err) => log.debug('tls client error', { err }));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.bindAddress ?? '0.0.0.0', () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    const host = this.opts.bindAddress && this.opts.bindAddress !== '0.0.0.0' ? this.opts.bindAddress : '127.0.0.1';
    this.url = `https://${host}:${port}`;
    this.kubeconfigPath = join(dataDir, 'admin.kubeconfig');
    writeKubeconfig(this.kubeconfigPath, adminKubeconfig({
      server: this.url, caPem: this.pki.caCertPem, certPem: this.pki.adminCertPem, keyPem: this.pki.adminKeyPem,
      clusterName: 'keelson', userName: 'keelson-admin', contextName: 'keelson',
    }));
    this.ready = true;
    log.info('API server ready', { url: this.url, ms: Date.now() - t0, kubeconfig: this.kubeconfigPath });
    signal?.addEventListener('abort', () => { void this.stop(); }, { once: true });
  }

  /** Wiring every store gets: labels/fields for selectors, managed fields for writes. */
  private prepareStore(store: ResourceStore): void {
    const info = store.info;
    if (!this.byPrefix.has(store.prefix) && !(info.group === 'events.k8s.io')) this.byPrefix.set(store.prefix, info);
    store.indexer = (kv: KeyValue) => {
      try {
        const obj = JSON.parse(kv.value);
        return { labels: obj.metadata?.labels, fields: selectableFields(this.byPrefix.get(prefixOf(kv.key)) ?? info, obj) };
      } catch { return { fields: {} }; }
    };
    const apiVersion = gvString(info.group, info.version);
    store.fieldManager = (old, obj, ctx, subresource) => {
      const entries = recordUpdate(old, obj, {
        manager: ctx.fieldManager ?? defaultManagerName(ctx.userAgent), apiVersion, subresource,
        schemaName: info.schemaName, schemas: this.schemas, ignoredPaths: ignoredPathsFor(info, subresource),
      });
      setManagedFields(obj, entries);
    };
  }

  private strategyFor(info: ResourceInfo): Strategy {
    const k = `${info.group}/${info.kind}`;
    switch (k) {
      case '/Pod': return new PodStrategy(info);
      case '/Namespace': return new NamespaceStrategy(info);
      case '/Service': return new ServiceStrategy(info, this.storage, {
        serviceCIDR: this.serviceCIDR, nodePortMin: this.opts.nodePortRange?.[0] ?? 30000, nodePortMax: this.opts.nodePortRange?.[1] ?? 32767,
      });
      case 'apps/Deployment': return new DeploymentStrategy(info);
      case 'batch/Job': return new JobStrategy(info);
      case 'apiextensions.k8s.io/CustomResourceDefinition': return new CRDStrategy(info);
      default: {
        const s = new GenericStrategy(info);
        // Leases and events are written by clients that PUT to create.
        if (info.kind === 'Lease' || (info.kind === 'Event' && !info.group)) s.allowCreateOnUpdate = true;
        return s;
      }
    }
  }

  /** The objects every cluster has: the system namespaces and the `kubernetes` service. */
  private async bootstrap(): Promise<void> {
    const ctx: WriteContext = { user: SYSTEM_USER, dryRun: false, warnings: [] };
    const ns = this.stores.get('/v1/namespaces')!;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await this.ensure(() => ns.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx));
    }
    const svc = this.stores.get('/v1/services')!;
    await this.ensure(() => svc.create('default', {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: firstServiceIP(this.serviceCIDR), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None', type: 'ClusterIP' },
    }, ctx));
  }

  private async ensure(fn: () => Promise<unknown>): Promise<void> {
    try { await fn(); } catch (err) { if (!(err instanceof StatusError && err.code === 409)) throw err; }
  }

  async stop(): Promise<void> {
    this.ready = false;
    const srv = this.server;
    this.server = undefined;
    this.nodeProxy?.close(); // exec/attach/port-forward relays and log streams would hold the server open
    if (srv) await new Promise<void>((resolve) => { srv.close(() => resolve()); setTimeout(resolve, 1000).unref(); });
    this.crds?.close();
    this.aggregator?.close();
    this.cache?.stop();
    await this.storage?.close();
  }
}

