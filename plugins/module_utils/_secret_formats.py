# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The formats of the secrets a Kloudfuse install reads, checked before a failover depends on them.

Private to the collection. Names and keys are the vendor runbook's (shared/kloudfuse-facts.md):

- ``s3``: ``accessKey`` and ``secretKey``; ``gcs``: ``secretKey`` holding a service-account key JSON;
  ``azure``: ``connectionString`` with an account and a key or SAS (all three: ``cloud-storage-secret``);
- ``image_pull``: a ``kubernetes.io/dockerconfigjson`` secret whose ``.dockerconfigjson`` has ``auths``;
- ``postgres``: ``postgresql-password`` (or the older ``postgres`` key);
- ``tls``: a ``kubernetes.io/tls`` secret with ``tls.crt`` and ``tls.key``;
- ``sso_google``: ``client-id``, ``client-secret``, ``cookie-secret``; ``opaque``: any data.

``format_problem(secret, fmt)`` returns what is wrong (a sentence naming keys, never a value) or None.
"""

from __future__ import annotations

import base64
import binascii
import json

from ansible_collections.kfuse.failover.plugins.module_utils._secrets import secret_data, secret_type

FORMATS = ('s3', 'gcs', 'azure', 'image_pull', 'postgres', 'tls', 'sso_google', 'opaque')
DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson'
DOCKER_CFG = 'kubernetes.io/dockercfg'


def _decoded(data, key):
    """The text of ``data[key]`` (base64), or None when absent, empty or not decodable."""
    raw = data.get(key)
    if not raw:
        return None
    try:
        text = base64.b64decode(raw, validate=True).decode('utf-8')
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return text if text.strip() else None


def _missing(data, keys):
    return [key for key in keys if _decoded(data, key) is None]


def _json_object(text):
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _check_s3(secret, data):
    missing = _missing(data, ('accessKey', 'secretKey'))
    return 'keys accessKey and secretKey must be set (missing: %s)' % ', '.join(missing) if missing else None


def _check_gcs(secret, data):
    key = _json_object(_decoded(data, 'secretKey'))
    if key is None:
        return 'key secretKey must hold a service-account key JSON object'
    if not key.get('client_email') or not key.get('private_key'):
        return 'key secretKey must be a service-account key (client_email and private_key)'
    return None


def _check_azure(secret, data):
    text = _decoded(data, 'connectionString')
    if text is None:
        return 'key connectionString must be set'
    fields = {}
    for part in text.split(';'):
        name, sep, value = part.partition('=')
        if sep:
            fields[name.strip().lower()] = value
    has_account = fields.get('accountname') or fields.get('blobendpoint')
    has_credential = fields.get('accountkey') or fields.get('sharedaccesssignature')
    if not (has_account and has_credential):
        return 'key connectionString must name AccountName (or BlobEndpoint) and AccountKey (or SharedAccessSignature)'
    return None


def _check_image_pull(secret, data):
    kind = secret_type(secret)
    if kind == DOCKER_CFG:
        return None if _json_object(_decoded(data, '.dockercfg')) else 'key .dockercfg must hold a JSON object'
    if kind != DOCKER_CONFIG_JSON:
        return 'type must be %s (a docker-registry secret), got %s' % (DOCKER_CONFIG_JSON, kind)
    config = _json_object(_decoded(data, '.dockerconfigjson'))
    if config is None or not isinstance(config.get('auths'), dict) or not config['auths']:
        return 'key .dockerconfigjson must hold a JSON object with at least one entry under auths'
    return None


def _check_postgres(secret, data):
    if _decoded(data, 'postgresql-password') or _decoded(data, 'postgres'):
        return None
    return 'key postgresql-password (or the older postgres) must be set'


def _check_tls(secret, data):
    if secret_type(secret) != 'kubernetes.io/tls':
        return 'type must be kubernetes.io/tls, got %s' % secret_type(secret)
    missing = _missing(data, ('tls.crt', 'tls.key'))
    return 'keys tls.crt and tls.key must be set (missing: %s)' % ', '.join(missing) if missing else None


def _check_sso_google(secret, data):
    missing = _missing(data, ('client-id', 'client-secret', 'cookie-secret'))
    return 'keys client-id, client-secret and cookie-secret must be set (missing: %s)' % ', '.join(missing) \
        if missing else None


_CHECKS = {
    's3': _check_s3, 'gcs': _check_gcs, 'azure': _check_azure, 'image_pull': _check_image_pull,
    'postgres': _check_postgres, 'tls': _check_tls, 'sso_google': _check_sso_google,
    'opaque': lambda secret, data: None,
}


def format_problem(secret, fmt):
    """What is wrong with ``secret`` (API form) for format ``fmt`` (one of FORMATS), or None when it fits."""
    return _CHECKS[fmt](secret, secret_data(secret))
