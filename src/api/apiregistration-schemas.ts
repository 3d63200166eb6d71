/**
 * OpenAPI schemas of apiregistration.k8s.io/v1 (kubernetes-types does not ship the aggregator's
 * types), written from the APIService API reference so that create/apply with strict validation
 * and `kubectl explain apiservice` work.
 */
import type { SchemaMap } from './schema-types.js';
import { REF_PREFIX } from './schema-types.js';

const P = 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1';
const ref = (n: string) => ({ allOf: [{ $ref: `${REF_PREFIX}${n}` }] });
const str = (description: string) => ({ type: 'string' as const, description });
const int = (description: string) => ({ type: 'integer' as const, format: 'int32', description });
const GVK = [{ group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService' }];

export function apiregistrationSchemas(): SchemaMap {
  return {
    [`${P}.APIService`]: {
      type: 'object', description: 'APIService represents a server for a particular GroupVersion. Name must be "version.group".',
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        metadata: { ...ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), description: "Standard object's metadata." },
        spec: { ...ref(`${P}.APIServiceSpec`), description: 'Spec contains information for locating and communicating with a server' },
        status: { ...ref(`${P}.APIServiceStatus`), description: 'Status contains derived information about an API server' },
      },
      'x-kubernetes-group-version-kind': GVK,
    },
    [`${P}.APIServiceList`]: {
      type: 'object', description: 'APIServiceList is a list of APIService objects.', required: ['items'],
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        items: { type: 'array', description: 'Items is the list of APIService', items: { $ref: `${REF_PREFIX}${P}.APIService` } },
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        metadata: { ...ref('io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta'), description: "Standard list metadata." },
      },
      'x-kubernetes-group-version-kind': [{ group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIServiceList' }],
    },
    [`${P}.APIServiceSpec`]: {
      type: 'object', required: ['groupPriorityMinimum', 'versionPriority'],
      description: 'APIServiceSpec contains information for locating and communicating with a server.',
      properties: {
        caBundle: { type: 'string', format: 'byte', description: "CABundle is a PEM encoded CA bundle which will be used to validate an API server's serving certificate." },
        group: str('Group is the API group name this server hosts'),
        groupPriorityMinimum: int('GroupPriorityMinimum is the priority this group should have at least.'),
        insecureSkipTLSVerify: { type: 'boolean', description: 'InsecureSkipTLSVerify disables TLS certificate verification when communicating with this server.' },
        service: { ...ref(`${P}.ServiceReference`), description: 'Service is a reference to the service for this API server. If the Service is nil, the API server is local (handled by this server).' },
        version: str('Version is the API version this server hosts.'),
        versionPriority: int('VersionPriority controls the ordering of this API version inside of its group.'),
      },
    },
    [`${P}.ServiceReference`]: {
      type: 'object', description: 'ServiceReference holds a reference to Service.legacy.k8s.io',
      properties: { name: str('Name is the name of the service'), namespace: str('Namespace is the namespace of the service'), port: int('If specified, the port on the service that hosting webhook. Default to 443.') },
    },
    [`${P}.APIServiceStatus`]: {
      type: 'object', description: 'APIServiceStatus contains derived information about an API server',
      properties: {
        conditions: {
          type: 'array', description: 'Current service state of apiService.', items: { $ref: `${REF_PREFIX}${P}.APIServiceCondition` },
          'x-kubernetes-list-map-keys': ['type'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge',
        },
      },
    },
    [`${P}.APIServiceCondition`]: {
      type: 'object', required: ['type', 'status'], description: 'APIServiceCondition describes the state of an APIService at a particular point',
      properties: {
        lastTransitionTime: { type: 'string', format: 'date-time', description: 'Last time the condition transitioned from one status to another.' },
        message: str('Human-readable message indicating details about last transition.'),
        reason: str("Unique, one-word, CamelCase reason for the condition's last transition."),
        status: str('Status is the status of the condition. Can be True, False, Unknown.'),
        type: str('Type is the type of the condition.'),
      },
    },
  };
}
