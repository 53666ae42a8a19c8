# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup sets on the in-memory store: writing, listing, verifying, reading back and retention."""

from __future__ import annotations

import datetime
import io
import json
import os

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _crypto
from ansible_collections.kfuse.failover.plugins.module_utils import backup_set as bs
from ansible_collections.kfuse.failover.plugins.module_utils.storage import StorageError
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError

from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.fake_store import FakeStore
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils import crypto_helpers

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 21, 9, 30, 15, tzinfo=UTC)
FAST_KDF = {'n': 2 ** 10, 'r': 8, 'p': 1}
PREFIX = 'kfuse-backups'
PASSPHRASE = 'correct horse battery staple'


class CountingReader:
    """A file-like source that remembers the largest read it was asked for."""

    def __init__(self, data):
        self._data = io.BytesIO(data)
        self.largest_read = 0

    def read(self, size=-1):
        self.largest_read = max(self.largest_read, size if size is not None and size >= 0 else 1 << 62)
        return self._data.read(size)


def writer(store, now=T0, **kwargs):
    kwargs.setdefault('kdf_params', FAST_KDF)
    return bs.BackupSetWriter(store, PREFIX, kwargs.pop('zone', 'az1'), now=now, **kwargs)


def write_set(store, now=T0, encrypt=False, zone='az1', payloads=None):
    payloads = payloads or {('secret', 'kfuse/pull-secret'): b'{"kind": "Secret"}',
                            ('helm_values', 'kfuse'): 'global:\n  orgId: lab\n',
                            ('postgres', 'configdb'): os.urandom(3 * 1024 * 1024 + 7)}
    with writer(store, now=now, zone=zone, encrypt=encrypt, passphrase=PASSPHRASE if encrypt else None,
                source={'kube_context': 'az1', 'namespace': 'kfuse'}, tools={'pg_dump': '15.8'}) as set_writer:
        for (kind, name), data in payloads.items():
            set_writer.add(kind, name, io.BytesIO(data.encode() if isinstance(data, str) else data), meta={'n': 1})
        set_writer.commit(now=now + datetime.timedelta(minutes=1))
    return set_writer


# ---- naming ---------------------------------------------------------------------------------------


def test_set_ids_and_prefixes():
    assert bs.new_set_id(T0) == '20261121T093015Z'
    unique = bs.new_set_id(T0, unique=True)
    assert unique.startswith('20261121T093015Z-') and len(unique) == len('20261121T093015Z-') + 6
    assert bs.set_id_time(unique) == T0
    assert bs.set_id_time('latest') is None
    assert bs.set_prefix('/kfuse-backups/', 'az1', '20261121T093015Z') == 'kfuse-backups/az1/20261121T093015Z/'
    assert bs.set_prefix('', 'az1', 'x') == 'az1/x/'
    with pytest.raises(KfuseError, match='zone'):
        bs.set_prefix(PREFIX, 'a/b', 'x')


def test_object_keys_follow_the_layout():
    assert bs.object_key('secret', 'kfuse/pull') == 'secrets/kfuse/pull.json'
    assert bs.object_key('helm_values', 'kfuse', encrypted=True) == 'helm/kfuse/values.yaml.enc'
    assert bs.object_key('file', 'etc/ca.pem') == 'files/etc/ca.pem'
    assert bs.object_key('postgres', 'configdb') == 'postgres/configdb.dump'
    for kind, name in (('secret', 'no-namespace'), ('file', '../escape'), ('postgres', 'a/b'), ('pinot', 'x')):
        with pytest.raises(KfuseError):
            bs.object_key(kind, name)


@pytest.mark.parametrize('value, seconds', [('30d', 2592000), ('12h', 43200), ('90m', 5400), ('3600', 3600),
                                            (3600, 3600), ('45s', 45), ('2w', 1209600), (' 1.5h ', 5400)])
def test_durations(value, seconds):
    assert bs.parse_duration(value) == seconds


@pytest.mark.parametrize('value', ['', 'soon', '10y', '-5m', '0', None, True, '1d2h'])
def test_bad_durations_name_the_option(value):
    with pytest.raises(KfuseError, match='incomplete_after'):
        bs.parse_duration(value, 'incomplete_after')


# ---- writing and reading back ---------------------------------------------------------------------


