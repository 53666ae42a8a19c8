# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""sync_secrets against two fake CoreV1Api (source and target cluster), reached through kube.new_api_client."""

from __future__ import annotations

import base64
import json
import socket

import pytest
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from ansible_collections.kfuse.failover.plugins.module_utils import _secret_sync
from ansible_collections.kfuse.failover.plugins.module_utils import kube
from ansible_collections.kfuse.failover.plugins.module_utils._secret_sync import secret_from_value, sync_secrets
from ansible_collections.kfuse.failover.plugins.module_utils.errors import (
    KfuseError, KubeError, OptionError, SourceError)

NS = 'kfuse'
WRITES = ('create_namespaced_secret', 'replace_namespaced_secret', 'delete_namespaced_secret')


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def stored(name, data, kind='Opaque', namespace=NS, **metadata):
    """A secret as a cluster holds it: with the fields that tie it to that cluster."""
    found = {'apiVersion': 'v1', 'kind': 'Secret', 'type': kind,
             'metadata': dict({'name': name, 'namespace': namespace, 'uid': 'uid-' + name, 'resourceVersion': '41',
                               'creationTimestamp': '2026-01-01T00:00:00Z',
                               'managedFields': [{'manager': 'kubectl'}]}, **metadata),
             'data': {key: b64(value) for key, value in data.items()}}
    return found


S3_SOURCE = {'accessKey': 'AKIA-SOURCE-ACCESS', 'secretKey': 'SOURCE-S3-SECRET-KEY'}
S3_TARGET = {'accessKey': 'AKIA-TARGET-ACCESS', 'secretKey': 'TARGET-S3-SECRET-KEY'}
PG_VALUE = 'VALUE-PG-PASSWORD-xyz'


class FakeCore:
    """Just enough of CoreV1Api for one namespace of one cluster; every call recorded, any call may be made to fail."""

    def __init__(self, secrets=(), failures=None):
        self.api_client = k8s_client.ApiClient()
        self.secrets = {(s['metadata']['namespace'], s['metadata']['name']): s for s in secrets}
        self.calls = []
        self.failures = dict(failures or {})

    def _record(self, method, *args, **kwargs):
        self.calls.append((method,) + args + tuple(sorted(kwargs.items())))
        failure = self.failures.get(method)
        if failure is not None:
            raise failure

    def _model(self, found):
        return self.api_client._ApiClient__deserialize(found, 'V1Secret')  # pylint: disable=protected-access

    def read_namespaced_secret(self, name, namespace):
        self._record('read_namespaced_secret', name, namespace)
        if (namespace, name) not in self.secrets:
            raise ApiException(status=404, reason='Not Found')
        return self._model(self.secrets[(namespace, name)])

    def list_namespaced_secret(self, namespace, label_selector=None):
        self._record('list_namespaced_secret', namespace, label_selector=label_selector)
        key, _sep, value = label_selector.partition('=')
        items = [self._model(s) for (ns, _n), s in sorted(self.secrets.items())
                 if ns == namespace and (s['metadata'].get('labels') or {}).get(key) == value]
        return k8s_client.V1SecretList(items=items)

    def create_namespaced_secret(self, namespace, body):
        self._record('create_namespaced_secret', namespace, body)
        self.secrets[(namespace, body['metadata']['name'])] = body

    def replace_namespaced_secret(self, name, namespace, body):
        self._record('replace_namespaced_secret', name, namespace, body)
        self.secrets[(namespace, name)] = body

    def delete_namespaced_secret(self, name, namespace):
        self._record('delete_namespaced_secret', name, namespace)
        del self.secrets[(namespace, name)]

    def writes(self):
        return [call for call in self.calls if call[0] in WRITES]

    def body(self, method, name):
        """The body of the last ``method`` call (create or replace) for secret ``name``."""
        bodies = [call for call in self.calls if call[0] == method and call[-1]['metadata']['name'] == name]
        assert bodies, 'no %s of %s in %r' % (method, name, self.calls)
        return bodies[-1][-1]


class Clusters:
    """The clusters kube.new_api_client can reach, by context; records which (kubeconfig, context) were asked for."""

    def __init__(self, monkeypatch, **cores):
        self.cores = cores
        self.asked = []
        self.unreachable = {}
        monkeypatch.setattr(kube, 'new_api_client', self.new_api_client)
        monkeypatch.setattr(kube.k8s_client, 'CoreV1Api', self.core_v1_api)

    def new_api_client(self, kubeconfig=None, context=None):
        self.asked.append((kubeconfig, context))
        if context in self.unreachable:
            raise self.unreachable[context]
        return ('api-client', context)

    def core_v1_api(self, api_client):
        assert api_client[0] == 'api-client'
        return self.cores[api_client[1]]


