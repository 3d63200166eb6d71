#!/usr/bin/python3
"""The official Python client (Debian's python3-kubernetes) against keelson.

Usage: client_flows.py KUBECONFIG

Loads the kubeconfig keelson wrote, then lists namespaces, creates a ConfigMap and a Deployment,
patches them (strategic merge, merge and JSON patch), replaces with a stale resourceVersion, and
runs a watch stream that must see ADDED, MODIFIED and DELETED for changes made while it runs.
Prints one JSON object with what it saw; the TypeScript test asserts on it. Exits non-zero only
when something it did not expect failed (the traceback and the server's answer go to stderr).
"""
import json
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = 'default'


def main(kubeconfig):
    out = {}
    cfg = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
    api = client.ApiClient(cfg)
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    # This client sends a dict patch body as a strategic merge patch and a list as a JSON patch;
    # a merge patch needs the Content-Type forced (default headers override the chosen one).
    merge_api = client.ApiClient(cfg)
    merge_api.set_default_header('Content-Type', 'application/merge-patch+json')
    merge_core = client.CoreV1Api(merge_api)
    merge_apps = client.AppsV1Api(merge_api)

    out['version'] = client.VersionApi(api).get_code().git_version
    out['namespaces'] = sorted(n.metadata.name for n in core.list_namespace().items)

    # A watch from the resourceVersion of a list, run in a thread while the changes are made.
    listed = core.list_namespaced_config_map(NS)
    start_rv = listed.metadata.resource_version
    events = []
    watch_error = []
    w = watch.Watch()
    done = threading.Event()

    def run_watch():
        try:
            for ev in w.stream(core.list_namespaced_config_map, namespace=NS, resource_version=start_rv,
                               timeout_seconds=60):
                o = ev['raw_object']
                events.append({'type': ev['type'], 'name': o['metadata']['name'],
                               'data': o.get('data'), 'rv': o['metadata']['resourceVersion']})
                if ev['type'] == 'DELETED' and o['metadata']['name'] == 'py-watched':
                    break
        except Exception as e:  # reported in the output
            watch_error.append(repr(e))
        finally:
            done.set()

    t = threading.Thread(target=run_watch, daemon=True)
    t.start()

    # ConfigMap: create, strategic merge patch, merge patch that removes a key, JSON patch.
    cm = core.create_namespaced_config_map(NS, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name='py-cm', labels={'from': 'python'}), data={'a': '1'}))
    out['cm_created'] = {'name': cm.metadata.name, 'data': cm.data, 'uid': bool(cm.metadata.uid),
                         'rv': cm.metadata.resource_version}
    cm = core.patch_namespaced_config_map('py-cm', NS, {'data': {'b': '2'}})
    out['cm_smp'] = cm.data
    cm = merge_core.patch_namespaced_config_map('py-cm', NS, {'data': {'a': None, 'c': '3'}, 'metadata': {'labels': {'merged': 'yes'}}})
    out['cm_merge'] = {'data': cm.data, 'labels': cm.metadata.labels}
    cm = core.patch_namespaced_config_map('py-cm', NS, [{'op': 'replace', 'path': '/data/b', 'value': 'two'}])
    out['cm_json'] = cm.data
    # A replace with a stale resourceVersion is a 409 Conflict.
    stale = client.V1ConfigMap(metadata=client.V1ObjectMeta(name='py-cm', resource_version=out['cm_created']['rv']), data={'x': 'y'})
    try:
        core.replace_namespaced_config_map('py-cm', NS, stale)
        out['cm_stale_replace'] = 'accepted'
    except ApiException as e:
        out['cm_stale_replace'] = {'status': e.status, 'reason': json.loads(e.body).get('reason')}

    # Deployment: create, strategic merge patch of a container (merged by name), merge patch.
    dep = apps.create_namespaced_deployment(NS, {
        'apiVersion': 'apps/v1', 'kind': 'Deployment',
        'metadata': {'name': 'py-dep', 'labels': {'app': 'py-dep'}},
        'spec': {
            'replicas': 1,
            'selector': {'matchLabels': {'app': 'py-dep'}},
            'template': {
                'metadata': {'labels': {'app': 'py-dep'}},
                'spec': {'containers': [{'name': 'app', 'image': 'nginx:1.25',
                                         'env': [{'name': 'KEEP', 'value': 'me'}]}]},
            },
        },
    })
    out['dep_created'] = {'name': dep.metadata.name, 'generation': dep.metadata.generation,
                          'strategy': dep.spec.strategy.type if dep.spec.strategy else None,
                          'image': dep.spec.template.spec.containers[0].image}
    dep = apps.patch_namespaced_deployment('py-dep', NS, {
        'spec': {'replicas': 3, 'template': {'spec': {'containers': [{'name': 'app', 'image': 'nginx:1.26'}]}}}})
    c0 = dep.spec.template.spec.containers[0]
    out['dep_smp'] = {'replicas': dep.spec.replicas, 'generation': dep.metadata.generation,
                      'containers': len(dep.spec.template.spec.containers), 'image': c0.image,
                      'env': [{'name': e.name, 'value': e.value} for e in (c0.env or [])]}
    dep = merge_apps.patch_namespaced_deployment('py-dep', NS, {
        'metadata': {'labels': {'patched': 'merge'}},
        'spec': {'template': {'spec': {'containers': [{'name': 'app', 'image': 'nginx:1.27'}]}}}})
    c0 = dep.spec.template.spec.containers[0]
    out['dep_merge'] = {'labels': dep.metadata.labels, 'image': c0.image,
                        'env': [{'name': e.name, 'value': e.value} for e in (c0.env or [])]}
    scale = apps.read_namespaced_deployment_scale('py-dep', NS)
    out['dep_scale'] = {'kind': scale.kind, 'replicas': scale.spec.replicas, 'selector': scale.status.selector}
    out['dep_list'] = [d.metadata.name for d in apps.list_namespaced_deployment(NS, label_selector='patched=merge').items]

    # Changes the watch must see, then wait for it to finish.
    core.create_namespaced_config_map(NS, {'metadata': {'name': 'py-watched'}, 'data': {'n': '1'}})
    merge_core.patch_namespaced_config_map('py-watched', NS, {'data': {'n': '2'}})
    core.delete_namespaced_config_map('py-watched', NS)
    done.wait(60)
    w.stop()
    out['watch_events'] = events
    out['watch_error'] = watch_error
    out['watch_finished'] = done.is_set()

    # Errors are Status objects.
    try:
        core.read_namespaced_config_map('py-missing', NS)
        out['missing'] = 'found'
    except ApiException as e:
        body = json.loads(e.body)
        out['missing'] = {'status': e.status, 'reason': body.get('reason'), 'kind': body.get('kind')}

    # Clean up.
    apps.delete_namespaced_deployment('py-dep', NS)
    core.delete_namespaced_config_map('py-cm', NS)
    out['after_delete'] = sorted(c.metadata.name for c in core.list_namespaced_config_map(NS, label_selector='from=python').items)
    print(json.dumps(out))


if __name__ == '__main__':
    try:
        main(sys.argv[1])
    except ApiException as e:
        print(f'ApiException {e.status} {e.reason}: {e.body}', file=sys.stderr)
        raise
