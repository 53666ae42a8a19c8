# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tasks of backup_info and backup_restore: reading backup sets back.

Like ``_backup_tasks.run_backup``, each ``run_*`` takes the module's params, returns the result dict and raises a
``KfuseError``; bad input fails before any change, and a restore that fails after changing something says
``changed=True`` with what it changed. The shared checks, store and Kubernetes access come from ``_backup_tasks``.
"""

from __future__ import annotations

import json
import os

from ansible_collections.kfuse.failover.plugins.module_utils import _backup_tasks as common
from ansible_collections.kfuse.failover.plugins.module_utils._backup_sources import check_database_spec, restore_database
from ansible_collections.kfuse.failover.plugins.module_utils._names import check_namespace, check_object_name
from ansible_collections.kfuse.failover.plugins.module_utils._secrets import apply_secrets
from ansible_collections.kfuse.failover.plugins.module_utils.errors import (
    DecryptionError,
    IntegrityError,
    KfuseError,
    OptionError,
    TaskFailed,
)


# -- backup_info ---------------------------------------------------------------------------------------------------

def _age(moment, now):
    return round((now - moment).total_seconds(), 1) if moment is not None else None


def freshness(store, pattern, zone, now, max_age=None):
    """Newest object under ``pattern`` (``{zone}`` replaced) and its age; ``stale`` when older than max_age."""
    backup_set = common._modules()[0]
    prefix = pattern.replace('{zone}', zone)
    newest = None
    count = 0
    for info in store.list(prefix):
        count += 1
        if info.last_modified is not None and (newest is None or info.last_modified > newest.last_modified):
            newest = info
    result = {'zone': zone, 'prefix': prefix, 'objects': count, 'newest_key': newest.key if newest else None,
              'newest_time': backup_set.format_time(newest.last_modified) if newest else None,
              'age_seconds': _age(newest.last_modified, now) if newest else None, 'max_age': max_age, 'stale': None}
    if max_age is not None:
        limit = backup_set.parse_duration(max_age, 'az_backups.max_age')
        result['max_age_seconds'] = limit
        result['stale'] = newest is None or result['age_seconds'] > limit
    return result


def run_info(params, now=None, register_secret=common._no_register):
    """List sets, verify one, report ages and az-service freshness (see the backup_info module)."""
    backup_set = common._modules()[0]
    now = now or backup_set.utcnow()
    try:
        config = common._check_common(params)
        az_backups = params.get('az_backups')
        if az_backups:
            if az_backups.get('max_age') is not None:
                backup_set.parse_duration(az_backups['max_age'], 'az_backups.max_age')
            if not az_backups.get('prefix'):
                raise OptionError('az_backups.prefix must not be empty')
        store = common._open(params, config, register_secret)
        sets = backup_set.list_sets(store, params['prefix'], params.get('zone'))
        with_manifests = params.get('manifests', True)
        complete = [item for item in sets if item.complete]
        newest = complete[-1] if complete else None
        result = {'changed': False,
                  'sets': [dict(item.as_dict(with_manifest=with_manifests and item.complete)) for item in sets],
                  'complete': [item.set_id for item in complete],
                  'incomplete': [item.set_id for item in sets if item.status == backup_set.STATUS_INCOMPLETE],
                  'invalid': [item.set_id for item in sets if item.status == backup_set.STATUS_INVALID],
                  'latest': newest.as_dict(with_manifest=False) if newest else None,
                  'latest_age_seconds': _age(newest.created, now) if newest else None,
                  'verification': None, 'az_backups': None}
        if params.get('verify'):
            wanted = params['verify']
            if wanted == 'latest':
                chosen = newest
                if chosen is None:
                    raise TaskFailed('verify=latest: there is no complete backup set under %s' % common._where(params), **result)
            else:
                matching = [item for item in sets if item.set_id == wanted]
                if not matching or not matching[0].complete:
                    state = matching[0].status if matching else 'not found'
                    raise TaskFailed('verify: backup set %s is %s under %s' % (wanted, state, common._where(params)), **result)
                chosen = matching[0]
            verification = backup_set.verify_set(store, chosen, params.get('encryption_passphrase'))
            result['verification'] = verification
            if not verification['ok']:
                details = ['%s (%s)' % (o['key'], o['error']) for o in verification['objects'] if not o['ok']]
                raise TaskFailed('backup set %s failed verification: %s' % (chosen.set_id, '; '.join(details)), **result)
        if az_backups:
            zone = az_backups.get('zone') or params.get('zone')
            if not zone:
                raise OptionError('az_backups.zone is required when zone is not set')
            result['az_backups'] = freshness(store, az_backups['prefix'], zone, now, az_backups.get('max_age'))
            if result['az_backups']['stale']:
                fresh = result['az_backups']
                raise TaskFailed('az-service backups of zone %s are stale: newest object under %s is %s (max_age %s)'
                                 % (zone, fresh['prefix'], '%s seconds old' % fresh['age_seconds']
                                    if fresh['newest_key'] else 'missing', az_backups['max_age']), **result)
        return result
    except KfuseError as exc:
        raise common._explained(exc) from exc


# -- backup_restore -------------------------------------------------------------------------------------------------

def _choose_set(store, params):
    backup_set = common._modules()[0]
    wanted = params.get('set_id') or 'latest'
    if wanted == 'latest':
        chosen = backup_set.latest_complete(store, params['prefix'], params['zone'])
        if chosen is None:
            raise TaskFailed('there is no complete backup set under %s' % common._where(params))
        return chosen
    chosen = backup_set.load_set(store, params['prefix'], params['zone'], wanted)
    if not chosen.complete and chosen.object_count == 0 and chosen.started is None:
        raise TaskFailed('set_id: there is no backup set %s under %s' % (wanted, common._where(params)))
    if not chosen.complete:
        raise TaskFailed('backup set %s under %s is %s (%s); it cannot be restored'
                         % (wanted, common._where(params), chosen.status, chosen.error))
    return chosen


def _checked_stream(store, chosen, entry, passphrase):
    """Plaintext chunks of ``entry``; a tampered or corrupted object fails naming its key."""
    backup_set = common._modules()[0]
    try:
        yield from backup_set.open_object(store, chosen, entry, passphrase)
    except (DecryptionError, IntegrityError) as exc:
        raise TaskFailed('object %s of backup set %s failed its integrity check, nothing more is restored from it: %s'
                         % (entry['key'], chosen.set_id, exc), set_id=chosen.set_id) from None


def _read_all(store, chosen, entry, passphrase):
    return b''.join(_checked_stream(store, chosen, entry, passphrase))


def _wanted_secret(entry, names):
    if names is None:
        return True
    namespace, _sep, name = entry['name'].partition('/')
    return entry['name'] in names or name in names or '%s/%s' % (namespace, name) in names


def _write_local(path, data, check_mode):
    """Write ``data`` to ``path`` (mode 0600) unless identical; returns whether it changed."""
    if os.path.exists(path):
        with open(path, 'rb') as handle:
            if handle.read() == data:
                return False
    if not check_mode:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        descriptor = os.open(path + '.part', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, 'wb') as handle:
            handle.write(data)
        os.replace(path + '.part', path)
    return True


def run_restore(params, check_mode=False, register_secret=common._no_register):
    """Restore secrets, databases and (optionally) Helm values and files from a set (see backup_restore)."""
    backup_set = common._modules()[0]
    passphrase = params.get('encryption_passphrase')
    common._register_database_secrets(params.get('databases'), register_secret)
    result = {'changed': False, 'secrets': [], 'databases': [], 'files': []}
    try:
        config = common._check_common(params)
        databases = params.get('databases') or []
        for position, spec in enumerate(databases):
            check_database_spec(spec, 'databases[%d]' % position)
        dest = params.get('dest')
        if dest and os.path.exists(dest) and not os.path.isdir(dest):
            raise OptionError('dest: %s exists and is not a directory; give a directory for the Helm values and files'
                              % dest)
        for name in params.get('secrets') or []:
            namespace, _sep, secret = name.rpartition('/')
            check_object_name(secret, 'secrets', 'Secret')
            if namespace:
                check_namespace(namespace, 'secrets (namespace/name)')
        store = common._open(params, config, register_secret)
        chosen = _choose_set(store, params)
        # The key is checked before anything is read or written, so a wrong passphrase restores nothing.
        if chosen.encrypted:
            if not passphrase:
                raise TaskFailed('backup set %s is encrypted: encryption_passphrase is required' % chosen.set_id,
                                 set_id=chosen.set_id)
            register_secret(backup_set.unlock(chosen, passphrase))  # the decrypted key, masked if ever echoed
        entries = chosen.entries()
        result.update({'set_id': chosen.set_id, 'prefix': chosen.prefix})
        dumps = {}
        for entry in entries:
            if entry['kind'] == 'postgres':
                dumps.setdefault(entry['name'], entry)
        for spec in databases:
            if spec['name'] not in dumps:
                present = ', '.join(e['name'] for e in entries if e['kind'] == 'postgres') or 'none'
                raise TaskFailed('databases: backup set %s has no dump of database %s (dumps: %s)'
                                 % (chosen.set_id, spec['name'], present), **result)
        names = params.get('secrets')
        if names and params.get('restore_secrets', True):
            missing = [name for name in names
                       if not any(e['kind'] == 'secret' and _wanted_secret(e, [name]) for e in entries)]
            if missing:
                present = ', '.join(e['name'] for e in entries if e['kind'] == 'secret') or 'none'
                raise TaskFailed('secrets: backup set %s has no secret %s (secrets: %s); nothing was restored'
                                 % (chosen.set_id, ', '.join(missing), present), **result)
        secret_entries = [e for e in entries if e['kind'] == 'secret' and _wanted_secret(e, names)] \
            if params.get('restore_secrets', True) else []
        # Every secret is read, checked and decrypted before the first one is applied: all or nothing.
        payloads = [json.loads(_read_all(store, chosen, e, passphrase).decode('utf-8')) for e in secret_entries]
        if payloads:
            factory = common._api_client_factory(params)
            result['secrets'] = apply_secrets(common._core_v1(factory), payloads, namespace=params.get('namespace'),
                                              overwrite=bool(params.get('overwrite')), check_mode=check_mode)
        if params.get('dest'):
            for entry in entries:
                if entry['kind'] not in ('helm_values', 'file'):
                    continue
                relative = backup_set.object_key(entry['kind'], entry['name'])
                path = os.path.join(params['dest'], relative)
                changed = _write_local(path, _read_all(store, chosen, entry, passphrase), check_mode)
                result['files'].append({'kind': entry['kind'], 'name': entry['name'], 'path': path, 'changed': changed})
        for spec in databases:
            entry = dumps[spec['name']]
            report = {'name': spec['name'], 'target_database': spec.get('target_database') or spec['name'],
                      'size': entry['plain_size'], 'clean': bool(spec.get('clean')), 'action': 'restored'}
            if check_mode:
                report['action'] = 'would restore'
            else:
                outcome = restore_database(spec, _checked_stream(store, chosen, entry, passphrase),
                                           common._api_client_factory(params))
                report['warnings'] = outcome.get('warnings', [])
            result['databases'].append(report)
        result['changed'] = _restore_changed(result)
        return result
    except KfuseError as exc:
        failure = common._explained(exc)
        # What was changed before the failure is reported, and the task says changed.
        failure.result.setdefault('changed', not check_mode and _restore_changed(result))
        for key in ('secrets', 'databases', 'files'):
            failure.result.setdefault(key, result[key])
        raise failure from exc


def _restore_changed(result):
    return (any(r['action'] in ('created', 'updated') for r in result['secrets'])
            or any(r['action'] == 'restored' for r in result['databases'])
            or any(f['changed'] for f in result['files']))
