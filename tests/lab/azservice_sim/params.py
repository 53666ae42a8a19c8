# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing of query parameters and the time formats the simulator reads and writes."""

import datetime
import math

UTC = datetime.timezone.utc
# Epoch values at or above this are taken as milliseconds (1e11 seconds is the year 5138).
_EPOCH_MS_THRESHOLD = 1e11
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


class ParamError(ValueError):
    """A query parameter has a value the service does not accept."""

    def __init__(self, name, reason):
        super().__init__("%s: %s" % (name, reason))
        self.name = name
        self.reason = reason


def parse_bool(name, value, default=False):
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ParamError(name, "expected true or false, got %r" % value)


def parse_positive_int(name, value, default):
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ParamError(name, "expected a positive integer, got %r" % value) from None
    if number < 1:
        raise ParamError(name, "expected a positive integer, got %r" % value)
    return number


def parse_time(name, value):
    """RFC 3339 date-time (with an offset), epoch seconds or epoch milliseconds -> aware UTC datetime."""
    text = (value or "").strip()
    if not text:
        raise ParamError(name, "empty value; expected RFC 3339, epoch seconds or epoch milliseconds")
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or number < 0:
            raise ParamError(name, "epoch value out of range: %r" % value)
        seconds = number / 1000.0 if number >= _EPOCH_MS_THRESHOLD else number
        try:
            return datetime.datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ParamError(name, "epoch value out of range: %r" % value) from None
    if "T" not in text.upper() and " " not in text:
        raise ParamError(name, "expected an RFC 3339 date-time such as 2026-11-21T10:00:00Z, got %r" % value)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ParamError(name, "expected RFC 3339, epoch seconds or epoch milliseconds, got %r" % value) from None
    if parsed.tzinfo is None:
        raise ParamError(name, "RFC 3339 time needs an offset (Z or +hh:mm), got %r" % value)
    return parsed.astimezone(UTC)


def format_time(moment):
    """Aware datetime -> RFC 3339 in UTC with millisecond precision."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] + "Z"


def utcnow():
    return datetime.datetime.now(UTC)
