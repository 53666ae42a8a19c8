# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup sets in object storage: layout, writer, manifest, reader, verification and retention.

Layout (docs/backup-design.md)::

    <prefix>/<zone>/<set_id>/.writer                       conditional create first; guards against two writers
    <prefix>/<zone>/<set_id>/secrets/<namespace>/<name>.json[.enc]
    <prefix>/<zone>/<set_id>/helm/<release>/values.yaml[.enc]
    <prefix>/<zone>/<set_id>/files/<name>[.enc]
    <prefix>/<zone>/<set_id>/postgres/<database>.dump[.enc]
    <prefix>/<zone>/<set_id>/manifest.json                 conditional create last; a set without it is incomplete

Objects stream through SHA-256 of the plaintext, client-side encryption (``_crypto``) when on, and SHA-256 of the
stored bytes, straight into ``store.put``; nothing holds a whole object. An encrypted object's AAD key is its key
relative to the set (``entry['key']``), so a set can be moved under another prefix and still be restored.

Sets are described by ``BackupSet``: ``status`` is ``complete`` (valid manifest), ``incomplete`` (no manifest:
ignored by latest, verify, restore and retention, reported when stale) or ``invalid`` (a manifest that cannot be
read or does not validate: reported, never used, never pruned).

Retention (``plan_retention``, a pure function, then ``prune``): a complete set is kept when it is among the
``keep_last`` newest OR younger than ``max_age`` (either rule keeping it is enough); the newest complete set is
always kept; nothing at all is pruned unless the newest complete set was verified.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import io
import json
import os
import queue
import re
import secrets
import socket
import sys
import threading

from ansible_collections.kfuse.failover.plugins.module_utils import _crypto
from ansible_collections.kfuse.failover.plugins.module_utils.errors import BackupSetError, IntegrityError, ManifestError, OptionError, StorageError

FORMAT = 'kfuse.failover/backup-set'
VERSION = 1
MANIFEST_NAME = 'manifest.json'
WRITER_NAME = '.writer'
ENCRYPTED_SUFFIX = '.enc'
KINDS = ('secret', 'helm_values', 'file', 'postgres')
DEFAULT_INCOMPLETE_AFTER = '24h'
STATUS_COMPLETE = 'complete'
STATUS_INCOMPLETE = 'incomplete'
STATUS_INVALID = 'invalid'

_UTC = datetime.timezone.utc
_SET_ID = re.compile(r'^(\d{8}T\d{6}Z)(-[0-9a-f]{6})?$')
_SET_ID_TIME = '%Y%m%dT%H%M%SZ'
_ISO_TIME = '%Y-%m-%dT%H:%M:%SZ'
_HEX64 = re.compile(r'^[0-9a-f]{64}$')
_DURATION = re.compile(r'^(\d+(?:\.\d+)?)\s*([smhdw]?)$')
_DURATION_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_SEGMENT_BAD = re.compile(r'[\x00-\x1f\x7f\\]')


# ---- small helpers ---------------------------------------------------------------------------------


def utcnow():
    return datetime.datetime.now(_UTC)


def _as_utc(moment):
    if moment is None:
        return utcnow()
    if not isinstance(moment, datetime.datetime):
        raise TypeError('expected a datetime, got %s' % type(moment).__name__)
    return moment.replace(tzinfo=_UTC) if moment.tzinfo is None else moment.astimezone(_UTC)


def format_time(moment):
    return _as_utc(moment).strftime(_ISO_TIME)


