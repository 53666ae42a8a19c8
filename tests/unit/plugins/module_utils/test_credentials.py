# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credential resolution rules: one source, the seed's secret formats, normalised output, no secret in messages."""

from __future__ import annotations

import base64
import json
from unittest import mock

import pytest
from kubernetes import client as k8s

from ansible_collections.kfuse.failover.plugins.module_utils import kube
from ansible_collections.kfuse.failover.plugins.module_utils._credentials import CredentialsError, resolve
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.import_probe import modules_imported_by

SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
SERVICE_ACCOUNT = {'type': 'service_account', 'project_id': 'p', 'private_key_id': 'kid',
                   'private_key': '-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----\n',
                   'client_email': 'backup@p.iam.gserviceaccount.com', 'token_uri': 'https://oauth2.example/token'}
CONNECTION_STRING = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=%s;EndpointSuffix=core.windows.net' % SECRET


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_explicit_and_ambient_together_name_both_options():
    with pytest.raises(KfuseError) as caught:
        resolve('s3', explicit={'access_key': 'AKID', 'secret_key': SECRET}, ambient=True)
    message = str(caught.value)
    assert 'credentials and ambient_credentials' in message
    assert SECRET not in message


def test_more_than_one_source_uses_the_callers_option_names():
    with pytest.raises(KfuseError) as caught:
        resolve('azure', secret_data={'connectionString': CONNECTION_STRING}, secret_file='/tmp/x',
                option_names={'secret_data': 'storage_secret', 'secret_file': 'storage_secret_file'})
    assert 'storage_secret and storage_secret_file were all given' in str(caught.value)


def test_no_source_lists_every_option():
    with pytest.raises(KfuseError) as caught:
        resolve('gcs')
    assert str(caught.value).startswith('no cloud storage credentials: give one of credentials, secret_data, '
                                        'secret_file, kubernetes_secret, or set ambient_credentials=true')


def test_ambient_is_none_and_unknown_provider_fails():
    assert resolve('s3', ambient=True) is None
    with pytest.raises(KfuseError) as caught:
        resolve('ftp', ambient=True)
    assert "cloud_storage.type must be one of s3, gcs, azure, got 'ftp'" in str(caught.value)


@pytest.mark.parametrize('provider, explicit, expected', [
    ('s3', {'access_key': 'AKID', 'secret_key': SECRET, 'session_token': None},
     {'access_key': 'AKID', 'secret_key': SECRET, 'session_token': None}),
    ('s3', {'access_key': 'AKID', 'secret_key': SECRET, 'session_token': 'tok'},
     {'access_key': 'AKID', 'secret_key': SECRET, 'session_token': 'tok'}),
    ('gcs', {'service_account_info': json.dumps(SERVICE_ACCOUNT)}, {'service_account_info': SERVICE_ACCOUNT}),
    ('gcs', {'service_account_info': SERVICE_ACCOUNT}, {'service_account_info': SERVICE_ACCOUNT}),
    ('azure', {'connection_string': CONNECTION_STRING}, {'connection_string': CONNECTION_STRING}),
    ('azure', {'account_key': SECRET, 'account_url': 'https://acct.blob.core.windows.net', 'sas_token': None},
     {'account_key': SECRET, 'account_url': 'https://acct.blob.core.windows.net'}),
    ('azure', {'sas_token': 'sv=1&sig=x'}, {'sas_token': 'sv=1&sig=x'}),
])
def test_explicit_credentials_are_normalised(provider, explicit, expected):
    assert resolve(provider, explicit=explicit) == expected


