# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Documentation of module attributes (check mode, diff mode, action groups) shared by the collection."""

from __future__ import annotations


class ModuleDocFragment:
    """Attribute descriptions; modules state their own support level."""

    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
'''

    # Modules that only read.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
'''

    AZ_SERVICE_GROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/kfuse.failover.az_service) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - kfuse.failover.az_service
'''
