# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Documentation of the backup set options that backup, backup_info and backup_restore share word for word."""

from __future__ import annotations


class ModuleDocFragment:
    """Where the backup sets are in the bucket or container (argument spec: _backup_tasks.BACKUP_SET_ARGSPEC)."""

    DOCUMENTATION = r'''
options:
  prefix:
    description:
      - Key prefix of all backup sets in the bucket or container.
    type: str
    default: kfuse-failover/backups
'''
