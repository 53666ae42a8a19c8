# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""format_problem: each runbook format accepted when it fits, refused naming keys (never values) when it does not."""

from __future__ import annotations

import base64
import binascii
import json

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils._secret_formats import (
    DOCKER_CFG, DOCKER_CONFIG_JSON, FORMATS, format_problem)


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def secret(data=None, kind=None, string_data=None):
    found = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'x', 'namespace': 'kfuse'}}
    if kind is not None:
        found['type'] = kind
    if data is not None:
        found['data'] = {key: (b64(value) if isinstance(value, str) else value.raw) for key, value in data.items()}
    if string_data is not None:
        found['stringData'] = string_data
    return found


class Raw:
    """A data value given as is (not base64-encoded by the helper): for non-base64 and empty values."""

    def __init__(self, raw):
        self.raw = raw


GCS_KEY = json.dumps({'type': 'service_account', 'client_email': 'sa@proj.iam.gserviceaccount.com',
                      'private_key': '-----BEGIN PRIVATE KEY-----\nSECRET-GCS-PRIVATE\n-----END PRIVATE KEY-----\n'})
DOCKER_CONFIG = json.dumps({'auths': {'registry.example.com': {'auth': b64('robot:SECRET-REGISTRY-PW')}}})
NOT_BASE64 = 'SECRET-NOT-BASE64!!%%'


# -- what fits ----------------------------------------------------------------------------------------------------

FITTING = [
    ('s3', secret({'accessKey': 'AKIASECRETACCESS', 'secretKey': 'SECRET-S3-KEY'})),
    ('s3', secret(string_data={'accessKey': 'AKIASECRETACCESS', 'secretKey': 'SECRET-S3-KEY'})),
    ('gcs', secret({'secretKey': GCS_KEY})),
    ('azure', secret({'connectionString': 'DefaultEndpointsProtocol=https;AccountName=acct;'
                                          'AccountKey=SECRETAZUREKEY==;EndpointSuffix=core.windows.net'})),
    ('azure', secret({'connectionString': 'BlobEndpoint=https://acct.blob.core.windows.net/;'
                                          'SharedAccessSignature=sv=2022-11-02&sig=SECRETSIG'})),
    ('azure', secret({'connectionString': 'accountname=acct;accountkey=SECRETAZUREKEY'})),
    ('image_pull', secret({'.dockerconfigjson': DOCKER_CONFIG}, kind=DOCKER_CONFIG_JSON)),
    ('image_pull', secret({'.dockercfg': json.dumps({'registry.example.com': {'auth': 'x'}})}, kind=DOCKER_CFG)),
    ('postgres', secret({'postgresql-password': 'SECRET-PG'})),
    ('postgres', secret({'postgres': 'SECRET-PG-OLD'})),
    ('postgres', secret({'postgresql-password': Raw(''), 'postgres': 'SECRET-PG-OLD'})),
    ('tls', secret({'tls.crt': 'CERT', 'tls.key': 'SECRET-TLS-KEY'}, kind='kubernetes.io/tls')),
    ('sso_google', secret({'client-id': 'cid', 'client-secret': 'SECRET-CS', 'cookie-secret': 'SECRET-COOKIE'})),
    ('opaque', secret({'anything': 'SECRET-ANY'})),
    ('opaque', secret()),
    ('opaque', secret({'k': Raw(NOT_BASE64)})),
]


@pytest.mark.parametrize('fmt, found', FITTING, ids=['%s-%d' % (f, i) for i, (f, _s) in enumerate(FITTING)])
def test_fitting_secrets_have_no_problem(fmt, found):
    assert format_problem(found, fmt) is None


def test_every_format_is_covered_by_a_fitting_example():
    assert sorted({fmt for fmt, _s in FITTING}) == sorted(FORMATS)


# -- what does not fit: the message names keys ---------------------------------------------------------------------

