# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Streaming envelope encryption: round trips at chunk boundaries, and every kind of tampering fails."""

from __future__ import annotations

import io
import os

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _crypto
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils import crypto_helpers

C = _crypto.CHUNK_SIZE
FAST_KDF = {'n': 2 ** 10, 'r': 8, 'p': 1}
AAD_KEY = 'secrets/kfuse/pull.json.enc'


@pytest.fixture(scope='module', name='kek')
def kek_fixture():
    return os.urandom(32)


class TrickleReader:
    """A source that returns at most ``step`` bytes per read, like a pipe."""

    def __init__(self, data, step):
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size=-1):
        return self._data.read(self._step if size is None or size < 0 else min(size, self._step))


def encrypt_streaming(data, kek, read_size, chunk_size=C):
    reader = _crypto.EncryptingReader(io.BytesIO(data), kek, AAD_KEY, chunk_size)
    parts = []
    while True:
        part = reader.read(read_size)
        if not part:
            break
        assert len(part) <= read_size
        parts.append(part)
    return b''.join(parts)


def split(data, size):
    return [data[start:start + size] for start in range(0, len(data), size)] or [b'']


def sealed_chunks(blob, chunk_size):
    """(header, [sealed chunk, ...]) of an encrypted blob."""
    body = blob[_crypto.HEADER_SIZE:]
    step = chunk_size + _crypto.TAG_SIZE
    return blob[:_crypto.HEADER_SIZE], [body[start:start + step] for start in range(0, len(body), step)]


@pytest.mark.parametrize('size', [0, 1, C - 1, C, C + 1, 3 * C + 12345])
def test_round_trip_at_chunk_boundaries(kek, size):
    data = os.urandom(size)
    blob = encrypt_streaming(data, kek, read_size=8 * 1024 * 1024)
    assert len(blob) == crypto_helpers.encrypted_size(size)
    assert size < 16 or data[:16] not in blob
    # Decrypt from pieces that do not line up with chunks.
    assert b''.join(_crypto.decrypt_chunks(split(blob, 300001), kek, AAD_KEY)) == data


@pytest.mark.parametrize('size', [0, 5, 16, 17, 64, 65, 1000])
@pytest.mark.parametrize('read_size', [1, 7, 64, 4096])
def test_round_trip_small_chunks_odd_reads(kek, size, read_size):
    data = os.urandom(size)
    blob = encrypt_streaming(data, kek, read_size, chunk_size=16)
    assert len(blob) == crypto_helpers.encrypted_size(size, 16)
    assert b''.join(_crypto.decrypt_chunks(split(blob, 5), kek, AAD_KEY)) == data


def test_short_reads_from_the_source_still_make_full_chunks(kek):
    data = os.urandom(200)
    reader = _crypto.EncryptingReader(TrickleReader(data, 3), kek, AAD_KEY, chunk_size=32)
    blob = reader.read()
    assert len(blob) == crypto_helpers.encrypted_size(200, 32)
    assert reader.plain_bytes == 200
    assert crypto_helpers.decrypt_bytes(blob, kek, AAD_KEY) == data


def test_same_plaintext_encrypts_differently(kek):
    assert crypto_helpers.encrypt_bytes(b'same', kek, AAD_KEY) != crypto_helpers.encrypt_bytes(b'same', kek, AAD_KEY)


def test_wrong_key_fails_before_any_plaintext(kek):
    blob = crypto_helpers.encrypt_bytes(b'top secret', kek, AAD_KEY)
    stream = _crypto.decrypt_chunks([blob], os.urandom(32), AAD_KEY)
    with pytest.raises(_crypto.DecryptionError, match='unwrap'):
        next(stream)


def test_other_object_key_fails(kek):
    blob = crypto_helpers.encrypt_bytes(b'top secret', kek, AAD_KEY)
    with pytest.raises(_crypto.DecryptionError):
        crypto_helpers.decrypt_bytes(blob, kek, 'secrets/kfuse/other.json.enc')


@pytest.mark.parametrize('where', ['magic', 'header', 'wrapped_key', 'first_chunk', 'last_tag'])
def test_flipped_byte_fails(kek, where):
    blob = bytearray(crypto_helpers.encrypt_bytes(os.urandom(100), kek, AAD_KEY, chunk_size=32))
    offset = {'magic': 0, 'header': 10, 'wrapped_key': 40, 'first_chunk': _crypto.HEADER_SIZE + 3,
              'last_tag': len(blob) - 1}[where]
    blob[offset] ^= 0x80
    with pytest.raises(_crypto.DecryptionError):
        crypto_helpers.decrypt_bytes(bytes(blob), kek, AAD_KEY)


