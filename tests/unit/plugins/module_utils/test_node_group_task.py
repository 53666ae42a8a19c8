# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The node_group task with a scripted provider, node counter and clock: check mode, idempotence, waiting for a busy
group, retries (EKS ResourceInUseException), the wait's end and its timeout message."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.kfuse.failover.plugins.module_utils._node_group import aws, task
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import NoProvider
from ansible_collections.kfuse.failover.plugins.module_utils.errors import (
    KubeError, NodeGroupError, OptionError, TaskFailed)
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.import_probe import modules_imported_by
from ansible_collections.kfuse.failover.tests.unit.plugins.module_utils.node_group_fakes import (
    FakeClock, FakeCounter, FakeProvider)

SELECTOR = 'eks.amazonaws.com/nodegroup=kfuse-az2'


def make_task(provider, counter, size=3, clock=None, **options):
    params = {'provider': 'eks', 'name': 'kfuse-az2', 'cluster': 'lab', 'size': size, 'wait': True,
              'wait_timeout': 120, 'poll_interval': 1.0}
    params.update(options)
    request = task.check_options(params)
    clock = clock or FakeClock()
    return task.NodeGroupTask(request, provider, counter(request.selector), clock=clock.monotonic, sleep=clock.sleep)


def busy_error(applied=False):
    error = NodeGroupError('UpdateNodegroupConfig failed: Nodegroup is UPDATING (ResourceInUseException)',
                           provider='eks', code='ResourceInUseException', busy=True)
    error.applied = applied
    return error


def test_scale_up_from_zero_waits_for_ready_nodes_and_reports_progress():
    provider = FakeProvider(sizes=(0, 6, 0), settle_polls=1)
    # The first count is taken before the change (Kubernetes reachable), the others while waiting.
    counter = FakeCounter([(0, 0), (0, 0), (2, 0), (3, 1), (3, 3)])
    result = make_task(provider, counter).run()
    assert provider.resizes == [(3, 6, 3)]
    assert result['changed'] is True and result['update_id'] == 'update-1'
    assert result['before'] == {'min_size': 0, 'max_size': 6, 'desired_size': 0, 'status': 'ACTIVE'}
    assert result['after'] == {'min_size': 3, 'max_size': 6, 'desired_size': 3, 'status': 'ACTIVE'}
    assert result['nodes'] == {'selector': SELECTOR, 'registered': 3, 'ready': 3,
                               'names': ['node-0', 'node-1', 'node-2']}
    seen = [(sample['registered'], sample['ready']) for sample in result['progress']]
    assert seen == [(0, 0), (2, 0), (3, 1), (3, 3)]
    assert result['progress'][0]['requested'] == 3 and result['progress'][0]['provider_desired'] == 3
    assert result['elapsed'] > 0


def test_the_ready_nodes_wait_polls_at_the_interval_throughout():
    # Nodes that take long to come (the longest wait of a failover): no backoff, so their readiness is seen within
    # one interval, however long it took.
    provider = FakeProvider(sizes=(0, 6, 0), settle_polls=1)
    clock = FakeClock()
    counter = FakeCounter([(0, 0)] * 30 + [(3, 3)])
    result = make_task(provider, counter, clock=clock, poll_interval=2.0).run()
    assert result['nodes']['ready'] == 3
    assert clock.slept and set(clock.slept) == {2.0}, clock.slept


def test_same_sizes_change_nothing_and_still_wait():
    provider = FakeProvider(sizes=(3, 6, 3))
    counter = FakeCounter([(3, 2), (3, 3)])
    result = make_task(provider, counter).run()
    assert result['changed'] is False and provider.resizes == [] and 'update_id' not in result
    assert result['nodes']['ready'] == 3


def test_check_mode_reports_current_and_wanted_without_any_change_or_kubernetes():
    provider = FakeProvider(sizes=(0, 6, 0))
    counter = FakeCounter()
    result = make_task(provider, counter).run(check_mode=True, diff=True)
    assert provider.calls == ['read'] and counter.used == 0
    assert result['changed'] is True
    assert result['before']['desired_size'] == 0
    assert result['after'] == {'min_size': 3, 'max_size': 6, 'desired_size': 3, 'status': 'ACTIVE'}
    assert result['diff'] == {'before': {'min_size': 0, 'max_size': 6, 'desired_size': 0},
                              'after': {'min_size': 3, 'max_size': 6, 'desired_size': 3}}
    unchanged = make_task(FakeProvider(sizes=(3, 6, 3)), FakeCounter()).run(check_mode=True)
    assert unchanged['changed'] is False