def parse_time(text):
    """Aware UTC datetime of a manifest time stamp, or None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return None
    return _as_utc(moment)


def parse_duration(value, option='max_age'):
    """Seconds (int) of ``30d``, ``12h``, ``90m``, ``45s``, ``2w`` or a number of seconds; ValueError names ``option``."""
    text = value
    if isinstance(value, bool) or value is None:
        text = None
    elif isinstance(value, (int, float)):
        text = str(value)
    match = _DURATION.match(text.strip().lower()) if isinstance(text, str) else None
    if not match:
        raise ValueError('%s must be a duration such as 30d, 12h, 90m, 45s or a number of seconds, got %r'
                         % (option, value))
    seconds = int(float(match.group(1)) * _DURATION_UNITS[match.group(2)])
    if seconds <= 0:
        raise ValueError('%s must be a positive duration, got %r' % (option, value))
    return seconds


def _check_segment(value, what):
    if not isinstance(value, str) or not value or value in ('.', '..') or '/' in value or _SEGMENT_BAD.search(value):
        raise ValueError('%s must be a non-empty name without "/", control characters or dot segments, got %r'
                         % (what, value))
    return value


def _check_relative_path(value, what):
    if not isinstance(value, str) or not value or value.startswith('/'):
        raise ValueError('%s must be a relative path, got %r' % (what, value))
    for segment in value.split('/'):
        _check_segment(segment, what + ' segment')
    return value


# ---- naming ---------------------------------------------------------------------------------------


def new_set_id(now=None, unique=False):
    """UTC ``yyyymmddTHHMMSSZ`` of ``now`` (default: the current time), plus ``-`` and 6 hex digits when unique."""
    set_id = _as_utc(now).strftime(_SET_ID_TIME)
    return set_id + '-' + secrets.token_hex(3) if unique else set_id


def set_id_time(set_id):
    """The aware UTC datetime a set id names, or None when it is not a set id."""
    match = _SET_ID.match(set_id or '')
    if not match:
        return None
    return datetime.datetime.strptime(match.group(1), _SET_ID_TIME).replace(tzinfo=_UTC)


def zone_prefix(prefix, zone):
    base = (prefix or '').strip('/')
    _check_segment(zone, 'zone')
    return '%s/%s/' % (base, zone) if base else zone + '/'


def set_prefix(prefix, zone, set_id):
    """``<prefix>/<zone>/<set_id>/`` (an empty prefix puts zones at the top of the bucket)."""
    _check_segment(set_id, 'set_id')
    return zone_prefix(prefix, zone) + set_id + '/'


def object_key(kind, name, encrypted=False):
    """Key of an object relative to its set, from its kind and name (``namespace/name`` for secrets)."""
    if kind == 'secret':
        namespace, _sep, secret = name.partition('/') if isinstance(name, str) else ('', '', '')
        _check_segment(namespace, 'secret namespace (name must be "namespace/name")')
        _check_segment(secret, 'secret name (name must be "namespace/name")')
        key = 'secrets/%s/%s.json' % (namespace, secret)
    elif kind == 'helm_values':
        key = 'helm/%s/values.yaml' % _check_segment(name, 'helm release name')
    elif kind == 'file':
        key = 'files/' + _check_relative_path(name, 'file name')
    elif kind == 'postgres':
        key = 'postgres/%s.dump' % _check_segment(name, 'database name')
    else:
        raise ValueError('kind must be one of %s, got %r' % (', '.join(KINDS), kind))
    return key + ENCRYPTED_SUFFIX if encrypted else key


# ---- streaming helpers ----------------------------------------------------------------------------


class _HashingReader:
    """Pass-through reader that counts and hashes what goes through it."""

    def __init__(self, reader):
        self._reader = reader
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):
        data = self._reader.read(size)
        if data:
            self.digest.update(data)
            self.size += len(data)
        return data or b''

    def readable(self):
        return True

    def hexdigest(self):
        return self.digest.hexdigest()


class _PrefetchingReader:
    """Runs ``reader`` (read -> hash -> encrypt -> hash) in a thread a few blocks ahead of the consumer.

    The upload spends most of its time waiting on the network; this moves the hashing and encryption off that
    path. At most ``depth`` blocks of ``block_size`` are queued. Errors of the producer re-raise in read().
    """

    def __init__(self, reader, block_size=1024 * 1024, depth=8):
        self._reader = reader
        self._block_size = block_size
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._blocks = collections.deque()
        self._buffered = 0
        self._finished = False
        self._thread = threading.Thread(target=self._produce, name='backup-set-prefetch', daemon=True)
        self._thread.start()

    def _offer(self, item):
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self):
        try:
            while not self._stop.is_set():
                data = self._reader.read(self._block_size)
                if not self._offer(bytes(data or b'')) or not data:
                    return
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Handed to the consumer, which raises it in its own thread.
            self._offer(exc)

    def _next_block(self):
        item = self._queue.get()
        if isinstance(item, Exception):
            self._finished = True
            raise item
        if not item:
            self._finished = True
        return item

    def read(self, size=-1):
        if size is None or size < 0:
            size = float('inf')
        while self._buffered < size and not self._finished:
            block = self._next_block()
            if block:
                self._blocks.append(block)
                self._buffered += len(block)
        parts = []
        wanted = min(size, self._buffered)
        while wanted > 0:
            block = self._blocks.popleft()
            if len(block) > wanted:
                self._blocks.appendleft(block[wanted:])
                block = block[:wanted]
            parts.append(block)
            wanted -= len(block)
        data = parts[0] if len(parts) == 1 else b''.join(parts)
        self._buffered -= len(data)
        return data

    def readable(self):
        return True

    def close(self):
        """Stop the producer (also when the consumer gave up early) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.1)
            except queue.Empty:
                pass
        self._thread.join()


