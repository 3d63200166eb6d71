/**
 * DefaultTolerationSeconds (plugin/pkg/admission/defaulttolerationseconds): a new pod that does
 * not tolerate the not-ready and unreachable NoExecute taints gets tolerations for them with
 * 300 seconds, so taint-based eviction waits five minutes before moving it off a dead node.
 */
import { defaultTolerationSeconds } from '../../api/defaults.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';

export class DefaultTolerationSeconds implements AdmissionPlugin {
  name = 'DefaultTolerationSeconds';
  admit(a: AdmissionAttributes): void {
    if (a.phase !== 'mutate' || a.operation !== 'CREATE' || a.info.group !== '' || a.info.kind !== 'Pod' || a.subresource) return;
    defaultTolerationSeconds(a.obj);
  }
}
