import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CriError, GRPC_NOT_FOUND, type PodSandboxConfig } from './api.js';
import { FakeRuntime, modelProcess, normalizeImageRef, parseScript } from './fake.js';
import { runtimeContract } from './testing/contract.js';

runtimeContract('FakeRuntime', async () => ({
  rt: new FakeRuntime({ images: ['busybox'] }),
  image: 'busybox',
  cleanup: async () => {},
}));

const sandbox = (name: string, extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig => ({
  metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 }, ...extra,
});

describe('FakeRuntime specifics', () => {
  it('normalises image references as containerd does', () => {
    const table: [string, string][] = [
      ['busybox', 'docker.io/library/busybox:latest'],
      ['busybox:1.36', 'docker.io/library/busybox:1.36'],
      ['library/busybox', 'docker.io/library/busybox:latest'],
      ['keelson/pause:3.9', 'docker.io/keelson/pause:3.9'],
      ['localhost:5000/app', 'localhost:5000/app:latest'],
      ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
      ['quay.io/a/b@sha256:' + '0'.repeat(64), 'quay.io/a/b@sha256:' + '0'.repeat(64)],
    ];
    for (const [input, want] of table) assert.equal(normalizeImageRef(input), want, input);
  });

  it('parses shell statements with quotes and separators', () => {
    assert.deepEqual(parseScript(`trap '' TERM; echo "a b" c && exit 4`), [['trap', '', 'TERM'], ['echo', 'a b', 'c'], ['exit', '4']]);
    assert.deepEqual(parseScript('echo one\necho two'), [['echo', 'one'], ['echo', 'two']]);
  });

  it('models main processes from their command', () => {
    const m = (command: string[], args?: string[]) => modelProcess({ metadata: { name: 'c', attempt: 0 }, image: { image: 'x' }, command, args });
    assert.deepEqual(m(['sh', '-c', 'echo hi; exit 2']), { stdout: ['hi'], stderr: [], exitCode: 2, sigtermExitCode: undefined });
    assert.equal(m(['nginx']).exitCode, undefined); // a server keeps running
    assert.equal(m(['sleep', '10']).exitCode, undefined);
    assert.equal(m(['/bin/sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"]).sigtermExitCode, 0);
    assert.equal(m(['true']).exitCode, 0);
    assert.equal(m(['sh'], ['-c', 'false']).exitCode, 1);
    assert.deepEqual(modelProcess({ metadata: { name: 'c', attempt: 0 }, image: { image: 'x' } }), {});
  });

  it('gives sandboxes distinct 10.244.0.x IPs, none for host network, and records calls', async () => {
    const rt = new FakeRuntime();
    const a = await rt.runPodSandbox(sandbox('a'));
    const b = await rt.runPodSandbox(sandbox('b'));
    const h = await rt.runPodSandbox(sandbox('h', { linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }));
    const ipA = (await rt.podSandboxStatus(a)).network?.ip;
    const ipB = (await rt.podSandboxStatus(b)).network?.ip;
    assert.match(ipA!, /^10\.244\.0\.\d+$/);
    assert.match(ipB!, /^10\.244\.0\.\d+$/);
    assert.notEqual(ipA, ipB);
    assert.equal((await rt.podSandboxStatus(h)).network?.ip, '');
    assert.deepEqual(rt.calls, ['RunPodSandbox', 'RunPodSandbox', 'RunPodSandbox', 'PodSandboxStatus', 'PodSandboxStatus', 'PodSandboxStatus']);
  });

  it('exitContainer ends a running container with the given code and reason', async () => {
    const rt = new FakeRuntime({ images: ['busybox'] });
    const sb = sandbox('oom');
    const s = await rt.runPodSandbox(sb);
    const c = await rt.createContainer(s, { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, command: ['server'] }, sb);
    await rt.startContainer(c);
    assert.equal((await rt.containerStatus(c)).state, 'CONTAINER_RUNNING');
    rt.exitContainer(c, 137, 'OOMKilled');
    const st = await rt.containerStatus(c);
    assert.equal(st.state, 'CONTAINER_EXITED');
    assert.equal(st.exitCode, 137);
    assert.equal(st.reason, 'OOMKilled');
  });

  it('setExecResult and setProcess override the model; injectError fails the next call', async () => {
    const rt = new FakeRuntime({ images: ['busybox'] });
    rt.setProcess(() => ({ stdout: ['started'], sigtermExitCode: 0 }));
    rt.setExecResult((_id, cmd) => cmd[0] === 'probe' ? { stdout: Buffer.from('ok'), stderr: Buffer.alloc(0), exitCode: 1 } : undefined);
    const dir = await mkdtemp(join(tmpdir(), 'fake-cri-'));
    try {
      const sb = sandbox('hooks', { logDirectory: dir });
      const s = await rt.runPodSandbox(sb);
      const c = await rt.createContainer(s, { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, logPath: 'app.log' }, sb);
      await rt.startContainer(c);
      assert.match(await readFile(join(dir, 'app.log'), 'utf8'), /^\S+ stdout F started\n$/);
      assert.equal((await rt.execSync(c, ['probe'], 1)).exitCode, 1);
      assert.equal((await rt.execSync(c, ['echo', 'x'], 1)).stdout.toString(), 'x\n');
      await rt.stopContainer(c, 30);
      assert.equal((await rt.containerStatus(c)).exitCode, 0);

      rt.injectError('PullImage', 2, 'registry down');
      await assert.rejects(rt.pullImage({ image: 'nginx' }), (e: unknown) => e instanceof CriError && e.code === 2);
      const ref = await rt.pullImage({ image: 'nginx' });
      assert.equal((await rt.imageStatus({ image: 'docker.io/library/nginx:latest' }))?.id, ref);
    } finally {
      await rt.removePodSandbox('x').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses containers whose image is absent, like containerd', async () => {
    const rt = new FakeRuntime();
    const sb = sandbox('noimg');
    const s = await rt.runPodSandbox(sb);
    await assert.rejects(
      rt.createContainer(s, { metadata: { name: 'app', attempt: 0 }, image: { image: 'nginx' } }, sb),
      (e: unknown) => e instanceof CriError && e.code === GRPC_NOT_FOUND);
  });
});