@pytest.fixture(name='clusters')
def fixture_clusters(monkeypatch):
    """Source cluster az1 and target cluster az2 (both empty; tests fill them)."""
    return Clusters(monkeypatch, az1=FakeCore(), az2=FakeCore())


def params(secrets, source=True, **extra):
    result = {'secrets': secrets, 'selectors': [], 'kubeconfig': '/kc/az2', 'context': 'az2', 'namespace': NS,
              'source': {'kubeconfig': '/kc/az1', 'context': 'az1', 'namespace': NS} if source else None,
              'force': False, 'fail_on_missing': True}
    result.update(extra)
    return result


def entry(name, fmt='opaque', required=True, value=None):
    return {'name': name, 'format': fmt, 'required': required, 'value': value}


def decoded(found):
    return {key: base64.b64decode(value).decode() for key, value in (found.get('data') or {}).items()}


# -- secret_from_value --------------------------------------------------------------------------------------------

def test_secret_from_value_folds_string_data_into_base64_data():
    found = secret_from_value('pg', {'string_data': {'postgresql-password': PG_VALUE}, 'data': {'x': b64('y')}})
    assert found == {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'pg'}, 'type': 'Opaque',
                     'data': {'x': b64('y'), 'postgresql-password': b64(PG_VALUE)}}


def test_secret_from_value_keeps_the_type():
    found = secret_from_value('tls', {'type': 'kubernetes.io/tls', 'string_data': {'tls.crt': 'c', 'tls.key': 'k'}})
    assert found['type'] == 'kubernetes.io/tls'


def test_secret_from_value_refuses_non_base64_data_naming_the_key_not_the_value():
    with pytest.raises(OptionError) as info:
        secret_from_value('pg', {'data': {'postgresql-password': 'NOT-BASE64-VALUE!!'}})
    assert 'secrets[pg].value.data.postgresql-password must be base64' in str(info.value)
    assert 'NOT-BASE64-VALUE' not in str(info.value)


def test_secret_from_value_refuses_unknown_keys():
    with pytest.raises(OptionError, match=r'secrets\[pg\].value: unknown keys stringData; accepted'):
        secret_from_value('pg', {'stringData': {'postgresql-password': PG_VALUE}})


# -- where the wanted content comes from ------------------------------------------------------------------------

def test_value_wins_over_the_source(clusters):
    clusters.cores['az1'].secrets[(NS, 'pg')] = stored('pg', {'postgresql-password': 'SOURCE-PG-PASSWORD'})
    result = sync_secrets(params([entry('pg', 'postgres', value={'string_data': {'postgresql-password': PG_VALUE}})]))
    assert ('read_namespaced_secret', 'pg', NS) not in clusters.cores['az1'].calls
    assert result['secrets'] == [{'name': 'pg', 'namespace': NS, 'format': 'postgres', 'required': True,
                                  'origin': 'value', 'action': 'created'}]
    assert decoded(clusters.cores['az2'].secrets[(NS, 'pg')]) == {'postgresql-password': PG_VALUE}
    assert result['created'] == ['pg'] and result['changed'] is True


def test_source_copy_is_made_portable_and_retargeted(clusters):
    source = stored('cloud-storage-secret', S3_SOURCE, namespace='kfuse-az1', labels={'app': 'kfuse'},
                    annotations={'kubectl.kubernetes.io/last-applied-configuration': '{}', 'team': 'obs'},
                    ownerReferences=[{'apiVersion': 'v1', 'kind': 'ConfigMap', 'name': 'o', 'uid': 'u'}])
    clusters.cores['az1'].secrets[('kfuse-az1', 'cloud-storage-secret')] = source
    args = params([entry('cloud-storage-secret', 's3')])
    args['source']['namespace'] = 'kfuse-az1'
    result = sync_secrets(args)
    assert clusters.asked == [('/kc/az1', 'az1'), ('/kc/az2', 'az2')]
    body = clusters.cores['az2'].body('create_namespaced_secret', 'cloud-storage-secret')
    assert body['metadata'] == {'name': 'cloud-storage-secret', 'namespace': NS, 'labels': {'app': 'kfuse'},
                                'annotations': {'team': 'obs'}}
    assert body['type'] == 'Opaque' and decoded(body) == S3_SOURCE
    assert [call[:2] for call in clusters.cores['az2'].writes()] == [('create_namespaced_secret', NS)]
    assert result['secrets'][0]['origin'] == 'source' and result['created'] == ['cloud-storage-secret']


