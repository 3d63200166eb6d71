/**
 * Per-kind table printers: the columns Kubernetes 1.32 prints for each built-in kind
 * (pkg/printers/internalversion) and how each cell is computed, written against the v1 JSON
 * shapes keelson stores. The API server always prints "wide": every column is sent and kubectl
 * hides priority-1 columns unless -o wide is given.
 */

import {
  accessModesString, boolPtr, formatLabelSelector, formatLabels, goSort, joinHostPort, labelSelectorGoString,
  labelSelectorString, layoutContainers, listWithMore, quantityString,
} from './format.js';
import { humanDuration, parseTime, translateTimestampSince } from './human-duration.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface PrintContext {
  /** "Now" in milliseconds since the epoch, for ages and durations. */
  now: number;
}

export interface PrintedRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
}

export interface KindPrinter {
  columns: TableColumnDefinition[];
  print(obj: any, ctx: PrintContext): PrintedRow;
  /** Reorders a list before printing (FlowSchemas are printed in matching order). */
  sortList?(objs: any[]): any[];
}

// ---------------------------------------------------------------------------------------------
// Column helpers

function col(name: string, type: string, description: string, extra: { format?: string; priority?: number } = {}): TableColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}

const NAME_DESC = 'Name must be unique within a namespace. It is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.';
const AGE_DESC = 'CreationTimestamp is a timestamp representing the server time when this object was created, in UTC (RFC3339). Populated by the system.';

const NAME = col('Name', 'string', NAME_DESC, { format: 'name' });
const AGE = col('Age', 'string', AGE_DESC);
const CONTAINERS_WIDE = col('Containers', 'string', 'Names of each container in the template.', { priority: 1 });
const IMAGES_WIDE = col('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 });
const selectorWide = (d: string) => col('Selector', 'string', d, { priority: 1 });

/** The default table of resources without a printer (and of CustomResourceDefinitions). */
export const DEFAULT_COLUMNS: TableColumnDefinition[] = [
  NAME,
  col('Created At', 'date', AGE_DESC),
];

/** Cells of the default table: the name and the creation time in RFC 3339 (UTC). */
export function defaultCells(obj: any): unknown[] {
  const t = parseTime(obj?.metadata?.creationTimestamp);
  const created = t === undefined ? '0001-01-01T00:00:00Z' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [obj?.metadata?.name ?? '', created];
}

// ---------------------------------------------------------------------------------------------
// Small accessors

const meta = (o: any) => o?.metadata ?? {};
const nameOf = (o: any): string => meta(o).name ?? '';
const ageOf = (o: any, ctx: PrintContext) => translateTimestampSince(meta(o).creationTimestamp, ctx.now);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const rows = (cells: unknown[]): PrintedRow => ({ cells });
const isDeleting = (o: any) => meta(o).deletionTimestamp !== undefined && meta(o).deletionTimestamp !== null;

/** IntOrString.String(). */
const intOrString = (v: unknown): string => str(v);

/** True when conditions has one of the type, with status True (only the first of that type counts). */
function conditionTrue(conditions: unknown, type: string): boolean {
  for (const c of arr(conditions)) if (c?.type === type) return c.status === 'True';
  return false;
}

/** Newer of two times (undefined = zero time), as the printers' Before() comparisons do. */
function later(a: number | undefined, b: number | undefined): number | undefined {
  if (b === undefined) return a;
  if (a === undefined) return b;
  return a < b ? b : a;
}

// ---------------------------------------------------------------------------------------------
// core/v1 Pod

const POD_COLUMNS = [
  NAME,
  col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'string', 'The aggregate status of the containers in this pod.'),
  col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  AGE,
  col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster.', { priority: 1 }),
  col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', { priority: 1 }),
  col('Nominated Node', 'string', 'nominatedNodeName is set when this pod preempts other pods on the node.', { priority: 1 }),
  col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', { priority: 1 }),
];

/** The Status column of `kubectl get pods`. */
export function podStatusReason(pod: any): string {
  return podSummary(pod).reason;
}

interface PodSummary {
  ready: number;
  total: number;
  reason: string;
  restarts: number;
  lastRestart: number | undefined;
}

function podSummary(pod: any): PodSummary {
  const spec = pod?.spec ?? {};
  const status = pod?.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let total = arr(spec.containers).length;
  let ready = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;

  const phase = str(status.phase);
  let reason = status.reason ? str(status.reason) : phase;

  for (const c of arr(status.conditions)) {
    if (c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initSpecs = new Map<string, any>();
  for (const c of arr(spec.initContainers)) {
    initSpecs.set(c?.name, c);
    if (c?.restartPolicy === 'Always') total++;
  }
  const restartable = (name: unknown) => initSpecs.get(name as string)?.restartPolicy === 'Always';

  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] ?? {};
    const rc = num(c.restartCount);
    restarts += rc;
    const lastTerm = c.lastState?.terminated;
    if (lastTerm) lastRestart = later(lastRestart, parseTime(lastTerm.finishedAt));
    const isRestartable = restartable(c.name);
    if (isRestartable) {
      restartableInitRestarts += rc;
      if (lastTerm) lastRestartableInitRestart = later(lastRestartableInitRestart, parseTime(lastTerm.finishedAt));
    }
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && num(term.exitCode) === 0) continue;
    if (isRestartable && c.started === true) {
      if (c.ready) ready++;
      continue;
    }
    if (term) {
      if (!term.reason) {
        reason = num(term.signal) !== 0 ? `Init:Signal:${num(term.signal)}` : `Init:ExitCode:${num(term.exitCode)}`;
      } else {
        reason = `Init:${term.reason}`;
      }
    } else if (wait && wait.reason && wait.reason !== 'PodInitializing') {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${arr(spec.initContainers).length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status.conditions, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] ?? {};
      restarts += num(c.restartCount);
      const lastTerm = c.lastState?.terminated;
      if (lastTerm) lastRestart = later(lastRestart, parseTime(lastTerm.finishedAt));
      const st = c.state ?? {};
      if (st.waiting && st.waiting.reason) {
        reason = str(st.waiting.reason);
      } else if (st.terminated && st.terminated.reason) {
        reason = str(st.terminated.reason);
      } else if (st.terminated) {
        reason = num(st.terminated.signal) !== 0 ? `Signal:${num(st.terminated.signal)}` : `ExitCode:${num(st.terminated.exitCode)}`;
      } else if (c.ready && st.running) {
        hasRunning = true;
        ready++;
      }
    }
    // At least one container still running: the pod is not completed yet.
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  if (isDeleting(pod) && status.reason === 'NodeLost') {
    reason = 'Unknown';
  } else if (isDeleting(pod) && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }

  return { ready, total, reason, restarts, lastRestart };
}

