# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One object-storage interface for S3, GCS and Azure Blob (see docs/backup-design.md).

``open_store()`` builds an ``ObjectStore`` from the chart's ``global.cloudStorage`` dict shape plus credentials
from ``_credentials.resolve()``. Every backend error surfaces as ``StorageError`` carrying the provider's code and
a one-line message, never a stack trace and never a credential.

Small objects can also be written conditionally, as a compare-and-swap on the object's version token
(``read_versioned``, ``put_if_absent``, ``put_if_unchanged``): S3 ETag with ``If-None-Match: *`` / ``If-Match``,
GCS generation with ``ifGenerationMatch=0`` / ``ifGenerationMatch=<generation>``, Azure ETag with
``If-None-Match: *`` / ``If-Match``. The write that loses a race raises ``PreconditionFailed`` naming the key.
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading

from ansible_collections.kfuse.failover.plugins.module_utils._streams import as_reader, read_full
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError, PreconditionFailed, StorageError

ObjectInfo = collections.namedtuple('ObjectInfo', 'key size etag last_modified metadata')
# An object's bytes and the version token they were read at (S3/Azure ETag, GCS generation), for put_if_unchanged.
VersionedBytes = collections.namedtuple('VersionedBytes', 'data version')

PROVIDERS = ('s3', 'gcs', 'azure')
DEFAULT_PART_SIZE = 8 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 1024 * 1024
# Parts uploaded at once by backends that upload parts (S3 multipart, Azure staged blocks).
DEFAULT_CONCURRENCY = 4
# Conditional writes are single requests of small objects (records, locks).
MAX_CONDITIONAL_SIZE = 5 * 1024 * 1024

# The Python library each backend needs, for the "missing library" message.
REQUIRED_LIBRARIES = {'s3': 'boto3', 'gcs': 'google-cloud-storage', 'azure': 'azure-storage-blob'}


def missing_library_message(provider):
    """Which Python library ``provider`` needs, worded for fail_json."""
    library = REQUIRED_LIBRARIES.get(provider, provider)
    return ('the %s Python library is required for cloud_storage.type=%s; install it on the host that runs the '
            'module (pip install %s)' % (library, provider, library))


def _backend(provider):
    # Backends import this module, so they are imported on demand here (no import cycle at load time).
    if provider == 's3':
        from ansible_collections.kfuse.failover.plugins.module_utils import _storage_s3 as backend
    elif provider == 'gcs':
        from ansible_collections.kfuse.failover.plugins.module_utils import _storage_gcs as backend
    else:
        from ansible_collections.kfuse.failover.plugins.module_utils import _storage_azure as backend
    return backend


def one_line(text, limit=500):
    """The first non-empty line of ``text``, trimmed: provider messages can be multi-line dumps.

    A line that ends with ':' announces what follows (botocore's "Parameter validation failed:"), so the lines after
    it are kept too, joined with ' '.
    """
    kept = []
    for line in str(text).splitlines():
        line = line.strip()
        if not line:
            continue
        kept.append(line)
        if not line.endswith(':'):
            break
    line = ' '.join(kept)
    return line if len(line) <= limit else line[:limit] + '...'


def iter_parts(source, part_size):
    """Yield (index, part, is_last) over ``source``; reading one part ahead tells the last part.

    Each part is read straight into its own bytes object (no re-slicing or concatenation of full parts), so the
    generator holds the part it yields plus the next one. The first part with is_last=True means the data fits
    a single request.
    """
    reader = as_reader(source)
    index = 1
    part = read_full(reader, part_size)
    while True:
        following = read_full(reader, part_size) if len(part) == part_size else b''
        yield index, part, not following
        if not following:
            return
        part = following
        del following
        index += 1


def split_first_part(source, part_size):
    """(single, parts) for ``source``: ``single`` is all the data when it fits one part (and ``parts`` None);
    otherwise ``single`` is None and ``parts`` yields every (index, part, is_last), the first part included."""
    parts = iter_parts(source, part_size)
    first = next(parts)
    if first[2]:
        return first[1], None
    pending = [first]
    del first
    return None, _chain_pending(pending, parts)


def _chain_pending(pending, parts):
    # pop() so this generator keeps no reference to a part it has handed out.
    while pending:
        yield pending.pop()
    yield from parts


