# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sizes a node group should get, from the request and the provider's current sizes. Pure functions.

Rules (for providers that own a minimum and a maximum: EKS and Auto Scaling):

- ``max_size`` not given: the group's current maximum is kept; a ``size`` above it fails, naming both numbers.
- ``min_size`` not given: scaling up raises the minimum to ``size`` (so scaling up from zero raises min and
  desired together and nothing scales the group back down meanwhile); scaling to 0 sets the minimum to 0;
  otherwise the minimum is kept, lowered to ``size`` when it would exceed it.
- Given values are used as they are, and must satisfy ``min_size <= size <= max_size``.

For providers without such bounds (GKE and AKS pools without autoscaling), ``min_size`` and ``max_size`` only
bound the request: a ``size`` outside them fails before any call.
"""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

SIZE_KEYS = ('min_size', 'max_size', 'desired_size')


class GroupSizes:
    """Minimum, maximum and desired size of a group (None where the provider has no such number)."""

    def __init__(self, min_size=None, max_size=None, desired_size=None):
        self.min_size = min_size
        self.max_size = max_size
        self.desired_size = desired_size

    def as_tuple(self):
        return (self.min_size, self.max_size, self.desired_size)

    def as_dict(self):
        return dict(zip(SIZE_KEYS, self.as_tuple()))

    def __eq__(self, other):
        return isinstance(other, GroupSizes) and self.as_tuple() == other.as_tuple()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.as_tuple())

    def __repr__(self):
        return 'GroupSizes(min_size=%r, max_size=%r, desired_size=%r)' % self.as_tuple()


def check_request(size, min_size=None, max_size=None):
    """Refuse a request that no group could satisfy, before anything is read."""
    for option, value in (('size', size), ('min_size', min_size), ('max_size', max_size)):
        if value is not None and value < 0:
            raise OptionError('%s must be 0 or more, got %d' % (option, value))
    if min_size is not None and min_size > size:
        raise OptionError('min_size=%d is above size=%d; min_size must be at most size' % (min_size, size))
    if max_size is not None and max_size < size:
        raise OptionError('max_size=%d is below size=%d; raise max_size to at least %d' % (max_size, size, size))
    if min_size is not None and max_size is not None and min_size > max_size:
        raise OptionError('min_size=%d is above max_size=%d' % (min_size, max_size))


def plan_sizes(current, size, min_size=None, max_size=None, bounded=True, group='the node group'):
    """The GroupSizes wanted for ``size`` given the ``current`` GroupSizes; OptionError when it cannot be done.

    ``bounded``: whether the provider has a minimum and a maximum of its own (EKS, Auto Scaling).
    """
    check_request(size, min_size, max_size)
    if not bounded:
        return GroupSizes(None, None, size)
    if max_size is None:
        if current.max_size is None:
            raise OptionError('%s reports no maximum size; set max_size' % group)
        if size > current.max_size:
            raise OptionError('size=%d is above the maximum of %s (%d) and max_size is not set; set max_size to at '
                              'least %d to raise it' % (size, group, current.max_size, size))
        wanted_max = current.max_size
    else:
        wanted_max = max_size
    if min_size is not None:
        wanted_min = min_size
    elif size == 0:
        wanted_min = 0
    elif current.desired_size is None or current.min_size is None or size > current.desired_size:
        wanted_min = size
    else:
        wanted_min = min(current.min_size, size)
    # min <= size <= max holds here: check_request and the maximum check above saw to it.
    return GroupSizes(wanted_min, wanted_max, size)