NOT_FITTING = [
    # (format, secret, words the message must contain)
    ('s3', secret({'accessKey': 'AKIASECRETACCESS'}), ['missing: secretKey']),
    ('s3', secret({'secretKey': 'SECRET-S3-KEY'}), ['missing: accessKey']),
    ('s3', secret(), ['missing: accessKey, secretKey']),
    ('s3', secret({'accessKey': Raw(NOT_BASE64), 'secretKey': 'SECRET-S3-KEY'}), ['missing: accessKey']),
    ('s3', secret({'accessKey': Raw(''), 'secretKey': 'SECRET-S3-KEY'}), ['missing: accessKey']),
    ('s3', secret({'accessKey': '   ', 'secretKey': 'SECRET-S3-KEY'}), ['missing: accessKey']),
    ('s3', secret({'accessKey': Raw(b64('AKIA') + '\n'), 'secretKey': 'SECRET-S3-KEY'}), ['missing: accessKey']),
    ('gcs', secret({'secretKey': 'SECRET-NOT-JSON'}), ['secretKey', 'JSON object']),
    ('gcs', secret({'secretKey': '["SECRET-IN-A-LIST"]'}), ['secretKey', 'JSON object']),
    ('gcs', secret({'secretKey': Raw(NOT_BASE64)}), ['secretKey']),
    ('gcs', secret({'secretKey': Raw('')}), ['secretKey']),
    ('gcs', secret(), ['secretKey']),
    ('gcs', secret({'secretKey': json.dumps({'client_email': 'sa@x', 'private_key_id': 'SECRET-ID'})}),
     ['secretKey', 'client_email and private_key']),
    ('gcs', secret({'secretKey': json.dumps({'private_key': 'SECRET-PK'})}), ['client_email and private_key']),
    ('azure', secret(), ['connectionString must be set']),
    ('azure', secret({'connectionString': Raw(NOT_BASE64)}), ['connectionString must be set']),
    ('azure', secret({'connectionString': Raw('')}), ['connectionString must be set']),
    ('azure', secret({'connectionString': 'AccountName=acct'}), ['connectionString', 'AccountKey']),
    ('azure', secret({'connectionString': 'AccountKey=SECRETAZUREKEY'}), ['connectionString', 'AccountName']),
    ('azure', secret({'connectionString': 'SECRET-GARBAGE-NO-FIELDS'}), ['connectionString']),
    ('azure', secret({'connectionString': 'AccountName=acct;AccountKey='}), ['connectionString', 'AccountKey']),
    ('image_pull', secret({'.dockerconfigjson': DOCKER_CONFIG}), [DOCKER_CONFIG_JSON, 'got Opaque']),
    ('image_pull', secret({'.dockerconfigjson': DOCKER_CONFIG}, kind='kubernetes.io/tls'),
     [DOCKER_CONFIG_JSON, 'got kubernetes.io/tls']),
    ('image_pull', secret({'.dockerconfigjson': '{"auths": {}}'}, kind=DOCKER_CONFIG_JSON), ['.dockerconfigjson', 'auths']),
    ('image_pull', secret({'.dockerconfigjson': '{"auths": ["SECRET-LIST"]}'}, kind=DOCKER_CONFIG_JSON),
     ['.dockerconfigjson', 'auths']),
    ('image_pull', secret({'.dockerconfigjson': '{"SECRET-NO-AUTHS": 1}'}, kind=DOCKER_CONFIG_JSON),
     ['.dockerconfigjson', 'auths']),
    ('image_pull', secret({'.dockerconfigjson': 'SECRET-NOT-JSON'}, kind=DOCKER_CONFIG_JSON), ['.dockerconfigjson']),
    ('image_pull', secret({'.dockerconfigjson': Raw(NOT_BASE64)}, kind=DOCKER_CONFIG_JSON), ['.dockerconfigjson']),
    ('image_pull', secret({}, kind=DOCKER_CONFIG_JSON), ['.dockerconfigjson']),
    ('image_pull', secret({'.dockercfg': 'SECRET-NOT-JSON'}, kind=DOCKER_CFG), ['.dockercfg', 'JSON object']),
    ('image_pull', secret({'.dockercfg': Raw(NOT_BASE64)}, kind=DOCKER_CFG), ['.dockercfg']),
    ('image_pull', secret({'.dockercfg': '["SECRET-LIST"]'}, kind=DOCKER_CFG), ['.dockercfg']),
    ('image_pull', secret({'.dockerconfigjson': DOCKER_CONFIG}, kind=DOCKER_CFG), ['.dockercfg']),
    ('postgres', secret(), ['postgresql-password', 'postgres']),
    ('postgres', secret({'password': 'SECRET-WRONG-KEY'}), ['postgresql-password']),
    ('postgres', secret({'postgresql-password': Raw('')}), ['postgresql-password']),
    ('postgres', secret({'postgresql-password': Raw(NOT_BASE64), 'postgres': Raw('')}), ['postgresql-password']),
    ('tls', secret({'tls.crt': 'CERT', 'tls.key': 'SECRET-TLS-KEY'}), ['kubernetes.io/tls', 'got Opaque']),
    ('tls', secret({'tls.crt': 'CERT'}, kind='kubernetes.io/tls'), ['missing: tls.key']),
    ('tls', secret({'tls.crt': Raw(''), 'tls.key': Raw(NOT_BASE64)}, kind='kubernetes.io/tls'),
     ['missing: tls.crt, tls.key']),
    ('sso_google', secret({'client-id': 'cid', 'client-secret': 'SECRET-CS'}), ['missing: cookie-secret']),
    ('sso_google', secret({'client-id': Raw(''), 'client-secret': Raw(NOT_BASE64), 'cookie-secret': 'SECRET-COOKIE'}),
     ['missing: client-id, client-secret']),
]