def test_selectors_copy_every_match_as_optional_opaque(clusters):
    source = clusters.cores['az1']
    source.secrets[(NS, 'a')] = stored('a', {'k': 'SRC-A'}, labels={'app.kubernetes.io/part-of': 'kfuse'})
    source.secrets[(NS, 'b')] = stored('b', {'k': 'SRC-B'}, labels={'app.kubernetes.io/part-of': 'other'})
    source.secrets[(NS, 'pg')] = stored('pg', {'postgresql-password': 'SRC-PG'},
                                        labels={'app.kubernetes.io/part-of': 'kfuse'})
    result = sync_secrets(params([entry('pg', 'postgres')], selectors=['app.kubernetes.io/part-of=kfuse']))
    assert [(r['name'], r['format'], r['required'], r['origin'], r['action']) for r in result['secrets']] == [
        ('pg', 'postgres', True, 'source', 'created'), ('a', 'opaque', False, 'source', 'created')]
    assert sorted(name for _ns, name in clusters.cores['az2'].secrets) == ['a', 'pg']


def test_selectors_need_a_source(clusters):
    with pytest.raises(OptionError, match='selectors: copying by label needs source'):
        sync_secrets(params([], source=False, selectors=['app=kfuse']))
    assert clusters.asked == []


def test_duplicate_names_are_refused_before_any_cluster_is_reached(clusters):
    with pytest.raises(OptionError) as info:
        sync_secrets(params([entry('a'), entry('b'), entry('a'), entry('b'), entry('c')]))
    assert str(info.value) == 'secrets: each name once; repeated: a, b'
    assert clusters.asked == []


# -- formats are checked before anything is written --------------------------------------------------------------

def test_wrong_format_of_a_wanted_secret_fails_before_any_write(clusters):
    lone_access_key = stored('cloud-storage-secret', {'accessKey': 'AKIA-ONLY'})
    clusters.cores['az1'].secrets[(NS, 'cloud-storage-secret')] = lone_access_key
    secrets = [entry('pg', 'postgres', value={'string_data': {'postgresql-password': PG_VALUE}}),
               entry('cloud-storage-secret', 's3'),
               entry('tls', 'tls', value={'string_data': {'tls.crt': 'CERT-TEXT', 'tls.key': 'TLS-KEY-TEXT'}})]
    with pytest.raises(OptionError) as info:
        sync_secrets(params(secrets, force=True))
    message = str(info.value)
    assert 'nothing was changed' in message
    assert 'cloud-storage-secret: keys accessKey and secretKey must be set (missing: secretKey)' in message
    assert 'tls: type must be kubernetes.io/tls, got Opaque' in message
    assert info.value.result['problems'] == [
        'cloud-storage-secret: keys accessKey and secretKey must be set (missing: secretKey)',
        'tls: type must be kubernetes.io/tls, got Opaque']
    for value in ('AKIA-ONLY', 'CERT-TEXT', 'TLS-KEY-TEXT', PG_VALUE):
        assert value not in message
    assert clusters.cores['az2'].writes() == [] and clusters.cores['az1'].writes() == []
    # the target is not even read before the check
    assert clusters.cores['az2'].calls == []


def test_wanted_secret_with_an_empty_value_is_refused(clusters):
    with pytest.raises(OptionError, match='pg: key postgresql-password'):
        sync_secrets(params([entry('pg', 'postgres', value={'data': {'postgresql-password': ''}})], source=False))
    assert clusters.cores['az2'].writes() == []


def test_non_base64_value_data_is_refused_before_any_cluster_is_reached(clusters):
    with pytest.raises(OptionError) as info:
        sync_secrets(params([entry('pg', 'postgres', value={'data': {'postgresql-password': 'PLAIN TEXT PW!'}})]))
    assert 'postgresql-password must be base64' in str(info.value) and 'PLAIN TEXT PW!' not in str(info.value)
    assert clusters.asked == []


# -- applying ---------------------------------------------------------------------------------------------------

