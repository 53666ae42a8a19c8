# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The journal's run lock, run records and state on an in-memory store with conditional writes."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _journal
from ansible_collections.kfuse.failover.plugins.module_utils._journal import Journal, check_params
from ansible_collections.kfuse.failover.plugins.module_utils.errors import (
    JournalError, OptionError, PreconditionFailed, StorageError)
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.fake_store import FakeStore

PREFIX = 'kfuse-failover/journal/'
LOCK = PREFIX + 'lock.json'
STATE = PREFIX + 'state.json'
ALICE = {'holder': 'alice@bastion pid 4242', 'process': {'user': 'alice', 'host': 'bastion', 'pid': 4242, 'pid_start': 7}}
ALICE_RERUN = {'holder': 'alice@bastion pid 5151', 'process': {'user': 'alice', 'host': 'bastion', 'pid': 5151, 'pid_start': 9}}
BOB = {'holder': 'bob@laptop pid 99', 'process': {'user': 'bob', 'host': 'laptop', 'pid': 99, 'pid_start': 3}}


class Clock:
    """A settable clock for the journal's ``now``."""

    def __init__(self):
        self.moment = datetime.datetime(2026, 12, 3, 10, 0, 0, tzinfo=datetime.timezone.utc)

    def __call__(self):
        return self.moment

    def advance(self, seconds):
        self.moment += datetime.timedelta(seconds=seconds)


@pytest.fixture(name='store')
def fixture_store():
    return FakeStore()


@pytest.fixture(name='clock')
def fixture_clock():
    return Clock()


@pytest.fixture(name='journal')
def fixture_journal(store, clock):
    """journal(who=ALICE, **options) -> a Journal on the shared store and clock."""
    return lambda who=ALICE, **options: Journal(store, PREFIX, who=who, now=clock, **options)


@pytest.fixture(name='running')
def fixture_running(monkeypatch):
    """Which (host-local) pids count as running: the set to edit; empty means every holder process is gone."""
    alive = set()
    monkeypatch.setattr(_journal, 'process_running', lambda pid, start=None: pid in alive)
    return alive


def doc(store, key):
    return json.loads(store.objects[key])


def snapshot(store):
    return dict(store.objects)


# -- begin, checkpoint, finish -----------------------------------------------------------------------------------

def test_begin_takes_the_lock_and_creates_the_run(journal, store):
    result = journal().begin('failover', 'az1', 'az2')
    run_id = result['run_id']
    assert run_id.startswith('20261203T100000Z-failover-')
    assert result['changed'] and result['lock_status'] == 'held' and not result['resumed']
    assert result['writes'] == [{'key': LOCK, 'operation': 'create'},
                                {'key': PREFIX + 'runs/%s.json' % run_id, 'operation': 'create'}]
    lock = doc(store, LOCK)
    assert {key: lock[key] for key in ('held', 'run_id', 'holder', 'operation', 'source', 'target', 'mode', 'started',
                                       'step', 'heartbeat')} == {
        'held': True, 'run_id': run_id, 'holder': ALICE['holder'], 'operation': 'failover', 'source': 'az1',
        'target': 'az2', 'mode': 'planned', 'started': '2026-12-03T10:00:00Z', 'step': None,
        'heartbeat': '2026-12-03T10:00:00Z'}
    assert lock['process'] == ALICE['process']
    run = doc(store, PREFIX + 'runs/%s.json' % run_id)
    assert run['steps'] == [] and run['outcome'] is None and run['active_zone_before'] is None
    assert 'write_id' not in result['lock'] and 'write_id' not in result['run']


