/**
 * Which fields each built-in kind can be filtered on with `?fieldSelector=`, and their values.
 *
 * Two things decide this upstream (Kubernetes 1.32), and they do not always agree:
 *  1. the field label conversion function registered for the served group/version/kind decides
 *     which labels a request may use (pkg/apis/<group>/<version>/conversion.go). Kinds without one
 *     accept only metadata.name and metadata.namespace;
 *  2. the registry strategy's ToSelectableFields/GetAttrs computes the values an object has
 *     (pkg/registry/...). A label accepted by (1) but missing from (2) compares as "".
 * So e.g. apps/v1 ReplicaSets compute status.replicas but reject it in requests, and pods
 * accept status.podIPs but never set it. Both quirks are kept here on purpose.
 *
 * Typical use by the API layer:
 *   const sel = convertFieldSelector(info, parseFieldSelector(q));   // 400 when unsupported
 *   items.filter((o) => sel.matches(selectableFields(info, o)));
 */

import { badRequest } from '../apimachinery/errors.js';
import type { FieldSelector } from '../apimachinery/fields.js';
import { goQuote } from '../apimachinery/labels.js';

export interface FieldKindInfo { group: string; kind: string; namespaced: boolean }

interface Conversion {
  /** Label a client may send → label the field set uses. */
  accepted: Record<string, string>;
  reject: (label: string) => string;
}

const notSupported = (label: string) => `field label not supported: ${label}`;
const same = (...labels: string[]): Record<string, string> => Object.fromEntries(labels.map((l) => [l, l]));

/** Keyed by `group/Kind` ("" group for core). Only kinds with a registered conversion func. */
const CONVERSIONS: Record<string, Conversion> = {
  '/Pod': {
    accepted: {
      ...same('metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName',
        'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs',
        'status.nominatedNodeName'),
      // Old v1 clients send spec.host.
      'spec.host': 'spec.nodeName',
    },
    reject: notSupported,
  },
  '/Node': { accepted: same('metadata.name', 'spec.unschedulable'), reject: notSupported },
  '/ReplicationController': { accepted: same('metadata.name', 'metadata.namespace', 'status.replicas'), reject: notSupported },
  '/Event': {
    accepted: same('involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason',
      'reportingComponent', 'source', 'type', 'metadata.namespace', 'metadata.name'),
    reject: notSupported,
  },
  '/Namespace': { accepted: same('status.phase', 'metadata.name'), reject: notSupported },
  '/Secret': { accepted: same('type', 'metadata.namespace', 'metadata.name'), reject: notSupported },
  '/Service': { accepted: same('metadata.namespace', 'metadata.name', 'spec.clusterIP', 'spec.type'), reject: notSupported },
  'batch/Job': {
    accepted: same('metadata.name', 'metadata.namespace', 'status.successful'),
    reject: (label) => `field label ${goQuote(label)} not supported for Job`,
  },
  'certificates.k8s.io/CertificateSigningRequest': { accepted: same('metadata.name', 'spec.signerName'), reject: notSupported },
  // events.k8s.io Events are stored as core Events; their labels map onto the core field set.
  'events.k8s.io/Event': {
    accepted: {
      reason: 'reason',
      'regarding.kind': 'involvedObject.kind',
      'regarding.namespace': 'involvedObject.namespace',
      'regarding.name': 'involvedObject.name',
      'regarding.uid': 'involvedObject.uid',
      'regarding.apiVersion': 'involvedObject.apiVersion',
      'regarding.resourceVersion': 'involvedObject.resourceVersion',
      'regarding.fieldPath': 'involvedObject.fieldPath',
      reportingController: 'reportingComponent',
      source: 'source',
      type: 'type',
      'metadata.namespace': 'metadata.namespace',
      'metadata.name': 'metadata.name',
    },
    reject: notSupported,
  },
};