@pytest.mark.parametrize('provider, explicit, message', [
    ('s3', {'access_key': 'AKID'}, 'credentials for s3 needs access_key and secret_key (missing secret_key)'),
    ('s3', {'access_key': 'AKID', 'secret_key': SECRET, 'token': 'x'}, 'unknown: token'),
    ('gcs', {'service_account_info': '{not json'}, 'credentials.service_account_info is not valid JSON'),
    ('gcs', {'service_account_info': dict(SERVICE_ACCOUNT, type='authorized_user')},
     "must be a service-account key (type \"service_account\"), got type 'authorized_user'"),
    ('gcs', {'service_account_info': {'type': 'service_account', 'private_key': SECRET}},
     'credentials.service_account_info lacks client_email, token_uri'),
    ('azure', {'account_key': SECRET, 'sas_token': 'sig=1'},
     'needs exactly one of connection_string, account_key, sas_token (got account_key, sas_token)'),
    ('azure', {'connection_string': 'AccountName=acct;Password=%s' % SECRET},
     'credentials.connection_string must be an Azure storage connection string'),
])
def test_bad_explicit_credentials_name_the_key_not_the_value(provider, explicit, message):
    with pytest.raises(CredentialsError) as caught:
        resolve(provider, explicit=explicit)
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize('provider, data, expected', [
    ('s3', {'accessKey': 'AKID', 'secretKey': SECRET}, {'access_key': 'AKID', 'secret_key': SECRET, 'session_token': None}),
    ('gcs', {'secretKey': json.dumps(SERVICE_ACCOUNT)}, {'service_account_info': SERVICE_ACCOUNT}),
    ('azure', {'connectionString': CONNECTION_STRING}, {'connection_string': CONNECTION_STRING}),
    # A Secret manifest (kubectl get secret -o yaml) works too: base64 data.
    ('s3', {'apiVersion': 'v1', 'kind': 'Secret', 'data': {'accessKey': b64('AKID'), 'secretKey': b64(SECRET)}},
     {'access_key': 'AKID', 'secret_key': SECRET, 'session_token': None}),
])
def test_seed_format_from_a_variable(provider, data, expected):
    assert resolve(provider, secret_data=data) == expected


def test_seed_format_missing_key_names_what_the_secret_holds():
    with pytest.raises(CredentialsError) as caught:
        resolve('s3', secret_data={'accessKey': 'AKID', 'secret': SECRET})
    assert str(caught.value) == 'secret_data lacks secretKey (the s3 secret holds accessKey and secretKey)'


def test_seed_format_bad_base64_in_a_manifest():
    with pytest.raises(CredentialsError) as caught:
        resolve('azure', secret_data={'kind': 'Secret', 'data': {'connectionString': '!!not base64!!'}})
    assert 'secret_data.data.connectionString is not base64-encoded' in str(caught.value)


def test_secret_file_json_yaml_and_gcs_key_file(tmp_path):
    json_file = tmp_path / 's3.json'
    json_file.write_text(json.dumps({'accessKey': 'AKID', 'secretKey': SECRET}))
    assert resolve('s3', secret_file=str(json_file))['secret_key'] == SECRET
    yaml_file = tmp_path / 'azure.yaml'
    yaml_file.write_text('connectionString: "%s"\n' % CONNECTION_STRING)
    assert resolve('azure', secret_file=str(yaml_file)) == {'connection_string': CONNECTION_STRING}
    key_file = tmp_path / 'secretKey'
    key_file.write_text(json.dumps(SERVICE_ACCOUNT))
    assert resolve('gcs', secret_file=str(key_file)) == {'service_account_info': SERVICE_ACCOUNT}
    manifest = tmp_path / 'secret.yaml'
    manifest.write_text('apiVersion: v1\nkind: Secret\ndata:\n  secretKey: %s\n' % b64(json.dumps(SERVICE_ACCOUNT)))
    assert resolve('gcs', secret_file=str(manifest)) == {'service_account_info': SERVICE_ACCOUNT}


def test_secret_file_errors(tmp_path):
    with pytest.raises(CredentialsError) as caught:
        resolve('s3', secret_file=str(tmp_path / 'missing'))
    assert 'secret_file: cannot read' in str(caught.value) and 'No such file' in str(caught.value)
    scalar = tmp_path / 'scalar'
    scalar.write_text(SECRET)
    with pytest.raises(CredentialsError) as caught:
        resolve('s3', secret_file=str(scalar))
    assert 'is not a JSON or YAML mapping of the secret keys' in str(caught.value)
    assert SECRET not in str(caught.value)


def fake_secret(data):
    return k8s.V1Secret(metadata=k8s.V1ObjectMeta(name='cloud-storage-secret', namespace='kfuse'),
                        data={key: b64(value) for key, value in data.items()})


