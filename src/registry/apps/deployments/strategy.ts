/**
 * Deployment rules (pkg/registry/apps/deployment/strategy.go): generation follows changes to the
 * spec and also to annotations (kept for the rollback annotation of old clients).
 */
import { GenericStrategy } from '../../strategy.js';
import { deepEqual } from '../../../util/objects.js';

export class DeploymentStrategy extends GenericStrategy {
  /**
   * Deployment status writes keep the stored spec and labels only (deploymentStatusStrategy):
   * the controller records deployment.kubernetes.io/revision through the status subresource.
   */
  override prepareForStatusUpdate(obj: any, old: any): void {
    const annotations = obj.metadata?.annotations;
    super.prepareForStatusUpdate(obj, old);
    if (annotations === undefined) delete obj.metadata.annotations; else obj.metadata.annotations = annotations;
  }

  protected override specChanged(obj: any, old: any): boolean {
    return super.specChanged(obj, old) || !deepEqual(obj.metadata?.annotations, old.metadata?.annotations);
  }
}
