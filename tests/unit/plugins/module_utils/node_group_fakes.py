# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fakes for the node_group unit tests: a clock that never sleeps, a scripted provider and a scripted node counter."""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import (
    GroupState, NodeGroupProvider, Progress)
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import GroupSizes


class FakeClock:
    """monotonic() and sleep() on a virtual time line; sleeping only advances it."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class FakeProvider(NodeGroupProvider):
    """An EKS-like group held in memory: ``busy_reads`` reads report UPDATING first, ``resize_errors`` are raised by
    the next resizes, ``settle_polls`` progress polls pass before a change settles, ``failure`` fails the wait."""

    key = 'eks'
    label = 'eks.amazonaws.com/nodegroup'
    bounded = True
    change_key = 'update_id'
    kind = 'EKS node group'

    def __init__(self, sizes=(0, 6, 0), status='ACTIVE', busy_reads=0, resize_errors=(), settle_polls=0,
                 failure=None, name='kfuse-az2', cluster='lab', bounded=True):
        super().__init__(name, cluster)
        self.sizes = GroupSizes(*sizes)
        self.status = status
        self.busy_reads = busy_reads
        self.resize_errors = list(resize_errors)
        self.settle_polls = settle_polls
        self.failure = failure
        self.bounded = bounded
        self.calls = []
        self.resizes = []

    def read(self):
        self.calls.append('read')
        busy = self.busy_reads > 0
        if busy:
            self.busy_reads -= 1
        return GroupState(GroupSizes(*self.sizes.as_tuple()), status='UPDATING' if busy else self.status, busy=busy)

    def resize(self, state, wanted):
        self.calls.append('resize')
        if self.resize_errors:
            error = self.resize_errors.pop(0)
            if getattr(error, 'applied', False):
                self.sizes = GroupSizes(*wanted.as_tuple())
            raise error
        self.resizes.append(wanted.as_tuple())
        self.sizes = GroupSizes(*wanted.as_tuple())
        return 'update-%d' % len(self.resizes)

    def progress(self, change_id):
        state = self.read()
        settled = not state.busy
        if change_id and self.settle_polls > 0:
            self.settle_polls -= 1
            settled = False
        return Progress(state, settled, self.failure, 'Successful' if settled and change_id else None)


class FakeCounter:
    """Node counts in order, (registered, ready) pairs; the last one repeats. Records whether it was used."""

    def __init__(self, counts=((0, 0),), selector=None):
        self.counts = list(counts)
        self.selector = selector
        self.used = 0
        self.closed = False

    def __call__(self, selector, kubeconfig=None, context=None):
        # Used as the NodeCounter factory: remembers what the task asked for.
        self.selector = selector
        self.kubeconfig = kubeconfig
        self.context = context
        return self

    def count(self):
        self.used += 1
        registered, ready = self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]
        return {'selector': self.selector, 'registered': registered, 'ready': ready,
                'names': ['node-%d' % index for index in range(registered)]}

    def close(self):
        self.closed = True
