# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place for time: points in time (``parse_time``, ``format_time``, ``as_utc``, ``utcnow``) and durations
(``parse_duration``), for operator input (``latest_time``, ``max_age``) and for manifest time stamps alike.

Accepted input: ISO-8601 / RFC 3339 date-times with or without an offset (no offset means UTC), with a
``T`` or a space between date and time and optional seconds (``2026-11-21 10:00``), a bare date (midnight
UTC), or epoch seconds / milliseconds as a number or a numeric string (values from 1e11 up are read as
milliseconds, which is any date after 1973 in milliseconds and any date before 5138 in seconds).
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError, TimeParseError

TIME_FORMATS = ('rfc3339', 'epoch', 'epoch_ms')

ACCEPTED_FORMS = (
    'an ISO-8601/RFC 3339 date-time such as 2026-11-21T10:00:00Z, 2026-11-21T12:00:00+02:00 or '
    '2026-11-21 10:00 (no offset means UTC), a date such as 2026-11-21 (midnight UTC), '
    'or epoch seconds (1795255200) or epoch milliseconds (1795255200000) as a number or numeric string'
)

_EPOCH_MS_THRESHOLD = 1e11
_NUMERIC = re.compile(r'^[+-]?\d+(\.\d+)?$')
# Shape check before fromisoformat, which also accepts forms that are not date-times at all (e.g. week dates).
_ISO_SHAPE = re.compile(
    r'^\d{4}-\d{2}-\d{2}'
    r'([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?'
    r'([Zz]|[+-]\d{2}:?\d{2})?$'
)
_UTC = datetime.timezone.utc
_DURATION = re.compile(r'^(\d+(?:\.\d+)?)\s*([smhdw]?)$')
_DURATION_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}


def utcnow():
    """The current time, aware, in UTC."""
    return datetime.datetime.now(_UTC)


def as_utc(moment):
    """``moment`` as an aware UTC datetime (naive means UTC); None means now."""
    if moment is None:
        return utcnow()
    if not isinstance(moment, datetime.datetime):
        raise TypeError('expected a datetime, got %s' % type(moment).__name__)
    return moment.replace(tzinfo=_UTC) if moment.tzinfo is None else moment.astimezone(_UTC)


def parse_duration(value, option='max_age'):
    """Seconds (int) of ``30d``, ``12h``, ``90m``, ``45s``, ``2w`` or a number of seconds; OptionError names ``option``."""
    text = value
    if isinstance(value, bool) or value is None:
        text = None
    elif isinstance(value, (int, float)):
        text = str(value)
    match = _DURATION.match(text.strip().lower()) if isinstance(text, str) else None
    if not match:
        raise OptionError('%s must be a duration such as 30d, 12h, 90m, 45s or a number of seconds, got %r'
                          % (option, value))
    seconds = int(float(match.group(1)) * _DURATION_UNITS[match.group(2)])
    if seconds <= 0:
        raise OptionError('%s must be a positive duration, got %r' % (option, value))
    return seconds


def _bad(value, reason, option):
    return TimeParseError(value, reason, option, ACCEPTED_FORMS)


def _from_epoch(number, value, option):
    if number < 0:
        raise _bad(value, 'epoch values must not be negative', option)
    seconds = number / 1000.0 if number >= _EPOCH_MS_THRESHOLD else number
    try:
        return datetime.datetime.fromtimestamp(seconds, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        raise _bad(value, 'epoch value out of range', option) from None


def parse_time(value, option='latest_time'):
    """Timezone-aware UTC datetime of ``value``; raises TimeParseError for anything malformed."""
    if isinstance(value, bool) or value is None:
        raise _bad(value, 'not a point in time', option)
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)):
        return _from_epoch(float(value), value, option)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise _bad(value, 'empty value', option)
        if _NUMERIC.match(text):
            return _from_epoch(float(text), value, option)
        if not _ISO_SHAPE.match(text):
            raise _bad(value, 'not a recognised date-time', option)
        normalized = text.replace('t', 'T').replace('z', 'Z')
        # Python 3.11 reads +hhmm but older ones do not; give it the colon form.
        normalized = re.sub(r'([+-]\d{2})(\d{2})$', r'\1:\2', normalized)
        try:
            moment = datetime.datetime.fromisoformat(normalized.replace('Z', '+00:00'))
        except ValueError as exc:
            raise _bad(value, 'invalid date or time (%s)' % exc, option) from None
    else:
        raise _bad(value, 'unsupported type %s' % type(value).__name__, option)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)


def format_time(moment, time_format='rfc3339'):
    """Wire form of a datetime (naive means UTC): rfc3339 ``YYYY-MM-DDTHH:MM:SSZ``, epoch seconds or epoch milliseconds."""
    moment = as_utc(moment)
    if time_format == 'rfc3339':
        return moment.strftime('%Y-%m-%dT%H:%M:%SZ')
    if time_format == 'epoch':
        return str(int(moment.timestamp()))
    if time_format == 'epoch_ms':
        return str(int(round(moment.timestamp() * 1000)))
    raise OptionError('latest_time_format: unsupported value %r; accepted: %s' % (time_format, ', '.join(TIME_FORMATS)))