def test_no_plaintext_from_a_tampered_chunk(kek):
    data = os.urandom(96)
    blob = bytearray(crypto_helpers.encrypt_bytes(data, kek, AAD_KEY, chunk_size=32))
    blob[_crypto.HEADER_SIZE + 48 + 5] ^= 0x01   # inside the second chunk
    received = []
    with pytest.raises(_crypto.DecryptionError, match='chunk 1'):
        cut = _crypto.HEADER_SIZE + 48 + 1
        for piece in _crypto.decrypt_chunks([bytes(blob[:cut]), bytes(blob[cut:])], kek, AAD_KEY):
            received.append(piece)
    # Only the authenticated first chunk came out; nothing of the altered one.
    assert b''.join(received) == data[:32]


@pytest.mark.parametrize('cut', ['header', 'inside_chunk', 'chunk_boundary', 'all_chunks'])
def test_truncated_stream_fails(kek, cut):
    blob = crypto_helpers.encrypt_bytes(os.urandom(100), kek, AAD_KEY, chunk_size=32)
    header, chunks = sealed_chunks(blob, 32)
    assert len(chunks) == 4
    truncated = {'header': blob[:20], 'inside_chunk': blob[:-7], 'chunk_boundary': header + b''.join(chunks[:3]),
                 'all_chunks': header}[cut]
    with pytest.raises(_crypto.DecryptionError):
        crypto_helpers.decrypt_bytes(truncated, kek, AAD_KEY)


def test_truncated_at_boundary_of_an_exact_multiple_fails(kek):
    blob = crypto_helpers.encrypt_bytes(os.urandom(64), kek, AAD_KEY, chunk_size=32)
    header, chunks = sealed_chunks(blob, 32)
    assert len(chunks) == 2
    with pytest.raises(_crypto.DecryptionError):
        crypto_helpers.decrypt_bytes(header + chunks[0], kek, AAD_KEY)


def test_swapped_and_dropped_and_appended_chunks_fail(kek):
    blob = crypto_helpers.encrypt_bytes(os.urandom(100), kek, AAD_KEY, chunk_size=32)
    header, chunks = sealed_chunks(blob, 32)
    swapped = header + chunks[1] + chunks[0] + b''.join(chunks[2:])
    dropped = header + chunks[0] + b''.join(chunks[2:])
    appended = blob + chunks[0]
    for variant in (swapped, dropped, appended):
        with pytest.raises(_crypto.DecryptionError):
            crypto_helpers.decrypt_bytes(variant, kek, AAD_KEY)


def test_chunks_from_another_object_fail(kek):
    first = crypto_helpers.encrypt_bytes(os.urandom(64), kek, AAD_KEY, chunk_size=32)
    second = crypto_helpers.encrypt_bytes(os.urandom(64), kek, AAD_KEY, chunk_size=32)
    header, _chunks = sealed_chunks(first, 32)
    _header, other_chunks = sealed_chunks(second, 32)
    with pytest.raises(_crypto.DecryptionError):
        crypto_helpers.decrypt_bytes(header + b''.join(other_chunks), kek, AAD_KEY)


def test_key_check_accepts_the_passphrase_and_rejects_others():
    kek, params = _crypto.new_encryption('correct horse', FAST_KDF)
    assert params['algorithm'] == 'AES-256-GCM' and params['kdf'] == 'scrypt'
    assert params['kdf_params'] == FAST_KDF and params['chunk_size'] == C
    assert _crypto.unlock('correct horse', params) == kek
    assert _crypto.unlock(b'correct horse', params) == kek
    with pytest.raises(_crypto.DecryptionError, match='wrong passphrase'):
        _crypto.unlock('battery staple', params)


def test_same_passphrase_new_salt_gives_new_kek():
    first, _params = _crypto.new_encryption('pw', FAST_KDF)
    second, _params = _crypto.new_encryption('pw', FAST_KDF)
    assert first != second


@pytest.mark.parametrize('change, message', [
    ({'algorithm': 'AES-128-CBC'}, 'algorithm'),
    ({'kdf': 'pbkdf2'}, 'kdf'),
    ({'kdf_params': {'n': 2 ** 30, 'r': 8, 'p': 1}}, 'kdf_params.n'),
    ({'kdf_params': {'n': 1000, 'r': 8, 'p': 1}}, 'power of two'),
    ({'salt': 'not base64!'}, 'salt'),
    ({'key_check': 'AAAA'}, 'key_check'),
    ({'chunk_size': 0}, 'chunk_size'),
])
def test_malformed_parameters_are_rejected(change, message):
    _kek, params = _crypto.new_encryption('pw', FAST_KDF)
    params.update(change)
    with pytest.raises(_crypto.CryptoError, match=message):
        _crypto.unlock('pw', params)


def test_empty_passphrase_is_refused():
    with pytest.raises(_crypto.CryptoError, match='empty'):
        _crypto.new_encryption('', FAST_KDF)


def test_bad_kek_length_is_refused():
    with pytest.raises(_crypto.CryptoError, match='32 bytes'):
        _crypto.EncryptingReader(b'x', b'short', AAD_KEY)
