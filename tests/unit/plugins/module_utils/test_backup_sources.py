# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What goes into a backup set and how it is applied: portable secrets, Helm release decoding, restore decisions."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
import yaml

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from ansible.errors import AnsibleFilterError

from ansible_collections.kfuse.failover.plugins.filter.portable_secret import FilterModule
from ansible_collections.kfuse.failover.plugins.module_utils import _backup_sources as sources
from ansible_collections.kfuse.failover.plugins.module_utils import _secrets as secrets_mod
from ansible_collections.kfuse.failover.plugins.module_utils import _storage_params
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError


def b64(text):
    return base64.b64encode(text.encode()).decode()


CLUSTER_SECRET = {
    'apiVersion': 'v1', 'kind': 'Secret', 'type': 'Opaque',
    'metadata': {
        'name': 'kfuse-pg', 'namespace': 'kfuse', 'uid': '1b2c', 'resourceVersion': '4711',
        'creationTimestamp': '2026-01-01T00:00:00Z', 'generation': 3, 'selfLink': '/api/v1/namespaces/kfuse/secrets/kfuse-pg',
        'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'Deployment', 'name': 'x', 'uid': '9'}],
        'managedFields': [{'manager': 'kubectl'}],
        'labels': {'app': 'kfuse'},
        'annotations': {'kubectl.kubernetes.io/last-applied-configuration': '{"big": true}', 'team': 'obs'},
    },
    'data': {'password': b64('s3cret')},
    'status': {'anything': 1},
}


# -- portable secrets ---------------------------------------------------------------------------------------------

def test_portable_secret_strips_cluster_fields_and_keeps_the_rest():
    result = secrets_mod.portable_secret(CLUSTER_SECRET)
    assert result == {
        'apiVersion': 'v1', 'kind': 'Secret', 'type': 'Opaque',
        'metadata': {'name': 'kfuse-pg', 'namespace': 'kfuse', 'labels': {'app': 'kfuse'}, 'annotations': {'team': 'obs'}},
        'data': {'password': b64('s3cret')},
    }
    # the input is left alone
    assert CLUSTER_SECRET['metadata']['uid'] == '1b2c' and 'status' in CLUSTER_SECRET


def test_portable_secret_drops_emptied_annotations_and_retargets_namespace():
    secret = {'metadata': {'name': 'a', 'namespace': 'x', 'annotations': {secrets_mod.LAST_APPLIED: '{}'}, 'labels': {}},
              'stringData': {'k': 'v'}}
    result = secrets_mod.portable_secret(secret, namespace='y')
    assert result['metadata'] == {'name': 'a', 'namespace': 'y'}
    assert result['apiVersion'] == 'v1' and result['kind'] == 'Secret'
    assert result['stringData'] == {'k': 'v'}


def test_portable_secret_rejects_non_mappings():
    with pytest.raises(sources.SourceError, match='must be a mapping'):
        secrets_mod.portable_secret(['not', 'a', 'secret'])


def test_filter_is_a_thin_wrapper():
    portable = FilterModule().filters()['portable_secret']
    assert portable(CLUSTER_SECRET, namespace='standby')['metadata']['namespace'] == 'standby'
    assert 'uid' not in portable(CLUSTER_SECRET)['metadata']


# -- a fake CoreV1Api -------------------------------------------------------------------------------------------