function printPod(pod: any, ctx: PrintContext): PrintedRow {
  const s = podSummary(pod);
  let restarts = String(s.restarts);
  if (s.restarts !== 0 && s.lastRestart !== undefined) restarts = `${s.restarts} (${humanDuration(ctx.now - s.lastRestart)} ago)`;

  const spec = pod?.spec ?? {};
  const status = pod?.status ?? {};
  const podIP = str(arr(status.podIPs)[0]?.ip ?? status.podIP) || '<none>';
  const nodeName = str(spec.nodeName) || '<none>';
  const nominated = str(status.nominatedNodeName) || '<none>';
  let gates = '<none>';
  const readinessGates = arr(spec.readinessGates);
  if (readinessGates.length > 0) {
    let trueConditions = 0;
    for (const g of readinessGates) {
      const c = arr(status.conditions).find((x) => x?.type === g?.conditionType);
      if (c && c.status === 'True') trueConditions++;
    }
    gates = `${trueConditions}/${readinessGates.length}`;
  }

  const row: PrintedRow = {
    cells: [nameOf(pod), `${s.ready}/${s.total}`, s.reason, restarts, ageOf(pod, ctx), podIP, nodeName, nominated, gates],
  };
  if (status.phase === 'Succeeded') {
    row.conditions = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
  } else if (status.phase === 'Failed') {
    row.conditions = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
  }
  return row;
}

// ---------------------------------------------------------------------------------------------
// Workloads

const PODTEMPLATE_COLUMNS = [
  NAME,
  col('Containers', 'string', 'Names of each container in the template.'),
  col('Images', 'string', 'Images referenced by each container in the template.'),
  col('Pod Labels', 'string', 'The labels for the pod template.'),
];

function printPodTemplate(o: any): PrintedRow {
  const [names, images] = layoutContainers(o?.template?.spec?.containers);
  return rows([nameOf(o), names, images, formatLabels(o?.template?.metadata?.labels)]);
}

const REPLICATION_CONTROLLER_COLUMNS = [
  NAME,
  col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
  col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
  col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
  AGE, CONTAINERS_WIDE, IMAGES_WIDE,
  selectorWide('Selector is a label query over pods that should match the Replicas count.'),
];

function printReplicationController(o: any, ctx: PrintContext): PrintedRow {
  const [names, images] = layoutContainers(o?.spec?.template?.spec?.containers);
  return rows([
    nameOf(o), o?.spec?.replicas ?? 1, num(o?.status?.replicas), num(o?.status?.readyReplicas), ageOf(o, ctx),
    names, images, formatLabels(o?.spec?.selector),
  ]);
}

const REPLICASET_COLUMNS = [
  NAME,
  col('Desired', 'integer', 'Replicas is the number of desired pods.'),
  col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
  col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
  AGE, CONTAINERS_WIDE, IMAGES_WIDE,
  selectorWide('Selector is a label query over pods that should match the replica count.'),
];

function printReplicaSet(o: any, ctx: PrintContext): PrintedRow {
  const [names, images] = layoutContainers(o?.spec?.template?.spec?.containers);
  return rows([
    nameOf(o), o?.spec?.replicas ?? 1, num(o?.status?.replicas), num(o?.status?.readyReplicas), ageOf(o, ctx),
    names, images, formatLabelSelector(o?.spec?.selector),
  ]);
}

