# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Decision logic of backup, backup_info and backup_restore with an in-memory store and a fake Kubernetes API."""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _backup_read
from ansible_collections.kfuse.failover.plugins.module_utils import _backup_tasks as tasks
from ansible_collections.kfuse.failover.plugins.module_utils import _crypto
from ansible_collections.kfuse.failover.plugins.module_utils.errors import BackupSetError
from ansible_collections.kfuse.failover.plugins.modules import backup, backup_info, backup_restore
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.fake_store import FakeStore
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.test_backup_sources import (
    FakeCore,
    helm_storage_secret,
)

S3 = {'type': 's3', 's3': {'region': 'us-east-1', 'bucket': 'kfuse-backups'}}
PASS = 'correct horse battery staple'
PREFIX = 'kfuse-failover/backups/az1/'


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(name='world')
def fixture_world(monkeypatch):
    """One FakeStore and one FakeCore behind every module run; cheap scrypt so tests stay fast."""
    store = FakeStore()
    core = FakeCore([
        {'metadata': {'name': 'kfuse-pg', 'namespace': 'kfuse', 'uid': 'u1', 'labels': {'app': 'kfuse'}},
         'type': 'Opaque', 'data': {'password': b64('pg-secret')}},
        helm_storage_secret('kfuse', 1, 'deployed', {'global': {'zone': 'az1'}}),
    ])
    monkeypatch.setattr(tasks, 'open_store_from_params', lambda params, config=None, register_secret=None: (store, None))
    monkeypatch.setattr(tasks, '_core_v1', lambda factory: core)
    monkeypatch.setattr(_crypto, 'DEFAULT_KDF_PARAMS', {'n': 2 ** 10, 'r': 8, 'p': 1})
    return store, core


def base_args(**extra):
    args = {'cloud_storage': S3, 'storage_ambient': True, 'zone': 'az1'}
    args.update(extra)
    return args


SOURCES = {'secrets': [{'name': 'kfuse-pg'}], 'helm_releases': [{'name': 'kfuse'}]}


def writes(store):
    return [key for op, key in store.calls if op == 'put']


# -- bad input fails before any write ----------------------------------------------------------------------------

@pytest.mark.parametrize('args, message', [
    (base_args(cloud_storage={'type': 'ftp'}, sources=SOURCES, encryption_passphrase=PASS), 'cloud_storage.type must be one of'),
    (base_args(cloud_storage={'type': 's3', 's3': {'region': 'x'}}, sources=SOURCES, encryption_passphrase=PASS),
     'cloud_storage.s3.bucket is required'),
    (base_args(storage_credentials={'access_key': 'AKIAEXAMPLE', 'secret_key': 'wJalrEXAMPLE'}, sources=SOURCES,
               encryption_passphrase=PASS), 'use only one of'),
    (base_args(sources=SOURCES), 'encryption_passphrase is required'),
    (base_args(sources=SOURCES, encrypt='always'), 'encrypt=always needs encryption_passphrase'),
    (base_args(sources={}), 'give at least one of secrets, helm_releases, files or databases'),
    (base_args(sources={'secrets': [{'namespace': 'kfuse'}]}, encrypt='never'), 'needs a name or a label_selector'),
    (base_args(sources={'databases': [{'name': 'configdb'}]}), 'needs exactly one of dsn or pod'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, keep_last=0), 'keep_last must be 1 or more'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, max_age='forever'), 'max_age must be a duration'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, zone='a/b'), 'zone:'),
])
def test_backup_bad_input_fails_before_any_write(world, run_module, args, message):
    store, _core = world
    result, failed = run_module(backup.main, args)
    assert failed, result
    assert message in result['msg']
    assert writes(store) == []


