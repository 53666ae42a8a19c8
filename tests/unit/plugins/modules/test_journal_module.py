# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The journal module run in-process on an in-memory store: options, results, failures and check mode."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _journal
from ansible_collections.kfuse.failover.plugins.modules import journal
from ansible_collections.kfuse.failover.tests.unit.module_runner import run_module
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.fake_store import FakeStore

S3 = {'type': 's3', 's3': {'region': 'us-east-1', 'bucket': 'kfuse-shared'}}
LOCK = 'kfuse-failover/journal/lock.json'


@pytest.fixture(name='store')
def fixture_store(monkeypatch):
    """The FakeStore behind every module run; the controller process is pid 4242."""
    store = FakeStore()
    monkeypatch.setattr(_journal, 'open_store_from_params', lambda params, config=None, register_secret=None: (store, None))
    monkeypatch.setattr(_journal, 'controller_process', lambda: (4242, 7))
    return store


def run(**args):
    return run_module(journal.main, dict({'cloud_storage': S3, 'storage_ambient': True}, **args))


def test_begin_checkpoint_finish_read_through_the_module(store):
    result, failed = run(action='begin', operation='failover', source='az1', target='az2')
    assert not failed and result['changed']
    run_id = result['run_id']
    assert result['holder'].endswith(' pid 4242') and result['lock']['holder'] == result['holder']
    assert result['lock_status'] == 'held' and result['resumed'] is False and result['completed_steps'] == []
    result, failed = run(action='checkpoint', run_id=run_id, step='preflight', detail={'checks': 3},
                         operation='failover', source='az1', target='az2')
    assert not failed and result['completed_steps'] == ['preflight']
    assert result['run']['steps'][0]['detail'] == {'checks': 3}
    result, failed = run(action='finish', run_id=run_id, outcome='succeeded')
    assert not failed and result['active_zone'] == 'az2' and result['lock'] is None
    result, failed = run()
    assert not failed and not result['changed']
    assert (result['lock_status'], result['active_zone'], result['run_id']) == ('free', 'az2', run_id)
    assert result['state']['history'][0]['outcome'] == 'succeeded'


def test_second_begin_fails_naming_the_holder(store, monkeypatch):
    first, _failed = run(action='begin', operation='failover', source='az1', target='az2', holder='alice (INC-42)')
    monkeypatch.setattr(_journal, 'controller_process', lambda: (5151, 9))
    monkeypatch.setattr(_journal, 'process_running', lambda pid, start=None: True)
    result, failed = run(action='begin', operation='failback', source='az2', target='az1')
    assert failed and not result.get('changed')
    assert 'held by run %s' % first['run_id'] in result['msg'] and 'alice (INC-42)' in result['msg']
    assert result['lock']['run_id'] == first['run_id'] and result['lock_status'] == 'held'
    assert isinstance(result['heartbeat_age'], int)
    assert json.loads(store.objects[LOCK])['holder'] == 'alice (INC-42)'


def test_check_mode_writes_nothing(store):
    result, failed = run(action='begin', operation='drill', _ansible_check_mode=True)
    assert not failed and result['changed'] and result['lock']['mode'] == 'drill'
    assert [write['operation'] for write in result['writes']] == ['create', 'create']
    assert store.objects == {}


@pytest.mark.parametrize('args, message', [
    ({'action': 'checkpoint'}, 'run_id'),
    ({'action': 'finish', 'run_id': 'r1'}, 'outcome'),
    ({'action': 'begin'}, 'operation'),
    ({'action': 'break_lock'}, 'expected_run_id'),
    ({'action': 'begin', 'operation': 'failover', 'source': 'az1', 'target': 'az2', 'step': 'x'},
     'step is only used with action=checkpoint'),
    ({'action': 'begin', 'operation': 'failover', 'source': 'az1'}, 'needs source and target'),
    ({'action': 'read', 'cloud_storage': {'type': 'ftp'}}, 'cloud_storage.type must be one of'),
])
def test_bad_input_fails_before_any_request(store, args, message):
    result, failed = run(**args)
    assert failed and message in result['msg']
    assert store.calls == []


def test_break_lock_through_the_module(store, monkeypatch):
    first, _failed = run(action='begin', operation='upgrade')
    monkeypatch.setattr(_journal, 'controller_process', lambda: (5151, 9))
    result, failed = run(action='break_lock', expected_run_id=first['run_id'])
    assert failed and 'is not stale' in result['msg']
    result, failed = run(action='break_lock', expected_run_id=first['run_id'], stale_after=0)
    assert not failed and result['changed'] and result['run']['outcome'] == 'aborted'
    assert any('was discarded' in warning for warning in result['warnings'])
