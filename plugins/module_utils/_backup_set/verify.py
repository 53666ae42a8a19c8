# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading a backup set back: unlocking its key, streaming an object with its checks, verifying a whole set.

Private to the collection (``_backup_set`` package).
"""

from __future__ import annotations

import hashlib

from ansible_collections.kfuse.failover.plugins.module_utils import _crypto
from ansible_collections.kfuse.failover.plugins.module_utils.errors import BackupSetError, DecryptionError, IntegrityError, StorageError


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
                except DecryptionError as exc:
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
            except DecryptionError as exc:
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
