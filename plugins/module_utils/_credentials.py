# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Cloud-storage credentials from exactly one source, normalised per provider.

Sources: explicit values (module options marked no_log), the seed's ``cloud-storage-secret`` format given as a
variable (``secret_data``), a file (``secret_file``) or a Kubernetes secret read through the API
(``kubernetes_secret``), or ambient credentials (instance role, workload identity, the SDK's default chain).

The seed's secret keys: S3 ``accessKey`` + ``secretKey``; GCS ``secretKey`` (the service-account JSON);
Azure ``connectionString``. Error messages name options and keys, never values.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import unquote

from ansible_collections.kfuse.failover.plugins.module_utils.errors import CredentialsError

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False


PROVIDERS = ('s3', 'gcs', 'azure')
SEED_KEYS = {'s3': ('accessKey', 'secretKey'), 'gcs': ('secretKey',), 'azure': ('connectionString',)}
DEFAULT_OPTION_NAMES = {'explicit': 'credentials', 'secret_data': 'secret_data', 'secret_file': 'secret_file',
                        'kubernetes_secret': 'kubernetes_secret', 'ambient': 'ambient_credentials'}
_EXPLICIT_KEYS = {
    's3': ('access_key', 'secret_key', 'session_token'),
    'gcs': ('service_account_info',),
    'azure': ('connection_string', 'account_key', 'account_name', 'account_url', 'sas_token'),
}


def resolve(provider, explicit=None, secret_data=None, secret_file=None, kubernetes_secret=None, ambient=False,
            option_names=None):
    """Credentials for ``provider`` from exactly one source; None means ambient credentials.

    Returns {'access_key', 'secret_key', 'session_token'} (s3) | {'service_account_info': dict} (gcs) |
    {'connection_string'} or {'account_url', 'account_name', 'account_key' | 'sas_token'} (azure).
    ``option_names`` maps the source names above to the caller's option names for error messages.
    """
    names = dict(DEFAULT_OPTION_NAMES, **(option_names or {}))
    if provider not in PROVIDERS:
        raise CredentialsError('cloud_storage.type must be one of %s, got %r' % (', '.join(PROVIDERS), provider))
    given = [source for source, value in (('explicit', explicit), ('secret_data', secret_data),
                                          ('secret_file', secret_file), ('kubernetes_secret', kubernetes_secret),
                                          ('ambient', ambient)) if value]
    if len(given) > 1:
        raise CredentialsError('credentials come from exactly one source, but %s were all given; choose one of them'
                               % ' and '.join(names[source] for source in given))
    if not given:
        raise CredentialsError('no cloud storage credentials: give one of %s, or set %s=true to use the ambient '
                               'ones (instance role, workload identity, default chain)'
                               % (', '.join(names[source] for source in ('explicit', 'secret_data', 'secret_file',
                                                                         'kubernetes_secret')), names['ambient']))
    source = given[0]
    if source == 'ambient':
        return None
    if source == 'explicit':
        return from_explicit(provider, explicit, names['explicit'])
    if source == 'secret_data':
        return from_seed_format(provider, secret_mapping(secret_data, names['secret_data']), names['secret_data'])
    if source == 'secret_file':
        return from_file(provider, secret_file, names['secret_file'])
    return from_kubernetes_secret(provider, kubernetes_secret, names['kubernetes_secret'])


def _text(value, where):
    if isinstance(value, bytes):
        try:
            value = value.decode('utf-8')
        except UnicodeDecodeError:
            raise CredentialsError('%s is not UTF-8 text' % where) from None
    if not isinstance(value, str) or not value.strip():
        raise CredentialsError('%s must be a non-empty string' % where)
    return value.strip()


def service_account_info(value, where):
    """A service-account JSON (dict or JSON text) checked for the fields google-auth needs."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(_text(value, where))
        except ValueError:
            raise CredentialsError('%s is not valid JSON (expected a GCS service-account key file)' % where) from None
    if not isinstance(value, dict):
        raise CredentialsError('%s must be a service-account JSON object' % where)
    if value.get('type') != 'service_account':
        raise CredentialsError('%s must be a service-account key (type "service_account"), got type %r'
                               % (where, value.get('type')))
    missing = [field for field in ('client_email', 'private_key', 'token_uri') if not value.get(field)]
    if missing:
        raise CredentialsError('%s lacks %s' % (where, ', '.join(missing)))
    return value


def from_explicit(provider, explicit, where='credentials'):
    """Normalise explicit credentials (the module's no_log options)."""
    if not isinstance(explicit, dict):
        raise CredentialsError('%s must be a dict' % where)
    values = {key: value for key, value in explicit.items() if value not in (None, '')}
    unknown = sorted(set(values) - set(_EXPLICIT_KEYS[provider]))
    if unknown:
        raise CredentialsError('%s for %s accepts %s; unknown: %s'
                               % (where, provider, ', '.join(_EXPLICIT_KEYS[provider]), ', '.join(unknown)))
    if provider == 's3':
        missing = [key for key in ('access_key', 'secret_key') if key not in values]
        if missing:
            raise CredentialsError('%s for s3 needs access_key and secret_key (missing %s)' % (where, ', '.join(missing)))
        result = {key: _text(values[key], '%s.%s' % (where, key)) for key in ('access_key', 'secret_key')}
        result['session_token'] = _text(values['session_token'], where + '.session_token') \
            if 'session_token' in values else None
        return result
    if provider == 'gcs':
        if 'service_account_info' not in values:
            raise CredentialsError('%s for gcs needs service_account_info (the service-account JSON)' % where)
        return {'service_account_info': service_account_info(values['service_account_info'],
                                                             where + '.service_account_info')}
    kinds = [key for key in ('connection_string', 'account_key', 'sas_token') if key in values]
    if len(kinds) != 1:
        raise CredentialsError('%s for azure needs exactly one of connection_string, account_key, sas_token%s'
                               % (where, '' if not kinds else ' (got %s)' % ', '.join(kinds)))
    if kinds[0] == 'connection_string':
        extra = sorted(set(values) - {'connection_string'})
        if extra:
            raise CredentialsError('%s: connection_string cannot be combined with %s' % (where, ', '.join(extra)))
        return {'connection_string': _connection_string(values['connection_string'], where + '.connection_string')}
    result = {kinds[0]: _text(values[kinds[0]], '%s.%s' % (where, kinds[0]))}
    for key in ('account_url', 'account_name'):
        if key in values:
            result[key] = _text(values[key], '%s.%s' % (where, key))
    return result


def _connection_string(value, where):
    text = _text(value, where)
    names = {item.partition('=')[0].strip() for item in text.split(';') if item.strip()}
    if not names & {'AccountKey', 'SharedAccessSignature', 'UseDevelopmentStorage'}:
        raise CredentialsError('%s must be an Azure storage connection string with AccountKey or '
                               'SharedAccessSignature' % where)
    return text


def secret_mapping(data, where):
    """The key -> text mapping of the seed's secret: plain values, or a Secret manifest (base64 ``data``)."""
    if not isinstance(data, dict):
        raise CredentialsError('%s must be a mapping of the secret keys (e.g. accessKey, secretKey)' % where)
    if data.get('kind') == 'Secret' or isinstance(data.get('data'), dict) or isinstance(data.get('stringData'), dict):
        mapping = {}
        for key, value in (data.get('data') or {}).items():
            mapping[key] = _b64(value, '%s.data.%s' % (where, key))
        mapping.update(data.get('stringData') or {})
        return mapping
    return dict(data)


def _b64(value, where):
    try:
        return base64.b64decode(value or '', validate=True).decode('utf-8')
    except (binascii.Error, ValueError, TypeError):
        raise CredentialsError('%s is not base64-encoded UTF-8 (Kubernetes secret data)' % where) from None


def from_seed_format(provider, mapping, where):
    """Normalise the seed's cloud-storage-secret keys for ``provider``."""
    needed = SEED_KEYS[provider]
    missing = [key for key in needed if not mapping.get(key)]
    if missing:
        raise CredentialsError('%s lacks %s (the %s secret holds %s)'
                               % (where, ', '.join(missing), provider, ' and '.join(needed)))
    if provider == 's3':
        return {'access_key': _text(mapping['accessKey'], where + '.accessKey'),
                'secret_key': _text(mapping['secretKey'], where + '.secretKey'), 'session_token': None}
    if provider == 'gcs':
        return {'service_account_info': service_account_info(mapping['secretKey'], where + '.secretKey')}
    return {'connection_string': _connection_string(mapping['connectionString'], where + '.connectionString')}


def from_file(provider, path, where='secret_file'):
    """Read the seed format (JSON or YAML mapping, or a Secret manifest) or, for gcs, the service-account JSON."""
    if not isinstance(path, str):
        raise CredentialsError('%s must be a file path' % where)
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError('%s: cannot read %s: %s' % (where, path, getattr(exc, 'strerror', None) or
                                                           type(exc).__name__)) from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
        if HAS_YAML:
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError:
                data = None
    if not isinstance(data, dict):
        raise CredentialsError('%s: %s is not a JSON or YAML mapping of the secret keys' % (where, path))
    if provider == 'gcs' and data.get('type') == 'service_account':
        return {'service_account_info': service_account_info(data, '%s (%s)' % (where, path))}
    return from_seed_format(provider, secret_mapping(data, where), '%s (%s)' % (where, path))


def from_kubernetes_secret(provider, spec, where='kubernetes_secret'):
    """Read the seed's secret through the Kubernetes API: spec = {kubeconfig, context, namespace, name}."""
    if not isinstance(spec, dict) or not spec.get('name'):
        raise CredentialsError('%s must be a dict with name (and optionally kubeconfig, context, namespace)' % where)
    unknown = sorted(set(spec) - {'kubeconfig', 'context', 'namespace', 'name'})
    if unknown:
        raise CredentialsError('%s accepts kubeconfig, context, namespace and name; unknown: %s'
                               % (where, ', '.join(unknown)))
    namespace = spec.get('namespace') or 'default'
    label = '%s %s/%s' % (where, namespace, spec['name'])
    # Imported here: the kubernetes client costs about 0.4 s and 20 MB, which only this credential source needs.
    from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
    try:
        api_client = kube.new_api_client(spec.get('kubeconfig'), spec.get('context'))
    except kube.KubeError as exc:
        raise CredentialsError('%s: %s' % (label, exc)) from None
    try:
        secret = kube.k8s_client.CoreV1Api(api_client).read_namespaced_secret(spec['name'], namespace)
    except kube.ApiException as exc:
        reason = 'not found' if exc.status == 404 else '%s %s' % (exc.status, exc.reason)
        raise CredentialsError('cannot read secret %s: %s' % (label, reason)) from None
    except (OSError, kube.Urllib3HTTPError) as exc:
        raise CredentialsError('cannot reach the Kubernetes API to read secret %s: %s'
                               % (label, type(exc).__name__)) from None
    finally:
        api_client.close()
    mapping = {key: _b64(value, '%s key %s' % (label, key)) for key, value in (secret.data or {}).items()}
    return from_seed_format(provider, mapping, 'secret ' + label)


# Keys whose values are secrets, in every provider's credentials (GCS: inside service_account_info).
SECRET_KEYS = ('secret_key', 'session_token', 'account_key', 'sas_token', 'connection_string', 'private_key',
               'private_key_id', 'client_secret', 'refresh_token')
_EMBEDDED_SECRET = re.compile(r'(?:^|[?&;\s])(?:sig|AccountKey|SharedAccessSignature)=([^&;\s]+)', re.IGNORECASE)


def secret_values(credentials):
    """Every secret string of resolved ``credentials`` for the module base's ``register_secret``.

    Identifiers (access key ids, account and project names, client e-mails) are not secrets and are not listed, so
    Ansible does not mask them everywhere. Keys and signatures embedded in a connection string or SAS token are
    listed on their own as well (URL-decoded too), since a library may echo them apart from the whole string.
    """
    found = []
    for key, value in (credentials or {}).items():
        if isinstance(value, dict):
            found.extend(secret_values(value))
        elif key in SECRET_KEYS and isinstance(value, str) and value:
            found.append(value)
            for embedded in _EMBEDDED_SECRET.findall(value):
                found.extend([embedded, unquote(embedded)])
    return found
