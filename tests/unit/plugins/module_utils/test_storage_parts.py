# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The part pipeline behind S3 multipart and Azure staged-block uploads: split_first_part and upload_parts."""

import threading
import time

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import storage

PART = 16


class CountingReader:
    """A binary source of ``size`` bytes that records how far it has been read."""

    def __init__(self, size):
        self.size = size
        self.position = 0

    def read(self, size=-1):
        size = self.size - self.position if size < 0 else min(size, self.size - self.position)
        data = bytes((self.position + offset) % 251 for offset in range(size))
        self.position += size
        return data


def expected_bytes(size):
    return bytes(offset % 251 for offset in range(size))


def test_split_first_part_returns_small_data_whole():
    single, parts = storage.split_first_part(b'abc', PART)
    assert single == b'abc' and parts is None
    single, parts = storage.split_first_part(b'x' * PART, PART)
    assert single == b'x' * PART and parts is None


def test_split_first_part_yields_every_part_of_larger_data():
    single, parts = storage.split_first_part(CountingReader(2 * PART + 3), PART)
    assert single is None
    items = list(parts)
    assert [(index, len(part), last) for index, part, last in items] == [(1, PART, False), (2, PART, False), (3, 3, True)]
    assert b''.join(part for _index, part, _last in items) == expected_bytes(2 * PART + 3)


class Recorder:
    """An upload callback that tracks how many uploads run at once and how far ahead the source was read."""

    def __init__(self, reader, fail_at=None, delay=0.01):
        self.reader = reader
        self.fail_at = fail_at
        self.delay = delay
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.most_ahead = 0
        self.uploaded = {}

    def __call__(self, index, part):
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            # Bytes read from the source and not yet uploaded = parts held in memory.
            done = sum(len(data) for data in self.uploaded.values())
            self.most_ahead = max(self.most_ahead, self.reader.position - done)
        try:
            time.sleep(self.delay)
            if index == self.fail_at:
                raise RuntimeError('part %d failed' % index)
            with self.lock:
                self.uploaded[index] = part
            return 'etag-%d' % index
        finally:
            with self.lock:
                self.running -= 1


@pytest.mark.parametrize('concurrency', [1, 3])
def test_upload_parts_returns_results_in_order_within_the_bounds(concurrency):
    reader = CountingReader(20 * PART + 5)
    recorder = Recorder(reader)
    _single, parts = storage.split_first_part(reader, PART)
    results = storage.upload_parts(parts, recorder, concurrency)
    assert results == ['etag-%d' % index for index in range(1, 22)]
    assert b''.join(recorder.uploaded[index] for index in range(1, 22)) == expected_bytes(20 * PART + 5)
    assert recorder.most_running <= concurrency
    # In flight plus the one part read ahead (plus the part being read when a slot frees up).
    assert recorder.most_ahead <= (concurrency + 2) * PART
    if concurrency > 1:
        assert recorder.most_running > 1


def test_upload_parts_stops_reading_after_the_first_failure():
    reader = CountingReader(200 * PART)
    recorder = Recorder(reader, fail_at=2)
    _single, parts = storage.split_first_part(reader, PART)
    with pytest.raises(RuntimeError, match='part 2 failed'):
        storage.upload_parts(parts, recorder, 3)
    assert reader.position < 20 * PART
    assert recorder.running == 0


def test_upload_parts_raises_a_source_error_once_no_upload_runs():
    reader = CountingReader(3 * PART)

    def broken_parts():
        yield 1, reader.read(PART), False
        yield 2, reader.read(PART), False
        raise OSError('source broke')

    recorder = Recorder(reader, delay=0.05)
    with pytest.raises(OSError, match='source broke'):
        storage.upload_parts(broken_parts(), recorder, 2)
    assert recorder.running == 0


def test_upload_parts_completes_every_part_when_uploads_are_instant():
    """Slots free up before a worker is idle again, so parts can queue briefly: none may be dropped."""
    for _attempt in range(20):
        reader = CountingReader(300 * PART)
        _single, parts = storage.split_first_part(reader, PART)
        results = storage.upload_parts(parts, lambda index, part: index, 4)
        assert results == list(range(1, 301))
