/**
 * Deployment rules (pkg/registry/apps/deployment/strategy.go): generation follows changes to the
 * spec and also to annotations (kept for the rollback annotation of old clients).
 */
import { GenericStrategy } from '../../strategy.js';
import { deepEqual } from '../../../util/objects.js';

export class DeploymentStrategy extends GenericStrategy {
  protected override specChanged(obj: any, old: any): boolean {
    return super.specChanged(obj, old) || !deepEqual(obj.metadata?.annotations, old.metadata?.annotations);
  }
}
