# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the journal suite: module arguments for a bucket, and a racer run in its own process
(multiprocessing, spawn) that opens the store, reads the journal, waits at a barrier until every racer has read the
same lock, then sends its conditional write."""

import os
import socket

from ansible_collections.kfuse.failover.plugins.module_utils import _journal
from ansible_collections.kfuse.failover.plugins.module_utils.errors import JournalError
from ansible_collections.kfuse.failover.plugins.module_utils.storage import open_store

PREFIX = "kfuse-failover/journal/"


def module_args(bucket, **extra):
    """Journal module arguments for a bucket, with the credentials in the Kloudfuse secret's own key names."""
    args = {"cloud_storage": bucket.cloud_storage, "storage_credentials": bucket.seed_secret}
    args.update(extra)
    return args


def race_begin(number, cloud_storage, credentials, prefix, start_barrier, done_barrier, results):
    """Begin a failover az1 -> az2 as racer ``number``; puts (number, 'won', run_id) or (number, 'lost', message)."""
    store = open_store(cloud_storage, credentials)
    pid = os.getpid()
    who = {"holder": "racer-%d" % number,
           "process": {"user": "racer", "host": socket.gethostname(), "pid": pid, "pid_start": _journal._proc_stat(pid)[1]}}  # pylint: disable=protected-access
    lock_key = prefix + "lock.json"
    waited = []

    def at_the_barrier(original):
        def conditional(key, *args, **kwargs):
            if key == lock_key and not waited:
                waited.append(True)
                start_barrier.wait(60)  # every racer has read the lock as it was: now all write at once
            return original(key, *args, **kwargs)
        return conditional

    store.put_if_absent = at_the_barrier(store.put_if_absent)
    store.put_if_unchanged = at_the_barrier(store.put_if_unchanged)
    try:
        result = _journal.Journal(store, prefix, who=who).begin("failover", "az1", "az2")
        results.put((number, "won", result["run_id"], pid))
    except JournalError as exc:
        results.put((number, "lost", str(exc), pid))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        results.put((number, "error", "%s: %s" % (type(exc).__name__, exc), pid))
    # Stay alive until every racer has decided: a holder whose process is gone may be taken over by a re-run.
    done_barrier.wait(120)
