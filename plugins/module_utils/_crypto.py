# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Streaming client-side envelope encryption of backup objects (AES-256-GCM in chunks).

Keys
    The key-encryption key (KEK, 32 bytes) is derived from the user's passphrase with scrypt and a random per-set
    salt (``new_encryption`` / ``unlock``). The manifest stores the salt, the scrypt parameters and a ``key_check``
    (HMAC-SHA256 of a fixed label under the KEK), so a wrong passphrase is detected before any object is read.
    Every object gets its own random 256-bit data key, wrapped (AES-GCM) with the KEK and stored in its header.

Byte format of an encrypted object (all integers big-endian)::

    offset  size  field
    0       4     magic b'KFE1'
    4       1     format version (1)
    5       4     chunk size C in bytes (1 MiB by default)
    9       4     nonce prefix P (random, per object)
    13      12    wrap nonce (random)
    25      48    wrapped data key: AES-GCM(KEK) of the 32-byte data key + 16-byte tag,
                  AAD = bytes 0..24 of this header + UTF-8 object key
    73      ...   chunks

    chunk i = AES-GCM(data key, nonce = P + i as 8 bytes, AAD = b'KFE1-chunk' + uint32 len(key) + key
              + uint64 i + uint8 last) of plaintext bytes [i*C, (i+1)*C), followed by its 16-byte tag.

Every chunk but the last holds exactly C plaintext bytes (C + 16 stored bytes); the last holds 0..C bytes and
is the only one with ``last = 1``; empty plaintext is one empty last chunk. The header is authenticated by the
key wrap and each chunk by its tag, whose AAD carries the object key (objects cannot be swapped), the index
(chunks cannot be reordered or dropped) and the last flag (a stream cut at a chunk boundary fails).

``decrypt_chunks`` yields a chunk's plaintext only after its tag checked out. Truncation is only known at the end
of the stream, so a consumer must treat everything it received as void when ``DecryptionError`` is raised
(restores write to a temporary place and commit at the end).
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import io
import os
import struct
import traceback

from ansible_collections.kfuse.failover.plugins.module_utils._streams import pop_bytes, read_full
from ansible_collections.kfuse.failover.plugins.module_utils.errors import CryptoError, DecryptionError

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

ALGORITHM = 'AES-256-GCM'
KDF = 'scrypt'
CHUNK_SIZE = 1024 * 1024
MAGIC = b'KFE1'
FORMAT_VERSION = 1
KEY_SIZE = 32
TAG_SIZE = 16
SALT_SIZE = 16
DEFAULT_KDF_PARAMS = {'n': 2 ** 15, 'r': 8, 'p': 1}
# Bounds on parameters read back from a manifest, so a damaged one cannot make scrypt eat the machine.
MAX_KDF_N = 2 ** 20
MAX_KDF_R = 32
MAX_KDF_P = 16
MAX_CHUNK_SIZE = 64 * 1024 * 1024

_HEADER = struct.Struct('>4sBI4s12s48s')
HEADER_SIZE = _HEADER.size
_HEADER_AAD_SIZE = 4 + 1 + 4 + 4 + 12
_CHUNK_LABEL = b'KFE1-chunk'
_KEY_CHECK_LABEL = b'kfuse.failover key check v1'


def require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise CryptoError('the cryptography Python library is required for backup encryption')


def _b64(data):
    return base64.b64encode(data).decode('ascii')


def _unb64(text, what):
    try:
        return base64.b64decode(text.encode('ascii'), validate=True)
    except (AttributeError, ValueError, UnicodeError):
        raise CryptoError('%s is not valid base64' % what) from None


def _passphrase_bytes(passphrase):
    if isinstance(passphrase, bytes):
        data = passphrase
    elif isinstance(passphrase, str):
        data = passphrase.encode('utf-8')
    else:
        # Ansible Vault values arrive as AnsibleVaultEncryptedUnicode, a str look-alike.
        data = str(passphrase).encode('utf-8') if passphrase is not None else b''
    if not data:
        raise CryptoError('the encryption passphrase must not be empty')
    return data