def test_whole_lifecycle_records_steps_state_and_releases(journal, store, clock):
    run_id = journal().begin('failover', 'az1', 'az2', mode='emergency')['run_id']
    clock.advance(30)
    journal().checkpoint(run_id, 'preflight', detail={'checks': 12})
    clock.advance(60)
    journal().checkpoint(run_id, 'pause_source', status='skipped', detail={'reason': 'source unreachable'})
    clock.advance(600)
    result = journal().checkpoint(run_id, 'activate_target')
    assert result['completed_steps'] == ['preflight', 'pause_source', 'activate_target']
    assert result['lock']['step'] == 'activate_target' and result['heartbeat_age'] == 0
    steps = result['run']['steps']
    assert steps[0] == {'name': 'preflight', 'status': 'done', 'started': '2026-12-03T10:00:00Z',
                        'finished': '2026-12-03T10:00:30Z', 'detail': {'checks': 12}, 'attempts': 1}
    assert (steps[2]['started'], steps[2]['finished']) == ('2026-12-03T10:01:30Z', '2026-12-03T10:11:30Z')
    clock.advance(5)
    result = journal().finish(run_id, 'succeeded')
    assert result['lock'] is None and result['lock_status'] == 'free'
    assert result['active_zone'] == 'az2'
    assert result['run']['outcome'] == 'succeeded' and result['run']['finished'] == '2026-12-03T10:11:35Z'
    assert result['run']['active_zone_after'] == 'az2'
    lock = doc(store, LOCK)
    assert lock['held'] is False and lock['last_run_id'] == run_id and lock['last_outcome'] == 'succeeded'
    state = doc(store, STATE)
    assert state['active_zone'] == 'az2' and state['active_zone_run_id'] == run_id
    assert state['last_run_id'] == run_id and state['last_outcome'] == 'succeeded'
    assert [entry['run_id'] for entry in state['history']] == [run_id]
    assert state['history'][0]['mode'] == 'emergency'
    # A second finish changes nothing.
    before = snapshot(store)
    again = journal().finish(run_id, 'succeeded')
    assert not again['changed'] and snapshot(store) == before
    # The next run sees the active zone and keeps it as active_zone_before.
    clock.advance(3600)
    back = journal().begin('failback', 'az2', 'az1')
    assert back['active_zone'] == 'az2' and back['run']['active_zone_before'] == 'az2'
    journal().finish(back['run_id'], 'succeeded')
    state = doc(store, STATE)
    assert state['active_zone'] == 'az1'
    assert [entry['operation'] for entry in state['history']] == ['failback', 'failover']


def test_read_reports_free_held_and_held_stale(journal, clock):
    assert journal().read()['lock_status'] == 'free'
    assert journal().read()['run'] is None
    run_id = journal().begin('drill', 'az1', 'az2')['run_id']
    result = journal().read()
    assert (result['lock_status'], result['stale'], result['run_id'], result['changed']) == ('held', False, run_id, False)
    assert result['run']['mode'] == 'drill'
    clock.advance(3600)
    result = journal().read()
    assert (result['lock_status'], result['stale'], result['heartbeat_age']) == ('held-stale', True, 3600)
    assert journal(stale_after=7200).read()['lock_status'] == 'held'
    journal().finish(run_id, 'succeeded')
    result = journal().read()
    assert result['lock'] is None and result['run_id'] == run_id and result['run']['outcome'] == 'succeeded'
    assert result['active_zone'] is None, 'a drill does not move the active zone'
    with pytest.raises(JournalError, match='no run nope in the journal'):
        journal().read('nope')


def test_finish_defaults_and_explicit_active_zone(journal):
    first = journal()
    run_id = first.begin('failover', 'az1', 'az2')['run_id']
    assert first.finish(run_id, 'succeeded', active_zone='az1')['active_zone'] == 'az1'
    failed = journal()
    run_id = failed.begin('failover', 'az1', 'az2')['run_id']
    result = failed.finish(run_id, 'failed')
    assert result['active_zone'] == 'az1' and result['run']['active_zone_after'] == 'az1'
    assert any('state.json keeps az1' in text for text in failed.warnings)


def test_finish_records_the_last_step_in_the_same_write(journal, store, clock):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    clock.advance(30)
    journal().checkpoint(run_id, 'ingress')
    clock.advance(2)
    result = journal().finish(run_id, 'succeeded', step='resume', status='skipped', detail={'why': 'asked'})
    assert result['completed_steps'] == ['ingress', 'resume']
    assert result['run']['steps'][-1] == {'name': 'resume', 'status': 'skipped', 'started': '2026-12-03T10:00:30Z',
                                          'finished': '2026-12-03T10:00:32Z', 'detail': {'why': 'asked'},
                                          'attempts': 1}
    assert doc(store, PREFIX + 'runs/%s.json' % run_id)['steps'][-1]['name'] == 'resume'
    assert doc(store, LOCK)['held'] is False
    # A second finish changes nothing, and does not count the step again.
    before = snapshot(store)
    assert not journal().finish(run_id, 'succeeded', step='resume')['changed'] and snapshot(store) == before


