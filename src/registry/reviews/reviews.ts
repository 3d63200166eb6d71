/**
 * Review resources (authorization.k8s.io SubjectAccessReviews and SelfSubjectRulesReview,
 * authentication.k8s.io SelfSubjectReview and TokenReview): create-only, never stored; the
 * answer comes from the API server's own authentication and authorization chains, so it is
 * truthful for whatever authorizers are configured (pkg/registry/authorization).
 */
import { badRequest, fieldError, invalid } from '../../apimachinery/errors.js';
import type { UserInfo } from '../../apiserver/admission/admission.js';
import type { Authenticator } from '../../apiserver/auth/authn.js';
import type { Authorizer, AuthorizationAttributes } from '../../apiserver/auth/authz.js';

export interface RulesResolver {
  /** The rules a user has in a namespace (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): { resourceRules: any[]; nonResourceRules: any[]; incomplete: boolean; evaluationError?: string };
}

export interface ReviewDeps { authz: Authorizer; authn: Authenticator; rules: RulesResolver }

function attributesOf(user: UserInfo, spec: any, kind: string): AuthorizationAttributes {
  const ra = spec?.resourceAttributes;
  const nra = spec?.nonResourceAttributes;
  if (!ra && !nra) throw invalid(kind, 'authorization.k8s.io', '', [fieldError.required('spec.resourceAttributes', 'exactly one of nonResourceAttributes or resourceAttributes must be specified')]);
  if (ra && nra) throw invalid(kind, 'authorization.k8s.io', '', [fieldError.invalid('spec.nonResourceAttributes', nra, 'cannot be specified in combination with resourceAttributes')]);
  if (ra) {
    return {
      user, verb: ra.verb ?? '', resourceRequest: true, namespace: ra.namespace || undefined, apiGroup: ra.group ?? '',
      apiVersion: ra.version || undefined, resource: ra.resource ?? '', subresource: ra.subresource || undefined, name: ra.name || undefined,
    };
  }
  return { user, verb: nra.verb ?? '', resourceRequest: false, path: nra.path ?? '' };
}

async function decide(deps: ReviewDeps, a: AuthorizationAttributes): Promise<any> {
  const d = await deps.authz.authorize(a);
  const status: any = { allowed: d.decision === 'allow' };
  if (d.decision === 'deny') status.denied = true;
  if (d.reason) status.reason = d.reason;
  return status;
}

const base = (body: any, apiVersion: string, kind: string) => ({ kind, apiVersion, metadata: { ...(body?.metadata ?? {}), creationTimestamp: null } });

/** Answers one review. `plural` selects the kind; returns the object to send back (201). */
export async function review(deps: ReviewDeps, group: string, version: string, plural: string, body: any, user: UserInfo, namespace?: string): Promise<any> {
  if (typeof body !== 'object' || body === null) throw badRequest('the body of the request was not a JSON object');
  const apiVersion = `${group}/${version}`;
  switch (plural) {
    case 'selfsubjectaccessreviews': {
      const out: any = { ...base(body, apiVersion, 'SelfSubjectAccessReview'), spec: body.spec ?? {} };
      out.status = await decide(deps, attributesOf(user, body.spec, 'SelfSubjectAccessReview'));
      return out;
    }
    case 'subjectaccessreviews':
    case 'localsubjectaccessreviews': {
      const kind = plural === 'subjectaccessreviews' ? 'SubjectAccessReview' : 'LocalSubjectAccessReview';
      const spec = body.spec ?? {};
      if (!spec.user && !(spec.groups?.length)) throw invalid(kind, 'authorization.k8s.io', '', [fieldError.required('spec.user', 'at least one of user or group must be specified')]);
      const subject: UserInfo = { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra };
      const attrs = attributesOf(subject, spec, kind);
      if (kind === 'LocalSubjectAccessReview') {
        const ns = spec.resourceAttributes?.namespace;
        if (ns && ns !== namespace) throw invalid(kind, 'authorization.k8s.io', '', [fieldError.invalid('spec.resourceAttributes.namespace', ns, `must match metadata.namespace`)]);
        if (attrs.resourceRequest) attrs.namespace = namespace;
      }
      const out: any = { ...base(body, apiVersion, kind), spec };
      if (namespace) out.metadata.namespace = namespace;
      out.status = await decide(deps, attrs);
      return out;
    }
    case 'selfsubjectrulesreviews': {
      const ns = body.spec?.namespace ?? '';
      const out: any = { ...base(body, apiVersion, 'SelfSubjectRulesReview'), spec: { namespace: ns } };
      out.status = deps.rules.rulesFor(user, ns);
      return out;
    }
    case 'selfsubjectreviews': {
      const userInfo: any = { username: user.username, groups: user.groups };
      if (user.uid) userInfo.uid = user.uid;
      if (user.extra) userInfo.extra = user.extra;
      return { ...base(body, apiVersion, 'SelfSubjectReview'), status: { userInfo } };
    }
    case 'tokenreviews': {
      const token = body.spec?.token;
      if (!token) throw invalid('TokenReview', 'authentication.k8s.io', '', [fieldError.required('spec.token')]);
      const u = await deps.authn.authenticate({ headers: { authorization: `Bearer ${token}` }, socket: undefined });
      const status: any = u ? { authenticated: true, user: { username: u.username, uid: u.uid, groups: u.groups, extra: u.extra }, audiences: body.spec?.audiences ?? [] } : { user: {} };
      return { ...base(body, apiVersion, 'TokenReview'), spec: body.spec, status };
    }
  }
  throw badRequest(`unknown review resource ${plural}`);
}