class FakeCore:
    """Just enough of CoreV1Api: secrets in a dict keyed by (namespace, name), model objects out."""

    def __init__(self, secrets=None):
        self.api_client = k8s_client.ApiClient()
        self.secrets = {}
        self.writes = []
        for secret in secrets or []:
            self.secrets[(secret['metadata']['namespace'], secret['metadata']['name'])] = secret

    def _model(self, secret):
        return self.api_client._ApiClient__deserialize(secret, 'V1Secret')  # pylint: disable=protected-access

    def read_namespaced_secret(self, name, namespace):
        if (namespace, name) not in self.secrets:
            raise ApiException(status=404, reason='Not Found')
        return self._model(self.secrets[(namespace, name)])

    def list_namespaced_secret(self, namespace, label_selector=None):
        wanted = dict(part.split('=', 1) for part in label_selector.split(',')) if label_selector else {}
        items = [self._model(s) for (ns, _n), s in sorted(self.secrets.items()) if ns == namespace
                 and all((s['metadata'].get('labels') or {}).get(k) == v for k, v in wanted.items())]
        return k8s_client.V1SecretList(items=items)

    def create_namespaced_secret(self, namespace, body):
        self.writes.append(('create', namespace, body['metadata']['name']))
        self.secrets[(namespace, body['metadata']['name'])] = body

    def replace_namespaced_secret(self, name, namespace, body):
        self.writes.append(('replace', namespace, name))
        self.secrets[(namespace, name)] = body

    def delete_namespaced_secret(self, name, namespace):
        self.writes.append(('delete', namespace, name))
        del self.secrets[(namespace, name)]


def read_item(item):
    with item.open() as reader:
        return reader.read()


def test_collect_secrets_by_name_and_selector_are_portable_and_deduplicated():
    other = {'metadata': {'name': 'tls', 'namespace': 'kfuse', 'labels': {'app': 'kfuse'}, 'uid': 'u2'},
             'type': 'kubernetes.io/tls', 'data': {'tls.crt': b64('c'), 'tls.key': b64('k')}}
    unrelated = {'metadata': {'name': 'zzz', 'namespace': 'kfuse', 'labels': {'app': 'other'}}, 'data': {}}
    core = FakeCore([CLUSTER_SECRET, other, unrelated])
    items = sources.collect_secrets(core, [{'name': 'kfuse-pg'}, {'label_selector': 'app=kfuse'}], 'kfuse')
    assert [(i.kind, i.name, i.key) for i in items] == [
        ('secret', 'kfuse/kfuse-pg', 'secrets/kfuse/kfuse-pg.json'), ('secret', 'kfuse/tls', 'secrets/kfuse/tls.json')]
    assert all(item.sensitive for item in items)
    stored = json.loads(read_item(items[0]))
    assert 'uid' not in stored['metadata'] and 'resourceVersion' not in stored['metadata']
    assert stored['data'] == {'password': b64('s3cret')}
    assert items[1].meta == {'namespace': 'kfuse', 'type': 'kubernetes.io/tls', 'keys': ['tls.crt', 'tls.key']}


def test_collect_secrets_missing_name_fails_unless_optional():
    core = FakeCore([])
    with pytest.raises(sources.SourceError, match='cannot read secret kfuse/absent: 404'):
        sources.collect_secrets(core, [{'name': 'absent'}], 'kfuse')
    assert sources.collect_secrets(core, [{'name': 'absent', 'optional': True}], 'kfuse') == []


# -- Helm release values ----------------------------------------------------------------------------------------

def helm_storage_secret(release, revision, status, config, namespace='kfuse', gzipped=True):
    document = {'name': release, 'version': revision, 'namespace': namespace, 'info': {'status': status},
                'chart': {'metadata': {'name': 'kfuse', 'version': '3.4.0', 'appVersion': '3.4'}},
                'config': config}
    raw = json.dumps(document).encode()
    helm_encoded = base64.b64encode(gzip.compress(raw) if gzipped else raw)
    return {'metadata': {'name': 'sh.helm.release.v1.%s.v%d' % (release, revision), 'namespace': namespace,
                         'labels': {'owner': 'helm', 'name': release, 'status': status, 'version': str(revision)}},
            'type': 'helm.sh/release.v1',
            'data': {'release': base64.b64encode(helm_encoded).decode()}}


@pytest.mark.parametrize('gzipped', [True, False])
def test_decode_helm_release_both_levels_and_uncompressed(gzipped):
    secret = helm_storage_secret('kfuse', 1, 'deployed', {'global': {'x': 1}}, gzipped=gzipped)
    api_value = secret['data']['release']
    assert sources.decode_helm_release(api_value)['config'] == {'global': {'x': 1}}
    assert sources.decode_helm_release(base64.b64decode(api_value))['config'] == {'global': {'x': 1}}


