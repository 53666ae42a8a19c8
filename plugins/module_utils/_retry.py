# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Retry timing: exponential backoff with full jitter, and the HTTP Retry-After header."""

from __future__ import annotations

import datetime
import email.utils
import math
import random

DEFAULT_MAX_DELAY = 30.0
# A server asking for a longer pause than this is treated as asking for this long.
MAX_RETRY_AFTER = 120.0


def full_jitter_delay(attempt, base, cap=DEFAULT_MAX_DELAY, rand=random.random):
    """Delay before retry number ``attempt`` (0 for the first retry): uniform in [0, min(cap, base * 2**attempt)].

    Full jitter spreads simultaneous clients apart, which matters when two playbooks hit one service.
    """
    if base <= 0:
        return 0.0
    ceiling = min(cap, base * (2 ** min(attempt, 32)))
    return rand() * ceiling


def parse_retry_after(value, now=None, limit=MAX_RETRY_AFTER):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), capped at ``limit``; None if unusable."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        now = now or datetime.datetime.now(datetime.timezone.utc)
        seconds = (when - now).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, min(seconds, limit))
