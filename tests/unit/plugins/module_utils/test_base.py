# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KfuseModule: one failure method (message, provider code, traceback) and secrets masked by Ansible itself."""

from __future__ import annotations

import json

import pytest

from botocore.exceptions import ClientError
from azure.core.exceptions import ServiceRequestError

from ansible_collections.kfuse.failover.plugins.module_utils import _credentials, _storage_azure, _storage_s3
from ansible_collections.kfuse.failover.plugins.module_utils.base import KfuseModule, secret_strings
from ansible_collections.kfuse.failover.plugins.module_utils.errors import (
    AzServiceError,
    KfuseError,
    OptionError,
    PostgresError,
    StorageError,
    TaskFailed,
)
from ansible_collections.kfuse.failover.plugins.modules import az_status
from ansible_collections.kfuse.failover.tests.unit.module_runner import run_module

SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY'
AZURE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='


def failing_main(error, secrets=(), **extra):
    """A module main that learns ``secrets`` and fails from ``error`` raised in a task."""

    def task():
        raise error

    def main():
        module = KfuseModule(argument_spec={})
        module.register_secret(*secrets)
        module.run(task, **extra)
    return main


def test_fail_from_exception_puts_message_code_and_traceback_in_the_result():
    error = StorageError('upload failed', provider='s3', code='AccessDenied', key='k', container='b')
    result, failed = run_module(failing_main(error), {}, tracebacks=True)
    assert failed
    assert result['msg'] == 's3 b/k [AccessDenied]: upload failed'
    assert result['code'] == 'AccessDenied'
    assert result['storage_error'] == {'message': 'upload failed', 'provider': 's3', 'code': 'AccessDenied',
                                       'key': 'k', 'container': 'b'}
    assert 'StorageError' in result['exception']


def test_task_failed_carries_its_result_keys():
    error = TaskFailed('restore failed part way', changed=True, secrets=[{'name': 'a', 'action': 'created'}])
    result, failed = run_module(failing_main(error), {})
    assert failed and result['changed'] is True and result['secrets'][0]['action'] == 'created'


def test_az_service_error_gives_method_url_status_and_body():
    error = AzServiceError('POST /pause failed with HTTP 409', method='POST', url='https://az/pause', status=409,
                           body='{"error": "kafka flush"}')
    result, _failed = run_module(failing_main(error), {})
    assert (result['method'], result['status'], result['code']) == ('POST', 409, 409)


@pytest.mark.parametrize('error', [
    PostgresError('pg_dump failed (exit code 2): password %s rejected' % SECRET, exit_code=2),
    OptionError('bad value near %s' % SECRET),
    KfuseError('x', code='y', detail='echo %s' % SECRET),
])
def test_registered_secrets_are_masked_everywhere_traceback_included(error):
    result, failed = run_module(failing_main(error, secrets=[SECRET]), {}, tracebacks=True)
    assert failed and 'exception' in result
    assert SECRET not in json.dumps(result)
    assert '********' in json.dumps(result)


def test_secret_strings_walks_values_and_spells_bytes_every_way():
    found = secret_strings({'a': 'x1', 'b': ['x2', {'c': b'\x01\x02'}], 'd': None, 'e': True, 'f': '  '})
    assert found == ['x1', 'x2', '\x01\x02', 'AQI=', '0102']


def test_s3_provider_message_with_the_secret_key_is_masked_by_the_module():
    store = _storage_s3.S3Store('bucket', 'us-east-1', endpoint_url='http://127.0.0.1:9',
                                credentials={'access_key': 'AKIDEXAMPLE', 'secret_key': SECRET})
    exc = ClientError({'Error': {'Code': 'AccessDenied', 'Message': 'denied for %s' % SECRET},
                       'ResponseMetadata': {'HTTPStatusCode': 403}}, 'PutObject')
    error = store._translate(exc, key='k', action='upload')  # pylint: disable=protected-access
    secrets = _credentials.secret_values({'access_key': 'AKIDEXAMPLE', 'secret_key': SECRET})
    assert 'AKIDEXAMPLE' not in secrets  # an identifier, not a secret: never masked everywhere
    result, _failed = run_module(failing_main(error, secrets=secrets), {})
    assert SECRET not in json.dumps(result) and result['code'] == 'AccessDenied'


def test_azure_account_key_and_sas_signature_are_masked_by_the_module():
    credentials = {'connection_string': 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=%s;'
                                        'EndpointSuffix=core.windows.net' % AZURE_KEY}
    store = _storage_azure.AzureStore('kfuse', credentials=credentials)
    error = store._translate(ServiceRequestError('cannot connect, key %s' % AZURE_KEY))  # pylint: disable=protected-access
    result, _failed = run_module(failing_main(error, secrets=_credentials.secret_values(credentials)), {})
    assert AZURE_KEY not in json.dumps(result)

    sas = {'sas_token': 'sv=2024&sig=abc%2Fdef'}
    store = _storage_azure.AzureStore('kfuse', account_url='https://acct.blob.core.windows.net', credentials=sas)
    error = store._translate(ServiceRequestError(  # pylint: disable=protected-access
        'GET https://acct.blob.core.windows.net/kfuse?restype=container&sig=abc/def&se=1 failed'))
    result, _failed = run_module(failing_main(error, secrets=_credentials.secret_values(sas)), {})
    assert 'abc/def' not in json.dumps(result) and 'abc%2Fdef' not in json.dumps(result)


def test_gcs_private_key_is_a_secret_but_the_project_is_not():
    info = {'type': 'service_account', 'project_id': 'kfuse-prod', 'private_key': '-----BEGIN PRIVATE KEY-----abc',
            'private_key_id': 'k1d', 'client_email': 'sa@kfuse-prod.iam.gserviceaccount.com'}
    found = sorted(_credentials.secret_values({'service_account_info': info}))
    assert found == ['-----BEGIN PRIVATE KEY-----abc', 'k1d']


class EchoingClient:
    """An az-service client whose /status fails with the token echoed in the body."""

    def __init__(self, token):
        self.token = token

    def get_status(self):
        raise AzServiceError('GET /status failed with HTTP 401: bad token %s' % self.token, method='GET',
                             url='https://az/status', status=401, body='Bearer %s rejected' % self.token)

    def close(self):
        pass


def test_az_module_masks_the_token_whatever_the_service_echoed():
    token = 'tok-%s' % SECRET
    result, failed = run_module(az_status.main, {'url': 'https://az.example', 'token': token}, patches=[
        (az_status.AzServiceModule, 'build_client', lambda _module, **_kwargs: EchoingClient(token))])
    assert failed and result['status'] == 401
    assert token not in json.dumps(result)
