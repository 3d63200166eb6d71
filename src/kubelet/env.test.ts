import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Container, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import {
  expandCommand, expandVars, extractResourceValue, formatMap, goQuote, makeEnvironment, serviceEnvVars,
  type EnvContext, type EnvEntry, type EnvResult,
} from './env.js';
import type { ObjectSource } from './volumes/volume-manager.js';

const source = (cms: Record<string, Record<string, string>>, secrets: Record<string, Record<string, string>> = {}): ObjectSource => ({
  async getConfigMap(ns, name) {
    const data = cms[`${ns}/${name}`];
    return data ? ({ metadata: { name, namespace: ns }, data } as ConfigMap) : null;
  },
  async getSecret(ns, name) {
    const data = secrets[`${ns}/${name}`];
    if (!data) return null;
    const enc: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) enc[k] = Buffer.from(v).toString('base64');
    return { metadata: { name, namespace: ns }, data: enc } as Secret;
  },
});

const svc = (ns: string, name: string, clusterIP: string, ports: Service['spec'] extends infer S ? (S extends { ports?: infer P } ? P : never) : never = []): Service => ({
  metadata: { name, namespace: ns },
  spec: { clusterIP, ports },
});

const kubernetesSvc = svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);

function ctx(extra: Partial<EnvContext> = {}): EnvContext {
  return {
    source: source({}),
    services: [],
    hostIP: '192.168.1.10',
    podIPs: ['10.244.0.5', 'fd00::5'],
    nodeAllocatable: { cpu: 4, memory: 8 * 1024 ** 3 },
    ...extra,
  };
}

function pod(container: Partial<Container>, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'app', uid: 'u-1', labels: { tier: 'front' }, annotations: { 'a.io/x': 'y' } },
    spec: { nodeName: 'node-1', serviceAccountName: 'sa', containers: [{ name: 'c', image: 'busybox', ...container }], ...spec },
  };
}

async function envOf(p: Pod, c: EnvContext = ctx()): Promise<EnvResult> {
  const r = await makeEnvironment(p, p.spec!.containers[0], c);
  if ('error' in r) assert.fail(r.error);
  return r;
}

const asObject = (envs: EnvEntry[]) => Object.fromEntries(envs.map((e) => [e.key, e.value]));

