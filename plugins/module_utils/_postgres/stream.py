# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What both ways of running pg_dump/pg_restore share: their options, the dump reader, stderr tails, versions.

Private to the collection (``_postgres`` package). Dumps are PostgreSQL's custom format (``pg_dump -Fc``) and are
never held in memory: a dump is a reader with ``read(n)`` over the tool's output, and a restore consumes an iterable
of byte chunks into the tool's input. ``local`` runs the tools here against a DSN, ``pod`` inside a pod.
"""

from __future__ import annotations

import re
import threading

from ansible_collections.kfuse.failover.plugins.module_utils.errors import PostgresError

DEFAULT_CHUNK_SIZE = 1024 * 1024
STDERR_TAIL_BYTES = 8 * 1024
_VERSION = re.compile(r'\b(\d+(?:\.\d+)*(?:devel|beta\d*|rc\d*)?)\b')


def dump_args(exclude_tables=()):
    """pg_dump options shared by both modes: custom format, never prompt, excluded tables."""
    args = ['--format=custom', '--no-password']
    for table in exclude_tables or ():
        if not table or '\n' in table:
            raise PostgresError('exclude_tables entries must be non-empty table names or patterns, got %r' % (table,))
        args.append('--exclude-table=%s' % table)
    return args


def restore_args(clean=True, no_owner=True, single_transaction=True):
    """pg_restore options shared by both modes; input is always stdin."""
    args = ['--format=custom', '--no-password']
    if clean:
        args += ['--clean', '--if-exists']
    if no_owner:
        args.append('--no-owner')
    if single_transaction:
        # One transaction: a failed restore leaves the database as it was, never half restored.
        args.append('--single-transaction')
    return args


class StderrTail:
    """Drains a pipe on a thread (so the child never blocks on it), keeping only its last bytes."""

    def __init__(self, pipe, limit=STDERR_TAIL_BYTES):
        self._pipe = pipe
        self._limit = limit
        self._data = bytearray()
        self._thread = threading.Thread(target=self._drain, name='kfuse-pg-stderr', daemon=True)
        self._thread.start()

    def _drain(self):
        while True:
            block = self._pipe.read(4096)
            if not block:
                return
            self._data += block
            if len(self._data) > self._limit:
                del self._data[:len(self._data) - self._limit]

    def text(self, timeout=5.0):
        self._thread.join(timeout)
        return self._data.decode('utf-8', 'replace')


def stderr_summary(stderr):
    """The last lines of a tool's stderr on one line, for a message."""
    lines = [line.strip() for line in (stderr or '').splitlines() if line.strip()]
    return ' | '.join(lines[-6:]) if lines else 'no error output'


class DumpReader:
    """A binary reader over a running dump. ``read(n)`` returns n bytes until the end, then b''; at the end it
    raises PostgresError if the dump failed. ``max_buffered`` is the most bytes it ever held at once."""

    def __init__(self, what):
        self.what = what
        self.bytes_read = 0
        self.max_buffered = 0
        self._finished = False

    def _read_some(self, size):
        """Up to ``size`` bytes, b'' at the end of the output (subclasses)."""
        raise NotImplementedError

    def _finish(self):
        """Called once at the end of the output: raise PostgresError when the tool failed (subclasses)."""
        raise NotImplementedError

    def read(self, size=-1):
        if self._finished:
            return b''
        if size is None or size < 0:
            # The caller asked for everything: honour it, it is their memory.
            size = float('inf')
        out = bytearray()
        while len(out) < size:
            block = self._read_some(int(min(size - len(out), DEFAULT_CHUNK_SIZE)))
            if not block:
                self._finished = True
                self._finish()
                break
            out += block
            self.max_buffered = max(self.max_buffered, len(out))
        self.bytes_read += len(out)
        return bytes(out)

    def readable(self):
        return True

    def chunks(self, chunk_size=DEFAULT_CHUNK_SIZE):
        """Iterate the dump in chunks of ``chunk_size`` bytes."""
        while True:
            block = self.read(chunk_size)
            if not block:
                return
            yield block

    def __iter__(self):
        return self.chunks()

    def close(self):
        """Release the stream; stops the tool when the dump was not read to the end."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def parse_version(output, binary='pg_dump'):
    """'15.18' from 'pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'."""
    head = (output or '').strip().splitlines()[0] if (output or '').strip() else ''
    after = head.split(')', 1)[1] if ')' in head else head
    match = _VERSION.search(after)
    if not match:
        raise PostgresError('cannot tell the version of %s from %r' % (binary, head[:200]))
    return match.group(1)
