# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place for byte-stream readers: exact reads, file-like adapters, hashing, prefetching, re-chunking.

Private to the collection. Used by the storage backends (multipart uploads) and the backup-set writer.
"""

from __future__ import annotations

import collections
import hashlib
import io
import queue
import threading


def read_full(source, size):
    """Up to ``size`` bytes from a file-like, looping over short reads; b'' only at end of data."""
    chunks = []
    remaining = size
    while remaining > 0:
        data = source.read(remaining)
        if not data:
            break
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError('source.read() must return bytes, got %s' % type(data).__name__)
        chunks.append(bytes(data))
        remaining -= len(data)
    return chunks[0] if len(chunks) == 1 else b''.join(chunks)


def pop_bytes(blocks, wanted):
    """The first ``wanted`` bytes of a deque of byte blocks, taken off it (a block is split when needed)."""
    parts = []
    while wanted > 0:
        block = blocks.popleft()
        if len(block) > wanted:
            blocks.appendleft(block[wanted:])
            block = block[:wanted]
        parts.append(block)
        wanted -= len(block)
    return parts[0] if len(parts) == 1 else b''.join(parts)


def as_reader(source):
    """A binary file-like for ``source`` (bytes, bytearray, memoryview, str as UTF-8, or anything with read(n))."""
    if isinstance(source, str):
        source = source.encode('utf-8')
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if hasattr(source, 'read'):
        return source
    raise TypeError('source must be bytes, str or a binary file-like object with read(n), got %s'
                    % type(source).__name__)


class PrefixedReader(io.RawIOBase):
    """A reader that yields ``head`` bytes first, then the rest of ``source``: lets a backend peek a part.

    ``tell()`` counts the bytes handed out; ``seek()`` only to the current position (a forward-only stream).
    """

    def __init__(self, head, source):
        super().__init__()
        self._head = memoryview(head)
        self._source = source
        self._position = 0

    def readable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        if (whence == io.SEEK_SET and offset == self._position) or (whence == io.SEEK_CUR and offset == 0):
            return self._position
        raise io.UnsupportedOperation('this stream can only be read forward')

    def read(self, size=-1):
        if size is None or size < 0:
            data = bytes(self._head) + (self._source.read() or b'')
            self._head = memoryview(b'')
        elif self._head:
            # Always fill the request: uploaders take a short read for the end of the data.
            data = bytes(self._head[:size])
            self._head = self._head[size:]
            if not self._head:
                self._head = memoryview(b'')
                if len(data) < size:
                    data += read_full(self._source, size - len(data))
        else:
            data = read_full(self._source, size)
        self._position += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def rechunk(chunks, chunk_size):
    """Re-slice an iterator of byte strings into pieces of ``chunk_size`` (the last may be shorter)."""
    pending = bytearray()
    for chunk in chunks:
        if not chunk:
            continue
        pending += chunk
        while len(pending) >= chunk_size:
            yield bytes(pending[:chunk_size])
            del pending[:chunk_size]
    if pending:
        yield bytes(pending)


class HashingReader:
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


class PrefetchingReader:
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
        data = pop_bytes(self._blocks, min(size, self._buffered))
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
