# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What goes into a backup set, and how it is applied back.

- ``portable_secret``: a Secret stripped of everything that ties it to one cluster (also the filter plugin's logic).
- ``collect_secrets``, ``helm_release_values``, ``file_item``, ``database_item``: the sources of a set, each as a
  ``SourceItem`` whose ``open()`` returns a binary reader, so nothing is held whole in memory but small objects.
- ``decide_secret_restore`` / ``apply_secrets``: restore secrets without clobbering unless asked (check mode aware).
- ``restore_database``: a database dump stream into a DSN or a pod, through ``_postgres.local`` or ``_postgres.pod``.

The store options live in ``_storage_params``, the module tasks that combine both in ``_backup_tasks``.
"""

from __future__ import annotations

import base64
import copy
import gzip
import io
import json
import os
import re

from ansible_collections.kfuse.failover.plugins.module_utils.errors import PostgresError, SourceError

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'
CLUSTER_METADATA = ('uid', 'resourceVersion', 'creationTimestamp', 'ownerReferences', 'managedFields', 'selfLink',
                    'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName')
# Object keys may hold names chosen by users: keep them to a safe alphabet.
_UNSAFE_KEY_CHARS = re.compile(r'[^A-Za-z0-9._-]')
HELM_STORAGE_PREFIX = 'sh.helm.release.v1.'
GZIP_MAGIC = b'\x1f\x8b'


# -- portable secrets -------------------------------------------------------------------------------------------

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


def safe_key_part(text):
    """``text`` usable as one path segment of an object key."""
    cleaned = _UNSAFE_KEY_CHARS.sub('_', str(text)).strip('.')
    return cleaned or '_'


class SourceItem:
    """One object of a set: kind (secret|helm_values|file|postgres), name, key relative to the set, a reader factory.

    ``open()`` returns a binary file-like object with ``read(n)``; callers close it (it is a context manager).
    ``meta`` is stored in the manifest entry; ``sensitive`` marks data that must be encrypted under encrypt=auto.
    """

    def __init__(self, kind, name, key, opener, meta=None, sensitive=False, size=None):
        self.kind = kind
        self.name = name
        self.key = key
        self._opener = opener
        self.meta = meta or {}
        self.sensitive = sensitive
        self.size = size

    def open(self):
        return self._opener()

    def describe(self):
        """What check mode reports for this item."""
        return {'kind': self.kind, 'name': self.name, 'key': self.key, 'size': self.size, 'meta': self.meta}


def _bytes_item(kind, name, key, payload, meta=None, sensitive=False):
    return SourceItem(kind, name, key, lambda: io.BytesIO(payload), meta=meta, sensitive=sensitive, size=len(payload))


def _api_exception():
    """The kubernetes client's ApiException, imported on first use (see kube, the one import guard)."""
    from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
    kube.require_kubernetes('Kubernetes sources', SourceError)
    return kube.ApiException


def _api_call(what, call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except _api_exception() as exc:
        raise SourceError('%s: %s %s' % (what, exc.status, exc.reason)) from None
    except (OSError, ValueError) as exc:
        raise SourceError('%s: cannot reach the Kubernetes API server: %s' % (what, exc)) from None


def secret_item(secret):
    """SourceItem of one portable secret, serialised as sorted JSON."""
    metadata = secret['metadata']
    namespace, name = metadata.get('namespace') or 'default', metadata['name']
    payload = json.dumps(secret, sort_keys=True, indent=1).encode('utf-8')
    key = 'secrets/%s/%s.json' % (safe_key_part(namespace), safe_key_part(name))
    meta = {'namespace': namespace, 'type': secret.get('type') or 'Opaque', 'keys': sorted(secret_data(secret))}
    return _bytes_item('secret', '%s/%s' % (namespace, name), key, payload, meta=meta, sensitive=True)


def collect_secrets(core_v1, selections, default_namespace):
    """Portable secrets for ``selections`` (dicts with name and/or label_selector, optional namespace, optional).

    A named secret that does not exist fails unless its selection says ``optional``; a selector matching nothing
    is not an error (it is reported by the caller as an empty selection). Duplicates are kept once.
    """
    api_client = core_v1.api_client
    found = {}
    for selection in selections:
        namespace = selection.get('namespace') or default_namespace
        name, selector = selection.get('name'), selection.get('label_selector')
        if name:
            try:
                objects = [core_v1.read_namespaced_secret(name, namespace)]
            except _api_exception() as exc:
                if exc.status == 404 and selection.get('optional'):
                    continue
                raise SourceError('cannot read secret %s/%s: %s %s' % (namespace, name, exc.status, exc.reason)) from None
            if selector:
                wanted = _parse_equality_selector(selector)
                labels = objects[0].metadata.labels or {}
                objects = [obj for obj in objects if all(labels.get(k) == v for k, v in wanted.items())]
        else:
            objects = _api_call('cannot list secrets %s in %s' % (selector, namespace), core_v1.list_namespaced_secret,
                                namespace, label_selector=selector).items
        for obj in objects:
            secret = portable_secret(api_client.sanitize_for_serialization(obj))
            secret['metadata'].setdefault('namespace', namespace)
            found[(secret['metadata']['namespace'], secret['metadata']['name'])] = secret
    return [secret_item(found[key]) for key in sorted(found)]


def _parse_equality_selector(selector):
    """key=value pairs of a simple selector (used only to filter a secret that was also named)."""
    wanted = {}
    for part in selector.split(','):
        if '=' in part:
            key, value = part.split('=', 1)
            wanted[key.strip().rstrip('=')] = value.strip().lstrip('=')
    return wanted


# -- Helm release values ----------------------------------------------------------------------------------------

def decode_helm_release(encoded):
    """The release document of a Helm storage Secret's ``release`` value.

    ``encoded`` is the value as the Kubernetes API returns it (base64 of Helm's own base64 of gzip of JSON) or
    already one level decoded (bytes/str of Helm's base64). Helm stores uncompressed JSON in old releases: both work.
    """
    if isinstance(encoded, str):
        encoded = encoded.encode('ascii')
    raw = encoded
    for _level in range(3):
        if raw[:2] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
            break
        if raw[:1] == b'{':
            break
        try:
            raw = base64.b64decode(raw, validate=True)
        except ValueError:
            raise SourceError('the Helm release data is neither base64, gzip nor JSON') from None
    try:
        return json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        raise SourceError('the Helm release data does not decode to a JSON release document') from None


def _release_version(secret):
    labels = secret.metadata.labels or {}
    try:
        return int(labels.get('version') or secret.metadata.name.rsplit('.v', 1)[1])
    except (IndexError, ValueError):
        return -1


def helm_release_values(core_v1, release, namespace):
    """(user values dict, meta) of the deployed revision of Helm release ``release`` in ``namespace``.

    Read from Helm's storage Secret (``sh.helm.release.v1.<release>.v<N>``, labels owner=helm, name, status) through
    the Kubernetes API; the newest deployed revision wins. Fails when the release has no deployed revision.
    """
    selector = 'owner=helm,name=%s' % release
    secrets = _api_call('cannot list Helm releases %s in %s' % (release, namespace), core_v1.list_namespaced_secret,
                        namespace, label_selector=selector).items
    deployed = [s for s in secrets if (s.metadata.labels or {}).get('status') == 'deployed'
                and s.metadata.name.startswith(HELM_STORAGE_PREFIX)]
    if not deployed:
        seen = ', '.join('%s (%s)' % (s.metadata.name, (s.metadata.labels or {}).get('status')) for s in secrets)
        raise SourceError('Helm release %s in namespace %s has no deployed revision (storage secrets: %s)'
                          % (release, namespace, seen or 'none'))
    newest = max(deployed, key=_release_version)
    encoded = (newest.data or {}).get('release')
    if not encoded:
        raise SourceError('Helm storage secret %s/%s has no release data' % (namespace, newest.metadata.name))
    document = decode_helm_release(encoded)
    chart = (document.get('chart') or {}).get('metadata') or {}
    meta = {'namespace': namespace, 'revision': document.get('version', _release_version(newest)),
            'chart': chart.get('name'), 'chart_version': chart.get('version'), 'app_version': chart.get('appVersion')}
    return document.get('config') or {}, meta


def dump_yaml(values):
    if not HAS_YAML:
        raise SourceError('PyYAML is required to write Helm values')
    return yaml.safe_dump(values, default_flow_style=False, sort_keys=True).encode('utf-8')


def helm_values_item(core_v1, release, namespace):
    values, meta = helm_release_values(core_v1, release, namespace)
    key = 'helm/%s/values.yaml' % safe_key_part(release)
    return _bytes_item('helm_values', release, key, dump_yaml(values), meta=meta, sensitive=True)


# -- files ------------------------------------------------------------------------------------------------------

def file_item(path, name=None):
    """SourceItem streaming a local file; ``name`` defaults to its base name. Helm values files hold secrets often,
    so files count as sensitive."""
    if not os.path.isfile(path):
        raise SourceError('files: %s is not a readable file' % path)
    if not os.access(path, os.R_OK):
        raise SourceError('files: %s is not readable' % path)
    name = name or os.path.basename(path)
    return SourceItem('file', name, 'files/%s' % safe_key_part(name), lambda: open(path, 'rb'),  # pylint: disable=consider-using-with
                      meta={'path': path}, sensitive=True, size=os.path.getsize(path))


# -- databases --------------------------------------------------------------------------------------------------

def _postgres(mode):
    """The ``_postgres.local`` (DSN) or ``_postgres.pod`` module, imported on first use."""
    if mode == 'dsn':
        from ansible_collections.kfuse.failover.plugins.module_utils._postgres import local  # pylint: disable=import-outside-toplevel
        return local
    from ansible_collections.kfuse.failover.plugins.module_utils._postgres import pod  # pylint: disable=import-outside-toplevel
    return pod


POD_OPTIONS = ('container', 'username', 'password', 'password_env', 'host', 'port')


def _open_database(spec, api_client_factory, action, chunks=None, clean=False):
    """Run the dump (action='dump') or restore of one database ``spec``, by DSN or in a pod."""
    database = spec.get('target_database') or spec['name']
    if spec.get('dsn'):
        postgres = _postgres('dsn')
        if action == 'dump':
            return postgres.dump_stream(spec['dsn'], database=database, exclude_tables=spec.get('exclude_tables') or ())
        return postgres.restore_stream(spec['dsn'], chunks, clean=clean, database=database)
    if api_client_factory is None:
        raise SourceError('database %s: pod mode needs a Kubernetes connection' % spec['name'])
    postgres = _postgres('pod')
    core_v1 = postgres.new_core_v1(api_client_factory())
    extra = {name: spec[name] for name in POD_OPTIONS if spec.get(name) is not None}
    namespace = spec.get('namespace') or 'kfuse'
    if action == 'dump':
        return postgres.pod_dump_stream(core_v1, namespace, spec['pod'], database,
                                        exclude_tables=spec.get('exclude_tables') or (), **extra)
    return postgres.pod_restore_stream(core_v1, namespace, spec['pod'], chunks, database, clean=clean, **extra)


def check_database_spec(spec, option):
    """SourceError naming ``option`` unless ``spec`` has a name and exactly one of dsn or pod."""
    if not spec.get('name'):
        raise SourceError('%s: every database needs a name' % option)
    if bool(spec.get('dsn')) == bool(spec.get('pod')):
        raise SourceError('%s: database %s needs exactly one of dsn or pod' % (option, spec['name']))
    if spec.get('password') is not None and spec.get('password_env'):
        raise SourceError('%s: database %s: password and password_env are mutually exclusive' % (option, spec['name']))
    from ansible_collections.kfuse.failover.plugins.module_utils import _names  # pylint: disable=import-outside-toplevel
    if spec.get('password_env'):
        _names.check_env_name(spec['password_env'], option + '.password_env')
    if spec.get('pod'):
        _names.check_object_name(spec['pod'], option + '.pod', 'Pod')
        if spec.get('namespace'):
            _names.check_namespace(spec['namespace'], option + '.namespace')
    if spec.get('password') is not None and ('\n' in spec['password'] or '\r' in spec['password']):
        raise SourceError('%s.password: a password with a line break cannot be sent to the pod' % option)
    if spec.get('dsn'):
        from ansible_collections.kfuse.failover.plugins.module_utils._postgres import dsn  # pylint: disable=import-outside-toplevel
        try:
            dsn.parse_dsn(spec['dsn'])
        except PostgresError as exc:
            # The DSN itself is never quoted: it may hold a password.
            raise SourceError('%s.dsn: %s' % (option, str(exc).split(' after ', maxsplit=1)[0])) from None


def database_item(spec, api_client_factory=None):
    """SourceItem of one database: a pg_dump custom-format stream opened only when the writer reads it."""
    exclude = list(spec.get('exclude_tables') or [])
    meta = {'database': spec['name'], 'format': 'custom', 'exclude_tables': exclude,
            'via': 'dsn' if spec.get('dsn') else 'pod'}
    if spec.get('pod'):
        meta['pod'] = '%s/%s' % (spec.get('namespace') or 'kfuse', spec['pod'])
    return SourceItem('postgres', spec['name'], 'postgres/%s.dump' % safe_key_part(spec['name']),
                      lambda: _open_database(spec, api_client_factory, 'dump'), meta=meta)


def restore_database(spec, chunks, api_client_factory=None):
    """Feed decrypted dump ``chunks`` (an iterator of bytes) to pg_restore for ``spec`` (DSN or pod);
    returns {'bytes', 'warnings'}."""
    return _open_database(spec, api_client_factory, 'restore', chunks=chunks, clean=bool(spec.get('clean')))


# -- restoring secrets ------------------------------------------------------------------------------------------

def decide_secret_restore(existing, desired, overwrite):
    """created | unchanged | skipped | replaced, for ``desired`` (portable dict) against ``existing`` (dict or None).

    Two secrets are the same when their type and data (with stringData folded in) are equal; labels and
    annotations do not make a secret different, so a restored secret is never clobbered for metadata alone.
    """
    if existing is None:
        return 'created'
    same = ((existing.get('type') or 'Opaque') == (desired.get('type') or 'Opaque')
            and secret_data(existing) == secret_data(desired))
    if same:
        return 'unchanged'
    return 'replaced' if overwrite else 'skipped'


def apply_secrets(core_v1, secrets, namespace=None, overwrite=False, check_mode=False):
    """Apply portable ``secrets`` (dicts); ``namespace`` re-targets all of them. Returns one report per secret:
    {name, namespace, action} with action created|unchanged|skipped|replaced (what would happen in check mode)."""
    api_exception = _api_exception()
    reports = []
    for secret in secrets:
        desired = portable_secret(secret, namespace=namespace)
        name, target_ns = desired['metadata']['name'], desired['metadata'].get('namespace') or 'default'
        desired['metadata']['namespace'] = target_ns
        try:
            current = core_v1.api_client.sanitize_for_serialization(core_v1.read_namespaced_secret(name, target_ns))
        except api_exception as exc:
            if exc.status != 404:
                raise SourceError('cannot read secret %s/%s: %s %s' % (target_ns, name, exc.status, exc.reason)) from None
            current = None
        action = decide_secret_restore(current, desired, overwrite)
        if not check_mode:
            if action == 'created':
                _api_call('cannot create secret %s/%s' % (target_ns, name), core_v1.create_namespaced_secret,
                          target_ns, desired)
            elif action == 'replaced':
                if (current.get('type') or 'Opaque') != (desired.get('type') or 'Opaque'):
                    # type is immutable: replace means delete then create
                    _api_call('cannot delete secret %s/%s' % (target_ns, name), core_v1.delete_namespaced_secret,
                              name, target_ns)
                    _api_call('cannot create secret %s/%s' % (target_ns, name), core_v1.create_namespaced_secret,
                              target_ns, desired)
                else:
                    desired['metadata']['resourceVersion'] = current['metadata'].get('resourceVersion')
                    _api_call('cannot replace secret %s/%s' % (target_ns, name), core_v1.replace_namespaced_secret,
                              name, target_ns, desired)
        reports.append({'name': name, 'namespace': target_ns, 'action': action})
    return reports