def test_begin_warns_when_the_source_is_not_the_active_zone(journal):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    journal().finish(run_id, 'succeeded')
    again = journal()
    again.begin('failover', 'az1', 'az2')
    assert any('active zone is az2' in text and 'starts from az1' in text for text in again.warnings)


# -- a second run is refused ---------------------------------------------------------------------------------------

def test_second_begin_is_refused_naming_holder_start_step_and_heartbeat(journal, store, clock, running):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    clock.advance(20)
    journal().checkpoint(run_id, 'pause_source')
    clock.advance(42)
    before = snapshot(store)
    with pytest.raises(JournalError) as caught:
        journal(BOB).begin('failback', 'az2', 'az1')
    text = str(caught.value)
    for expected in (run_id, 'planned failover az1 -> az2', 'alice@bastion pid 4242', 'started 2026-12-03T10:00:00Z',
                     "at step 'pause_source' (done)", 'last heartbeat 42 s ago', 'expected_run_id=' + run_id):
        assert expected in text
    assert caught.value.result['lock']['run_id'] == run_id
    assert caught.value.result['heartbeat_age'] == 42 and caught.value.result['lock_status'] == 'held'
    assert caught.value.result['completed_steps'] == ['pause_source']
    assert snapshot(store) == before
    # The same operation from another host while the heartbeat is fresh: refused as well.
    with pytest.raises(JournalError, match='it runs on bastion and its heartbeat is fresh'):
        journal(BOB).begin('failover', 'az1', 'az2')
    # The same operation on the same host while the holder's ansible-playbook still runs: refused.
    running.add(4242)
    with pytest.raises(JournalError, match='its controller process 4242 on bastion is still running'):
        journal(ALICE_RERUN).begin('failover', 'az1', 'az2')
    with pytest.raises(JournalError, match='resume=false does not continue it'):
        journal(ALICE).begin('failover', 'az1', 'az2', resume=False)
    assert snapshot(store) == before


# -- resume after a crash -----------------------------------------------------------------------------------------

def test_rerun_after_a_crash_continues_with_the_completed_steps(journal, store, clock, running):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    journal().checkpoint(run_id, 'preflight')
    journal().checkpoint(run_id, 'pause_source')
    journal().checkpoint(run_id, 'activate_target', status='failed', detail={'error': 'timed out'})
    clock.advance(120)
    # ansible-playbook was killed (pid 4242 gone); the operator runs it again on the same bastion.
    rerun = journal(ALICE_RERUN)
    result = rerun.begin('failover', 'az1', 'az2')
    assert result['resumed'] and result['run_id'] == run_id
    assert result['completed_steps'] == ['preflight', 'pause_source']
    assert result['lock']['holder'] == ALICE_RERUN['holder'] and result['lock']['taken_over'] == 1
    assert result['run']['resumes'][0]['reason'] == 'holder-gone'
    assert any('its controller process is no longer running' in text for text in rerun.warnings)
    # The failed step is done again and recorded as a second attempt.
    result = journal(ALICE_RERUN).checkpoint(run_id, 'activate_target')
    entry = result['run']['steps'][2]
    assert (entry['status'], entry['attempts'], entry['detail']) == ('done', 2, {})
    assert result['completed_steps'] == ['preflight', 'pause_source', 'activate_target']
    # The old process, should it come back, no longer drives the run.
    with pytest.raises(JournalError, match='is now driven by alice@bastion pid 5151'):
        journal(ALICE).checkpoint(run_id, 'resume_alerts')
    assert doc(store, LOCK)['holder'] == ALICE_RERUN['holder']


def test_rerun_from_another_host_continues_only_a_stale_run(journal, clock):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    journal().checkpoint(run_id, 'preflight')
    clock.advance(3599)
    with pytest.raises(JournalError, match='heartbeat is fresh'):
        journal(BOB).begin('failover', 'az1', 'az2')
    clock.advance(1)
    result = journal(BOB).begin('failover', 'az1', 'az2', mode='emergency')
    assert result['resumed'] and result['completed_steps'] == ['preflight']
    assert result['run']['resumes'][0]['reason'] == 'stale' and result['run']['mode'] == 'planned'


