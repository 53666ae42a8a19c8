# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""S3 backend of ObjectStore (boto3): AWS S3 and S3-compatible stores reached through ``endpoint_url``."""

from __future__ import annotations

import traceback

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError
from ansible_collections.kfuse.failover.plugins.module_utils._streams import rechunk
from ansible_collections.kfuse.failover.plugins.module_utils.storage import (
    DEFAULT_CONCURRENCY, ObjectInfo, ObjectStore, VersionedBytes, normalise_prefix, one_line, split_first_part,
    upload_parts)

try:
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError
    HAS_LIBRARY = True
    IMPORT_ERROR = None
except ImportError:
    HAS_LIBRARY = False
    IMPORT_ERROR = traceback.format_exc()

    class BotoCoreError(Exception):
        """Stand-in so except clauses stay valid without botocore."""

    class ClientError(Exception):
        """Stand-in so except clauses stay valid without botocore."""

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000
_MISSING_CODES = ('NoSuchKey', 'NotFound', '404')


def open_backend(config, credentials=None, sse=None, validate_certs=True, ca_path=None, timeout=60):
    """An S3Store for a validated cloud_storage dict."""
    return S3Store(config['s3']['bucket'], config['s3']['region'], endpoint_url=config.get('endpoint_url'),
                   credentials=credentials, sse=sse, validate_certs=validate_certs, ca_path=ca_path, timeout=timeout)


def _sse_arguments(sse):
    if not sse:
        return {}
    mode = sse.get('mode', 'AES256')
    if mode not in ('AES256', 'aws:kms'):
        raise OptionError("server_side_encryption.s3.mode must be one of AES256, aws:kms, got %r" % (mode,))
    arguments = {'ServerSideEncryption': mode}
    if sse.get('kms_key_id'):
        if mode != 'aws:kms':
            raise OptionError('server_side_encryption.s3.kms_key_id needs mode aws:kms')
        arguments['SSEKMSKeyId'] = sse['kms_key_id']
    return arguments


