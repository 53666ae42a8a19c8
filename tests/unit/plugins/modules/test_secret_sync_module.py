# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""secret_sync run in-process: its argument spec, and that secret values never reach what Ansible receives."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes.client.exceptions import ApiException

from ansible_collections.kfuse.failover.plugins.module_utils import kube
from ansible_collections.kfuse.failover.plugins.modules import secret_sync
from ansible_collections.kfuse.failover.tests.unit.module_runner import run_module
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.test_secret_sync import FakeCore, stored

PG_VALUE = 'module-pg-password-9f3a'
S3_ACCESS = 'AKIA-MODULE-ACCESS'
S3_SECRET = 'module-s3-secret-key-77'
FORMATS = ['s3', 'gcs', 'azure', 'image_pull', 'postgres', 'tls', 'sso_google', 'opaque']


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


@pytest.fixture(name='cores')
def fixture_cores():
    """Source (az1) and target (az2) clusters, by context."""
    return {'az1': FakeCore(), 'az2': FakeCore()}


def run(cores, args, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True

    def new_api_client(kubeconfig=None, context=None):
        return context

    return run_module(secret_sync.main, args, patches=[
        (kube, 'new_api_client', new_api_client),
        (kube.k8s_client, 'CoreV1Api', lambda context: cores[context]),
    ])


def assert_nowhere(result, *values):
    text = json.dumps(result)
    for value in values:
        assert value not in text, '%r appears in %s' % (value, text)


# -- argument spec ------------------------------------------------------------------------------------------------

def test_bad_format_choice_names_the_option_and_the_choices(cores):
    result, failed = run(cores, {'context': 'az2', 'namespace': 'kfuse', 'secrets': [{'name': 'x', 'format': 'vault'}]})
    assert failed
    assert 'format' in result['msg'] and 'vault' in result['msg']
    for choice in FORMATS:
        assert choice in result['msg']
    assert cores['az2'].calls == []


def test_namespace_is_required(cores):
    result, failed = run(cores, {'context': 'az2', 'secrets': []})
    assert failed and 'namespace' in result['msg']
    assert cores['az2'].calls == []


def test_secret_name_is_required(cores):
    result, failed = run(cores, {'namespace': 'kfuse', 'secrets': [{'format': 's3'}]})
    assert failed and 'name' in result['msg']


def test_source_namespace_is_required(cores):
    result, failed = run(cores, {'namespace': 'kfuse', 'source': {'context': 'az1'}, 'secrets': [{'name': 'x'}]})
    assert failed and 'namespace' in result['msg'] and 'source' in result['msg']
    assert cores['az1'].calls == []


def test_unknown_secret_option_is_refused(cores):
    result, failed = run(cores, {'namespace': 'kfuse', 'secrets': [{'name': 'x', 'fromat': 's3'}]})
    assert failed and 'fromat' in result['msg']


def test_defaults_opaque_required_and_no_force(cores):
    cores['az2'].secrets[('kfuse', 'x')] = stored('x', {'k': 'TARGET-X'})
    result, failed = run(cores, {'context': 'az2', 'namespace': 'kfuse', 'secrets': [{'name': 'x'}]})
    assert not failed, result
    assert result['secrets'] == [{'name': 'x', 'namespace': 'kfuse', 'format': 'opaque', 'required': True,
                                  'origin': 'target', 'action': 'present'}]
    assert result['unchanged'] == ['x'] and result['changed'] is False


# -- value is no_log ----------------------------------------------------------------------------------------------

def test_value_is_no_log_in_output_and_invocation(cores):
    args = {'context': 'az2', 'namespace': 'kfuse', 'secrets': [
        {'name': 'pg', 'format': 'postgres', 'value': {'string_data': {'postgresql-password': PG_VALUE}}},
        {'name': 'cloud-storage-secret', 'format': 's3',
         'value': {'data': {'accessKey': b64(S3_ACCESS), 'secretKey': b64(S3_SECRET)}}},
    ]}
    result, failed = run(cores, args, diff=True)
    assert not failed, result
    assert result['created'] == ['pg', 'cloud-storage-secret'] and result['changed'] is True
    assert 'invocation' in result
    invocation = json.dumps(result['invocation'])
    assert 'pg' in invocation and 'cloud-storage-secret' in invocation
    # masked as a no_log option (register_secret alone would show ********)
    logged = result['invocation']['module_args']['secrets']
    assert logged[0]['value'] == {'string_data': {'postgresql-password': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}}
    assert logged[1]['value']['data'] == {'accessKey': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER',
                                          'secretKey': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}
    assert_nowhere(result, PG_VALUE, b64(PG_VALUE), S3_ACCESS, b64(S3_ACCESS), S3_SECRET, b64(S3_SECRET))
    # the secrets were really written, with the values
    body = cores['az2'].body('create_namespaced_secret', 'pg')
    assert base64.b64decode(body['data']['postgresql-password']).decode() == PG_VALUE
    assert result['diff']['after']['pg'] == {'type': 'Opaque', 'keys': ['postgresql-password']}


def test_value_is_masked_when_the_argument_spec_fails_before_the_module_runs(cores):
    args = {'context': 'az2', 'namespace': 'kfuse', 'secrets': [
        {'name': 'pg', 'format': 'postgres', 'value': {'string_data': {'postgresql-password': PG_VALUE}}},
        {'name': 'x', 'format': 'vault'}]}
    result, failed = run(cores, args)
    assert failed and 'format' in result['msg']
    assert_nowhere(result, PG_VALUE)
    assert cores['az2'].calls == []


def test_value_is_no_log_in_the_argument_spec(monkeypatch):
    specs = {}

    def capture(_module, **kwargs):
        specs.update(kwargs['argument_spec'])
        raise SystemExit(0)

    monkeypatch.setattr(secret_sync.KfuseModule, '__init__', capture)
    with pytest.raises(SystemExit):
        secret_sync.main()
    assert specs['secrets']['options']['value'] == {'type': 'dict', 'no_log': True}
    assert specs['secrets']['options']['format']['choices'] == FORMATS


def test_value_is_masked_when_the_module_fails_on_its_format(cores):
    args = {'context': 'az2', 'namespace': 'kfuse', 'secrets': [
        {'name': 'cloud-storage-secret', 'format': 's3', 'value': {'string_data': {'accessKey': S3_ACCESS}}}]}
    result, failed = run(cores, args)
    assert failed
    assert 'cloud-storage-secret: keys accessKey and secretKey must be set (missing: secretKey)' in result['msg']
    assert_nowhere(result, S3_ACCESS, b64(S3_ACCESS))
    assert cores['az2'].writes() == []


def test_values_read_from_the_source_are_masked_even_when_a_library_echoes_them(cores):
    cores['az1'].secrets[('kfuse', 'pg')] = stored('pg', {'postgresql-password': PG_VALUE})
    cores['az2'].failures['create_namespaced_secret'] = ApiException(
        status=422, reason='Unprocessable: data.postgresql-password %s is invalid' % PG_VALUE)
    result, failed = run(cores, {'context': 'az2', 'namespace': 'kfuse', 'source': {'context': 'az1', 'namespace': 'kfuse'},
                                 'secrets': [{'name': 'pg', 'format': 'postgres'}]})
    assert failed and 'cannot create secret kfuse/pg: 422' in result['msg']
    assert_nowhere(result, PG_VALUE, b64(PG_VALUE))


def test_check_mode_reports_without_writing(cores):
    args = {'context': 'az2', 'namespace': 'kfuse', 'secrets': [
        {'name': 'pg', 'format': 'postgres', 'value': {'string_data': {'postgres': PG_VALUE}}}]}
    result, failed = run(cores, args, check_mode=True)
    assert not failed and result['created'] == ['pg'] and result['changed'] is True
    assert cores['az2'].writes() == []


def test_source_failure_carries_cluster_source(cores):
    cores['az1'].failures['read_namespaced_secret'] = ApiException(status=403, reason='Forbidden')
    result, failed = run(cores, {'context': 'az2', 'namespace': 'kfuse', 'source': {'context': 'az1', 'namespace': 'kfuse'},
                                 'secrets': [{'name': 'pg', 'format': 'postgres'}]})
    assert failed and result['cluster'] == 'source'
    assert 'cannot read secret kfuse/pg in the source cluster: 403 Forbidden' in result['msg']


def test_missing_required_fails_with_the_lists(cores):
    result, failed = run(cores, {'context': 'az2', 'namespace': 'kfuse', 'secrets': [{'name': 'pg', 'format': 'postgres'}]})
    assert failed and 'required secrets found nowhere' in result['msg']
    assert result['missing'] == ['pg'] and result['secrets'][0]['action'] == 'missing'