@pytest.mark.parametrize('encrypt', [False, True])
def test_round_trip(encrypt):
    store = FakeStore()
    payloads = {('secret', 'kfuse/pull-secret'): b'{"kind": "Secret"}', ('helm_values', 'kfuse'): b'',
                ('file', 'notes/readme.txt'): b'x' * _crypto.CHUNK_SIZE,
                ('postgres', 'configdb'): os.urandom(2 * _crypto.CHUNK_SIZE + 1)}
    set_writer = write_set(store, encrypt=encrypt, payloads=payloads)
    prefix = 'kfuse-backups/az1/20261121T093015Z/'
    assert set_writer.prefix == prefix
    keys = sorted(key[len(prefix):] for key in store.objects)
    suffix = '.enc' if encrypt else ''
    assert keys == sorted(['.writer', 'manifest.json', 'secrets/kfuse/pull-secret.json' + suffix,
                           'helm/kfuse/values.yaml' + suffix, 'files/notes/readme.txt' + suffix,
                           'postgres/configdb.dump' + suffix])
    # The manifest is written last.
    puts = [key for operation, key in store.calls if operation == 'put']
    assert puts[0] == prefix + '.writer' and puts[-1] == prefix + 'manifest.json'

    manifest = json.loads(store.objects[prefix + 'manifest.json'])
    assert manifest['format'] == 'kfuse.failover/backup-set' and manifest['version'] == 1
    assert manifest['set_id'] == '20261121T093015Z' and manifest['zone'] == 'az1'
    assert manifest['created'] == '2026-11-21T09:30:15Z' and manifest['completed'] == '2026-11-21T09:31:15Z'
    assert manifest['tools']['pg_dump'] == '15.8' and 'python' in manifest['tools']
    assert manifest['source'] == {'kube_context': 'az1', 'namespace': 'kfuse'}
    assert (manifest['encryption'] is not None) == encrypt
    for entry in manifest['objects']:
        plain = payloads[(entry['kind'], entry['name'])]
        stored = store.objects[prefix + entry['key']]
        assert entry['plain_size'] == len(plain) and entry['size'] == len(stored)
        assert entry['encrypted'] == encrypt and entry['meta'] == {'n': 1}
        if encrypt:
            assert entry['size'] == crypto_helpers.encrypted_size(len(plain))
            assert len(plain) < 16 or plain not in stored

    (found,) = bs.list_sets(store, PREFIX)
    assert found.complete and found.manifest == manifest and found.object_count == 4
    assert bs.latest_complete(store, PREFIX, 'az1').set_id == found.set_id

    report = bs.verify_set(store, found, passphrase=PASSPHRASE if encrypt else None)
    assert report['ok'] and report['full'] and report['failed'] == [] and report['checked'] == 4
    assert all(item['decrypted'] == encrypt for item in report['objects'])

    for (kind, name), plain in payloads.items():
        entry = found.find(name, kind)
        assert b''.join(bs.open_object(store, found, entry, PASSPHRASE if encrypt else None)) == plain


def test_streams_through_the_store_in_parts():
    store = FakeStore()
    source = CountingReader(os.urandom(5 * 1024 * 1024))
    with writer(store, encrypt=True, passphrase=PASSPHRASE, part_size=1024 * 1024) as set_writer:
        set_writer.add('postgres', 'big', source)
        set_writer.commit()
    # The store pulled 1 MiB parts; the encryption layer asked the source for one chunk at a time.
    assert store.largest_read <= 1024 * 1024
    assert source.largest_read <= _crypto.CHUNK_SIZE


def test_encrypted_set_wrong_passphrase_fails_before_reading_objects():
    store = FakeStore()
    write_set(store, encrypt=True)
    (found,) = bs.list_sets(store, PREFIX)
    store.calls.clear()
    with pytest.raises(_crypto.DecryptionError, match='wrong passphrase'):
        bs.verify_set(store, found, passphrase='not it')
    with pytest.raises(_crypto.DecryptionError):
        bs.open_object(store, found, 'kfuse/pull-secret', passphrase='not it')
    with pytest.raises(bs.BackupSetError, match='passphrase is required'):
        bs.open_object(store, found, 'kfuse/pull-secret')
    assert not [call for call in store.calls if call[0] == 'get']


def test_encrypted_set_without_passphrase_is_checked_on_stored_bytes_only():
    store = FakeStore()
    write_set(store, encrypt=True)
    (found,) = bs.list_sets(store, PREFIX)
    report = bs.verify_set(store, found)
    assert report['ok'] and not report['full']
    assert not any(item['decrypted'] for item in report['objects'])


def test_encryption_needs_a_passphrase_and_writes_nothing_without_one():
    store = FakeStore()
    with pytest.raises(KfuseError, match='passphrase'):
        writer(store, encrypt=True)
    assert not store.objects