def _as_reader(source):
    if isinstance(source, str):
        source = source.encode('utf-8')
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if hasattr(source, 'read'):
        return source
    raise TypeError('reader must be bytes, str or a binary file-like object with read(n), got %s' % type(source).__name__)


# ---- writer ------------------------------------------------------------------------------------------


class BackupSetWriter:
    """Writes one set: ``.writer`` marker (in the constructor), ``add()`` per object, ``commit()`` last.

    Use as a context manager to ``abort()`` (delete what was written) when the block raises before commit.
    """

    def __init__(self, store, prefix, zone, set_id=None, passphrase=None, encrypt=False, sse=None, source=None,
                 tools=None, now=None, kdf_params=None, chunk_size=_crypto.CHUNK_SIZE, part_size=8 * 1024 * 1024,
                 prefetch=True):
        self.store = store
        self.zone = _check_segment(zone, 'zone')
        self.created = _as_utc(now)
        self.set_id = set_id or new_set_id(self.created)
        self.prefix = set_prefix(prefix, zone, self.set_id)
        self.encrypt = bool(encrypt)
        self.sse = sse
        self.source = dict(source or {})
        self.tools = {'python': '%d.%d.%d' % sys.version_info[:3]}
        self.tools.update(tools or {})
        self.part_size = part_size
        self.prefetch = prefetch
        self.entries = []
        self.written = []
        self.committed = False
        self.manifest = None
        self._kek = None
        self._encryption = None
        self._chunk_size = chunk_size
        if self.encrypt:
            if passphrase is None or passphrase == '':
                raise ValueError('a passphrase is required when encryption is on')
            # The KDF runs before anything is written, so a bad passphrase or missing library writes nothing.
            self._kek, self._encryption = _crypto.new_encryption(passphrase, kdf_params, chunk_size)
        self._claim()

    def _claim(self):
        marker = json.dumps({'writer': '%s/%d' % (socket.gethostname(), os.getpid()),
                             'started': format_time(self.created)}, sort_keys=True).encode('utf-8')
        try:
            self.store.put(self.prefix + WRITER_NAME, marker, content_type='application/json', if_absent=True)
        except StorageError as exc:
            if exc.code != 'AlreadyExists':
                raise
            raise BackupSetError('backup set %s is already being written or was written (%s exists): %s'
                                 % (self.prefix, WRITER_NAME, _describe_writer(self.store, self.prefix))) from None
        self.written.append(self.prefix + WRITER_NAME)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and not self.committed:
            self.abort()
        return False

    def add(self, kind, name, reader, meta=None):
        """Stream ``reader`` (bytes, str or file-like) into the set as one object; returns its manifest entry."""
        if self.committed:
            raise BackupSetError('backup set %s is already committed' % self.prefix)
        relative = object_key(kind, name, self.encrypt)
        if any(entry['key'] == relative for entry in self.entries):
            raise BackupSetError('backup set %s already holds %s %r' % (self.prefix, kind, name))
        if meta is not None and not isinstance(meta, dict):
            raise ValueError('meta must be a dict')
        plain = _HashingReader(_as_reader(reader))
        if self.encrypt:
            stored = _HashingReader(_crypto.EncryptingReader(plain, self._kek, relative, self._chunk_size))
        else:
            # Stored bytes are the plaintext: one digest serves both checksums.
            stored = plain
        key = self.prefix + relative
        # Recorded before the upload so abort() also removes a partly written object.
        self.written.append(key)
        upload = _PrefetchingReader(stored) if self.prefetch else stored
        try:
            info = self.store.put(key, upload, metadata={'kfuse_set': self.set_id, 'kfuse_kind': kind},
                                  part_size=self.part_size)
        finally:
            if self.prefetch:
                upload.close()
        if info is not None and info.size is not None and info.size != stored.size:
            raise IntegrityError('%s: the store holds %d bytes but %d were sent' % (key, info.size, stored.size))
        entry = {'kind': kind, 'name': name, 'key': relative, 'size': stored.size, 'plain_size': plain.size,
                 'sha256': stored.hexdigest(), 'plain_sha256': plain.hexdigest(), 'encrypted': self.encrypt,
                 'meta': dict(meta or {})}
        self.entries.append(entry)
        return entry

    def build_manifest(self, completed=None):
        return {'format': FORMAT, 'version': VERSION, 'set_id': self.set_id, 'zone': self.zone,
                'created': format_time(self.created), 'completed': format_time(completed),
                'source': self.source, 'tools': self.tools, 'encryption': self._encryption,
                'server_side_encryption': self.sse, 'objects': list(self.entries)}

    def commit(self, now=None):
        """Write ``manifest.json`` (conditional create); the set is complete from here on. Returns the manifest."""
        if self.committed:
            raise BackupSetError('backup set %s is already committed' % self.prefix)
        manifest = self.build_manifest(now)
        data = json.dumps(manifest, indent=1, sort_keys=True).encode('utf-8')
        try:
            self.store.put(self.prefix + MANIFEST_NAME, data, content_type='application/json', if_absent=True)
        except StorageError as exc:
            if exc.code == 'AlreadyExists':
                raise BackupSetError('backup set %s already has a manifest; another writer completed it'
                                     % self.prefix) from None
            raise
        self.committed = True
        self.manifest = manifest
        return manifest

    def abort(self):
        """Delete every object this writer wrote (including ``.writer``); returns how many existed."""
        if self.committed:
            raise BackupSetError('backup set %s is committed; prune it instead of aborting' % self.prefix)
        keys, self.written = list(reversed(self.written)), []
        self.entries = []
        return self.store.delete_many(keys)