def test_same_controller_process_begins_again_and_gets_its_own_run(journal, clock):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    journal().checkpoint(run_id, 'preflight')
    result = journal().begin('failover', 'az1', 'az2')
    assert result['resumed'] and result['run_id'] == run_id and result['completed_steps'] == ['preflight']


def test_begin_with_an_explicit_run_id(journal, running):
    run_id = journal().begin('failover', 'az1', 'az2', run_id='change-1234')['run_id']
    assert run_id == 'change-1234'
    with pytest.raises(JournalError, match='this begin is for run other'):
        journal(ALICE_RERUN).begin('failover', 'az1', 'az2', run_id='other')
    assert journal(ALICE_RERUN).begin('failover', 'az1', 'az2', run_id='change-1234')['resumed']
    journal(ALICE_RERUN).finish('change-1234', 'succeeded')
    with pytest.raises(JournalError, match='run change-1234 already finished'):
        journal().begin('failover', 'az2', 'az1', run_id='change-1234')


def test_a_lock_left_by_a_finished_run_is_replaced(journal, store):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    journal().checkpoint(run_id, 'preflight')
    lock_before = store.objects[LOCK]
    journal().finish(run_id, 'succeeded')
    # As if the finish stopped between recording the outcome and releasing the lock.
    store.objects[LOCK] = lock_before
    reader = journal(BOB)
    assert reader.read()['lock_status'] == 'free'
    assert any('without releasing it' in text for text in reader.warnings)
    result = journal(BOB).begin('failback', 'az2', 'az1')
    assert result['lock']['operation'] == 'failback' and not result['resumed']


# -- stale locks and break_lock -----------------------------------------------------------------------------------

def test_a_stale_lock_is_only_broken_by_break_lock_naming_its_run(journal, store, clock):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    journal().checkpoint(run_id, 'pause_source')
    clock.advance(30)
    with pytest.raises(JournalError, match='is not stale'):
        journal(BOB).break_lock(run_id)
    clock.advance(7200)
    assert journal().read()['stale']
    before = snapshot(store)
    with pytest.raises(JournalError, match='held by run %s' % run_id):
        journal(BOB).begin('failback', 'az2', 'az1')
    with pytest.raises(JournalError, match='not by expected_run_id 20261203T000000Z-failover-abcdef; nothing was broken'):
        journal(BOB).break_lock('20261203T000000Z-failover-abcdef')
    assert snapshot(store) == before
    breaker = journal(BOB)
    result = breaker.break_lock(run_id)
    assert result['changed'] and result['lock'] is None and result['lock_status'] == 'free'
    assert result['run']['outcome'] == 'aborted'
    broken = result['run']['broken']
    assert (broken['by'], broken['holder'], broken['step'], broken['heartbeat_age']) == (
        BOB['holder'], ALICE['holder'], 'pause_source', 7230)
    assert doc(store, LOCK)['broken']['run_id'] == run_id and doc(store, LOCK)['last_outcome'] == 'aborted'
    assert doc(store, STATE)['history'][0]['outcome'] == 'aborted'
    assert any('was discarded at step pause_source' in text for text in breaker.warnings)
    # The old holder learns it at its next checkpoint.
    with pytest.raises(JournalError, match='was broken by bob@laptop pid 99'):
        journal().checkpoint(run_id, 'activate_target')
    # The broken run cannot be continued; a new run starts.
    fresh = journal(BOB).begin('failback', 'az2', 'az1')
    assert not fresh['resumed'] and fresh['run_id'] != run_id
    # Nothing to break on a free lock.
    journal(BOB).finish(fresh['run_id'], 'succeeded')
    assert not journal(BOB).break_lock(fresh['run_id'])['changed']


def test_stale_after_zero_breaks_a_live_lock_on_purpose(journal):
    run_id = journal().begin('upgrade')['run_id']
    assert journal(BOB, stale_after=0).break_lock(run_id)['run']['outcome'] == 'aborted'


# -- lost races ----------------------------------------------------------------------------------------------------

