# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tasks of the backup, backup_info and backup_restore modules.

Each ``run_*`` takes the module's params (and check mode), returns the result dict, and raises a ``KfuseError``
(``TaskFailed`` when the failure carries result keys). Bad input raises ``OptionError`` before any write. A failure
after something was changed carries ``changed=True`` and what was changed. ``register_secret`` (the module base's)
receives every secret learned on the way (storage credentials, passwords inside DSNs). The sources come from
``_backup_sources``, the store from ``_storage_params``; the modules run the tasks through ``KfuseModule.run``.
"""

from __future__ import annotations

import json
import os

from ansible_collections.kfuse.failover.plugins.module_utils._backup_sources import (
    apply_secrets,
    check_database_spec,
    collect_secrets,
    database_item,
    file_item,
    helm_values_item,
    restore_database,
)
from ansible_collections.kfuse.failover.plugins.module_utils._backup_set.layout import check_segment
from ansible_collections.kfuse.failover.plugins.module_utils._names import (
    check_label_selector,
    check_namespace,
    check_object_name,
)
from ansible_collections.kfuse.failover.plugins.module_utils._storage_params import (
    open_store_from_params,
    storage_config,
)
from ansible_collections.kfuse.failover.plugins.module_utils._version import COLLECTION_VERSION
from ansible_collections.kfuse.failover.plugins.module_utils.errors import (
    DecryptionError,
    IntegrityError,
    KfuseError,
    OptionError,
    TaskFailed,
)

ENCRYPT_CHOICES = ('auto', 'always', 'never')
MIN_PASSPHRASE = 12

# The options every backup module shares word for word (documented by the backup_set doc fragment).
BACKUP_SET_ARGSPEC = {
    'prefix': {'type': 'str', 'default': 'kfuse-failover/backups'},
}

# Where a database is reached, for a dump (backup) and a restore (backup_restore): a DSN, or a pod through exec.
DATABASE_CONNECTION_ARGSPEC = {
    'name': {'type': 'str', 'required': True},
    'dsn': {'type': 'str', 'no_log': True},
    'pod': {'type': 'str'},
    'namespace': {'type': 'str', 'default': 'kfuse'},
    'container': {'type': 'str'},
    'username': {'type': 'str'},
    'password': {'type': 'str', 'no_log': True},
    'password_env': {'type': 'str', 'no_log': False},
    'host': {'type': 'str'},
    'port': {'type': 'int'},
}


def _modules():
    """backup_set, storage and _crypto, imported late so importing this module needs none of their dependencies."""
    from ansible_collections.kfuse.failover.plugins.module_utils import backup_set  # pylint: disable=import-outside-toplevel
    from ansible_collections.kfuse.failover.plugins.module_utils import storage  # pylint: disable=import-outside-toplevel
    from ansible_collections.kfuse.failover.plugins.module_utils import _crypto  # pylint: disable=import-outside-toplevel
    return backup_set, storage, _crypto


def _no_register(*_values):
    """Default ``register_secret`` when a task runs outside a module (tests)."""


def _register_database_secrets(specs, register_secret):
    """Register the password of every database spec, and the one inside its DSN."""
    from ansible_collections.kfuse.failover.plugins.module_utils._postgres import dsn as pg_dsn  # pylint: disable=import-outside-toplevel
    for spec in specs or ():
        register_secret(spec.get('password'), spec.get('dsn'))
        if spec.get('dsn'):
            try:
                register_secret(pg_dsn.parse_dsn(spec['dsn']).get('password'))
            except KfuseError:
                pass  # check_database_spec reports the malformed DSN, naming the option


def _explained(exc):
    """The error with a hint for the operator when it is a decryption or integrity failure."""
    if isinstance(exc, DecryptionError):
        return TaskFailed('cannot decrypt the backup set: %s (check encryption_passphrase)' % exc, **exc.fail_result())
    if isinstance(exc, IntegrityError) and not str(exc).startswith('integrity check failed'):
        return TaskFailed('integrity check failed: %s' % exc, **exc.fail_result())
    return exc


def _api_client_factory(params):
    """A callable returning one shared Kubernetes ApiClient for the module's kubeconfig/context.

    The Kubernetes client library is imported on the first call only: a backup of files or databases by DSN never
    needs it, and importing it costs start-up time and memory in the module process.
    """
    cache = {}

    def factory():
        if 'client' not in cache:
            from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
            cache['client'] = kube.new_api_client(params.get('kubeconfig'), params.get('context'))
        return cache['client']
    return factory


def _core_v1(factory):
    from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
    return kube.k8s_client.CoreV1Api(factory())


def _check_common(params):
    backup_set, _storage, _crypto = _modules()
    config = storage_config(params)
    prefix = params.get('prefix') or ''
    for segment in prefix.strip('/').split('/') if prefix.strip('/') else []:
        try:
            check_segment(segment, 'prefix segment')
        except OptionError as exc:
            raise OptionError('prefix: %s (a prefix is "/"-separated names, no empty, "." or ".." segments)'
                              % exc) from None
    if params.get('namespace') is not None:
        check_namespace(params['namespace'], 'namespace')
    zone = params.get('zone')
    if zone is not None:
        try:
            backup_set.zone_prefix(params['prefix'], zone)
        except OptionError as exc:
            raise OptionError('zone: %s' % exc) from None
    if params.get('set_id') and params['set_id'] != 'latest' and backup_set.set_id_time(params['set_id']) is None:
        raise OptionError('set_id must look like 20260121T100000Z (optionally with -abcdef), got %r' % params['set_id'])
    return config


def _open(params, config, register_secret):
    store, credentials = open_store_from_params(params, config, register_secret=register_secret)
    return store


# -- backup ---------------------------------------------------------------------------------------------------------

def _plan_backup(params, factory):
    """SourceItems of the set, read from the sources (secrets and Helm values are read now, dumps stay lazy)."""
    backup_set = _modules()[0]
    sources = params.get('sources') or {}
    namespace = params.get('namespace') or 'kfuse'
    items = []
    needs_kube = sources.get('secrets') or sources.get('helm_releases')
    core_v1 = _core_v1(factory) if needs_kube else None
    if sources.get('secrets'):
        items.extend(collect_secrets(core_v1, sources['secrets'], namespace))
    for release in sources.get('helm_releases') or []:
        items.append(helm_values_item(core_v1, release['name'], release.get('namespace') or namespace))
    for spec in sources.get('files') or []:
        items.append(file_item(spec['path'], spec.get('name')))
    for spec in sources.get('databases') or []:
        items.append(database_item(spec, factory))
    if not items:
        raise OptionError('sources: nothing to back up (the secrets selections matched nothing and no other source '
                          'was given)' if sources.get('secrets') else 'sources: give at least one of secrets, '
                          'helm_releases, files or databases')
    seen = set()
    for item in items:
        try:
            key = backup_set.object_key(item.kind, item.name)
        except OptionError as exc:
            raise OptionError('sources: %s' % exc) from None
        if key in seen:
            raise OptionError('sources: %s %r is listed twice' % (item.kind, item.name))
        seen.add(key)
        item.key = key
    return items


def decide_encryption(mode, has_secrets, passphrase):
    """Whether to encrypt; OptionError naming encryption_passphrase when it is needed and missing or too short.

    ``has_secrets``: the set holds sensitive items (Kubernetes secrets, Helm values, files), which are encrypted
    or refused unless encrypt=never says to store them in clear.
    """
    if mode not in ENCRYPT_CHOICES:
        raise OptionError('encrypt must be one of %s, got %r' % (', '.join(ENCRYPT_CHOICES), mode))
    if mode == 'never':
        return False
    if mode == 'always' and not passphrase:
        raise OptionError('encrypt=always needs encryption_passphrase')
    if has_secrets and not passphrase:
        raise OptionError('the set holds Kubernetes secrets, Helm values or files, so it is encrypted (encrypt=auto): '
                          'encryption_passphrase is required, or set encrypt=never to store them in clear')
    if passphrase and len(passphrase) < MIN_PASSPHRASE:
        raise OptionError('encryption_passphrase must be at least %d characters: it is the only key to the set, and '
                          'scrypt slows down guessing but cannot make a short passphrase strong' % MIN_PASSPHRASE)
    return bool(passphrase)


def check_sources(sources):
    """Every source option checked before anything is read or written (OptionError naming the option)."""
    for position, selection in enumerate(sources.get('secrets') or []):
        where = 'sources.secrets[%d]' % position
        if not selection.get('name') and not selection.get('label_selector'):
            raise OptionError('%s needs a name or a label_selector' % where)
        if selection.get('name'):
            check_object_name(selection['name'], where + '.name', 'Secret')
        if selection.get('label_selector'):
            check_label_selector(selection['label_selector'], where + '.label_selector')
        if selection.get('namespace'):
            check_namespace(selection['namespace'], where + '.namespace')
    for position, release in enumerate(sources.get('helm_releases') or []):
        where = 'sources.helm_releases[%d]' % position
        if len(release.get('name') or '') > 53:
            raise OptionError('%s.name must be a Helm release name (at most 53 characters), got %r'
                              % (where, release.get('name')))
        check_object_name(release.get('name'), where + '.name', 'Helm release')
        if release.get('namespace'):
            check_namespace(release['namespace'], where + '.namespace')
    for position, spec in enumerate(sources.get('databases') or []):
        check_database_spec(spec, 'sources.databases[%d]' % position)


def _source_info(params, factory, items):
    if not any(item.kind in ('secret', 'helm_values') for item in items):
        return {}
    info = {'kube_context': params.get('context'), 'namespace': params.get('namespace') or 'kfuse'}
    try:
        info['cluster'] = factory().configuration.host
    except Exception:  # pylint: disable=broad-exception-caught
        info['cluster'] = None  # informational only
    return info


def _tools(items):
    tools = {'kfuse.failover': COLLECTION_VERSION}
    if any(item.kind == 'postgres' and item.meta.get('via') == 'dsn' for item in items):
        try:
            from ansible_collections.kfuse.failover.plugins.module_utils._postgres import local  # pylint: disable=import-outside-toplevel
            tools['pg_dump'] = local.tool_version('pg_dump')
        except Exception:  # pylint: disable=broad-exception-caught
            tools['pg_dump'] = None  # informational only; the dump itself reports a missing tool
    return tools


def run_backup(params, check_mode=False, now=None, register_secret=_no_register):
    """Write one backup set (see the backup module); returns the module result."""
    backup_set = _modules()[0]
    started = _monotonic()
    _register_database_secrets((params.get('sources') or {}).get('databases'), register_secret)
    try:
        config = _check_common(params)
        keep_last, max_age = params.get('keep_last'), params.get('max_age')
        if keep_last is not None and keep_last < 1:
            raise OptionError('keep_last must be 1 or more, got %s' % keep_last)
        if max_age is not None:
            backup_set.parse_duration(max_age, 'max_age')
        backup_set.parse_duration(params.get('incomplete_after') or backup_set.DEFAULT_INCOMPLETE_AFTER, 'incomplete_after')
        sources = params.get('sources') or {}
        if not any(sources.get(name) for name in ('secrets', 'helm_releases', 'files', 'databases')):
            raise OptionError('sources: give at least one of secrets, helm_releases, files or databases')
        check_sources(sources)
        has_secrets = any(sources.get(name) for name in ('secrets', 'helm_releases', 'files'))
        encrypt = decide_encryption(params.get('encrypt') or 'auto', has_secrets, params.get('encryption_passphrase'))
        factory = _api_client_factory(params)
        items = _plan_backup(params, factory)
        has_secrets = any(item.sensitive for item in items)
        encrypt = decide_encryption(params.get('encrypt') or 'auto', has_secrets, params.get('encryption_passphrase'))
        store = _open(params, config, register_secret)
        set_id = params.get('set_id') or backup_set.new_set_id(now, unique=bool(params.get('unique_set_id')))
        location = backup_set.set_prefix(params['prefix'], params['zone'], set_id)
        planned = [dict(item.describe(), key=item.key + (backup_set.ENCRYPTED_SUFFIX if encrypt else ''),
                        encrypted=encrypt) for item in items]
        if check_mode:
            if store.head(location + backup_set.WRITER_NAME) is not None:
                raise OptionError('set_id: backup set %s already exists' % location)
            return {'changed': True, 'set_id': set_id, 'prefix': location, 'encrypted': encrypt, 'objects': planned,
                    'pruned': [], 'elapsed': round(_monotonic() - started, 2)}
        sse = _sse_for(params, config)
        with backup_set.BackupSetWriter(store, params['prefix'], params['zone'], set_id=set_id,
                                        passphrase=params.get('encryption_passphrase'), encrypt=encrypt, sse=sse,
                                        source=_source_info(params, factory, items), tools=_tools(items),
                                        now=now) as writer:
            for item in items:
                with item.open() as reader:
                    writer.add(item.kind, item.name, reader, meta=item.meta)
            manifest = writer.commit()
        result = {'changed': True, 'set_id': set_id, 'prefix': location, 'encrypted': encrypt,
                  'objects': [{'kind': e['kind'], 'name': e['name'], 'key': e['key'], 'size': e['size'],
                               'plain_size': e['plain_size'], 'sha256': e['sha256']} for e in manifest['objects']],
                  'manifest': manifest, 'pruned': [], 'retention': None, 'verified': None}
        if params.get('verify', True) or keep_last is not None or max_age is not None:
            written = backup_set.load_set(store, params['prefix'], params['zone'], set_id)
            verification = backup_set.verify_set(store, written, params.get('encryption_passphrase'))
            result['verified'] = verification['ok']
            if not verification['ok']:
                raise TaskFailed('the new backup set %s does not verify: %s' % (set_id, ', '.join(verification['failed'])),
                                 verification=verification, set_id=set_id)
            if keep_last is not None or max_age is not None:
                sets = backup_set.list_sets(store, params['prefix'], params['zone'])
                plan = backup_set.plan_retention(sets, keep_last=keep_last, max_age=max_age, now=now,
                                                 verified_latest=set_id,
                                                 incomplete_after=params.get('incomplete_after') or backup_set.DEFAULT_INCOMPLETE_AFTER,
                                                 prune_incomplete=bool(params.get('prune_incomplete')))
                pruned = backup_set.prune(store, plan)
                result['pruned'] = pruned['pruned']
                result['retention'] = {'kept': [item['set_id'] for item in plan['keep']], 'blocked': plan['blocked'],
                                       'stale_incomplete': [item['set_id'] for item in plan['incomplete']],
                                       'deleted_objects': pruned['deleted_objects']}
        result['elapsed'] = round(_monotonic() - started, 2)
        return result
    except KfuseError as exc:
        raise _explained(exc) from exc


def _sse_for(params, config):
    sse = params.get('server_side_encryption') or {}
    own = sse.get(config['type'])
    return {config['type']: own} if own else None


def _monotonic():
    import time  # pylint: disable=import-outside-toplevel
    return time.monotonic()


# -- backup_info ----------------------------------------------------------------------------------------------------

def _age(moment, now):
    return round((now - moment).total_seconds(), 1) if moment is not None else None


def freshness(store, pattern, zone, now, max_age=None):
    """Newest object under ``pattern`` (``{zone}`` replaced) and its age; ``stale`` when older than max_age."""
    backup_set = _modules()[0]
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


def run_info(params, now=None, register_secret=_no_register):
    """List sets, verify one, report ages and az-service freshness (see the backup_info module)."""
    backup_set = _modules()[0]
    now = now or backup_set.utcnow()
    try:
        config = _check_common(params)
        az_backups = params.get('az_backups')
        if az_backups:
            if az_backups.get('max_age') is not None:
                backup_set.parse_duration(az_backups['max_age'], 'az_backups.max_age')
            if not az_backups.get('prefix'):
                raise OptionError('az_backups.prefix must not be empty')
        store = _open(params, config, register_secret)
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
                    raise TaskFailed('verify=latest: there is no complete backup set under %s' % _where(params), **result)
            else:
                matching = [item for item in sets if item.set_id == wanted]
                if not matching or not matching[0].complete:
                    state = matching[0].status if matching else 'not found'
                    raise TaskFailed('verify: backup set %s is %s under %s' % (wanted, state, _where(params)), **result)
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
        raise _explained(exc) from exc


def _where(params):
    return '%s/%s' % (params['prefix'].strip('/'), params['zone']) if params.get('zone') else params['prefix']


# -- backup_restore -------------------------------------------------------------------------------------------------

def _choose_set(store, params):
    backup_set = _modules()[0]
    wanted = params.get('set_id') or 'latest'
    if wanted == 'latest':
        chosen = backup_set.latest_complete(store, params['prefix'], params['zone'])
        if chosen is None:
            raise TaskFailed('there is no complete backup set under %s' % _where(params))
        return chosen
    chosen = backup_set.load_set(store, params['prefix'], params['zone'], wanted)
    if not chosen.complete:
        raise TaskFailed('backup set %s under %s is %s (%s); it cannot be restored'
                         % (wanted, _where(params), chosen.status, chosen.error))
    return chosen


def _checked_stream(store, chosen, entry, passphrase):
    """Plaintext chunks of ``entry``; a tampered or corrupted object fails naming its key."""
    backup_set, _storage, _crypto = _modules()
    try:
        yield from backup_set.open_object(store, chosen, entry, passphrase)
    except (_crypto.DecryptionError, backup_set.IntegrityError) as exc:
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


def run_restore(params, check_mode=False, register_secret=_no_register):
    """Restore secrets, databases and (optionally) Helm values and files from a set (see backup_restore)."""
    backup_set = _modules()[0]
    passphrase = params.get('encryption_passphrase')
    _register_database_secrets(params.get('databases'), register_secret)
    result = {'changed': False, 'secrets': [], 'databases': [], 'files': []}
    try:
        config = _check_common(params)
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
        store = _open(params, config, register_secret)
        chosen = _choose_set(store, params)
        # The key is checked before anything is read or written, so a wrong passphrase restores nothing.
        if chosen.encrypted:
            if not passphrase:
                raise TaskFailed('backup set %s is encrypted: encryption_passphrase is required' % chosen.set_id,
                                 set_id=chosen.set_id)
            backup_set.unlock(chosen, passphrase)
        entries = chosen.entries()
        result.update({'set_id': chosen.set_id, 'prefix': chosen.prefix})
        for spec in databases:
            matching = [e for e in entries if e['kind'] == 'postgres' and e['name'] == spec['name']]
            if not matching:
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
            factory = _api_client_factory(params)
            result['secrets'] = apply_secrets(_core_v1(factory), payloads, namespace=params.get('namespace'),
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
            entry = [e for e in entries if e['kind'] == 'postgres' and e['name'] == spec['name']][0]
            report = {'name': spec['name'], 'target_database': spec.get('target_database') or spec['name'],
                      'size': entry['plain_size'], 'clean': bool(spec.get('clean')), 'action': 'restored'}
            if check_mode:
                report['action'] = 'would restore'
            else:
                outcome = restore_database(spec, _checked_stream(store, chosen, entry, passphrase),
                                           _api_client_factory(params))
                report['warnings'] = outcome.get('warnings', [])
            result['databases'].append(report)
        result['changed'] = _restore_changed(result)
        return result
    except KfuseError as exc:
        failure = _explained(exc)
        # What was changed before the failure is reported, and the task says changed.
        failure.result.setdefault('changed', not check_mode and _restore_changed(result))
        for key in ('secrets', 'databases', 'files'):
            failure.result.setdefault(key, result[key])
        raise failure from exc


def _restore_changed(result):
    return (any(r['action'] in ('created', 'replaced') for r in result['secrets'])
            or any(r['action'] == 'restored' for r in result['databases'])
            or any(f['changed'] for f in result['files']))
