/**
 * Admission: a chain of pluggable stages run by the generic store, first all mutating stages,
 * then (after the strategy's validation) all validating stages, as in Kubernetes. A stage
 * rejects by throwing a StatusError. NamespaceLifecycle is the first built-in stage.
 */
import type { ResourceInfo } from '../../api/resources.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  phase: 'mutate' | 'validate';
  info: ResourceInfo;
  namespace?: string;
  name: string;
  subresource?: string;
  /** The incoming object (mutable in the mutate phase); undefined for DELETE. */
  obj: any;
  old?: any;
  user: UserInfo;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  name: string;
  admit(attrs: AdmissionAttributes): Promise<void> | void;
}

export interface Admission {
  admit(attrs: AdmissionAttributes): Promise<void>;
}

export class AdmissionChain implements Admission {
  constructor(private plugins: AdmissionPlugin[] = []) {}
  add(p: AdmissionPlugin): void { this.plugins.push(p); }
  async admit(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) await p.admit(attrs);
  }
}
