# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup sets in object storage: the public face of the private ``_backup_set`` package.

============================  =================================================================================
``_backup_set.layout``        names, keys, set ids, the segment checks (and the layout itself)
``_backup_set.writer``        ``BackupSetWriter``: ``.writer`` marker, streamed objects, manifest last
``_backup_set.manifest``      manifest validation, ``BackupSet``, ``load_set``, ``list_sets``, ``latest_complete``
``_backup_set.verify``        ``unlock``, ``open_object`` (checked plaintext stream), ``verify_set``
``_backup_set.retention``     ``plan_retention`` (pure) and ``prune``
============================  =================================================================================

Times and durations come from ``_timeparse``; errors from ``errors`` (``BackupSetError``, ``ManifestError``,
``IntegrityError``). Callers import this module only.
"""

from __future__ import annotations

# pylint: disable=unused-import

from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.layout import (  # noqa: F401
    DEFAULT_INCOMPLETE_AFTER,
    ENCRYPTED_SUFFIX,
    FORMAT,
    KINDS,
    MANIFEST_NAME,
    STATUS_COMPLETE,
    STATUS_INCOMPLETE,
    STATUS_INVALID,
    VERSION,
    WRITER_NAME,
    new_set_id,
    object_key,
    set_id_time,
    set_prefix,
    zone_prefix,
)
from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.manifest import (  # noqa: F401
    BackupSet,
    latest_complete,
    list_sets,
    list_zones,
    load_set,
    manifest_time,
    newest_complete,
    validate_manifest,
)
from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.retention import plan_retention, prune  # noqa: F401
from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.verify import open_object, unlock, verify_set  # noqa: F401
from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.writer import BackupSetWriter  # noqa: F401
from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import format_time, parse_duration, utcnow  # noqa: F401
from ansible_collections.kfuse.failover.plugins.module_utils.errors import BackupSetError, IntegrityError, ManifestError  # noqa: F401
