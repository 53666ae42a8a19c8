# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one interface of a node-group provider, the state it reports, and retries of transient provider errors.

A provider is one small class (``aws.EksNodeGroup``, ``aws.AutoScalingGroup``, ``gke.GkeNodePool``,
``aks.AksAgentPool``) with:

- ``read()`` -> ``GroupState``: the sizes, the provider's status word, whether an operation is running (``busy``);
- ``check_change(state, wanted)``: refuses (``OptionError`` / ``NodeGroupError``) a change the provider would
  refuse, before any call that changes anything;
- ``resize(state, wanted)`` -> the provider's id of the change (EKS update id, GKE/AKS operation), or None;
- ``progress(change_id)`` -> ``Progress``: the state again, whether the change has settled (EKS group ACTIVE and
  its update Successful, GKE operation DONE, AKS operation Succeeded) and a failure message, if any.
"""

from __future__ import annotations

import time

from ansible_collections.kfuse.failover.plugins.module_utils._retry import full_jitter_delay
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError, NodeGroupError
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import GroupSizes

# Transient provider errors: at most this many attempts of one call, backoff base and cap in seconds.
MAX_ATTEMPTS = 8
RETRY_BASE = 1.0
RETRY_CAP = 20.0


class GroupState:
    """What a provider reports of a group: ``sizes`` (GroupSizes), ``status`` (the provider's word), ``busy``
    (an operation runs, a change would be refused until it ends) and ``details`` (provider-specific facts)."""

    def __init__(self, sizes, status=None, busy=False, details=None):
        self.sizes = sizes
        self.status = status
        self.busy = busy
        self.details = details or {}

    def as_dict(self):
        result = self.sizes.as_dict()
        result['status'] = self.status
        return result


class Progress:
    """One look at a change: the group's state, whether the change has settled, and why it failed (or None)."""

    def __init__(self, state, settled, failure=None, change_status=None):
        self.state = state
        self.settled = settled
        self.failure = failure
        self.change_status = change_status


class NodeGroupProvider:
    """Base of the providers; see the module docstring for the interface."""

    key = None               # eks, asg, gke, aks
    label = None             # the node label naming the group on its Nodes
    bounded = True           # whether the group has a minimum and a maximum of its own
    change_key = None        # result key of the change id: update_id, operation
    kind = 'node group'

    def __init__(self, name, cluster=None):
        self.name = name
        self.cluster = cluster

    def describe(self):
        where = ' of cluster %s' % self.cluster if self.cluster else ''
        return '%s %s%s' % (self.kind, self.name, where)

    def error(self, message, code=None, transient=False, busy=False, retry_after=None):
        return NodeGroupError('%s: %s' % (self.describe(), message), provider=self.key, code=code, group=self.name,
                              transient=transient, busy=busy, retry_after=retry_after)

    def read(self):
        raise NotImplementedError

    def check_change(self, state, wanted):
        """Raise when the provider would refuse to go from ``state`` to ``wanted`` (GroupSizes)."""

    def resize(self, state, wanted):
        raise NotImplementedError

    def progress(self, change_id):
        state = self.read()
        return Progress(state, not state.busy)


class NoProvider(NodeGroupProvider):
    """provider=none: a cluster autoscaler or Karpenter owns the nodes; the module only waits."""

    key = 'none'
    bounded = False
    kind = 'nodes'

    def describe(self):
        return 'nodes owned by the cluster autoscaler or Karpenter'

    def read(self):
        return GroupState(GroupSizes())

    def resize(self, state, wanted):  # pragma: no cover - never called: nothing to change
        return None


class Retrier:
    """Calls with retries of transient errors (NodeGroupError, TransientKubeError): full-jitter backoff (or the provider's Retry-After), at most
    ``max_attempts`` attempts, never sleeping past ``deadline`` (a ``clock()`` value)."""

    def __init__(self, deadline, clock=time.monotonic, sleep=time.sleep, max_attempts=MAX_ATTEMPTS,
                 base=RETRY_BASE, cap=RETRY_CAP):
        self.deadline = deadline
        self.clock = clock
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.base = base
        self.cap = cap
        self.retried = []

    def pause(self, attempt, exc):
        """Sleep before retry ``attempt`` (0 first) after ``exc``; re-raise it when no retry is left."""
        if not getattr(exc, 'transient', False) or attempt + 1 >= self.max_attempts:
            raise exc
        delay = full_jitter_delay(attempt, self.base, self.cap)
        if getattr(exc, 'retry_after', None) is not None:
            delay = max(delay, exc.retry_after)
        if self.clock() + delay > self.deadline:
            raise exc
        self.retried.append('%s (%s)' % (exc.code, 'busy' if getattr(exc, 'busy', False) else 'transient'))
        self.sleep(delay)

    def call(self, function, *args, **kwargs):
        attempt = 0
        while True:
            try:
                return function(*args, **kwargs)
            except KfuseError as exc:
                self.pause(attempt, exc)
                attempt += 1
