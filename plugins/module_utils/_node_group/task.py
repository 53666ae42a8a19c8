# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The node_group task: check the options, read the group, plan its sizes, change them once, wait for the Nodes.

``run_node_group(params, register_secret, check_mode, diff)`` returns the module result or raises a KfuseError
(``OptionError`` before any call; ``TaskFailed`` with ``changed`` and what was seen once something was sent).
"""

from __future__ import annotations

import re
import time

from ansible_collections.kfuse.failover.plugins.module_utils._node_group.nodes import NodeCounter, selector_text
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import NoProvider, Retrier
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.rest import check_api_url, verify_setting
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import GroupSizes, check_request, plan_sizes
from ansible_collections.kfuse.failover.plugins.module_utils._waiter import Waiter
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError, OptionError, TaskFailed, WaitError

PROVIDERS = ('eks', 'asg', 'gke', 'aks', 'none')
AWS_OPTIONS = ('region', 'endpoint_url', 'access_key', 'secret_key', 'session_token', 'profile')
GKE_OPTIONS = ('project', 'location', 'credentials_file', 'api_url')
AKS_OPTIONS = ('subscription_id', 'resource_group', 'api_version', 'tenant_id', 'client_id', 'client_secret',
               'authority_host', 'api_url')
PROVIDER_OPTIONS = {'eks': AWS_OPTIONS + ('cluster',), 'asg': AWS_OPTIONS, 'gke': GKE_OPTIONS + ('cluster',),
                    'aks': AKS_OPTIONS + ('cluster',), 'none': ()}
# The node label naming the group, by provider (a constant of the provider's module).
LABEL_NAMES = {'eks': 'EKS_LABEL', 'asg': 'ASG_LABEL', 'gke': 'GKE_LABEL', 'aks': 'AKS_LABEL'}
MAX_POLL_INTERVAL = 60.0
CLOCK = time.monotonic
SLEEP = time.sleep

NODE_GROUP_ARGSPEC = {
    'provider': {'type': 'str', 'required': True, 'choices': list(PROVIDERS)},
    'name': {'type': 'str'},
    'cluster': {'type': 'str'},
    'size': {'type': 'int', 'required': True},
    'min_size': {'type': 'int'},
    'max_size': {'type': 'int'},
    'region': {'type': 'str'},
    'endpoint_url': {'type': 'str'},
    'access_key': {'type': 'str', 'no_log': False},
    'secret_key': {'type': 'str', 'no_log': True},
    'session_token': {'type': 'str', 'no_log': True},
    'profile': {'type': 'str'},
    'project': {'type': 'str'},
    'location': {'type': 'str'},
    'api_url': {'type': 'str'},
    'credentials_file': {'type': 'path'},
    'subscription_id': {'type': 'str'},
    'resource_group': {'type': 'str'},
    'api_version': {'type': 'str'},
    'tenant_id': {'type': 'str'},
    'client_id': {'type': 'str'},
    'client_secret': {'type': 'str', 'no_log': True},
    'authority_host': {'type': 'str'},
    'ca_path': {'type': 'path'},
    'validate_certs': {'type': 'bool', 'default': True},
    'wait': {'type': 'bool', 'default': True},
    'wait_timeout': {'type': 'int', 'default': 900},
    'poll_interval': {'type': 'float', 'default': 5.0},
    'kubeconfig': {'type': 'path'},
    'context': {'type': 'str'},
    'node_selector': {'type': 'dict'},
}
REQUIRED_IF = [
    ('provider', 'eks', ('name', 'cluster')),
    ('provider', 'asg', ('name',)),
    ('provider', 'gke', ('name', 'cluster', 'project', 'location')),
    ('provider', 'aks', ('name', 'cluster', 'subscription_id', 'resource_group')),
    ('provider', 'none', ('node_selector',)),
]
REQUIRED_TOGETHER = [('access_key', 'secret_key'), ('client_id', 'client_secret', 'tenant_id')]
REQUIRED_BY = {'session_token': 'access_key'}
MUTUALLY_EXCLUSIVE = [('profile', 'access_key')]

# Names that become part of a URL path (GKE, AKS): no separators, queries or escapes.
_PATH_SEGMENT = re.compile(r'^[A-Za-z0-9][-A-Za-z0-9_.()]*$')
_API_VERSION = re.compile(r'^\d{4}-\d{2}-\d{2}(-preview)?$')


class Request:
    """The checked options: provider, size bounds, node selector text, wait settings."""

    def __init__(self, params, selector):
        self.provider = params['provider']
        self.name = params.get('name')
        self.size = params['size']
        self.min_size = params.get('min_size')
        self.max_size = params.get('max_size')
        self.selector = selector
        self.wait = params.get('wait', True)
        self.wait_timeout = params.get('wait_timeout', 900)
        self.poll_interval = params.get('poll_interval', 5.0)


def check_options(params):
    """A Request from the module options, or OptionError naming the option and what is accepted."""
    provider = params['provider']
    if provider not in PROVIDERS:
        raise OptionError('provider must be one of %s, got %r' % (', '.join(PROVIDERS), provider))
    allowed = set(PROVIDER_OPTIONS[provider])
    foreign = sorted(option for options in PROVIDER_OPTIONS.values() for option in options
                     if option not in allowed and params.get(option) is not None)
    if foreign:
        owners = ['%s (%s)' % (option, ', '.join(name for name in PROVIDERS if option in PROVIDER_OPTIONS[name]))
                  for option in sorted(set(foreign))]
        raise OptionError('provider=%s does not take %s' % (provider, '; '.join(owners)))
    for condition, value, required in REQUIRED_IF:
        if params.get(condition) == value:
            empty = [option for option in required if params.get(option) in (None, '', {})]
            if empty:
                raise OptionError('provider=%s needs %s' % (provider, ', '.join(empty)))
    if provider == 'none' and (params.get('min_size') is not None or params.get('max_size') is not None):
        raise OptionError('min_size and max_size do not apply to provider=none (the cluster autoscaler or Karpenter '
                          'owns the group); give size only')
    check_request(params['size'], params.get('min_size'), params.get('max_size'))
    if params.get('wait_timeout', 900) < 0:
        raise OptionError('wait_timeout must be 0 or more seconds, got %s' % params['wait_timeout'])
    if not params.get('poll_interval', 5.0) > 0:
        raise OptionError('poll_interval must be more than 0 seconds, got %s' % params.get('poll_interval'))
    if provider in ('gke', 'aks'):
        for option in ('name', 'cluster', 'project', 'location', 'subscription_id', 'resource_group'):
            value = params.get(option)
            if value is not None and not _PATH_SEGMENT.match(value):
                raise OptionError('%s must be a plain %s name (letters, digits, "-", "_", ".", "(", ")"), got %r'
                                  % (option, provider.upper(), value))
        params['api_url'] = check_api_url(params.get('api_url') or provider_module(provider).DEFAULT_API_URL)
    if provider == 'aks':
        params['api_version'] = params.get('api_version') or provider_module(provider).DEFAULT_API_VERSION
        if not _API_VERSION.match(params['api_version']):
            raise OptionError('api_version must look like 2025-08-01 (or 2025-08-02-preview), got %r'
                              % params['api_version'])
        if params.get('authority_host'):
            params['authority_host'] = check_api_url(params['authority_host'], 'authority_host')
    selector = params.get('node_selector')
    if selector is None:
        selector = {getattr(provider_module(provider), LABEL_NAMES[provider]): params['name']}
    return Request(params, selector_text(selector))


def provider_module(provider):
    """The module_utils of ``provider`` (eks, asg, gke, aks), imported when a run uses it: the Azure and Google
    client libraries take a quarter of a second to import, and each run uses one provider."""
    # pylint: disable=import-outside-toplevel
    if provider in ('eks', 'asg'):
        from ansible_collections.kfuse.failover.plugins.module_utils._node_group import aws
        return aws
    if provider == 'gke':
        from ansible_collections.kfuse.failover.plugins.module_utils._node_group import gke
        return gke
    from ansible_collections.kfuse.failover.plugins.module_utils._node_group import aks
    return aks


def build_provider(params, register_secret):
    """The provider object for the checked ``params``."""
    provider = params['provider']
    name, cluster = params.get('name'), params.get('cluster')
    if provider == 'none':
        return NoProvider(name or 'nodes')
    module = provider_module(provider)
    if provider == 'eks':
        return module.EksNodeGroup(module.aws_client('eks', params), name, cluster)
    if provider == 'asg':
        return module.AutoScalingGroup(module.aws_client('autoscaling', params), name)
    verify = verify_setting(params)
    if provider == 'gke':
        _credentials, token = module.google_credentials(params.get('credentials_file'), verify, register_secret)
        return module.GkeNodePool(params['api_url'], params['project'], params['location'], cluster, name, token,
                                  verify=verify)
    token = module.azure_token(params, register_secret)
    return module.AksAgentPool(params['api_url'], params['subscription_id'], params['resource_group'], cluster, name,
                               token, api_version=params['api_version'], verify=verify)


def is_transient(exc):
    return bool(getattr(exc, 'transient', False))


class NodeGroupTask:
    """One run: the provider, the node counter, the request, the clock, and the result being built."""

    def __init__(self, request, provider, counter, clock=time.monotonic, sleep=time.sleep):
        self.request = request
        self.provider = provider
        self.counter = counter
        self.clock = clock
        self.sleep = sleep
        self.deadline = clock() + request.wait_timeout
        self.retrier = Retrier(self.deadline, clock=clock, sleep=sleep)
        self.result = {'provider': provider.key, 'changed': False}

    # -- before the change -------------------------------------------------------------------------------------

    def plan(self, state):
        if isinstance(self.provider, NoProvider):
            return GroupSizes()
        request = self.request
        return plan_sizes(state.sizes, request.size, request.min_size, request.max_size,
                          bounded=self.provider.bounded, group=self.provider.describe())

    def _waiter(self, fetch, is_done, summarize, what, failure=None, steady=False):
        interval = self.request.poll_interval
        # steady: every poll_interval, never slower - for the Ready-nodes wait, the longest of a failover, whose end
        # should be seen at once; its reads (one provider describe, one Node list) are cheap.
        max_interval = interval if steady else min(MAX_POLL_INTERVAL, max(interval, interval * 4))
        return Waiter(fetch, is_done, timeout=max(0.0, self.deadline - self.clock()), interval=interval,
                      max_interval=max_interval, summarize=summarize,
                      failure=failure, is_transient=is_transient, what=what, clock=self.clock, sleep=self.sleep)

    def wait_changeable(self):
        """The group's state once no operation runs on it (EKS not ACTIVE yet, GKE reconciling, AKS scaling)."""
        waiter = self._waiter(self.provider.read, lambda state: not state.busy,
                              lambda state: {'status': state.status, 'provider_desired': state.sizes.desired_size},
                              '%s to finish its running operation before the change' % self.provider.describe())
        return waiter.run().value

    def apply(self, state, wanted):
        """Send the change, retrying transient errors; returns the change id (None when the provider has none or
        an earlier attempt turned out to have been applied)."""
        attempt = 0
        while True:
            try:
                return self.provider.resize(state, wanted)
            except KfuseError as exc:
                self.retrier.pause(attempt, exc)
                attempt += 1
                state = self.wait_changeable() if getattr(exc, 'busy', False) else self.retrier.call(self.provider.read)
                if state.sizes == wanted:
                    return None
                self.provider.check_change(state, wanted)

    # -- the wait ----------------------------------------------------------------------------------------------

    def _observe(self, change_id):
        progress = self.provider.progress(change_id)
        return {'progress': progress, 'nodes': self.counter.count()}

    def _summary(self, observation):
        state = observation['progress'].state
        nodes = observation['nodes']
        summary = {'requested': self.request.size, 'provider_desired': state.sizes.desired_size,
                   'provider_status': state.status, 'change_status': observation['progress'].change_status,
                   'registered': nodes['registered'], 'ready': nodes['ready']}
        return dict((key, value) for key, value in summary.items() if value is not None)

    def _done(self, observation):
        nodes = observation['nodes']
        size = self.request.size
        return observation['progress'].settled and nodes['registered'] == size and nodes['ready'] == size

    def _what(self):
        size = self.request.size
        nodes = 'no nodes left' if size == 0 else '%d Ready node%s' % (size, '' if size == 1 else 's')
        return '%s with %s (%s)' % (nodes, self.request.selector, self.provider.describe())

    def wait_for_nodes(self, change_id):
        waiter = self._waiter(lambda: self._observe(change_id), self._done, self._summary, self._what(),
                              failure=lambda observation: observation['progress'].failure, steady=True)
        return waiter.run()

    # -- the run -----------------------------------------------------------------------------------------------

    def run(self, check_mode=False, diff=False):
        provider = self.provider
        state = self.retrier.call(provider.read)
        wanted = self.plan(state)
        changed = not isinstance(provider, NoProvider) and wanted != state.sizes
        if changed:
            provider.check_change(state, wanted)
        result = self.result
        result['before'] = state.as_dict()
        if diff:
            result['diff'] = {'before': state.sizes.as_dict(), 'after': wanted.as_dict()}
        if check_mode or (isinstance(provider, NoProvider) and not self.request.wait):
            result.update(changed=changed, after=dict(wanted.as_dict(), status=state.status))
            if isinstance(provider, NoProvider):
                result['nodes'] = self.counter.count()
            return result
        if changed and self.request.wait:
            # Kubernetes is reachable (and its client ready) before anything changes.
            self.retrier.call(self.counter.count)
        if changed and state.busy:
            state = self._before_change(self.wait_changeable)
            wanted = self.plan(state)
            changed = wanted != state.sizes
            if changed:
                provider.check_change(state, wanted)
        change_id = None
        if changed:
            try:
                change_id = self.apply(state, wanted)
            except KfuseError as exc:
                # A refusal (4xx) changed nothing; after a transient error the change may have gone through.
                result['changed'] = bool(getattr(exc, 'transient', False))
                raise TaskFailed(str(exc), **self._failure_keys(exc)) from None
            result['changed'] = True
            if change_id and provider.change_key:
                result[provider.change_key] = change_id
        if self.request.wait:
            waited = self._after_change(self.wait_for_nodes, change_id)
            result.update(nodes=waited.value['nodes'], progress=waited.history, elapsed=round(waited.elapsed, 1))
            state = waited.value['progress'].state
        else:
            state = self._after_change(self.retrier.call, provider.read)
        result['after'] = state.as_dict()
        return result

    def _before_change(self, function, *args):
        try:
            return function(*args)
        except WaitError as exc:
            raise TaskFailed(str(exc), **self._failure_keys(exc)) from None

    def _after_change(self, function, *args):
        """Run ``function``; a failure carries what was done and seen so far."""
        try:
            return function(*args)
        except KfuseError as exc:
            raise TaskFailed(str(exc), **self._failure_keys(exc)) from None

    def _failure_keys(self, exc):
        """The result so far, the error's own keys (code, provider_error) and what a failed wait saw."""
        keys = exc.fail_result()
        keys.update(self.result)
        keys['code'] = exc.code
        if isinstance(exc, WaitError):
            keys.update(progress=exc.history, elapsed=round(exc.elapsed, 1), timed_out=exc.timed_out)
            if isinstance(exc.last, dict) and 'nodes' in exc.last:
                keys['nodes'] = exc.last['nodes']
                keys['after'] = exc.last['progress'].state.as_dict()
        return keys


def run_node_group(params, register_secret, check_mode=False, diff=False):
    """The node_group module's task (see the module documentation); returns the result dict.

    The provider, the node counter, the clock and sleep are looked up here at each call (``build_provider``,
    ``NodeCounter``, ``CLOCK``, ``SLEEP``), so tests replace them on this module.
    """
    params = dict(params)
    request = check_options(params)
    provider = build_provider(params, register_secret)
    counter = NodeCounter(request.selector, params.get('kubeconfig'), params.get('context'))
    try:
        return NodeGroupTask(request, provider, counter, clock=CLOCK, sleep=SLEEP).run(check_mode, diff)
    finally:
        counter.close()
