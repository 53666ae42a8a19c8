# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection version as code sees it (recorded in backup-set manifests).

galaxy.yml is the source of truth; tests/unit/plugins/module_utils/test_version.py fails when the two differ, and
checks every ``version_added`` is not newer than it.
"""

from __future__ import annotations

COLLECTION_VERSION = '0.1.0'