def test_begin_that_loses_the_race_names_the_winner(journal, store):
    def bob_first(operation, key):
        if key == LOCK:
            store.before_conditional = None
            journal(BOB).begin('failover', 'az1', 'az2')

    store.before_conditional = bob_first
    with pytest.raises(JournalError) as caught:
        journal().begin('failover', 'az1', 'az2')
    assert 'held by run' in str(caught.value) and 'bob@laptop pid 99' in str(caught.value)
    assert doc(store, LOCK)['holder'] == BOB['holder']
    assert len([key for key in store.objects if '/runs/' in key]) == 1


def test_checkpoint_fails_clearly_when_the_lock_was_broken_between_read_and_write(journal, store, clock):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    clock.advance(7200)

    def break_it(operation, key):
        if key == LOCK:
            store.before_conditional = None
            journal(BOB).break_lock(run_id)

    store.before_conditional = break_it
    with pytest.raises(JournalError, match='the lock of run %s was broken by bob@laptop' % run_id):
        journal().checkpoint(run_id, 'pause_source')
    assert doc(store, PREFIX + 'runs/%s.json' % run_id)['steps'] == []


def test_lock_that_keeps_changing_gives_up_with_a_clear_error(journal, store):
    journal().begin('failover', 'az1', 'az2')
    run_id = doc(store, LOCK)['run_id']

    def touch(operation, key):
        if key == LOCK:
            lock = json.loads(store.objects[LOCK])
            store._store(LOCK, json.dumps(lock).encode(), None, 'application/json')  # pylint: disable=protected-access

    store.before_conditional = touch
    with pytest.raises(JournalError, match='changed 5 times during checkpoint of run %s' % run_id):
        journal().checkpoint(run_id, 'x')


def test_run_record_written_concurrently_is_merged_not_lost(journal, store):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    run_key = PREFIX + 'runs/%s.json' % run_id

    def other_step_first(operation, key):
        if key == run_key:
            store.before_conditional = None
            run = json.loads(store.objects[run_key])
            run['steps'].append({'name': 'other', 'status': 'done'})
            store._store(run_key, json.dumps(run).encode(), None, 'application/json')  # pylint: disable=protected-access

    store.before_conditional = other_step_first
    result = journal().checkpoint(run_id, 'mine')
    assert [step['name'] for step in result['run']['steps']] == ['other', 'mine']


def test_a_retried_write_that_already_went_through_is_not_a_lost_race(journal, store):
    real_put = store.put_if_absent

    def put_then_lose_the_answer(key, data, metadata=None, content_type='application/octet-stream'):
        real_put(key, data, metadata, content_type)
        raise PreconditionFailed('object already exists (conditional create)', provider='fake', code='AlreadyExists',
                                 key=key)

    store.put_if_absent = put_then_lose_the_answer
    result = journal().begin('failover', 'az1', 'az2')
    assert result['lock_status'] == 'held' and doc(store, LOCK)['run_id'] == result['run_id']


def test_conditional_writes_of_the_fake_store_name_the_key(store):
    version = store.put_if_absent('k', b'1')
    with pytest.raises(PreconditionFailed) as caught:
        store.put_if_absent('k', b'2')
    assert (caught.value.code, caught.value.key) == ('AlreadyExists', 'k')
    new_version = store.put_if_unchanged('k', b'3', version)
    with pytest.raises(PreconditionFailed) as caught:
        store.put_if_unchanged('k', b'4', version)
    assert caught.value.code == 'PreconditionFailed' and 'k' in str(caught.value)
    assert store.read_versioned('k') == (b'3', new_version)


# -- check mode ------------------------------------------------------------------------------------------------------

def test_check_mode_reports_what_would_be_written_and_writes_nothing(journal, store, clock):
    before = snapshot(store)
    result = journal(check_mode=True).begin('failover', 'az1', 'az2')
    assert result['changed'] and result['lock']['holder'] == ALICE['holder']
    assert [write['key'] for write in result['writes']] == [LOCK, PREFIX + 'runs/%s.json' % result['run_id']]
    assert snapshot(store) == before == {}
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    before = snapshot(store)
    calls = len(store.calls)
    result = journal(check_mode=True).checkpoint(run_id, 'preflight')
    assert result['completed_steps'] == ['preflight']
    assert journal(check_mode=True).finish(run_id, 'succeeded')['active_zone'] == 'az2'
    clock.advance(7200)
    assert journal(BOB, check_mode=True).break_lock(run_id)['run']['outcome'] == 'aborted'
    assert snapshot(store) == before
    assert not [call for call in store.calls[calls:] if call[0] == 'put']