def upload_parts(parts, upload, max_concurrency=DEFAULT_CONCURRENCY):
    """Call ``upload(index, part)`` for every (index, part, is_last) of ``parts``, up to ``max_concurrency`` at once.

    Returns the results in index order. The next part is read only once a slot is free, so at most
    ``max_concurrency`` parts are uploading plus the one ``parts`` reads ahead. The first error (of an upload or of
    reading ``parts``) stops reading, lets the uploads in flight finish, and is re-raised.
    """
    max_concurrency = max(1, int(max_concurrency))
    slots = threading.Semaphore(max_concurrency)
    failed = threading.Event()
    errors = []
    futures = []

    def run(index, holder):
        # The part travels in a list the task empties, so the executor's work item does not keep it alive:
        # it is freed before the slot is released.
        part = holder.pop()
        try:
            if failed.is_set():
                return None
            return upload(index, part)
        except BaseException as exc:  # pylint: disable=broad-exception-caught
            # Kept for the caller's thread; the first one wins.
            errors.append(exc)
            failed.set()
            return None
        finally:
            del part
            slots.release()

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix='kfuse-upload')
    try:
        while True:
            slots.acquire()
            if failed.is_set():
                break
            item = next(parts, None)
            if item is None:
                break
            index, part, _is_last = item
            del item
            holder = [part]
            del part
            futures.append(pool.submit(run, index, holder))
            del holder
    except BaseException:
        failed.set()
        raise
    finally:
        # After a failure, queued parts are dropped; either way, no upload runs once this returns.
        pool.shutdown(wait=True, cancel_futures=failed.is_set())
    if errors:
        raise errors[0]
    return [future.result() for future in futures]


class ObjectStore:
    """What every backend implements. Keys are '/'-separated names inside ``container``."""

    provider = None
    container = None
    page_size = 1000

    def put(self, key, source, metadata=None, content_type='application/octet-stream', if_absent=False,
            part_size=DEFAULT_PART_SIZE):
        """Store ``source`` (bytes or a binary file-like) under ``key``; returns the new ObjectInfo.

        Larger than ``part_size``: multipart (S3), resumable (GCS) or staged blocks (Azure). GCS holds about two
        parts in memory; S3 and Azure upload ``max_concurrency`` parts at once and hold about one more than that.
        ``if_absent``: PreconditionFailed (a StorageError) with code='AlreadyExists' when ``key`` exists.
        """
        raise NotImplementedError

    def iter_read(self, key, chunk_size=DEFAULT_CHUNK_SIZE):
        """Iterator of byte chunks of ``key``; StorageError(code='NotFound') when it is missing."""
        raise NotImplementedError

    def read_bytes(self, key):
        """The whole object (small objects only: manifests, markers)."""
        return b''.join(self.iter_read(key))

    def head(self, key):
        """ObjectInfo of ``key`` or None when it does not exist."""
        raise NotImplementedError

    def list(self, prefix=''):
        """Iterator of ObjectInfo under ``prefix`` (recursive, every page, in key order)."""
        raise NotImplementedError

    def list_prefixes(self, prefix, delimiter='/'):
        """The "directories" directly under ``prefix``, as full prefixes ending with ``delimiter``."""
        raise NotImplementedError

    def delete(self, key):
        """Delete ``key``; True when it existed."""
        raise NotImplementedError

    def delete_many(self, keys):
        """Delete every key in ``keys``; returns how many of them existed."""
        return sum(1 for key in keys if self.delete(key))

    def read_versioned(self, key):
        """VersionedBytes(data, version) of a small object, both from one consistent read.

        StorageError(code='NotFound') when it is missing. ``version`` is an opaque string for ``put_if_unchanged``.
        """
        raise NotImplementedError

    def put_if_absent(self, key, data, metadata=None, content_type='application/octet-stream'):
        """Create ``key`` with ``data`` (bytes, at most MAX_CONDITIONAL_SIZE) only if no object has that key, in one
        request the server decides atomically; returns the new version token.

        PreconditionFailed(code='AlreadyExists') when the object exists (whoever wrote it first won).
        """
        raise NotImplementedError

    def put_if_unchanged(self, key, data, version, metadata=None, content_type='application/octet-stream'):
        """Replace ``key`` with ``data`` only if it still is at ``version`` (from ``read_versioned`` or a conditional
        put), in one request the server decides atomically; returns the new version token.

        PreconditionFailed(code='PreconditionFailed') when the object changed or no longer exists.
        """
        raise NotImplementedError

    def describe(self):
        """'provider://container' for messages."""
        return '%s://%s' % (self.provider, self.container)

    def _error(self, message, code=None, key=None):
        return StorageError(message, provider=self.provider, code=code, key=key, container=self.container)

    def _already_exists(self, key):
        return PreconditionFailed('object already exists (conditional create)', provider=self.provider,
                                  code='AlreadyExists', key=key, container=self.container)

    def _changed(self, key, version):
        return PreconditionFailed('object is no longer at version %s: it changed or was deleted (conditional replace)'
                                  % version, provider=self.provider, code='PreconditionFailed', key=key,
                                  container=self.container)

    def _check_conditional(self, key, data, metadata, version=None, replace=False):
        """``data`` as bytes, after the checks every conditional write shares."""
        self._check_put(key, metadata, DEFAULT_PART_SIZE)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise self._error('conditional writes take bytes, got %s' % type(data).__name__, code='InvalidConfig',
                              key=key)
        data = bytes(data)
        if len(data) > MAX_CONDITIONAL_SIZE:
            raise self._error('conditional writes are for small objects (at most %d bytes), got %d'
                              % (MAX_CONDITIONAL_SIZE, len(data)), code='InvalidConfig', key=key)
        if replace and (not isinstance(version, str) or not version):
            raise self._error('put_if_unchanged needs the version token read with the object, got %r' % (version,),
                              code='InvalidConfig', key=key)
        return data

    def _check_put(self, key, metadata, part_size):
        if not key or not isinstance(key, str):
            raise self._error('object key must be a non-empty string', code='InvalidConfig')
        if metadata is not None:
            if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                         for k, v in metadata.items()):
                raise self._error('metadata must be a dict of str to str', code='InvalidConfig', key=key)
        if not isinstance(part_size, int) or part_size < 1:
            raise self._error('part_size must be a positive integer', code='InvalidConfig', key=key)


