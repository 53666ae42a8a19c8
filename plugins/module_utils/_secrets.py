# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes Secrets made portable between clusters, and applied back without clobbering.

Private to the collection.

- ``portable_secret``: a Secret stripped of everything that ties it to one cluster (also the filter plugin's logic);
  ``check_secret_shape`` refuses what is not a Secret, naming the field.
- ``decide_secret_restore`` / ``apply_secrets``: restore secrets without clobbering unless asked (check mode aware).
"""

from __future__ import annotations

import base64
import copy

from ansible_collections.kfuse.failover.plugins.module_utils.errors import SourceError

LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'
CLUSTER_METADATA = ('uid', 'resourceVersion', 'creationTimestamp', 'ownerReferences', 'managedFields', 'selfLink',
                    'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName')


def api_exception():
    """The kubernetes client's ApiException, imported on first use (see kube, the one import guard)."""
    from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
    kube.require_kubernetes('Kubernetes sources', SourceError)
    return kube.ApiException


def connection_errors():
    """What the kubernetes client raises when it cannot reach the API server (urllib3's errors are no OSError)."""
    import urllib3  # pylint: disable=import-outside-toplevel  # a dependency of the kubernetes client
    return (OSError, ValueError, urllib3.exceptions.HTTPError)


def api_call(what, call, *args, **kwargs):
    """``call(*args, **kwargs)``; API and connection errors become SourceError starting with ``what``."""
    try:
        return call(*args, **kwargs)
    except api_exception() as exc:
        raise SourceError('%s: %s %s' % (what, exc.status, exc.reason)) from None
    except connection_errors() as exc:
        raise SourceError('%s: cannot reach the Kubernetes API server: %s' % (what, exc)) from None


def check_secret_shape(secret):
    """SourceError naming the field unless ``secret`` has the shape of a Kubernetes Secret in API form."""
    if not isinstance(secret, dict):
        raise SourceError('a Secret must be a mapping, got %s' % type(secret).__name__)
    if secret.get('kind') not in (None, 'Secret'):
        raise SourceError('kind must be Secret, got %r' % (secret.get('kind'),))
    metadata = secret.get('metadata')
    if not isinstance(metadata, dict) or not isinstance(metadata.get('name'), str) or not metadata['name'].strip():
        raise SourceError('metadata.name must be a non-empty string (a Secret as the API returns it)')
    for field in ('labels', 'annotations'):
        if metadata.get(field) is not None and not isinstance(metadata[field], dict):
            raise SourceError('metadata.%s must be a mapping, got %s' % (field, type(metadata[field]).__name__))
    for field in ('data', 'stringData'):
        value = secret.get(field)
        if value is not None and (not isinstance(value, dict) or not all(isinstance(k, str) for k in value)):
            raise SourceError('%s must be a mapping of key names to values, got %s' % (field, type(value).__name__))


def portable_secret(secret, namespace=None):
    """Copy of ``secret`` (a dict in API form) without cluster-bound fields; ``namespace`` re-targets it.

    Strips uid, resourceVersion, creationTimestamp, ownerReferences, managedFields, selfLink, generation, deletion
    markers, status and the kubectl last-applied annotation; keeps name, namespace, labels, other annotations,
    type, data, stringData and immutable.
    """
    check_secret_shape(secret)
    result = copy.deepcopy(secret)
    result.pop('status', None)
    result['apiVersion'] = result.get('apiVersion') or 'v1'
    result['kind'] = result.get('kind') or 'Secret'
    metadata = result.get('metadata') or {}
    for field in CLUSTER_METADATA:
        metadata.pop(field, None)
    annotations = metadata.get('annotations')
    if annotations:
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            metadata.pop('annotations')
    if not metadata.get('labels'):
        metadata.pop('labels', None)
    if namespace:
        metadata['namespace'] = namespace
    result['metadata'] = metadata
    return result


def secret_data(secret):
    """The secret's data as base64 strings, ``stringData`` folded in the way the API server does."""
    data = dict(secret.get('data') or {})
    for key, value in (secret.get('stringData') or {}).items():
        data[key] = base64.b64encode(str(value).encode('utf-8')).decode('ascii')
    return data


def secret_type(secret):
    """The secret's type, Opaque when it names none (as the API server defaults it)."""
    return secret.get('type') or 'Opaque'


def decide_secret_restore(existing, desired, overwrite):
    """created | unchanged | kept | updated, for ``desired`` (portable dict) against ``existing`` (dict or None).

    Two secrets are the same when their type and data (with stringData folded in) are equal; labels and
    annotations do not make a secret different, so a restored secret is never clobbered for metadata alone.
    """
    if existing is None:
        return 'created'
    same = secret_type(existing) == secret_type(desired) and secret_data(existing) == secret_data(desired)
    if same:
        return 'unchanged'
    return 'updated' if overwrite else 'kept'


def apply_secrets(core_v1, secrets, namespace=None, overwrite=False, check_mode=False):
    """Apply portable ``secrets`` (dicts); ``namespace`` re-targets all of them. Returns one report per secret:
    {name, namespace, action} with action created|unchanged|kept|updated (what would happen in check mode)."""
    not_served = api_exception()
    reports = []
    for secret in secrets:
        desired = portable_secret(secret, namespace=namespace)
        name, target_ns = desired['metadata']['name'], desired['metadata'].get('namespace') or 'default'
        desired['metadata']['namespace'] = target_ns
        try:
            current = core_v1.api_client.sanitize_for_serialization(core_v1.read_namespaced_secret(name, target_ns))
        except not_served as exc:
            if exc.status != 404:
                raise SourceError('cannot read secret %s/%s: %s %s' % (target_ns, name, exc.status, exc.reason)) from None
            current = None
        action = decide_secret_restore(current, desired, overwrite)
        if not check_mode:
            if action == 'created':
                api_call('cannot create secret %s/%s' % (target_ns, name), core_v1.create_namespaced_secret,
                         target_ns, desired)
            elif action == 'updated':
                if secret_type(current) != secret_type(desired):
                    # type is immutable: replace means delete then create
                    api_call('cannot delete secret %s/%s' % (target_ns, name), core_v1.delete_namespaced_secret,
                             name, target_ns)
                    api_call('cannot create secret %s/%s' % (target_ns, name), core_v1.create_namespaced_secret,
                             target_ns, desired)
                else:
                    desired['metadata']['resourceVersion'] = current['metadata'].get('resourceVersion')
                    api_call('cannot replace secret %s/%s' % (target_ns, name), core_v1.replace_namespaced_secret,
                             name, target_ns, desired)
        reports.append({'name': name, 'namespace': target_ns, 'action': action})
    return reports
