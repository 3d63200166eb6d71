/**
 * Which Ingresses keelson's controller serves, and the IngressClass it brings along.
 *
 * As upstream's IngressClass rules (networking.k8s.io/v1):
 * - an Ingress with `spec.ingressClassName` is served when that IngressClass exists and names
 *   our controller (`spec.controller: keelson.io/ingress-controller`);
 * - otherwise the deprecated annotation `kubernetes.io/ingress.class` names the class the same
 *   way (controllers have always read it as a class name);
 * - an Ingress with neither belongs to the default IngressClass: the one annotated
 *   `ingressclass.kubernetes.io/is-default-class: "true"` (with several, the newest, as the
 *   DefaultIngressClass admission plugin picks since Kubernetes 1.30). keelson's API server has
 *   no such admission plugin (nothing fills in `ingressClassName` at create), so the controller
 *   serves classless Ingresses itself while our class is the default.
 *
 * `keelson up`/`keelson agent` ensure an IngressClass `keelson` exists (ensureIngressClass):
 * created when missing, never overwritten, so a user may edit or un-default it.
 */
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { isAlreadyExists, isNotFound, type ResourceDescriptor, type RestClient } from '../client/index.js';

export const CONTROLLER_NAME = 'keelson.io/ingress-controller';
export const DEFAULT_CLASS_NAME = 'keelson';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export const INGRESSES: ResourceDescriptor = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true };
export const INGRESSCLASSES: ResourceDescriptor = { group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses', namespaced: false };

/** The class an Ingress asks for: ingressClassName, else the legacy annotation, else undefined. */
export function requestedClass(ing: Ingress): string | undefined {
  return ing.spec?.ingressClassName || ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION] || undefined;
}

/** The default IngressClass among `classes` (the newest one annotated as default), if any. */
export function defaultClass(classes: Iterable<IngressClass>): IngressClass | undefined {
  let best: IngressClass | undefined;
  for (const c of classes) {
    if (c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] !== 'true') continue;
    if (!best || compareCreation(c, best) > 0) best = c;
  }
  return best;
}

/** Decides, for a set of IngressClasses, whether an Ingress is ours. */
export class ClassSelector {
  private ours = new Set<string>();
  private defaultIsOurs = false;

  constructor(classes: Iterable<IngressClass>, readonly controller = CONTROLLER_NAME) {
    const all = [...classes];
    for (const c of all) if (c.spec?.controller === controller && c.metadata?.name) this.ours.add(c.metadata.name);
    const d = defaultClass(all);
    this.defaultIsOurs = !!d && d.spec?.controller === controller;
  }

  /** Names of the IngressClasses that name our controller. */
  get classNames(): string[] { return [...this.ours].sort(); }

  serves(ing: Ingress): boolean {
    const cls = requestedClass(ing);
    return cls === undefined ? this.defaultIsOurs : this.ours.has(cls);
  }
}

/** Orders objects oldest first: creationTimestamp, then namespace/name (the tie-break upstream controllers use). */
export function compareCreation(a: { metadata?: { creationTimestamp?: string; namespace?: string; name?: string } }, b: typeof a): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const ka = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
  const kb = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Creates the IngressClass `keelson` (our controller, the default class) unless an IngressClass
 * of that name exists; an existing one is left exactly as it is. Returns whether it was created.
 */
export async function ensureIngressClass(client: RestClient, name = DEFAULT_CLASS_NAME): Promise<boolean> {
  const existing = await client.get(INGRESSCLASSES, undefined, name).catch((err) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (existing) return false;
  const cls: IngressClass = {
    apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
    metadata: { name, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' }, labels: { 'app.kubernetes.io/managed-by': 'keelson' } },
    spec: { controller: CONTROLLER_NAME },
  };
  try {
    await client.create(INGRESSCLASSES, undefined, cls);
    return true;
  } catch (err) {
    if (isAlreadyExists(err)) return false;
    throw err;
  }
}