const DEPLOYMENT_COLUMNS = [
  NAME,
  col('Ready', 'string', 'Number of the pod with ready state'),
  col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
  col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
  AGE, CONTAINERS_WIDE, IMAGES_WIDE,
  selectorWide('Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
];

function printDeployment(o: any, ctx: PrintContext): PrintedRow {
  const [names, images] = layoutContainers(o?.spec?.template?.spec?.containers);
  const selector = labelSelectorString(o?.spec?.selector);
  return rows([
    nameOf(o), `${num(o?.status?.readyReplicas)}/${o?.spec?.replicas ?? 1}`, num(o?.status?.updatedReplicas),
    num(o?.status?.availableReplicas), ageOf(o, ctx), names, images, selector === null ? '<invalid>' : selector,
  ]);
}

const STATEFULSET_COLUMNS = [
  NAME,
  col('Ready', 'string', 'Number of the pod with ready state'),
  AGE, CONTAINERS_WIDE, IMAGES_WIDE,
];

function printStatefulSet(o: any, ctx: PrintContext): PrintedRow {
  const [names, images] = layoutContainers(o?.spec?.template?.spec?.containers);
  return rows([nameOf(o), `${num(o?.status?.readyReplicas)}/${o?.spec?.replicas ?? 1}`, ageOf(o, ctx), names, images]);
}

const DAEMONSET_COLUMNS = [
  NAME,
  col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
  col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
  col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
  col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
  col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
  col('Node Selector', 'string', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
  AGE, CONTAINERS_WIDE, IMAGES_WIDE,
  selectorWide('A label query over pods that are managed by the daemon set.'),
];

function printDaemonSet(o: any, ctx: PrintContext): PrintedRow {
  const st = o?.status ?? {};
  const [names, images] = layoutContainers(o?.spec?.template?.spec?.containers);
  return rows([
    nameOf(o), num(st.desiredNumberScheduled), num(st.currentNumberScheduled), num(st.numberReady),
    num(st.updatedNumberScheduled), num(st.numberAvailable), formatLabels(o?.spec?.template?.spec?.nodeSelector),
    ageOf(o, ctx), names, images, formatLabelSelector(o?.spec?.selector),
  ]);
}

const JOB_COLUMNS = [
  NAME,
  col('Status', 'string', 'Status of the job.'),
  col('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
  col('Duration', 'string', 'Time required to complete the job.'),
  AGE, CONTAINERS_WIDE, IMAGES_WIDE,
  selectorWide('A label query over pods that should match the pod count.'),
];

/** The Status column of `kubectl get jobs`. */
export function jobStatus(o: any): string {
  const conds = o?.status?.conditions;
  if (conditionTrue(conds, 'Complete')) return 'Complete';
  if (conditionTrue(conds, 'Failed')) return 'Failed';
  if (isDeleting(o)) return 'Terminating';
  if (conditionTrue(conds, 'Suspended')) return 'Suspended';
  if (conditionTrue(conds, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function printJob(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const st = o?.status ?? {};
  const succeeded = num(st.succeeded);
  let completions: string;
  if (typeof spec.completions === 'number') {
    completions = `${succeeded}/${spec.completions}`;
  } else {
    const parallelism = num(spec.parallelism);
    completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  }
  const start = parseTime(st.startTime);
  const end = parseTime(st.completionTime);
  let duration = '';
  if (st.startTime !== undefined && st.startTime !== null) {
    if (st.completionTime === undefined || st.completionTime === null) duration = humanDuration(ctx.now - (start ?? 0));
    else duration = humanDuration((end ?? 0) - (start ?? 0));
  }
  const [names, images] = layoutContainers(spec.template?.spec?.containers);
  return rows([nameOf(o), jobStatus(o), completions, duration, ageOf(o, ctx), names, images, formatLabelSelector(spec.selector)]);
}

const CRONJOB_COLUMNS = [
  NAME,
  col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
  col('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
  col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.'),
  col('Active', 'integer', 'A list of pointers to currently running jobs.'),
  col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
  AGE, CONTAINERS_WIDE, IMAGES_WIDE,
  selectorWide('A label query over pods that should match the pod count.'),
];

function printCronJob(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const last = o?.status?.lastScheduleTime;
  const lastSchedule = last === undefined || last === null ? '<none>' : translateTimestampSince(last, ctx.now);
  const timeZone = typeof spec.timeZone === 'string' ? spec.timeZone : '<none>';
  const jobSpec = spec.jobTemplate?.spec ?? {};
  const [names, images] = layoutContainers(jobSpec.template?.spec?.containers);
  return rows([
    nameOf(o), str(spec.schedule), timeZone, boolPtr(spec.suspend), arr(o?.status?.active).length, lastSchedule,
    ageOf(o, ctx), names, images, formatLabelSelector(jobSpec.selector),
  ]);
}

const CONTROLLER_REVISION_COLUMNS = [
  NAME,
  col('Controller', 'string', 'Controller of the object'),
  col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'),
  AGE,
];

function printControllerRevision(o: any, ctx: PrintContext): PrintedRow {
  const ref = arr(meta(o).ownerReferences).find((r) => r?.controller === true);
  let controller = '<none>';
  if (ref) {
    const apiVersion = str(ref.apiVersion);
    const parts = apiVersion.split('/');
    const group = parts.length === 2 ? parts[0] : '';
    const kind = str(ref.kind);
    if (kind === '' && group === '') controller = str(ref.name);
    else controller = `${(group ? `${kind}.${group}` : kind).toLowerCase()}/${str(ref.name)}`;
  }
  return rows([nameOf(o), controller, num(o?.revision), ageOf(o, ctx)]);
}

const HPA_COLUMNS = [
  NAME,
  col('Reference', 'string', 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.'),
  col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
  col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
  col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
  col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler.'),
  AGE,
];

/** A *resource.Quantity's String(): "<nil>" when unset. */
const q = (v: unknown): string => (v === undefined || v === null ? '<nil>' : String(v));

function formatHPAMetrics(specs: any[], statuses: any[]): string {
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  const max = 2;
  specs.forEach((spec, i) => {
    const status = statuses[i];
    switch (spec?.type) {
      case 'External': {
        const target = spec.external?.target ?? {};
        const current = status?.external?.current;
        if (target.averageValue !== undefined && target.averageValue !== null) {
          const cur = status?.external && current?.averageValue != null ? String(current.averageValue) : '<unknown>';
          list.push(`${cur}/${q(target.averageValue)} (avg)`);
        } else {
          const cur = status?.external ? q(current?.value) : '<unknown>';
          list.push(`${cur}/${q(target.value)}`);
        }
        break;
      }
      case 'Pods': {
        const cur = status?.pods ? q(status.pods.current?.averageValue) : '<unknown>';
        list.push(`${cur}/${q(spec.pods?.target?.averageValue)}`);
        break;
      }
      case 'Object': {
        const target = spec.object?.target ?? {};
        const current = status?.object?.current;
        if (target.averageValue !== undefined && target.averageValue !== null) {
          const cur = status?.object && current?.averageValue != null ? String(current.averageValue) : '<unknown>';
          list.push(`${cur}/${q(target.averageValue)} (avg)`);
        } else {
          const cur = status?.object ? q(current?.value) : '<unknown>';
          list.push(`${cur}/${q(target.value)}`);
        }
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = spec[key] ?? {};
        const target = src.target ?? {};
        const st = status?.[key];
        if (target.averageValue !== undefined && target.averageValue !== null) {
          const cur = st ? q(st.current?.averageValue) : '<unknown>';
          list.push(`${str(src.name)}: ${cur}/${q(target.averageValue)}`);
        } else {
          const util = st?.current?.averageUtilization;
          const cur = typeof util === 'number' ? `${util}%` : '<unknown>';
          const tgt = typeof target.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
          list.push(`${str(src.name)}: ${cur}/${tgt}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const count = specs.length;
  if (count > max) return `${list.slice(0, max).join(', ')} + ${count - max} more...`;
  return list.join(', ');
}

function printHorizontalPodAutoscaler(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const status = o?.status ?? {};
  let metrics = arr(spec.metrics);
  let current = arr(status.currentMetrics);
  // autoscaling/v1 shape: a single CPU utilization target.
  if (metrics.length === 0 && typeof spec.targetCPUUtilizationPercentage === 'number') {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
    if (typeof status.currentCPUUtilizationPercentage === 'number') {
      current = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
    }
  }
  const ref = spec.scaleTargetRef ?? {};
  const minPods = typeof spec.minReplicas === 'number' ? String(spec.minReplicas) : '<unset>';
  return rows([
    nameOf(o), `${str(ref.kind)}/${str(ref.name)}`, formatHPAMetrics(metrics, current), minPods,
    num(spec.maxReplicas), num(status.currentReplicas), ageOf(o, ctx),
  ]);
}

const PDB_COLUMNS = [
  NAME,
  col('Min Available', 'string', 'The minimum number of pods that must be available.'),
  col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
  col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
  AGE,
];

function printPodDisruptionBudget(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const minAvailable = spec.minAvailable === undefined || spec.minAvailable === null ? 'N/A' : intOrString(spec.minAvailable);
  const maxUnavailable = spec.maxUnavailable === undefined || spec.maxUnavailable === null ? 'N/A' : intOrString(spec.maxUnavailable);
  return rows([nameOf(o), minAvailable, maxUnavailable, num(o?.status?.disruptionsAllowed), ageOf(o, ctx)]);
}

// ---------------------------------------------------------------------------------------------
// Services and networking

const SERVICE_COLUMNS = [
  NAME,
  col('Type', 'string', 'type determines how the Service is exposed.'),
  col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
  col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
  col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
  AGE,
  selectorWide('Route service traffic to pods with label keys and values matching this selector.'),
];

/** The sorted, de-duplicated IPs (or hostnames) of a load balancer status, joined by ",". */
function loadBalancerString(lb: any): string {
  const set = new Set<string>();
  for (const ing of arr(lb?.ingress)) {
    if (ing?.ip) set.add(str(ing.ip));
    else if (ing?.hostname) set.add(str(ing.hostname));
  }
  return goSort(set).join(',');
}

/** The External-IP column of `kubectl get services` (the API server prints it wide: never clipped). */
export function serviceExternalIP(svc: any): string {
  const spec = svc?.spec ?? {};
  const externalIPs: string[] = arr(spec.externalIPs).map(str);
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerString(svc?.status?.loadBalancer);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
  }
  return '<unknown>';
}

/** The Port(s) column: "80/TCP", "80:30080/TCP", joined by ",". */
export function servicePorts(ports: unknown): string {
  return arr(ports).map((p) => {
    const proto = str(p?.protocol) || 'TCP';
    return num(p?.nodePort) > 0 ? `${num(p?.port)}:${num(p.nodePort)}/${proto}` : `${num(p?.port)}/${proto}`;
  }).join(',');
}

function printService(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const clusterIPs = arr(spec.clusterIPs);
  let internalIP = '<none>';
  if (clusterIPs.length > 0) internalIP = str(clusterIPs[0]);
  else if (spec.clusterIP) internalIP = str(spec.clusterIP);
  const ports = servicePorts(spec.ports) || '<none>';
  return rows([nameOf(o), str(spec.type ?? 'ClusterIP'), internalIP, serviceExternalIP(o), ports, ageOf(o, ctx), formatLabels(spec.selector)]);
}

const ENDPOINTS_COLUMNS = [
  NAME,
  col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'),
  AGE,
];

/** formatEndpoints: up to three "ip:port" entries, then "+ N more...". */
export function formatEndpoints(ep: any): string {
  const subsets = arr(ep?.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = arr(ss?.addresses);
    const ports = arr(ss?.ports);
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(a?.ip));
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(str(a?.ip), num(port?.port)));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

function printEndpoints(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), formatEndpoints(o), ageOf(o, ctx)]);
}

const ENDPOINTSLICE_COLUMNS = [
  NAME,
  col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
  col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
  col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
  AGE,
];

function printEndpointSlice(o: any, ctx: PrintContext): PrintedRow {
  const max = 3;
  const ports: string[] = [];
  let portCount = 0;
  let portsMore = false;
  for (const p of arr(o?.ports)) {
    if (ports.length < max) {
      ports.push(p?.port !== undefined && p?.port !== null ? String(p.port) : p?.name !== undefined && p?.name !== null ? str(p.name) : '*');
    } else if (ports.length === max) {
      portsMore = true;
    }
    portCount++;
  }
  const eps: string[] = [];
  let epCount = 0;
  let epsMore = false;
  for (const e of arr(o?.endpoints)) {
    for (const a of arr(e?.addresses)) {
      if (eps.length < max) eps.push(str(a));
      else if (eps.length === max) epsMore = true;
      epCount++;
    }
  }
  return rows([
    nameOf(o), str(o?.addressType), listWithMore(ports, portsMore, portCount, max), listWithMore(eps, epsMore, epCount, max), ageOf(o, ctx),
  ]);
}

const INGRESS_COLUMNS = [
  NAME,
  col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
  col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
  col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
  col('Ports', 'string', 'Ports of TLS configurations that open'),
  AGE,
];

function formatHosts(rules: any[]): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule?.host) list.push(str(rule.host));
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  return more ? `${ret} + ${rules.length - max} more...` : ret;
}

function printIngress(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const className = typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>';
  const ports = arr(spec.tls).length !== 0 ? '80, 443' : '80';
  return rows([nameOf(o), className, formatHosts(arr(spec.rules)), loadBalancerString(o?.status?.loadBalancer), ports, ageOf(o, ctx)]);
}

const INGRESSCLASS_COLUMNS = [
  NAME,
  col('Controller', 'string', 'Controller that is responsible for handling this class'),
  col('Parameters', 'string', 'A reference to a resource with additional parameters'),
  AGE,
];

function printIngressClass(o: any, ctx: PrintContext): PrintedRow {
  const p = o?.spec?.parameters;
  let parameters = '<none>';
  if (p) {
    parameters = str(p.kind);
    if (typeof p.apiGroup === 'string') parameters += `.${p.apiGroup}`;
    parameters += `/${str(p.name)}`;
  }
  return rows([nameOf(o), str(o?.spec?.controller), parameters, ageOf(o, ctx)]);
}

const NETWORKPOLICY_COLUMNS = [
  NAME,
  col('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies.'),
  AGE,
];

function printNetworkPolicy(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), formatLabelSelector(o?.spec?.podSelector ?? {}), ageOf(o, ctx)]);
}

// ---------------------------------------------------------------------------------------------
// Cluster

const NODE_COLUMNS = [
  NAME,
  col('Status', 'string', 'The status of the node'),
  col('Roles', 'string', 'The roles of the node'),
  AGE,
  col('Version', 'string', 'Kubelet Version reported by the node.'),
  col('Internal-IP', 'string', 'List of addresses reachable to the node.', { priority: 1 }),
  col('External-IP', 'string', 'List of addresses reachable to the node.', { priority: 1 }),
  col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { priority: 1 }),
  col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", { priority: 1 }),
  col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', { priority: 1 }),
];

/** The Status column of `kubectl get nodes`: Ready/NotReady/Unknown, plus SchedulingDisabled. */
export function nodeStatus(node: any): string {
  const status: string[] = [];
  let ready: any;
  for (const c of arr(node?.status?.conditions)) if (c?.type === 'Ready') ready = c;
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node?.spec?.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted. */
export function nodeRoles(node: any): string[] {
  const roles = new Set<string>();
  const labels = meta(node).labels ?? {};
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(str(v));
    }
  }
  return goSort(roles);
}

function nodeAddress(node: any, type: string): string {
  const a = arr(node?.status?.addresses).find((x) => x?.type === type);
  return a ? str(a.address) : '<none>';
}

function printNode(o: any, ctx: PrintContext): PrintedRow {
  const info = o?.status?.nodeInfo ?? {};
  return rows([
    nameOf(o), nodeStatus(o), nodeRoles(o).join(',') || '<none>', ageOf(o, ctx), str(info.kubeletVersion),
    nodeAddress(o, 'InternalIP'), nodeAddress(o, 'ExternalIP'), str(info.osImage) || '<unknown>',
    str(info.kernelVersion) || '<unknown>', str(info.containerRuntimeVersion) || '<unknown>',
  ]);
}

const NAMESPACE_COLUMNS = [NAME, col('Status', 'string', 'The status of the namespace'), AGE];

function printNamespace(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), str(o?.status?.phase), ageOf(o, ctx)]);
}

const COMPONENTSTATUS_COLUMNS = [
  NAME,
  col('Status', 'string', 'Status of the component conditions'),
  col('Message', 'string', 'Message of the component conditions'),
  col('Error', 'string', 'Error of the component conditions'),
];

function printComponentStatus(o: any): PrintedRow {
  let status = 'Unknown';
  let message = '';
  let error = '';
  for (const c of arr(o?.conditions)) {
    if (c?.type === 'Healthy') {
      status = c.status === 'True' ? 'Healthy' : 'Unhealthy';
      message = str(c.message);
      error = str(c.error);
      break;
    }
  }
  return rows([nameOf(o), status, message, error]);
}

// ---------------------------------------------------------------------------------------------
// Config and storage

const CONFIGMAP_COLUMNS = [NAME, col('Data', 'string', 'Data contains the configuration data.'), AGE];

function printConfigMap(o: any, ctx: PrintContext): PrintedRow {
  const n = Object.keys(o?.data ?? {}).length + Object.keys(o?.binaryData ?? {}).length;
  return rows([nameOf(o), n, ageOf(o, ctx)]);
}

const SECRET_COLUMNS = [
  NAME,
  col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
  col('Data', 'string', 'Data contains the secret data.'),
  AGE,
];

function printSecret(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), str(o?.type), Object.keys(o?.data ?? {}).length, ageOf(o, ctx)]);
}

const SERVICEACCOUNT_COLUMNS = [
  NAME,
  col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'),
  AGE,
];

function printServiceAccount(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), arr(o?.secrets).length, ageOf(o, ctx)]);
}

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const PV_COLUMNS = [
  NAME,
  col('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity."),
  col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
  col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
  col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
  col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
  col('StorageClass', 'string', 'StorageClass of the pv'),
  col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
  col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
  AGE,
  col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', { priority: 1 }),
];

function printPersistentVolume(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const claim = spec.claimRef ? `${str(spec.claimRef.namespace)}/${str(spec.claimRef.name)}` : '';
  const annotations = meta(o).annotations ?? {};
  const storageClass = BETA_STORAGE_CLASS_ANNOTATION in annotations ? str(annotations[BETA_STORAGE_CLASS_ANNOTATION]) : str(spec.storageClassName);
  const phase = isDeleting(o) ? 'Terminating' : str(o?.status?.phase);
  return rows([
    nameOf(o), quantityString(spec.capacity?.storage), accessModesString(spec.accessModes), str(spec.persistentVolumeReclaimPolicy),
    phase, claim, storageClass, typeof spec.volumeAttributesClassName === 'string' ? spec.volumeAttributesClassName : '<unset>',
    str(o?.status?.reason), ageOf(o, ctx), typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
  ]);
}

const PVC_COLUMNS = [
  NAME,
  col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
  col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
  col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
  col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
  col('StorageClass', 'string', 'StorageClass of the pvc'),
  col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
  AGE,
  col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', { priority: 1 }),
];

function printPersistentVolumeClaim(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const annotations = meta(o).annotations ?? {};
  let storageClass = '';
  if (BETA_STORAGE_CLASS_ANNOTATION in annotations) storageClass = str(annotations[BETA_STORAGE_CLASS_ANNOTATION]);
  else if (typeof spec.storageClassName === 'string') storageClass = spec.storageClassName;
  let capacity = '';
  let accessModes = '';
  if (spec.volumeName) {
    accessModes = accessModesString(o?.status?.accessModes);
    capacity = quantityString(o?.status?.capacity?.storage);
  }
  const phase = isDeleting(o) ? 'Terminating' : str(o?.status?.phase);
  return rows([
    nameOf(o), phase, str(spec.volumeName), capacity, accessModes, storageClass,
    typeof spec.volumeAttributesClassName === 'string' ? spec.volumeAttributesClassName : '<unset>', ageOf(o, ctx),
    typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
  ]);
}

const STORAGECLASS_COLUMNS = [
  NAME,
  col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
  col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
  col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
  col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
  AGE,
];

function printStorageClass(o: any, ctx: PrintContext): PrintedRow {
  const annotations = meta(o).annotations ?? {};
  const isDefault = annotations['storageclass.kubernetes.io/is-default-class'] === 'true'
    || annotations['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
  return rows([
    isDefault ? `${nameOf(o)} (default)` : nameOf(o), str(o?.provisioner), str(o?.reclaimPolicy ?? 'Delete'),
    str(o?.volumeBindingMode ?? 'Immediate'), o?.allowVolumeExpansion === true, ageOf(o, ctx),
  ]);
}

const VOLUMEATTACHMENT_COLUMNS = [
  NAME,
  col('Attacher', 'string', 'attacher indicates the name of the volume driver that MUST handle this request.', { format: 'name' }),
  col('PV', 'string', 'persistentVolumeName represents the name of the persistent volume to attach.'),
  col('Node', 'string', 'nodeName represents the node that the volume should be attached to.'),
  col('Attached', 'boolean', 'attached indicates the volume is successfully attached.'),
  AGE,
];

function printVolumeAttachment(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  return rows([
    nameOf(o), str(spec.attacher), str(spec.source?.persistentVolumeName), str(spec.nodeName), o?.status?.attached === true, ageOf(o, ctx),
  ]);
}

const CSINODE_COLUMNS = [
  NAME,
  col('Drivers', 'integer', 'Drivers indicates the number of CSI drivers registered on the node'),
  AGE,
];

function printCSINode(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), arr(o?.spec?.drivers).length, ageOf(o, ctx)]);
}

const CSIDRIVER_COLUMNS = [
  NAME,
  col('AttachRequired', 'boolean', 'attachRequired indicates this CSI volume driver requires an attach operation.'),
  col('PodInfoOnMount', 'boolean', 'podInfoOnMount indicates this CSI volume driver requires additional pod information during mount operations.'),
  col('StorageCapacity', 'boolean', 'storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity.'),
  col('TokenRequests', 'string', 'tokenRequests indicates the CSI driver needs pods\' service account tokens it is mounting volume for.'),
  col('RequiresRepublish', 'boolean', 'requiresRepublish indicates the CSI driver wants NodePublishVolume being periodically called.'),
  col('Modes', 'string', 'volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.'),
  AGE,
];

function printCSIDriver(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const modes = arr(spec.volumeLifecycleModes).map(str).join(',') || '<none>';
  const tokenRequests = Array.isArray(spec.tokenRequests) ? spec.tokenRequests.map((t: any) => str(t?.audience)).join(',') : '<unset>';
  return rows([
    nameOf(o), spec.attachRequired !== false, spec.podInfoOnMount === true, spec.storageCapacity === true,
    tokenRequests, spec.requiresRepublish === true, modes, ageOf(o, ctx),
  ]);
}

const CSISTORAGECAPACITY_COLUMNS = [
  NAME,
  col('StorageClassName', 'string', 'storageClassName represents the name of the StorageClass that the reported capacity applies to.'),
  col('Capacity', 'string', 'capacity is the value reported by the CSI driver in its GetCapacityResponse for a GetCapacityRequest.'),
];

function printCSIStorageCapacity(o: any): PrintedRow {
  const capacity = o?.capacity === undefined || o?.capacity === null ? '<unset>' : String(o.capacity);
  return rows([nameOf(o), str(o?.storageClassName), capacity]);
}

const RESOURCEQUOTA_COLUMNS = [
  NAME,
  col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
  col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
  AGE,
];

function printResourceQuota(o: any, ctx: PrintContext): PrintedRow {
  const hard = o?.status?.hard ?? {};
  const used = o?.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const r of goSort(Object.keys(hard))) {
    const pieces = r.split('.');
    const entry = `${r}: ${quantityString(used[r])}/${quantityString(hard[r])}`;
    (pieces.length > 1 && pieces[0] === 'limits' ? limit : request).push(entry);
  }
  return rows([nameOf(o), request.join(', '), limit.join(', '), ageOf(o, ctx)]);
}

// ---------------------------------------------------------------------------------------------
// Events (core/v1 and events.k8s.io/v1 share the printer, as they share storage)

const EVENT_COLUMNS = [
  col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  col('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
  col('Object', 'string', 'The object that this event is about.'),
  col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', { priority: 1 }),
  col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', { priority: 1 }),
  col('Message', 'string', 'A human-readable description of the status of this operation.'),
  col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', { priority: 1 }),
  col('Count', 'string', 'The number of times this event has occurred.', { priority: 1 }),
  col('Name', 'string', NAME_DESC, { format: 'name', priority: 1 }),
];

function printEvent(ev: any, ctx: PrintContext): PrintedRow {
  // Accept both shapes: core/v1 field names, and the events.k8s.io/v1 ones.
  const involved = ev?.involvedObject ?? ev?.regarding ?? {};
  const message = str(ev?.message ?? ev?.note);
  const firstTs = ev?.firstTimestamp ?? ev?.deprecatedFirstTimestamp;
  const lastTs = ev?.lastTimestamp ?? ev?.deprecatedLastTimestamp;
  const source = ev?.source ?? ev?.deprecatedSource ?? {};
  const reportingController = str(ev?.reportingComponent ?? ev?.reportingController);
  const reportingInstance = str(ev?.reportingInstance);

  let first = translateTimestampSince(firstTs, ctx.now);
  if (parseTime(firstTs) === undefined) first = translateTimestampSince(ev?.eventTime, ctx.now);
  let last = translateTimestampSince(lastTs, ctx.now);
  if (parseTime(lastTs) === undefined) last = first;

  let count = num(ev?.count ?? ev?.deprecatedCount);
  if (ev?.series) {
    last = translateTimestampSince(ev.series.lastObservedTime, ctx.now);
    count = num(ev.series.count);
  } else if (count === 0) {
    // Singleton events don't have a count set in the new API.
    count = 1;
  }

  const kind = str(involved.kind).toLowerCase();
  const target = involved.name ? `${kind}/${str(involved.name)}` : kind;
  const component = str(source.component) || reportingController;
  const instance = str(source.host) || reportingInstance;
  const src = instance ? `${component}, ${instance}` : component;

  return rows([last, str(ev?.type), str(ev?.reason), target, str(involved.fieldPath), src, message.trim(), first, count, nameOf(ev)]);
}

// ---------------------------------------------------------------------------------------------
// RBAC, certificates, coordination, scheduling, node

const roleBindingColumns = (what: string) => [
  NAME,
  col('Role', 'string', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
  AGE,
  col('Users', 'string', `Users in the ${what}`, { priority: 1 }),
  col('Groups', 'string', `Groups in the ${what}`, { priority: 1 }),
  col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, { priority: 1 }),
];

function printRoleBinding(o: any, ctx: PrintContext): PrintedRow {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of arr(o?.subjects)) {
    if (s?.kind === 'ServiceAccount') sas.push(`${str(s.namespace)}/${str(s.name)}`);
    else if (s?.kind === 'User') users.push(str(s.name));
    else if (s?.kind === 'Group') groups.push(str(s.name));
  }
  const ref = o?.roleRef ?? {};
  return rows([nameOf(o), `${str(ref.kind)}/${str(ref.name)}`, ageOf(o, ctx), users.join(', '), groups.join(', '), sas.join(', ')]);
}

const CSR_COLUMNS = [
  NAME,
  AGE,
  col('SignerName', 'string', 'Requested signer for the request.'),
  col('Requestor', 'string', 'Name of the user that created the request.'),
  col('RequestedDuration', 'string', 'expirationSeconds is the requested duration of validity of the issued certificate.'),
  col('Condition', 'string', 'Conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".'),
];

/** The Condition column of `kubectl get csr`. */
export function csrCondition(o: any): string {
  let approved = false;
  let denied = false;
  let failed = false;
  for (const c of arr(o?.status?.conditions)) {
    if (c?.type === 'Approved') approved = true;
    else if (c?.type === 'Denied') denied = true;
    else if (c?.type === 'Failed') failed = true;
  }
  let status = denied ? 'Denied' : approved ? 'Approved' : 'Pending';
  if (failed) status += ',Failed';
  if (o?.status?.certificate) status += ',Issued';
  return status;
}

function printCertificateSigningRequest(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const duration = typeof spec.expirationSeconds === 'number' ? humanDuration(spec.expirationSeconds * 1000) : '<none>';
  return rows([nameOf(o), ageOf(o, ctx), str(spec.signerName) || '<none>', str(spec.username), duration, csrCondition(o)]);
}

const LEASE_COLUMNS = [
  NAME,
  col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'),
  AGE,
];

function printLease(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), str(o?.spec?.holderIdentity), ageOf(o, ctx)]);
}

const PRIORITYCLASS_COLUMNS = [
  NAME,
  col('Value', 'integer', 'value represents the integer value of this priority class.'),
  col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
  AGE,
  col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority.'),
];

function printPriorityClass(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), num(o?.value), o?.globalDefault === true, ageOf(o, ctx), str(o?.preemptionPolicy)]);
}

const RUNTIMECLASS_COLUMNS = [
  NAME,
  col('Handler', 'string', 'handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'),
  AGE,
];

function printRuntimeClass(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), str(o?.handler), ageOf(o, ctx)]);
}

// ---------------------------------------------------------------------------------------------
// Admission and flow control

const webhookColumns = () => [
  NAME,
  col('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration'),
  AGE,
];

function printWebhookConfiguration(o: any, ctx: PrintContext): PrintedRow {
  return rows([nameOf(o), arr(o?.webhooks).length, ageOf(o, ctx)]);
}

const VAP_COLUMNS = [
  NAME,
  col('Validations', 'integer', 'Validations indicates the number of validation rules defined in this configuration'),
  col('ParamKind', 'string', 'ParamKind specifies the kind of resources used to parameterize this policy'),
  AGE,
];

function printValidatingAdmissionPolicy(o: any, ctx: PrintContext): PrintedRow {
  const pk = o?.spec?.paramKind;
  const paramKind = pk ? `${str(pk.apiVersion)}/${str(pk.kind)}` : '<unset>';
  return rows([nameOf(o), arr(o?.spec?.validations).length, paramKind, ageOf(o, ctx)]);
}

const VAPB_COLUMNS = [
  NAME,
  col('PolicyName', 'string', 'PolicyName indicates the policy definition which the policy binding binded to'),
  col('ParamRef', 'string', 'ParamRef indicates the param resource which sets the configration param'),
  AGE,
];

function printValidatingAdmissionPolicyBinding(o: any, ctx: PrintContext): PrintedRow {
  const pr = o?.spec?.paramRef;
  let paramName = '<unset>';
  if (pr) {
    if (pr.name) paramName = pr.namespace ? `${str(pr.namespace)}/${str(pr.name)}` : `*/${str(pr.name)}`;
    else if (pr.selector) paramName = labelSelectorGoString(pr.selector);
  }
  return rows([nameOf(o), str(o?.spec?.policyName), paramName, ageOf(o, ctx)]);
}

const FLOWSCHEMA_COLUMNS = [
  NAME,
  col('PriorityLevel', 'string', '`name` is the name of the priority level configuration being referenced'),
  col('MatchingPrecedence', 'string', '`matchingPrecedence` is used to choose among the FlowSchemas that match a given request.'),
  col('DistinguisherMethod', 'string', '`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema.'),
  AGE,
  col('MissingPL', 'string', 'references a broken or non-existent PriorityLevelConfiguration'),
];

function printFlowSchema(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  const dm = spec.distinguisherMethod ? str(spec.distinguisherMethod.type) : '<none>';
  let badPLRef = '?';
  for (const c of arr(o?.status?.conditions)) {
    if (c?.type === 'Dangling') {
      badPLRef = str(c.status);
      break;
    }
  }
  return rows([nameOf(o), str(spec.priorityLevelConfiguration?.name), num(spec.matchingPrecedence), dm, ageOf(o, ctx), badPLRef]);
}

const PRIORITYLEVEL_COLUMNS = [
  NAME,
  col('Type', 'string', '`type` indicates whether this priority level is subject to limitation on request execution.'),
  col('NominalConcurrencyShares', 'string', '`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.'),
  col('Queues', 'string', '`queues` is the number of queues for this priority level.'),
  col('HandSize', 'string', '`handSize` is a small positive number that configures the shuffle sharding of requests into queues.'),
  col('QueueLengthLimit', 'string', '`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.'),
  AGE,
];

function printPriorityLevelConfiguration(o: any, ctx: PrintContext): PrintedRow {
  const spec = o?.spec ?? {};
  let ncs: unknown = '<none>';
  let queues: unknown = '<none>';
  let handSize: unknown = '<none>';
  let queueLengthLimit: unknown = '<none>';
  if (spec.limited) {
    ncs = num(spec.limited.nominalConcurrencyShares);
    const qc = spec.limited.limitResponse?.queuing;
    if (qc) {
      queues = num(qc.queues);
      handSize = num(qc.handSize);
      queueLengthLimit = num(qc.queueLengthLimit);
    }
  }
  return rows([nameOf(o), str(spec.type), ncs, queues, handSize, queueLengthLimit, ageOf(o, ctx)]);
}

/** FlowSchemas list in matching order: by matchingPrecedence, then by name. */
function sortFlowSchemas(objs: any[]): any[] {
  return [...objs].sort((a, b) => {
    const pa = num(a?.spec?.matchingPrecedence);
    const pb = num(b?.spec?.matchingPrecedence);
    if (pa !== pb) return pa - pb;
    const na = nameOf(a);
    const nb = nameOf(b);
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Registry

const PRINTERS = new Map<string, KindPrinter>();

function register(groups: string[], kind: string, columns: TableColumnDefinition[], print: (o: any, ctx: PrintContext) => PrintedRow, sortList?: (objs: any[]) => any[]): void {
  for (const g of groups) PRINTERS.set(`${g}/${kind}`, { columns, print, sortList });
}

register([''], 'Pod', POD_COLUMNS, printPod);
register([''], 'PodTemplate', PODTEMPLATE_COLUMNS, printPodTemplate);
register([''], 'ReplicationController', REPLICATION_CONTROLLER_COLUMNS, printReplicationController);
register([''], 'Service', SERVICE_COLUMNS, printService);
register([''], 'Endpoints', ENDPOINTS_COLUMNS, printEndpoints);
register([''], 'Node', NODE_COLUMNS, printNode);
register([''], 'Namespace', NAMESPACE_COLUMNS, printNamespace);
register([''], 'ComponentStatus', COMPONENTSTATUS_COLUMNS, printComponentStatus);
register([''], 'ConfigMap', CONFIGMAP_COLUMNS, printConfigMap);
register([''], 'Secret', SECRET_COLUMNS, printSecret);
register([''], 'ServiceAccount', SERVICEACCOUNT_COLUMNS, printServiceAccount);
register([''], 'PersistentVolume', PV_COLUMNS, printPersistentVolume);
register([''], 'PersistentVolumeClaim', PVC_COLUMNS, printPersistentVolumeClaim);
register([''], 'ResourceQuota', RESOURCEQUOTA_COLUMNS, printResourceQuota);
register(['', 'events.k8s.io'], 'Event', EVENT_COLUMNS, printEvent);
register(['apps', 'extensions'], 'ReplicaSet', REPLICASET_COLUMNS, printReplicaSet);
register(['apps', 'extensions'], 'Deployment', DEPLOYMENT_COLUMNS, printDeployment);
register(['apps', 'extensions'], 'DaemonSet', DAEMONSET_COLUMNS, printDaemonSet);
register(['apps'], 'StatefulSet', STATEFULSET_COLUMNS, printStatefulSet);
register(['apps'], 'ControllerRevision', CONTROLLER_REVISION_COLUMNS, printControllerRevision);
register(['batch'], 'Job', JOB_COLUMNS, printJob);
register(['batch'], 'CronJob', CRONJOB_COLUMNS, printCronJob);
register(['autoscaling'], 'HorizontalPodAutoscaler', HPA_COLUMNS, printHorizontalPodAutoscaler);
register(['policy'], 'PodDisruptionBudget', PDB_COLUMNS, printPodDisruptionBudget);
register(['networking.k8s.io', 'extensions'], 'Ingress', INGRESS_COLUMNS, printIngress);
register(['networking.k8s.io'], 'IngressClass', INGRESSCLASS_COLUMNS, printIngressClass);
register(['networking.k8s.io', 'extensions'], 'NetworkPolicy', NETWORKPOLICY_COLUMNS, printNetworkPolicy);
register(['discovery.k8s.io'], 'EndpointSlice', ENDPOINTSLICE_COLUMNS, printEndpointSlice);
register(['rbac.authorization.k8s.io'], 'RoleBinding', roleBindingColumns('roleBinding'), printRoleBinding);
register(['rbac.authorization.k8s.io'], 'ClusterRoleBinding', roleBindingColumns('clusterRoleBinding'), printRoleBinding);
register(['certificates.k8s.io'], 'CertificateSigningRequest', CSR_COLUMNS, printCertificateSigningRequest);
register(['coordination.k8s.io'], 'Lease', LEASE_COLUMNS, printLease);
register(['scheduling.k8s.io'], 'PriorityClass', PRIORITYCLASS_COLUMNS, printPriorityClass);
register(['node.k8s.io'], 'RuntimeClass', RUNTIMECLASS_COLUMNS, printRuntimeClass);
register(['storage.k8s.io'], 'StorageClass', STORAGECLASS_COLUMNS, printStorageClass);
register(['storage.k8s.io'], 'VolumeAttachment', VOLUMEATTACHMENT_COLUMNS, printVolumeAttachment);
register(['storage.k8s.io'], 'CSINode', CSINODE_COLUMNS, printCSINode);
register(['storage.k8s.io'], 'CSIDriver', CSIDRIVER_COLUMNS, printCSIDriver);
register(['storage.k8s.io'], 'CSIStorageCapacity', CSISTORAGECAPACITY_COLUMNS, printCSIStorageCapacity);
register(['admissionregistration.k8s.io'], 'MutatingWebhookConfiguration', webhookColumns(), printWebhookConfiguration);
register(['admissionregistration.k8s.io'], 'ValidatingWebhookConfiguration', webhookColumns(), printWebhookConfiguration);
register(['admissionregistration.k8s.io'], 'ValidatingAdmissionPolicy', VAP_COLUMNS, printValidatingAdmissionPolicy);
register(['admissionregistration.k8s.io'], 'ValidatingAdmissionPolicyBinding', VAPB_COLUMNS, printValidatingAdmissionPolicyBinding);
register(['flowcontrol.apiserver.k8s.io'], 'FlowSchema', FLOWSCHEMA_COLUMNS, printFlowSchema, sortFlowSchemas);
register(['flowcontrol.apiserver.k8s.io'], 'PriorityLevelConfiguration', PRIORITYLEVEL_COLUMNS, printPriorityLevelConfiguration);

/** The printer of a built-in kind, or undefined for kinds printed with the default table. */
export function printerFor(group: string, kind: string): KindPrinter | undefined {
  return PRINTERS.get(`${group}/${kind}`);
}

/** Group/kinds with their own printer ("/Pod", "apps/Deployment", …). */
export function printedKinds(): string[] {
  return [...PRINTERS.keys()];
}
