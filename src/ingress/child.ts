/**
 * The entry the node agent forks for its ingress controller (IngressProcess): `keelson ingress`
 * with the same flags, without loading the whole CLI (the API server, controllers, … that
 * src/cli/main.js imports take a second to load on a small machine; this loads only the
 * ingress controller and the client).
 *
 *   node child.js --kubeconfig K [--http-port 80] [--https-port 443] [--bind-address 0.0.0.0] [--node-ip IP] [--node-name N]
 */
import { parseArgs } from 'node:util';
import { runIngressCommand } from './command.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'http-port': { type: 'string', default: '80' },
    'https-port': { type: 'string', default: '443' },
    'bind-address': { type: 'string', default: '0.0.0.0' },
    'node-ip': { type: 'string' },
    'node-name': { type: 'string' },
  },
});

let stopping = false;
runIngressCommand({
  kubeconfig: values.kubeconfig ?? '', httpPort: values['http-port'], httpsPort: values['https-port'],
  bindAddress: values['bind-address'], nodeIp: values['node-ip'], nodeName: values['node-name'],
}, (stop) => {
  const handler = () => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