def test_above_the_current_max_fails_before_any_change():
    provider = FakeProvider(sizes=(0, 2, 0))
    with pytest.raises(OptionError) as caught:
        make_task(provider, FakeCounter()).run()
    assert 'size=3 is above the maximum of EKS node group kfuse-az2 of cluster lab (2)' in str(caught.value)
    assert provider.calls == ['read']


def test_busy_group_is_waited_for_before_the_change():
    provider = FakeProvider(sizes=(0, 6, 0), busy_reads=3)
    clock = FakeClock()
    result = make_task(provider, FakeCounter([(3, 3)]), clock=clock).run()
    assert provider.calls[:5] == ['read', 'read', 'read', 'read', 'resize']
    assert result['changed'] is True and len(clock.slept) >= 2


def test_resource_in_use_is_retried_after_the_group_is_active_again():
    provider = FakeProvider(sizes=(0, 6, 0), resize_errors=[busy_error(), busy_error()])
    clock = FakeClock()
    result = make_task(provider, FakeCounter([(3, 3)]), clock=clock).run()
    assert provider.calls.count('resize') == 3 and provider.resizes == [(3, 6, 3)]
    assert result['changed'] is True and result['update_id'] == 'update-1'


def test_a_transient_failure_that_was_applied_is_not_sent_again():
    provider = FakeProvider(sizes=(0, 6, 0), resize_errors=[
        NodeGroupError('read timeout', provider='eks', code='ReadTimeoutError', transient=True)])
    provider.resize_errors[0].applied = True
    result = make_task(provider, FakeCounter([(3, 3)])).run()
    assert provider.calls.count('resize') == 1 and result['changed'] is True and 'update_id' not in result


def test_a_refusal_changes_nothing_and_says_so():
    provider = FakeProvider(sizes=(0, 6, 0), resize_errors=[
        NodeGroupError('AccessDeniedException', provider='eks', code='AccessDeniedException')])
    with pytest.raises(TaskFailed) as caught:
        make_task(provider, FakeCounter()).run()
    result = caught.value.fail_result()
    assert result['changed'] is False and result['code'] == 'AccessDeniedException'
    assert result['provider_error']['code'] == 'AccessDeniedException'


def test_retries_give_up_after_max_attempts():
    provider = FakeProvider(sizes=(0, 6, 0), resize_errors=[
        NodeGroupError('Rate exceeded', provider='eks', code='ThrottlingException', transient=True)
        for _attempt in range(10)])
    with pytest.raises(TaskFailed, match='Rate exceeded') as caught:
        make_task(provider, FakeCounter()).run()
    assert provider.calls.count('resize') == 8 and caught.value.fail_result()['changed'] is True


def test_timeout_names_requested_provider_registered_and_ready():
    provider = FakeProvider(sizes=(0, 6, 0))
    with pytest.raises(TaskFailed) as caught:
        make_task(provider, FakeCounter([(0, 0), (0, 0), (1, 0)]), wait_timeout=30).run()
    message = str(caught.value)
    assert message.startswith('timed out after 30.0s waiting for 3 Ready nodes with %s' % SELECTOR), message
    assert 'last seen: requested=3, provider_desired=3, provider_status=ACTIVE' in message
    assert 'registered=1, ready=0' in message
    result = caught.value.fail_result()
    assert result['changed'] is True and result['timed_out'] is True and result['update_id'] == 'update-1'
    assert result['nodes']['registered'] == 1 and result['after']['desired_size'] == 3
    assert [sample['registered'] for sample in result['progress']] == [0, 1]


class BrokenCounter(FakeCounter):
    def count(self):
        self.used += 1
        raise KubeError('cannot load Kubernetes configuration (kubeconfig=/nope, context=current): no file')


def test_kubernetes_unreachable_fails_before_the_change():
    provider = FakeProvider(sizes=(0, 6, 0))
    counter = BrokenCounter()
    with pytest.raises(KubeError, match='cannot load Kubernetes configuration'):
        make_task(provider, counter).run()
    assert provider.resizes == [] and counter.used == 1


def test_a_failed_provider_change_ends_the_wait_at_once():
    provider = FakeProvider(sizes=(0, 6, 0), failure='EKS update update-1 is Failed (no capacity)')
    clock = FakeClock()
    with pytest.raises(TaskFailed, match='EKS update update-1 is Failed .no capacity. after') as caught:
        make_task(provider, FakeCounter([(0, 0)]), clock=clock).run()
    assert caught.value.fail_result()['timed_out'] is False and clock.now - 1000.0 < 5


