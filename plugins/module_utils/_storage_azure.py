# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure Blob backend of ObjectStore (azure-storage-blob).

Small objects go up with one Put Blob; larger ones as staged blocks of ``part_size`` committed with one
Put Block List, which carries the ``If-None-Match: *`` precondition of a conditional create.
"""

from __future__ import annotations

import os
import traceback
from urllib.parse import urlparse

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError
from ansible_collections.kfuse.failover.plugins.module_utils._streams import rechunk
from ansible_collections.kfuse.failover.plugins.module_utils.storage import (
    DEFAULT_CONCURRENCY, ObjectInfo, ObjectStore, StorageError, VersionedBytes, normalise_prefix, one_line, split_first_part,
    upload_parts)

try:
    from azure.core import MatchConditions
    from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
    from azure.storage.blob import BlobPrefix, BlobServiceClient, ContentSettings
    HAS_LIBRARY = True
    IMPORT_ERROR = None
except ImportError:
    HAS_LIBRARY = False
    IMPORT_ERROR = traceback.format_exc()

    class AzureError(Exception):
        """Stand-in so except clauses stay valid without azure-core."""

    class HttpResponseError(AzureError):
        """Stand-in so except clauses stay valid without azure-core."""

    class ResourceExistsError(HttpResponseError):
        """Stand-in so except clauses stay valid without azure-core."""

    class ResourceNotFoundError(HttpResponseError):
        """Stand-in so except clauses stay valid without azure-core."""

try:
    from azure.identity import DefaultAzureCredential
    HAS_AZURE_IDENTITY = True
except ImportError:
    HAS_AZURE_IDENTITY = False

MAX_BLOCKS = 50000
# Downloads come in pieces of this size, so a read never holds a large first chunk.
DOWNLOAD_PIECE = 4 * 1024 * 1024


def open_backend(config, credentials=None, sse=None, validate_certs=True, ca_path=None, timeout=60):
    """An AzureStore for a validated cloud_storage dict."""
    account_url = config['azure'].get('account_url') or config.get('endpoint_url')
    return AzureStore(config['azure']['container'], account_url=account_url, credentials=credentials, sse=sse,
                      validate_certs=validate_certs, ca_path=ca_path, timeout=timeout)


def parse_connection_string(text):
    """The key=value pairs of an Azure storage connection string (keys as written, values unparsed)."""
    pairs = {}
    for item in text.strip().strip(';').split(';'):
        if not item.strip():
            continue
        name, sep, value = item.partition('=')
        if not sep:
            raise OptionError('connection string segment without "=" (expected Name=Value pairs separated by ";")')
        pairs[name.strip()] = value.strip()
    return pairs


def account_name_from_url(account_url):
    """The storage account of an account URL: first host label, or first path segment for IP/localhost hosts."""
    parsed = urlparse(account_url)
    host = parsed.hostname or ''
    if host in ('localhost',) or host.replace('.', '').isdigit() or ':' in host:
        return parsed.path.strip('/').split('/')[0] or None
    return host.split('.')[0] or None


class AzureStore(ObjectStore):
    """One Azure Blob container."""

    provider = 'azure'
    # Blocks of one blob staged at once; each holds part_size bytes in memory.
    max_concurrency = DEFAULT_CONCURRENCY

    def __init__(self, container, account_url=None, credentials=None, sse=None, validate_certs=True, ca_path=None,
                 timeout=60, max_concurrency=None):
        self.container = container
        if max_concurrency is not None:
            self.max_concurrency = max(1, int(max_concurrency))
        self._timeout = timeout
        self._encryption_scope = (sse or {}).get('encryption_scope')
        credentials = credentials or {}
        client_options = {'connection_verify': (ca_path or True) if validate_certs else False,
                          'connection_timeout': min(timeout, 30), 'read_timeout': timeout,
                          'max_single_get_size': DOWNLOAD_PIECE, 'max_chunk_get_size': DOWNLOAD_PIECE}
        try:
            self._service = self._build_service(account_url, credentials, client_options)
        except (OptionError, ValueError, TypeError, AzureError) as exc:
            raise self._error('cannot set up the Azure Blob client: %s' % one_line(exc),
                              code='InvalidConfig') from None
        self._container = self._service.get_container_client(container)

    def _build_service(self, account_url, credentials, client_options):
        connection_string = credentials.get('connection_string')
        if connection_string:
            if not account_url:
                return BlobServiceClient.from_connection_string(connection_string, **client_options)
            pairs = parse_connection_string(connection_string)
            name, key, sas = pairs.get('AccountName'), pairs.get('AccountKey'), pairs.get('SharedAccessSignature')
            if key:
                credential = {'account_name': name or account_name_from_url(account_url), 'account_key': key}
            elif sas:
                credential = sas
            else:
                raise OptionError('the connection string has neither AccountKey nor SharedAccessSignature')
            return BlobServiceClient(account_url, credential=credential, **client_options)
        if not account_url:
            raise OptionError('cloud_storage.azure.account_url (or endpoint_url) is required unless the credentials '
                              'are a connection string')
        if credentials.get('account_key'):
            name = credentials.get('account_name') or account_name_from_url(account_url)
            credential = {'account_name': name, 'account_key': credentials['account_key']}
        elif credentials.get('sas_token'):
            credential = credentials['sas_token'].lstrip('?')
        elif not credentials:
            if not HAS_AZURE_IDENTITY:
                raise StorageError('ambient Azure credentials need the azure-identity Python library '
                                   '(pip install azure-identity)', provider='azure', code='MissingLibrary',
                                   container=self.container)
            credential = DefaultAzureCredential()
        else:
            raise OptionError('Azure credentials accept connection_string, account_key (+ account_name) or sas_token')
        return BlobServiceClient(account_url, credential=credential, **client_options)

    # ---- error translation ---------------------------------------------------------------------------------

    def _translate(self, exc, key=None, action=None):
        code = getattr(exc, 'error_code', None)
        code = getattr(code, 'value', code) or (
            str(exc.status_code) if getattr(exc, 'status_code', None) else type(exc).__name__)
        message = getattr(exc, 'message', None) or str(exc)
        # A SAS signature can also show up URL-encoded inside a request URL.
        message = one_line(message)
        if action:
            message = '%s failed: %s' % (action, message)
        return self._error(message, code=str(code), key=key)

    @staticmethod
    def _is_conflict(exc):
        return isinstance(exc, ResourceExistsError) or getattr(exc, 'status_code', None) in (409, 412)

    # ---- operations ----------------------------------------------------------------------------------------

    def put(self, key, source, metadata=None, content_type='application/octet-stream', if_absent=False,
            part_size=8 * 1024 * 1024):
        self._check_put(key, metadata, part_size)
        blob = self._container.get_blob_client(key)
        settings = ContentSettings(content_type=content_type)
        scope = {'encryption_scope': self._encryption_scope} if self._encryption_scope else {}
        single, parts = split_first_part(source, part_size)
        try:
            if parts is None:
                # overwrite=False sends If-None-Match: * (a conditional create).
                blob.upload_blob(single, length=len(single), overwrite=not if_absent, metadata=metadata or None,
                                 content_settings=settings, timeout=self._timeout, **scope)
                return self.head(key)
            if if_absent and self.head(key) is not None:
                raise self._already_exists(key)
            # Block ids must have one length within a blob; a random token keeps parallel writers apart.
            token = os.urandom(6).hex()

            def stage(index, part):
                if index > MAX_BLOCKS:
                    raise self._error('more than %d blocks: use a larger part_size' % MAX_BLOCKS, code='TooManyParts',
                                      key=key)
                block_id = '%s-%06d' % (token, index)
                blob.stage_block(block_id, part, length=len(part), timeout=self._timeout, **scope)
                return block_id

            block_ids = upload_parts(parts, stage, self.max_concurrency)
            condition = {'match_condition': MatchConditions.IfMissing} if if_absent else {}
            blob.commit_block_list(block_ids, content_settings=settings, metadata=metadata or None,
                                   timeout=self._timeout, **dict(condition, **scope))
        except HttpResponseError as exc:
            if if_absent and self._is_conflict(exc):
                raise self._already_exists(key) from None
            raise self._translate(exc, key=key, action='upload') from None
        except AzureError as exc:
            raise self._translate(exc, key=key, action='upload') from None
        return self.head(key)

    # ---- conditional writes (If-None-Match: * / If-Match on Put Blob) -----------------------------------------

    def _reading(self, key, read=None):
        """download_blob (and ``read(downloader)``), a missing blob as NotFound, other errors translated."""
        try:
            downloader = self._container.get_blob_client(key).download_blob(max_concurrency=1, timeout=self._timeout)
            return downloader, (read(downloader) if read else None)
        except ResourceNotFoundError as exc:
            if getattr(exc, 'error_code', None) in (None, 'BlobNotFound'):
                raise self._error('object not found', code='NotFound', key=key) from None
            raise self._translate(exc, key=key, action='read') from None
        except AzureError as exc:
            raise self._translate(exc, key=key, action='read') from None

    def read_versioned(self, key):
        downloader, data = self._reading(key, lambda found: found.readall())
        # Later pieces of a download are pinned to the first one's ETag by the SDK, so bytes and ETag belong together.
        return VersionedBytes(data, downloader.properties.etag)

    def put_if_absent(self, key, data, metadata=None, content_type='application/octet-stream'):
        data = self._check_conditional(key, data, metadata)
        return self._conditional_put(key, data, metadata, content_type, {'overwrite': False},
                                     lambda: self._already_exists(key))

    def put_if_unchanged(self, key, data, version, metadata=None, content_type='application/octet-stream'):
        data = self._check_conditional(key, data, metadata, version, replace=True)
        condition = {'overwrite': True, 'etag': version, 'match_condition': MatchConditions.IfNotModified}
        return self._conditional_put(key, data, metadata, content_type, condition, lambda: self._changed(key, version))

    def _conditional_put(self, key, data, metadata, content_type, condition, lost):
        scope = {'encryption_scope': self._encryption_scope} if self._encryption_scope else {}
        try:
            # overwrite=False sends If-None-Match: *; etag + IfNotModified sends If-Match.
            response = self._container.get_blob_client(key).upload_blob(
                data, length=len(data), metadata=metadata or None, content_settings=ContentSettings(content_type=content_type),
                timeout=self._timeout, **dict(condition, **scope))
        except HttpResponseError as exc:
            missing_blob = isinstance(exc, ResourceNotFoundError) and getattr(exc, 'error_code', None) in (None, 'BlobNotFound')
            if self._is_conflict(exc) or ('etag' in condition and missing_blob):
                raise lost() from None
            raise self._translate(exc, key=key, action='conditional upload') from None
        except AzureError as exc:
            raise self._translate(exc, key=key, action='conditional upload') from None
        return response['etag']

    def head(self, key):
        try:
            properties = self._container.get_blob_client(key).get_blob_properties(timeout=self._timeout)
        except ResourceNotFoundError as exc:
            if getattr(exc, 'error_code', None) in (None, 'BlobNotFound'):
                if getattr(exc, 'error_code', None) is None:
                    self._container_check(key)
                return None
            raise self._translate(exc, key=key, action='head') from None
        except AzureError as exc:
            raise self._translate(exc, key=key, action='head') from None
        return self._info(properties)

    def _container_check(self, key=None):
        try:
            self._container.get_container_properties(timeout=self._timeout)
        except AzureError as exc:
            raise self._translate(exc, key=key, action='checking the container') from None

    @staticmethod
    def _info(properties):
        return ObjectInfo(properties.name, properties.size or 0, (properties.etag or '').strip('"'),
                          properties.last_modified, dict(properties.metadata or {}))

    def iter_read(self, key, chunk_size=1024 * 1024):
        return self._stream(self._reading(key)[0], key, chunk_size)

    def _stream(self, downloader, key, chunk_size):
        try:
            yield from rechunk(downloader.chunks(), chunk_size)
        except AzureError as exc:
            raise self._translate(exc, key=key, action='read') from None

    def list(self, prefix=''):
        try:
            for properties in self._container.list_blobs(name_starts_with=prefix or None, include=['metadata'],
                                                         results_per_page=self.page_size, timeout=self._timeout):
                yield self._info(properties)
        except AzureError as exc:
            raise self._translate(exc, action='list') from None

    def list_prefixes(self, prefix, delimiter='/'):
        prefix = normalise_prefix(prefix, delimiter)
        found = []
        try:
            for item in self._container.walk_blobs(name_starts_with=prefix or None, delimiter=delimiter,
                                                   results_per_page=self.page_size, timeout=self._timeout):
                if isinstance(item, BlobPrefix):
                    found.append(item.name)
        except AzureError as exc:
            raise self._translate(exc, action='list') from None
        return sorted(found)

    def delete(self, key):
        try:
            self._container.get_blob_client(key).delete_blob(delete_snapshots='include', timeout=self._timeout)
        except ResourceNotFoundError as exc:
            if getattr(exc, 'error_code', None) in (None, 'BlobNotFound'):
                return False
            raise self._translate(exc, key=key, action='delete') from None
        except AzureError as exc:
            raise self._translate(exc, key=key, action='delete') from None
        return True