# The bad-input classes of issue 7, section 3 (backup modules): each fails naming the option, nothing written.
BAD_INPUT_TABLE = [
    (base_args(sources=SOURCES, encryption_passphrase=PASS, prefix='backups/../other'), 'prefix:'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, prefix='a//b'), 'prefix:'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, zone='   '), 'zone:'),
    (base_args(sources=SOURCES, encryption_passphrase='x'), 'encryption_passphrase must be at least 12 characters'),
    (base_args(sources={'secrets': [{'name': 'Bad_Name'}]}, encryption_passphrase=PASS),
     'sources.secrets[0].name must be a Kubernetes Secret name'),
    (base_args(sources={'secrets': [{'label_selector': 'app = = x'}]}, encryption_passphrase=PASS),
     'sources.secrets[0].label_selector must be a label selector'),
    (base_args(sources={'secrets': [{'name': 'a', 'namespace': 'Kfuse'}]}, encryption_passphrase=PASS),
     'sources.secrets[0].namespace must be a Kubernetes namespace name'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, namespace='kfuse ns'), 'namespace must be a Kubernetes'),
    (base_args(sources={'helm_releases': [{'name': 'x' * 60}]}, encryption_passphrase=PASS),
     'sources.helm_releases[0].name must be a Helm release name'),
    (base_args(sources={'databases': [{'name': 'configdb', 'dsn': "host=h password='unterminated"}]}),
     'sources.databases[0].dsn: invalid connection string'),
    (base_args(sources={'databases': [{'name': 'configdb', 'pod': 'db-0', 'password_env': 'X; rm -rf /'}]}),
     'sources.databases[0].password_env must be an environment variable name'),
    (base_args(sources={'databases': [{'name': 'configdb', 'pod': 'Bad Pod'}]}),
     'sources.databases[0].pod must be a Kubernetes Pod name'),
    (base_args(sources={'databases': [{'name': 'configdb', 'pod': 'db-0', 'password': 'a\nb'}]}),
     'sources.databases[0].password: a password with a line break'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, storage_ambient=False,
               storage_credentials={'access_key': 'AKIDEXAMPLE', 'secret_key': 'wJalrEXAMPLEKEY'},
               cloud_storage=dict(S3, endpoint_url='http://storage.example.com:9000')),
     'refusing to send storage_credentials over plain http to storage.example.com'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, storage_timeout=float('nan')),
     'storage_timeout must be a finite number'),
    (base_args(sources=SOURCES, encryption_passphrase=PASS, ca_path='/nonexistent/ca.pem'), 'ca_path: no such file'),
]


@pytest.mark.parametrize('args, message', BAD_INPUT_TABLE)
def test_bad_input_table_fails_naming_the_option_before_any_write(world, run_module, args, message):
    store, core = world
    result, failed = run_module(backup.main, args)
    assert failed, result
    assert message in result['msg']
    assert writes(store) == [] and core.writes == []
    assert result.get('changed') is not True
    assert 'unterminated' not in result['msg'] or "password='" not in result['msg']  # a DSN is never quoted


def test_restore_dest_that_is_a_file_fails_before_any_secret_is_created(world, run_module, tmp_path):
    store, core = world
    run_module(backup.main, base_args(sources=SOURCES, encryption_passphrase=PASS))
    dest = tmp_path / 'a-file'
    dest.write_text('x')
    result, failed = run_module(backup_restore.main, base_args(namespace='standby', encryption_passphrase=PASS,
                                                               dest=str(dest)))
    assert failed and 'dest:' in result['msg'] and 'is not a directory' in result['msg']
    assert core.writes == [] and result.get('changed') is not True


def test_restore_of_a_named_secret_not_in_the_set_fails_and_applies_nothing(world, run_module):
    store, core = world
    run_module(backup.main, base_args(sources=SOURCES, encryption_passphrase=PASS))
    result, failed = run_module(backup_restore.main, base_args(namespace='standby', encryption_passphrase=PASS,
                                                               secrets=['kfuse-pg', 'no-such-secret']))
    assert failed and 'has no secret no-such-secret' in result['msg'] and 'kfuse/kfuse-pg' in result['msg']
    assert core.writes == []


def test_restore_failing_part_way_says_changed_and_what_it_changed(world, run_module, monkeypatch, tmp_path):
    _store, core = world
    run_module(backup.main, base_args(sources=SOURCES, encryption_passphrase=PASS))

    def disk_full(*_args):
        raise BackupSetError('cannot write the Helm values: disk full')

    monkeypatch.setattr(_backup_read, '_write_local', disk_full)
    result, failed = run_module(backup_restore.main, base_args(namespace='standby', encryption_passphrase=PASS,
                                                               dest=str(tmp_path / 'out')))
    assert failed and 'disk full' in result['msg']
    assert result['changed'] is True and core.writes == [('create', 'standby', 'kfuse-pg')]
    assert result['secrets'][0]['action'] == 'created'