# -- records, options, processes -----------------------------------------------------------------------------------

def test_a_record_the_journal_did_not_write_is_refused(journal, store):
    store.put(LOCK, b'not json')
    with pytest.raises(JournalError, match='lock.json is not a journal record'):
        journal().read()
    store.put(LOCK, b'{"format": 99}')
    with pytest.raises(JournalError, match='not a journal record of format 1'):
        journal().begin('backup')


def test_checkpoint_and_finish_check_the_run_they_are_given(journal):
    run_id = journal().begin('failover', 'az1', 'az2')['run_id']
    with pytest.raises(JournalError, match='target=az3 does not match it'):
        journal().checkpoint(run_id, 'x', checks={'operation': 'failover', 'source': 'az1', 'target': 'az3'})
    with pytest.raises(JournalError, match='does not hold the journal lock: it is held by run %s' % run_id):
        journal().checkpoint('other-run', 'x')
    journal().finish(run_id, 'succeeded')
    with pytest.raises(JournalError, match='no run unknown in the journal'):
        journal().checkpoint('unknown', 'x')
    with pytest.raises(JournalError, match='run %s already finished' % run_id):
        journal().checkpoint(run_id, 'x')


def test_a_storage_failure_says_what_was_not_recorded_and_what_to_do(store, clock):
    """The bucket gone mid-run: the storage error keeps its provider and key, and is prefixed with the step the
    journal did not record and the way on (re-run when the bucket answers)."""
    params = {'prefix': PREFIX, 'status': 'done', 'stale_after': 3600, 'operation': 'failover', 'source': 'az1',
              'target': 'az2'}
    begun = _journal.run_journal(dict(params, action='begin'), store=store, who=ALICE, now=clock)

    def gone(operation, key):
        raise store._error('Could not connect to the endpoint URL', code='EndpointConnectionError', key=key)  # pylint: disable=protected-access

    store.before_conditional = gone
    with pytest.raises(StorageError) as raised:
        _journal.run_journal(dict(params, action='checkpoint', run_id=begun['run_id'], step='kloudfuse'),
                             store=store, who=ALICE, now=clock)
    text = str(raised.value)
    assert 'the journal did not record step kloudfuse of run %s - the step itself is done' % begun['run_id'] in text
    assert 're-run to continue the run' in text and 'Could not connect to the endpoint URL' in text
    assert raised.value.fail_result()['storage_error']['key'] == LOCK
    with pytest.raises(StorageError, match='did not record the end of run .* and its lock is still held'):
        _journal.run_journal(dict(params, action='finish', run_id=begun['run_id'], outcome='succeeded'),
                             store=store, who=ALICE, now=clock)


@pytest.mark.parametrize('params, message', [
    ({'action': 'begin', 'operation': 'failover', 'step': 'x'}, 'step is only used with action=checkpoint'),
    ({'action': 'read', 'outcome': 'failed'}, 'outcome is only used with action=finish'),
    ({'action': 'checkpoint', 'run_id': 'r', 'expected_run_id': 'r'}, 'expected_run_id is only used with'),
    ({'action': 'break_lock', 'run_id': 'r', 'expected_run_id': 'r'}, 'not run_id'),
    ({'action': 'begin', 'operation': 'failover', 'source': 'az1'}, 'needs source and target'),
    ({'action': 'begin', 'operation': 'failback', 'source': 'az1', 'target': 'az1'}, 'must be different zones'),
    ({'action': 'checkpoint', 'run_id': '../lock'}, 'run_id must be 1-128 letters'),
    ({'action': 'read', 'prefix': 'a/../b'}, "prefix: '..' is not a valid segment"),
    ({'action': 'read', 'prefix': '/'}, 'prefix must name a folder'),
    ({'action': 'read', 'stale_after': -1}, 'stale_after must be 0 or more'),
    ({'action': 'checkpoint', 'run_id': 'r', 'step': ' '}, 'step must be a non-empty name'),
])
def test_bad_options_are_refused_naming_the_option(params, message):
    params = dict({'prefix': PREFIX, 'status': 'done', 'stale_after': 3600}, **params)
    with pytest.raises(OptionError, match=message.replace('(', r'\(').replace(')', r'\)').replace('.', r'\.')):
        check_params(params)


