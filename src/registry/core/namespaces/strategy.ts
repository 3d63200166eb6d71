/**
 * Namespace rules (pkg/registry/core/namespace): phase Active on create; spec.finalizers change
 * only through the finalize subresource; deletion moves the namespace to Terminating until the
 * namespace controller empties it and clears the finalizers.
 */
import { GenericStrategy } from '../../strategy.js';
import type { ResourceInfo } from '../../../api/resources.js';

export class NamespaceStrategy extends GenericStrategy {
  constructor(info: ResourceInfo) { super(info); }

  override prepareForCreate(obj: any): void {
    obj.status = { phase: 'Active' };
    obj.spec ??= {};
    obj.spec.finalizers ??= ['kubernetes'];
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  }

  override prepareForUpdate(obj: any, old: any): void {
    obj.status = old.status;
    obj.spec = { ...(obj.spec ?? {}), finalizers: old.spec?.finalizers };
    if (obj.spec.finalizers === undefined) delete obj.spec.finalizers;
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  }

  /** The finalize subresource: only spec.finalizers may change. */
  prepareForFinalize(obj: any, old: any): void {
    const finalizers = obj.spec?.finalizers;
    for (const k of Object.keys(obj)) if (k !== 'kind' && k !== 'apiVersion') delete obj[k];
    Object.assign(obj, structuredClone(old));
    obj.spec = { ...(old.spec ?? {}) };
    if (finalizers?.length) obj.spec.finalizers = finalizers; else delete obj.spec.finalizers;
  }
}
