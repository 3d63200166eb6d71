import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_RESOURCES } from '../../api/resources.js';
import { StatusError } from '../../apimachinery/errors.js';
import { Priority } from './priority.js';
import type { AdmissionAttributes } from './admission.js';

const info = (plural: string, group = '') => BUILTIN_RESOURCES.find((r) => r.plural === plural && r.group === group)!;
const user = { username: 'u', groups: [] };
const podCreate = (spec: any): AdmissionAttributes => ({
  operation: 'CREATE', phase: 'mutate', info: info('pods'), namespace: 'default', name: 'p', obj: { metadata: { name: 'p' }, spec }, user, dryRun: false,
});
const pc = (name: string, value: number, extra: any = {}) => ({ metadata: { name }, value, ...extra });

test('Priority resolves classes, the global default and the system classes; unknown classes are 403', () => {
  let classes: any[] = [pc('high', 1000, { preemptionPolicy: 'Never' }), pc('low', 10)];
  const plugin = new Priority(() => classes);
  const a = podCreate({ priorityClassName: 'high', containers: [] });
  plugin.admit(a);
  assert.deepEqual([a.obj.spec.priority, a.obj.spec.preemptionPolicy], [1000, 'Never']);
  const none = podCreate({ containers: [] });
  plugin.admit(none);
  assert.deepEqual([none.obj.spec.priority, none.obj.spec.preemptionPolicy, none.obj.spec.priorityClassName], [0, 'PreemptLowerPriority', undefined]);
  const sys = podCreate({ priorityClassName: 'system-node-critical' });
  plugin.admit(sys);
  assert.equal(sys.obj.spec.priority, 2000001000);
  assert.throws(() => plugin.admit(podCreate({ priorityClassName: 'missing' })), (e: unknown) =>
    e instanceof StatusError && e.code === 403 && /no PriorityClass with name missing was found/.test(e.message));
  classes = [...classes, pc('default', 50, { globalDefault: true })];
  const dflt = podCreate({});
  plugin.admit(dflt);
  assert.deepEqual([dflt.obj.spec.priority, dflt.obj.spec.priorityClassName], [50, 'default']);
  // A second global default is refused; the existing one may be updated.
  const second: AdmissionAttributes = { operation: 'CREATE', phase: 'validate', info: info('priorityclasses', 'scheduling.k8s.io'), name: 'other', obj: pc('other', 60, { globalDefault: true }), user, dryRun: false };
  assert.throws(() => plugin.admit(second), /PriorityClass default is already marked as default/);
  plugin.admit({ ...second, operation: 'UPDATE', name: 'default', obj: pc('default', 70, { globalDefault: true }) });
});