def test_decode_helm_release_rejects_garbage():
    with pytest.raises(sources.SourceError, match='neither base64, gzip nor JSON'):
        sources.decode_helm_release('%%% not base64 %%%')


def test_helm_values_of_the_newest_deployed_revision():
    core = FakeCore([
        helm_storage_secret('kfuse', 1, 'superseded', {'replicas': 1}),
        helm_storage_secret('kfuse', 2, 'deployed', {'replicas': 2, 'global': {'cloudStorage': {'type': 's3'}}}),
        helm_storage_secret('kfuse', 3, 'failed', {'replicas': 3}),
        helm_storage_secret('other', 7, 'deployed', {'replicas': 9}),
    ])
    item = sources.helm_values_item(core, 'kfuse', 'kfuse')
    assert item.key == 'helm/kfuse/values.yaml' and item.kind == 'helm_values'
    assert yaml.safe_load(read_item(item)) == {'replicas': 2, 'global': {'cloudStorage': {'type': 's3'}}}
    assert item.meta['revision'] == 2 and item.meta['chart'] == 'kfuse' and item.meta['chart_version'] == '3.4.0'


def test_helm_release_without_deployed_revision_names_what_it_saw():
    core = FakeCore([helm_storage_secret('kfuse', 1, 'failed', {})])
    with pytest.raises(sources.SourceError, match=r'no deployed revision .*sh.helm.release.v1.kfuse.v1 \(failed\)'):
        sources.helm_release_values(core, 'kfuse', 'kfuse')


# -- files ------------------------------------------------------------------------------------------------------

def test_file_item_streams_the_file(tmp_path):
    path = tmp_path / 'values-az1.yaml'
    path.write_bytes(b'a: 1\n')
    item = sources.file_item(str(path))
    assert (item.name, item.key, item.size) == ('values-az1.yaml', 'files/values-az1.yaml', 5)
    assert read_item(item) == b'a: 1\n'
    assert sources.file_item(str(path), name='../x y').key == 'files/_x_y'
    with pytest.raises(sources.SourceError, match='is not a readable file'):
        sources.file_item(str(tmp_path / 'absent'))


# -- restore decisions ------------------------------------------------------------------------------------------

DESIRED = secrets_mod.portable_secret(CLUSTER_SECRET)


@pytest.mark.parametrize('existing, overwrite, action', [
    (None, False, 'created'),
    (None, True, 'created'),
    (dict(DESIRED, metadata={'name': 'kfuse-pg', 'labels': {'other': 'x'}}), False, 'unchanged'),
    ({'metadata': {}, 'stringData': {'password': 's3cret'}}, False, 'unchanged'),
    ({'metadata': {}, 'data': {'password': b64('old')}}, False, 'kept'),
    ({'metadata': {}, 'data': {'password': b64('old')}}, True, 'updated'),
    ({'metadata': {}, 'type': 'kubernetes.io/tls', 'data': DESIRED['data']}, False, 'kept'),
])
def test_decide_secret_restore(existing, overwrite, action):
    assert secrets_mod.decide_secret_restore(existing, DESIRED, overwrite) == action


def test_apply_secrets_reports_each_and_writes_only_what_it_must():
    core = FakeCore([
        {'metadata': {'name': 'same', 'namespace': 'standby', 'resourceVersion': '5'}, 'data': {'a': b64('1')}},
        {'metadata': {'name': 'differs', 'namespace': 'standby', 'resourceVersion': '6'}, 'data': {'a': b64('old')}},
    ])
    backup = [
        {'metadata': {'name': 'same', 'namespace': 'kfuse'}, 'data': {'a': b64('1')}},
        {'metadata': {'name': 'differs', 'namespace': 'kfuse'}, 'data': {'a': b64('new')}},
        {'metadata': {'name': 'fresh', 'namespace': 'kfuse', 'uid': 'x'}, 'data': {'a': b64('2')}},
    ]
    planned = secrets_mod.apply_secrets(core, backup, namespace='standby', check_mode=True)
    assert [(r['name'], r['namespace'], r['action']) for r in planned] == [
        ('same', 'standby', 'unchanged'), ('differs', 'standby', 'kept'), ('fresh', 'standby', 'created')]
    assert core.writes == []

    secrets_mod.apply_secrets(core, backup, namespace='standby')
    assert core.writes == [('create', 'standby', 'fresh')]
    assert 'uid' not in core.secrets[('standby', 'fresh')]['metadata']

    replaced = secrets_mod.apply_secrets(core, backup, namespace='standby', overwrite=True)
    assert [r['action'] for r in replaced] == ['unchanged', 'updated', 'unchanged']
    assert core.writes[-1] == ('replace', 'standby', 'differs')
    assert core.secrets[('standby', 'differs')]['data'] == {'a': b64('new')}
    # replace carries the live resourceVersion so a concurrent change gets a 409 instead of being lost
    assert core.secrets[('standby', 'differs')]['metadata']['resourceVersion'] == '6'