def test_second_writer_of_the_same_set_fails_before_writing_anything():
    store = FakeStore()
    first = writer(store)
    first.add('secret', 'kfuse/a', b'{}')
    before = dict(store.objects)
    store.calls.clear()
    with pytest.raises(bs.BackupSetError, match='already being written'):
        writer(store)
    assert store.objects == before
    assert [operation for operation, _key in store.calls if operation in ('put', 'delete')] == ['put']
    first.commit()
    assert bs.latest_complete(store, PREFIX).set_id == first.set_id
    # A committed set keeps its marker, so it can never be rewritten.
    with pytest.raises(bs.BackupSetError):
        writer(store)


def test_duplicate_object_and_add_after_commit_are_refused():
    store = FakeStore()
    set_writer = writer(store)
    set_writer.add('file', 'a', b'1')
    with pytest.raises(bs.BackupSetError, match='already holds'):
        set_writer.add('file', 'a', b'2')
    set_writer.commit()
    with pytest.raises(bs.BackupSetError, match='committed'):
        set_writer.add('file', 'b', b'3')
    with pytest.raises(bs.BackupSetError, match='committed'):
        set_writer.commit()


def test_failed_upload_aborts_and_leaves_nothing():
    store = FakeStore()
    store.fail_put('postgres/configdb.dump')
    with pytest.raises(StorageError, match='injected'):
        write_set(store)
    assert not store.objects
    assert bs.list_sets(store, PREFIX) == []


def test_abort_deletes_what_was_written():
    store = FakeStore()
    set_writer = writer(store)
    set_writer.add('file', 'a', b'1')
    set_writer.add('file', 'b', b'2')
    assert set_writer.abort() == 3
    assert not store.objects


# ---- incomplete and invalid sets ---------------------------------------------------------------------


def test_set_without_manifest_is_listed_as_incomplete_and_ignored():
    store = FakeStore()
    write_set(store, now=T0)
    newer = writer(store, now=T0 + datetime.timedelta(hours=1))
    newer.add('secret', 'kfuse/a', b'{}')   # never committed
    sets = bs.list_sets(store, PREFIX, 'az1')
    assert [item.status for item in sets] == ['complete', 'incomplete']
    assert 'manifest.json' in sets[1].error and sets[1].object_count == 1
    assert bs.latest_complete(store, PREFIX, 'az1').set_id == '20261121T093015Z'
    with pytest.raises(bs.BackupSetError, match='incomplete'):
        bs.verify_set(store, sets[1])
    with pytest.raises(bs.BackupSetError, match='incomplete'):
        bs.open_object(store, sets[1], 'secrets/kfuse/a.json')


def test_no_complete_set_means_no_latest():
    store = FakeStore()
    writer(store).add('file', 'a', b'1')
    assert bs.latest_complete(store, PREFIX) is None


@pytest.mark.parametrize('damage, message', [
    (lambda m: b'{not json', 'invalid manifest'),
    (lambda m: json.dumps(dict(m, format='something-else')).encode(), 'format'),
    (lambda m: json.dumps(dict(m, version=2)).encode(), 'newer'),
    (lambda m: json.dumps(dict(m, set_id='20250101T000000Z')).encode(), 'does not match'),
    (lambda m: json.dumps(dict(m, objects=[dict(m['objects'][0], sha256='zz')])).encode(), 'SHA-256'),
    (lambda m: json.dumps(dict(m, objects=[dict(m['objects'][0], key='../../x')])).encode(), 'key'),
    (lambda m: json.dumps(dict(m, encryption={'algorithm': 'rot13'})).encode(), 'algorithm'),
    (lambda m: json.dumps([1, 2]).encode(), 'not a JSON object'),
    (lambda m: b'\xff\xfe', 'invalid manifest'),
])
def test_corrupt_manifest_makes_the_set_invalid_not_a_crash(damage, message):
    store = FakeStore()
    set_writer = write_set(store)
    key = set_writer.prefix + 'manifest.json'
    store.objects[key] = damage(json.loads(store.objects[key]))
    (found,) = bs.list_sets(store, PREFIX)
    assert found.status == 'invalid' and not found.complete and message in found.error
    assert bs.latest_complete(store, PREFIX) is None
    with pytest.raises(bs.BackupSetError):
        bs.verify_set(store, found)