def test_backup_check_mode_lists_objects_and_writes_nothing(world, run_module):
    store, _core = world
    args = base_args(sources=SOURCES, encryption_passphrase=PASS, _ansible_check_mode=True)
    result, failed = run_module(backup.main, args)
    assert not failed, result
    assert result['changed'] is True and result['encrypted'] is True
    assert [o['key'] for o in result['objects']] == ['secrets/kfuse/kfuse-pg.json.enc', 'helm/kfuse/values.yaml.enc']
    assert store.objects == {}


def test_backup_of_files_is_encrypted_or_refused_unless_encrypt_never(world, run_module, tmp_path):
    store, _core = world
    path = tmp_path / 'values.yaml'
    path.write_text('a: 1\n')
    result, failed = run_module(backup.main, base_args(sources={'files': [{'path': str(path)}]}))
    assert failed and 'encryption_passphrase is required, or set encrypt=never' in result['msg']
    assert writes(store) == []
    result, failed = run_module(backup.main, base_args(sources={'files': [{'path': str(path)}]}, encrypt='never'))
    assert not failed, result
    assert result['encrypted'] is False and result['verified'] is True
    assert store.objects[result['prefix'] + 'files/values.yaml'] == b'a: 1\n'


def test_backup_then_info_then_restore_round_trip(world, run_module):
    store, core = world
    result, failed = run_module(backup.main, base_args(sources=SOURCES, encryption_passphrase=PASS))
    assert not failed, result
    assert result['verified'] is True
    manifest = json.loads(store.objects[result['prefix'] + 'manifest.json'])
    assert [o['name'] for o in manifest['objects']] == ['kfuse/kfuse-pg', 'kfuse']
    assert all(b'pg-secret' not in data for data in store.objects.values())

    info, failed = run_module(backup_info.main, base_args(verify='latest', encryption_passphrase=PASS))
    assert not failed, info
    assert info['complete'] == [result['set_id']] and info['verification']['ok'] and info['verification']['full']
    assert info['latest_age_seconds'] is not None and info['changed'] is False

    restored, failed = run_module(backup_restore.main, base_args(namespace='standby', encryption_passphrase=PASS))
    assert not failed, restored
    assert restored['secrets'] == [{'name': 'kfuse-pg', 'namespace': 'standby', 'action': 'created'}]
    assert core.secrets[('standby', 'kfuse-pg')]['data'] == {'password': b64('pg-secret')}
    again, _failed = run_module(backup_restore.main, base_args(namespace='standby', encryption_passphrase=PASS))
    assert again['changed'] is False and again['secrets'][0]['action'] == 'unchanged'


def test_restore_with_wrong_passphrase_restores_nothing(world, run_module):
    store, core = world
    run_module(backup.main, base_args(sources=SOURCES, encryption_passphrase=PASS))
    store.calls.clear()
    result, failed = run_module(backup_restore.main, base_args(namespace='standby', encryption_passphrase='not-it'))
    assert failed
    assert 'wrong passphrase' in result['msg'] and 'encryption_passphrase' in result['msg']
    assert core.writes == []
    # the key check comes first: no object of the set was even read
    assert not [key for op, key in store.calls if op == 'get' and not key.endswith('manifest.json')]


def test_corrupted_object_fails_verify_naming_it_and_restore_applies_nothing(world, run_module):
    store, core = world
    result, _failed = run_module(backup.main, base_args(sources=SOURCES, encryption_passphrase=PASS))
    store.corrupt(result['prefix'] + 'helm/kfuse/values.yaml.enc')
    info, failed = run_module(backup_info.main, base_args(verify=result['set_id'], encryption_passphrase=PASS))
    assert failed and 'helm/kfuse/values.yaml.enc' in info['msg']
    assert info['verification']['failed'] == ['helm/kfuse/values.yaml.enc']
    store.corrupt(result['prefix'] + 'secrets/kfuse/kfuse-pg.json.enc')
    restored, failed = run_module(backup_restore.main, base_args(namespace='standby', encryption_passphrase=PASS))
    assert failed and 'secrets/kfuse/kfuse-pg.json.enc' in restored['msg']
    assert core.writes == []


