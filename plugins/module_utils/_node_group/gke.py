# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""GKE node pools through the Kubernetes Engine REST API (v1) with google-auth credentials.

- The pool: ``GET {api_url}/v1/projects/P/locations/L/clusters/C/nodePools/NP`` (``status``, ``autoscaling``,
  ``instanceGroupUrls``). A NodePool carries no current size: it is the ``targetSize`` of each of its instance
  group managers (Compute API, the ``instanceGroupUrls`` with ``instanceGroups`` read as
  ``instanceGroupManagers``), one per zone of the pool.
- The change: ``POST .../nodePools/NP:setSize`` ``{"nodeCount": N}`` answers an Operation, polled at
  ``{api_url}/v1/projects/P/locations/L/operations/OP`` until ``DONE`` (its ``error`` when it failed). GKE runs one
  operation per cluster at a time (400 ``FAILED_PRECONDITION`` "running incompatible operation" meanwhile).
- ``nodeCount`` is per zone of the pool, as GKE applies it; the module's pools are one zone's, so the size of the
  pool in that zone is ``size``.
"""

from __future__ import annotations

import json
import traceback

from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import (
    GroupState, NodeGroupProvider, Progress)
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.rest import (
    HAS_REQUESTS, TRANSIENT_STATUS, RestClient, new_session)
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import GroupSizes
from ansible_collections.kfuse.failover.plugins.module_utils.errors import NodeGroupError, OptionError

try:
    import google.auth
    from google.auth import exceptions as google_exceptions
    from google.auth.transport.requests import Request as GoogleAuthRequest
    HAS_GOOGLE_AUTH = True
    GOOGLE_AUTH_IMPORT_ERROR = None
except ImportError:
    HAS_GOOGLE_AUTH = False
    GOOGLE_AUTH_IMPORT_ERROR = traceback.format_exc()

GKE_LABEL = 'cloud.google.com/gke-nodepool'
DEFAULT_API_URL = 'https://container.googleapis.com'
SCOPES = ('https://www.googleapis.com/auth/cloud-platform',)
# Hosts of Google APIs a pool's instance group URLs may name (Compute API).
GOOGLE_API_SUFFIXES = ('.googleapis.com',)
# Keys of credential files that are secrets, whatever the credential type.
SECRET_KEYS = ('private_key', 'client_secret', 'refresh_token')

POOL_BUSY = frozenset(('PROVISIONING', 'RECONCILING'))
POOL_REFUSED = frozenset(('STOPPING', 'ERROR'))


def google_credentials(credentials_file, verify, register_secret, provider='gke'):
    """(credentials, token function): from a credentials file (service account, authorized user, external
    account) or Application Default Credentials."""
    if not (HAS_GOOGLE_AUTH and HAS_REQUESTS):
        raise NodeGroupError('the google-auth and requests Python libraries are required for provider gke',
                             provider=provider, code='MissingLibrary')
    try:
        if credentials_file:
            try:
                with open(credentials_file, encoding='utf-8') as handle:
                    info = json.load(handle)
            except (OSError, ValueError) as exc:
                raise OptionError('credentials_file: cannot read %s as JSON: %s' % (credentials_file, exc)) from None
            if not isinstance(info, dict):
                raise OptionError('credentials_file: %s does not hold a JSON object' % credentials_file)
            register_secret(*[info[key] for key in SECRET_KEYS if isinstance(info.get(key), str)])
            credentials, _project = google.auth.load_credentials_from_file(credentials_file, scopes=list(SCOPES))
        else:
            credentials, _project = google.auth.default(scopes=list(SCOPES))
    except google_exceptions.DefaultCredentialsError as exc:
        raise NodeGroupError('no usable Google credentials (credentials_file or Application Default Credentials): '
                             '%s' % exc, provider=provider, code='DefaultCredentialsError') from None
    auth_request = GoogleAuthRequest(session=new_session(verify))

    def token():
        if not credentials.valid:
            try:
                credentials.refresh(auth_request)
            except google_exceptions.TransportError as exc:
                raise NodeGroupError('cannot get a Google access token: %s' % exc, provider=provider,
                                     code='TransportError', transient=True) from None
            except google_exceptions.GoogleAuthError as exc:
                raise NodeGroupError('cannot get a Google access token: %s' % exc, provider=provider,
                                     code='RefreshError', transient=bool(getattr(exc, 'retryable', False))) from None
            register_secret(credentials.token)
        return credentials.token

    return credentials, token


def _google_error(answer):
    """(status word, message) of a Google API error body."""
    error = (answer.body or {}).get('error') if isinstance(answer.body, dict) else None
    if isinstance(error, dict):
        return str(error.get('status') or error.get('code') or answer.status), str(error.get('message') or '')
    return str(answer.status), answer.text


class GkeNodePool(NodeGroupProvider):
    """A GKE node pool."""

    key = 'gke'
    label = GKE_LABEL
    bounded = False
    change_key = 'operation'
    kind = 'GKE node pool'

    def __init__(self, api_url, project, location, cluster, name, token, verify=True, timeout=60.0):
        super().__init__(name, cluster)
        self.project = project
        self.location = location
        self.rest = RestClient(api_url, token, self.error, verify=verify, timeout=timeout,
                               trusted_suffixes=GOOGLE_API_SUFFIXES)
        self.pool_url = '%s/v1/projects/%s/locations/%s/clusters/%s/nodePools/%s' % (
            api_url, project, location, cluster, name)

    def describe(self):
        return 'GKE node pool %s of cluster %s (%s/%s)' % (self.name, self.cluster, self.project, self.location)

    def _get(self, url, what):
        return self._checked(self.rest.call('GET', url), 'GET ' + what)

    def _checked(self, answer, action):
        if answer.status < 400 and isinstance(answer.body, dict):
            return answer.body
        if answer.status < 400:
            raise self.error('%s: the answer is not a JSON object: %s' % (action, answer.text), code='BadAnswer')
        word, message = _google_error(answer)
        busy = answer.status in (400, 409) and 'operation' in message.lower() and word in (
            'FAILED_PRECONDITION', 'ABORTED', '400', '409')
        raise self.error('%s failed: %s %s: %s' % (action, answer.status, word, message), code=word,
                         transient=answer.status in TRANSIENT_STATUS, busy=busy, retry_after=answer.retry_after)

    def read(self):
        pool = self._get(self.pool_url, 'the node pool')
        status = pool.get('status')
        autoscaling = pool.get('autoscaling') or {}
        zone_sizes = {}
        for url in pool.get('instanceGroupUrls') or []:
            manager_url = url.replace('/instanceGroups/', '/instanceGroupManagers/')
            manager = self._get(manager_url, 'instance group manager %s' % manager_url.rsplit('/', 1)[-1])
            zone = str(manager.get('zone') or url).rstrip('/').rsplit('/', 1)[-1]
            zone_sizes[zone] = int(manager.get('targetSize') or 0)
        # nodeCount is per zone: the pool is at a size when each of its zones is.
        sizes = set(zone_sizes.values())
        desired = sizes.pop() if len(sizes) == 1 else None
        return GroupState(GroupSizes(None, None, desired), status=status, busy=status in POOL_BUSY,
                          details={'zone_sizes': zone_sizes, 'autoscaling': autoscaling})

    def check_change(self, state, wanted):
        autoscaling = state.details.get('autoscaling') or {}
        if autoscaling.get('enabled'):
            raise self.error('autoscaling is enabled (min %s, max %s): the cluster autoscaler owns its size; use '
                             'provider=none to only wait for nodes, or disable autoscaling on the pool'
                             % (autoscaling.get('minNodeCount'), autoscaling.get('maxNodeCount')),
                             code='AutoscalingEnabled')
        if state.status in POOL_REFUSED:
            raise self.error('the node pool is %s and cannot be resized' % state.status, code=state.status)

    def resize(self, state, wanted):
        answer = self.rest.call('POST', self.pool_url + ':setSize', body={'nodeCount': wanted.desired_size})
        operation = self._checked(answer, 'setSize')
        return operation.get('name')

    def operation_url(self, name):
        return '%s/v1/projects/%s/locations/%s/operations/%s' % (self.rest.base_url, self.project, self.location,
                                                                 name)

    def progress(self, change_id):
        state = self.read()
        settled = not state.busy
        failure = op_status = None
        if change_id:
            operation = self._get(self.operation_url(change_id), 'operation %s' % change_id)
            op_status = operation.get('status')
            error = operation.get('error') or {}
            if op_status == 'DONE' and (error or operation.get('statusMessage')):
                failure = 'GKE operation %s on %s failed: %s' % (
                    change_id, self.describe(), error.get('message') or operation.get('statusMessage'))
            settled = settled and op_status == 'DONE'
        return Progress(state, settled, failure, op_status)
