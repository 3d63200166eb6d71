/**
 * Job rules (pkg/registry/batch/job/strategy.go): the API server generates the selector and the
 * pod template labels from the job's uid unless spec.manualSelector is true.
 */
import { GenericStrategy } from '../../strategy.js';
import { prepareJobSelector } from '../../../api/defaults.js';

export class JobStrategy extends GenericStrategy {
  override prepareForCreate(obj: any): void {
    super.prepareForCreate(obj);
    prepareJobSelector(obj);
  }
}
