# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module options that describe the backup store and its credentials, shared by the backup modules.

- ``STORAGE_ARGSPEC`` (documented by the ``cloud_storage`` doc fragment) and ``KUBE_ARGSPEC`` (the ``kube``
  fragment; its kubeconfig and context also serve ``storage_credentials_secret``).
- ``storage_config``: the options validated, naming the bad one, before any request.
- ``resolve_credentials`` / ``open_store_from_params``: the one credential source given, and the store it opens.
"""

from __future__ import annotations

import math
import os
import urllib.parse

from ansible_collections.kfuse.failover.plugins.module_utils._names import is_loopback
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

STORAGE_ARGSPEC = {
    'cloud_storage': {'type': 'dict', 'required': True},
    'storage_credentials': {'type': 'dict', 'no_log': True},
    'storage_credentials_file': {'type': 'path'},
    'storage_credentials_secret': {'type': 'dict', 'no_log': False, 'options': {
        'kubeconfig': {'type': 'path'},
        'context': {'type': 'str'},
        'namespace': {'type': 'str', 'default': 'kfuse'},
        'name': {'type': 'str', 'required': True},
    }},
    'storage_ambient': {'type': 'bool', 'default': False},
    'validate_certs': {'type': 'bool', 'default': True},
    'ca_path': {'type': 'path'},
    'server_side_encryption': {'type': 'dict', 'options': {
        's3': {'type': 'dict'},
        'gcs': {'type': 'dict'},
        'azure': {'type': 'dict'},
    }},
    'storage_timeout': {'type': 'float', 'default': 60.0},
    'allow_insecure_credentials': {'type': 'bool', 'default': False},
}

KUBE_ARGSPEC = {
    'kubeconfig': {'type': 'path'},
    'context': {'type': 'str'},
}

CREDENTIAL_OPTIONS = ('storage_credentials', 'storage_credentials_file', 'storage_credentials_secret', 'storage_ambient')
CREDENTIAL_OPTION_NAMES = {'explicit': 'storage_credentials', 'secret_data': 'storage_credentials',
                           'secret_file': 'storage_credentials_file', 'kubernetes_secret': 'storage_credentials_secret',
                           'ambient': 'storage_ambient'}
# Keys of the Kloudfuse cloud storage secret, as opposed to the collection's explicit names.
SEED_SECRET_KEYS = ('accessKey', 'secretKey', 'connectionString')


def credential_sources(params):
    """Names of the credential options that were given (storage_ambient counts only when true)."""
    given = [name for name in CREDENTIAL_OPTIONS[:3] if params.get(name)]
    if params.get('storage_ambient'):
        given.append('storage_ambient')
    return given


def storage_config(params):
    """Validated cloud_storage dict; OptionError naming the option otherwise. No request is made."""
    from ansible_collections.kfuse.failover.plugins.module_utils import storage  # pylint: disable=import-outside-toplevel
    config = storage.validate_cloud_storage(params['cloud_storage'])
    given = credential_sources(params)
    if len(given) > 1:
        raise OptionError('storage credentials: use only one of %s, got %s' % (', '.join(CREDENTIAL_OPTIONS), ', '.join(given)))
    if not given:
        raise OptionError('storage credentials: one of storage_credentials, storage_credentials_file, '
                          'storage_credentials_secret or storage_ambient=true is required')
    if params.get('storage_timeout') is not None and params['storage_timeout'] <= 0:
        raise OptionError('storage_timeout must be a positive number of seconds, got %s' % params['storage_timeout'])
    if params.get('ca_path') and not os.path.isfile(params['ca_path']):
        raise OptionError('ca_path: no such file %s' % params['ca_path'])
    if params.get('storage_timeout') is not None and not math.isfinite(params['storage_timeout']):
        raise OptionError('storage_timeout must be a finite number of seconds, got %s' % params['storage_timeout'])
    endpoint = urllib.parse.urlparse(config.get('endpoint_url') or (config.get('azure') or {}).get('account_url') or '')
    explicit = [name for name in given if name != 'storage_ambient']
    if endpoint.scheme == 'http' and explicit and not is_loopback(endpoint.hostname) \
            and not params.get('allow_insecure_credentials'):
        raise OptionError('refusing to send %s over plain http to %s; use an https endpoint or set '
                          'allow_insecure_credentials=true' % (explicit[0], endpoint.hostname))
    sse = params.get('server_side_encryption') or {}
    s3_sse = sse.get('s3') or {}
    if s3_sse and s3_sse.get('mode') not in ('AES256', 'aws:kms'):
        raise OptionError('server_side_encryption.s3.mode must be one of AES256, aws:kms, got %r' % s3_sse.get('mode'))
    return config


def resolve_credentials(params, config):
    """The normalised credentials dict of ``_credentials.resolve`` (None = ambient)."""
    from ansible_collections.kfuse.failover.plugins.module_utils import _credentials  # pylint: disable=import-outside-toplevel
    provider = config['type']
    explicit = params.get('storage_credentials')
    secret = params.get('storage_credentials_secret')
    kwargs = {}
    if explicit:
        if any(key in explicit for key in SEED_SECRET_KEYS):
            kwargs['secret_data'] = explicit
        else:
            kwargs['explicit'] = explicit
    elif params.get('storage_credentials_file'):
        kwargs['secret_file'] = params['storage_credentials_file']
    elif secret:
        secret = dict(secret)
        for option in ('kubeconfig', 'context'):
            if not secret.get(option) and params.get(option):
                secret[option] = params[option]
        kwargs['kubernetes_secret'] = secret
    else:
        kwargs['ambient'] = True
    return _credentials.resolve(provider, option_names=CREDENTIAL_OPTION_NAMES, **kwargs)


def open_store_from_params(params, config=None, register_secret=None):
    """(store, credentials) for the module's storage options. Raises OptionError, CredentialsError or StorageError.

    ``register_secret`` (the module base's) receives the credentials as soon as they are read, before any call that
    could echo them.
    """
    from ansible_collections.kfuse.failover.plugins.module_utils import storage  # pylint: disable=import-outside-toplevel
    config = config or storage_config(params)
    credentials = resolve_credentials(params, config)
    if register_secret is not None:
        from ansible_collections.kfuse.failover.plugins.module_utils import _credentials  # pylint: disable=import-outside-toplevel
        register_secret(_credentials.secret_values(credentials))
    store = storage.open_store(config, credentials=credentials,
                               server_side_encryption=params.get('server_side_encryption'),
                               validate_certs=params['validate_certs'], ca_path=params.get('ca_path'),
                               timeout=params.get('storage_timeout') or 60)
    return store, credentials


def storage_warnings(params):
    """Warnings the backup modules give about their storage options (the az modules warn the same way)."""
    warnings = []
    if not params.get('validate_certs', True):
        warnings.append('validate_certs=false: the storage endpoint certificate is not verified')
    endpoint = urllib.parse.urlparse((params.get('cloud_storage') or {}).get('endpoint_url') or '')
    if endpoint.scheme == 'http' and params.get('allow_insecure_credentials') and not is_loopback(endpoint.hostname):
        warnings.append('storage credentials are sent over plain http to %s (allow_insecure_credentials=true)'
                        % endpoint.hostname)
    return warnings
