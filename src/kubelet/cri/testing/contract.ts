/**
 * The CRI contract: one node:test suite that every RuntimeService + ImageService kubelet may be
 * given must pass (FakeRuntime in fake.test.ts, containerd through GrpcRuntime in
 * containerd/containerd.test.ts). It pins the behaviour kubelet relies on, in the terms the
 * CRI spec (k8s.io/cri-api) and containerd use:
 *  - sandboxes: READY with an IPv4 address while running, labels/annotations returned as
 *    given, NOTREADY after StopPodSandbox, stop/remove idempotent, NOT_FOUND once removed;
 *  - containers: CREATED → RUNNING → EXITED with exit code, reason Completed/Error, output
 *    in the CRI log file ("<RFC3339Nano> <stream> F <line>");
 *  - StopContainer: SIGTERM handled → the trap's exit code; ignored → killed, 137;
 *  - ExecSync: stdout, stderr and exit code of the command; an error outside RUNNING;
 *  - List filters (id, state, sandbox, label selector) are ANDed;
 *  - unknown ids: NOT_FOUND (gRPC code 5) from status/start/stop/exec/create-in-sandbox.
 *
 * `make` returns the runtime under test, an image that has /bin/sh with busybox-style
 * echo/sleep/trap (and is already present), and a cleanup. The suite only uses shell forms
 * the fake models (see fake.ts), so both implementations see the same commands.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CriError, GRPC_NOT_FOUND,
  type ContainerConfig, type ContainerState, type ContainerStatus, type ImageService,
  type PodSandboxConfig, type RuntimeService,
} from '../api.js';

export interface ContractSubject {
  rt: RuntimeService & ImageService;
  /** An image present in the runtime with a busybox-like /bin/sh. */
  image: string;
  cleanup(): Promise<void>;
}

/** CRI log line: timestamp, stream, tag (P partial / F full), content. */
export const CRI_LOG_LINE = /^(\S+) (stdout|stderr) (P|F) (.*)$/;

async function poll<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function assertCode(p: Promise<unknown>, code: number, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CriError, `${what}: expected CriError, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: expected code ${code}, got ${e.code} (${e.message})`);
    return true;
  });
}