def _describe_writer(store, prefix):
    try:
        marker = json.loads(store.read_bytes(prefix + WRITER_NAME).decode('utf-8'))
        return 'writer %s started %s' % (marker.get('writer'), marker.get('started'))
    except (StorageError, ValueError, AttributeError, UnicodeError):
        return 'writer unknown'


# ---- manifest ----------------------------------------------------------------------------------------


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
        _require(parse_time(manifest[name]) is not None, 'manifest %s %r is not a time stamp' % (name, manifest[name]))
    for name in ('source', 'tools'):
        _require(isinstance(manifest.get(name, {}), dict), 'manifest %s must be an object' % name)
    sse = manifest.get('server_side_encryption')
    _require(sse is None or isinstance(sse, dict), 'manifest server_side_encryption must be an object or null')
    encryption = manifest.get('encryption')
    if encryption is not None:
        try:
            _crypto.validate_encryption_params(encryption)
        except _crypto.CryptoError as exc:
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
            _check_relative_path(entry.get('key'), '%s key' % where)
        except ValueError as exc:
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
            moment = parse_time(self.manifest.get('created'))
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
    except (ValueError, UnicodeError) as exc:
        # ManifestError and JSON errors are both ValueErrors.
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
        except ValueError:
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


# ---- reading and verification ------------------------------------------------------------------------


def unlock(backup_set, passphrase):
    """The set's KEK (cached on the set); DecryptionError on a wrong passphrase, before any object is read."""
    if not backup_set.encrypted:
        return None
    if passphrase is None or passphrase == '':
        raise BackupSetError('backup set %s is encrypted: a passphrase is required' % backup_set.set_id)
    marker = hashlib.sha256(passphrase.encode('utf-8') if isinstance(passphrase, str) else bytes(passphrase)).hexdigest()
    if marker not in backup_set._keks:  # pylint: disable=protected-access
        backup_set._keks[marker] = _crypto.unlock(passphrase, backup_set.manifest['encryption'])  # pylint: disable=protected-access
    return backup_set._keks[marker]  # pylint: disable=protected-access


def _require_complete(backup_set):
    if not backup_set.complete:
        raise BackupSetError('backup set %s/%s is %s (%s); it cannot be used'
                             % (backup_set.zone, backup_set.set_id, backup_set.status, backup_set.error))


def open_object(store, backup_set, entry, passphrase=None):
    """Iterator of the plaintext of ``entry`` (a manifest entry, key or name); checks size and both SHA-256 at the end.

    Raises IntegrityError or DecryptionError from the iterator; the consumer must discard what it received then.
    """
    _require_complete(backup_set)
    if not isinstance(entry, dict):
        entry = backup_set.find(entry)
    kek = unlock(backup_set, passphrase) if entry['encrypted'] else None
    return _plain_stream(store, backup_set, entry, kek)