def test_listing_covers_zones_and_skips_foreign_directories():
    store = FakeStore()
    write_set(store, zone='az1', now=T0)
    write_set(store, zone='az2', now=T0 + datetime.timedelta(minutes=5))
    store.put(PREFIX + '/az1/not-a-set/file', b'x')
    store.put(PREFIX + '/README', b'x')
    assert [(item.zone, item.set_id) for item in bs.list_sets(store, PREFIX)] == [
        ('az1', '20261121T093015Z'), ('az2', '20261121T093515Z')]
    assert bs.latest_complete(store, PREFIX).zone == 'az2'
    assert bs.latest_complete(store, PREFIX, 'az1').zone == 'az1'
    assert bs.list_sets(store, PREFIX, 'az3') == []


# ---- verification of damaged objects -------------------------------------------------------------------


@pytest.mark.parametrize('encrypt', [False, True])
def test_corrupted_object_fails_verify_naming_it(encrypt):
    store = FakeStore()
    set_writer = write_set(store, encrypt=encrypt)
    (found,) = bs.list_sets(store, PREFIX)
    damaged = found.find('configdb', 'postgres')
    store.corrupt(set_writer.prefix + damaged['key'])
    report = bs.verify_set(store, found, passphrase=PASSPHRASE if encrypt else None)
    assert not report['ok'] and report['failed'] == [damaged['key']]
    (bad,) = [item for item in report['objects'] if not item['ok']]
    assert 'stored sha256' in bad['error']
    if encrypt:
        assert 'decryption failed' in bad['error']
    with pytest.raises((bs.IntegrityError, _crypto.DecryptionError)):
        b''.join(bs.open_object(store, found, damaged, PASSPHRASE if encrypt else None))


def test_missing_object_fails_verify_naming_it():
    store = FakeStore()
    set_writer = write_set(store)
    (found,) = bs.list_sets(store, PREFIX)
    store.delete(set_writer.prefix + 'helm/kfuse/values.yaml')
    report = bs.verify_set(store, found)
    assert report['failed'] == ['helm/kfuse/values.yaml']
    (missing,) = [item for item in report['objects'] if item['key'] == 'helm/kfuse/values.yaml']
    assert not missing['ok'] and 'cannot read helm/kfuse/values.yaml' in missing['error']


def test_replaced_object_with_matching_size_fails_open_object():
    store = FakeStore()
    set_writer = write_set(store, payloads={('file', 'a'): b'original'})
    (found,) = bs.list_sets(store, PREFIX)
    store.objects[set_writer.prefix + 'files/a'] = b'replaced'
    with pytest.raises(bs.IntegrityError, match='sha256'):
        list(bs.open_object(store, found, 'files/a'))


# ---- retention ---------------------------------------------------------------------------------------------


def make_sets(ages_in_days, statuses=None, now=T0):
    """BackupSets aged ``ages_in_days`` before ``now`` (complete unless ``statuses`` says otherwise)."""
    result = []
    for position, age in enumerate(ages_in_days):
        created = now - datetime.timedelta(days=age)
        set_id = bs.new_set_id(created)
        status = (statuses or {}).get(position, 'complete')
        result.append(bs.BackupSet('az1', set_id, 'p/az1/%s/' % set_id, status, started=created,
                                   manifest={'created': bs.format_time(created)} if status == 'complete' else None))
    return result


def pruned_ids(plan):
    return sorted(item['set_id'] for item in plan['prune'])


def ids(sets, *positions):
    return sorted(sets[position].set_id for position in positions)


def test_keep_last():
    sets = make_sets([0, 1, 2, 3, 4])
    plan = bs.plan_retention(sets, keep_last=2, now=T0, verified_latest=True)
    assert plan['blocked'] is None and plan['newest'] == sets[0].set_id
    assert pruned_ids(plan) == ids(sets, 2, 3, 4)
    assert len(plan['keep']) == 2


def test_max_age():
    sets = make_sets([0.5, 3, 10, 40, 41])
    plan = bs.plan_retention(sets, max_age='30d', now=T0, verified_latest=True)
    assert pruned_ids(plan) == ids(sets, 3, 4)


def test_keep_last_and_max_age_keep_a_set_when_either_keeps_it():
    sets = make_sets([0, 1, 2, 40, 50, 60])
    plan = bs.plan_retention(sets, keep_last=4, max_age='30d', now=T0, verified_latest=True)
    assert pruned_ids(plan) == ids(sets, 4, 5)
    plan = bs.plan_retention(sets, keep_last=1, max_age='30d', now=T0, verified_latest=True)
    assert pruned_ids(plan) == ids(sets, 3, 4, 5)


def test_the_newest_complete_set_is_never_pruned():
    sets = make_sets([45, 50, 0], statuses={2: 'incomplete'})
    plan = bs.plan_retention(sets, max_age='1d', now=T0, verified_latest=True)
    assert pruned_ids(plan) == ids(sets, 1)
    assert sets[0].set_id in [item['set_id'] for item in plan['keep']]


