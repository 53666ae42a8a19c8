# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What goes into a backup set, and how it is applied back.

- ``portable_secret``: a Secret stripped of everything that ties it to one cluster (also the filter plugin's logic).
- ``collect_secrets``, ``helm_release_values``, ``file_item``, ``database_item``: the sources of a set, each as a
  ``SourceItem`` whose ``open()`` returns a binary reader, so nothing is held whole in memory but small objects.
- ``decide_secret_restore`` / ``apply_secrets``: restore secrets without clobbering unless asked (check mode aware).
- ``restore_database``: a database dump stream into a DSN or a pod, through ``_postgres.restore_stream``.
- The storage options shared by the backup modules (argument spec and the store they open), so the three modules
  validate them the same way before any write.
"""

from __future__ import annotations

import base64
import copy
import gzip
import io
import json
import os
import re

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


class SourceError(Exception):
    """A source that cannot be read or applied, with a message fit for an operator."""


# -- portable secrets -------------------------------------------------------------------------------------------

def portable_secret(secret, namespace=None):
    """Copy of ``secret`` (a dict in API form) without cluster-bound fields; ``namespace`` re-targets it.

    Strips uid, resourceVersion, creationTimestamp, ownerReferences, managedFields, selfLink, generation, deletion
    markers, status and the kubectl last-applied annotation; keeps name, namespace, labels, other annotations,
    type, data, stringData and immutable.
    """
    if not isinstance(secret, dict):
        raise SourceError('a Secret must be a mapping, got %s' % type(secret).__name__)
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


def _api_call(what, call, *args, **kwargs):
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel
    try:
        return call(*args, **kwargs)
    except ApiException as exc:
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
            from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel
            try:
                objects = [core_v1.read_namespaced_secret(name, namespace)]
            except ApiException as exc:
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

def _postgres():
    from ansible_collections.kfuse.failover.plugins.module_utils import _postgres  # pylint: disable=import-outside-toplevel
    return _postgres


POD_OPTIONS = ('container', 'username', 'password', 'password_env', 'host', 'port')


def _open_database(spec, api_client_factory, action, chunks=None, clean=False):
    """Run the dump (action='dump') or restore of one database ``spec``, by DSN or in a pod."""
    postgres = _postgres()
    database = spec.get('target_database') or spec['name']
    if spec.get('dsn'):
        if action == 'dump':
            return postgres.dump_stream(spec['dsn'], database=database, exclude_tables=spec.get('exclude_tables') or ())
        return postgres.restore_stream(spec['dsn'], chunks, clean=clean, database=database)
    if api_client_factory is None:
        raise SourceError('database %s: pod mode needs a Kubernetes connection' % spec['name'])
    core_v1 = postgres.new_core_v1(api_client_factory())
    extra = {name: spec[name] for name in POD_OPTIONS if spec.get(name) is not None}
    namespace = spec.get('namespace') or 'kfuse'
    if action == 'dump':
        return postgres.pod_dump_stream(core_v1, namespace, spec['pod'], database,
                                        exclude_tables=spec.get('exclude_tables') or (), **extra)
    return postgres.pod_restore_stream(core_v1, namespace, spec['pod'], chunks, database, clean=clean, **extra)


def check_database_spec(spec, option):
    """ValueError naming ``option`` unless ``spec`` has a name and exactly one of dsn or pod."""
    if not spec.get('name'):
        raise ValueError('%s: every database needs a name' % option)
    if bool(spec.get('dsn')) == bool(spec.get('pod')):
        raise ValueError('%s: database %s needs exactly one of dsn or pod' % (option, spec['name']))
    if spec.get('password') is not None and spec.get('password_env'):
        raise ValueError('%s: database %s: password and password_env are mutually exclusive' % (option, spec['name']))


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


def postgres_error_types():
    """Exception types a database dump or restore raises (for the modules to report)."""
    return (_postgres().PostgresError,)


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
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel
    reports = []
    for secret in secrets:
        desired = portable_secret(secret, namespace=namespace)
        name, target_ns = desired['metadata']['name'], desired['metadata'].get('namespace') or 'default'
        desired['metadata']['namespace'] = target_ns
        try:
            current = core_v1.api_client.sanitize_for_serialization(core_v1.read_namespaced_secret(name, target_ns))
        except ApiException as exc:
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


# -- storage options shared by the backup modules -----------------------------------------------------------------

STORAGE_ARGSPEC = {
    'cloud_storage': {'type': 'dict', 'required': True},
    'storage_credentials': {'type': 'dict', 'no_log': True},
    'storage_credentials_file': {'type': 'path'},
    'storage_credentials_secret': {'type': 'dict', 'no_log': False, 'options': {
        'kubeconfig': {'type': 'path'},
        'context': {'type': 'str'},
        'namespace': {'type': 'str', 'default': 'kfuse'},
        'name': {'type': 'str', 'required': True},
    }},
    'storage_ambient': {'type': 'bool', 'default': False},
    'validate_certs': {'type': 'bool', 'default': True},
    'ca_path': {'type': 'path'},
    'server_side_encryption': {'type': 'dict', 'options': {
        's3': {'type': 'dict'},
        'gcs': {'type': 'dict'},
        'azure': {'type': 'dict'},
    }},
    'storage_timeout': {'type': 'float', 'default': 60.0},
}

KUBE_ARGSPEC = {
    'kubeconfig': {'type': 'path'},
    'context': {'type': 'str'},
}

CREDENTIAL_OPTIONS = ('storage_credentials', 'storage_credentials_file', 'storage_credentials_secret', 'storage_ambient')
CREDENTIAL_OPTION_NAMES = {'explicit': 'storage_credentials', 'secret_data': 'storage_credentials',
                           'secret_file': 'storage_credentials_file', 'kubernetes_secret': 'storage_credentials_secret',
                           'ambient': 'storage_ambient'}
# Keys of the Kloudfuse cloud storage secret, as opposed to the collection's explicit names.
SEED_SECRET_KEYS = ('accessKey', 'secretKey', 'connectionString')


def credential_sources(params):
    """Names of the credential options that were given (storage_ambient counts only when true)."""
    given = [name for name in CREDENTIAL_OPTIONS[:3] if params.get(name)]
    if params.get('storage_ambient'):
        given.append('storage_ambient')
    return given


def storage_config(params):
    """Validated cloud_storage dict; ValueError naming the option otherwise. No request is made."""
    from ansible_collections.kfuse.failover.plugins.module_utils import storage  # pylint: disable=import-outside-toplevel
    config = storage.validate_cloud_storage(params['cloud_storage'])
    given = credential_sources(params)
    if len(given) > 1:
        raise ValueError('storage credentials: use only one of %s, got %s' % (', '.join(CREDENTIAL_OPTIONS), ', '.join(given)))
    if not given:
        raise ValueError('storage credentials: one of storage_credentials, storage_credentials_file, '
                         'storage_credentials_secret or storage_ambient=true is required')
    if params.get('storage_timeout') is not None and params['storage_timeout'] <= 0:
        raise ValueError('storage_timeout must be a positive number of seconds, got %s' % params['storage_timeout'])
    sse = params.get('server_side_encryption') or {}
    s3_sse = sse.get('s3') or {}
    if s3_sse and s3_sse.get('mode') not in ('AES256', 'aws:kms'):
        raise ValueError('server_side_encryption.s3.mode must be one of AES256, aws:kms, got %r' % s3_sse.get('mode'))
    return config


def resolve_credentials(params, config):
    """The normalised credentials dict of ``_credentials.resolve`` (None = ambient)."""
    from ansible_collections.kfuse.failover.plugins.module_utils import _credentials  # pylint: disable=import-outside-toplevel
    provider = config['type']
    explicit = params.get('storage_credentials')
    secret = params.get('storage_credentials_secret')
    kwargs = {}
    if explicit:
        if any(key in explicit for key in SEED_SECRET_KEYS):
            kwargs['secret_data'] = explicit
        else:
            kwargs['explicit'] = explicit
    elif params.get('storage_credentials_file'):
        kwargs['secret_file'] = params['storage_credentials_file']
    elif secret:
        secret = dict(secret)
        for option in ('kubeconfig', 'context'):
            if not secret.get(option) and params.get(option):
                secret[option] = params[option]
        kwargs['kubernetes_secret'] = secret
    else:
        kwargs['ambient'] = True
    return _credentials.resolve(provider, option_names=CREDENTIAL_OPTION_NAMES, **kwargs)


def credential_values(credentials):
    """Every string in a credentials dict, for redacting messages."""
    values = []
    for value in (credentials or {}).values():
        if isinstance(value, str):
            values.append(value)
        elif isinstance(value, dict):
            values.extend(credential_values(value))
    return values


def open_store_from_params(params, config=None):
    """(store, credentials) for the module's storage options. Raises ValueError or storage.StorageError."""
    from ansible_collections.kfuse.failover.plugins.module_utils import storage  # pylint: disable=import-outside-toplevel
    config = config or storage_config(params)
    credentials = resolve_credentials(params, config)
    store = storage.open_store(config, credentials=credentials,
                               server_side_encryption=params.get('server_side_encryption'),
                               validate_certs=params['validate_certs'], ca_path=params.get('ca_path'),
                               timeout=params.get('storage_timeout') or 60)
    return store, credentials


# -- the three module tasks ---------------------------------------------------------------------------------------
# Each takes the module's params and check mode, returns the result dict, and raises TaskFailed with the result keys
# a failure should carry. Bad input raises before any write.

COLLECTION_VERSION = '0.2.0'
ENCRYPT_CHOICES = ('auto', 'always', 'never')


class TaskFailed(Exception):
    """A module failure: ``msg`` plus extra result keys."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


def _modules():
    """backup_set, storage and _crypto, imported late so the sources above stay usable without them."""
    from ansible_collections.kfuse.failover.plugins.module_utils import backup_set  # pylint: disable=import-outside-toplevel
    from ansible_collections.kfuse.failover.plugins.module_utils import storage  # pylint: disable=import-outside-toplevel
    from ansible_collections.kfuse.failover.plugins.module_utils import _crypto  # pylint: disable=import-outside-toplevel
    return backup_set, storage, _crypto


def _fail_from(exc, secrets=()):
    """TaskFailed for an exception of the storage, set, crypto, Kubernetes or PostgreSQL layers."""
    backup_set, storage, _crypto = _modules()
    text = str(exc)
    for secret in secrets:
        if secret and isinstance(secret, str) and len(secret) >= 4:
            text = text.replace(secret, '********')
    if isinstance(exc, storage.StorageError):
        return TaskFailed(text, storage_error=exc.to_dict())
    if isinstance(exc, _crypto.DecryptionError):
        return TaskFailed('cannot decrypt the backup set: %s (check encryption_passphrase)' % text)
    if isinstance(exc, backup_set.IntegrityError):
        return TaskFailed('integrity check failed: %s' % text)
    return TaskFailed(text)


def _task_errors():
    backup_set, storage, _crypto = _modules()
    errors = (ValueError, SourceError, storage.StorageError, backup_set.BackupSetError, _crypto.CryptoError)
    try:
        errors += postgres_error_types()
    except ImportError:
        pass
    from ansible_collections.kfuse.failover.plugins.module_utils.kube import KubeError  # pylint: disable=import-outside-toplevel
    return errors + (KubeError,)


def _api_client_factory(params):
    """A callable returning one shared Kubernetes ApiClient for the module's kubeconfig/context."""
    from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
    cache = {}

    def factory():
        if 'client' not in cache:
            cache['client'] = kube.new_api_client(params.get('kubeconfig'), params.get('context'))
        return cache['client']
    return factory


def _core_v1(factory):
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    return k8s_client.CoreV1Api(factory())


def _check_common(params):
    backup_set, _storage, _crypto = _modules()
    config = storage_config(params)
    zone = params.get('zone')
    if zone is not None:
        try:
            backup_set.zone_prefix(params['prefix'], zone)
        except ValueError as exc:
            raise ValueError('zone: %s' % exc) from None
    if params.get('set_id') and params['set_id'] != 'latest' and backup_set.set_id_time(params['set_id']) is None:
        raise ValueError('set_id must look like 20260121T100000Z (optionally with -abcdef), got %r' % params['set_id'])
    return config


def _open(params, config):
    store, credentials = open_store_from_params(params, config)
    return store, credential_values(credentials)


# -- backup ---------------------------------------------------------------------------------------------------------

def _plan_backup(params, factory):
    """SourceItems of the set, read from the sources (secrets and Helm values are read now, dumps stay lazy)."""
    backup_set = _modules()[0]
    sources = params.get('sources') or {}
    namespace = params.get('namespace') or 'kfuse'
    items = []
    needs_kube = sources.get('secrets') or sources.get('helm_releases')
    core_v1 = _core_v1(factory) if needs_kube else None
    for position, selection in enumerate(sources.get('secrets') or []):
        if not selection.get('name') and not selection.get('label_selector'):
            raise ValueError('sources.secrets[%d] needs a name or a label_selector' % position)
    if sources.get('secrets'):
        items.extend(collect_secrets(core_v1, sources['secrets'], namespace))
    for release in sources.get('helm_releases') or []:
        items.append(helm_values_item(core_v1, release['name'], release.get('namespace') or namespace))
    for spec in sources.get('files') or []:
        items.append(file_item(spec['path'], spec.get('name')))
    for position, spec in enumerate(sources.get('databases') or []):
        check_database_spec(spec, 'sources.databases[%d]' % position)
        items.append(database_item(spec, factory))
    if not items:
        raise ValueError('sources: nothing to back up (the secrets selections matched nothing and no other source '
                         'was given)' if sources.get('secrets') else 'sources: give at least one of secrets, '
                         'helm_releases, files or databases')
    seen = set()
    for item in items:
        try:
            key = backup_set.object_key(item.kind, item.name)
        except ValueError as exc:
            raise ValueError('sources: %s' % exc) from None
        if key in seen:
            raise ValueError('sources: %s %r is listed twice' % (item.kind, item.name))
        seen.add(key)
        item.key = key
    return items


def decide_encryption(mode, has_secrets, passphrase):
    """Whether to encrypt; ValueError naming encryption_passphrase when it is needed and missing."""
    if mode not in ENCRYPT_CHOICES:
        raise ValueError('encrypt must be one of %s, got %r' % (', '.join(ENCRYPT_CHOICES), mode))
    if mode == 'never':
        return False
    if mode == 'always' and not passphrase:
        raise ValueError('encrypt=always needs encryption_passphrase')
    if has_secrets and not passphrase:
        raise ValueError('the set holds Kubernetes secrets, so it is encrypted (encrypt=auto): encryption_passphrase '
                         'is required, or set encrypt=never to store them in clear')
    return bool(passphrase)


def _source_info(params, factory, items):
    if not any(item.kind in ('secret', 'helm_values') for item in items):
        return {}
    info = {'kube_context': params.get('context'), 'namespace': params.get('namespace') or 'kfuse'}
    try:
        info['cluster'] = factory().configuration.host
    except Exception:  # pylint: disable=broad-exception-caught
        info['cluster'] = None  # informational only
    return info


def _tools(items):
    tools = {'kfuse.failover': COLLECTION_VERSION}
    if any(item.kind == 'postgres' and item.meta.get('via') == 'dsn' for item in items):
        try:
            tools['pg_dump'] = _postgres().tool_version('pg_dump')
        except Exception:  # pylint: disable=broad-exception-caught
            tools['pg_dump'] = None  # informational only; the dump itself reports a missing tool
    return tools


def run_backup(params, check_mode=False, now=None):
    """Write one backup set (see the backup module); returns the module result."""
    backup_set = _modules()[0]
    started = _monotonic()
    secrets = [params.get('encryption_passphrase')]
    try:
        config = _check_common(params)
        keep_last, max_age = params.get('keep_last'), params.get('max_age')
        if keep_last is not None and keep_last < 1:
            raise ValueError('keep_last must be 1 or more, got %s' % keep_last)
        if max_age is not None:
            backup_set.parse_duration(max_age, 'max_age')
        backup_set.parse_duration(params.get('incomplete_after') or backup_set.DEFAULT_INCOMPLETE_AFTER, 'incomplete_after')
        sources = params.get('sources') or {}
        if not any(sources.get(name) for name in ('secrets', 'helm_releases', 'files', 'databases')):
            raise ValueError('sources: give at least one of secrets, helm_releases, files or databases')
        has_secrets = bool(sources.get('secrets'))
        encrypt = decide_encryption(params.get('encrypt') or 'auto', has_secrets, params.get('encryption_passphrase'))
        factory = _api_client_factory(params)
        items = _plan_backup(params, factory)
        has_secrets = any(item.kind == 'secret' for item in items)
        encrypt = decide_encryption(params.get('encrypt') or 'auto', has_secrets, params.get('encryption_passphrase'))
        store, credential_text = _open(params, config)
        secrets += credential_text
        set_id = params.get('set_id') or backup_set.new_set_id(now, unique=bool(params.get('unique_set_id')))
        location = backup_set.set_prefix(params['prefix'], params['zone'], set_id)
        planned = [dict(item.describe(), key=item.key + (backup_set.ENCRYPTED_SUFFIX if encrypt else ''),
                        encrypted=encrypt) for item in items]
        if check_mode:
            if store.head(location + backup_set.WRITER_NAME) is not None:
                raise ValueError('set_id: backup set %s already exists' % location)
            return {'changed': True, 'set_id': set_id, 'prefix': location, 'encrypted': encrypt, 'objects': planned,
                    'pruned': [], 'elapsed': round(_monotonic() - started, 2)}
        sse = _sse_for(params, config)
        with backup_set.BackupSetWriter(store, params['prefix'], params['zone'], set_id=set_id,
                                        passphrase=params.get('encryption_passphrase'), encrypt=encrypt, sse=sse,
                                        source=_source_info(params, factory, items), tools=_tools(items),
                                        now=now) as writer:
            for item in items:
                with item.open() as reader:
                    writer.add(item.kind, item.name, reader, meta=item.meta)
            manifest = writer.commit()
        result = {'changed': True, 'set_id': set_id, 'prefix': location, 'encrypted': encrypt,
                  'objects': [{'kind': e['kind'], 'name': e['name'], 'key': e['key'], 'size': e['size'],
                               'plain_size': e['plain_size'], 'sha256': e['sha256']} for e in manifest['objects']],
                  'manifest': manifest, 'pruned': [], 'retention': None, 'verified': None}
        if params.get('verify', True) or keep_last is not None or max_age is not None:
            written = backup_set.load_set(store, params['prefix'], params['zone'], set_id)
            verification = backup_set.verify_set(store, written, params.get('encryption_passphrase'))
            result['verified'] = verification['ok']
            if not verification['ok']:
                raise TaskFailed('the new backup set %s does not verify: %s' % (set_id, ', '.join(verification['failed'])),
                                 verification=verification, set_id=set_id)
            if keep_last is not None or max_age is not None:
                sets = backup_set.list_sets(store, params['prefix'], params['zone'])
                plan = backup_set.plan_retention(sets, keep_last=keep_last, max_age=max_age, now=now,
                                                 verified_latest=set_id,
                                                 incomplete_after=params.get('incomplete_after') or backup_set.DEFAULT_INCOMPLETE_AFTER,
                                                 prune_incomplete=bool(params.get('prune_incomplete')))
                pruned = backup_set.prune(store, plan)
                result['pruned'] = pruned['pruned']
                result['retention'] = {'kept': [item['set_id'] for item in plan['keep']], 'blocked': plan['blocked'],
                                       'stale_incomplete': [item['set_id'] for item in plan['incomplete']],
                                       'deleted_objects': pruned['deleted_objects']}
        result['elapsed'] = round(_monotonic() - started, 2)
        return result
    except TaskFailed:
        raise
    except _task_errors() as exc:
        raise _fail_from(exc, secrets) from None


def _sse_for(params, config):
    sse = params.get('server_side_encryption') or {}
    own = sse.get(config['type'])
    return {config['type']: own} if own else None


def _monotonic():
    import time  # pylint: disable=import-outside-toplevel
    return time.monotonic()


# -- backup_info ----------------------------------------------------------------------------------------------------

def _age(moment, now):
    return round((now - moment).total_seconds(), 1) if moment is not None else None


def freshness(store, pattern, zone, now, max_age=None):
    """Newest object under ``pattern`` (``{zone}`` replaced) and its age; ``stale`` when older than max_age."""
    backup_set = _modules()[0]
    prefix = pattern.replace('{zone}', zone)
    newest = None
    count = 0
    for info in store.list(prefix):
        count += 1
        if info.last_modified is not None and (newest is None or info.last_modified > newest.last_modified):
            newest = info
    result = {'zone': zone, 'prefix': prefix, 'objects': count, 'newest_key': newest.key if newest else None,
              'newest_time': backup_set.format_time(newest.last_modified) if newest else None,
              'age_seconds': _age(newest.last_modified, now) if newest else None, 'max_age': max_age, 'stale': None}
    if max_age is not None:
        limit = backup_set.parse_duration(max_age, 'az_backups.max_age')
        result['max_age_seconds'] = limit
        result['stale'] = newest is None or result['age_seconds'] > limit
    return result


def run_info(params, now=None):
    """List sets, verify one, report ages and az-service freshness (see the backup_info module)."""
    backup_set = _modules()[0]
    secrets = [params.get('encryption_passphrase')]
    now = now or backup_set.utcnow()
    try:
        config = _check_common(params)
        az_backups = params.get('az_backups')
        if az_backups:
            if az_backups.get('max_age') is not None:
                backup_set.parse_duration(az_backups['max_age'], 'az_backups.max_age')
            if not az_backups.get('prefix'):
                raise ValueError('az_backups.prefix must not be empty')
        store, credential_text = _open(params, config)
        secrets += credential_text
        sets = backup_set.list_sets(store, params['prefix'], params.get('zone'))
        with_manifests = params.get('manifests', True)
        complete = [item for item in sets if item.complete]
        newest = complete[-1] if complete else None
        result = {'changed': False,
                  'sets': [dict(item.as_dict(with_manifest=with_manifests and item.complete)) for item in sets],
                  'complete': [item.set_id for item in complete],
                  'incomplete': [item.set_id for item in sets if item.status == backup_set.STATUS_INCOMPLETE],
                  'invalid': [item.set_id for item in sets if item.status == backup_set.STATUS_INVALID],
                  'latest': newest.as_dict(with_manifest=False) if newest else None,
                  'latest_age_seconds': _age(newest.created, now) if newest else None,
                  'verification': None, 'az_backups': None}
        if params.get('verify'):
            wanted = params['verify']
            if wanted == 'latest':
                chosen = newest
                if chosen is None:
                    raise TaskFailed('verify=latest: there is no complete backup set under %s' % _where(params), **result)
            else:
                matching = [item for item in sets if item.set_id == wanted]
                if not matching or not matching[0].complete:
                    state = matching[0].status if matching else 'not found'
                    raise TaskFailed('verify: backup set %s is %s under %s' % (wanted, state, _where(params)), **result)
                chosen = matching[0]
            verification = backup_set.verify_set(store, chosen, params.get('encryption_passphrase'))
            result['verification'] = verification
            if not verification['ok']:
                details = ['%s (%s)' % (o['key'], o['error']) for o in verification['objects'] if not o['ok']]
                raise TaskFailed('backup set %s failed verification: %s' % (chosen.set_id, '; '.join(details)), **result)
        if az_backups:
            zone = az_backups.get('zone') or params.get('zone')
            if not zone:
                raise ValueError('az_backups.zone is required when zone is not set')
            result['az_backups'] = freshness(store, az_backups['prefix'], zone, now, az_backups.get('max_age'))
            if result['az_backups']['stale']:
                fresh = result['az_backups']
                raise TaskFailed('az-service backups of zone %s are stale: newest object under %s is %s (max_age %s)'
                                 % (zone, fresh['prefix'], '%s seconds old' % fresh['age_seconds']
                                    if fresh['newest_key'] else 'missing', az_backups['max_age']), **result)
        return result
    except TaskFailed:
        raise
    except _task_errors() as exc:
        raise _fail_from(exc, secrets) from None


def _where(params):
    return '%s/%s' % (params['prefix'].strip('/'), params['zone']) if params.get('zone') else params['prefix']


# -- backup_restore -------------------------------------------------------------------------------------------------

def _choose_set(store, params):
    backup_set = _modules()[0]
    wanted = params.get('set_id') or 'latest'
    if wanted == 'latest':
        chosen = backup_set.latest_complete(store, params['prefix'], params['zone'])
        if chosen is None:
            raise TaskFailed('there is no complete backup set under %s' % _where(params))
        return chosen
    chosen = backup_set.load_set(store, params['prefix'], params['zone'], wanted)
    if not chosen.complete:
        raise TaskFailed('backup set %s under %s is %s (%s); it cannot be restored'
                         % (wanted, _where(params), chosen.status, chosen.error))
    return chosen


def _checked_stream(store, chosen, entry, passphrase):
    """Plaintext chunks of ``entry``; a tampered or corrupted object fails naming its key."""
    backup_set, _storage, _crypto = _modules()
    try:
        yield from backup_set.open_object(store, chosen, entry, passphrase)
    except (_crypto.DecryptionError, backup_set.IntegrityError) as exc:
        raise TaskFailed('object %s of backup set %s failed its integrity check, nothing more is restored from it: %s'
                         % (entry['key'], chosen.set_id, exc), set_id=chosen.set_id) from None


def _read_all(store, chosen, entry, passphrase):
    return b''.join(_checked_stream(store, chosen, entry, passphrase))


def _wanted_secret(entry, names):
    if names is None:
        return True
    namespace, _sep, name = entry['name'].partition('/')
    return entry['name'] in names or name in names or '%s/%s' % (namespace, name) in names


def _write_local(path, data, check_mode):
    """Write ``data`` to ``path`` (mode 0600) unless identical; returns whether it changed."""
    if os.path.exists(path):
        with open(path, 'rb') as handle:
            if handle.read() == data:
                return False
    if not check_mode:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        descriptor = os.open(path + '.part', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, 'wb') as handle:
            handle.write(data)
        os.replace(path + '.part', path)
    return True


def run_restore(params, check_mode=False):
    """Restore secrets, databases and (optionally) Helm values and files from a set (see backup_restore)."""
    backup_set = _modules()[0]
    passphrase = params.get('encryption_passphrase')
    secrets = [passphrase]
    try:
        config = _check_common(params)
        databases = params.get('databases') or []
        for position, spec in enumerate(databases):
            check_database_spec(spec, 'databases[%d]' % position)
        store, credential_text = _open(params, config)
        secrets += credential_text
        chosen = _choose_set(store, params)
        # The key is checked before anything is read or written, so a wrong passphrase restores nothing.
        if chosen.encrypted:
            if not passphrase:
                raise TaskFailed('backup set %s is encrypted: encryption_passphrase is required' % chosen.set_id,
                                 set_id=chosen.set_id)
            backup_set.unlock(chosen, passphrase)
        entries = chosen.entries()
        result = {'changed': False, 'set_id': chosen.set_id, 'prefix': chosen.prefix, 'secrets': [], 'databases': [],
                  'files': []}
        for spec in databases:
            matching = [e for e in entries if e['kind'] == 'postgres' and e['name'] == spec['name']]
            if not matching:
                present = ', '.join(e['name'] for e in entries if e['kind'] == 'postgres') or 'none'
                raise TaskFailed('databases: backup set %s has no dump of database %s (dumps: %s)'
                                 % (chosen.set_id, spec['name'], present), **result)
        names = params.get('secrets')
        secret_entries = [e for e in entries if e['kind'] == 'secret' and _wanted_secret(e, names)] \
            if params.get('restore_secrets', True) else []
        # Every secret is read, checked and decrypted before the first one is applied: all or nothing.
        payloads = [json.loads(_read_all(store, chosen, e, passphrase).decode('utf-8')) for e in secret_entries]
        if payloads:
            factory = _api_client_factory(params)
            result['secrets'] = apply_secrets(_core_v1(factory), payloads, namespace=params.get('namespace'),
                                              overwrite=bool(params.get('overwrite')), check_mode=check_mode)
        if params.get('dest'):
            for entry in entries:
                if entry['kind'] not in ('helm_values', 'file'):
                    continue
                relative = backup_set.object_key(entry['kind'], entry['name'])
                path = os.path.join(params['dest'], relative)
                changed = _write_local(path, _read_all(store, chosen, entry, passphrase), check_mode)
                result['files'].append({'kind': entry['kind'], 'name': entry['name'], 'path': path, 'changed': changed})
        for spec in databases:
            entry = [e for e in entries if e['kind'] == 'postgres' and e['name'] == spec['name']][0]
            report = {'name': spec['name'], 'target_database': spec.get('target_database') or spec['name'],
                      'size': entry['plain_size'], 'clean': bool(spec.get('clean')), 'action': 'restored'}
            if check_mode:
                report['action'] = 'would restore'
            else:
                outcome = restore_database(spec, _checked_stream(store, chosen, entry, passphrase),
                                           _api_client_factory(params))
                report['warnings'] = outcome.get('warnings', [])
            result['databases'].append(report)
        result['changed'] = (any(r['action'] in ('created', 'replaced') for r in result['secrets'])
                             or bool(result['databases']) or any(f['changed'] for f in result['files']))
        return result
    except TaskFailed:
        raise
    except _task_errors() as exc:
        raise _fail_from(exc, secrets) from None