export function runtimeContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`CRI contract: ${name}`, () => {
    let subject: ContractSubject;
    let rt: RuntimeService & ImageService;
    let logRoot: string;
    let seq = 0;
    const run = `${process.pid}-${Date.now().toString(36)}`;

    before(async () => {
      subject = await make();
      rt = subject.rt;
      logRoot = await mkdtemp(join(tmpdir(), 'keelson-cri-contract-'));
    });

    after(async () => {
      // Leave no pods behind even when a test failed half-way.
      try {
        for (const s of await rt.listPodSandbox({ labelSelector: { 'keelson.test/run': run } })) {
          await rt.stopPodSandbox(s.id).catch(() => {});
          await rt.removePodSandbox(s.id).catch(() => {});
        }
      } finally {
        await subject.cleanup();
        await rm(logRoot, { recursive: true, force: true });
      }
    });

    const sandboxConfig = (extraLabels: Record<string, string> = {}): PodSandboxConfig => {
      const n = ++seq;
      return {
        metadata: { name: `contract-${n}`, uid: `uid-${run}-${n}`, namespace: 'contract', attempt: 0 },
        hostname: `contract-${n}`,
        logDirectory: join(logRoot, `pod-${n}`),
        labels: { 'keelson.test/run': run, 'keelson.test/pod': `contract-${n}`, ...extraLabels },
        annotations: { 'keelson.test/note': `pod ${n}` },
        linux: {},
      };
    };

    const newSandbox = async (extraLabels?: Record<string, string>) => {
      const config = sandboxConfig(extraLabels);
      // kubelet creates the pod log directory before the sandbox; so do we.
      await mkdir(config.logDirectory!, { recursive: true });
      const id = await rt.runPodSandbox(config);
      return { id, config };
    };

    const containerConfig = (cname: string, script: string, labels: Record<string, string> = {}): ContainerConfig => ({
      metadata: { name: cname, attempt: 0 },
      image: { image: subject.image },
      command: ['sh', '-c', script],
      logPath: `${cname}/0.log`,
      labels: { 'keelson.test/container': cname, ...labels },
      annotations: { 'keelson.test/script': script },
      linux: {},
    });

    const startContainer = async (sandbox: { id: string; config: PodSandboxConfig }, cname: string, script: string, labels?: Record<string, string>) => {
      const id = await rt.createContainer(sandbox.id, containerConfig(cname, script, labels), sandbox.config);
      await rt.startContainer(id);
      return id;
    };

    const waitState = (id: string, state: ContainerState): Promise<ContainerStatus> =>
      poll(`container ${id} to be ${state}`, () => rt.containerStatus(id), (s) => s.state === state);

    const removeSandbox = async (id: string) => {
      await rt.stopPodSandbox(id);
      await rt.removePodSandbox(id);
    };

    it('reports its version and ready conditions', async () => {
      const v = await rt.version();
      assert.equal(v.runtimeApiVersion, 'v1');
      assert.ok(v.runtimeName.length > 0);
      const { conditions } = await rt.status();
      for (const type of ['RuntimeReady', 'NetworkReady']) {
        assert.equal(conditions.find((c) => c.type === type)?.status, true, `${type} should be true`);
      }
    });

    it('knows its images; an absent image has status null', async () => {
      const img = await rt.imageStatus({ image: subject.image });
      assert.ok(img, `${subject.image} should be present`);
      assert.match(img.id, /^sha256:[0-9a-f]{64}$/);
      assert.ok(img.size > 0);
      const listed = await rt.listImages();
      assert.ok(listed.some((i) => i.id === img.id));
      assert.equal(await rt.imageStatus({ image: 'docker.io/keelson/absent-image:never' }), null);
      const fs = await rt.imageFsInfo();
      assert.ok(fs.length >= 1 && fs[0]!.mountpoint.length > 0);
    });

    it('runs a sandbox: READY with an IP, found by label, NOTREADY when stopped, NOT_FOUND when removed', async () => {
      const sb = await newSandbox({ 'keelson.test/lifecycle': 'yes' });
      const st = await rt.podSandboxStatus(sb.id);
      assert.equal(st.id, sb.id);
      assert.equal(st.state, 'SANDBOX_READY');
      assert.deepEqual(st.metadata, sb.config.metadata);
      assert.deepEqual(st.labels, sb.config.labels);
      assert.deepEqual(st.annotations, sb.config.annotations);
      assert.ok(st.createdAt > 0);
      assert.match(st.network?.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);

      const byLabel = await rt.listPodSandbox({ labelSelector: { 'keelson.test/lifecycle': 'yes', 'keelson.test/run': run } });
      assert.deepEqual(byLabel.map((s) => s.id), [sb.id]);
      assert.equal(byLabel[0]!.state, 'SANDBOX_READY');
      assert.deepEqual((await rt.listPodSandbox({ id: sb.id })).map((s) => s.id), [sb.id]);
      const notReady = await rt.listPodSandbox({ state: { state: 'SANDBOX_NOTREADY' }, labelSelector: { 'keelson.test/lifecycle': 'yes' } });
      assert.deepEqual(notReady, []);

      await rt.stopPodSandbox(sb.id);
      assert.equal((await rt.podSandboxStatus(sb.id)).state, 'SANDBOX_NOTREADY');
      await rt.stopPodSandbox(sb.id); // idempotent
      assert.deepEqual(
        (await rt.listPodSandbox({ state: { state: 'SANDBOX_NOTREADY' }, labelSelector: { 'keelson.test/lifecycle': 'yes' } })).map((s) => s.id),
        [sb.id]);

      await rt.removePodSandbox(sb.id);
      await assertCode(rt.podSandboxStatus(sb.id), GRPC_NOT_FOUND, 'status of a removed sandbox');
      await rt.removePodSandbox(sb.id); // idempotent
      assert.deepEqual(await rt.listPodSandbox({ id: sb.id }), []);
    });

    it('runs a container to completion: exit code, reason, timestamps and CRI log', async () => {
      const sb = await newSandbox();
      try {
        const cfg = containerConfig('exits', 'echo hello; echo oops >&2; exit 3');
        const id = await rt.createContainer(sb.id, cfg, sb.config);
        const created = await rt.containerStatus(id);
        assert.equal(created.state, 'CONTAINER_CREATED');
        assert.equal(created.startedAt, 0);
        assert.deepEqual(created.metadata, cfg.metadata);
        assert.deepEqual(created.labels, cfg.labels);
        assert.deepEqual(created.annotations, cfg.annotations);
        assert.equal(created.logPath, join(sb.config.logDirectory!, cfg.logPath!));
        assert.match(created.imageRef, /sha256:[0-9a-f]{64}/);

        await rt.startContainer(id);
        const done = await waitState(id, 'CONTAINER_EXITED');
        assert.equal(done.exitCode, 3);
        assert.equal(done.reason, 'Error');
        // containerd can stamp startedAt a little after a very short process has already finished.
        assert.ok(done.startedAt > 0 && done.finishedAt > 0 && done.finishedAt >= done.startedAt - 50e6, JSON.stringify(done));
        await assertCode(rt.startContainer(id), 2, 'starting an exited container');

        const lines = (await readFile(done.logPath, 'utf8')).trimEnd().split('\n');
        const parsed = lines.map((l) => CRI_LOG_LINE.exec(l));
        assert.ok(parsed.every(Boolean), `CRI log format: ${JSON.stringify(lines)}`);
        assert.deepEqual(parsed.map((m) => [m![2], m![3], m![4]]).sort(), [['stderr', 'F', 'oops'], ['stdout', 'F', 'hello']]);
        assert.ok(!Number.isNaN(Date.parse(parsed[0]![1]!)), 'timestamp parses');

        const ok = await startContainer(sb, 'completes', 'exit 0');
        const okStatus = await waitState(ok, 'CONTAINER_EXITED');
        assert.equal(okStatus.exitCode, 0);
        assert.equal(okStatus.reason, 'Completed');
      } finally {
        await removeSandbox(sb.id);
      }
    });

    it('execs synchronously in a running container: stdout, stderr, exit code', async () => {
      const sb = await newSandbox();
      try {
        const id = await startContainer(sb, 'server', 'echo hello; sleep 3600');
        await waitState(id, 'CONTAINER_RUNNING');
        const echo = await rt.execSync(id, ['echo', 'hi there'], 10);
        assert.equal(echo.stdout.toString(), 'hi there\n');
        assert.equal(echo.stderr.toString(), '');
        assert.equal(echo.exitCode, 0);
        const both = await rt.execSync(id, ['sh', '-c', 'echo out; echo err >&2; exit 7'], 10);
        assert.equal(both.stdout.toString(), 'out\n');
        assert.equal(both.stderr.toString(), 'err\n');
        assert.equal(both.exitCode, 7);

        const log = await poll('log line', () => readFile(join(sb.config.logDirectory!, 'server/0.log'), 'utf8').catch(() => ''), (s) => s.includes('hello'));
        assert.match(log, /^\S+ stdout F hello$/m);

        await rt.stopContainer(id, 0);
        await assert.rejects(rt.execSync(id, ['echo', 'x'], 5), CriError, 'exec in an exited container');
      } finally {
        await removeSandbox(sb.id);
      }
    });

    it('stops containers: SIGTERM handled → its exit code; ignored → killed after the grace period (137)', async () => {
      const sb = await newSandbox();
      try {
        const graceful = await startContainer(sb, 'graceful', "trap 'exit 0' TERM; while true; do sleep 1; done");
        const stubborn = await startContainer(sb, 'stubborn', "trap '' TERM; sleep 3600");
        await waitState(graceful, 'CONTAINER_RUNNING');
        await waitState(stubborn, 'CONTAINER_RUNNING');

        await rt.stopContainer(graceful, 10);
        const g = await rt.containerStatus(graceful);
        assert.equal(g.state, 'CONTAINER_EXITED');
        assert.equal(g.exitCode, 0);

        await rt.stopContainer(stubborn, 1);
        const s = await rt.containerStatus(stubborn);
        assert.equal(s.state, 'CONTAINER_EXITED');
        assert.equal(s.exitCode, 137);

        await rt.stopContainer(stubborn, 1); // stopping an exited container is fine
      } finally {
        await removeSandbox(sb.id);
      }
    });

    it('lists containers by sandbox, state and label (ANDed)', async () => {
      const sb = await newSandbox();
      const other = await newSandbox();
      try {
        const a = await startContainer(sb, 'a', 'sleep 3600', { tier: 'front' });
        const b = await rt.createContainer(sb.id, containerConfig('b', 'sleep 3600', { tier: 'back' }), sb.config);
        const c = await startContainer(other, 'c', 'sleep 3600', { tier: 'front' });
        await waitState(a, 'CONTAINER_RUNNING');

        const ids = async (f: Parameters<RuntimeService['listContainers']>[0]) => (await rt.listContainers(f)).map((x) => x.id).sort();
        assert.deepEqual(await ids({ podSandboxId: sb.id }), [a, b].sort());
        assert.deepEqual(await ids({ podSandboxId: sb.id, labelSelector: { tier: 'front' } }), [a]);
        assert.deepEqual(await ids({ labelSelector: { tier: 'front', 'keelson.test/container': 'c' } }), [c]);
        assert.deepEqual(await ids({ podSandboxId: sb.id, state: { state: 'CONTAINER_CREATED' } }), [b]);
        assert.deepEqual(await ids({ podSandboxId: sb.id, state: { state: 'CONTAINER_RUNNING' } }), [a]);
        assert.deepEqual(await ids({ id: c }), [c]);

        const listed = (await rt.listContainers({ id: a }))[0]!;
        assert.equal(listed.podSandboxId, sb.id);
        assert.equal(listed.state, 'CONTAINER_RUNNING');
        assert.deepEqual(listed.metadata, { name: 'a', attempt: 0 });
        assert.equal(listed.labels.tier, 'front');

        await rt.stopContainer(b, 0); // never started: nothing to stop
        await rt.removeContainer(b);
        await assertCode(rt.containerStatus(b), GRPC_NOT_FOUND, 'status of a removed container');
        await rt.removeContainer(b); // idempotent
        assert.deepEqual(await ids({ podSandboxId: sb.id }), [a]);
      } finally {
        await removeSandbox(sb.id);
        await removeSandbox(other.id);
      }
    });

    it('stopping a sandbox stops its containers; removing it removes them', async () => {
      const sb = await newSandbox();
      const id = await startContainer(sb, 'inside', 'sleep 3600');
      await waitState(id, 'CONTAINER_RUNNING');
      await rt.stopPodSandbox(sb.id);
      assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_EXITED');
      await rt.removePodSandbox(sb.id);
      await assertCode(rt.containerStatus(id), GRPC_NOT_FOUND, 'container of a removed sandbox');
    });

    it('answers NOT_FOUND for unknown ids', async () => {
      const missing = 'f'.repeat(64);
      await assertCode(rt.containerStatus(missing), GRPC_NOT_FOUND, 'ContainerStatus');
      await assertCode(rt.startContainer(missing), GRPC_NOT_FOUND, 'StartContainer');
      await assertCode(rt.stopContainer(missing, 0), GRPC_NOT_FOUND, 'StopContainer');
      await assertCode(rt.execSync(missing, ['true'], 1), GRPC_NOT_FOUND, 'ExecSync');
      await assertCode(rt.podSandboxStatus(missing), GRPC_NOT_FOUND, 'PodSandboxStatus');
      await assertCode(rt.stopPodSandbox(missing), GRPC_NOT_FOUND, 'StopPodSandbox');
      const cfg = sandboxConfig();
      await assertCode(rt.createContainer(missing, containerConfig('x', 'true'), cfg), GRPC_NOT_FOUND, 'CreateContainer in a missing sandbox');
      await rt.removeContainer(missing); // removal of what is gone is not an error
      await rt.removePodSandbox(missing);
    });
  });
}
