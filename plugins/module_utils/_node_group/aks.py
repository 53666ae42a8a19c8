# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AKS agent pools through Azure Resource Manager with azure-identity credentials.

- The pool: ``GET {api_url}/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/
  managedClusters/C/agentPools/P?api-version=V`` (``properties.count``, ``provisioningState``, ``mode``,
  ``enableAutoScaling``, ``powerState``).
- The change: Agent Pools - Create Or Update, a ``PUT`` of the pool as read with ``properties.count`` changed
  (``If-Match`` its ``eTag`` when it has one), answered with the pool in ``Scaling`` and an
  ``Azure-AsyncOperation`` URL polled until ``Succeeded`` (``Failed``/``Canceled`` carry an ``error``).
  409 (another operation on the pool) and 412 (the pool changed meanwhile) are retried after a fresh read.
- Tokens: ``ClientSecretCredential`` when ``client_id``/``client_secret``/``tenant_id`` are given,
  ``DefaultAzureCredential`` otherwise (environment, workload identity, managed identity, Azure CLI), for the scope
  ``<api_url>/.default``.
"""

from __future__ import annotations

import logging
import time
import traceback
import urllib.parse

from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import (
    GroupState, NodeGroupProvider, Progress)
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.rest import (
    HAS_REQUESTS, TRANSIENT_STATUS, RestClient)
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import GroupSizes
from ansible_collections.kfuse.failover.plugins.module_utils.errors import NodeGroupError, OptionError

try:
    from azure.core import exceptions as azure_exceptions
    from azure.identity import ClientSecretCredential, DefaultAzureCredential
    HAS_AZURE_IDENTITY = True
    AZURE_IDENTITY_IMPORT_ERROR = None
except ImportError:
    HAS_AZURE_IDENTITY = False
    AZURE_IDENTITY_IMPORT_ERROR = traceback.format_exc()

# azure-identity logs failed token requests as warnings; the module reports them itself.
logging.getLogger('azure.identity').addHandler(logging.NullHandler())
logging.getLogger('azure.identity').propagate = False

AKS_LABEL = 'kubernetes.azure.com/agentpool'
DEFAULT_API_URL = 'https://management.azure.com'
# A generally available Microsoft.ContainerService API version; override with api_version.
DEFAULT_API_VERSION = '2025-08-01'
# Entra ID hosts MSAL knows; any other authority_host (Azure Stack, a stand-in) is used without instance discovery.
KNOWN_AUTHORITY_HOSTS = ('login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn',
                         'login.partner.microsoftonline.cn', 'login.microsoftonline.de', 'login.windows.net',
                         'login.microsoft.com', 'sts.windows.net')
POOL_BUSY = frozenset(('Creating', 'Updating', 'Scaling', 'Upgrading', 'Starting', 'Stopping', 'Migrating',
                       'Canceling', 'Reconciling'))
POOL_REFUSED = frozenset(('Deleting',))
# Read-only properties of an agent pool, left out of the PUT.
READ_ONLY = ('provisioningState', 'nodeImageVersion', 'currentOrchestratorVersion', 'eTag')
OPERATION_FAILED = frozenset(('Failed', 'Canceled', 'Cancelled'))


def azure_token(params, register_secret, provider='aks'):
    """A token function for ARM: ClientSecretCredential or DefaultAzureCredential, scope ``<api_url>/.default``."""
    if not (HAS_AZURE_IDENTITY and HAS_REQUESTS):
        raise NodeGroupError('the azure-identity and requests Python libraries are required for provider aks',
                             provider=provider, code='MissingLibrary')
    kwargs = {}
    if not params.get('validate_certs', True):
        kwargs['connection_verify'] = False
    elif params.get('ca_path'):
        kwargs['connection_verify'] = params['ca_path']
    authority = params.get('authority_host')
    if authority:
        kwargs['authority'] = authority
        if urllib.parse.urlsplit(authority).hostname not in KNOWN_AUTHORITY_HOSTS:
            kwargs['disable_instance_discovery'] = True
    try:
        if params.get('client_id'):
            credential = ClientSecretCredential(params['tenant_id'], params['client_id'], params['client_secret'],
                                                **kwargs)
        else:
            credential = DefaultAzureCredential(**kwargs)
    except ValueError as exc:
        raise OptionError('tenant_id, client_id, client_secret, authority_host: %s' % exc) from None
    scope = params['api_url'] + '/.default'
    cached = {}

    def token():
        if not cached or cached['expires_on'] - 120 < time.time():
            try:
                access = credential.get_token(scope)
            except azure_exceptions.ClientAuthenticationError as exc:
                raise NodeGroupError('cannot get an Azure access token for %s: %s' % (scope, ' '.join(str(exc).split())),
                                     provider=provider, code='AuthenticationFailed') from None
            except azure_exceptions.AzureError as exc:
                raise NodeGroupError('cannot get an Azure access token for %s: %s' % (scope, exc), provider=provider,
                                     code=type(exc).__name__, transient=True) from None
            register_secret(access.token)
            cached.update(token=access.token, expires_on=access.expires_on)
        return cached['token']

    return token


def _arm_error(answer):
    """(code, message) of an Azure Resource Manager error body."""
    error = answer.body.get('error') if isinstance(answer.body, dict) else None
    if isinstance(error, dict):
        return str(error.get('code') or answer.status), ' '.join(str(error.get('message') or '').split())
    return str(answer.status), answer.text


class AksAgentPool(NodeGroupProvider):
    """An AKS agent pool."""

    key = 'aks'
    label = AKS_LABEL
    bounded = False
    change_key = 'operation'
    kind = 'AKS agent pool'

    def __init__(self, api_url, subscription_id, resource_group, cluster, name, token, api_version=DEFAULT_API_VERSION,
                 verify=True, timeout=60.0):
        super().__init__(name, cluster)
        self.resource_group = resource_group
        self.api_version = api_version
        self.rest = RestClient(api_url, token, self.error, verify=verify, timeout=timeout)
        self.pool_url = ('%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/'
                         '%s/agentPools/%s' % (api_url, subscription_id, resource_group, cluster, name))
        self._operations = {}

    def describe(self):
        return 'AKS agent pool %s of cluster %s (resource group %s)' % (self.name, self.cluster, self.resource_group)

    def _checked(self, answer, action):
        if answer.status < 400 and isinstance(answer.body, dict):
            return answer.body
        if answer.status < 400:
            raise self.error('%s: the answer is not a JSON object: %s' % (action, answer.text), code='BadAnswer')
        code, message = _arm_error(answer)
        raise self.error('%s failed: %s %s: %s' % (action, answer.status, code, message), code=code,
                         transient=answer.status in TRANSIENT_STATUS, busy=answer.status in (409, 412),
                         retry_after=answer.retry_after)

    def _get_pool(self):
        answer = self.rest.call('GET', self.pool_url, params={'api-version': self.api_version})
        return self._checked(answer, 'GET the agent pool')

    def read(self):
        pool = self._get_pool()
        properties = pool.get('properties') or {}
        state = properties.get('provisioningState')
        details = {'pool': pool, 'mode': properties.get('mode'),
                   'autoscaling': bool(properties.get('enableAutoScaling')),
                   'min_count': properties.get('minCount'), 'max_count': properties.get('maxCount'),
                   'power_state': (properties.get('powerState') or {}).get('code')}
        return GroupState(GroupSizes(None, None, properties.get('count')), status=state, busy=state in POOL_BUSY,
                          details=details)

    def check_change(self, state, wanted):
        details = state.details
        if details.get('autoscaling'):
            raise self.error('the cluster autoscaler is enabled (minCount %s, maxCount %s): it owns the pool\'s size; '
                             'use provider=none to only wait for nodes, or disable autoscaling on the pool'
                             % (details.get('min_count'), details.get('max_count')), code='AutoscalingEnabled')
        if details.get('mode') == 'System' and wanted.desired_size == 0:
            raise OptionError('size=0 is not allowed for %s: a System pool keeps at least 1 node (AKS accepts 1 to '
                              '1000); scale a User pool to 0 instead' % self.describe())
        if wanted.desired_size > 1000:
            raise OptionError('size=%d is above 1000, the most nodes an AKS agent pool holds' % wanted.desired_size)
        if state.status in POOL_REFUSED:
            raise self.error('the agent pool is %s and cannot be resized' % state.status, code=state.status)
        if details.get('power_state') == 'Stopped':
            raise self.error('the agent pool is stopped; start it before scaling it', code='PoolStopped')

    def resize(self, state, wanted):
        pool = state.details.get('pool') or {}
        properties = dict(pool.get('properties') or {})
        etag = properties.get('eTag')
        for key in READ_ONLY:
            properties.pop(key, None)
        properties['count'] = wanted.desired_size
        headers = {'If-Match': etag} if etag else None
        answer = self.rest.call('PUT', self.pool_url, body={'properties': properties},
                                params={'api-version': self.api_version}, headers=headers)
        self._checked(answer, 'PUT the agent pool (create or update)')
        url = answer.headers.get('Azure-AsyncOperation')
        if not url:
            return None
        name = urllib.parse.urlsplit(url).path.rstrip('/').rsplit('/', 1)[-1]
        self._operations[name] = url
        return name

    def progress(self, change_id):
        state = self.read()
        settled = not state.busy
        failure = op_status = None
        if state.status == 'Failed':
            failure = '%s is in provisioningState Failed' % self.describe()
        url = self._operations.get(change_id) if change_id else None
        if url:
            operation = self._checked(self.rest.call('GET', url), 'GET operation %s' % change_id)
            op_status = operation.get('status')
            if op_status in OPERATION_FAILED:
                error = operation.get('error') or {}
                failure = 'AKS operation %s on %s is %s: %s %s' % (
                    change_id, self.describe(), op_status, error.get('code') or '', error.get('message') or '')
            settled = settled and op_status == 'Succeeded'
        settled = settled and state.status == 'Succeeded'
        return Progress(state, settled, failure, op_status)