test('expandVars (the kubelet expansion rules)', () => {
  const vars: Record<string, string> = { A: 'a', B: 'b', EMPTY: '' };
  const cases: [string, string][] = [
    ['$(A)', 'a'],
    ['x$(A)y$(B)z', 'xaybz'],
    ['$(EMPTY)-', '-'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$a'],
    ['$$', '$'],
    ['$A', '$A'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$(A', '$(A'],
    ['$()', '$()'],
    ['$(A)$(', 'a$('],
    ['(A)', '(A)'],
    ['$(A)$(B)', 'ab'],
  ];
  for (const [input, want] of cases) assert.equal(expandVars(input, (n) => vars[n]), want, input);
});

test('envFrom first, then env in order; env overrides; expansion sees only earlier variables and service vars', async () => {
  const p = pod({
    envFrom: [
      { configMapRef: { name: 'base' } },
      { prefix: 'S_', secretRef: { name: 'creds' } },
    ],
    env: [
      { name: 'GREETING', value: 'hello $(NAME)' }, // NAME is defined later: left as is
      { name: 'NAME', value: 'world' },
      { name: 'FULL', value: '$(GREETING) from $(MODE) at $(KUBERNETES_SERVICE_HOST)' },
      { name: 'MODE', value: 'override' }, // replaces envFrom's MODE
      { name: 'ESCAPED', value: '$$(NAME)' },
      { name: 'EMPTY' },
    ],
  });
  const r = await envOf(p, ctx({
    source: source({ 'app/base': { MODE: 'base', LEVEL: 'info' } }, { 'app/creds': { token: 't0k' } }),
    services: [kubernetesSvc],
  }));
  const keys = r.envs.map((e) => e.key);
  assert.deepEqual(keys.slice(0, 9), ['LEVEL', 'S_token', 'GREETING', 'NAME', 'FULL', 'MODE', 'ESCAPED', 'EMPTY', 'KUBERNETES_SERVICE_HOST']);
  const env = asObject(r.envs);
  assert.equal(env.GREETING, 'hello $(NAME)');
  assert.equal(env.FULL, 'hello $(NAME) from base at 10.96.0.1');
  assert.equal(env.MODE, 'override');
  assert.equal(env.S_token, 't0k');
  assert.equal(env.ESCAPED, '$(NAME)');
  assert.equal(env.EMPTY, '');
  assert.deepEqual(r.warnings, []);
});

test('envFrom keys that are not variable names are skipped with the kubelet event text', async () => {
  const p = pod({ envFrom: [{ configMapRef: { name: 'mixed' } }, { prefix: 'p_', configMapRef: { name: 'digits' } }] });
  const r = await envOf(p, ctx({ source: source({ 'app/mixed': { good: '1', '1bad': 'x', 'app.properties': 'y', 'has space': 'z' }, 'app/digits': { '9lives': 'ok' } }) }));
  assert.deepEqual(asObject(r.envs), { good: '1', 'app.properties': 'y', p_9lives: 'ok' });
  assert.deepEqual(r.warnings, ['Keys [1bad, has space] from the EnvFrom configMap app/mixed were skipped since they are considered invalid environment variable names.']);
});

test('valueFrom fieldRef', async () => {
  const cases: [string, string][] = [
    ['metadata.name', 'web-1'],
    ['metadata.namespace', 'app'],
    ['metadata.uid', 'u-1'],
    ["metadata.labels['tier']", 'front'],
    ["metadata.labels['absent']", ''],
    ["metadata.annotations['a.io/x']", 'y'],
    ['spec.nodeName', 'node-1'],
    ['spec.serviceAccountName', 'sa'],
    ['status.hostIP', '192.168.1.10'],
    ['status.hostIPs', '192.168.1.10'],
    ['status.podIP', '10.244.0.5'],
    ['status.podIPs', '10.244.0.5,fd00::5'],
  ];
  const p = pod({ env: cases.map(([fieldPath], i) => ({ name: `V${i}`, valueFrom: { fieldRef: { fieldPath } } })) });
  const env = asObject((await envOf(p)).envs);
  cases.forEach(([fieldPath, want], i) => assert.equal(env[`V${i}`], want, fieldPath));

  for (const [fieldPath, error] of [
    ['spec.containers', 'field label not supported: spec.containers'],
    ["spec.nodeName['x']", "field label not supported: spec.nodeName['x']"],
  ]) {
    const bp = pod({ env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath } } }] });
    assert.deepEqual(await makeEnvironment(bp, bp.spec!.containers[0], ctx()), { error }, fieldPath);
  }
  const v2 = pod({ env: [{ name: 'X', valueFrom: { fieldRef: { apiVersion: 'v2', fieldPath: 'metadata.name' } } }] });
  assert.deepEqual(await makeEnvironment(v2, v2.spec!.containers[0], ctx()), { error: 'unsupported pod version: v2' });
});