def normalise_prefix(prefix, delimiter):
    """``prefix`` ending with ``delimiter`` (an empty prefix stays empty)."""
    prefix = prefix or ''
    if prefix and not prefix.endswith(delimiter):
        prefix += delimiter
    return prefix


def _require_str(value, path, required=True):
    if value is None or value == '':
        if required:
            raise OptionError('%s is required' % path)
        return None
    if not isinstance(value, str):
        raise OptionError('%s must be a string, got %s' % (path, type(value).__name__))
    return value


def validate_cloud_storage(cloud_storage):
    """Check and normalise the chart's ``global.cloudStorage`` shape; returns a new dict.

    Accepted: type s3|gcs|azure; s3.region + s3.bucket; gcs.bucket; azure.container (+ azure.account_url);
    useSecret/secretName (kept for callers); endpoint_url (S3-compatible stores, emulators). Raises ValueError
    naming the option path and the accepted values.
    """
    if not isinstance(cloud_storage, dict):
        raise OptionError('cloud_storage must be a dict with type s3, gcs or azure, got %s' % type(cloud_storage).__name__)
    kind = cloud_storage.get('type')
    if kind not in PROVIDERS:
        raise OptionError('cloud_storage.type must be one of %s, got %r' % (', '.join(PROVIDERS), kind))
    known = {'type', 'useSecret', 'secretName', 'endpoint_url', 's3', 'gcs', 'azure'}
    unknown = sorted(set(cloud_storage) - known)
    if unknown:
        raise OptionError('cloud_storage has unknown option(s) %s; accepted: %s'
                          % (', '.join(unknown), ', '.join(sorted(known))))
    result = {'type': kind}
    if 'useSecret' in cloud_storage:
        use_secret = cloud_storage['useSecret']
        if isinstance(use_secret, str) and use_secret.lower() in ('true', 'false'):
            use_secret = use_secret.lower() == 'true'
        if not isinstance(use_secret, bool):
            raise OptionError('cloud_storage.useSecret must be a boolean, got %r' % (use_secret,))
        result['useSecret'] = use_secret
    secret_name = _require_str(cloud_storage.get('secretName'), 'cloud_storage.secretName', required=False)
    if secret_name:
        result['secretName'] = secret_name
    endpoint = _require_str(cloud_storage.get('endpoint_url'), 'cloud_storage.endpoint_url', required=False)
    if endpoint:
        if not endpoint.startswith(('http://', 'https://')):
            raise OptionError('cloud_storage.endpoint_url must start with http:// or https://, got %r' % endpoint)
        result['endpoint_url'] = endpoint.rstrip('/')
    section = cloud_storage.get(kind)
    if not isinstance(section, dict):
        raise OptionError('cloud_storage.%s must be a dict (%s), got %s'
                          % (kind, _SECTION_HELP[kind], 'nothing' if section is None else type(section).__name__))
    allowed = _SECTION_KEYS[kind]
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        raise OptionError('cloud_storage.%s has unknown option(s) %s; accepted: %s'
                          % (kind, ', '.join(unknown), ', '.join(allowed)))
    normalised = {}
    for name in allowed:
        value = _require_str(section.get(name), 'cloud_storage.%s.%s' % (kind, name), required=name in _REQUIRED[kind])
        if value is not None:
            normalised[name] = value
    if kind == 's3':
        _check_bucket_name(normalised['bucket'], 'cloud_storage.s3.bucket')
    elif kind == 'gcs':
        _check_bucket_name(normalised['bucket'], 'cloud_storage.gcs.bucket')
    else:
        container = normalised['container']
        if not (3 <= len(container) <= 63) or not all(c.islower() or c.isdigit() or c == '-' for c in container):
            raise OptionError('cloud_storage.azure.container must be 3-63 lowercase letters, digits or hyphens, got %r'
                              % container)
        url = normalised.get('account_url')
        if url and not url.startswith(('http://', 'https://')):
            raise OptionError('cloud_storage.azure.account_url must start with http:// or https://, got %r' % url)
    result[kind] = normalised
    return result


