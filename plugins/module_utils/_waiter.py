# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A generic poll-until-condition loop with backoff, a deadline and a progress history.

Nothing here knows about the az-service: callers give a ``fetch`` function, predicates over what it
returns, and a ``summarize`` function producing a small flat dict (e.g. state, phase, done, total,
percent) that is recorded in the history whenever it changes and quoted when the wait fails.
"""

from __future__ import annotations

import time

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError, WaitError  # noqa: F401 (re-exported)

MAX_HISTORY = 200


class WaitResult:
    """What a successful wait saw: the last observation, elapsed seconds, the progress history and poll count."""

    def __init__(self, value, elapsed, history, polls):
        self.value = value
        self.elapsed = elapsed
        self.history = history
        self.polls = polls


def describe_summary(summary):
    """'state=activating, phase=rehydrating, done=120, total=300' from a summary dict, skipping unknown fields."""
    parts = ['%s=%s' % (key, value) for key, value in summary.items() if value is not None]
    return ', '.join(parts) if parts else 'nothing recognisable'


class Waiter:
    """Poll ``fetch`` until ``is_done(value)`` holds, ``failure(value)`` returns a message, or the deadline passes.

    The pause between polls starts at ``interval`` and grows by ``factor`` up to ``max_interval`` while the
    summary stays the same; it drops back to ``interval`` whenever the summary changes, so a moving
    process is sampled finely and a stuck one is not hammered. ``is_transient(exc)`` marks fetch errors
    that are recorded and polled through instead of ending the wait.
    """

    def __init__(self, fetch, is_done, timeout, interval, max_interval=None, factor=1.5, summarize=None,
                 failure=None, is_transient=None, what='the condition', clock=time.monotonic, sleep=time.sleep):
        if timeout < 0:
            raise OptionError('timeout must not be negative')
        if interval <= 0:
            raise OptionError('interval must be positive')
        self.fetch = fetch
        self.is_done = is_done
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max(interval, max_interval if max_interval is not None else interval * 4)
        self.factor = max(1.0, factor)
        self.summarize = summarize or (lambda value: {'value': value})
        self.failure = failure
        self.is_transient = is_transient
        self.what = what
        self.clock = clock
        self.sleep = sleep
        self.history = []
        self._last_key = None

    def _record(self, elapsed, summary):
        """Append a sample unless it equals the previous one (elapsed time aside). Returns True when it changed."""
        key = tuple(sorted(summary.items(), key=lambda item: item[0]))
        if key == self._last_key:
            return False
        self._last_key = key
        sample = {'elapsed': round(elapsed, 1)}
        sample.update(summary)
        self.history.append(sample)
        if len(self.history) > MAX_HISTORY:
            # Keep the first sample (where we started) and the most recent ones.
            del self.history[1]
        return True

    def run(self):
        """Wait; returns a WaitResult or raises WaitError."""
        start = self.clock()
        deadline = start + self.timeout
        pause = self.interval
        polls = 0
        last = None
        last_summary = {}
        while True:
            polls += 1
            poll_error = None
            try:
                last = self.fetch()
            except Exception as exc:  # pylint: disable=broad-exception-caught
                if not (self.is_transient and self.is_transient(exc)):
                    raise
                poll_error = str(exc)[:300]
                summary = {'poll_error': poll_error}
            else:
                summary = dict(self.summarize(last))
                last_summary = summary
            elapsed = self.clock() - start
            changed = self._record(elapsed, summary)
            if poll_error is None:
                if self.is_done(last):
                    return WaitResult(last, elapsed, self.history, polls)
                reason = self.failure(last) if self.failure else None
                if reason:
                    raise WaitError('%s after %.1fs while waiting for %s; last seen: %s' % (
                        reason, elapsed, self.what, describe_summary(last_summary)),
                        last=last, last_summary=last_summary, history=self.history, elapsed=elapsed)
            remaining = deadline - self.clock()
            if remaining <= 0:
                seen = describe_summary(last_summary) if last is not None else 'no successful poll'
                if poll_error is not None:
                    seen += '; last poll error: %s' % poll_error
                raise WaitError('timed out after %.1fs waiting for %s; last seen: %s' % (elapsed, self.what, seen),
                                last=last, last_summary=last_summary, history=self.history, elapsed=elapsed,
                                timed_out=True)
            if changed:
                pause = self.interval
            self.sleep(min(pause, remaining))
            pause = min(pause * self.factor, self.max_interval)
