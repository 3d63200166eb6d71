import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework.js';
import { makeCache, makeNode, makePod, nodeInfoOf, podInfo } from '../../testing.js';
import { NodeResourcesFit, leastRequested, mostRequested } from './node-resources-fit.js';
import { computePodRequests } from '../../resources.js';

const fit = new NodeResourcesFit();

test('NodeResourcesFit filter: table', () => {
  const cases: Array<{ name: string; node: Parameters<typeof makeNode>[1]; existing?: Parameters<typeof makePod>[1][]; pod: Parameters<typeof makePod>[1]; want: string[] | null }> = [
    { name: 'fits', node: { cpu: '2', memory: '4Gi' }, pod: { cpu: '1', memory: '1Gi' }, want: null },
    { name: 'exactly fits', node: { cpu: '2' }, existing: [{ cpu: '1500m' }], pod: { cpu: '500m' }, want: null },
    { name: 'cpu', node: { cpu: '2' }, existing: [{ cpu: '1500m' }], pod: { cpu: '501m' }, want: ['Insufficient cpu'] },
    { name: 'memory', node: { memory: '1Gi' }, pod: { memory: '2Gi' }, want: ['Insufficient memory'] },
    { name: 'cpu and memory', node: { cpu: '1', memory: '1Gi' }, pod: { cpu: '2', memory: '2Gi' }, want: ['Insufficient cpu', 'Insufficient memory'] },
    { name: 'too many pods', node: { pods: '1' }, existing: [{}], pod: {}, want: ['Too many pods'] },
    { name: 'pods and cpu', node: { pods: '1', cpu: '1' }, existing: [{}], pod: { cpu: '2' }, want: ['Too many pods', 'Insufficient cpu'] },
    { name: 'gpu missing on node', node: {}, pod: { extra: { 'nvidia.com/gpu': '1' } }, want: ['Insufficient nvidia.com/gpu'] },
    { name: 'gpu fits', node: { extra: { 'nvidia.com/gpu': '2' } }, existing: [{ extra: { 'nvidia.com/gpu': '1' } }], pod: { extra: { 'nvidia.com/gpu': '1' } }, want: null },
    { name: 'gpu used up', node: { extra: { 'nvidia.com/gpu': '2' } }, existing: [{ extra: { 'nvidia.com/gpu': '2' } }], pod: { extra: { 'nvidia.com/gpu': '1' } }, want: ['Insufficient nvidia.com/gpu'] },
    { name: 'best effort pod', node: { cpu: '1' }, existing: [{ cpu: '1' }], pod: {}, want: null },
  ];
  for (const c of cases) {
    const existing = (c.existing ?? []).map((e, i) => makePod(`e${i}`, { ...e, nodeName: 'n' }));
    const cache = makeCache([makeNode('n', c.node)], existing);
    const s = fit.filter(new CycleState(), podInfo('p', c.pod), nodeInfoOf(cache, 'n'));
    assert.deepEqual(s ? [...s.reasons] : null, c.want, c.name);
    if (s) assert.equal(s.code, 2, `${c.name}: Unschedulable (preemption may help)`);
  }
});

test('pod requests: init containers max rule, sidecars, overhead, limits as requests', () => {
  const r = computePodRequests({
    initContainers: [{ resources: { requests: { cpu: '2', memory: '1Gi' } } }, { resources: { requests: { cpu: '500m', memory: '3Gi' } } }],
    containers: [{ resources: { requests: { cpu: '1', memory: '1Gi' } } }, { resources: { requests: { cpu: '250m' } } }],
  });
  assert.equal(r.requests.milliCPU, 2000);
  assert.equal(r.requests.memory, 3 * 1024 ** 3);
  // Sidecar (restartable init) adds to containers and to later init containers.
  const s = computePodRequests({
    initContainers: [{ restartPolicy: 'Always', resources: { requests: { cpu: '1' } } }, { resources: { requests: { cpu: '2' } } }],
    containers: [{ resources: { requests: { cpu: '1' } } }],
    overhead: { cpu: '100m' },
  });
  assert.equal(s.requests.milliCPU, 3100); // max(1+1, 2+1) + overhead
  const l = computePodRequests({ containers: [{ resources: { limits: { cpu: '300m', 'nvidia.com/gpu': '1' } } }] });
  assert.equal(l.requests.milliCPU, 300);
  assert.equal(l.requests.getScalar('nvidia.com/gpu'), 1);
  // Non-zero defaults for scoring.
  const z = computePodRequests({ containers: [{}, { resources: { requests: { cpu: '1' } } }] });
  assert.equal(z.nonZeroMilliCPU, 1100);
  assert.equal(z.nonZeroMemory, 2 * 200 * 1024 * 1024);
});

test('NodeResourcesFit score: least allocated prefers emptier nodes; most allocated packs', () => {
  assert.equal(leastRequested(0, 1000), 100);
  assert.equal(leastRequested(500, 1000), 50);
  assert.equal(leastRequested(1500, 1000), 0);
  assert.equal(mostRequested(500, 1000), 50);
  assert.equal(mostRequested(1500, 1000), 100);
  const cache = makeCache([makeNode('empty', { cpu: '4', memory: '8Gi' }), makeNode('busy', { cpu: '4', memory: '8Gi' })], [makePod('x', { cpu: '3', memory: '6Gi', nodeName: 'busy' })]);
  const p = podInfo('p', { cpu: '1', memory: '2Gi' });
  const least = new NodeResourcesFit();
  const most = new NodeResourcesFit({ scoringStrategy: 'MostAllocated' });
  const st = new CycleState();
  assert.ok(least.score(st, p, nodeInfoOf(cache, 'empty')) > least.score(st, p, nodeInfoOf(cache, 'busy')));
  assert.ok(most.score(st, p, nodeInfoOf(cache, 'empty')) < most.score(st, p, nodeInfoOf(cache, 'busy')));
  // (4000-1000)/4000 = 75 for cpu, (8-2)/8 = 75 for memory
  assert.equal(least.score(st, p, nodeInfoOf(cache, 'empty')), 75);
});
