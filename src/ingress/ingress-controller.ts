/**
 * IngressController: keelson's ingress controller — informers on IngressClasses, Ingresses,
 * Services, EndpointSlices and TLS Secrets feeding an IngressProxy with routing tables, and the
 * Ingresses' status.
 *
 * - Configuration: any change to a relevant object (any Ingress or IngressClass; a Service,
 *   EndpointSlice or Secret only when the current table uses it) schedules a rebuild; changes in
 *   the same turn of the event loop coalesce into one. A rebuild selects the served Ingresses
 *   (ingress-class.ts), oldest first, resolves their backends (backends.ts) and certificates
 *   (certificates.ts), builds a RoutingTable (routing-table.ts) and hands it to the proxy, which
 *   swaps it atomically. Until the informers have synced, the proxy keeps its empty table (404).
 * - Status: every served Ingress gets this node's address in `status.loadBalancer.ingress`
 *   (`{ip: <node IP>}`), written with a merge patch of the status subresource only when it is
 *   missing, with a resourceVersion precondition; when the Ingress stops being served (class
 *   changed, our class deleted or no longer default) the address is taken out again. Entries of
 *   other addresses are left alone, so several keelson nodes can each list themselves.
 * - Events (Kubernetes' Event API, through EventRecorder): `Sync` ("Scheduled for sync") when
 *   the controller starts serving an Ingress or sees a new generation of it, as ingress-nginx
 *   does; Warnings for backends that name a missing Service or port, unusable TLS Secrets and
 *   paths lost to an older Ingress (each message once per generation).
 */
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressBackend, IngressClass, IngressLoadBalancerIngress } from 'kubernetes-types/networking/v1.js';
import { Controller, Informer, type ResourceDescriptor, type RestClient } from '../client/index.js';
import { EventRecorder } from '../client/event-recorder.js';
import { logger } from '../util/log.js';
import { resolveBackend, backendKey, SERVICE_NAME_LABEL, type ServiceLookup } from './backends.js';
import { SecretCertificates } from './certificates.js';
import { ClassSelector, compareCreation, CONTROLLER_NAME, INGRESSCLASSES, INGRESSES } from './ingress-class.js';
import { buildRoutingTable, RoutingTable } from './routing-table.js';

const log = logger('ingress');

export const SERVICES: ResourceDescriptor = { group: '', version: 'v1', plural: 'services', namespaced: true };
export const ENDPOINTSLICES: ResourceDescriptor = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true };
export const SECRETS: ResourceDescriptor = { group: '', version: 'v1', plural: 'secrets', namespaced: true };

const SERVICE_INDEX = 'service';

/** Where routing tables go (an IngressProxy). */
export interface TableSink {
  setTable(table: RoutingTable): void;
}

export interface IngressControllerOptions {
  client: RestClient;
  proxy: TableSink;
  /** The address published in status.loadBalancer.ingress; none = status is not written. */
  nodeIP?: string;
  /** Name of this instance in events (e.g. the node name). */
  instance?: string;
  /** The IngressClass controller value served (default keelson.io/ingress-controller). */
  controllerName?: string;
  /** Write Events on Ingresses (default true). */
  events?: boolean;
  /** How long start() waits for the informers' first lists (default 10 s). */
  syncTimeoutMs?: number;
}

export class IngressController {
  readonly ingresses: Informer<Ingress>;
  readonly classes: Informer<IngressClass>;
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;
  readonly secrets: Informer<Secret>;
  private readonly certs = new SecretCertificates();
  private readonly status?: Controller;
  private readonly recorder?: EventRecorder;
  private readonly controllerName: string;
  private usedServices = new Set<string>();
  private usedSecrets = new Set<string>();
  /** uid → generation we last announced with a Sync event. */
  private announced = new Map<string, number>();
  /** uid → warning messages already reported for the current generation. */
  private reported = new Map<string, { generation: number; messages: Set<string> }>();
  private scheduled = false;
  private synced = false;
  private abort = new AbortController();
  private current: RoutingTable = RoutingTable.EMPTY;
  /** Number of tables built so far. */
  rebuilds = 0;

