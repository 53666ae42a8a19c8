# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kfuse.failover.node_group run in-process: bad input fails before any call (naming the option and what is
accepted), check mode and diff, idempotence, the timeout message, and secrets never in the result."""

from __future__ import annotations

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils._node_group import task
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import NoProvider
from ansible_collections.kfuse.failover.plugins.module_utils.errors import NodeGroupError
from ansible_collections.kfuse.failover.plugins.modules import node_group
from ansible_collections.kfuse.failover.tests.unit.module_runner import run_module
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.node_group_fakes import (
    FakeClock, FakeCounter, FakeProvider)

EKS = {'provider': 'eks', 'cluster': 'lab', 'name': 'kfuse-az2', 'size': 3, 'poll_interval': 1}
GKE = {'provider': 'gke', 'project': 'p', 'location': 'us-central1', 'cluster': 'c', 'name': 'kfuse-b', 'size': 3}
AKS = {'provider': 'aks', 'subscription_id': 's', 'resource_group': 'rg', 'cluster': 'c', 'name': 'kfuseb', 'size': 3}
NONE = {'provider': 'none', 'size': 3, 'node_selector': {'karpenter.sh/nodepool': 'kfuse'}}


class Recorder:
    """Stands in for build_provider: records the call and hands out ``provider``."""

    def __init__(self, provider=None):
        self.provider = provider
        self.calls = []

    def __call__(self, params, register_secret):
        self.calls.append(dict(params))
        self.register_secret = register_secret
        return self.provider


def run(args, provider=None, counter=None, check_mode=False, diff=False):
    recorder = Recorder(provider or FakeProvider())
    counter = counter or FakeCounter([(3, 3)])
    clock = FakeClock()
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    if diff:
        args = dict(args, _ansible_diff=True)
    outcome = run_module(node_group.main, args, patches=[
        (task, 'build_provider', recorder), (task, 'NodeCounter', counter), (task, 'CLOCK', clock.monotonic),
        (task, 'SLEEP', clock.sleep)])
    return outcome, recorder, counter


@pytest.mark.parametrize('args, message', [
    ({'provider': 'eks', 'size': 3, 'name': 'g'}, 'provider is eks but all of the following are missing: cluster'),
    ({'provider': 'asg', 'size': 3}, 'provider is asg but all of the following are missing: name'),
    (dict(GKE, location=None), 'provider=gke needs location'),
    (dict(AKS, resource_group=''), 'provider=aks needs resource_group'),
    (dict(NONE, node_selector={}), 'provider=none needs node_selector'),
    ({'provider': 'none', 'size': 3}, 'provider is none but all of the following are missing: node_selector'),
    ({'provider': 'gcp', 'size': 3}, 'value of provider must be one of: eks, asg, gke, aks, none, got: gcp'),
    (dict(EKS, size='three'), "argument 'size' is of type"),
    (dict(EKS, size=-1), 'size must be 0 or more, got -1'),
    (dict(EKS, min_size=4), 'min_size=4 is above size=3'),
    (dict(EKS, max_size=2), 'max_size=2 is below size=3; raise max_size to at least 3'),
    (dict(EKS, min_size=2, max_size=1, size=1), 'min_size=2 is above size=1'),
    (dict(NONE, min_size=1), 'min_size and max_size do not apply to provider=none'),
    (dict(EKS, project='p'), 'provider=eks does not take project (gke)'),
    (dict(GKE, region='us-east-1', subscription_id='s'),
     'provider=gke does not take region (eks, asg); subscription_id (aks)'),
    (dict(NONE, cluster='lab'), 'provider=none does not take cluster (eks, gke, aks)'),
    (dict(EKS, access_key='AKID'), 'parameters are required together: access_key, secret_key'),
    (dict(EKS, session_token='long-session-token'), 'missing parameter(s) required by \'session_token\': access_key'),
    (dict(EKS, profile='p', access_key='a', secret_key='b'), 'mutually exclusive: profile|access_key'),
    (dict(AKS, client_id='c'), 'parameters are required together: client_id, client_secret, tenant_id'),
    (dict(EKS, node_selector={}), 'node_selector must be a non-empty dict of node labels'),
    (dict(EKS, node_selector={'bad key!': 'x'}), "node_selector must be a label selector"),
    (dict(EKS, node_selector={'zone': ['a']}), 'node_selector: the value of zone must be a string'),
    (dict(EKS, wait_timeout=-1), 'wait_timeout must be 0 or more seconds'),
    (dict(EKS, poll_interval=0), 'poll_interval must be more than 0 seconds'),
    (dict(GKE, name='a/b'), 'name must be a plain GKE name'),
    (dict(GKE, api_url='http://container.example.com'), 'api_url: refusing to send credentials over plain http://'),
    (dict(AKS, api_url='management.azure.com'), 'api_url must be an https:// URL'),
    (dict(AKS, api_version='latest'), 'api_version must look like 2025-08-01'),
    (dict(AKS, authority_host='login.microsoftonline.com'), 'authority_host must be an https:// URL'),
])
def test_bad_input_fails_before_any_call(args, message):
    outcome, recorder, counter = run(args)
    assert outcome.failed, outcome.result
    assert message in outcome.result['msg'], outcome.result['msg']
    assert recorder.calls == [] and counter.used == 0


def test_scale_up_then_idempotent_rerun():
    provider = FakeProvider(sizes=(0, 6, 0))
    outcome, recorder, counter = run(EKS, provider=provider, counter=FakeCounter([(0, 0), (0, 0), (3, 3)]))
    assert not outcome.failed, outcome.result
    result = outcome.result
    assert result['changed'] is True and result['update_id'] == 'update-1' and result['provider'] == 'eks'
    assert result['after']['desired_size'] == 3 and result['nodes']['ready'] == 3 and result['progress']
    assert counter.selector == 'eks.amazonaws.com/nodegroup=kfuse-az2'
    assert recorder.calls[0]['cluster'] == 'lab'
    again, _recorder, _counter = run(EKS, provider=provider)
    assert again.result['changed'] is False and provider.resizes == [(3, 6, 3)]


def test_node_selector_overrides_the_provider_label():
    _outcome, _recorder, counter = run(dict(EKS, node_selector={'topology.kubernetes.io/zone': 'us-east-1b',
                                                                'eks.amazonaws.com/nodegroup': 'kfuse-az2'}))
    assert counter.selector == 'eks.amazonaws.com/nodegroup=kfuse-az2,topology.kubernetes.io/zone=us-east-1b'


@pytest.mark.parametrize('args, label', [
    ({'provider': 'asg', 'name': 'kfuse-asg', 'size': 1}, 'kfuse.io/asg=kfuse-asg'),
    (GKE, 'cloud.google.com/gke-nodepool=kfuse-b'), (AKS, 'kubernetes.azure.com/agentpool=kfuseb'),
])
def test_default_selector_is_the_provider_label(args, label):
    _outcome, recorder, counter = run(args, provider=FakeProvider(sizes=(0, 6, 3)))
    assert counter.selector == label
    if args['provider'] in ('gke', 'aks'):
        expected = 'https://container.googleapis.com' if args['provider'] == 'gke' else 'https://management.azure.com'
        assert recorder.calls[0]['api_url'] == expected
    if args['provider'] == 'aks':
        assert recorder.calls[0]['api_version'] == '2025-08-01'


def test_check_mode_and_diff_change_nothing():
    provider = FakeProvider(sizes=(0, 6, 0))
    outcome, _recorder, counter = run(EKS, provider=provider, check_mode=True, diff=True)
    result = outcome.result
    assert result['changed'] is True and provider.calls == ['read'] and counter.used == 0
    assert result['diff'] == {'before': {'min_size': 0, 'max_size': 6, 'desired_size': 0},
                              'after': {'min_size': 3, 'max_size': 6, 'desired_size': 3}}
    assert result['after']['desired_size'] == 3 and result['before']['desired_size'] == 0


def test_above_max_fails_before_the_change_naming_option_and_numbers():
    provider = FakeProvider(sizes=(0, 2, 0))
    outcome, _recorder, _counter = run(dict(EKS, size=5), provider=provider)
    assert outcome.failed and provider.calls == ['read']
    assert 'size=5 is above the maximum of EKS node group kfuse-az2 of cluster lab (2)' in outcome.result['msg']
    assert 'set max_size to at least 5' in outcome.result['msg']


def test_timeout_fails_with_what_was_last_seen():
    outcome, _recorder, _counter = run(dict(EKS, wait_timeout=20), provider=FakeProvider(sizes=(0, 6, 0)),
                                       counter=FakeCounter([(2, 1)]))
    result = outcome.result
    assert outcome.failed and result['changed'] is True and result['timed_out'] is True
    assert 'timed out after 20.0s' in result['msg']
    assert 'requested=3, provider_desired=3, provider_status=ACTIVE' in result['msg']
    assert 'registered=2, ready=1' in result['msg']
    assert result['progress'][-1]['ready'] == 1 and result['update_id'] == 'update-1'


def test_secrets_are_masked_even_in_provider_messages():
    class LeakyProvider(FakeProvider):
        def read(self):
            recorder.register_secret('eyJ-access-token')
            raise NodeGroupError('401 for token eyJ-access-token and secret s3cr3t-value', provider='aks',
                                 code='InvalidAuthenticationToken')

    recorder = Recorder()
    recorder.provider = LeakyProvider()
    args = dict(AKS, tenant_id='t', client_id='c', client_secret='s3cr3t-value')
    outcome = run_module(node_group.main, args, patches=[(task, 'build_provider', recorder),
                                                         (task, 'NodeCounter', FakeCounter())])
    assert outcome.failed
    text = repr(outcome.result)
    assert 's3cr3t-value' not in text and 'eyJ-access-token' not in text
    assert outcome.result['provider_error']['code'] == 'InvalidAuthenticationToken'


def test_provider_none_waits_only():
    built = task.build_provider(dict(NONE), lambda *values: None)
    assert isinstance(built, NoProvider)
    outcome, _recorder, counter = run(NONE, provider=built, counter=FakeCounter([(1, 0), (3, 3)]))
    assert not outcome.failed and outcome.result['changed'] is False
    assert counter.selector == 'karpenter.sh/nodepool=kfuse' and counter.used == 2
    assert outcome.result['nodes']['ready'] == 3 and 'update_id' not in outcome.result
