# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backup-set writer: ``.writer`` marker first, one streamed object per ``add()``, ``manifest.json`` last.

Private to the collection (``_backup_set`` package). Objects stream through SHA-256 of the plaintext, client-side
encryption (``_crypto``) when on, and SHA-256 of the stored bytes, straight into ``store.put``; nothing holds a
whole object. An encrypted object's AAD key is its key relative to the set (``entry['key']``), so a set can be
moved under another prefix and still be restored.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from ansible_collections.kfuse.failover.plugins.module_utils import _crypto
from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.layout import (
    FORMAT,
    MANIFEST_NAME,
    VERSION,
    WRITER_NAME,
    check_segment,
    new_set_id,
    object_key,
    set_prefix,
)
from ansible_collections.kfuse.failover.plugins.module_utils._streams import HashingReader, PrefetchingReader, as_reader
from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import as_utc, format_time
from ansible_collections.kfuse.failover.plugins.module_utils.errors import BackupSetError, IntegrityError, OptionError, StorageError


class BackupSetWriter:
    """Writes one set: ``.writer`` marker (in the constructor), ``add()`` per object, ``commit()`` last.

    Use as a context manager to ``abort()`` (delete what was written) when the block raises before commit.
    """

    def __init__(self, store, prefix, zone, set_id=None, passphrase=None, encrypt=False, sse=None, source=None,
                 tools=None, now=None, kdf_params=None, chunk_size=_crypto.CHUNK_SIZE, part_size=8 * 1024 * 1024,
                 prefetch=True):
        self.store = store
        self.zone = check_segment(zone, 'zone')
        self.created = as_utc(now)
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
                raise OptionError('a passphrase is required when encryption is on')
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
            raise OptionError('meta must be a dict')
        plain = HashingReader(as_reader(reader))
        if self.encrypt:
            stored = HashingReader(_crypto.EncryptingReader(plain, self._kek, relative, self._chunk_size))
        else:
            # Stored bytes are the plaintext: one digest serves both checksums.
            stored = plain
        key = self.prefix + relative
        # Recorded before the upload so abort() also removes a partly written object.
        self.written.append(key)
        upload = PrefetchingReader(stored) if self.prefetch else stored
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
    except (StorageError, ValueError, AttributeError, UnicodeError):  # ValueError: JSON
        return 'writer unknown'
