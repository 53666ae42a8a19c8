# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What goes into a backup set, and how it is applied back.

- ``collect_secrets``, ``helm_release_values``, ``file_item``, ``database_item``: the sources of a set, each as a
  ``SourceItem`` whose ``open()`` returns a binary reader, so nothing is held whole in memory but small objects.
- ``restore_database``: a database dump stream into a DSN or a pod, through ``_postgres.local`` or ``_postgres.pod``.

Secrets in their portable form, and applying them back, live in ``_secrets``; the store options in
``_storage_params``, the module tasks that combine both in ``_backup_tasks``.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import re

from ansible_collections.kfuse.failover.plugins.module_utils._secrets import api_call, api_exception, portable_secret, secret_data, secret_type
from ansible_collections.kfuse.failover.plugins.module_utils.errors import PostgresError, SourceError

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

# Object keys may hold names chosen by users: keep them to a safe alphabet.
_UNSAFE_KEY_CHARS = re.compile(r'[^A-Za-z0-9._-]')
HELM_STORAGE_PREFIX = 'sh.helm.release.v1.'
GZIP_MAGIC = b'\x1f\x8b'


# -- secrets ---------------------------------------------------------------------------------------------------

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


def secret_item(secret):
    """SourceItem of one portable secret, serialised as sorted JSON."""
    metadata = secret['metadata']
    namespace, name = metadata.get('namespace') or 'default', metadata['name']
    payload = json.dumps(secret, sort_keys=True, indent=1).encode('utf-8')
    key = 'secrets/%s/%s.json' % (safe_key_part(namespace), safe_key_part(name))
    meta = {'namespace': namespace, 'type': secret_type(secret), 'keys': sorted(secret_data(secret))}
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
            except api_exception() as exc:
                if exc.status == 404 and selection.get('optional'):
                    continue
                raise SourceError('cannot read secret %s/%s: %s %s' % (namespace, name, exc.status, exc.reason)) from None
            if selector:
                wanted = _parse_equality_selector(selector)
                labels = objects[0].metadata.labels or {}
                objects = [obj for obj in objects if all(labels.get(k) == v for k, v in wanted.items())]
        else:
            objects = api_call('cannot list secrets %s in %s' % (selector, namespace), core_v1.list_namespaced_secret,
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
    secrets = api_call('cannot list Helm releases %s in %s' % (release, namespace), core_v1.list_namespaced_secret,
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