test('valueFrom resourceFieldRef: divisors round up, unset limits fall back to node allocatable', async () => {
  const resources = { limits: { cpu: '250m', memory: '100Mi' }, requests: { cpu: '100m', memory: '64Mi' } };
  const cases: { name: string; resource: string; divisor?: string; container?: string; want: string }[] = [
    { name: 'cpu limit in cores rounds up', resource: 'limits.cpu', want: '1' },
    { name: 'cpu limit in millicores', resource: 'limits.cpu', divisor: '1m', want: '250' },
    { name: 'cpu request', resource: 'requests.cpu', divisor: '1m', want: '100' },
    { name: 'memory limit bytes', resource: 'limits.memory', want: String(100 * 1024 * 1024) },
    { name: 'memory limit Mi', resource: 'limits.memory', divisor: '1Mi', want: '100' },
    { name: 'memory request in M rounds up', resource: 'requests.memory', divisor: '1M', want: '68' },
    { name: 'other container without limits: allocatable cpu', resource: 'limits.cpu', container: 'side', want: '4' },
    { name: 'other container without limits: allocatable memory', resource: 'limits.memory', divisor: '1Gi', container: 'side', want: '8' },
    { name: 'other container, unset request is 0', resource: 'requests.memory', container: 'side', want: '0' },
  ];
  for (const c of cases) {
    const p: Pod = {
      metadata: { name: 'p', namespace: 'app' },
      spec: {
        containers: [
          { name: 'main', image: 'i', resources, env: [{ name: 'V', valueFrom: { resourceFieldRef: { resource: c.resource, divisor: c.divisor, containerName: c.container } } }] },
          { name: 'side', image: 'i' },
        ],
      },
    };
    const r = await makeEnvironment(p, p.spec!.containers[0], ctx());
    assert.ok(!('error' in r), c.name);
    assert.equal(asObject((r as EnvResult).envs).V, c.want, c.name);
  }
  assert.throws(() => extractResourceValue({ resource: 'limits.gpu' }, { name: 'c' }), /Unsupported container resource : limits.gpu/);
});

test('configMapKeyRef / secretKeyRef: values, optional, and the kubelet errors', async () => {
  const src = source({ 'app/cfg': { k: 'v' } }, { 'app/sec': { pw: 'hunter2' } });
  const cases: { name: string; env: Container['env']; want?: Record<string, string>; error?: string }[] = [
    { name: 'configmap key', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }], want: { A: 'v' } },
    { name: 'secret key (decoded)', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'sec', key: 'pw' } } }], want: { A: 'hunter2' } },
    { name: 'missing configmap', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }], error: 'configmap "x" not found' },
    { name: 'missing secret', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } }], error: 'secret "x" not found' },
    { name: 'missing configmap key', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } }], error: "couldn't find key nope in ConfigMap app/cfg" },
    { name: 'missing secret key', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'sec', key: 'nope' } } }], error: "couldn't find key nope in Secret app/sec" },
    {
      name: 'optional ones are skipped', want: { B: 'kept' },
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'x', key: 'k', optional: true } } },
        { name: 'A2', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
        { name: 'A3', valueFrom: { secretKeyRef: { name: 'x', key: 'k', optional: true } } },
        { name: 'B', value: 'kept' },
      ],
    },
    { name: 'missing envFrom configmap', env: [], error: 'configmap "gone" not found' },
  ];
  for (const c of cases) {
    const p = pod({ env: c.env, envFrom: c.name === 'missing envFrom configmap' ? [{ configMapRef: { name: 'gone' } }, { secretRef: { name: 'gone2', optional: true } }] : undefined });
    const r = await makeEnvironment(p, p.spec!.containers[0], ctx({ source: src }));
    if (c.error) assert.deepEqual(r, { error: c.error }, c.name);
    else assert.deepEqual(asObject((r as EnvResult).envs), c.want, c.name);
  }
});

