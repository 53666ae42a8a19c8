# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup-set manifests and listing: validation, ``BackupSet`` (complete, incomplete or invalid), finding sets.

Private to the collection (``_backup_set`` package). A set is ``complete`` (valid manifest), ``incomplete`` (no
manifest: ignored by latest, verify, restore and retention, reported when stale) or ``invalid`` (a manifest that
cannot be read or does not validate: reported, never used, never pruned).
"""

from __future__ import annotations

import json
import re

from ansible_collections.kfuse.failover.plugins.module_utils import _crypto
from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.layout import (
    FORMAT,
    KINDS,
    MANIFEST_NAME,
    STATUS_COMPLETE,
    STATUS_INCOMPLETE,
    STATUS_INVALID,
    VERSION,
    WRITER_NAME,
    check_relative_path,
    set_id_time,
    set_prefix,
    zone_prefix,
)
from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import format_time, parse_time
from ansible_collections.kfuse.failover.plugins.module_utils.errors import BackupSetError, CryptoError, KfuseError, ManifestError, StorageError, TimeParseError

_HEX64 = re.compile(r'^[0-9a-f]{64}$')


def manifest_time(text):
    """Aware UTC datetime of a manifest time stamp, or None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        return parse_time(text, 'manifest time')
    except TimeParseError:
        return None


def _require(condition, message):
    if not condition:
        raise ManifestError(message)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate_manifest(manifest, zone=None, set_id=None):
    """Raise ManifestError unless ``manifest`` is a valid version-1 manifest (of ``zone``/``set_id`` when given)."""
    _require(isinstance(manifest, dict), 'manifest is not a JSON object')
    _require(manifest.get('format') == FORMAT, 'manifest format is %r, expected %r' % (manifest.get('format'), FORMAT))
    version = manifest.get('version')
    _require(_is_int(version), 'manifest version %r is not an integer' % (version,))
    _require(version <= VERSION, 'manifest version %d is newer than this collection reads (%d)' % (version, VERSION))
    _require(version == VERSION, 'manifest version %d is not supported' % version)
    for name in ('set_id', 'zone', 'created', 'completed'):
        _require(isinstance(manifest.get(name), str) and manifest[name], 'manifest %s is missing' % name)
    _require(set_id_time(manifest['set_id']) is not None, 'manifest set_id %r is not a set id' % manifest['set_id'])
    _require(set_id is None or manifest['set_id'] == set_id,
             'manifest set_id %r does not match its location %r' % (manifest['set_id'], set_id))
    _require(zone is None or manifest['zone'] == zone,
             'manifest zone %r does not match its location %r' % (manifest['zone'], zone))
    for name in ('created', 'completed'):
        _require(manifest_time(manifest[name]) is not None, 'manifest %s %r is not a time stamp' % (name, manifest[name]))
    for name in ('source', 'tools'):
        _require(isinstance(manifest.get(name, {}), dict), 'manifest %s must be an object' % name)
    sse = manifest.get('server_side_encryption')
    _require(sse is None or isinstance(sse, dict), 'manifest server_side_encryption must be an object or null')
    encryption = manifest.get('encryption')
    if encryption is not None:
        try:
            _crypto.validate_encryption_params(encryption)
        except CryptoError as exc:
            raise ManifestError('manifest %s' % exc) from None
    objects = manifest.get('objects')
    _require(isinstance(objects, list), 'manifest objects must be a list')
    seen = set()
    for position, entry in enumerate(objects):
        where = 'manifest objects[%d]' % position
        _require(isinstance(entry, dict), '%s is not an object' % where)
        _require(entry.get('kind') in KINDS, '%s kind %r is not one of %s' % (where, entry.get('kind'), ', '.join(KINDS)))
        _require(isinstance(entry.get('name'), str) and entry['name'], '%s name is missing' % where)
        try:
            check_relative_path(entry.get('key'), '%s key' % where)
        except KfuseError as exc:
            raise ManifestError(str(exc)) from None
        _require(entry['key'] not in seen, '%s key %r appears twice' % (where, entry['key']))
        seen.add(entry['key'])
        _require(entry['key'] not in (MANIFEST_NAME, WRITER_NAME), '%s key %r is reserved' % (where, entry['key']))
        for name in ('size', 'plain_size'):
            _require(_is_int(entry.get(name)), '%s %s must be a non-negative integer' % (where, name))
        for name in ('sha256', 'plain_sha256'):
            _require(isinstance(entry.get(name), str) and _HEX64.match(entry[name]), '%s %s is not a SHA-256 hex digest'
                     % (where, name))
        _require(isinstance(entry.get('encrypted'), bool), '%s encrypted must be a boolean' % where)
        _require(not entry['encrypted'] or encryption is not None, '%s is encrypted but the manifest has no encryption'
                 % where)
        _require(isinstance(entry.get('meta', {}), dict), '%s meta must be an object' % where)
    return manifest