def test_prefix_is_normalised():
    assert check_params({'action': 'read', 'prefix': 'ops/journal'}) == 'ops/journal/'


def fake_proc(monkeypatch, table):
    """table: pid -> (parent, start, argv)."""
    monkeypatch.setattr(_journal, '_proc_stat', lambda pid: table[pid][:2] if pid in table else None)
    monkeypatch.setattr(_journal, '_proc_argv', lambda pid: table[pid][2] if pid in table else [])
    monkeypatch.setattr(_journal.os, 'getpid', lambda: 100)


def test_controller_process_is_the_outermost_ansible_process_above_the_module(monkeypatch):
    fake_proc(monkeypatch, {
        100: (99, 1000, ['/usr/bin/python3', '/root/.ansible/tmp/x/AnsiballZ_journal.py']),
        99: (98, 999, ['/bin/sh', '-c', 'python3 AnsiballZ_journal.py && sleep 0']),
        98: (97, 990, ['/venv/bin/python', '/venv/bin/ansible-playbook', 'site.yml']),  # the task's worker
        97: (50, 500, ['/venv/bin/python', '/venv/bin/ansible-playbook', 'site.yml']),
        50: (1, 100, ['-bash']),
    })
    assert _journal.controller_process() == (97, 500)
    who = _journal.identity()
    assert who['holder'].endswith(' pid 97') and who['process']['pid_start'] == 500
    assert _journal.identity('oncall: alice')['holder'] == 'oncall: alice'


def test_controller_process_is_unknown_outside_ansible(monkeypatch):
    fake_proc(monkeypatch, {100: (50, 1000, ['python', '-m', 'pytest']), 50: (1, 10, ['bash'])})
    assert _journal.controller_process() == (None, None)
    assert ' pid ' not in _journal.identity()['holder']


@pytest.mark.parametrize('argv, expected', [
    (['/usr/bin/ansible-playbook', 'x.yml'], True),
    (['python3.11', '/venv/bin/ansible', 'localhost', '-m', 'ping'], True),
    (['python3', '-m', 'ansible', 'playbook', 'x.yml'], True),
    (['python3', '/venv/bin/ansible-test', 'units'], False),
    (['python3', 'AnsiballZ_journal.py'], False),
    ([], False),
])
def test_looks_like_ansible(argv, expected):
    assert _journal._looks_like_ansible(argv) is expected  # pylint: disable=protected-access


def test_process_running_compares_the_start_time(monkeypatch):
    monkeypatch.setattr(_journal.os.path, 'isdir', lambda path: True)
    monkeypatch.setattr(_journal, '_proc_stat', lambda pid: (1, 500) if pid == 97 else None)
    assert _journal.process_running(97, 500)
    assert _journal.process_running(97)
    assert not _journal.process_running(97, 501), 'a reused pid is not the holder'
    assert not _journal.process_running(98, 500)


def test_a_lock_is_not_stale_sooner_than_its_run_said(journal, clock):
    """A run that began with stale_after=7200 (a long rehydration) is not taken over by a re-run with less."""
    run_id = journal(stale_after=7200).begin('failover', 'az1', 'az2')['run_id']
    clock.advance(3600)
    assert journal().read()['lock_status'] == 'held'
    with pytest.raises(JournalError, match=r'heartbeat is fresh.*\(stale after 7200 s\)|stale after 7200 s'):
        journal(BOB, stale_after=60).begin('failover', 'az1', 'az2')
    with pytest.raises(JournalError, match='is not stale'):
        journal(BOB).break_lock(run_id)
    # Given to break_lock, a stale_after counts alone: breaking sooner is a decision, not a default.
    assert journal(BOB, stale_after=1800).break_lock(run_id)['run']['outcome'] == 'aborted'


def test_a_lock_without_a_readable_heartbeat_is_stale(journal, store):
    run_id = journal().begin('backup')['run_id']
    lock = doc(store, LOCK)
    lock['heartbeat'] = 'yesterday-ish'
    store._store(LOCK, json.dumps(lock).encode(), None, 'application/json')  # pylint: disable=protected-access
    result = journal().read()
    assert result['lock_status'] == 'held-stale' and result['heartbeat_age'] is None
    assert journal(BOB).break_lock(run_id)['changed']
