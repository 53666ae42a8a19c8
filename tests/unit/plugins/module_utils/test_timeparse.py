# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""latest_time parsing and wire formats."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import (
    TimeParseError,
    format_time,
    parse_time,
)
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError

TEN_UTC = datetime.datetime(2026, 11, 21, 10, 0, tzinfo=datetime.timezone.utc)
TEN_EPOCH = int(TEN_UTC.timestamp())


@pytest.mark.parametrize('value', [
    '2026-11-21T10:00:00Z', '2026-11-21T10:00:00z', '2026-11-21t10:00:00Z', '2026-11-21T10:00:00+00:00',
    '2026-11-21T12:00:00+02:00', '2026-11-21T05:00:00-0500', '2026-11-21T10:00:00', '2026-11-21 10:00',
    '2026-11-21T10:00', '2026-11-21 10:00:00.000Z', '  2026-11-21T10:00:00Z  ', TEN_EPOCH, str(TEN_EPOCH),
    TEN_EPOCH * 1000, str(TEN_EPOCH * 1000), float(TEN_EPOCH), '%d.0' % TEN_EPOCH, TEN_UTC,
    datetime.datetime(2026, 11, 21, 10, 0), '2026-11-21 10:00:00+00:00',
])
def test_valid_forms_mean_the_same_instant(value):
    assert parse_time(value) == TEN_UTC


def test_date_only_is_midnight_utc():
    assert parse_time('2026-11-21') == datetime.datetime(2026, 11, 21, tzinfo=datetime.timezone.utc)
    assert parse_time(datetime.date(2026, 11, 21)).hour == 0


@pytest.mark.parametrize('value, reason', [
    ('', 'empty'), ('   ', 'empty'), ('yesterday', 'not a recognised'), ('2026-13-01T00:00:00Z', 'invalid date'),
    ('2026-02-30', 'invalid date'), ('2026-11-21T25:00:00Z', 'invalid date'), ('21/11/2026 10:00', 'not a recognised'),
    ('2026-11-21T10:00:00 UTC', 'not a recognised'), ('2026-W47-6', 'not a recognised'), ('-5', 'negative'),
    (-1, 'negative'), (True, 'not a point in time'), (None, 'not a point in time'), ([2026], 'unsupported type'),
    ('1e30', 'not a recognised'), (10 ** 20, 'out of range'), ('2026-11-21T10:00:00+2', 'not a recognised'),
])
def test_malformed_forms_name_the_option_and_accepted_forms(value, reason):
    with pytest.raises(TimeParseError) as info:
        parse_time(value)
    message = str(info.value)
    assert message.startswith('latest_time: ')
    assert reason in message
    assert 'RFC 3339' in message and 'epoch milliseconds' in message


@pytest.mark.parametrize('time_format, expected', [
    ('rfc3339', '2026-11-21T10:00:00Z'), ('epoch', str(TEN_EPOCH)), ('epoch_ms', str(TEN_EPOCH * 1000)),
])
def test_wire_formats(time_format, expected):
    assert format_time(parse_time('2026-11-21T12:00:00+02:00'), time_format) == expected


def test_rfc3339_drops_fractions_and_epoch_ms_keeps_them():
    moment = parse_time('2026-11-21T10:00:00.250Z')
    assert format_time(moment, 'rfc3339') == '2026-11-21T10:00:00Z'
    assert format_time(moment, 'epoch_ms') == str(TEN_EPOCH * 1000 + 250)


def test_unknown_format_is_refused():
    with pytest.raises(KfuseError, match='latest_time_format'):
        format_time(TEN_UTC, 'iso')
