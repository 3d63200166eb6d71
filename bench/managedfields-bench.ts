/**
 * Micro-benchmark of the per-write managed-fields and field-check work the API server does:
 *
 *   - recordUpdate (create): old undefined, next a fully defaulted Pod (what every pod POST costs)
 *   - recordUpdate (update): a PUT of that pod changing one field (managedFields sent back)
 *   - applyConfiguration: server-side apply of a Deployment: a create, and a re-apply changing two fields
 *   - checkObject of the pod body (with and without the raw JSON duplicate-key scan) and of the
 *     defaulted pod with its managedFields, pruneUnknown
 *
 *   npx tsc -p tsconfig.json --outDir .build-mf && node .build-mf/bench/managedfields-bench.js [--ms 1000]
 */
import { podBody } from './api-bench.js';
import { applyDefaults } from '../src/api/defaults.js';
import { builtinSchemas } from '../src/api/schemas.js';
import { applyConfiguration, recordUpdate, setManagedFields } from '../src/apimachinery/managedfields/apply.js';
import { checkObject, pruneUnknown } from '../src/api/field-check.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MS = arg('ms', 1500);
const ROUNDS = 5;

let sink: unknown;

/**
 * Runs `fn` for about MS milliseconds (after a warm-up) in ROUNDS rounds and prints the best and
 * the median round in operations per second (the best is the least disturbed by other load).
 */
function measure(label: string, fn: () => unknown): number {
  const warm = performance.now() + Math.min(300, MS / 3);
  while (performance.now() < warm) sink = fn();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < MS / ROUNDS) {
      for (let i = 0; i < 20; i++) sink = fn();
      n += 20;
      t = performance.now();
    }
    rates.push(n / ((t - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const best = rates[rates.length - 1];
  const median = rates[Math.floor(rates.length / 2)];
  console.log(`${label.padEnd(52)} ${best.toFixed(0).padStart(9)} ops/s  ${(1e6 / best).toFixed(1).padStart(8)} µs/op   (median ${median.toFixed(0)} ops/s)`);
  return best;
}

const schemas = builtinSchemas();
const POD = 'io.k8s.api.core.v1.Pod';
const DEPLOY = 'io.k8s.api.apps.v1.Deployment';
const NOW = '2024-05-01T10:00:00Z';
const LATER = '2024-05-01T10:05:00Z';

/** A pod as the store hands it to the field manager on create: server metadata, defaults, status. */
function storedPod(): any {
  const obj = podBody('bench-pod');
  obj.metadata.uid = '5c1e8a3e-7d0b-4c9e-9a4e-0f7c2b1d3e4f';
  obj.metadata.creationTimestamp = NOW;
  applyDefaults('', 'v1', 'Pod', obj);
  obj.status = { phase: 'Pending', qosClass: 'Burstable' };
  return obj;
}

const podOpts = { manager: 'kubectl-client-side-apply', apiVersion: 'v1', schemaName: POD, schemas, now: NOW, ignoredPaths: [['status']] };

// recordUpdate (create): the object has no managedFields yet.
const toCreate = storedPod();
const created = storedPod();
setManagedFields(created, recordUpdate(undefined, created, podOpts));

// recordUpdate (update): same manager sends the object back with one field changed; and a second manager.
const updated = structuredClone(created);
updated.spec.containers[0].image = 'registry.local/bench/app:1.4.3';
const updatedOther = structuredClone(created);
updatedOther.metadata.labels.tier = 'frontend';

function deployment(replicas: number, image: string): any {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'bench', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{
            name: 'web', image, ports: [{ name: 'http', containerPort: 8080 }],
            env: [{ name: 'MODE', value: 'production' }, { name: 'LOG', value: 'info' }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
          }],
          volumes: [{ name: 'cache', emptyDir: {} }],
        },
      },
    },
  };
}
const applyOpts = (now: string) => ({ manager: 'kubectl', apiVersion: 'apps/v1', kind: 'Deployment', force: false, schemaName: DEPLOY, schemas, now, ignoredPaths: [['status']] });
const liveDeploy = applyConfiguration(undefined, deployment(2, 'web:1'), applyOpts(NOW)).obj;
liveDeploy.metadata.uid = 'a0b1c2d3-0000-4000-8000-000000000001';
liveDeploy.metadata.creationTimestamp = NOW;
applyDefaults('apps', 'v1', 'Deployment', liveDeploy);
const reapply = deployment(3, 'web:2');

const body = podBody('bench-pod');
const raw = JSON.stringify(body);
const podWithUnknown = () => {
  const b = podBody('bench-pod');
  b.spec.containers[0].imagee = 'x';
  return b;
};

console.log(`# managed fields / field check micro-benchmark (${MS} ms per case in ${ROUNDS} rounds, best round shown; node ${process.version})`);
measure('recordUpdate(create) defaulted pod', () => recordUpdate(undefined, toCreate, podOpts));
measure('recordUpdate(update) pod, image changed', () => recordUpdate(created, updated, { ...podOpts, now: LATER }));
measure('recordUpdate(update) pod, other manager, label', () => recordUpdate(created, updatedOther, { ...podOpts, manager: 'other', now: LATER }));
measure('applyConfiguration Deployment (create)', () => applyConfiguration(undefined, deployment(2, 'web:1'), applyOpts(NOW)));
measure('applyConfiguration Deployment (re-apply, 2 changes)', () => applyConfiguration(liveDeploy, reapply, applyOpts(LATER)));
measure('checkObject pod (no raw)', () => checkObject(body, POD, schemas));
measure('checkObject pod (with raw JSON)', () => checkObject(body, POD, schemas, { raw }));
measure('checkObject defaulted pod (no raw)', () => checkObject(created, POD, schemas));
measure('pruneUnknown pod with one unknown field', () => pruneUnknown(podWithUnknown(), POD, schemas));
if (sink === 42) console.log('');