def _plain_stream(store, backup_set, entry, kek):
    key = backup_set.prefix + entry['key']
    stored_digest = hashlib.sha256()
    stored_size = [0]

    def raw_chunks():
        for data in store.iter_read(key):
            stored_digest.update(data)
            stored_size[0] += len(data)
            yield data

    chunks = _crypto.decrypt_chunks(raw_chunks(), kek, entry['key']) if kek is not None else raw_chunks()
    plain_digest = hashlib.sha256()
    plain_size = 0
    for data in chunks:
        plain_digest.update(data)
        plain_size += len(data)
        yield data
    problems = (_compare_stored(entry, stored_size[0], stored_digest.hexdigest())
                + _compare_plain(entry, plain_size, plain_digest.hexdigest()))
    if problems:
        raise IntegrityError('%s: %s' % (entry['key'], '; '.join(problems)))


def _compare_stored(entry, size, sha):
    problems = []
    if size != entry['size']:
        problems.append('stored size %d, manifest says %d' % (size, entry['size']))
    if sha != entry['sha256']:
        problems.append('stored sha256 %s, manifest says %s' % (sha, entry['sha256']))
    return problems


def _compare_plain(entry, size, sha):
    problems = []
    if size != entry['plain_size']:
        problems.append('plaintext size %d, manifest says %d' % (size, entry['plain_size']))
    if sha != entry['plain_sha256']:
        problems.append('plaintext sha256 %s, manifest says %s' % (sha, entry['plain_sha256']))
    return problems


def _verify_entry(store, backup_set, entry, kek):
    key = backup_set.prefix + entry['key']
    result = {'key': entry['key'], 'kind': entry['kind'], 'name': entry['name'], 'size': entry['size'],
              'encrypted': entry['encrypted'], 'ok': False, 'decrypted': False, 'error': None}
    stored_digest = hashlib.sha256()
    stored_size = 0
    decrypt = entry['encrypted'] and kek is not None
    plain_digest = hashlib.sha256()
    plain_size = 0
    decryptor = _crypto.ChunkDecryptor(kek, entry['key']) if decrypt else None
    decrypt_error = None
    try:
        for data in store.iter_read(key):
            stored_digest.update(data)
            stored_size += len(data)
            if decryptor is not None and decrypt_error is None:
                try:
                    pieces = decryptor.feed(data)
                except _crypto.DecryptionError as exc:
                    # Keep reading so the stored checksum still says whether the bytes changed.
                    decrypt_error, pieces = exc, []
                for piece in pieces:
                    plain_digest.update(piece)
                    plain_size += len(piece)
        if decryptor is not None and decrypt_error is None:
            try:
                last = decryptor.finish()
                plain_digest.update(last)
                plain_size += len(last)
            except _crypto.DecryptionError as exc:
                decrypt_error = exc
    except StorageError as exc:
        result['error'] = 'cannot read %s: %s' % (entry['key'], exc)
        return result
    problems = _compare_stored(entry, stored_size, stored_digest.hexdigest())
    if not entry['encrypted']:
        # Unencrypted: the stored bytes are the plaintext.
        problems += _compare_plain(entry, stored_size, stored_digest.hexdigest())
    elif decrypt_error is not None:
        problems.append('decryption failed: %s' % decrypt_error)
    elif decrypt:
        problems += _compare_plain(entry, plain_size, plain_digest.hexdigest())
    result['decrypted'] = decrypt and decrypt_error is None
    result['ok'] = not problems
    result['error'] = '; '.join(problems) or None
    return result


def verify_set(store, backup_set, passphrase=None):
    """Download every object of a complete set and check sizes, both checksums and (with a passphrase) decryption.

    Returns {'zone', 'set_id', 'ok', 'full': whether every check could run, 'checked', 'failed': [keys],
    'objects': [per-object results]}. A wrong passphrase raises DecryptionError before any object is read;
    an encrypted set without a passphrase is checked on its stored bytes only (``full`` false).
    """
    _require_complete(backup_set)
    kek = unlock(backup_set, passphrase) if backup_set.encrypted and passphrase else None
    results = [_verify_entry(store, backup_set, entry, kek) for entry in backup_set.entries()]
    failed = [item['key'] for item in results if not item['ok']]
    full = all(item['decrypted'] or not item['encrypted'] for item in results)
    return {'zone': backup_set.zone, 'set_id': backup_set.set_id, 'ok': not failed, 'full': full,
            'checked': len(results), 'failed': failed, 'objects': results}