def test_differing_target_is_kept_without_force(clusters):
    clusters.cores['az1'].secrets[(NS, 's3')] = stored('s3', S3_SOURCE)
    clusters.cores['az2'].secrets[(NS, 's3')] = stored('s3', S3_TARGET)
    result = sync_secrets(params([entry('s3', 's3')]))
    assert result['kept'] == ['s3'] and result['updated'] == [] and result['changed'] is False
    assert clusters.cores['az2'].writes() == []
    assert decoded(clusters.cores['az2'].secrets[(NS, 's3')]) == S3_TARGET


def test_force_replaces_a_differing_target(clusters):
    clusters.cores['az1'].secrets[(NS, 's3')] = stored('s3', S3_SOURCE)
    clusters.cores['az2'].secrets[(NS, 's3')] = stored('s3', S3_TARGET)
    result = sync_secrets(params([entry('s3', 's3')], force=True))
    assert result['updated'] == ['s3'] and result['changed'] is True
    assert [call[0] for call in clusters.cores['az2'].writes()] == ['replace_namespaced_secret']
    body = clusters.cores['az2'].body('replace_namespaced_secret', 's3')
    assert decoded(body) == S3_SOURCE and body['metadata']['resourceVersion'] == '41'


def test_force_with_another_type_deletes_then_creates(clusters):
    clusters.cores['az2'].secrets[(NS, 'tls')] = stored('tls', {'tls.crt': 'OLD', 'tls.key': 'OLD-KEY'})
    value = {'type': 'kubernetes.io/tls', 'string_data': {'tls.crt': 'NEW-CERT', 'tls.key': 'NEW-KEY'}}
    result = sync_secrets(params([entry('tls', 'tls', value=value)], source=False, force=True))
    assert result['updated'] == ['tls']
    assert [call[0] for call in clusters.cores['az2'].writes()] == ['delete_namespaced_secret',
                                                                    'create_namespaced_secret']
    assert clusters.cores['az2'].secrets[(NS, 'tls')]['type'] == 'kubernetes.io/tls'


def test_same_content_is_unchanged(clusters):
    clusters.cores['az1'].secrets[(NS, 's3')] = stored('s3', S3_SOURCE)
    clusters.cores['az2'].secrets[(NS, 's3')] = stored('s3', S3_SOURCE, labels={'other': 'labels'})
    result = sync_secrets(params([entry('s3', 's3')], force=True))
    assert result['unchanged'] == ['s3'] and result['changed'] is False
    assert clusters.cores['az2'].writes() == []


# -- missing and present ------------------------------------------------------------------------------------------

def test_missing_required_fails_with_the_result_keys(clusters):
    clusters.cores['az2'].secrets[(NS, 'pg')] = stored('pg', {'postgresql-password': 'TARGET-PG'})
    secrets = [entry('absent', 's3'), entry('pg', 'postgres'), entry('optional', required=False)]
    with pytest.raises(KfuseError) as info:
        sync_secrets(params(secrets))
    assert type(info.value) is KfuseError  # pylint: disable=unidiomatic-typecheck
    assert 'required secrets found nowhere' in str(info.value) and 'absent' in str(info.value)
    assert 'optional' not in str(info.value)
    result = info.value.result
    assert result['missing'] == ['absent', 'optional']
    assert result['unchanged'] == ['pg'] and result['created'] == [] and result['changed'] is False
    assert [(r['name'], r['origin'], r['action']) for r in result['secrets']] == [
        ('absent', 'none', 'missing'), ('pg', 'target', 'present'), ('optional', 'none', 'missing')]
    assert info.value.fail_result()['missing'] == ['absent', 'optional']


def test_missing_required_is_only_reported_without_fail_on_missing(clusters):
    result = sync_secrets(params([entry('absent', 's3')], fail_on_missing=False))
    assert result['missing'] == ['absent'] and result['changed'] is False


def test_optional_missing_does_not_fail(clusters):
    result = sync_secrets(params([entry('sso', 'sso_google', required=False)]))
    assert result['missing'] == ['sso']
    assert result['secrets'] == [{'name': 'sso', 'namespace': NS, 'format': 'sso_google', 'required': False,
                                  'origin': 'none', 'action': 'missing'}]


def test_present_in_target_with_the_wrong_format_fails(clusters):
    clusters.cores['az2'].secrets[(NS, 'pg')] = stored('pg', {'password': 'TARGET-PG-WRONG-KEY'})
    with pytest.raises(KfuseError) as info:
        sync_secrets(params([entry('pg', 'postgres')], source=False))
    assert 'secrets in namespace kfuse do not fit their format' in str(info.value)
    assert 'pg: key postgresql-password (or the older postgres) must be set' in str(info.value)
    assert 'TARGET-PG-WRONG-KEY' not in str(info.value) and b64('TARGET-PG-WRONG-KEY') not in str(info.value)
    assert info.value.result['secrets'][0]['problem'] == 'key postgresql-password (or the older postgres) must be set'
    assert clusters.cores['az2'].writes() == []