def _check_kdf_params(params):
    if not isinstance(params, dict):
        raise CryptoError('kdf_params must be a mapping')
    try:
        n, r, p = params['n'], params['r'], params['p']
    except KeyError as exc:
        raise CryptoError('kdf_params lacks %s' % exc) from None
    for name, value, upper in (('n', n, MAX_KDF_N), ('r', r, MAX_KDF_R), ('p', p, MAX_KDF_P)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > upper:
            raise CryptoError('kdf_params.%s must be an integer from 1 to %d, got %r' % (name, upper, value))
    if n < 2 or n & (n - 1):
        raise CryptoError('kdf_params.n must be a power of two, got %r' % n)
    return {'n': n, 'r': r, 'p': p}


def derive_kek(passphrase, salt, kdf_params=None):
    """32-byte key-encryption key from ``passphrase`` (str or bytes) and ``salt`` with scrypt."""
    require_cryptography()
    params = _check_kdf_params(dict(kdf_params or DEFAULT_KDF_PARAMS))
    return Scrypt(salt=salt, length=KEY_SIZE, n=params['n'], r=params['r'], p=params['p']).derive(
        _passphrase_bytes(passphrase))


def key_check(kek):
    """Value stored in the manifest that tells whether a KEK is the one the set was written with."""
    return hmac.new(kek, _KEY_CHECK_LABEL, hashlib.sha256).digest()


def new_encryption(passphrase, kdf_params=None, chunk_size=CHUNK_SIZE):
    """(kek, parameters for the manifest's ``encryption`` field) for a new set, with a fresh salt."""
    params = _check_kdf_params(dict(kdf_params or DEFAULT_KDF_PARAMS))
    salt = os.urandom(SALT_SIZE)
    kek = derive_kek(passphrase, salt, params)
    return kek, {'algorithm': ALGORITHM, 'chunk_size': chunk_size, 'kdf': KDF, 'kdf_params': params,
                 'salt': _b64(salt), 'key_check': _b64(key_check(kek))}


def validate_encryption_params(params):
    """Raise CryptoError unless ``params`` is a well-formed manifest ``encryption`` field."""
    if not isinstance(params, dict):
        raise CryptoError('encryption must be a mapping or null')
    if params.get('algorithm') != ALGORITHM:
        raise CryptoError('encryption.algorithm must be %s, got %r' % (ALGORITHM, params.get('algorithm')))
    if params.get('kdf') != KDF:
        raise CryptoError('encryption.kdf must be %s, got %r' % (KDF, params.get('kdf')))
    chunk_size = params.get('chunk_size')
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise CryptoError('encryption.chunk_size must be an integer from 1 to %d, got %r' % (MAX_CHUNK_SIZE, chunk_size))
    _check_kdf_params(params.get('kdf_params'))
    if len(_unb64(params.get('salt'), 'encryption.salt')) < 8:
        raise CryptoError('encryption.salt is too short')
    if len(_unb64(params.get('key_check'), 'encryption.key_check')) != hashlib.sha256().digest_size:
        raise CryptoError('encryption.key_check has the wrong length')


def unlock(passphrase, params):
    """KEK for a set written with manifest ``encryption`` = ``params``; DecryptionError on a wrong passphrase."""
    validate_encryption_params(params)
    kek = derive_kek(passphrase, _unb64(params['salt'], 'encryption.salt'), params['kdf_params'])
    if not hmac.compare_digest(key_check(kek), _unb64(params['key_check'], 'encryption.key_check')):
        raise DecryptionError('wrong passphrase: it does not match the key check of this backup set')
    return kek


def _aad_key_bytes(aad_key):
    data = aad_key.encode('utf-8') if isinstance(aad_key, str) else bytes(aad_key)
    return struct.pack('>I', len(data)) + data


def _chunk_aad(key_part, index, last):
    return _CHUNK_LABEL + key_part + struct.pack('>QB', index, 1 if last else 0)


def _check_kek(kek):
    require_cryptography()
    if not isinstance(kek, (bytes, bytearray)) or len(kek) != KEY_SIZE:
        raise CryptoError('the key-encryption key must be %d bytes' % KEY_SIZE)


class EncryptingReader:
    """File-like over the encrypted form of ``reader`` (anything with read(n), or bytes); read(n) streams.

    Holds at most about two chunks of plaintext and ciphertext at a time.
    """

    def __init__(self, reader, kek, aad_key, chunk_size=CHUNK_SIZE):
        _check_kek(kek)
        if not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise CryptoError('chunk_size must be from 1 to %d' % MAX_CHUNK_SIZE)
        self._reader = io.BytesIO(reader) if isinstance(reader, (bytes, bytearray, memoryview)) else reader
        self._chunk_size = chunk_size
        self._key_part = _aad_key_bytes(aad_key)
        data_key = AESGCM.generate_key(bit_length=256)
        self._aead = AESGCM(data_key)
        self._nonce_prefix = os.urandom(4)
        wrap_nonce = os.urandom(12)
        header_start = struct.pack('>4sBI4s12s', MAGIC, FORMAT_VERSION, chunk_size, self._nonce_prefix, wrap_nonce)
        wrapped = AESGCM(bytes(kek)).encrypt(wrap_nonce, data_key, header_start + self._key_part)
        # Sealed pieces waiting to be read, kept as a list of bytes: joining once per read() is far cheaper
        # than growing and trimming one big buffer.
        self._out = collections.deque([header_start + wrapped])
        self._buffered = len(header_start + wrapped)
        self._pending = b''
        self._index = 0
        self._finished = False
        self.plain_bytes = 0
        self.stored_bytes = 0

    def _encrypt_next(self):
        # Read one chunk ahead: a chunk is the last only when nothing follows it.
        if not self._pending:
            self._pending = read_full(self._reader, self._chunk_size)
        following = read_full(self._reader, self._chunk_size)
        chunk, self._pending = self._pending, following
        last = not following
        nonce = self._nonce_prefix + struct.pack('>Q', self._index)
        sealed = self._aead.encrypt(nonce, chunk, _chunk_aad(self._key_part, self._index, last))
        self._out.append(sealed)
        self._buffered += len(sealed)
        self.plain_bytes += len(chunk)
        self._index += 1
        self._finished = last

    def read(self, size=-1):
        if size is None or size < 0:
            while not self._finished:
                self._encrypt_next()
            size = self._buffered
        while self._buffered < size and not self._finished:
            self._encrypt_next()
        data = pop_bytes(self._out, min(size, self._buffered))
        self._buffered -= len(data)
        self.stored_bytes += len(data)
        return data

    def readable(self):
        return True


class ChunkDecryptor:
    """Push-style decryption: ``feed(data)`` returns authenticated plaintext pieces, ``finish()`` the rest."""

    def __init__(self, kek, aad_key):
        _check_kek(kek)
        self._kek = bytes(kek)
        self._key_part = _aad_key_bytes(aad_key)
        self._buffer = bytearray()
        self._aead = None
        self._chunk_size = None
        self._nonce_prefix = None
        self._index = 0
        self._done = False

    def _open_header(self):
        magic, version, chunk_size, nonce_prefix, wrap_nonce, wrapped = _HEADER.unpack_from(self._buffer)
        if magic != MAGIC:
            raise DecryptionError('not an encrypted backup object (bad magic)')
        if version != FORMAT_VERSION:
            raise DecryptionError('unsupported encryption format version %d' % version)
        if not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise DecryptionError('invalid chunk size %d in the header' % chunk_size)
        try:
            data_key = AESGCM(self._kek).decrypt(
                wrap_nonce, wrapped, bytes(self._buffer[:_HEADER_AAD_SIZE]) + self._key_part)
        except InvalidTag:
            raise DecryptionError('cannot unwrap the data key: wrong key, or the header or object key was altered') from None
        self._aead = AESGCM(data_key)
        self._chunk_size = chunk_size
        self._nonce_prefix = nonce_prefix
        del self._buffer[:HEADER_SIZE]

    def _decrypt(self, sealed, last):
        nonce = self._nonce_prefix + struct.pack('>Q', self._index)
        try:
            plain = self._aead.decrypt(nonce, sealed, _chunk_aad(self._key_part, self._index, last))
        except InvalidTag:
            raise DecryptionError('chunk %d failed authentication: the data was altered, reordered or truncated'
                                  % self._index) from None
        self._index += 1
        return plain

    def feed(self, data):
        if self._done:
            raise DecryptionError('data after the end of the encrypted stream')
        self._buffer += data
        if self._aead is None:
            if len(self._buffer) < HEADER_SIZE:
                return []
            self._open_header()
        sealed_size = self._chunk_size + TAG_SIZE
        pieces = []
        # A full chunk is known not to be the last only once at least one more byte follows it.
        while len(self._buffer) > sealed_size:
            pieces.append(self._decrypt(bytes(self._buffer[:sealed_size]), last=False))
            del self._buffer[:sealed_size]
        return pieces

    def finish(self):
        if self._done:
            return b''
        if self._aead is None:
            raise DecryptionError('encrypted stream truncated inside its header')
        if len(self._buffer) < TAG_SIZE:
            raise DecryptionError('encrypted stream truncated: the last chunk is missing')
        plain = self._decrypt(bytes(self._buffer), last=True)
        self._buffer = bytearray()
        self._done = True
        return plain


def decrypt_chunks(chunks, kek, aad_key):
    """Yield the plaintext of the encrypted byte stream ``chunks`` (an iterable of bytes) piece by piece."""
    decryptor = ChunkDecryptor(kek, aad_key)
    for data in chunks:
        for plain in decryptor.feed(data):
            if plain:
                yield plain
    last = decryptor.finish()
    if last:
        yield last
