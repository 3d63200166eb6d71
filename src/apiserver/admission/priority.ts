/**
 * Priority (plugin/pkg/admission/priority): a new pod's `priorityClassName` is resolved to
 * `spec.priority` and `spec.preemptionPolicy` (a pod without a class gets the global default
 * class, or priority 0); a class that does not exist is refused with 403. A PriorityClass may
 * only be marked `globalDefault` when no other class is.
 */
import { admitPodPriority } from '../../api/defaults.js';
import { forbidden } from '../../apimachinery/errors.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';

export class Priority implements AdmissionPlugin {
  name = 'Priority';
  /** `classes` lists the stored PriorityClasses (from the watch cache). */
  constructor(private classes: () => any[]) {}

  admit(a: AdmissionAttributes): void {
    if (a.subresource) return;
    if (a.phase === 'mutate' && a.operation === 'CREATE' && a.info.group === '' && a.info.kind === 'Pod') {
      const all = this.classes();
      const byName = (name: string) => {
        const pc = all.find((c) => c?.metadata?.name === name);
        return pc ? { value: Number(pc.value ?? 0), preemptionPolicy: pc.preemptionPolicy } : undefined;
      };
      // Several defaults can only exist from before this check: the lowest wins, as upstream.
      const defaults = all.filter((c) => c?.globalDefault === true).sort((x, y) => Number(x.value ?? 0) - Number(y.value ?? 0));
      const def = defaults[0] ? { name: defaults[0].metadata.name, value: Number(defaults[0].value ?? 0), preemptionPolicy: defaults[0].preemptionPolicy } : undefined;
      if (!admitPodPriority(a.obj, byName, def)) {
        throw forbidden(`pods "${a.name}" is forbidden: no PriorityClass with name ${a.obj.spec.priorityClassName} was found`);
      }
      return;
    }
    if (a.phase === 'validate' && (a.operation === 'CREATE' || a.operation === 'UPDATE') && a.info.group === 'scheduling.k8s.io' && a.info.kind === 'PriorityClass') {
      if (a.obj?.globalDefault !== true) return;
      const other = this.classes().find((c) => c?.globalDefault === true && c.metadata?.name !== a.obj.metadata?.name);
      if (other) throw forbidden(`priorityclasses.scheduling.k8s.io "${a.name}" is forbidden: PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`);
    }
  }
}
