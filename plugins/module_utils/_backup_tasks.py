# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backup module's task, and what the backup modules share (argument specs, checks, store, Kubernetes).

``_backup_read`` holds the tasks of backup_info and backup_restore.

Each ``run_*`` takes the module's params (and check mode), returns the result dict, and raises a ``KfuseError``
(``TaskFailed`` when the failure carries result keys). Bad input raises ``OptionError`` before any write. A failure
after something was changed carries ``changed=True`` and what was changed. ``register_secret`` (the module base's)
receives every secret learned on the way (storage credentials, passwords inside DSNs). The sources come from
``_backup_sources``, the store from ``_storage_params``; the modules run the tasks through ``KfuseModule.run``.
"""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.module_utils._backup_sources import (
    check_database_spec,
    collect_secrets,
    database_item,
    file_item,
    helm_values_item,
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


def _where(params):
    return '%s/%s' % (params['prefix'].strip('/'), params['zone']) if params.get('zone') else params['prefix']


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