  constructor(readonly opts: IngressControllerOptions) {
    const c = opts.client;
    this.controllerName = opts.controllerName ?? CONTROLLER_NAME;
    this.ingresses = new Informer<Ingress>(c, INGRESSES);
    this.classes = new Informer<IngressClass>(c, INGRESSCLASSES);
    this.services = new Informer<Service>(c, SERVICES);
    this.slices = new Informer<EndpointSlice>(c, ENDPOINTSLICES);
    this.slices.addIndex(SERVICE_INDEX, (s) => {
      const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      return svc ? [`${s.metadata?.namespace ?? ''}/${svc}`] : [];
    });
    this.secrets = new Informer<Secret>(c, SECRETS, { fieldSelector: 'type=kubernetes.io/tls' });

    const always = () => this.schedule();
    for (const inf of [this.ingresses, this.classes] as Informer<any>[]) inf.on('add', always).on('update', always).on('delete', always);
    const svcKey = (s: Service) => `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
    const sliceKey = (s: EndpointSlice) => `${s.metadata?.namespace ?? ''}/${s.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
    const secretKey = (s: Secret) => `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
    const when = <T>(used: () => Set<string>, key: (o: T) => string) => (...objs: T[]) => {
      if (objs.some((o) => used().has(key(o)))) this.schedule();
    };
    const onSvc = when<Service>(() => this.usedServices, svcKey);
    this.services.on('add', onSvc).on('update', onSvc).on('delete', onSvc);
    const onSlice = when<EndpointSlice>(() => this.usedServices, sliceKey);
    this.slices.on('add', onSlice).on('update', onSlice).on('delete', onSlice);
    const onSecret = when<Secret>(() => this.usedSecrets, secretKey);
    this.secrets.on('add', onSecret).on('update', onSecret).on('delete', onSecret);

    if (opts.nodeIP) {
      const ip = opts.nodeIP;
      this.status = new Controller('ingress-status', { reconcile: (key) => this.reconcileStatus(key, ip) });
      this.status.watch(this.ingresses);
      // A class change can flip every Ingress's served state.
      this.status.watch(this.classes, () => this.ingresses.keys());
    }
    if (opts.events !== false) this.recorder = new EventRecorder(c, { component: 'keelson-ingress-controller', instance: opts.instance });
  }

  /** The table the proxy has now. */
  get table(): RoutingTable { return this.current; }

  get isSynced(): boolean { return this.synced; }

  /**
   * Starts the informers and the status writer; resolves after the first table was handed to the
   * proxy (or after syncTimeoutMs, with a warning: the table follows once the lists are in).
   */
  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new Error('aborted');
    signal.addEventListener('abort', () => this.stop(), { once: true });
    const inner = this.abort.signal;
    const informers = [this.classes, this.ingresses, this.services, this.slices, this.secrets] as Informer<any>[];
    for (const inf of informers) inf.start(inner);
    this.status?.start(inner);
    const timeout = AbortSignal.any([inner, AbortSignal.timeout(this.opts.syncTimeoutMs ?? 10_000)]);
    const ok = (await Promise.all(informers.map((i) => i.waitForSync(timeout)))).every(Boolean);
    if (!ok) {
      if (inner.aborted) return;
      log.warn('informers not synced yet; the ingress answers 404 until they are');
      void Promise.all(informers.map((i) => i.waitForSync(inner))).then((r) => {
        if (r.every(Boolean)) { this.synced = true; this.rebuild(); }
      });
      return;
    }
    this.synced = true;
    this.rebuild();
  }

  stop(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.recorder?.stop();
  }

  private schedule(): void {
    if (!this.synced || this.scheduled || this.abort.signal.aborted) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.abort.signal.aborted) return;
      try {
        this.rebuild();
      } catch (err) {
        log.error('building the routing table failed', { err: err as Error });
      }
    });
  }

  /** Builds the routing table from the caches and hands it to the proxy. */
  rebuild(): RoutingTable {
    const selector = new ClassSelector(this.classes.list(), this.controllerName);
    const served = this.ingresses.list().filter((i) => selector.serves(i)).sort(compareCreation);
    const usedServices = new Set<string>();
    const usedSecrets = new Set<string>();
    const certErrors = new Map<string, string>();
    const lookup: ServiceLookup = {
      service: (ns, name) => {
        usedServices.add(`${ns}/${name}`);
        return this.services.get(ns, name);
      },
      endpointSlices: (ns, name) => this.slices.byIndex(SERVICE_INDEX, `${ns}/${name}`),
    };
    const table = buildRoutingTable(served, (ns, b) => resolveBackend(lookup, ns, b), (ns, name) => {
      usedSecrets.add(`${ns}/${name}`);
      const r = this.certs.load(this.secrets.get(ns, name), ns, name);
      if (r.error) certErrors.set(`${ns}/${name}`, r.error);
      return r.cert;
    });
    this.usedServices = usedServices;
    this.usedSecrets = usedSecrets;
    this.certs.retain(usedSecrets);
    this.current = table;
    this.opts.proxy.setTable(table);
    this.rebuilds++;
    log.debug('routing table rebuilt', { ingresses: served.length, backends: table.backends().length });
    this.report(served, table, certErrors);
    return table;
  }

  /** Sync events and warnings (each once per generation). */
  private report(served: Ingress[], table: RoutingTable, certErrors: Map<string, string>): void {
    const live = new Set<string>();
    const backends = new Map(table.backends().map((b) => [b.key, b]));
    const conflicts = new Map<string, string[]>();
    for (const c of table.conflicts) {
      const l = conflicts.get(c.ingress) ?? [];
      l.push(`${c.what} is already served for the older Ingress ${c.winner}`);
      conflicts.set(c.ingress, l);
    }
    for (const ing of served) {
      const uid = ing.metadata?.uid ?? `${ing.metadata?.namespace}/${ing.metadata?.name}`;
      const ns = ing.metadata?.namespace ?? 'default';
      const gen = ing.metadata?.generation ?? 0;
      live.add(uid);
      const ref = { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: ns, name: ing.metadata?.name ?? '', uid: ing.metadata?.uid };
      if (this.announced.get(uid) !== gen) {
        this.announced.set(uid, gen);
        this.recorder?.event(ref, 'Normal', 'Sync', 'Sync', 'Scheduled for sync');
      }
      const messages: string[] = [...(conflicts.get(`${ns}/${ing.metadata?.name}`) ?? [])];
      const refs: IngressBackend[] = [];
      if (ing.spec?.defaultBackend) refs.push(ing.spec.defaultBackend);
      for (const r of ing.spec?.rules ?? []) for (const p of r.http?.paths ?? []) refs.push(p.backend);
      for (const b of refs) {
        const problem = backends.get(backendKey(ns, b))?.problem;
        // An empty Service is normal while pods start; only a wrong reference is worth an event.
        if (problem && !problem.endsWith('has no ready endpoints')) messages.push(problem);
      }
      for (const t of ing.spec?.tls ?? []) {
        const e = t.secretName ? certErrors.get(`${ns}/${t.secretName}`) : undefined;
        if (e) messages.push(`${e}; the default certificate is served for ${t.hosts?.join(', ') || 'its hosts'}`);
      }
      let seen = this.reported.get(uid);
      if (!seen || seen.generation !== gen) this.reported.set(uid, (seen = { generation: gen, messages: new Set() }));
      for (const m of new Set(messages)) {
        if (seen.messages.has(m)) continue;
        seen.messages.add(m);
        log.warn('ingress problem', { ingress: `${ns}/${ing.metadata?.name}`, problem: m });
        this.recorder?.event(ref, 'Warning', 'BadConfig', 'Sync', m);
      }
    }
    for (const uid of this.announced.keys()) if (!live.has(uid)) this.announced.delete(uid);
    for (const uid of this.reported.keys()) if (!live.has(uid)) this.reported.delete(uid);
  }

  /** Puts this node's address into (or takes it out of) one Ingress's status. */
  private async reconcileStatus(key: string, ip: string): Promise<void> {
    const ing = this.ingresses.getByKey(key);
    if (!ing) return;
    const served = new ClassSelector(this.classes.list(), this.controllerName).serves(ing);
    const current: IngressLoadBalancerIngress[] = ing.status?.loadBalancer?.ingress ?? [];
    const mine = current.some((e) => e.ip === ip);
    if (served === mine) return;
    const want = served
      ? [...current, { ip }].sort((a, b) => (a.ip ?? a.hostname ?? '').localeCompare(b.ip ?? b.hostname ?? ''))
      : current.filter((e) => e.ip !== ip);
    await this.opts.client.patch(INGRESSES, ing.metadata!.namespace, ing.metadata!.name!, {
      metadata: { resourceVersion: ing.metadata!.resourceVersion },
      status: { loadBalancer: { ingress: want.length ? want : null } },
    }, 'merge', { subresource: 'status' });
    log.info(served ? 'ingress address published' : 'ingress address removed', { ingress: key, ip });
  }
}
