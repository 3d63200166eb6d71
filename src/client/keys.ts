/**
 * Object keys, as client-go's MetaNamespaceKeyFunc: "namespace/name" for namespaced objects,
 * "name" for cluster-scoped ones. Informer stores and workqueues are keyed by them.
 */

/** The parts of ObjectMeta the client machinery reads. */
export interface ObjectMetaLike {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
}

/** Anything with Kubernetes object metadata (every kubernetes-types kind fits). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaLike;
}

/** "ns/name", or "name" when the object has no namespace. */
export function keyOf(obj: KubeObject): string {
  const name = obj?.metadata?.name;
  if (!name) throw new Error('object has no metadata.name');
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** The key of a namespace (may be undefined or '') and name. */
export function keyFor(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The inverse of keyOf; namespace is undefined for cluster-scoped keys. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const parts = key.split('/');
  if (parts.length === 1 && parts[0]) return { namespace: undefined, name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  throw new Error(`unexpected key format: ${JSON.stringify(key)}`);
}
