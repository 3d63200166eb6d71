/**
 * NamespaceLifecycle (plugin/pkg/admission/namespace/lifecycle): no new objects in a namespace
 * that does not exist or is terminating; the immortal namespaces cannot be deleted.
 */
import { forbidden, notFound } from '../../apimachinery/errors.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';

const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

export class NamespaceLifecycle implements AdmissionPlugin {
  name = 'NamespaceLifecycle';
  /** Looks a namespace up (from the cache): undefined if missing. */
  constructor(private lookup: (name: string) => Promise<any | undefined>) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.phase !== 'validate') return;
    if (a.operation === 'DELETE' && !a.info.group && a.info.plural === 'namespaces' && IMMORTAL.has(a.name)) {
      throw forbidden(`namespaces "${a.name}" is forbidden: this namespace may not be deleted`);
    }
    if (a.operation !== 'CREATE' || !a.info.namespaced || !a.namespace) return;
    // Events and reviews may still be written into a terminating namespace (as upstream allows).
    const ns = await this.lookup(a.namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, a.namespace);
    if (ns.status?.phase === 'Terminating' && !(a.info.kind === 'Event')) {
      throw forbidden(`${a.info.plural}${a.info.group ? '.' + a.info.group : ''} "${a.name}" is forbidden: unable to create new content in namespace ${a.namespace} because it is being terminated`);
    }
  }
}
