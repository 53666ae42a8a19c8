# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""In-memory ObjectStore for unit tests (the interface of docs/backup-design.md), with fault injection.

``FakeStore().objects`` maps key -> bytes; ``metadata`` and ``modified`` hold the rest. Test helpers:
``corrupt(key)`` flips one stored byte, ``fail_put(key_suffix)`` makes the next put of a matching key fail after
reading its source, ``calls`` records (operation, key) pairs, and ``largest_read`` is the biggest read(n) a put
issued (streaming checks).

Conditional writes (``read_versioned``, ``put_if_absent``, ``put_if_unchanged``) use a version counter per write;
``before_conditional`` (a callable taking the operation and the key) runs just before each one decides, so a test
can slip in the write of a competing runner there.
"""

from __future__ import annotations

import datetime
import hashlib

from ansible_collections.kfuse.failover.plugins.module_utils.storage import (
    ObjectInfo, ObjectStore, PreconditionFailed, StorageError, VersionedBytes)

_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


class FakeStore(ObjectStore):
    """One in-memory bucket."""

    provider = 'fake'

    def __init__(self, container='fake-bucket'):
        self.container = container
        self.objects = {}
        self.metadata = {}
        self.modified = {}
        self.calls = []
        self.largest_read = 0
        self._failing_puts = []
        self._clock = 0
        self.versions = {}
        self.before_conditional = None

    # ---- test helpers -------------------------------------------------------------------------------

    def corrupt(self, key, offset=None):
        """Flip one byte of ``key`` (the middle one by default)."""
        data = bytearray(self.objects[key])
        position = len(data) // 2 if offset is None else offset
        data[position] ^= 0x01
        self.objects[key] = bytes(data)

    def fail_put(self, key_suffix, code='InternalError'):
        """The next put whose key ends with ``key_suffix`` raises StorageError(code) after consuming its source."""
        self._failing_puts.append((key_suffix, code))

    def set_modified(self, key, when):
        self.modified[key] = when

    # ---- ObjectStore ----------------------------------------------------------------------------

    def _read_source(self, source, part_size):
        if isinstance(source, (bytes, bytearray, memoryview)):
            return bytes(source)
        parts = []
        while True:
            data = source.read(part_size)
            if not data:
                return b''.join(parts)
            self.largest_read = max(self.largest_read, len(data))
            parts.append(bytes(data))

    def put(self, key, source, metadata=None, content_type='application/octet-stream', if_absent=False,
            part_size=8 * 1024 * 1024):
        self.calls.append(('put', key))
        self._check_put(key, metadata, part_size)
        if if_absent and key in self.objects:
            raise self._error('object already exists', code='AlreadyExists', key=key)
        data = self._read_source(source, part_size)
        for index, (suffix, code) in enumerate(self._failing_puts):
            if key.endswith(suffix):
                del self._failing_puts[index]
                raise self._error('injected failure', code=code, key=key)
        self._store(key, data, metadata, content_type)
        return self.head(key)

    def _store(self, key, data, metadata, content_type):
        self.objects[key] = data
        self.metadata[key] = dict(metadata or {}, **{'content-type': content_type})
        self._clock += 1
        self.modified[key] = _EPOCH + datetime.timedelta(seconds=self._clock)
        self.versions[key] = str(self._clock)

    def read_versioned(self, key):
        self.calls.append(('get', key))
        if key not in self.objects:
            raise self._error('object not found', code='NotFound', key=key)
        return VersionedBytes(self.objects[key], self.versions[key])

    def put_if_absent(self, key, data, metadata=None, content_type='application/octet-stream'):
        self.calls.append(('put', key))
        data = self._check_conditional(key, data, metadata)
        if self.before_conditional is not None:
            self.before_conditional('put_if_absent', key)
        if key in self.objects:
            raise self._already_exists(key)
        self._store(key, data, metadata, content_type)
        return self.versions[key]

    def put_if_unchanged(self, key, data, version, metadata=None, content_type='application/octet-stream'):
        self.calls.append(('put', key))
        data = self._check_conditional(key, data, metadata, version, replace=True)
        if self.before_conditional is not None:
            self.before_conditional('put_if_unchanged', key)
        if self.versions.get(key) != version or key not in self.objects:
            raise self._changed(key, version)
        self._store(key, data, metadata, content_type)
        return self.versions[key]

    def iter_read(self, key, chunk_size=1024 * 1024):
        self.calls.append(('get', key))
        if key not in self.objects:
            raise self._error('object not found', code='NotFound', key=key)
        data = self.objects[key]
        return iter([data[start:start + chunk_size] for start in range(0, len(data), chunk_size)])

    def head(self, key):
        if key not in self.objects:
            return None
        data = self.objects[key]
        return ObjectInfo(key, len(data), hashlib.md5(data).hexdigest(), self.modified[key], dict(self.metadata[key]))

    def list(self, prefix=''):
        self.calls.append(('list', prefix))
        return iter([self.head(key) for key in sorted(self.objects) if key.startswith(prefix)])

    def list_prefixes(self, prefix, delimiter='/'):
        self.calls.append(('list_prefixes', prefix))
        if prefix and not prefix.endswith(delimiter):
            prefix += delimiter
        found = set()
        for key in self.objects:
            if key.startswith(prefix) and delimiter in key[len(prefix):]:
                found.add(prefix + key[len(prefix):].split(delimiter, 1)[0] + delimiter)
        return sorted(found)

    def delete(self, key):
        self.calls.append(('delete', key))
        existed = key in self.objects
        for table in (self.objects, self.metadata, self.modified, self.versions):
            table.pop(key, None)
        return existed


__all__ = ['FakeStore', 'StorageError', 'ObjectInfo', 'PreconditionFailed']
