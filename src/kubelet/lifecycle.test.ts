import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { grpcAction, httpGetAction, tcpAction, resolvePort, type ActionTarget } from './lifecycle.js';

const target = (): ActionTarget => ({ runtime: {} as never, containerId: 'x', pod: {}, container: { name: 'c', ports: [{ name: 'web', containerPort: 8080 }] }, podIP: '127.0.0.1' });

test('named ports resolve from the container', () => {
  assert.equal(resolvePort('web', target().container), 8080);
  assert.equal(resolvePort(81, target().container), 81);
  assert.equal(resolvePort('nope', target().container), undefined);
});

test('httpGet: 2xx/3xx succeed, others fail with the status code; tcp connects', async () => {
  let code = 200;
  const srv = http.createServer((_q, s) => { s.statusCode = code; s.end('x'); }).listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    assert.equal((await httpGetAction(target(), { port, path: '/healthz' }, 1)).ok, true);
    code = 500;
    const r = await httpGetAction(target(), { port, path: '/healthz' }, 1);
    assert.equal(r.ok, false);
    assert.equal(r.message, 'HTTP probe failed with statuscode: 500');
    assert.equal((await tcpAction(target(), { port }, 1)).ok, true);
  } finally { srv.close(); }
  const closed = await tcpAction(target(), { port }, 1);
  assert.match(closed.message, /connection refused/);
});

test('gRPC probe speaks grpc.health.v1 and reports NOT_SERVING', async () => {
  let status = 1;
  const server = new grpc.Server();
  server.register('/grpc.health.v1.Health/Check', (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from([0x08, status])),
    (b: Buffer) => b, (b: Buffer) => b, 'unary');
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  try {
    assert.deepEqual(await grpcAction(target(), { port }, 2), { ok: true, message: '' });
    status = 2;
    const r = await grpcAction(target(), { port }, 2);
    assert.equal(r.ok, false);
    assert.equal(r.message, 'service unhealthy (responded with "NOT_SERVING")');
  } finally { server.forceShutdown(); }
});