/** runtime.DefaultMetaV1FieldSelectorConversion: every kind without its own conversion. */
const DEFAULT_CONVERSION: Conversion = {
  accepted: same('metadata.name', 'metadata.namespace'),
  reject: (label) => `${goQuote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
};

const conversionFor = (info: { group: string; kind: string }) => CONVERSIONS[`${info.group}/${info.kind}`] ?? DEFAULT_CONVERSION;
const owns = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Whether a request for this kind may use `field` in a field selector. */
export function isSupportedField(info: { group: string; kind: string; namespaced?: boolean }, field: string): boolean {
  return owns(conversionFor(info).accepted, field);
}

/** The message upstream answers (as 400 BadRequest) for an unsupported field, e.g. `field label not supported: spec.foo`. */
export function unsupportedFieldMessage(info: { group: string; kind: string }, field: string): string {
  return conversionFor(info).reject(field);
}

/**
 * ConvertFieldLabel: the label name the field set uses for what the client sent (`spec.host` →
 * `spec.nodeName`, events.k8s.io `regarding.name` → `involvedObject.name`). Throws 400 BadRequest
 * with upstream's message when the kind does not support it.
 */
export function convertFieldLabel(info: { group: string; kind: string }, field: string): string {
  const conv = conversionFor(info);
  if (!owns(conv.accepted, field)) throw badRequest(conv.reject(field));
  return conv.accepted[field];
}

/**
 * Checks every term of a parsed selector against the kind (first unsupported one, in the
 * selector's order, answers 400 as upstream does) and returns it with labels converted, ready to
 * match against selectableFields().
 */
export function convertFieldSelector(info: { group: string; kind: string }, sel: FieldSelector): FieldSelector {
  if (sel.empty) return sel;
  return sel.transform((field, value) => ({ field: convertFieldLabel(info, field), value }));
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const int = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(Math.trunc(v)) : '0');

/**
 * The field set of an object (ToSelectableFields), keyed by the labels convertFieldLabel()
 * returns. `obj` is the object as served (v1 JSON). Events may be given in either core/v1 or
 * events.k8s.io/v1 form; for events.k8s.io the set also carries the events.k8s.io names, so an
 * unconverted selector still matches.
 */
export function selectableFields(info: FieldKindInfo, obj: any): Record<string, string> {
  const meta = obj?.metadata ?? {};
  const out: Record<string, string> = { 'metadata.name': str(meta.name) };
  if (info.namespaced) out['metadata.namespace'] = str(meta.namespace);
  const spec = obj?.spec ?? {};
  const status = obj?.status ?? {};

  switch (`${info.group}/${info.kind}`) {
    case '/Pod':
      out['spec.nodeName'] = str(spec.nodeName);
      out['spec.restartPolicy'] = str(spec.restartPolicy);
      out['spec.schedulerName'] = str(spec.schedulerName);
      out['spec.serviceAccountName'] = str(spec.serviceAccountName);
      out['spec.hostNetwork'] = spec.hostNetwork === true ? 'true' : 'false';
      out['status.phase'] = str(status.phase);
      // Upstream takes the first of status.podIPs (v1's status.podIP mirrors it).
      out['status.podIP'] = str(Array.isArray(status.podIPs) && status.podIPs.length ? status.podIPs[0]?.ip : status.podIP);
      out['status.nominatedNodeName'] = str(status.nominatedNodeName);
      break;
    case '/Node':
      out['spec.unschedulable'] = spec.unschedulable === true ? 'true' : 'false';
      break;
    case '/Namespace':
      out['status.phase'] = str(status.phase);
      out.name = str(meta.name); // legacy label upstream still computes (not accepted in requests)
      break;
    case '/PersistentVolume':
    case '/PersistentVolumeClaim':
      out.name = str(meta.name); // legacy, as above
      break;
    case '/Secret':
      out.type = str(obj?.type);
      break;
    case '/Service':
      out['spec.clusterIP'] = str(spec.clusterIP);
      out['spec.type'] = str(spec.type);
      break;
    case '/ReplicationController':
    case 'apps/ReplicaSet':
      out['status.replicas'] = int(status.replicas);
      break;
    case 'batch/Job':
      out['status.successful'] = int(status.succeeded);
      break;
    case 'certificates.k8s.io/CertificateSigningRequest':
      out['spec.signerName'] = str(spec.signerName);
      break;
    case '/Event':
    case 'events.k8s.io/Event':
      Object.assign(out, eventFields(obj, info.group === 'events.k8s.io'));
      break;
  }
  return out;
}

function eventFields(obj: any, withEventsNames: boolean): Record<string, string> {
  // events.k8s.io/v1 form has `regarding`, `reportingController`, `deprecatedSource`.
  const eventsForm = typeof obj === 'object' && obj !== null && ('regarding' in obj || 'reportingController' in obj || 'deprecatedSource' in obj || 'note' in obj);
  const ref = (eventsForm ? obj.regarding : obj?.involvedObject) ?? {};
  const reporting = str(eventsForm ? obj.reportingController : obj?.reportingComponent);
  const source = str((eventsForm ? obj.deprecatedSource : obj?.source)?.component) || reporting;
  const f: Record<string, string> = {
    'involvedObject.kind': str(ref.kind),
    'involvedObject.namespace': str(ref.namespace),
    'involvedObject.name': str(ref.name),
    'involvedObject.uid': str(ref.uid),
    'involvedObject.apiVersion': str(ref.apiVersion),
    'involvedObject.resourceVersion': str(ref.resourceVersion),
    'involvedObject.fieldPath': str(ref.fieldPath),
    reason: str(obj?.reason),
    reportingComponent: reporting,
    source,
    type: str(obj?.type),
  };
  if (withEventsNames) {
    for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
      f[`regarding.${k}`] = f[`involvedObject.${k}`];
    }
    f.reportingController = reporting;
  }
  return f;
}
