/**
 * A stand-in for the kubelet in controller tests: there is no scheduler or node agent in the
 * test cluster, so pods stay Pending. This marks pods Running and Ready through the pods/status
 * subresource, as the kubelet's status manager would — either every pod as soon as it appears
 * (`auto`), or one at a time when the test asks (`readyOne`).
 */
import { Informer, isNotFound, keyOf, type RestClient } from '../../client/index.js';
import { PODS, isPodReady, nowTime, type Obj } from './controller-utils.js';

let ipCounter = 0;

/** Marks `pod` Running with Ready=True (and the other kubelet conditions) via pods/status. */
export async function markPodReady(client: RestClient, pod: Obj): Promise<boolean> {
  const t = nowTime();
  const n = ++ipCounter;
  const conditions = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: t }));
  const containerStatuses = (pod.spec?.containers ?? []).map((c: any) => ({
    name: c.name, image: c.image, imageID: `${c.image}@sha256:0`, ready: true, started: true, restartCount: 0,
    state: { running: { startedAt: t } },
  }));
  try {
    await client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, {
      metadata: { uid: pod.metadata!.uid },
      status: { phase: 'Running', podIP: `10.244.${(n >> 8) & 255}.${n & 255}`, startTime: t, conditions, containerStatuses },
    }, 'merge', { subresource: 'status' });
    return true;
  } catch (err) {
    if (isNotFound(err) || (err as { code?: number }).code === 409) return false; // gone or replaced meanwhile
    throw err;
  }
}

export interface FakeKubeletOptions {
  namespace?: string;
  /** Mark every new pod ready at once (default false: only when readyOne() is called). */
  auto?: boolean;
}

export class FakeKubelet {
  readonly informer: Informer<Obj>;
  private auto: boolean;
  private inflight = new Set<string>();
  private errors: unknown[] = [];

  constructor(readonly client: RestClient, opts: FakeKubeletOptions = {}) {
    this.auto = opts.auto ?? false;
    this.informer = new Informer<Obj>(client, PODS, { namespace: opts.namespace });
    const consider = (pod: Obj) => { if (this.auto) this.ready(pod); };
    this.informer.on('add', consider);
    this.informer.on('update', (_o, pod) => consider(pod));
  }

  start(signal: AbortSignal): void {
    this.informer.start(signal);
  }

  async stopped(): Promise<void> {
    await this.informer.stopped();
  }

  setAuto(auto: boolean): void {
    this.auto = auto;
    if (auto) for (const p of this.informer.list()) this.ready(p);
  }

  /** Pods the kubelet would run and that are not ready yet (oldest first). */
  pending(filter: (pod: Obj) => boolean = () => true): Obj[] {
    return this.informer.list()
      .filter((p) => !p.metadata?.deletionTimestamp && !isPodReady(p) && !this.inflight.has(keyOf(p)) && filter(p))
      .sort((a, b) => (a.metadata!.creationTimestamp! < b.metadata!.creationTimestamp! ? -1 : a.metadata!.creationTimestamp! > b.metadata!.creationTimestamp! ? 1 : a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  }

  /** Marks one pending pod (the oldest) ready; resolves with it, or undefined if none is pending. */
  async readyOne(filter?: (pod: Obj) => boolean): Promise<Obj | undefined> {
    const pod = this.pending(filter)[0];
    if (!pod) return undefined;
    const key = keyOf(pod);
    this.inflight.add(key);
    try {
      return (await markPodReady(this.client, pod)) ? pod : undefined;
    } finally {
      this.inflight.delete(key);
    }
  }

  /** Errors met in auto mode (a test may assert there were none). */
  get failures(): readonly unknown[] {
    return this.errors;
  }

  private ready(pod: Obj): void {
    if (pod.metadata?.deletionTimestamp || isPodReady(pod)) return;
    const key = keyOf(pod);
    if (this.inflight.has(key)) return;
    this.inflight.add(key);
    markPodReady(this.client, pod)
      .catch((err) => { this.errors.push(err); })
      .finally(() => this.inflight.delete(key));
  }
}