_SECTION_KEYS = {'s3': ('region', 'bucket'), 'gcs': ('bucket', 'project'), 'azure': ('container', 'account_url')}
_REQUIRED = {'s3': ('region', 'bucket'), 'gcs': ('bucket',), 'azure': ('container',)}
_SECTION_HELP = {'s3': 'region and bucket', 'gcs': 'bucket', 'azure': 'container'}


def _check_bucket_name(name, path):
    if not (3 <= len(name) <= 222) or '/' in name or name != name.strip():
        raise OptionError('%s must be a bucket name (3-222 characters, no "/"), got %r' % (path, name))


def open_store(cloud_storage, credentials=None, server_side_encryption=None, validate_certs=True, ca_path=None,
               timeout=60):
    """An ObjectStore for ``cloud_storage`` (the chart's global.cloudStorage shape).

    ``credentials``: the dict ``_credentials.resolve()`` returns, or None for ambient credentials (instance
    role, workload identity, default chain). ``server_side_encryption``: {'s3': {'mode', 'kms_key_id'},
    'gcs': {'kms_key_name'}, 'azure': {'encryption_scope'}}; only the provider's own entry is used.
    Raises ValueError on bad configuration and StorageError when the backend library is missing.
    """
    config = validate_cloud_storage(cloud_storage)
    kind = config['type']
    if credentials is not None and not isinstance(credentials, dict):
        raise OptionError('credentials must be a dict from _credentials.resolve() or None for ambient credentials')
    if server_side_encryption is not None and not isinstance(server_side_encryption, dict):
        raise OptionError('server_side_encryption must be a dict keyed by provider (s3, gcs, azure)')
    sse = (server_side_encryption or {}).get(kind) or None
    if sse is not None and not isinstance(sse, dict):
        raise OptionError('server_side_encryption.%s must be a dict' % kind)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise OptionError('timeout must be a positive number of seconds, got %r' % (timeout,))
    options = {'credentials': credentials, 'sse': sse, 'validate_certs': validate_certs, 'ca_path': ca_path,
               'timeout': timeout}
    # A missing library only matters for the provider in use.
    backend = _backend(kind)
    if not backend.HAS_LIBRARY:
        raise StorageError(missing_library_message(kind), provider=kind, code='MissingLibrary')
    return backend.open_backend(config, **options)
