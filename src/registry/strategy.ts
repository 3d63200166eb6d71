/**
 * Strategy: the per-kind rules the generic store applies (Kubernetes' RESTCreateStrategy,
 * RESTUpdateStrategy, RESTDeleteStrategy). The generic store fixes the order once:
 * decode → default → prepareFor{Create,Update} → admission (mutate) → validate → admission
 * (validate) → storage. Strategies never throw for invalid input: they return FieldErrors.
 */
import type { FieldError } from '../apimachinery/errors.js';
import type { ResourceInfo } from '../api/resources.js';
import { applyDefaults } from '../api/defaults.js';
import { validateObject, validateObjectUpdate } from '../api/validation.js';
import { deepEqual } from '../util/objects.js';

export interface Strategy {
  info: ResourceInfo;
  /** Create and update through PUT may create a missing object (Kubernetes: AllowCreateOnUpdate). */
  allowCreateOnUpdate: boolean;
  defaults(obj: any): void;
  prepareForCreate(obj: any): void;
  prepareForUpdate(obj: any, old: any): void;
  validate(obj: any): FieldError[];
  validateUpdate(obj: any, old: any): FieldError[];
  /** The status subresource's update rules (keep spec, take status). */
  prepareForStatusUpdate(obj: any, old: any): void;
  validateStatusUpdate(obj: any, old: any): FieldError[];
  /**
   * Graceful deletion: seconds to wait before the object is removed (pods), or 0 to delete now.
   * `requested` is DeleteOptions.gracePeriodSeconds.
   */
  gracePeriod(obj: any, requested: number | undefined): number;
  /** The DELETE response body for an immediate delete: the object (true) or a Status (false). */
  returnDeletedObject: boolean;
}

/** Kinds whose main resource ignores status changes (they have a status subresource). */
export function hasStatusSubresource(info: ResourceInfo): boolean {
  return info.subresources.some((s) => s.name === 'status');
}

/** Kinds whose generation follows spec changes (Kubernetes bumps metadata.generation per strategy). */
const GENERATION_KINDS = new Set([
  'apps/Deployment', 'apps/ReplicaSet', 'apps/StatefulSet', 'apps/DaemonSet', 'batch/Job', 'batch/CronJob',
  '/ReplicationController', 'autoscaling/HorizontalPodAutoscaler', 'policy/PodDisruptionBudget',
  'networking.k8s.io/Ingress', 'apiextensions.k8s.io/CustomResourceDefinition', 'networking.k8s.io/NetworkPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
]);

/** Spec-like part of an object: everything but metadata and status. */
function specOf(obj: any): Record<string, unknown> {
  const { metadata: _m, status: _s, kind: _k, apiVersion: _a, ...rest } = obj ?? {};
  return rest;
}

export class GenericStrategy implements Strategy {
  allowCreateOnUpdate = false;
  returnDeletedObject = false;
  protected statusSplit: boolean;
  protected tracksGeneration: boolean;

  constructor(public info: ResourceInfo) {
    this.statusSplit = hasStatusSubresource(info);
    this.tracksGeneration = GENERATION_KINDS.has(`${info.group}/${info.kind}`);
  }

  defaults(obj: any): void {
    applyDefaults(this.info.group, this.info.version, this.info.kind, obj);
  }

  prepareForCreate(obj: any): void {
    if (this.statusSplit && obj.status !== undefined) {
      // Kubernetes clears status on create for kinds with a status subresource.
      obj.status = this.initialStatus(obj);
      if (obj.status === undefined) delete obj.status;
    }
    if (this.tracksGeneration) obj.metadata.generation = 1;
  }

  /** Status a new object starts with (most kinds: empty). */
  protected initialStatus(_obj: any): any {
    return {};
  }

  prepareForUpdate(obj: any, old: any): void {
    if (this.statusSplit) {
      if (old.status === undefined) delete obj.status; else obj.status = old.status;
    }
    if (this.tracksGeneration) {
      const gen = old.metadata?.generation ?? 1;
      obj.metadata.generation = this.specChanged(obj, old) ? gen + 1 : gen;
    } else if (old.metadata?.generation !== undefined) {
      obj.metadata.generation = old.metadata.generation;
    }
  }

  protected specChanged(obj: any, old: any): boolean {
    return !deepEqual(specOf(obj), specOf(old));
  }

  validate(obj: any): FieldError[] {
    return validateObject(this.info.group, this.info.version, this.info.kind, obj);
  }

  validateUpdate(obj: any, old: any): FieldError[] {
    return validateObjectUpdate(this.info.group, this.info.version, this.info.kind, obj, old);
  }

  prepareForStatusUpdate(obj: any, old: any): void {
    // Status updates keep the spec and the metadata a status writer may not change
    // (metav1.ResetObjectMetaForStatus).
    const status = obj.status;
    const meta = obj.metadata;
    for (const k of Object.keys(obj)) if (k !== 'metadata' && k !== 'kind' && k !== 'apiVersion') delete obj[k];
    for (const [k, v] of Object.entries(old)) if (k !== 'metadata' && k !== 'status' && k !== 'kind' && k !== 'apiVersion') obj[k] = v;
    if (status !== undefined) obj.status = status;
    for (const f of ['deletionTimestamp', 'generation', 'selfLink', 'labels', 'annotations', 'finalizers', 'ownerReferences']) {
      if (old.metadata?.[f] === undefined) delete meta[f]; else meta[f] = old.metadata[f];
    }
  }

  validateStatusUpdate(obj: any, old: any): FieldError[] {
    return validateObjectUpdate(this.info.group, this.info.version, this.info.kind, obj, old).filter((e) => !e.field.startsWith('spec'));
  }

  gracePeriod(_obj: any, _requested: number | undefined): number {
    return 0;
  }
}

/** Strategies that allocate from shared ranges (Services) implement this. */
export interface Allocating {
  allocate(obj: any, old: any | undefined, dryRun: boolean): Promise<() => Promise<void>>;
  release(old: any, obj?: any): Promise<void>;
}
export const isAllocating = (s: unknown): s is Allocating => typeof (s as Allocating).allocate === 'function';

/**
 * Paths the field manager does not track for an endpoint (upstream's "reset fields"): the main
 * resource of a kind with a status subresource ignores status; the status subresource ignores
 * spec and metadata.
 */
export function ignoredPathsFor(info: ResourceInfo, subresource?: string): string[][] {
  if (subresource === 'status') return [['spec'], ['metadata']];
  return hasStatusSubresource(info) ? [['status']] : [];
}
