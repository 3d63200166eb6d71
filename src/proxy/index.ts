/**
 * keelson's service proxy (kube-proxy, iptables mode): ServiceProxy (informers + rate-limited
 * syncs), renderRules (pure rule rendering), Iptables (one iptables-restore transaction per
 * sync) and cleanup(prefix) for `keelson down`.
 */
export { ServiceProxy, setProxySysctls, SERVICES, ENDPOINTSLICES } from './service-proxy.js';
export type { ServiceProxyOptions, SyncStats, ProxyCounters } from './service-proxy.js';
export {
  renderRules, renderRestoreText, toRestoreText, jumpRules, fixedChains, isOwnChain, probability, hashName,
  DEFAULT_CHAIN_PREFIX, DEFAULT_MASQUERADE_BIT, LABEL_SERVICE_PROXY_NAME,
} from './rules.js';
export type { RenderOptions, RenderedRules, ServicePortInfo, JumpRule } from './rules.js';
export { Iptables, cleanup, conntrackCleanup, conntrackDeletions, hasConntrack, listOwnChains } from './iptables.js';
export type { ApplyMode, ApplyResult, IptablesOptions } from './iptables.js';
