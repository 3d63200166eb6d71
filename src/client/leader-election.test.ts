import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LEASES, LeaderElector, microTime, type Lease } from './leader-election.js';
import { eventually, startTestCluster, type TestCluster } from './testing.js';

const MICROTIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

test('microTime has six fractional digits', () => {
  assert.equal(microTime(new Date('2024-01-02T03:04:05.678Z')), '2024-01-02T03:04:05.678000Z');
  assert.match(microTime(), MICROTIME);
});

test('options are checked: leaseDuration > renewDeadline > 1.2 x retryPeriod', () => {
  const client = {} as any;
  assert.throws(() => new LeaderElector({ client, namespace: 'n', name: 'l', identity: 'a', leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }));
  assert.throws(() => new LeaderElector({ client, namespace: 'n', name: 'l', identity: 'a', renewDeadlineSeconds: 2, retryPeriodSeconds: 2 }));
  assert.throws(() => new LeaderElector({ client, namespace: 'n', name: 'l', identity: '' }));
  assert.doesNotThrow(() => new LeaderElector({ client, namespace: 'n', name: 'l', identity: 'a' }));
});

describe('LeaderElector against the API server', () => {
  let cluster: TestCluster;
  before(async () => { cluster = await startTestCluster(); });
  after(async () => { await cluster?.stop(); });

  interface Candidate {
    elector: LeaderElector;
    ac: AbortController;
    leading: boolean;
    started: number;
    stopped: number;
    leaderSignal?: AbortSignal;
    run: Promise<void>;
  }

  const candidate = (name: string, identity: string, releaseOnCancel: boolean): Candidate => {
    const elector = new LeaderElector({
      client: cluster.newClient(), namespace: 'kube-system', name, identity,
      leaseDurationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.2, releaseOnCancel,
    });
    const ac = new AbortController();
    const cand: Candidate = { elector, ac, leading: false, started: 0, stopped: 0, run: Promise.resolve() };
    cand.run = elector.run(ac.signal, {
      onStartedLeading(signal) { cand.leading = true; cand.started++; cand.leaderSignal = signal; },
      onStoppedLeading() { cand.leading = false; cand.stopped++; },
    });
    return cand;
  };

  for (const releaseOnCancel of [true, false]) {
    test(`two electors on one Lease: exactly one leads, the other takes over after it stops (releaseOnCancel=${releaseOnCancel})`, async () => {
      const lease = `le-${releaseOnCancel}`;
      const a = candidate(lease, 'alpha', releaseOnCancel);
      const b = candidate(lease, 'beta', releaseOnCancel);
      try {
        await eventually(() => a.leading || b.leading, 'a leader');
        const [first, second] = a.leading ? [a, b] : [b, a];
        const firstId = first.elector.identity;
        // Let several renew periods pass (poll until the lease has been renewed a few times).
        const renewTimes = new Set<string>();
        await eventually(async () => {
          const l = await cluster.client.get<Lease>(LEASES, 'kube-system', lease);
          renewTimes.add(l.spec!.renewTime!);
          return renewTimes.size >= 3;
        }, 'lease renewals');
        assert.equal(first.leading, true);
        assert.equal(second.leading, false, 'the other one does not lead');
        assert.equal(second.started, 0);
        assert.equal(first.elector.isLeader(), true);
        assert.equal(second.elector.isLeader(), false);
        await eventually(() => second.elector.getLeader() === firstId, 'the standby observes the holder');
        assert.equal(second.leading, false);

        const held = await cluster.client.get<Lease>(LEASES, 'kube-system', lease);
        assert.equal(held.spec!.holderIdentity, firstId);
        assert.equal(held.spec!.leaseDurationSeconds, 2);
        assert.match(held.spec!.acquireTime!, MICROTIME);
        assert.match(held.spec!.renewTime!, MICROTIME);
        const transitions = held.spec!.leaseTransitions ?? 0;

        first.ac.abort();
        await first.run;
        assert.equal(first.stopped, 1);
        assert.equal(first.leaderSignal?.aborted, true, 'the leading signal aborts when leadership ends');
        if (releaseOnCancel) {
          const released = await cluster.client.get<Lease>(LEASES, 'kube-system', lease);
          // Another candidate may already have taken it; if not, it is released.
          assert.notEqual(released.spec!.holderIdentity, firstId);
        }

        await eventually(() => second.leading, 'the other elector takes over');
        assert.equal(second.started, 1);
        const taken = await cluster.client.get<Lease>(LEASES, 'kube-system', lease);
        assert.equal(taken.spec!.holderIdentity, second.elector.identity);
        assert.equal(taken.spec!.leaseTransitions, transitions + 1);
      } finally {
        a.ac.abort();
        b.ac.abort();
        await Promise.all([a.run, b.run]);
      }
    });
  }

  test('a leader that cannot renew steps down', async () => {
    const c = candidate('le-lost', 'gamma', true);
    try {
      await eventually(() => c.leading, 'gamma leads');
      // Someone else takes the lease by force (as if gamma's renewals were lost).
      const l = await cluster.client.get<Lease>(LEASES, 'kube-system', 'le-lost');
      await cluster.client.update(LEASES, 'kube-system', {
        ...l, spec: { ...l.spec, holderIdentity: 'intruder', renewTime: microTime(), leaseDurationSeconds: 60 },
      });
      await eventually(() => c.stopped === 1, 'gamma stepped down');
      await c.run;
      assert.equal(c.leaderSignal?.aborted, true);
      assert.equal(c.elector.isLeader(), false);
    } finally {
      c.ac.abort();
      await c.run;
    }
  });
});