def test_nothing_is_pruned_without_verification_of_the_newest():
    sets = make_sets([0, 10, 20, 30], statuses={3: 'incomplete'})
    for verified in (False, sets[1].set_id, None):
        plan = bs.plan_retention(sets, keep_last=1, now=T0, verified_latest=verified, prune_incomplete=True)
        assert plan['prune'] == [] and 'not verified' in plan['blocked']
    assert pruned_ids(bs.plan_retention(sets, keep_last=1, now=T0, verified_latest=sets[0].set_id)) == ids(sets, 1, 2)


def test_incomplete_and_invalid_sets_are_reported_not_pruned_by_default():
    sets = make_sets([0, 0.5, 2, 3], statuses={1: 'incomplete', 2: 'incomplete', 3: 'invalid'})
    plan = bs.plan_retention(sets, keep_last=1, now=T0, verified_latest=True)
    assert plan['prune'] == []
    assert [item['set_id'] for item in plan['incomplete']] == [sets[2].set_id]
    assert [item['set_id'] for item in plan['invalid']] == [sets[3].set_id]
    plan = bs.plan_retention(sets, keep_last=1, now=T0, verified_latest=True, incomplete_after='6h',
                             prune_incomplete=True)
    assert pruned_ids(plan) == ids(sets, 1, 2)


def test_no_rule_or_no_complete_set_prunes_nothing():
    sets = make_sets([0, 10])
    assert bs.plan_retention(sets, now=T0, verified_latest=True)['prune'] == []
    plan = bs.plan_retention(make_sets([5], statuses={0: 'incomplete'}), keep_last=1, now=T0, verified_latest=True)
    assert plan['prune'] == [] and plan['newest'] is None


@pytest.mark.parametrize('kwargs, option', [({'keep_last': 0}, 'keep_last'), ({'keep_last': '3'}, 'keep_last'),
                                            ({'max_age': 'forever'}, 'max_age'),
                                            ({'incomplete_after': '-1h'}, 'incomplete_after')])
def test_bad_retention_options_name_the_option(kwargs, option):
    with pytest.raises(KfuseError, match=option):
        bs.plan_retention(make_sets([0]), now=T0, verified_latest=True, **kwargs)


def test_sets_of_several_zones_are_refused():
    sets = make_sets([0]) + [bs.BackupSet('az2', '20261121T000000Z', 'p/az2/20261121T000000Z/', 'complete')]
    with pytest.raises(KfuseError, match='one zone'):
        bs.plan_retention(sets, keep_last=1, now=T0, verified_latest=True)


def test_prune_deletes_planned_sets_manifest_first():
    store = FakeStore()
    for hours in (0, 1, 2):
        write_set(store, now=T0 + datetime.timedelta(hours=hours), payloads={('file', 'a'): b'data'})
    sets = bs.list_sets(store, PREFIX, 'az1')
    newest = bs.newest_complete(sets)
    assert bs.verify_set(store, newest)['ok']
    plan = bs.plan_retention(sets, keep_last=1, now=T0 + datetime.timedelta(hours=3), verified_latest=newest.set_id)
    store.calls.clear()
    result = bs.prune(store, plan)
    assert sorted(result['pruned']) == ids(sets, 0, 1) and result['deleted_objects'] == 6
    deletes = [key for operation, key in store.calls if operation == 'delete']
    assert deletes[0].endswith('manifest.json') and deletes[-1].endswith('.writer')
    assert [item.set_id for item in bs.list_sets(store, PREFIX, 'az1')] == [newest.set_id]


class BrokenReader:
    """A source that fails after a few reads, like a pg_dump that dies."""

    def __init__(self):
        self.reads = 0

    def read(self, size=-1):
        self.reads += 1
        if self.reads > 3:
            raise OSError('pg_dump exited with status 1')
        return b'x' * min(size if size and size > 0 else 1024, 1024)


@pytest.mark.parametrize('encrypt', [False, True])
@pytest.mark.parametrize('prefetch', [False, True])
def test_source_error_surfaces_and_the_set_is_removed(encrypt, prefetch):
    store = FakeStore()
    with pytest.raises(OSError, match='pg_dump exited'):
        with writer(store, encrypt=encrypt, passphrase=PASSPHRASE, prefetch=prefetch) as set_writer:
            set_writer.add('secret', 'kfuse/a', b'{}')
            set_writer.add('postgres', 'configdb', BrokenReader())
    assert not store.objects
