# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Documentation of the wait options shared by modules that wait for a state."""

from __future__ import annotations


class ModuleDocFragment:
    """Options of waiting modules (``wait`` plus ``wait.timing``). Modules override the defaults of O(wait_timeout)
    and O(poll_interval)."""

    DOCUMENTATION = r'''
options:
  wait:
    description:
      - Wait until the operation has finished before returning.
    type: bool
    default: true
'''

    # How long and how often to poll; with DOCUMENTATION for modules that have O(wait), alone for modules that
    # only wait on request.
    TIMING = r'''
options:
  wait_timeout:
    description:
      - Maximum seconds to wait. On timeout the module fails with the last status it saw (normalised and raw)
        and the progress history.
    type: int
  poll_interval:
    description:
      - Seconds between two status polls at first. While nothing changes the interval grows (x1.5 per poll)
        up to four times this value (at most 60 seconds); it drops back to this value whenever the status changes.
    type: float
'''
