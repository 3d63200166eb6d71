import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_RESOURCES } from '../../api/resources.js';
import { toTable } from './table.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MIN = 60_000;
const podInfo = BUILTIN_RESOURCES.find((r) => r.group === '' && r.kind === 'Pod')!;

function pod(spec: any, status: any, metadata: any = {}): any {
  return {
    metadata: { name: 'p', namespace: 'default', creationTimestamp: ago(10 * MIN), ...metadata },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
    status,
  };
}

function row(p: any) {
  return toTable(podInfo, [p], { now: NOW }).rows[0];
}

const running = { running: { startedAt: ago(MIN) } };
const readyCond = [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }];

test('pod STATUS and READY follow kubectl for each pod state', () => {
  const initSpec = { initContainers: [{ name: 'init', image: 'busybox' }] };
  const cases: [string, any, string, string][] = [
    ['pending, nothing reported', pod({}, { phase: 'Pending' }), 'Pending', '0/1'],
    ['container creating', pod({}, { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }), 'ContainerCreating', '0/1'],
    ['running and ready', pod({}, { phase: 'Running', conditions: readyCond, containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: running }] }), 'Running', '1/1'],
    ['running, not ready', pod({}, { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: running }] }), 'Running', '0/1'],
    ['crash loop', pod({}, { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }), 'CrashLoopBackOff', '0/1'],
    ['image pull backoff', pod({}, { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] }), 'ImagePullBackOff', '0/1'],
    ['completed', pod({}, { phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }), 'Completed', '0/1'],
    ['error', pod({}, { phase: 'Failed', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] }), 'Error', '0/1'],
    ['OOMKilled', pod({}, { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 1, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] }), 'OOMKilled', '0/1'],
    ['terminated without reason: exit code', pod({}, { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 2 } } }] }), 'ExitCode:2', '0/1'],
    ['terminated without reason: signal', pod({}, { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 137, signal: 9 } } }] }), 'Signal:9', '0/1'],
    ['init container running', pod(initSpec, { phase: 'Pending', initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, state: running }], containerStatuses: [{ name: 'c', state: { waiting: { reason: 'PodInitializing' } } }] }), 'Init:0/1', '0/1'],
    ['init container waiting for PodInitializing', pod(initSpec, { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { waiting: { reason: 'PodInitializing' } } }] }), 'Init:0/1', '0/1'],
    ['second init container of two', pod({ initContainers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Pending', initContainerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { name: 'b', state: running }] }), 'Init:1/2', '0/1'],
    ['init crash loop', pod(initSpec, { phase: 'Pending', initContainerStatuses: [{ name: 'init', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }), 'Init:CrashLoopBackOff', '0/1'],
    ['init error', pod(initSpec, { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }), 'Init:Error', '0/1'],
    ['init exit code', pod(initSpec, { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 3 } } }] }), 'Init:ExitCode:3', '0/1'],
    ['init signal', pod(initSpec, { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 1, signal: 15 } } }] }), 'Init:Signal:15', '0/1'],
    ['pod initializing', pod(initSpec, { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { terminated: { exitCode: 0, reason: 'Completed' } } }], containerStatuses: [{ name: 'c', state: { waiting: { reason: 'PodInitializing' } } }] }), 'PodInitializing', '0/1'],
    ['terminating', pod({}, { phase: 'Running', conditions: readyCond, containerStatuses: [{ name: 'c', ready: true, state: running }] }, { deletionTimestamp: ago(0) }), 'Terminating', '1/1'],
    ['deleted completed pod stays Completed', pod({}, { phase: 'Succeeded', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }, { deletionTimestamp: ago(0) }), 'Completed', '0/1'],
    ['node lost', pod({}, { phase: 'Running', reason: 'NodeLost', containerStatuses: [{ name: 'c', ready: true, state: running }] }, { deletionTimestamp: ago(0) }), 'Unknown', '1/1'],
    ['evicted', pod({}, { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }), 'Evicted', '0/1'],
    ['scheduling gated', pod({ schedulingGates: [{ name: 'g' }] }, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }), 'SchedulingGated', '0/1'],
    ['one completed, one running and ready', pod({ containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', conditions: readyCond, containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { name: 'b', ready: true, state: running }] }), 'Running', '1/2'],
    ['one completed, one running, pod not ready', pod({ containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { name: 'b', ready: true, state: running }] }), 'NotReady', '1/2'],
    ['first container decides among several', pod({ containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', containerStatuses: [{ name: 'a', state: { waiting: { reason: 'CrashLoopBackOff' } } }, { name: 'b', ready: true, state: running }] }), 'CrashLoopBackOff', '1/2'],
    ['sidecar counts toward ready and total', pod({ initContainers: [{ name: 'side', restartPolicy: 'Always' }] }, { phase: 'Running', conditions: readyCond, initContainerStatuses: [{ name: 'side', started: true, ready: true, state: running }], containerStatuses: [{ name: 'c', ready: true, state: running }] }), 'Running', '2/2'],
  ];
  for (const [what, p, status, ready] of cases) {
    const r = row(p);
    assert.equal(r.cells[2], status, `${what}: status`);
    assert.equal(r.cells[1], ready, `${what}: ready`);
  }
});

test('pod RESTARTS carries "(N ago)" of the last termination', () => {
  const p = pod({}, {
    phase: 'Running',
    containerStatuses: [{ name: 'c', ready: false, restartCount: 5, lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * MIN) } }, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
  });
  assert.equal(row(p).cells[3], '5 (5m ago)');

  // Several containers: the most recent termination wins; restarts add up.
  const two = pod({ containers: [{ name: 'a' }, { name: 'b' }] }, {
    phase: 'Running',
    containerStatuses: [
      { name: 'a', restartCount: 1, lastState: { terminated: { finishedAt: ago(3 * 60 * MIN) } }, state: running },
      { name: 'b', restartCount: 2, lastState: { terminated: { finishedAt: ago(90_000) } }, state: running },
    ],
  });
  assert.equal(row(two).cells[3], '3 (90s ago)');

  // Restarts without a recorded termination print the count alone; zero is "0".
  assert.equal(row(pod({}, { phase: 'Running', containerStatuses: [{ name: 'c', restartCount: 2, state: running }] })).cells[3], '2');
  assert.equal(row(pod({}, { phase: 'Running', containerStatuses: [{ name: 'c', restartCount: 0, state: running }] })).cells[3], '0');
});

test('pod RESTARTS count init containers only while initializing', () => {
  const initSpec = { initContainers: [{ name: 'init' }] };
  const initializing = pod(initSpec, {
    phase: 'Pending',
    initContainerStatuses: [{ name: 'init', restartCount: 4, lastState: { terminated: { finishedAt: ago(2 * MIN) } }, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
  });
  assert.equal(row(initializing).cells[3], '4 (2m ago)');

  const done = pod(initSpec, {
    phase: 'Running',
    initContainerStatuses: [{ name: 'init', restartCount: 4, lastState: { terminated: { finishedAt: ago(2 * MIN) } }, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    containerStatuses: [{ name: 'c', restartCount: 1, lastState: { terminated: { finishedAt: ago(60 * MIN) } }, ready: true, state: running }],
  });
  assert.equal(row(done).cells[3], '1 (60m ago)');
});

test('pod wide columns: IP, node, nominated node, readiness gates', () => {
  const p = pod({ nodeName: 'node-1', readinessGates: [{ conditionType: 'a' }, { conditionType: 'b' }] }, {
    phase: 'Running', podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.7' }, { ip: 'fd00::7' }],
    conditions: [{ type: 'a', status: 'True' }, { type: 'b', status: 'False' }],
    containerStatuses: [{ name: 'c', ready: true, state: running }],
  });
  assert.deepEqual(row(p).cells, ['p', '1/1', 'Running', '0', '10m', '10.0.0.7', 'node-1', '<none>', '1/2']);
  const bare = pod({}, { phase: 'Pending' });
  assert.deepEqual(row(bare).cells.slice(5), ['<none>', '<none>', '<none>', '<none>']);
  const onlyPodIP = pod({}, { phase: 'Running', podIP: '10.0.0.9', nominatedNodeName: 'n2' });
  assert.deepEqual(row(onlyPodIP).cells.slice(5, 8), ['10.0.0.9', '<none>', 'n2']);
});

test('finished pods carry the Completed row condition', () => {
  const ok = row(pod({}, { phase: 'Succeeded' }));
  assert.deepEqual(ok.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  const failed = row(pod({}, { phase: 'Failed' }));
  assert.deepEqual(failed.conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
  assert.equal(row(pod({}, { phase: 'Running' })).conditions, undefined);
});

test('pod columns are the 1.32 ones, wide columns at priority 1', () => {
  const t = toTable(podInfo, [], { now: NOW });
  assert.deepEqual(t.columnDefinitions!.map((c) => [c.name, c.type, c.format, c.priority]), [
    ['Name', 'string', 'name', 0], ['Ready', 'string', '', 0], ['Status', 'string', '', 0], ['Restarts', 'string', '', 0],
    ['Age', 'string', '', 0], ['IP', 'string', '', 1], ['Node', 'string', '', 1], ['Nominated Node', 'string', '', 1],
    ['Readiness Gates', 'string', '', 1],
  ]);
});