def test_apply_secrets_changes_type_by_delete_then_create():
    core = FakeCore([{'metadata': {'name': 't', 'namespace': 'ns'}, 'type': 'Opaque', 'data': {'a': b64('1')}}])
    backup = [{'metadata': {'name': 't', 'namespace': 'ns'}, 'type': 'kubernetes.io/tls', 'data': {'a': b64('1')}}]
    assert secrets_mod.apply_secrets(core, backup, overwrite=True)[0]['action'] == 'updated'
    assert core.writes == [('delete', 'ns', 't'), ('create', 'ns', 't')]


# -- storage options ---------------------------------------------------------------------------------------------

def storage_params(**overrides):
    params = {'cloud_storage': {'type': 's3', 's3': {'region': 'us-east-1', 'bucket': 'kfuse-backups'}},
              'storage_credentials': None, 'storage_credentials_file': None, 'storage_credentials_secret': None,
              'storage_ambient': True, 'validate_certs': True, 'ca_path': None, 'server_side_encryption': None,
              'storage_timeout': 60.0}
    params.update(overrides)
    return params


@pytest.mark.parametrize('overrides, message', [
    ({'cloud_storage': {'type': 'ftp'}}, "cloud_storage.type must be one of s3, gcs, azure, got 'ftp'"),
    ({'cloud_storage': {'type': 's3', 's3': {'region': 'us-east-1'}}}, 'cloud_storage.s3.bucket is required'),
    ({'storage_credentials': {'access_key': 'a', 'secret_key': 'b'}}, 'use only one of'),
    ({'storage_ambient': False}, 'one of storage_credentials, storage_credentials_file'),
    ({'storage_timeout': 0}, 'storage_timeout must be a positive'),
    ({'server_side_encryption': {'s3': {'mode': 'rot13'}}}, 'server_side_encryption.s3.mode must be one of'),
])
def test_storage_config_fails_naming_the_option(overrides, message):
    with pytest.raises(KfuseError) as info:
        _storage_params.storage_config(storage_params(**overrides))
    assert message in str(info.value)


def test_storage_config_accepts_a_valid_shape():
    assert _storage_params.storage_config(storage_params())['s3']['bucket'] == 'kfuse-backups'


@pytest.mark.parametrize('secret, field', [
    (None, 'a Secret must be a mapping'), ('x', 'a Secret must be a mapping'), ({}, 'metadata.name'),
    ({'metadata': None}, 'metadata.name'), ({'metadata': {'name': 5}}, 'metadata.name'),
    ({'kind': 'ConfigMap', 'metadata': {'name': 'a'}}, 'kind must be Secret'),
    ({'metadata': {'name': 'a', 'annotations': 'x'}}, 'metadata.annotations must be a mapping'),
    ({'metadata': {'name': 'a', 'labels': ['x']}}, 'metadata.labels must be a mapping'),
    ({'metadata': {'name': 'a'}, 'data': 'x'}, 'data must be a mapping'),
    ({'metadata': {'name': 'a'}, 'stringData': [1]}, 'stringData must be a mapping'),
])
def test_portable_secret_filter_refuses_a_malformed_object_naming_the_field(secret, field):
    with pytest.raises(AnsibleFilterError, match=field):
        FilterModule().filters()['portable_secret'](secret)
