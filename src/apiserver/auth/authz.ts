/**
 * Authorization: a chain of authorizers, each answering allow, deny or no opinion for a request's
 * attributes (as Kubernetes' union authorizer). Now: AlwaysAllowAuthenticated; RBAC and the Node
 * authorizer plug into the same chain later.
 */
import type { UserInfo } from '../admission/admission.js';

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  path?: string;
}

export type Decision = { decision: 'allow' | 'deny' | 'noOpinion'; reason?: string };

export interface Authorizer {
  authorize(a: AuthorizationAttributes): Decision | Promise<Decision>;
}

export class AllowAuthenticated implements Authorizer {
  authorize(a: AuthorizationAttributes): Decision {
    return a.user.groups.includes('system:authenticated') ? { decision: 'allow' } : { decision: 'noOpinion' };
  }
}

export class AuthorizerChain implements Authorizer {
  constructor(private chain: Authorizer[]) {}
  async authorize(a: AuthorizationAttributes): Promise<Decision> {
    for (const z of this.chain) {
      const d = await z.authorize(a);
      if (d.decision !== 'noOpinion') return d;
    }
    return { decision: 'noOpinion', reason: 'no authorizer allowed the request' };
  }
}

/** The message Kubernetes gives for a denied resource request. */
export function forbiddenMessage(a: AuthorizationAttributes): string {
  const res = `${a.resource}${a.apiGroup ? '.' + a.apiGroup : ''}${a.subresource ? '/' + a.subresource : ''}`;
  const who = `User "${a.user.username}"`;
  if (!a.resourceRequest) return `forbidden: ${who} cannot ${a.verb} path "${a.path}"`;
  const name = a.name ? `${a.resource}${a.apiGroup ? '.' + a.apiGroup : ''} "${a.name}" is forbidden: ` : '';
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `${name}${who} cannot ${a.verb} resource "${res}" in API group "${a.apiGroup ?? ''}"${scope}`;
}

/** Rules for SelfSubjectRulesReview under AllowAuthenticated: everything. RBAC will list real rules. */
export function allowAllRules(user: UserInfo): { resourceRules: any[]; nonResourceRules: any[]; incomplete: boolean } {
  if (!user.groups.includes('system:authenticated')) return { resourceRules: [], nonResourceRules: [], incomplete: false };
  return {
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  };
}
