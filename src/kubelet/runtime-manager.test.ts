import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeRuntime } from './cri/fake.js';
import { RuntimeManager, type PodEnvironment, type PodRecord } from './runtime-manager.js';
import { generatePodStatus } from './pod-status.js';
import { Backoff } from './backoff.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-rm-'));
  const rt = new FakeRuntime({ images: ['docker.io/library/busybox:latest'] });
  const events: string[] = [];
  let failed: 'liveness' | undefined;
  const envs: PodEnvironment = {
    env: async () => ({ envs: [] }),
    expand: (a) => a,
    volumes: async () => new Map(),
    podDir: (uid) => join(dir, 'pods', uid),
    hostsFile: () => '127.0.0.1 localhost\n',
    dnsConfig: () => undefined,
    pullSecret: async () => null,
    event: (_ref, _type, reason, message) => { events.push(`${reason}: ${message}`); },
    probeFailed: () => failed,
  };
  const rm = new RuntimeManager({ runtime: rt, images: rt, logRoot: join(dir, 'logs'), nodeMemoryBytes: 8 << 30, backoffInitialMs: 60_000 }, envs);
  return { dir, rt, rm, events, setFailed: (f: 'liveness' | undefined) => { failed = f; }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let n = 0;
function pod(spec: Partial<Pod['spec']>, name = `p${++n}`): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [], restartPolicy: 'Always', ...spec } as Pod['spec'],
  };
}
const rec = (): PodRecord => ({ waiting: new Map() });
/** The fake's processes exit on the next turn of the event loop: let them, then read the state. */
const settle = () => new Promise((r) => setTimeout(r, 5));
const probes = { ready: () => true, started: () => true };
const status = (s: ReturnType<typeof setup>, p: Pod, state: Awaited<ReturnType<RuntimeManager['podState']>>, r: PodRecord) =>
  generatePodStatus({ pod: p, state, rec: r, probes, hostIP: '192.0.2.1', termination: (c) => s.rm.terminationMessage(c) });

test('init containers run one at a time, in order, before the app containers', async () => {
  const s = setup();
  try {
    const p = pod({
      initContainers: [{ name: 'a', image: 'busybox', command: ['sh', '-c', 'exit 0'] }, { name: 'b', image: 'busybox', command: ['sh', '-c', 'exit 0'] }],
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'sleep 3600'] }],
    });
    const r = rec();
    let st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.deepEqual(st.containers.map((c) => c.name), ['a']);
    assert.equal(status(s, p, st, r).phase, 'Pending');
    st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.deepEqual(st.containers.map((c) => c.name).sort(), ['a', 'b']);
    st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.ok(st.containers.some((c) => c.name === 'main' && c.status.state === 'CONTAINER_RUNNING'));
    const ps = status(s, p, st, r);
    assert.equal(ps.phase, 'Running');
    assert.equal(ps.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
    assert.equal(ps.containerStatuses?.[0].ready, true);
  } finally { s.cleanup(); }
});

test('restartPolicy Never: a failing container makes the pod Failed and is not restarted', async () => {
  const s = setup();
  try {
    const p = pod({ restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 3'] }] });
    const r = rec();
    await s.rm.syncPod(p, r);
    await settle();
    let st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.equal(st.containers.length, 1);
    const ps = status(s, p, st, r);
    assert.equal(ps.phase, 'Failed');
    assert.equal(ps.containerStatuses?.[0].state?.terminated?.exitCode, 3);
    assert.equal(ps.containerStatuses?.[0].state?.terminated?.reason, 'Error');
    // The finished pod's sandbox is released.
    assert.equal(st.sandboxes[0].state, 'SANDBOX_NOTREADY');
  } finally { s.cleanup(); }
});

test('restartPolicy Always: first restart at once, then CrashLoopBackOff with back-off', async () => {
  const s = setup();
  try {
    const p = pod({ containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 1'] }] });
    const r = rec();
    await s.rm.syncPod(p, r);
    await settle();
    let st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.equal(st.containers.length, 2, 'restarted once immediately');
    st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.equal(st.containers.length, 2, 'second restart held back');
    assert.equal(r.waiting.get('main')?.reason, 'CrashLoopBackOff');
    assert.ok(r.wakeAt && r.wakeAt > Date.now());
    const ps = status(s, p, st, r);
    assert.equal(ps.phase, 'Running');
    assert.equal(ps.containerStatuses?.[0].state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(ps.containerStatuses?.[0].restartCount, 1);
    assert.equal(ps.containerStatuses?.[0].lastState?.terminated?.exitCode, 1);
    assert.ok(s.events.some((e) => e.startsWith('BackOff: Back-off restarting failed container main')));
  } finally { s.cleanup(); }
});

test('restartPolicy OnFailure: success completes the pod', async () => {
  const s = setup();
  try {
    const p = pod({ restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 0'] }] });
    const r = rec();
    await s.rm.syncPod(p, r);
    await settle();
    let st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.equal(status(s, p, st, r).phase, 'Succeeded');
  } finally { s.cleanup(); }
});

test('a failed liveness probe kills the running container', async () => {
  const s = setup();
  try {
    const p = pod({ terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600'] }] });
    const r = rec();
    await s.rm.syncPod(p, r);
    await settle();
    s.setFailed('liveness');
    let st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.equal(st.containers[0].status.state, 'CONTAINER_EXITED');
    assert.ok(s.events.some((e) => /Killing: Container main failed liveness probe, will be restarted/.test(e)));
  } finally { s.cleanup(); }
});

test('image pull policy Never with a missing image waits with ErrImageNeverPull', async () => {
  const s = setup();
  try {
    const p = pod({ containers: [{ name: 'main', image: 'nothere:1', imagePullPolicy: 'Never' }] });
    const r = rec();
    let st = await s.rm.syncPod(p, r);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    await settle();
    st = await s.rm.podState(p.metadata!.uid!);
    assert.equal(st.containers.length, 0);
    const ps = status(s, p, st, r);
    assert.equal(ps.containerStatuses?.[0].state?.waiting?.reason, 'ErrImageNeverPull');
    assert.equal(ps.phase, 'Pending');
  } finally { s.cleanup(); }
});

test('killPod stops every container and the sandbox', async () => {
  const s = setup();
  try {
    const p = pod({ terminationGracePeriodSeconds: 2, containers: [
      { name: 'a', image: 'busybox', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600'] },
      { name: 'b', image: 'busybox', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600'] },
    ] });
    await s.rm.syncPod(p, rec());
    const st = await s.rm.killPod(p, 2);
    assert.ok(st.containers.every((c) => c.status.state === 'CONTAINER_EXITED'));
    assert.ok(st.sandboxes.every((sb) => sb.state === 'SANDBOX_NOTREADY'));
    await s.rm.removePod(p.metadata!.uid!);
    assert.equal((await s.rm.podState(p.metadata!.uid!)).containers.length, 0);
  } finally { s.cleanup(); }
});

test('Backoff doubles up to the maximum and forgets after a long quiet time', () => {
  let now = 1_000_000;
  const b = new Backoff(10, 40, () => now);
  assert.equal(b.inBackoffSince('k', now), false);
  b.next('k');
  assert.equal(b.inBackoffSince('k', now), true);
  now += 11;
  assert.equal(b.inBackoffSince('k', now - 11), false);
  b.next('k'); b.next('k'); b.next('k');
  assert.equal(b.delayOf('k'), 40);
  now += 100;
  assert.equal(b.inBackoffSince('k', now), false);
});