def test_scale_to_zero_waits_until_the_nodes_are_gone():
    provider = FakeProvider(sizes=(3, 6, 3))
    result = make_task(provider, FakeCounter([(3, 3), (1, 1), (0, 0)]), size=0).run()
    assert provider.resizes == [(0, 6, 0)] and result['nodes']['registered'] == 0
    assert 'no nodes left with' in make_task(provider, FakeCounter(), size=0)._what()  # pylint: disable=protected-access


def test_without_wait_kubernetes_is_not_used():
    counter = FakeCounter()
    result = make_task(FakeProvider(sizes=(0, 6, 0)), counter, wait=False).run()
    assert counter.used == 0 and result['changed'] is True and 'nodes' not in result and 'progress' not in result
    assert result['after']['desired_size'] == 3


def test_provider_none_only_waits():
    counter = FakeCounter([(0, 0), (2, 2)])
    params = {'provider': 'none', 'size': 2, 'node_selector': {'karpenter.sh/nodepool': 'kfuse'}}
    request = task.check_options(dict(params, wait_timeout=60, poll_interval=1.0, wait=True))
    clock = FakeClock()
    result = task.NodeGroupTask(request, NoProvider('nodes'), counter(request.selector), clock=clock.monotonic,
                                sleep=clock.sleep).run()
    assert result['changed'] is False and result['provider'] == 'none'
    assert result['before'] == {'min_size': None, 'max_size': None, 'desired_size': None, 'status': None}
    assert result['progress'] == [{'elapsed': 0.0, 'requested': 2, 'registered': 0, 'ready': 0},
                                  {'elapsed': 1.0, 'requested': 2, 'registered': 2, 'ready': 2}]
    checked = task.NodeGroupTask(request, NoProvider('nodes'), FakeCounter([(1, 1)])(request.selector),
                                 clock=clock.monotonic, sleep=clock.sleep).run(check_mode=True)
    assert checked['changed'] is False and checked['nodes']['registered'] == 1


def test_eks_resource_in_use_through_botocore():
    """The EKS provider, stubbed at the botocore level, inside the task: UpdateNodegroupConfig answers
    ResourceInUseException while the group is UPDATING; the task waits for ACTIVE and sends it again."""
    client = boto3.client('eks', region_name='us-east-1', aws_access_key_id='AKIDEXAMPLE', aws_secret_access_key='x')
    provider = aws.EksNodeGroup(client, 'kfuse-az2', 'lab')

    def nodegroup(desired, status):
        return {'nodegroup': {'status': status, 'scalingConfig': {'minSize': desired, 'maxSize': 6,
                                                                  'desiredSize': desired}}}

    with Stubber(client) as stubber:
        stubber.add_response('describe_nodegroup', nodegroup(0, 'ACTIVE'))
        stubber.add_client_error('update_nodegroup_config', 'ResourceInUseException', 'Nodegroup is in UPDATING',
                                 http_status_code=409)
        stubber.add_response('describe_nodegroup', nodegroup(0, 'UPDATING'))
        stubber.add_response('describe_nodegroup', nodegroup(0, 'ACTIVE'))
        stubber.add_response('update_nodegroup_config', {'update': {'id': 'u-2', 'status': 'InProgress'}})
        stubber.add_response('describe_nodegroup', nodegroup(3, 'ACTIVE'))
        stubber.add_response('describe_update', {'update': {'id': 'u-2', 'status': 'Successful'}})
        result = make_task(provider, FakeCounter([(3, 3)])).run()
        stubber.assert_no_pending_responses()
    assert result['update_id'] == 'u-2' and result['changed'] is True


def test_a_size_request_imports_neither_kubernetes_nor_the_other_providers_libraries():
    """A run that only asks an EKS group for a size (a failover's first change) should not pay for the kubernetes,
    Azure or Google imports (about 0.4 s of a module run)."""
    code = ("from ansible_collections.kfuse.failover.plugins.modules import node_group\n"
            "from ansible_collections.kfuse.failover.plugins.module_utils._node_group import task\n"
            "task.check_options({'provider': 'eks', 'name': 'kfuse-az2', 'cluster': 'lab', 'size': 3, 'wait': False})\n"
            "task.provider_module('eks')\n")
    assert modules_imported_by(code, lambda name: name.split('.')[0] in ('kubernetes', 'azure', 'google') or name.endswith(
        ('module_utils.kube', '_node_group.aks', '_node_group.gke'))) == []
