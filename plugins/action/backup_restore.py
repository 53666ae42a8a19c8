# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of kfuse.failover.backup_restore: the module in the task's worker process when it runs here anyway."""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.plugin_utils._in_process import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    """See plugins/plugin_utils/_in_process.py."""