# ---- retention -------------------------------------------------------------------------------------------


def _summary(backup_set, reason=None):
    created = backup_set.created
    return {'zone': backup_set.zone, 'set_id': backup_set.set_id, 'prefix': backup_set.prefix,
            'status': backup_set.status, 'created': format_time(created) if created else None, 'reason': reason}


def plan_retention(sets, keep_last=None, max_age=None, now=None, verified_latest=False,
                   incomplete_after=DEFAULT_INCOMPLETE_AFTER, prune_incomplete=False):
    """Which sets of one zone to prune (pure; nothing is touched).

    ``verified_latest``: True, or the set id that was verified; only when it is the newest complete set does
    anything get pruned. ``keep_last`` (int >= 1) and ``max_age`` (duration) keep a set when either keeps it.
    Returns {'keep', 'prune', 'incomplete' (stale incomplete sets), 'invalid', 'newest', 'blocked'}.
    """
    if keep_last is not None and (isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1):
        raise ValueError('keep_last must be an integer >= 1, got %r' % (keep_last,))
    max_age_seconds = parse_duration(max_age, 'max_age') if max_age is not None else None
    stale_seconds = parse_duration(incomplete_after, 'incomplete_after')
    now = _as_utc(now)
    sets = list(sets)
    zones = sorted({item.zone for item in sets})
    if len(zones) > 1:
        raise ValueError('plan_retention works on the sets of one zone, got zones %s' % ', '.join(zones))
    complete = sorted((item for item in sets if item.complete), key=lambda item: (item.created, item.set_id),
                      reverse=True)
    newest = complete[0] if complete else None
    plan = {'keep': [], 'prune': [], 'incomplete': [], 'invalid': [], 'blocked': None,
            'newest': newest.set_id if newest else None}

    verified = newest is not None and (verified_latest is True or verified_latest == newest.set_id)
    if newest is None:
        plan['blocked'] = 'no complete set: nothing is pruned'
    elif not verified:
        plan['blocked'] = 'the newest complete set %s is not verified: nothing is pruned' % newest.set_id
    elif keep_last is None and max_age_seconds is None:
        plan['blocked'] = 'neither keep_last nor max_age is set: nothing is pruned'

    for position, item in enumerate(complete):
        age = (now - item.created).total_seconds()
        reasons = []
        if position == 0:
            reasons.append('newest complete set')
        if keep_last is not None and position < keep_last:
            reasons.append('among the %d newest' % keep_last)
        if max_age_seconds is not None and age <= max_age_seconds:
            reasons.append('younger than max_age')
        if reasons or plan['blocked']:
            plan['keep'].append(_summary(item, ', '.join(reasons) or 'kept: ' + plan['blocked']))
        else:
            rules = []
            if keep_last is not None:
                rules.append('beyond the %d newest' % keep_last)
            if max_age_seconds is not None:
                rules.append('older than max_age')
            plan['prune'].append(_summary(item, ' and '.join(rules)))

    for item in sets:
        if item.status == STATUS_INVALID:
            plan['invalid'].append(_summary(item, item.error))
        elif item.status == STATUS_INCOMPLETE:
            started = item.started or item.created
            if started is not None and (now - started).total_seconds() > stale_seconds:
                summary = _summary(item, 'incomplete for more than %s' % incomplete_after)
                plan['incomplete'].append(summary)
                if prune_incomplete and not plan['blocked']:
                    plan['prune'].append(summary)
    return plan


def prune(store, plan):
    """Delete the sets in ``plan['prune']``: manifest first (a half-deleted set reads as incomplete), marker last.

    Returns {'pruned': [set ids], 'deleted_objects': n}.
    """
    pruned = []
    deleted = 0
    for item in plan.get('prune', []):
        location = item['prefix']
        if not location or not location.endswith('/'):
            raise BackupSetError('refusing to prune %r: not a set prefix' % (location,))
        keys = [info.key for info in store.list(location)]
        first = [key for key in keys if key == location + MANIFEST_NAME]
        last = [key for key in keys if key == location + WRITER_NAME]
        middle = [key for key in keys if key not in first and key not in last]
        deleted += store.delete_many(first) + store.delete_many(middle) + store.delete_many(last)
        pruned.append(item['set_id'])
    return {'pruned': pruned, 'deleted_objects': deleted}
