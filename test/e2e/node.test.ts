/**
 * The node agent end to end (issue 5): `keelson server` + `keelson agent` on its own real
 * containerd, images from keelson's local registry, driven by the real kubectl. One cluster is
 * shared by the whole file; each test uses its own pods.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NodeCluster, nodeSkipReason, ready, phase, cstatus, httpGet } from './node-harness.js';
import { waitFor } from './harness.js';
import { writeFileSync, unlinkSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const skip = nodeSkipReason();

describe('node agent on containerd', { skip, concurrency: 4 }, () => {
  let n: NodeCluster;

  before(async () => { n = await NodeCluster.start(); });
  after(async () => { await n?.stop(); });

  it('registers a Ready node with the machine\'s capacity', async () => {
    const node = await n.kjson(['get', 'node', n.nodeName]);
    assert.ok(Number(node.status.capacity.cpu) >= 1);
    assert.match(node.status.capacity.memory, /^\d+Ki$/);
    assert.equal(node.status.nodeInfo.containerRuntimeVersion.startsWith('containerd://'), true);
    assert.equal(node.spec.podCIDR, n.podCIDR);
    const lease = await n.kjson(['get', 'lease', n.nodeName, '-n', 'kube-node-lease']);
    assert.equal(lease.spec.holderIdentity, n.nodeName);
    const wide = await n.k(['get', 'nodes', '-o', 'wide']);
    assert.match(wide, new RegExp(`${n.nodeName}\\s+Ready`));
  });

  it('runs a busybox pod: Running, pod IP in the node range, logs', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'echo hello from $(hostname); sleep 3600']
`);
    const p = await n.waitPod('hello', 'Ready', ready);
    const prefix = n.podCIDR.split('.').slice(0, 3).join('.');
    assert.ok(p.status.podIP.startsWith(`${prefix}.`), `pod IP ${p.status.podIP} outside ${n.podCIDR}`);
    assert.equal(p.status.phase, 'Running');
    assert.match(cstatus(p, 'main').containerID, /^containerd:\/\//);
    await waitFor('logs', async () => /hello from hello/.test((await n.kubectl(['logs', 'hello'])).stdout), 20000, 250);
    const ev = await n.events('hello');
    for (const r of ['Pulled', 'Created', 'Started']) assert.match(ev, new RegExp(r));
  });

  it('runs the seed fortune-client: the init container loops, the main container waits', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata:
  name: fortune-client
spec:
  initContainers:
    - name: init
      image: busybox
      command:
      - sh
      - -c
      - 'while true; do echo "Waiting for fortune service to come up..."; wget http://fortune -q -T 1 -O /dev/null >/dev/null 2>/dev/null && break; sleep 1; done; echo "Service is up! Starting main container."'
  containers:
    - image: busybox
      name: main
      command:
      - sh
      - -c
      - 'echo "Main container started. Reading fortune very 10 seconds."; while true; do echo "-------------"; wget -q -O - http://fortune; sleep 10; done'
`);
    await waitFor('init container running', async () => {
      const r = await n.kubectl(['logs', 'fortune-client', '-c', 'init']);
      return /Waiting for fortune service to come up/.test(r.stdout);
    }, 60000, 250);
    const out = await n.k(['get', 'pod', 'fortune-client', '--no-headers']);
    assert.match(out, /Init:0\/1/);
    const p = await n.pod('fortune-client');
    assert.equal(cstatus(p, 'main').state.waiting.reason, 'PodInitializing');
    // Now the fortune service appears (an HTTP server behind a Service named fortune): the init
    // container's `wget http://fortune -T 1` finds it through the search path, cluster DNS and the
    // service proxy; the init container ends and main starts reading fortunes.
    await n.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: fortune}
spec:
  replicas: 1
  selector: {matchLabels: {app: fortune}}
  template:
    metadata: {labels: {app: fortune}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: server, image: luksa/kubia, ports: [{containerPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: fortune}
spec:
  selector: {app: fortune}
  ports: [{port: 80, targetPort: 8080}]
`);
    await n.k(['rollout', 'status', 'deployment/fortune', '--timeout=90s']);
    await n.waitPod('fortune-client', 'Running', (x) => x.status?.phase === 'Running' && ready(x), 120000);
    assert.match(await n.k(['logs', 'fortune-client', '-c', 'init']), /Service is up! Starting main container\./);
    await waitFor('main reads a fortune', async () => /You've hit fortune-/.test((await n.kubectl(['logs', 'fortune-client'])).stdout), 30000, 500);
  });

  it('runs init containers in order, then the app container', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata: {name: inits}
spec:
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - {name: one, image: busybox, command: [sh, -c, 'echo one >> /data/order'], volumeMounts: [{name: shared, mountPath: /data}]}
  - {name: two, image: busybox, command: [sh, -c, 'echo two >> /data/order'], volumeMounts: [{name: shared, mountPath: /data}]}
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'cat /data/order; sleep 3600'], volumeMounts: [{name: shared, mountPath: /data}]}
`);
    await n.waitPod('inits', 'Ready', ready);
    await waitFor('order in logs', async () => (await n.kubectl(['logs', 'inits'])).stdout === 'one\ntwo\n', 20000, 250);
  });

  it('seed pod-with-prestop-hook: a postStart hook exiting 15 kills the container, events say so', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata:
  name: pod-with-prestop-hook
spec:
  containers:
    - image: luksa/kubia
      name: kubia
      ports:
        - containerPort: 8080
          protocol: TCP
      lifecycle:
        postStart:
          exec:
            command:
              - sh
              - -c
              - "echo 'hook will fail with exit code 15'; sleep 5 ; exit 15"
        preStop:
          httpGet:
            port: 8080
            path: shutdown
`);
    await waitFor('FailedPostStartHook event', async () => /FailedPostStartHook/.test(await n.events('pod-with-prestop-hook')), 60000, 500);
    const ev = await n.events('pod-with-prestop-hook');
    assert.match(ev, /exited with 15/);
    await n.waitPod('pod-with-prestop-hook', 'restarted', (p) => (cstatus(p, 'kubia')?.restartCount ?? 0) >= 1, 60000);
  });

  it('a failing liveness probe restarts the container; a readiness probe flips Ready', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata: {name: probes}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: live
    image: busybox
    command: [sh, -c, 'touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 3600']
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 2
  - name: ready
    image: busybox
    command: [sh, -c, 'sleep 3600']
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
`);
    await n.waitPod('probes', 'live restarted', (p) => (cstatus(p, 'live')?.restartCount ?? 0) >= 1, 60000);
    assert.match(await n.events('probes'), /Liveness probe failed/);
    let p = await n.pod('probes');
    assert.equal(ready(p), false);
    await n.k(['exec', 'probes', '-c', 'ready', '--', 'touch', '/tmp/ready']);
    p = await n.waitPod('probes', 'ready container Ready', (x) => cstatus(x, 'ready')?.ready === true, 30000);
    await n.k(['exec', 'probes', '-c', 'ready', '--', 'rm', '/tmp/ready']);
    await n.waitPod('probes', 'ready container not Ready', (x) => cstatus(x, 'ready')?.ready === false, 30000);
  });

  it('graceful termination waits the grace period when SIGTERM is ignored', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 4
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'trap "" TERM; while true; do sleep 1; done']
`);
    await n.waitPod('stubborn', 'Ready', ready);
    const t0 = Date.now();
    await n.k(['delete', 'pod', 'stubborn', '--wait=true', '--timeout=60s']);
    const took = Date.now() - t0;
    assert.ok(took >= 3500, `deletion took ${took} ms, less than the 4 s grace period`);
  });

  it('honours each restartPolicy', async () => {
    const pod = (name: string, policy: string, code: number) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: ${policy}
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'sleep 1; exit ${code}']}
---
`;
    await n.apply(pod('never-ok', 'Never', 0) + pod('never-fail', 'Never', 3) + pod('onfailure-fail', 'OnFailure', 3) + pod('always-ok', 'Always', 0));
    const ok = await n.waitPod('never-ok', 'Succeeded', phase('Succeeded'));
    assert.equal(cstatus(ok, 'main').state.terminated.reason, 'Completed');
    const fail = await n.waitPod('never-fail', 'Failed', phase('Failed'));
    assert.equal(cstatus(fail, 'main').state.terminated.exitCode, 3);
    assert.equal(cstatus(fail, 'main').restartCount, 0);
    await n.waitPod('onfailure-fail', 'restarted', (p) => cstatus(p, 'main')?.restartCount >= 1);
    await n.waitPod('always-ok', 'restarted', (p) => cstatus(p, 'main')?.restartCount >= 1);
    const cl = await n.waitPod('always-ok', 'CrashLoopBackOff', (p) => cstatus(p, 'main')?.state?.waiting?.reason === 'CrashLoopBackOff' || cstatus(p, 'main')?.restartCount >= 2);
    assert.equal(cl.status.phase, 'Running');
  });

  it('runs a Job to completion', async () => {
    await n.apply(`apiVersion: batch/v1
kind: Job
metadata: {name: count}
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, command: [sh, -c, 'echo done']}
`);
    await waitFor('job complete', async () => {
      const j = await n.kjson(['get', 'job', 'count']);
      return j.status?.succeeded === 2 && j.status.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True');
    }, 90000, 500);
    const pods = await n.kjson(['get', 'pods', '-l', 'job-name=count']);
    assert.ok(pods.items.every((p: any) => p.status.phase === 'Succeeded'));
  });

  it('reports OOMKilled when a container exceeds its memory limit', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'tail /dev/zero']
    resources: {limits: {memory: 32Mi}}
`);
    const p = await n.waitPod('oom', 'Failed', phase('Failed'), 60000);
    assert.equal(cstatus(p, 'main').state.terminated.reason, 'OOMKilled');
  });

  it('shares an emptyDir between two containers; configMap volume updates in place, env does not; downward API', async () => {
    await n.k(['create', 'configmap', 'cfg', '--from-literal=color=blue']);
    await n.apply(`apiVersion: v1
kind: Pod
metadata:
  name: volumes
  labels: {app: vol, tier: test}
spec:
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: cfg, configMap: {name: cfg}}
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
  containers:
  - name: writer
    image: busybox
    command: [sh, -c, 'echo written-by-writer > /shared/file; sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: reader
    image: busybox
    command: [sh, -c, 'sleep 3600']
    env:
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: cfg, key: color}}
    - name: MY_POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: MY_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: cfg, mountPath: /etc/cfg}
    - {name: info, mountPath: /etc/info}
`);
    const p = await n.waitPod('volumes', 'Ready', ready);
    await waitFor('shared file', async () => (await n.kubectl(['exec', 'volumes', '-c', 'reader', '--', 'cat', '/shared/file'])).stdout === 'written-by-writer\n', 20000, 250);
    assert.equal(await n.k(['exec', 'volumes', '-c', 'reader', '--', 'cat', '/etc/cfg/color']), 'blue');
    assert.equal(await n.k(['exec', 'volumes', '-c', 'reader', '--', 'sh', '-c', 'echo $COLOR $MY_POD $MY_IP']), `blue volumes ${p.status.podIP}\n`);
    assert.match(await n.k(['exec', 'volumes', '-c', 'reader', '--', 'cat', '/etc/info/labels']), /app="vol"\ntier="test"/);
    await n.k(['patch', 'configmap', 'cfg', '-p', '{"data":{"color":"green"}}']);
    await waitFor('configMap volume updated', async () => (await n.kubectl(['exec', 'volumes', '-c', 'reader', '--', 'cat', '/etc/cfg/color'])).stdout === 'green', 60000, 500);
    assert.equal(await n.k(['exec', 'volumes', '-c', 'reader', '--', 'sh', '-c', 'echo $COLOR']), 'blue\n');
  });

  it('rolls out a Deployment on the real node', async () => {
    await n.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {port: 8080, path: /}, periodSeconds: 1}
`);
    await n.k(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    await n.k(['set', 'env', 'deployment/web', 'VERSION=2']);
    await n.k(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    const pods = await n.kjson(['get', 'pods', '-l', 'app=web']);
    const running = pods.items.filter((p: any) => !p.metadata.deletionTimestamp);
    assert.equal(running.length, 2);
    assert.ok(running.every((p: any) => p.spec.containers[0].env?.[0]?.value === '2'));
  });

  it('runs static pods from the manifest directory and removes them with the file', async () => {
    const file = join(n.manifestDir, 'static-web.yaml');
    writeFileSync(file, `apiVersion: v1
kind: Pod
metadata: {name: static-web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: busybox, command: [sh, -c, 'sleep 3600']}
`);
    const name = `static-web-${n.nodeName}`;
    const p = await n.waitPod(name, 'Ready', ready, 60000);
    assert.equal(p.metadata.annotations['kubernetes.io/config.source'], 'file');
    assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'Node');
    unlinkSync(file);
    await waitFor('static pod removed', async () => (await n.kubectl(['get', 'pod', name])).code !== 0, 60000, 500);
  });

  it('streams: logs (tail, previous, follow), exec with exit codes and stdin, attach, cp both ways, port-forward', async () => {
    await n.apply(`apiVersion: v1
kind: Pod
metadata: {name: stream}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: counter
    image: busybox
    command: [sh, -c, 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']
  - name: web
    image: luksa/kubia
    ports: [{containerPort: 8080}]
  - name: once
    image: busybox
    command: [sh, -c, 'echo run-$(date +%s%N); sleep 1; exit 1']
`);
    await n.waitPod('stream', 'counter and web running', (p) => !!cstatus(p, 'counter')?.state?.running && !!cstatus(p, 'web')?.state?.running);
    // logs
    await waitFor('a few lines', async () => (await n.kubectl(['logs', 'stream', '-c', 'counter'])).stdout.split('\n').length > 5, 20000, 250);
    // A line written between finding the tail and reading to the end may come along (as upstream).
    const tail = (await n.k(['logs', 'stream', '-c', 'counter', '--tail=2'])).trim().split('\n');
    assert.ok(tail.length >= 2 && tail.length <= 3, `--tail=2 gave ${tail.length} lines`);
    const stamped = (await n.k(['logs', 'stream', '-c', 'counter', '--tail=1', '--timestamps'])).trim().split('\n');
    assert.ok(stamped.length <= 2);
    for (const l of stamped) assert.match(l, /^\d{4}-\d\d-\d\dT\S+Z line \d+$/);
    const follow = await n.kubectl(['logs', '-f', 'stream', '-c', 'counter', '--tail=1'], { timeoutMs: 2500 });
    assert.ok(follow.stdout.trim().split('\n').length >= 3, `follow gave ${JSON.stringify(follow.stdout)}`);
    // kubectl picks the first container itself and says so.
    const noName = await n.kubectl(['logs', 'stream', '--tail=1']);
    assert.equal(noName.code, 0, noName.stderr);
    assert.match(noName.stderr, /Defaulted container "counter" out of: counter, web, once/);
    await n.waitPod('stream', 'once restarted', (p) => (cstatus(p, 'once')?.restartCount ?? 0) >= 1, 60000);
    assert.match(await n.k(['logs', 'stream', '-c', 'once', '--previous']), /^run-\d+/);
    // exec: output, exit code, stdin
    assert.equal(await n.k(['exec', 'stream', '-c', 'counter', '--', 'echo', 'hi']), 'hi\n');
    const failing = await n.kubectl(['exec', 'stream', '-c', 'counter', '--', 'sh', '-c', 'exit 7']);
    assert.equal(failing.code, 7);
    assert.equal(await n.k(['exec', '-i', 'stream', '-c', 'counter', '--', 'sh', '-c', 'cat | tr a-z A-Z'], { input: 'piped\n' }), 'PIPED\n');
    // exec -it: a real terminal (util-linux `script` gives kubectl one); the size follows it.
    if (spawnSync('sh', ['-c', 'command -v script']).status === 0) {
      const cmd = `stty rows 33 cols 99; kubectl --kubeconfig ${n.c.kubeconfig} exec -it stream -c counter -- sh -c 'tty; sleep 1; stty size; exit 4'`;
      const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, HOME: n.c.home }, timeout: 20000 });
      assert.match(tty.stdout, /\/dev\/pts\/\d+/, tty.stdout + tty.stderr);
      assert.match(tty.stdout, /33 99/, tty.stdout);
      assert.equal(tty.status, 4, tty.stdout + tty.stderr);
    }
    // attach (output of the running main process)
    const att = await n.kubectl(['attach', 'stream', '-c', 'counter'], { timeoutMs: 3000 });
    assert.match(att.stdout, /line \d+/);
    // cp both ways
    const tmp = mkdtempSync(join(tmpdir(), 'keelson-cp-'));
    try {
      writeFileSync(join(tmp, 'in.txt'), 'copied in\n');
      await n.k(['cp', join(tmp, 'in.txt'), 'stream:/tmp/in.txt', '-c', 'counter']);
      assert.equal(await n.k(['exec', 'stream', '-c', 'counter', '--', 'cat', '/tmp/in.txt']), 'copied in\n');
      await n.k(['cp', 'stream:/tmp/in.txt', join(tmp, 'out.txt'), '-c', 'counter']);
      assert.equal(readFileSync(join(tmp, 'out.txt'), 'utf8'), 'copied in\n');
    } finally { rmSync(tmp, { recursive: true, force: true }); }
    // port-forward to kubia
    const pf = spawn('kubectl', ['--kubeconfig', n.c.kubeconfig, 'port-forward', 'pod/stream', ':8080'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: n.c.home } });
    try {
      let out = '';
      pf.stdout.on('data', (d) => { out += d; });
      pf.stderr.on('data', (d) => { out += d; });
      const port = await waitFor('port-forward ready', () => Number(out.match(/127\.0\.0\.1:(\d+) -> 8080/)?.[1]), 20000, 100);
      for (let i = 0; i < 3; i++) {
        const body = await httpGet('127.0.0.1', port);
        assert.equal(body, "You've hit stream\n");
      }
    } finally { pf.kill('SIGTERM'); }
  });

  it('serves resource metrics and the stats summary through nodes/proxy', async () => {
    await n.waitPod('hello', 'Ready', ready);
    await waitFor('container metrics for hello', async () => {
      const r = await n.kubectl(['get', '--raw', `/api/v1/nodes/${n.nodeName}/proxy/metrics/resource`]);
      return /container_memory_working_set_bytes\{container="main",namespace="default",pod="hello"\} \d+/.test(r.stdout)
        && /node_cpu_usage_seconds_total \d/.test(r.stdout);
    }, 30000, 500);
    const summary = JSON.parse(await n.k(['get', '--raw', `/api/v1/nodes/${n.nodeName}/proxy/stats/summary`]));
    assert.equal(summary.node.nodeName, n.nodeName);
    assert.ok(summary.pods.some((p: any) => p.podRef.name === 'hello' && p.containers[0].memory.workingSetBytes > 0));
  });

  it('services: ClusterIP balances over 3 pods from the host and from a pod, NodePort on the node and localhost, ClientIP affinity', async () => {
    await n.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: backend}
spec:
  replicas: 3
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: kubia
        image: luksa/kubia
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {port: http, path: /}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  type: NodePort
  selector: {app: backend}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: backend}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'sleep 3600']}
`);
    await n.k(['rollout', 'status', 'deployment/backend', '--timeout=90s']);
    await n.waitPod('client', 'Ready', ready);
    const svc = await n.kjson(['get', 'svc', 'backend']);
    const ip = svc.spec.clusterIP;
    const nodePort = svc.spec.ports[0].nodePort;
    const get = httpGet;
    await waitFor('endpoints ready', async () => {
      const eps = await n.kjson(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=backend']);
      return eps.items.flatMap((e: any) => e.endpoints ?? []).filter((e: any) => e.conditions?.ready).length === 3;
    }, 60000, 250);
    const seen = new Set<string>();
    await waitFor('ClusterIP from the host reaches all 3 pods', async () => {
      seen.add((await get(ip, 80)).trim());
      return seen.size === 3;
    }, 60000, 10);
    const fromPod = await n.k(['exec', 'client', '--', 'wget', '-qO-', `http://${ip}/`]);
    assert.match(fromPod, /^You've hit backend-/);
    const node = await n.kjson(['get', 'node', n.nodeName]);
    const hostIP = node.status.addresses.find((a: any) => a.type === 'InternalIP').address;
    assert.match(await get(hostIP, nodePort), /^You've hit backend-/);
    assert.match(await get('127.0.0.1', nodePort), /^You've hit backend-/);
    // A LoadBalancer gets the node's address and answers there.
    await n.k(['expose', 'deployment', 'backend', '--name', 'lb', '--type', 'LoadBalancer', '--port', '8081', '--target-port', '8080']);
    const lbIP = await waitFor('LoadBalancer ingress', async () => (await n.kjson(['get', 'svc', 'lb'])).status?.loadBalancer?.ingress?.[0]?.ip, 30000, 250);
    assert.equal(lbIP, hostIP);
    assert.match(await n.k(['get', 'svc', 'lb', '--no-headers']), new RegExp(`LoadBalancer\\s+\\S+\\s+${hostIP.replace(/\./g, '\\.')}\\s+8081:`));
    await waitFor('LoadBalancer answers', async () => /^You've hit backend-/.test(await get(lbIP, 8081).catch(() => '')), 30000, 250);
    const stickyIP = (await n.kjson(['get', 'svc', 'sticky'])).spec.clusterIP;
    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) answers.add((await get(stickyIP, 80)).trim());
    assert.equal(answers.size, 1, `affinity broken: ${[...answers]}`);
  });

  it('cluster DNS: services, headless StatefulSet pod names, ExternalName, upstream names not leaking', async () => {
    await n.apply(`apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{port: 80, name: web}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: nginx, image: luksa/kubia, ports: [{containerPort: 8080, name: web}]}
---
apiVersion: v1
kind: Service
metadata: {name: external}
spec:
  type: ExternalName
  externalName: kubernetes.default.svc.cluster.local
---
apiVersion: v1
kind: Pod
metadata: {name: dnsclient}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'sleep 3600']}
`);
    await n.waitPod('web-1', 'Ready', ready, 120000);
    await n.waitPod('dnsclient', 'Ready', ready);
    const web0 = (await n.pod('web-0')).status.podIP;
    const web1 = (await n.pod('web-1')).status.podIP;
    const resolv = await n.k(['exec', 'dnsclient', '--', 'cat', '/etc/resolv.conf']);
    assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(resolv, /options ndots:5/);
    // busybox's nslookup does not apply the search list: ask fully qualified names.
    const lookup = async (name: string) => (await n.kubectl(['exec', 'dnsclient', '--', 'nslookup', name])).stdout;
    const fq = (name: string) => `${name}.default.svc.cluster.local`;
    await waitFor('web-0.nginx resolves', async () => (await lookup(fq('web-0.nginx'))).includes(web0), 30000, 500);
    assert.ok((await lookup(fq('web-1.nginx'))).includes(web1));
    const both = await lookup(fq('nginx'));
    assert.ok(both.includes(web0) && both.includes(web1), both);
    const svcIP = (await n.kjson(['get', 'svc', 'kubernetes'])).spec.clusterIP;
    assert.ok((await lookup(fq('kubernetes'))).includes(svcIP));
    const ext = await lookup(fq('external'));
    assert.ok(/canonical name = kubernetes\.default\.svc\.cluster\.local/.test(ext) || ext.includes(svcIP), ext);
    assert.match((await n.kubectl(['exec', 'dnsclient', '--', 'nslookup', fq('no-such-service')])).stdout + '', /NXDOMAIN|can't find/);
    // The libc resolver (wget, ping) uses the search list: short names work.
    assert.match(await n.k(['exec', 'dnsclient', '--', 'ping', '-c', '1', '-W', '1', 'web-1.nginx']).catch((e) => String(e)), new RegExp(web1.replace(/\./g, '\\.')));
    // The kubia pods answer through the headless name too.
    assert.match(await n.k(['exec', 'dnsclient', '--', 'wget', '-qO-', 'http://web-0.nginx:8080/']), /You've hit web-0/);
  });

  it('seed 001 scenario 2: a rolling update with readiness probes and a preStop sleep drops no request', async () => {
    await n.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: smooth}
spec:
  replicas: 2
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: smooth}}
  template:
    metadata: {labels: {app: smooth}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: kubia
        image: luksa/kubia
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {port: 8080, path: /}, periodSeconds: 1}
        lifecycle:
          preStop:
            exec: {command: [sleep, '3']}
---
apiVersion: v1
kind: Service
metadata: {name: smooth}
spec:
  selector: {app: smooth}
  ports: [{port: 80, targetPort: 8080}]
`);
    await n.k(['rollout', 'status', 'deployment/smooth', '--timeout=90s']);
    const ip = (await n.kjson(['get', 'svc', 'smooth'])).spec.clusterIP;
    const get = () => httpGet(ip, 80);
    await waitFor('service answers', async () => /You've hit smooth-/.test(await get().catch(() => '')), 30000, 200);
    const before = new Set((await n.kjson(['get', 'pods', '-l', 'app=smooth'])).items.map((p: any) => p.metadata.name));
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    let running = true;
    const client = (async () => {
      while (running) {
        try {
          const body = await get();
          if (/^You've hit smooth-/.test(body)) { ok++; seen.add(body.trim().slice("You've hit ".length)); } else failures.push(`bad body ${JSON.stringify(body)}`);
        } catch (err) { failures.push((err as Error).message); }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await n.k(['set', 'env', 'deployment/smooth', 'VERSION=2']);
      await n.k(['rollout', 'status', 'deployment/smooth', '--timeout=120s']);
      // Let the old pods finish terminating while traffic continues.
      await waitFor('old pods gone', async () => {
        const pods = (await n.kjson(['get', 'pods', '-l', 'app=smooth'])).items;
        return pods.every((p: any) => !before.has(p.metadata.name));
      }, 60000, 250);
    } finally {
      running = false;
      await client;
    }
    assert.deepEqual(failures, [], `${failures.length} failed of ${ok + failures.length}`);
    assert.ok(ok > 50, `only ${ok} requests`);
    assert.ok([...seen].some((p) => before.has(p)) && [...seen].some((p) => !before.has(p)), `answers from old and new pods: ${[...seen]}`);
  });
});