def test_set_without_manifest_is_ignored(world, run_module):
    store, _core = world
    store.put(PREFIX + '20990101T000000Z/.writer', b'{}')
    store.put(PREFIX + '20990101T000000Z/files/x', b'partial')
    info, failed = run_module(backup_info.main, base_args(verify='latest'))
    assert failed and 'no complete backup set' in info['msg']
    assert info['incomplete'] == ['20990101T000000Z'] and info['complete'] == []
    restored, failed = run_module(backup_restore.main, base_args())
    assert failed and 'no complete backup set' in restored['msg']
    named, failed = run_module(backup_restore.main, base_args(set_id='20990101T000000Z'))
    assert failed and 'is incomplete' in named['msg']


def test_retention_keeps_the_newest_sets(world, run_module, monkeypatch, tmp_path):
    store, _core = world
    path = tmp_path / 'f'
    path.write_text('x')
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    ids = []
    real_run = tasks.run_backup
    for day in range(4):
        monkeypatch.setattr(tasks, 'run_backup', lambda params, check_mode=False, d=day, **kwargs: real_run(
            params, check_mode, now=base + datetime.timedelta(days=d), **kwargs))
        args = base_args(sources={'files': [{'path': str(path)}]}, keep_last=2, encrypt='never')
        result, failed = run_module(backup.main, args)
        assert not failed, result
        ids.append(result['set_id'])
    assert result['pruned'] == [ids[1]]
    info, _failed = run_module(backup_info.main, base_args())
    assert info['complete'] == ids[2:]


def test_info_az_backups_freshness_fails_when_stale(world, run_module):
    store, _core = world
    store.put('lab-az1/postgres/configdb/20260101T000000Z.dump', b'dump')
    store.set_modified('lab-az1/postgres/configdb/20260101T000000Z.dump',
                       datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2))
    fresh, failed = run_module(backup_info.main, base_args(az_backups={'zone': 'lab-az1', 'max_age': '3h'}))
    assert not failed, fresh
    assert fresh['az_backups']['newest_key'] == 'lab-az1/postgres/configdb/20260101T000000Z.dump'
    assert 7000 < fresh['az_backups']['age_seconds'] < 7400 and fresh['az_backups']['stale'] is False
    stale, failed = run_module(backup_info.main, base_args(az_backups={'zone': 'lab-az1', 'max_age': '1h'}))
    assert failed and 'stale' in stale['msg'] and stale['az_backups']['stale'] is True
    missing, failed = run_module(backup_info.main, base_args(az_backups={'zone': 'lab-az2', 'max_age': '1h'}))
    assert failed and 'missing' in missing['msg']


def test_restore_check_mode_reports_and_writes_nothing(world, run_module):
    store, core = world
    run_module(backup.main, base_args(sources=SOURCES, encryption_passphrase=PASS))
    core.secrets[('kfuse', 'kfuse-pg')]['data'] = {'password': b64('rotated')}
    result, failed = run_module(backup_restore.main, base_args(encryption_passphrase=PASS, overwrite=True,
                                                               _ansible_check_mode=True))
    assert not failed, result
    assert result['secrets'][0]['action'] == 'updated' and result['changed'] is True
    assert core.writes == []
    assert core.secrets[('kfuse', 'kfuse-pg')]['data'] == {'password': b64('rotated')}
    del store


def test_storage_warns_on_validate_certs_false(world, run_module):
    result, failed = run_module(backup_info.main, base_args(validate_certs=False))
    assert not failed, result
    assert any('validate_certs=false' in warning for warning in result['warnings'])


def test_restore_of_a_set_that_does_not_exist_says_so(world, run_module):
    result, failed = run_module(backup_restore.main, base_args(set_id='20250101T000000Z', encryption_passphrase=PASS))
    assert failed and 'there is no backup set 20250101T000000Z' in result['msg'] and 'incomplete' not in result['msg']
