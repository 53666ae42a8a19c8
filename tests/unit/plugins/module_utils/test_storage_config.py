# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""validate_cloud_storage messages, open_store checks, StorageError text and the streaming helpers."""

from __future__ import annotations

import io

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _storage_gcs, _storage_s3, _streams, storage
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError
from ansible_collections.kfuse.failover.plugins.module_utils.storage import StorageError, validate_cloud_storage

S3 = {'type': 's3', 's3': {'region': 'eu-west-1', 'bucket': 'kfuse-backups'}}


@pytest.mark.parametrize('value, message', [
    ('s3', 'cloud_storage must be a dict'),
    ({'type': 'ftp'}, "cloud_storage.type must be one of s3, gcs, azure, got 'ftp'"),
    ({}, 'cloud_storage.type must be one of s3, gcs, azure, got None'),
    ({'type': 's3'}, 'cloud_storage.s3 must be a dict (region and bucket), got nothing'),
    ({'type': 's3', 's3': {'bucket': 'b-1'}}, 'cloud_storage.s3.region is required'),
    ({'type': 's3', 's3': {'region': 'r'}}, 'cloud_storage.s3.bucket is required'),
    ({'type': 's3', 's3': {'region': 'r', 'bucket': 'b-1', 'bukket': 'x'}},
     'cloud_storage.s3 has unknown option(s) bukket; accepted: region, bucket'),
    ({'type': 'gcs', 'gcs': {'bucket': 7}}, 'cloud_storage.gcs.bucket must be a string, got int'),
    ({'type': 'gcs', 'gcs': {'bucket': 'a/b'}}, 'cloud_storage.gcs.bucket must be a bucket name'),
    ({'type': 'azure', 'azure': {'container': 'Bad_Name'}}, 'cloud_storage.azure.container must be 3-63 lowercase'),
    ({'type': 'azure', 'azure': {'container': 'ok-name', 'account_url': 'ftp://x'}},
     'cloud_storage.azure.account_url must start with http:// or https://'),
    (dict(S3, endpoint_url='127.0.0.1:9000'), 'cloud_storage.endpoint_url must start with http:// or https://'),
    (dict(S3, useSecret='maybe'), "cloud_storage.useSecret must be a boolean, got 'maybe'"),
    (dict(S3, extra=1), 'cloud_storage has unknown option(s) extra; accepted: azure, endpoint_url, gcs, s3, '
                        'secretName, type, useSecret'),
])
def test_validate_cloud_storage_names_the_option_and_accepted_values(value, message):
    with pytest.raises(KfuseError) as caught:
        validate_cloud_storage(value)
    assert message in str(caught.value)


def test_validate_cloud_storage_keeps_the_chart_shape_and_extras():
    value = dict(S3, useSecret='true', secretName='cloud-storage-secret', endpoint_url='http://127.0.0.1:9000/',
                 gcs={'bucket': 'ignored-other-provider'})
    assert validate_cloud_storage(value) == {
        'type': 's3', 'useSecret': True, 'secretName': 'cloud-storage-secret', 'endpoint_url': 'http://127.0.0.1:9000',
        's3': {'region': 'eu-west-1', 'bucket': 'kfuse-backups'}}
    azure = validate_cloud_storage({'type': 'azure', 'azure': {'container': 'kfuse', 'account_url': 'https://a.example'}})
    assert azure['azure'] == {'container': 'kfuse', 'account_url': 'https://a.example'}


def test_open_store_reports_the_missing_library(monkeypatch):
    monkeypatch.setattr(_storage_gcs, 'HAS_LIBRARY', False)
    with pytest.raises(StorageError) as caught:
        storage.open_store({'type': 'gcs', 'gcs': {'bucket': 'kfuse-backups'}})
    assert caught.value.code == 'MissingLibrary'
    assert 'the google-cloud-storage Python library is required for cloud_storage.type=gcs' in str(caught.value)


