# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Each backend turns its library's exceptions into one-line StorageErrors without credentials."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from botocore.exceptions import ClientError, EndpointConnectionError
from google.api_core import exceptions as gapi_exceptions

from ansible_collections.kfuse.failover.plugins.module_utils import _storage_azure, _storage_gcs, _storage_s3
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError

SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'


def s3_store():
    return _storage_s3.S3Store('bucket', 'us-east-1', endpoint_url='http://127.0.0.1:9',
                               credentials={'access_key': 'AKIDEXAMPLE', 'secret_key': SECRET})


def test_s3_client_error_keeps_the_code_and_the_first_line():
    exc = ClientError({'Error': {'Code': 'AccessDenied', 'Message': 'denied for %s\nmore detail' % SECRET},
                       'ResponseMetadata': {'HTTPStatusCode': 403}}, 'PutObject')
    error = s3_store()._translate(exc, key='k', action='upload')  # pylint: disable=protected-access
    assert error.code == 'AccessDenied'
    # The provider's words are kept; the module base masks registered secrets (tests/unit/.../test_base.py).
    assert str(error) == 's3 bucket/k [AccessDenied]: upload failed: denied for %s' % SECRET


def test_s3_connection_error_is_named():
    error = s3_store()._translate(EndpointConnectionError(endpoint_url='http://127.0.0.1:9/bucket'))  # pylint: disable=protected-access
    assert error.code == 'EndpointConnectionError'
    assert 'http://127.0.0.1:9/bucket' in error.message


def test_s3_rejects_unknown_credential_keys():
    with pytest.raises(KfuseError) as caught:
        _storage_s3.S3Store('bucket', 'us-east-1', credentials={'password': SECRET})
    assert SECRET not in str(caught.value)
    assert 'password' in str(caught.value)


def test_azure_error_code_comes_from_the_service():
    key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
    store = _storage_azure.AzureStore('kfuse', credentials={
        'connection_string': 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=%s;EndpointSuffix=core.windows.net'
                             % key})
    exc = HttpResponseError(message='The specified container does not exist.\nRequestId:1\nkey %s' % key)
    exc.error_code = 'ContainerNotFound'
    error = store._translate(exc, action='list')  # pylint: disable=protected-access
    assert (error.code, error.message) == ('ContainerNotFound', 'list failed: The specified container does not exist.')
    error = store._translate(ServiceRequestError('cannot connect, key %s' % key))  # pylint: disable=protected-access
    assert error.code == 'ServiceRequestError'


def test_azure_account_name_from_url():
    assert _storage_azure.account_name_from_url('https://acct.blob.core.windows.net') == 'acct'
    assert _storage_azure.account_name_from_url('http://127.0.0.1:10000/devstoreaccount1') == 'devstoreaccount1'
    assert _storage_azure.parse_connection_string('A=1;B=x==;') == {'A': '1', 'B': 'x=='}


def test_azure_without_url_or_connection_string_is_a_config_error():
    with pytest.raises(Exception) as caught:
        _storage_azure.AzureStore('kfuse', credentials={'account_key': 'abcd'})
    assert getattr(caught.value, 'code', None) == 'InvalidConfig'
    assert 'account_url' in str(caught.value)


def test_gcs_api_error_code_is_the_status_class():
    store = _storage_gcs.GCSStore.__new__(_storage_gcs.GCSStore)
    store.container = 'bucket'
    exc = gapi_exceptions.Forbidden('GET http://x/b/bucket: not allowed')
    error = store._translate(exc, key='k', action='head')  # pylint: disable=protected-access
    assert error.code == 'Forbidden'