def _values(found):
    """Every value of the secret as given and as decoded text (when it decodes)."""
    values = []
    for raw in list((found.get('data') or {}).values()) + list((found.get('stringData') or {}).values()):
        if raw.strip():
            values.append(raw)
        try:
            text = base64.b64decode(raw, validate=True).decode('utf-8')
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue
        values.extend(part for part in [text] + text.split(';') if len(part.strip()) > 3)
    return values


@pytest.mark.parametrize('fmt, found, words', NOT_FITTING,
                         ids=['%s-%d' % (f, i) for i, (f, _s, _w) in enumerate(NOT_FITTING)])
def test_problems_name_keys_and_never_a_value(fmt, found, words):
    problem = format_problem(found, fmt)
    assert isinstance(problem, str) and problem
    for word in words:
        assert word in problem
    for value in _values(found):
        assert value not in problem


def test_the_value_check_itself_sees_secret_values():
    # guards the test above: _values must return the decoded secret parts it is meant to look for
    values = _values(secret({'connectionString': 'AccountKey=SECRETAZUREKEY', 'k': Raw(NOT_BASE64)}))
    assert 'AccountKey=SECRETAZUREKEY' in values and NOT_BASE64 in values


def test_string_data_is_folded_in_like_the_api_server():
    found = secret({'client-id': 'cid'}, string_data={'client-secret': 'SECRET-CS', 'cookie-secret': 'SECRET-COOKIE'})
    assert format_problem(found, 'sso_google') is None
    found = secret(string_data={'tls.crt': 'CERT'}, kind='kubernetes.io/tls')
    assert format_problem(found, 'tls') == 'keys tls.crt and tls.key must be set (missing: tls.key)'


def test_empty_data_and_null_data_are_missing_keys():
    assert 'missing: accessKey, secretKey' in format_problem({'metadata': {'name': 'x'}, 'data': None}, 's3')
    assert format_problem({'metadata': {'name': 'x'}, 'data': {}}, 'postgres') == \
        'key postgresql-password (or the older postgres) must be set'


def test_a_secret_with_an_unknown_type_for_image_pull_names_the_type_not_data():
    found = secret({'.dockerconfigjson': DOCKER_CONFIG}, kind='example.com/custom')
    assert format_problem(found, 'image_pull') == \
        'type must be kubernetes.io/dockerconfigjson (a docker-registry secret), got example.com/custom'


def test_non_utf8_data_is_treated_as_missing():
    found = secret({'accessKey': Raw(base64.b64encode(b'\xff\xfe\xfd').decode()), 'secretKey': 'SECRET-S3-KEY'})
    assert format_problem(found, 's3') == 'keys accessKey and secretKey must be set (missing: accessKey)'


def test_non_ascii_data_is_treated_as_missing():
    found = secret({'accessKey': Raw('\u00e9t\u00e9'), 'secretKey': 'SECRET-S3-KEY'})
    assert format_problem(found, 's3') == 'keys accessKey and secretKey must be set (missing: accessKey)'