def test_kubernetes_secret_is_read_through_the_api(monkeypatch):
    api_client = mock.Mock()
    builder = mock.Mock(return_value=api_client)
    monkeypatch.setattr(kube, 'new_api_client', builder)
    core = mock.Mock()
    core.read_namespaced_secret.return_value = fake_secret({'connectionString': CONNECTION_STRING})
    monkeypatch.setattr(kube.k8s_client, 'CoreV1Api', mock.Mock(return_value=core))
    spec = {'kubeconfig': '/k', 'context': 'az1', 'namespace': 'kfuse', 'name': 'cloud-storage-secret'}
    assert resolve('azure', kubernetes_secret=spec) == {'connection_string': CONNECTION_STRING}
    builder.assert_called_once_with('/k', 'az1')
    core.read_namespaced_secret.assert_called_once_with('cloud-storage-secret', 'kfuse')
    api_client.close.assert_called_once_with()


@pytest.mark.parametrize('failure, message', [
    (k8s.ApiException(status=404, reason='Not Found'), 'cannot read secret kubernetes_secret kfuse/css: not found'),
    (k8s.ApiException(status=403, reason='Forbidden'), 'cannot read secret kubernetes_secret kfuse/css: 403 Forbidden'),
    (OSError('connection refused'), 'cannot reach the Kubernetes API to read secret kubernetes_secret kfuse/css'),
])
def test_kubernetes_secret_failures_are_credentials_errors(monkeypatch, failure, message):
    monkeypatch.setattr(kube, 'new_api_client', mock.Mock(return_value=mock.Mock()))
    core = mock.Mock()
    core.read_namespaced_secret.side_effect = failure
    monkeypatch.setattr(kube.k8s_client, 'CoreV1Api', mock.Mock(return_value=core))
    with pytest.raises(CredentialsError) as caught:
        resolve('s3', kubernetes_secret={'namespace': 'kfuse', 'name': 'css'})
    assert message in str(caught.value)


def test_kubernetes_secret_with_wrong_keys_and_bad_spec(monkeypatch):
    monkeypatch.setattr(kube, 'new_api_client', mock.Mock(return_value=mock.Mock()))
    core = mock.Mock()
    core.read_namespaced_secret.return_value = fake_secret({'accessKey': 'AKID'})
    monkeypatch.setattr(kube.k8s_client, 'CoreV1Api', mock.Mock(return_value=core))
    with pytest.raises(CredentialsError) as caught:
        resolve('s3', kubernetes_secret={'name': 'css'})
    assert 'secret kubernetes_secret default/css lacks secretKey' in str(caught.value)
    with pytest.raises(CredentialsError) as caught:
        resolve('s3', kubernetes_secret={'name': 'css', 'secret_name': 'x'})
    assert 'unknown: secret_name' in str(caught.value)
    with pytest.raises(CredentialsError) as caught:
        resolve('s3', kubernetes_secret={'namespace': 'kfuse'})
    assert 'kubernetes_secret must be a dict with name' in str(caught.value)


def test_kubeconfig_problems_surface_as_credentials_errors(monkeypatch):
    monkeypatch.setattr(kube, 'new_api_client', mock.Mock(side_effect=kube.KubeError('cannot load Kubernetes '
                                                                                     'configuration')))
    with pytest.raises(CredentialsError) as caught:
        resolve('gcs', kubernetes_secret={'name': 'css', 'kubeconfig': '/nope'})
    assert 'kubernetes_secret default/css: cannot load Kubernetes configuration' in str(caught.value)


def test_credentials_that_need_no_cluster_do_not_load_the_kubernetes_client():
    """Only kubernetes_secret needs the kubernetes package; a files-only backup should not pay for its import."""
    code = ("from ansible_collections.kfuse.failover.plugins.module_utils import _credentials\n"
            "_credentials.resolve('s3', explicit={'access_key': 'AKID', 'secret_key': 'secret'})\n")
    assert modules_imported_by(code, lambda name: name == 'kubernetes' or name.endswith('module_utils.kube')) == []
