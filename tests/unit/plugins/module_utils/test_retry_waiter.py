# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backoff bounds, Retry-After parsing and the generic waiter (with a fake clock: no real sleeping)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils._retry import full_jitter_delay, parse_retry_after
from ansible_collections.kfuse.failover.plugins.module_utils._waiter import Waiter, WaitError
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError


@pytest.mark.parametrize('attempt, ceiling', [(0, 1.0), (1, 2.0), (3, 8.0), (5, 30.0), (40, 30.0)])
def test_full_jitter_bounds(attempt, ceiling):
    assert full_jitter_delay(attempt, 1.0, 30.0, rand=lambda: 0.0) == 0.0
    assert full_jitter_delay(attempt, 1.0, 30.0, rand=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    assert 0.0 <= full_jitter_delay(attempt, 1.0, 30.0) <= ceiling


def test_zero_base_means_no_delay():
    assert full_jitter_delay(3, 0.0, rand=lambda: 0.5) == 0.0


@pytest.mark.parametrize('header, expected', [
    ('3', 3.0), (' 0 ', 0.0), ('2.5', 2.5), ('-4', 0.0), ('100000', 120.0), ('', None), (None, None), ('soon', None),
    ('nan', None),
])
def test_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_retry_after_http_date():
    now = datetime.datetime(2026, 11, 21, 10, 0, 0, tzinfo=datetime.timezone.utc)
    assert parse_retry_after('Sat, 21 Nov 2026 10:00:07 GMT', now=now) == 7.0
    assert parse_retry_after('Sat, 21 Nov 2026 09:00:00 GMT', now=now) == 0.0


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make_waiter(values, clock, **kwargs):
    feed = iter(values)
    last = {}

    def fetch():
        try:
            item = next(feed)
        except StopIteration:
            item = last['item']
        last['item'] = item
        if isinstance(item, Exception):
            raise item
        return item

    options = {'timeout': 60, 'interval': 1.0, 'summarize': lambda v: {'state': v['state'], 'done': v.get('done')},
               'clock': clock.clock, 'sleep': clock.sleep, 'what': 'state active'}
    options.update(kwargs)
    return Waiter(fetch, lambda v: v['state'] == 'active', **options)


def test_waits_until_done_and_dedups_history():
    clock = FakeClock()
    values = [{'state': 'activating', 'done': 1}] * 3 + [{'state': 'activating', 'done': 2}] * 2 + [{'state': 'active', 'done': 3}]
    result = make_waiter(values, clock).run()
    assert result.value == {'state': 'active', 'done': 3}
    assert result.polls == 6
    assert [(s['state'], s['done']) for s in result.history] == [('activating', 1), ('activating', 2), ('active', 3)]
    assert result.history[0]['elapsed'] == 0.0


def test_interval_grows_while_unchanged_and_resets_on_change():
    clock = FakeClock()
    values = [{'state': 'activating', 'done': 1}] * 4 + [{'state': 'activating', 'done': 2}, {'state': 'active'}]
    make_waiter(values, clock, interval=1.0, max_interval=2.0, factor=1.5).run()
    assert clock.sleeps == [1.0, 1.5, 2.0, 2.0, 1.0]


def test_timeout_carries_last_status_and_history():
    clock = FakeClock()
    waiter = make_waiter([{'state': 'activating', 'done': 7}], clock, timeout=5, interval=1.0, max_interval=1.0)
    with pytest.raises(WaitError) as info:
        waiter.run()
    error = info.value
    assert error.timed_out
    assert 'timed out after 5.0s waiting for state active' in error.message
    assert 'state=activating, done=7' in error.message
    assert error.last == {'state': 'activating', 'done': 7}
    assert error.history == [{'elapsed': 0.0, 'state': 'activating', 'done': 7}]
    assert sum(clock.sleeps) == pytest.approx(5.0)


def test_failure_predicate_stops_at_once():
    clock = FakeClock()
    waiter = make_waiter([{'state': 'activating'}, {'state': 'failed'}], clock,
                         failure=lambda v: 'it broke' if v['state'] == 'failed' else None)
    with pytest.raises(WaitError) as info:
        waiter.run()
    assert not info.value.timed_out
    assert info.value.message.startswith('it broke after')
    assert 'state=failed' in info.value.message


def test_transient_errors_are_recorded_and_polled_through():
    clock = FakeClock()
    values = [{'state': 'activating'}, RuntimeError('connection refused'), {'state': 'active'}]
    result = make_waiter(values, clock, is_transient=lambda exc: isinstance(exc, RuntimeError)).run()
    assert result.value == {'state': 'active'}
    assert {'elapsed': 1.0, 'poll_error': 'connection refused'} in result.history


def test_non_transient_error_propagates():
    clock = FakeClock()
    with pytest.raises(KeyError):
        make_waiter([KeyError('x')], clock, is_transient=lambda exc: isinstance(exc, RuntimeError)).run()


def test_timeout_with_only_errors_says_so():
    clock = FakeClock()
    waiter = make_waiter([RuntimeError('down')], clock, timeout=2, is_transient=lambda exc: True)
    with pytest.raises(WaitError) as info:
        waiter.run()
    assert 'no successful poll' in info.value.message and 'last poll error: down' in info.value.message


def test_history_is_bounded_and_keeps_first_sample():
    clock = FakeClock()
    values = [{'state': 'activating', 'done': n} for n in range(300)] + [{'state': 'active'}]
    result = make_waiter(values, clock, timeout=10000).run()
    assert len(result.history) == 200
    assert result.history[0]['done'] == 0
    assert result.history[-1]['state'] == 'active'


def test_bad_arguments():
    with pytest.raises(KfuseError):
        Waiter(lambda: None, lambda v: True, timeout=1, interval=0)
    with pytest.raises(KfuseError):
        Waiter(lambda: None, lambda v: True, timeout=-1, interval=1)