class S3Store(ObjectStore):
    """One S3 bucket."""

    provider = 's3'
    # Parts of one multipart upload sent at once; each holds part_size bytes in memory.
    max_concurrency = DEFAULT_CONCURRENCY

    def __init__(self, bucket, region, endpoint_url=None, credentials=None, sse=None, validate_certs=True,
                 ca_path=None, timeout=60, max_concurrency=None):
        self.container = bucket
        if max_concurrency is not None:
            self.max_concurrency = max(1, int(max_concurrency))
        self._sse = _sse_arguments(sse)
        credentials = credentials or {}
        unknown = sorted(set(credentials) - {'access_key', 'secret_key', 'session_token'})
        if unknown:
            raise OptionError('S3 credentials accept access_key, secret_key and session_token, got %s' % ', '.join(unknown))
        verify = (ca_path or True) if validate_certs else False
        session = boto3.session.Session(aws_access_key_id=credentials.get('access_key'),
                                        aws_secret_access_key=credentials.get('secret_key'),
                                        aws_session_token=credentials.get('session_token'), region_name=region)
        config = BotoConfig(connect_timeout=min(timeout, 30), read_timeout=timeout,
                            retries={'max_attempts': 5, 'mode': 'standard'},
                            max_pool_connections=max(10, self.max_concurrency + 2),
                            s3={'addressing_style': 'path' if endpoint_url else 'auto'})
        try:
            self._client = session.client('s3', endpoint_url=endpoint_url, verify=verify, config=config)
        except (BotoCoreError, OptionError, ValueError) as exc:
            raise self._error('cannot create the S3 client: %s' % one_line(exc),
                              code='InvalidConfig') from None

    # ---- error translation ---------------------------------------------------------------------------------

    def _translate(self, exc, key=None, action=None):
        if isinstance(exc, ClientError):
            error = exc.response.get('Error', {})
            code = str(error.get('Code') or exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode') or 'Unknown')
            message = error.get('Message') or str(exc)
        else:
            code = type(exc).__name__
            message = str(exc)
        message = one_line(message)
        if action:
            message = '%s failed: %s' % (action, message)
        return self._error(message, code=code, key=key)

    def _call(self, method, key=None, action=None, **kwargs):
        try:
            return getattr(self._client, method)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, key=key, action=action or method) from None

    @staticmethod
    def _status(exc):
        return exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode') if isinstance(exc, ClientError) else None

    # ---- operations ----------------------------------------------------------------------------------------

    def put(self, key, source, metadata=None, content_type='application/octet-stream', if_absent=False,
            part_size=8 * 1024 * 1024):
        self._check_put(key, metadata, part_size)
        part_size = max(part_size, MIN_PART_SIZE)
        common = dict(self._sse, Bucket=self.container, Key=key, ContentType=content_type, Metadata=metadata or {})
        single, parts = split_first_part(source, part_size)
        if parts is None:
            arguments = dict(common, Body=single)
            if if_absent:
                arguments['IfNoneMatch'] = '*'
            self._put_call('put_object', key, if_absent, **arguments)
            return self._info_after_put(key)
        if if_absent and self.head(key) is not None:
            # Fail before uploading anything; the conditional completion below still closes the race.
            raise self._already_exists(key)
        checksum = self._part_checksum()
        upload_id = self._call('create_multipart_upload', key=key, action='starting the multipart upload',
                               **dict(common, **checksum))['UploadId']
        try:
            completed = upload_parts(parts, lambda number, data: self._upload_part(key, upload_id, number, data, checksum),
                                     self.max_concurrency)
            arguments = {'Bucket': self.container, 'Key': key, 'UploadId': upload_id,
                         'MultipartUpload': {'Parts': completed}}
            if if_absent:
                arguments['IfNoneMatch'] = '*'
            self._put_call('complete_multipart_upload', key, if_absent, **arguments)
        except BaseException:
            try:
                self._client.abort_multipart_upload(Bucket=self.container, Key=key, UploadId=upload_id)
            except (ClientError, BotoCoreError):
                pass  # the original error matters more; lifecycle rules clean up stray uploads
            raise
        return self._info_after_put(key)

    def _part_checksum(self):
        # As boto3's transfer manager does: when botocore checksums requests by default, declare the algorithm on
        # the multipart upload so the store combines the parts' CRC32s instead of re-reading the whole object.
        # Stores that reject flexible checksums are used with request_checksum_calculation=when_required.
        if getattr(self._client.meta.config, 'request_checksum_calculation', None) == 'when_supported':
            return {'ChecksumAlgorithm': 'CRC32'}
        return {}

    def _upload_part(self, key, upload_id, number, data, checksum=None):
        if number > MAX_PARTS:
            raise self._error('more than %d parts: use a larger part_size' % MAX_PARTS, code='TooManyParts', key=key)
        arguments = dict(checksum or {}, Bucket=self.container, Key=key, UploadId=upload_id, PartNumber=number,
                         Body=data)
        response = self._call('upload_part', key=key, action='uploading part %d' % number, **arguments)
        completed = {'ETag': response['ETag'], 'PartNumber': number}
        # With a declared algorithm, S3 wants every part's checksum back on completion.
        for algorithm in (checksum or {}).values():
            member = 'Checksum' + algorithm
            if response.get(member):
                completed[member] = response[member]
        return completed

    def _put_call(self, method, key, if_absent, **arguments):
        try:
            return getattr(self._client, method)(**arguments)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get('Error', {}).get('Code') if isinstance(exc, ClientError) else None
            if if_absent and (self._status(exc) in (409, 412) or code in ('PreconditionFailed', 'ConditionalRequestConflict')):
                raise self._already_exists(key) from None
            raise self._translate(exc, key=key, action='upload') from None

    def _info_after_put(self, key):
        info = self.head(key)
        if info is None:
            raise self._error('object missing right after upload', code='NotFound', key=key)
        return info

    # ---- conditional writes (If-None-Match: * / If-Match on PutObject) ------------------------------------------

    def _get_object(self, key):
        """GetObject, a missing key as NotFound and other errors translated (every read goes through here)."""
        try:
            return self._client.get_object(Bucket=self.container, Key=key)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and exc.response.get('Error', {}).get('Code') in _MISSING_CODES:
                raise self._error('object not found', code='NotFound', key=key) from None
            raise self._translate(exc, key=key, action='read') from None

    def read_versioned(self, key):
        response = self._get_object(key)
        body = response['Body']
        try:
            data = body.read()
        except (BotoCoreError, OSError) as exc:
            raise self._error('reading the object failed: %s' % one_line(exc), code=type(exc).__name__,
                              key=key) from None
        finally:
            body.close()
        # The ETag of the very response that carried the bytes.
        return VersionedBytes(data, response['ETag'])

    def put_if_absent(self, key, data, metadata=None, content_type='application/octet-stream'):
        data = self._check_conditional(key, data, metadata)
        return self._conditional_put(key, data, metadata, content_type, {'IfNoneMatch': '*'},
                                     lambda: self._already_exists(key))

    def put_if_unchanged(self, key, data, version, metadata=None, content_type='application/octet-stream'):
        data = self._check_conditional(key, data, metadata, version, replace=True)
        return self._conditional_put(key, data, metadata, content_type, {'IfMatch': version},
                                     lambda: self._changed(key, version))

    def _conditional_put(self, key, data, metadata, content_type, condition, lost):
        arguments = dict(self._sse, Bucket=self.container, Key=key, Body=data, ContentType=content_type,
                         Metadata=metadata or {}, **condition)
        try:
            response = self._client.put_object(**arguments)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get('Error', {}).get('Code') if isinstance(exc, ClientError) else None
            # 412: the condition failed; 409 ConditionalRequestConflict: a concurrent conditional write won;
            # If-Match on a key that no longer exists: 404 NoSuchKey (not NoSuchBucket).
            if self._status(exc) in (409, 412) or code in ('PreconditionFailed', 'ConditionalRequestConflict') \
                    or ('IfMatch' in condition and code == 'NoSuchKey'):
                raise lost() from None
            raise self._translate(exc, key=key, action='conditional upload') from None
        return response['ETag']

    def head(self, key):
        try:
            response = self._client.head_object(Bucket=self.container, Key=key)
        except (ClientError, BotoCoreError) as exc:
            if self._status(exc) == 404:
                # HEAD answers carry no body, so a missing bucket looks like a missing key; ask the bucket.
                self._call('list_objects_v2', action='checking the bucket', Bucket=self.container, MaxKeys=1)
                return None
            raise self._translate(exc, key=key, action='head') from None
        return ObjectInfo(key, response.get('ContentLength', 0), (response.get('ETag') or '').strip('"'),
                          response.get('LastModified'), dict(response.get('Metadata') or {}))

    def iter_read(self, key, chunk_size=1024 * 1024):
        return self._stream(self._get_object(key)['Body'], key, chunk_size)

    def _stream(self, body, key, chunk_size):
        try:
            yield from rechunk(body.iter_chunks(chunk_size), chunk_size)
        except (BotoCoreError, OSError) as exc:
            raise self._error('reading the object failed: %s' % one_line(exc),
                              code=type(exc).__name__, key=key) from None
        finally:
            body.close()

    def list(self, prefix=''):
        paginator = self._client.get_paginator('list_objects_v2')
        pages = paginator.paginate(Bucket=self.container, Prefix=prefix or '',
                                   PaginationConfig={'PageSize': self.page_size})
        try:
            for page in pages:
                for item in page.get('Contents', []):
                    # S3 listings carry no user metadata; head() a key to get it.
                    yield ObjectInfo(item['Key'], item.get('Size', 0), (item.get('ETag') or '').strip('"'),
                                     item.get('LastModified'), None)
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, action='list') from None

    def list_prefixes(self, prefix, delimiter='/'):
        prefix = normalise_prefix(prefix, delimiter)
        paginator = self._client.get_paginator('list_objects_v2')
        found = []
        try:
            for page in paginator.paginate(Bucket=self.container, Prefix=prefix, Delimiter=delimiter,
                                           PaginationConfig={'PageSize': self.page_size}):
                found.extend(item['Prefix'] for item in page.get('CommonPrefixes', []))
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, action='list') from None
        return sorted(found)

    def delete(self, key):
        if self.head(key) is None:
            return False
        self._call('delete_object', key=key, action='delete', Bucket=self.container, Key=key)
        return True