# ---- listing -------------------------------------------------------------------------------------------


class BackupSet:
    """One set found in the store, complete or not."""

    def __init__(self, zone, set_id, prefix, status, manifest=None, error=None, started=None, object_count=0,
                 stored_bytes=0):
        self.zone = zone
        self.set_id = set_id
        self.prefix = prefix
        self.status = status
        self.manifest = manifest
        self.error = error
        self.started = started
        self.object_count = object_count
        self.stored_bytes = stored_bytes
        self._keks = {}

    @property
    def complete(self):
        return self.status == STATUS_COMPLETE

    @property
    def created(self):
        """When the set was started: the manifest's ``created``, else the time in the set id."""
        if self.manifest:
            moment = manifest_time(self.manifest.get('created'))
            if moment is not None:
                return moment
        return set_id_time(self.set_id) or self.started

    @property
    def encrypted(self):
        return bool(self.manifest and self.manifest.get('encryption'))

    def entries(self):
        return list(self.manifest['objects']) if self.manifest else []

    def find(self, key_or_name, kind=None):
        """The manifest entry whose key or name is ``key_or_name`` (and kind, when given)."""
        for entry in self.entries():
            if (kind is None or entry['kind'] == kind) and key_or_name in (entry['key'], entry['name']):
                return entry
        of_kind = ' of kind %s' % kind if kind else ''
        raise BackupSetError('backup set %s has no object %r%s' % (self.set_id, key_or_name, of_kind))

    def as_dict(self, with_manifest=True):
        """Plain data for a module result."""
        result = {'zone': self.zone, 'set_id': self.set_id, 'prefix': self.prefix, 'status': self.status,
                  'complete': self.complete, 'created': format_time(self.created) if self.created else None,
                  'object_count': self.object_count, 'stored_bytes': self.stored_bytes, 'error': self.error,
                  'encrypted': self.encrypted}
        if with_manifest:
            result['manifest'] = self.manifest
        return result

    def __repr__(self):
        return 'BackupSet(%s/%s, %s)' % (self.zone, self.set_id, self.status)


def load_set(store, prefix, zone, set_id):
    """The BackupSet at ``<prefix>/<zone>/<set_id>/`` (status from its manifest); never raises on bad manifests."""
    location = set_prefix(prefix, zone, set_id)
    started = None
    count = 0
    stored = 0
    has_manifest = False
    for info in store.list(location):
        name = info.key[len(location):]
        if name == MANIFEST_NAME:
            has_manifest = True
        elif name == WRITER_NAME:
            started = info.last_modified
        else:
            count += 1
            stored += info.size or 0
    if not has_manifest:
        return BackupSet(zone, set_id, location, STATUS_INCOMPLETE, error='no %s: the set is incomplete' % MANIFEST_NAME,
                         started=started, object_count=count, stored_bytes=stored)
    try:
        manifest = json.loads(store.read_bytes(location + MANIFEST_NAME).decode('utf-8'))
        validate_manifest(manifest, zone, set_id)
    except StorageError as exc:
        if exc.code == 'NotFound':
            return BackupSet(zone, set_id, location, STATUS_INCOMPLETE, error='manifest disappeared while listing',
                             started=started, object_count=count, stored_bytes=stored)
        raise
    except (ManifestError, ValueError, UnicodeError) as exc:  # ValueError: JSON
        return BackupSet(zone, set_id, location, STATUS_INVALID, error='invalid manifest: %s' % exc,
                         started=started, object_count=count, stored_bytes=stored)
    return BackupSet(zone, set_id, location, STATUS_COMPLETE, manifest=manifest, started=started,
                     object_count=count, stored_bytes=stored)


def list_zones(store, prefix):
    base = (prefix or '').strip('/')
    base = base + '/' if base else ''
    return [entry[len(base):].strip('/') for entry in store.list_prefixes(base)]


def list_sets(store, prefix, zone=None):
    """Every set under ``prefix`` (of ``zone``, or of every zone), oldest first, complete or not.

    Directories whose name is not a set id are not sets and are skipped.
    """
    zones = [zone] if zone is not None else list_zones(store, prefix)
    found = []
    for zone_name in zones:
        try:
            location = zone_prefix(prefix, zone_name)
        except KfuseError:
            continue
        for entry in store.list_prefixes(location):
            set_id = entry[len(location):].strip('/')
            if set_id_time(set_id) is not None:
                found.append(load_set(store, prefix, zone_name, set_id))
    found.sort(key=lambda item: (item.created, item.set_id, item.zone))
    return found


def newest_complete(sets):
    """The newest complete set of ``sets`` or None."""
    complete = [item for item in sets if item.complete]
    return complete[-1] if complete else None


def latest_complete(store, prefix, zone=None):
    """The newest complete set under ``prefix`` (of ``zone``) or None; incomplete and invalid sets never count."""
    return newest_complete(list_sets(store, prefix, zone))
