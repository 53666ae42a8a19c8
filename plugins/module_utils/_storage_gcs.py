# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""GCS backend of ObjectStore (google-cloud-storage).

Objects up to one part (and at most 8 MiB, the library's single-request limit) go up in one request; larger
ones use a resumable upload in ``part_size`` chunks. Conditional create (``if_absent``) of a large object
uploads to a temporary name and then composes it onto the real key with ``ifGenerationMatch=0``: a compose is
one atomic request that honours the precondition everywhere, which resumable uploads do not on every
GCS-compatible server.
"""

from __future__ import annotations

import io
import os
import traceback

from ansible_collections.kfuse.failover.plugins.module_utils._http import PinnedVerifyMixin, new_session
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError
from ansible_collections.kfuse.failover.plugins.module_utils._streams import PrefixedReader, as_reader, read_full
from ansible_collections.kfuse.failover.plugins.module_utils.storage import (
    ObjectInfo, ObjectStore, VersionedBytes, normalise_prefix, one_line)

try:
    import requests
    from google.api_core import exceptions as gapi_exceptions
    from google.api_core.client_options import ClientOptions
    from google.auth import exceptions as gauth_exceptions
    from google.auth.transport.requests import AuthorizedSession, Request as AuthRequest
    from google.cloud import storage as gcs
    HAS_LIBRARY = True
    IMPORT_ERROR = None
    _API_ERRORS = (gapi_exceptions.GoogleAPICallError, gapi_exceptions.RetryError, gauth_exceptions.GoogleAuthError,
                   requests.exceptions.RequestException)
except ImportError:
    HAS_LIBRARY = False
    IMPORT_ERROR = traceback.format_exc()
    _API_ERRORS = ()

try:
    from google.cloud.storage import exceptions as gcs_exceptions
    _API_ERRORS += (gcs_exceptions.InvalidResponse, gcs_exceptions.DataCorruption)
except (ImportError, AttributeError):
    pass

SCOPES = ('https://www.googleapis.com/auth/devstorage.read_write',)
SINGLE_REQUEST_LIMIT = 8 * 1024 * 1024
CHUNK_MULTIPLE = 256 * 1024
READ_WINDOW = 4 * 1024 * 1024


def open_backend(config, credentials=None, sse=None, validate_certs=True, ca_path=None, timeout=60):
    """A GCSStore for a validated cloud_storage dict."""
    return GCSStore(config['gcs']['bucket'], project=config['gcs'].get('project'),
                    endpoint_url=config.get('endpoint_url'), credentials=credentials, sse=sse,
                    validate_certs=validate_certs, ca_path=ca_path, timeout=timeout)


def _build_credentials(credentials):
    """(google credentials, project id) from a resolved credentials dict or ambient."""
    if not credentials:
        import google.auth  # pylint: disable=import-outside-toplevel
        found, project = google.auth.default(scopes=list(SCOPES))
        return found, project
    unknown = sorted(set(credentials) - {'service_account_info'})
    if unknown or not isinstance(credentials.get('service_account_info'), dict):
        raise OptionError('GCS credentials must be {"service_account_info": <service-account JSON as a dict>}')
    from google.oauth2 import service_account  # pylint: disable=import-outside-toplevel
    info = credentials['service_account_info']
    return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES)), info.get('project_id')


if HAS_LIBRARY:
    class _PinnedAuthorizedSession(PinnedVerifyMixin, AuthorizedSession):
        """google-auth's session, keeping ca_path/validate_certs whatever REQUESTS_CA_BUNDLE says."""


class GCSStore(ObjectStore):
    """One GCS bucket."""

    provider = 'gcs'

    def __init__(self, bucket, project=None, endpoint_url=None, credentials=None, sse=None, validate_certs=True,
                 ca_path=None, timeout=60):
        self.container = bucket
        self._timeout = timeout
        self._kms_key_name = (sse or {}).get('kms_key_name')
        verify = (ca_path or True) if validate_certs else False
        try:
            google_credentials, default_project = _build_credentials(credentials)
            token_session = new_session(verify)
            session = _PinnedAuthorizedSession(google_credentials, auth_request=AuthRequest(session=token_session))
            session.verify = verify
            options = ClientOptions(api_endpoint=endpoint_url) if endpoint_url else None
            # A project is only needed to create or list buckets, which this store never does.
            self._client = gcs.Client(project=project or default_project or 'kfuse-failover-unset',
                                      credentials=google_credentials, _http=session, client_options=options)
        except (gauth_exceptions.GoogleAuthError, OptionError, ValueError, KeyError, TypeError) as exc:
            raise self._error('cannot set up the GCS client: %s' % one_line(exc),
                              code='InvalidConfig') from None
        self._bucket = self._client.bucket(bucket)

    # ---- error translation ---------------------------------------------------------------------------------

    def _translate(self, exc, key=None, action=None):
        if isinstance(exc, gapi_exceptions.GoogleAPICallError):
            # The class name (NotFound, Forbidden, PreconditionFailed, ...) follows the HTTP status, which is
            # stable across GCS and compatible servers; the JSON "reason" is not.
            code = type(exc).__name__
            message = exc.message or str(exc)
        elif isinstance(exc, gauth_exceptions.GoogleAuthError):
            code, message = 'AuthError', str(exc)
        else:
            code, message = type(exc).__name__, str(exc)
        message = one_line(message)
        if action:
            message = '%s failed: %s' % (action, message)
        return self._error(message, code=code, key=key)

    def _bucket_check(self, key=None):
        """Raise StorageError when the bucket itself is missing or unreadable (a 404 cannot tell which)."""
        try:
            self._bucket.reload(timeout=self._timeout)
        except _API_ERRORS as exc:
            raise self._translate(exc, key=key, action='checking the bucket') from None

    def _info(self, blob):
        return ObjectInfo(blob.name, blob.size or 0, blob.etag, blob.updated, dict(blob.metadata or {}))

    # ---- operations ----------------------------------------------------------------------------------------

    def _blob(self, key):
        return self._bucket.blob(key, kms_key_name=self._kms_key_name)

    def put(self, key, source, metadata=None, content_type='application/octet-stream', if_absent=False,
            part_size=8 * 1024 * 1024):
        self._check_put(key, metadata, part_size)
        reader = as_reader(source)
        first = read_full(reader, part_size)
        more = read_full(reader, 1) if len(first) == part_size else b''
        if not more and len(first) <= SINGLE_REQUEST_LIMIT:
            blob = self._upload(key, io.BytesIO(first), len(first), metadata, content_type,
                                if_generation_match=0 if if_absent else None)
            return self._info(blob)
        stream = PrefixedReader(first, PrefixedReader(more, reader))
        del first
        chunk_size = max(CHUNK_MULTIPLE, -(-part_size // CHUNK_MULTIPLE) * CHUNK_MULTIPLE)
        if not if_absent:
            return self._info(self._upload(key, stream, None, metadata, content_type, chunk_size=chunk_size))
        if self.head(key) is not None:
            raise self._already_exists(key)
        staging = '%s.kfuse-upload-%s' % (key, os.urandom(6).hex())
        self._upload(staging, stream, None, None, content_type, chunk_size=chunk_size)
        try:
            destination = self._blob(key)
            destination.metadata = metadata or None
            destination.content_type = content_type
            try:
                destination.compose([self._bucket.blob(staging)], if_generation_match=0, timeout=self._timeout)
            except gapi_exceptions.PreconditionFailed:
                raise self._already_exists(key) from None
            except _API_ERRORS as exc:
                raise self._translate(exc, key=key, action='compose') from None
        finally:
            self.delete(staging)
        return self._info(destination)

    def _upload(self, key, stream, size, metadata, content_type, if_generation_match=None, chunk_size=None, lost=None):
        blob = self._blob(key)
        if chunk_size:
            blob.chunk_size = chunk_size
        blob.metadata = metadata or None
        try:
            blob.upload_from_file(stream, size=size, content_type=content_type, if_generation_match=if_generation_match,
                                  timeout=self._timeout, checksum=None if size is None else 'auto')
        except gapi_exceptions.PreconditionFailed:
            raise (lost() if lost else self._already_exists(key)) from None
        except _API_ERRORS as exc:
            if isinstance(exc, gapi_exceptions.NotFound):
                self._bucket_check(key)
            raise self._translate(exc, key=key, action='upload') from None
        return blob

    # ---- conditional writes (ifGenerationMatch=0 / ifGenerationMatch=<generation>) ------------------------------

    def read_versioned(self, key):
        for _attempt in range(3):
            try:
                blob = self._bucket.get_blob(key, timeout=self._timeout)
            except _API_ERRORS as exc:
                raise self._translate(exc, key=key, action='read') from None
            if blob is None:
                self._bucket_check(key)
                raise self._error('object not found', code='NotFound', key=key)
            try:
                # Pinned to the generation just read: bytes and version token belong together.
                data = blob.download_as_bytes(if_generation_match=blob.generation, timeout=self._timeout)
            except (gapi_exceptions.PreconditionFailed, gapi_exceptions.NotFound):
                continue  # replaced or deleted between the two requests: read again
            except _API_ERRORS as exc:
                raise self._translate(exc, key=key, action='read') from None
            return VersionedBytes(data, str(blob.generation))
        raise self._error('object kept changing while it was read', code='Changed', key=key)

    def put_if_absent(self, key, data, metadata=None, content_type='application/octet-stream'):
        data = self._check_conditional(key, data, metadata)
        blob = self._upload(key, io.BytesIO(data), len(data), metadata, content_type, if_generation_match=0)
        return str(blob.generation)

    def put_if_unchanged(self, key, data, version, metadata=None, content_type='application/octet-stream'):
        data = self._check_conditional(key, data, metadata, version, replace=True)
        if not version.isdigit() or version == '0':
            raise self._error('a GCS version token is an object generation (digits), got %r' % version,
                              code='InvalidConfig', key=key)
        blob = self._upload(key, io.BytesIO(data), len(data), metadata, content_type,
                            if_generation_match=int(version), lost=lambda: self._changed(key, version))
        return str(blob.generation)

    def head(self, key):
        try:
            blob = self._bucket.get_blob(key, timeout=self._timeout)
        except _API_ERRORS as exc:
            raise self._translate(exc, key=key, action='head') from None
        if blob is None:
            self._bucket_check(key)
            return None
        return self._info(blob)

    def iter_read(self, key, chunk_size=1024 * 1024):
        info_blob = None
        try:
            info_blob = self._bucket.get_blob(key, timeout=self._timeout)
        except _API_ERRORS as exc:
            raise self._translate(exc, key=key, action='read') from None
        if info_blob is None:
            self._bucket_check(key)
            raise self._error('object not found', code='NotFound', key=key)
        return self._stream(info_blob, key, chunk_size)

    def _stream(self, blob, key, chunk_size):
        window = max(chunk_size, READ_WINDOW)
        size = blob.size or 0
        position = 0
        while position < size:
            end = min(position + window, size) - 1
            try:
                # Pin the generation so an overwrite during the read cannot mix two versions.
                data = blob.download_as_bytes(start=position, end=end, if_generation_match=blob.generation,
                                              raw_download=True, checksum=None, timeout=self._timeout)
            except gapi_exceptions.PreconditionFailed:
                raise self._error('object changed while it was read', code='Changed', key=key) from None
            except _API_ERRORS as exc:
                raise self._translate(exc, key=key, action='read') from None
            if not data:
                raise self._error('object ended early at byte %d of %d' % (position, size), code='ShortRead', key=key)
            position += len(data)
            for offset in range(0, len(data), chunk_size):
                yield data[offset:offset + chunk_size]

    def list(self, prefix=''):
        try:
            for blob in self._client.list_blobs(self._bucket, prefix=prefix or None, page_size=self.page_size,
                                                timeout=self._timeout):
                yield self._info(blob)
        except _API_ERRORS as exc:
            raise self._translate(exc, action='list') from None

    def list_prefixes(self, prefix, delimiter='/'):
        prefix = normalise_prefix(prefix, delimiter)
        found = set()
        try:
            iterator = self._client.list_blobs(self._bucket, prefix=prefix or None, delimiter=delimiter,
                                               page_size=self.page_size, timeout=self._timeout)
            for page in iterator.pages:
                found.update(page.prefixes)
        except _API_ERRORS as exc:
            raise self._translate(exc, action='list') from None
        return sorted(found)

    def delete(self, key):
        try:
            self._bucket.delete_blob(key, timeout=self._timeout)
        except gapi_exceptions.NotFound:
            self._bucket_check(key)
            return False
        except _API_ERRORS as exc:
            raise self._translate(exc, key=key, action='delete') from None
        return True