def test_failure_after_writes_reports_what_was_changed(clusters):
    clusters.cores['az2'].secrets[(NS, 'pg')] = stored('pg', {'password': 'TARGET-PG-WRONG-KEY'})
    secrets = [entry('s3', 's3', value={'string_data': S3_SOURCE}), entry('pg', 'postgres')]
    with pytest.raises(KfuseError, match='do not fit their format') as info:
        sync_secrets(params(secrets, source=False))
    assert info.value.result['changed'] is True and info.value.result['created'] == ['s3']
    assert [call[0] for call in clusters.cores['az2'].writes()] == ['create_namespaced_secret']


def test_present_in_target_with_the_right_format_is_unchanged(clusters):
    clusters.cores['az2'].secrets[(NS, 'pg')] = stored('pg', {'postgres': 'TARGET-PG'})
    result = sync_secrets(params([entry('pg', 'postgres')], source=False))
    assert result['unchanged'] == ['pg'] and result['secrets'][0]['action'] == 'present'
    assert 'problem' not in result['secrets'][0]
    assert clusters.asked == [('/kc/az2', 'az2')]


# -- check mode and diff ------------------------------------------------------------------------------------------

def test_check_mode_writes_nothing_but_reports(clusters):
    clusters.cores['az1'].secrets[(NS, 's3')] = stored('s3', S3_SOURCE)
    clusters.cores['az1'].secrets[(NS, 'upd')] = stored('upd', {'k': 'NEW'})
    clusters.cores['az2'].secrets[(NS, 'upd')] = stored('upd', {'k': 'OLD'})
    result = sync_secrets(params([entry('s3', 's3'), entry('upd')], force=True), check_mode=True)
    assert result['created'] == ['s3'] and result['updated'] == ['upd'] and result['changed'] is True
    assert clusters.cores['az2'].writes() == []
    assert (NS, 's3') not in clusters.cores['az2'].secrets


def test_diff_shows_type_and_key_names_never_values(clusters):
    clusters.cores['az1'].secrets[(NS, 's3')] = stored('s3', S3_SOURCE)
    clusters.cores['az1'].secrets[(NS, 'upd')] = stored('upd', {'k': 'NEW-UPD-VALUE'})
    clusters.cores['az2'].secrets[(NS, 'upd')] = stored('upd', {'k': 'OLD-UPD-VALUE', 'gone': 'OLD-GONE-VALUE'})
    clusters.cores['az2'].secrets[(NS, 'same')] = stored('same', {'k': 'SAME-VALUE'})
    clusters.cores['az1'].secrets[(NS, 'same')] = stored('same', {'k': 'SAME-VALUE'})
    result = sync_secrets(params([entry('s3', 's3'), entry('upd'), entry('same')], force=True), diff=True)
    assert result['diff'] == {
        'before': {'s3': None, 'upd': {'type': 'Opaque', 'keys': ['gone', 'k']}},
        'after': {'s3': {'type': 'Opaque', 'keys': ['accessKey', 'secretKey']}, 'upd': {'type': 'Opaque', 'keys': ['k']}},
    }
    text = json.dumps(result)
    for value in list(S3_SOURCE.values()) + ['NEW-UPD-VALUE', 'OLD-UPD-VALUE', 'OLD-GONE-VALUE', 'SAME-VALUE']:
        assert value not in text and b64(value) not in text


def test_no_diff_key_without_diff(clusters):
    assert 'diff' not in sync_secrets(params([entry('x', required=False)], source=False))


# -- secrets are registered for masking ---------------------------------------------------------------------------

def test_register_secret_receives_decoded_and_base64_values(clusters):
    clusters.cores['az1'].secrets[(NS, 's3')] = stored('s3', S3_SOURCE)
    clusters.cores['az2'].secrets[(NS, 'present')] = stored('present', {'k': 'TARGET-ONLY-VALUE'})
    registered = []
    sync_secrets(params([entry('s3', 's3'), entry('pg', 'postgres', value={'string_data': {'postgres': PG_VALUE}}),
                         entry('present')]),
                 register_secret=lambda *values: registered.extend(values))
    flat = [item for value in registered for item in (value if isinstance(value, list) else [value])]
    for value in list(S3_SOURCE.values()) + [PG_VALUE, 'TARGET-ONLY-VALUE']:
        assert value in flat and b64(value) in flat