test('service links: same-namespace services with a cluster IP plus default/kubernetes; explicit env wins', async () => {
  const services = [
    kubernetesSvc,
    svc('app', 'redis-primary', '10.96.0.20', [{ port: 6379 }]),
    svc('app', 'web', '10.96.0.30', [{ name: 'http', port: 80 }, { name: 'metrics-port', port: 9090, protocol: 'UDP' }]),
    svc('app', 'headless', 'None', [{ port: 1 }]),
    svc('app', 'external', '', [{ port: 2 }]),
    svc('other', 'elsewhere', '10.96.0.40', [{ port: 3 }]),
    svc('app', 'v6', 'fd00::10', [{ port: 8080 }]),
  ];
  const p = pod({ env: [{ name: 'WEB_SERVICE_HOST', value: 'mine' }] });
  const env = asObject((await envOf(p, ctx({ services }))).envs);
  const want: Record<string, string> = {
    WEB_SERVICE_HOST: 'mine',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    REDIS_PRIMARY_SERVICE_HOST: '10.96.0.20',
    REDIS_PRIMARY_SERVICE_PORT: '6379',
    REDIS_PRIMARY_PORT: 'tcp://10.96.0.20:6379',
    REDIS_PRIMARY_PORT_6379_TCP: 'tcp://10.96.0.20:6379',
    REDIS_PRIMARY_PORT_6379_TCP_PROTO: 'tcp',
    REDIS_PRIMARY_PORT_6379_TCP_PORT: '6379',
    REDIS_PRIMARY_PORT_6379_TCP_ADDR: '10.96.0.20',
    V6_SERVICE_HOST: 'fd00::10',
    V6_SERVICE_PORT: '8080',
    V6_PORT: 'tcp://[fd00::10]:8080',
    V6_PORT_8080_TCP: 'tcp://[fd00::10]:8080',
    V6_PORT_8080_TCP_PROTO: 'tcp',
    V6_PORT_8080_TCP_PORT: '8080',
    V6_PORT_8080_TCP_ADDR: 'fd00::10',
    WEB_SERVICE_PORT: '80',
    WEB_SERVICE_PORT_HTTP: '80',
    WEB_SERVICE_PORT_METRICS_PORT: '9090',
    WEB_PORT: 'tcp://10.96.0.30:80',
    WEB_PORT_80_TCP: 'tcp://10.96.0.30:80',
    WEB_PORT_80_TCP_PROTO: 'tcp',
    WEB_PORT_80_TCP_PORT: '80',
    WEB_PORT_80_TCP_ADDR: '10.96.0.30',
    WEB_PORT_9090_UDP: 'udp://10.96.0.30:9090',
    WEB_PORT_9090_UDP_PROTO: 'udp',
    WEB_PORT_9090_UDP_PORT: '9090',
    WEB_PORT_9090_UDP_ADDR: '10.96.0.30',
  };
  assert.deepEqual(env, want);

  // enableServiceLinks: false keeps only the kubernetes service
  const off = asObject((await envOf(pod({}, { enableServiceLinks: false }), ctx({ services }))).envs);
  assert.deepEqual(Object.keys(off).filter((k) => !k.startsWith('KUBERNETES_')), []);
  assert.equal(off.KUBERNETES_SERVICE_HOST, '10.96.0.1');

  // a same-namespace service named kubernetes wins over default/kubernetes
  const shadow = serviceEnvVars([kubernetesSvc, svc('app', 'kubernetes', '10.96.9.9', [{ port: 1 }])], 'app', true);
  assert.equal(shadow.get('KUBERNETES_SERVICE_HOST'), '10.96.9.9');
  // the default namespace sees its own services too
  const dflt = serviceEnvVars([kubernetesSvc, svc('default', 'db', '10.96.0.50', [{ port: 5432 }])], 'default', true);
  assert.equal(dflt.get('DB_SERVICE_HOST'), '10.96.0.50');
});

test('expandCommand uses the final environment', () => {
  const envs = [{ key: 'A', value: 'x' }, { key: 'B', value: 'y' }, { key: 'A', value: 'z' }];
  assert.deepEqual(expandCommand(['sh', '-c', 'echo $(A) $(B) $(C) $$(A)'], envs), ['sh', '-c', 'echo z y $(C) $(A)']);
  assert.equal(expandCommand(undefined, envs), undefined);
});

test('formatMap and goQuote follow Go %q', () => {
  assert.equal(formatMap({ b: '2', a: '1', 'x.io/k': 'v' }), 'a="1"\nb="2"\nx.io/k="v"');
  assert.equal(formatMap({}), '');
  const cases: [string, string][] = [
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['tab\tnl\ncr\r', '"tab\\tnl\\ncr\\r"'],
    ['\x00\x1f\x7f', '"\\x00\\x1f\\x7f"'],
    ['héllo 世界 🎉', '"héllo 世界 🎉"'],
    ['\u00a0nbsp', '"\\u00a0nbsp"'],
    ['\u200bzw', '"\\u200bzw"'],
  ];
  for (const [input, want] of cases) assert.equal(goQuote(input), want, JSON.stringify(input));
});