@pytest.mark.parametrize('kwargs, message', [
    ({'credentials': 'key'}, 'credentials must be a dict'),
    ({'server_side_encryption': 'AES256'}, 'server_side_encryption must be a dict keyed by provider'),
    ({'server_side_encryption': {'s3': 'AES256'}}, 'server_side_encryption.s3 must be a dict'),
    ({'timeout': 0}, 'timeout must be a positive number'),
])
def test_open_store_checks_its_arguments(kwargs, message):
    with pytest.raises(KfuseError) as caught:
        storage.open_store(S3, **kwargs)
    assert message in str(caught.value)


def test_s3_server_side_encryption_mode_is_checked():
    with pytest.raises(KfuseError) as caught:
        storage.open_store(S3, {'access_key': 'a', 'secret_key': 'b'}, server_side_encryption={'s3': {'mode': 'rot13'}})
    assert 'server_side_encryption.s3.mode must be one of AES256, aws:kms' in str(caught.value)
    assert _storage_s3._sse_arguments({'mode': 'aws:kms', 'kms_key_id': 'k'}) == {  # pylint: disable=protected-access
        'ServerSideEncryption': 'aws:kms', 'SSEKMSKeyId': 'k'}


def test_storage_error_is_one_readable_line():
    error = StorageError('upload failed: Access Denied', provider='s3', code='AccessDenied', key='a/b.json',
                         container='bucket')
    assert str(error) == 's3 bucket/a/b.json [AccessDenied]: upload failed: Access Denied'
    assert error.to_dict() == {'message': 'upload failed: Access Denied', 'provider': 's3', 'code': 'AccessDenied',
                               'key': 'a/b.json', 'container': 'bucket'}
    assert str(StorageError('plain')) == 'plain'


def test_one_line():
    # A line announcing what follows keeps it: botocore's "Parameter validation failed:" is not cut.
    assert storage.one_line('Parameter validation failed:\nInvalid bucket name "a b"\n\nmore') == (
        'Parameter validation failed: Invalid bucket name "a b"')
    assert storage.one_line('\n  first line  \nRequestId:123\n') == 'first line'


class ShortReads:
    """A pipe-like reader returning at most 3 bytes per read."""

    def __init__(self, data):
        self.data = data
        self.requests = []

    def read(self, size=-1):
        self.requests.append(size)
        size = len(self.data) if size < 0 else min(size, 3)
        piece, self.data = self.data[:size], self.data[size:]
        return piece


@pytest.mark.parametrize('size, expected', [
    (0, [(1, b'', True)]),
    (5, [(1, b'01234', True)]),
    (10, [(1, b'0123456789', True)]),
    (11, [(1, b'0123456789', False), (2, b'a', True)]),
    (20, [(1, b'0123456789', False), (2, b'abcdefghij', True)]),
])
def test_iter_parts_fills_parts_and_marks_the_last(size, expected):
    data = b'0123456789abcdefghij'[:size]
    reader = ShortReads(data)
    assert list(storage.iter_parts(reader, 10)) == expected
    assert max(reader.requests or [0]) <= 10
    assert list(storage.iter_parts(data, 10)) == expected


def test_iter_parts_rejects_text_sources():
    with pytest.raises(TypeError):
        list(storage.iter_parts(io.StringIO('text'), 4))
    with pytest.raises(TypeError):
        list(storage.iter_parts(42, 4))


def test_prefixed_reader_fills_each_read_and_tracks_position():
    reader = _streams.PrefixedReader(b'abc', _streams.PrefixedReader(b'd', ShortReads(b'efghij')))
    assert reader.read(2) == b'ab'
    assert reader.tell() == 2
    assert reader.read(5) == b'cdefg'
    assert reader.seek(7) == 7
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(0)
    assert reader.read(-1) == b'hij'
    assert reader.read(4) == b''


def test_rechunk_and_normalise_prefix():
    assert list(_streams.rechunk([b'abc', b'', b'defgh', b'i'], 4)) == [b'abcd', b'efgh', b'i']
    assert storage.normalise_prefix('a/b', '/') == 'a/b/'
    assert storage.normalise_prefix('', '/') == ''