def test_wanted_values_are_registered_before_the_format_check_fails(clusters):
    registered = []
    with pytest.raises(OptionError):
        sync_secrets(params([entry('s3', 's3', value={'string_data': {'accessKey': 'AKIA-LONE'}})], source=False),
                     register_secret=lambda *values: registered.extend(values))
    assert any('AKIA-LONE' in value and b64('AKIA-LONE') in value for value in registered)


# -- errors say which cluster failed ------------------------------------------------------------------------------

def test_source_read_refused_connection_is_a_source_error_of_the_source(clusters):
    clusters.cores['az1'].failures['read_namespaced_secret'] = ConnectionRefusedError(111, 'Connection refused')
    with pytest.raises(SourceError) as info:
        sync_secrets(params([entry('s3', 's3')]))
    assert info.value.result['cluster'] == 'source'
    assert info.value.fail_result()['cluster'] == 'source'
    assert 'cannot reach the source cluster to read secret kfuse/s3' in str(info.value)
    assert clusters.cores['az2'].calls == []


def test_source_read_api_error_is_a_source_error_of_the_source(clusters):
    clusters.cores['az1'].failures['read_namespaced_secret'] = ApiException(status=403, reason='Forbidden')
    with pytest.raises(SourceError) as info:
        sync_secrets(params([entry('s3', 's3')]))
    assert info.value.result == {'cluster': 'source'}
    assert 'cannot read secret kfuse/s3 in the source cluster: 403 Forbidden' in str(info.value)


def test_source_configuration_error_is_a_source_error_of_the_source(clusters):
    clusters.unreachable['az1'] = KubeError('cannot load Kubernetes configuration (kubeconfig=/kc/az1)')
    with pytest.raises(SourceError) as info:
        sync_secrets(params([entry('s3', 's3')]))
    assert info.value.result['cluster'] == 'source'
    assert 'cannot reach the source cluster' in str(info.value)


def test_target_errors_say_target(clusters):
    clusters.cores['az2'].failures['read_namespaced_secret'] = ApiException(status=500, reason='Internal')
    with pytest.raises(SourceError) as info:
        sync_secrets(params([entry('s3', required=False)], source=False))
    assert info.value.result['cluster'] == 'target'
    clusters.unreachable['az2'] = KubeError('no context az2')
    with pytest.raises(SourceError) as info:
        sync_secrets(params([entry('s3', required=False)], source=False))
    assert info.value.result['cluster'] == 'target'


def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def test_source_refusing_connections_with_the_real_client_is_a_source_error(monkeypatch):
    configuration = k8s_client.Configuration()
    configuration.host = 'http://127.0.0.1:%d' % closed_port()
    target = FakeCore()
    monkeypatch.setattr(kube, 'new_api_client', lambda kubeconfig=None, context=None: (
        k8s_client.ApiClient(configuration) if context == 'az1' else ('api-client', context)))
    real_core = k8s_client.CoreV1Api
    monkeypatch.setattr(kube.k8s_client, 'CoreV1Api', lambda client: (
        real_core(client) if isinstance(client, k8s_client.ApiClient) else target))
    with pytest.raises(SourceError) as info:
        sync_secrets(params([entry('s3', 's3')]))
    assert info.value.result['cluster'] == 'source'


def test_source_list_error_is_a_source_error_of_the_source(clusters):
    clusters.cores['az1'].failures['list_namespaced_secret'] = ConnectionRefusedError(111, 'Connection refused')
    with pytest.raises(SourceError) as info:
        sync_secrets(params([entry('pg', 'postgres', value={'string_data': {'postgres': PG_VALUE}})],
                            selectors=['app=kfuse']))
    assert info.value.result.get('cluster') == 'source'


def test_target_is_not_reached_when_the_source_fails(clusters):
    clusters.cores['az1'].failures['read_namespaced_secret'] = ApiException(status=401, reason='Unauthorized')
    with pytest.raises(SourceError):
        sync_secrets(params([entry('s3', 's3')]))
    assert clusters.asked == [('/kc/az1', 'az1')]


def test_action_lists_are_the_module_contract():
    assert _secret_sync.ACTION_LISTS == ('created', 'updated', 'unchanged', 'kept', 'missing')
