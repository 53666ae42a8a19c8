# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the ``secret_sync`` module does: wanted secrets from values or a source cluster, checked, applied.

Private to the collection.
"""

from __future__ import annotations

import base64
import binascii

from ansible_collections.kfuse.failover.plugins.module_utils import kube
from ansible_collections.kfuse.failover.plugins.module_utils._secret_formats import format_problem
from ansible_collections.kfuse.failover.plugins.module_utils._secrets import (
    api_call, api_exception, apply_secrets, connection_errors, portable_secret, secret_data, secret_type)
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError, OptionError, SourceError

# 'kept', not 'skipped': Ansible reads a result key named skipped as "this task was skipped"
ACTION_LISTS = ('created', 'updated', 'unchanged', 'kept', 'missing')


def secret_from_value(name, value):
    """A Secret (API form) from a user-given ``value`` dict: type, data (base64), string_data (plain)."""
    unknown = sorted(set(value) - {'type', 'data', 'string_data'})
    if unknown:
        raise OptionError('secrets[%s].value: unknown keys %s; accepted: type, data, string_data'
                          % (name, ', '.join(unknown)))
    data = {}
    for key, item in (value.get('data') or {}).items():
        try:
            base64.b64decode(str(item), validate=True)
        except (binascii.Error, ValueError):
            raise OptionError('secrets[%s].value.data.%s must be base64 (use string_data for plain text)'
                              % (name, key)) from None
        data[key] = str(item)
    secret = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': name}, 'type': value.get('type') or 'Opaque',
              'data': data}
    if value.get('string_data'):
        secret['stringData'] = {key: str(item) for key, item in value['string_data'].items()}
    secret['data'] = secret_data(secret)
    secret.pop('stringData', None)
    return secret


def _decoded_values(secret):
    """Every value of the secret in base64 and as text, for masking."""
    found = []
    for raw in secret_data(secret).values():
        found.append(raw)
        try:
            found.append(base64.b64decode(raw).decode('utf-8'))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            pass
    return found


class _Cluster:
    """One namespace of one cluster: read a secret (None when absent), list by label selector."""

    def __init__(self, kubeconfig, context, namespace, side):
        self.namespace = namespace
        self.side = side  # source or target: the errors' cluster key, so a role knows which side failed
        self.what = '%s cluster' % side
        try:
            self.core = kube.k8s_client.CoreV1Api(kube.new_api_client(kubeconfig, context))
        except KfuseError as exc:
            raise SourceError('cannot reach the %s: %s' % (self.what, exc), cluster=side) from None

    def read(self, name):
        try:
            found = self.core.read_namespaced_secret(name, self.namespace)
        except api_exception() as exc:
            if exc.status == 404:
                return None
            raise SourceError('cannot read secret %s/%s in the %s: %s %s'
                              % (self.namespace, name, self.what, exc.status, exc.reason),
                              cluster=self.side) from None
        except connection_errors() as exc:
            # cluster tells a role which side failed: an unreachable source is what emergency mode works around
            raise SourceError('cannot reach the %s to read secret %s/%s: %s'
                              % (self.what, self.namespace, name, exc), cluster=self.side) from None
        return self.core.api_client.sanitize_for_serialization(found)

    def select(self, selector):
        try:
            found = api_call('cannot list secrets %s in the %s' % (selector, self.what),
                             self.core.list_namespaced_secret, self.namespace, label_selector=selector)
        except SourceError as exc:
            raise SourceError(str(exc), cluster=self.side) from None
        return [self.core.api_client.sanitize_for_serialization(item) for item in found.items]


def _shape(secret):
    """What a diff may show of a secret: its type and key names."""
    if secret is None:
        return None
    return {'type': secret_type(secret), 'keys': sorted(secret_data(secret))}


def sync_secrets(params, check_mode=False, diff=False, register_secret=lambda *values: None):
    """The module's work; returns its result or raises a KfuseError (OptionError before any change)."""
    entries = [dict(entry) for entry in params['secrets']]
    names = [entry['name'] for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise OptionError('secrets: each name once; repeated: %s' % ', '.join(duplicates))
    if params['selectors'] and not params['source']:
        raise OptionError('selectors: copying by label needs source (the cluster to copy from)')

    wanted = {}
    for entry in entries:
        if entry.get('value') is not None:
            wanted[entry['name']] = ('value', secret_from_value(entry['name'], entry['value']))
    source = params['source']
    if source:
        origin = _Cluster(source.get('kubeconfig'), source.get('context'), source['namespace'], 'source')
        for entry in entries:
            if entry['name'] not in wanted:
                found = origin.read(entry['name'])
                if found is not None:
                    wanted[entry['name']] = ('source', portable_secret(found))
        for selector in params['selectors']:
            for found in origin.select(selector):
                name = found['metadata']['name']
                if name not in names:
                    names.append(name)
                    entries.append({'name': name, 'format': 'opaque', 'required': False})
                    wanted[name] = ('source', portable_secret(found))
    for _origin, secret in wanted.values():
        register_secret(_decoded_values(secret))

    problems = ['%s: %s' % (name, format_problem(secret, entry['format']))
                for entry in entries for name in [entry['name']] if name in wanted
                for secret in [wanted[name][1]] if format_problem(secret, entry['format'])]
    if problems:
        raise OptionError('secrets: wanted content does not fit its format, nothing was changed: %s'
                          % '; '.join(problems), problems=problems)

    target = _Cluster(params['kubeconfig'], params['context'], params['namespace'], 'target')
    current = {name: target.read(name) for name in names}
    for secret in current.values():
        if secret is not None:
            register_secret(_decoded_values(secret))

    reports, before, after = [], {}, {}
    for entry in entries:
        name = entry['name']
        report = {'name': name, 'namespace': params['namespace'], 'format': entry['format'],
                  'required': entry.get('required', True)}
        if name in wanted:
            origin, secret = wanted[name]
            report['origin'] = origin
            report['action'] = apply_secrets(target.core, [secret], namespace=params['namespace'],
                                             overwrite=params['force'], check_mode=check_mode)[0]['action']
            if report['action'] in ('created', 'updated'):
                before[name], after[name] = _shape(current[name]), _shape(secret)
        elif current[name] is not None:
            report.update(origin='target', action='present')
            problem = format_problem(current[name], entry['format'])
            if problem:
                report['problem'] = problem
        else:
            report.update(origin='none', action='missing')
        reports.append(report)

    result = {'changed': any(r['action'] in ('created', 'updated') for r in reports), 'secrets': reports}
    for action in ACTION_LISTS:
        result[action] = [r['name'] for r in reports if r['action'] == action
                          or (action == 'unchanged' and r['action'] == 'present')]
    if diff:
        result['diff'] = {'before': before, 'after': after}
    invalid = ['%s: %s' % (r['name'], r['problem']) for r in reports if r.get('problem')]
    if invalid:
        raise KfuseError('secrets in namespace %s do not fit their format: %s' % (params['namespace'], '; '.join(invalid)),
                         **result)
    lacking = [r['name'] for r in reports if r['action'] == 'missing' and r['required']]
    if lacking and params['fail_on_missing']:
        raise KfuseError('required secrets found nowhere (no value, not in the source, not in namespace %s): %s'
                         % (params['namespace'], ', '.join(lacking)), **result)
    return result
