# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whole-object helpers over the streaming crypto of _crypto, for tests only (the collection always streams)."""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.module_utils import _crypto


def encrypted_size(plain_size, chunk_size=_crypto.CHUNK_SIZE):
    """Stored size of an object of ``plain_size`` plaintext bytes (the KFE1 format: header, chunks, one tag each)."""
    chunks = max(1, -(-plain_size // chunk_size))
    return _crypto.HEADER_SIZE + plain_size + chunks * _crypto.TAG_SIZE


def encrypt_bytes(data, kek, aad_key, chunk_size=_crypto.CHUNK_SIZE):
    return _crypto.EncryptingReader(data, kek, aad_key, chunk_size).read()


def decrypt_bytes(data, kek, aad_key):
    return b''.join(_crypto.decrypt_chunks([data], kek, aad_key))
