import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, CycleState } from '../../framework.js';
import { makeCache, makeNode, makePod, nodeInfoOf, podInfo } from '../../testing.js';
import { NodePorts, ERR_REASON } from './node-ports.js';

const ports = (p: Record<string, unknown>) => ({ spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, ...p }] }] } });

test('NodePorts: host port conflicts (table)', () => {
  const pl = new NodePorts();
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, boolean]> = [
    ['same port, any address', { hostPort: 8080 }, { hostPort: 8080 }, false],
    ['other port', { hostPort: 8081 }, { hostPort: 8080 }, true],
    ['other protocol', { hostPort: 8080 }, { hostPort: 8080, protocol: 'UDP' }, true],
    ['different specific addresses', { hostPort: 8080, hostIP: '10.0.0.1' }, { hostPort: 8080, hostIP: '10.0.0.2' }, true],
    ['specific vs any address', { hostPort: 8080, hostIP: '10.0.0.1' }, { hostPort: 8080 }, false],
    ['container port only is no host port', { containerPort: 8080 }, { hostPort: 8080 }, true],
  ];
  for (const [name, existingPort, incoming, fits] of cases) {
    const cache = makeCache([makeNode('n')], [makePod('e', { nodeName: 'n', ...ports(existingPort) })]);
    const p = podInfo('p', ports(incoming));
    const st = new CycleState();
    assert.equal(pl.preFilter(st, p), null);
    const s = pl.filter(st, p, nodeInfoOf(cache, 'n'));
    assert.equal(s === null, fits, name);
    if (s) assert.deepEqual(s.reasons, [ERR_REASON]);
  }
  assert.equal(pl.preFilter(new CycleState(), podInfo('none'))?.code, Code.Skip);
});
