/**
 * The scaffolding controller tests share: an in-process API server (startTestCluster), one
 * controller on its own client, optionally a FakeKubelet playing the nodes, all started before
 * the file's tests and stopped after them (node:test before/after hooks are registered here).
 */
import { before, after } from 'node:test';
import { setMaxListeners } from 'node:events';
import assert from 'node:assert/strict';
import type { RestClient } from '../client/index.js';
import { startTestCluster, type TestCluster } from '../client/testing.js';
import { FakeKubelet, type FakeKubeletOptions } from './replicaset/fake-kubelet.js';

export interface TestableController {
  start(signal: AbortSignal): void;
  stopped(): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

export interface ControllerTestBed<C> {
  cluster: TestCluster;
  /** A client of its own for the test's requests. */
  client: RestClient;
  controller: C;
  /** Present when asked for with `kubelet`. */
  kubelet: FakeKubelet;
  /** Aborted after the file's tests: for informers a test starts itself. */
  signal: AbortSignal;
}

/** Registers before/after hooks; the returned object's fields are set once `before` has run. */
export function controllerTestBed<C extends TestableController>(
  make: (client: RestClient) => C, opts: { kubelet?: FakeKubeletOptions } = {},
): ControllerTestBed<C> {
  const ac = new AbortController();
  const bed = { signal: ac.signal } as ControllerTestBed<C>;
  // Every informer, controller and fake kubelet of the file listens on this one signal.
  setMaxListeners(100, ac.signal);
  before(async () => {
    bed.cluster = await startTestCluster();
    bed.client = bed.cluster.client;
    bed.controller = make(bed.cluster.newClient());
    bed.controller.start(ac.signal);
    if (opts.kubelet) {
      bed.kubelet = new FakeKubelet(bed.cluster.newClient(), opts.kubelet);
      bed.kubelet.start(ac.signal);
    }
    assert.ok(await bed.controller.waitForSync(AbortSignal.timeout(10_000)));
    if (bed.kubelet) assert.ok(await bed.kubelet.informer.waitForSync(AbortSignal.timeout(10_000)));
  });
  after(async () => {
    ac.abort();
    await bed.controller?.stopped();
    await bed.kubelet?.stopped();
    await bed.cluster?.stop();
  });
  return bed;
}
