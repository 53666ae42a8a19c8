# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup-set retention: ``plan_retention`` (a pure function) then ``prune``.

Private to the collection (``_backup_set`` package). A complete set is kept when it is among the ``keep_last``
newest OR younger than ``max_age`` (either rule keeping it is enough); the newest complete set is always kept;
nothing at all is pruned unless the newest complete set was verified.
"""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.layout import (
    DEFAULT_INCOMPLETE_AFTER,
    MANIFEST_NAME,
    STATUS_INCOMPLETE,
    STATUS_INVALID,
    WRITER_NAME,
)
from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import as_utc, format_time, parse_duration
from ansible_collections.kfuse.failover.plugins.module_utils.errors import BackupSetError, OptionError


def _summary(backup_set, reason=None):
    created = backup_set.created
    return {'zone': backup_set.zone, 'set_id': backup_set.set_id, 'prefix': backup_set.prefix,
            'status': backup_set.status, 'created': format_time(created) if created else None, 'reason': reason}


def plan_retention(sets, keep_last=None, max_age=None, now=None, verified_latest=False,
                   incomplete_after=DEFAULT_INCOMPLETE_AFTER, prune_incomplete=False):
    """Which sets of one zone to prune (pure; nothing is touched).

    ``verified_latest``: True, or the set id that was verified; only when it is the newest complete set does
    anything get pruned. ``keep_last`` (int >= 1) and ``max_age`` (duration) keep a set when either keeps it.
    Returns {'keep', 'prune', 'incomplete' (stale incomplete sets), 'invalid', 'newest', 'blocked'}.
    """
    if keep_last is not None and (isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1):
        raise OptionError('keep_last must be an integer >= 1, got %r' % (keep_last,))
    max_age_seconds = parse_duration(max_age, 'max_age') if max_age is not None else None
    stale_seconds = parse_duration(incomplete_after, 'incomplete_after')
    now = as_utc(now)
    sets = list(sets)
    zones = sorted({item.zone for item in sets})
    if len(zones) > 1:
        raise OptionError('plan_retention works on the sets of one zone, got zones %s' % ', '.join(zones))
    complete = sorted((item for item in sets if item.complete), key=lambda item: (item.created, item.set_id),
                      reverse=True)
    newest = complete[0] if complete else None
    plan = {'keep': [], 'prune': [], 'incomplete': [], 'invalid': [], 'blocked': None,
            'newest': newest.set_id if newest else None}

    verified = newest is not None and (verified_latest is True or verified_latest == newest.set_id)
    if newest is None:
        plan['blocked'] = 'no complete set: nothing is pruned'
    elif not verified:
        plan['blocked'] = 'the newest complete set %s is not verified: nothing is pruned' % newest.set_id
    elif keep_last is None and max_age_seconds is None:
        plan['blocked'] = 'neither keep_last nor max_age is set: nothing is pruned'

    for position, item in enumerate(complete):
        age = (now - item.created).total_seconds()
        reasons = []
        if position == 0:
            reasons.append('newest complete set')
        if keep_last is not None and position < keep_last:
            reasons.append('among the %d newest' % keep_last)
        if max_age_seconds is not None and age <= max_age_seconds:
            reasons.append('younger than max_age')
        if reasons or plan['blocked']:
            plan['keep'].append(_summary(item, ', '.join(reasons) or 'kept: ' + plan['blocked']))
        else:
            rules = []
            if keep_last is not None:
                rules.append('beyond the %d newest' % keep_last)
            if max_age_seconds is not None:
                rules.append('older than max_age')
            plan['prune'].append(_summary(item, ' and '.join(rules)))

    for item in sets:
        if item.status == STATUS_INVALID:
            plan['invalid'].append(_summary(item, item.error))
        elif item.status == STATUS_INCOMPLETE:
            started = item.started or item.created
            if started is not None and (now - started).total_seconds() > stale_seconds:
                summary = _summary(item, 'incomplete for more than %s' % incomplete_after)
                plan['incomplete'].append(summary)
                if prune_incomplete and not plan['blocked']:
                    plan['prune'].append(summary)
    return plan


def prune(store, plan):
    """Delete the sets in ``plan['prune']``: manifest first (a half-deleted set reads as incomplete), marker last.

    Returns {'pruned': [set ids], 'deleted_objects': n}.
    """
    pruned = []
    deleted = 0
    for item in plan.get('prune', []):
        location = item['prefix']
        if not location or not location.endswith('/'):
            raise BackupSetError('refusing to prune %r: not a set prefix' % (location,))
        keys = [info.key for info in store.list(location)]
        first = [key for key in keys if key == location + MANIFEST_NAME]
        last = [key for key in keys if key == location + WRITER_NAME]
        middle = [key for key in keys if key not in first and key not in last]
        deleted += store.delete_many(first) + store.delete_many(middle) + store.delete_many(last)
        pruned.append(item['set_id'])
    return {'pruned': pruned, 'deleted_objects': deleted}
