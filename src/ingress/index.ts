/**
 * keelson's ingress controller (networking.k8s.io/v1 Ingress): routing tables built from the
 * served Ingresses, an HTTP/HTTPS proxy to the pods, and the `keelson ingress` process the node
 * agent runs. See docs/ingress.md.
 */
export * from './ingress-class.js';
export * from './routing-table.js';
export * from './backends.js';
export * from './certificates.js';
export * from './ingress-proxy.js';
export * from './ingress-controller.js';
export * from './ingress-process.js';
export { runIngressCommand, firstHostIP, type IngressCommandOptions, type IngressChildMessage } from './command.js';
