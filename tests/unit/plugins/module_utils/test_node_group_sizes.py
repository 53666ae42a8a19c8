# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The min/max rules of node_group: what is wanted from the request and the group's current sizes."""

from __future__ import annotations

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import (
    GroupSizes, check_request, plan_sizes)
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError


@pytest.mark.parametrize('current, size, min_size, max_size, wanted', [
    # Scaling up from zero raises min and desired together; the maximum is kept.
    ((0, 6, 0), 3, None, None, (3, 6, 3)),
    # Scaling up raises the minimum to size.
    ((1, 6, 2), 4, None, None, (4, 6, 4)),
    # Scaling to zero sets the minimum to zero.
    ((3, 6, 3), 0, None, None, (0, 6, 0)),
    # Scaling down keeps the minimum unless it would exceed size.
    ((1, 6, 4), 2, None, None, (1, 6, 2)),
    ((3, 6, 4), 2, None, None, (2, 6, 2)),
    # The same size keeps everything (idempotent).
    ((3, 6, 3), 3, None, None, (3, 6, 3)),
    ((1, 6, 3), 3, None, None, (1, 6, 3)),
    # Given values are used as they are.
    ((0, 6, 0), 3, 1, None, (1, 6, 3)),
    ((0, 2, 0), 3, None, 5, (3, 5, 3)),
    ((3, 6, 3), 3, 0, 10, (0, 10, 3)),
    # A maximum of zero (Auto Scaling allows it) with a scale to zero.
    ((0, 0, 0), 0, None, None, (0, 0, 0)),
])
def test_plan_bounded(current, size, min_size, max_size, wanted):
    assert plan_sizes(GroupSizes(*current), size, min_size, max_size).as_tuple() == wanted


def test_plan_unbounded_only_desired():
    assert plan_sizes(GroupSizes(None, None, 0), 3, bounded=False).as_tuple() == (None, None, 3)
    assert plan_sizes(GroupSizes(None, None, 5), 0, min_size=0, max_size=4, bounded=False).as_tuple() == (None, None, 0)


def test_size_above_current_max_names_the_numbers_and_the_option():
    with pytest.raises(OptionError) as caught:
        plan_sizes(GroupSizes(0, 2, 0), 3, group='EKS node group kfuse-az2')
    message = str(caught.value)
    assert 'size=3' in message and 'maximum of EKS node group kfuse-az2 (2)' in message and 'max_size' in message


@pytest.mark.parametrize('size, min_size, max_size, message', [
    (-1, None, None, 'size must be 0 or more, got -1'),
    (3, -1, None, 'min_size must be 0 or more'),
    (3, None, -2, 'max_size must be 0 or more'),
    (3, 4, None, 'min_size=4 is above size=3'),
    (5, None, 4, 'max_size=4 is below size=5; raise max_size to at least 5'),
    (3, 3, 2, 'max_size=2 is below size=3'),
])
def test_check_request(size, min_size, max_size, message):
    with pytest.raises(OptionError, match=message.replace('(', r'\(')):
        check_request(size, min_size, max_size)


def test_unbounded_request_still_bounded_by_given_options():
    with pytest.raises(OptionError, match='max_size=4 is below size=5'):
        plan_sizes(GroupSizes(None, None, 0), 5, max_size=4, bounded=False)


def test_group_without_maximum_needs_max_size():
    with pytest.raises(OptionError, match='reports no maximum size; set max_size'):
        plan_sizes(GroupSizes(None, None, 0), 1)
    assert plan_sizes(GroupSizes(None, None, 0), 1, max_size=2).as_tuple() == (1, 2, 1)


def test_sizes_value_semantics():
    assert GroupSizes(1, 2, 3) == GroupSizes(1, 2, 3) and GroupSizes(1, 2, 3) != GroupSizes(1, 2, 4)
    assert GroupSizes(1, 2, 3).as_dict() == {'min_size': 1, 'max_size': 2, 'desired_size': 3}
    assert len({GroupSizes(1, 2, 3), GroupSizes(1, 2, 3)}) == 1
