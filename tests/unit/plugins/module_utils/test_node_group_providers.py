# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The providers of node_group against scripted answers: EKS and Auto Scaling through botocore's Stubber, GKE and
AKS through a scripted HTTP session (their JSON shapes, errors, operations)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.kfuse.failover.plugins.module_utils._node_group import aks, aws, gke
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import GroupState
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.rest import check_api_url
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import GroupSizes
from ansible_collections.kfuse.failover.plugins.module_utils.errors import NodeGroupError, OptionError

NODEGROUP = {'clusterName': 'lab', 'nodegroupName': 'kfuse-az2'}


def _client(service):
    return boto3.client(service, region_name='us-east-1', aws_access_key_id='AKIDEXAMPLE',
                        aws_secret_access_key='secret')


def _nodegroup(min_size=0, max_size=6, desired=0, status='ACTIVE'):
    return {'nodegroup': {'nodegroupName': 'kfuse-az2', 'clusterName': 'lab', 'status': status,
                          'scalingConfig': {'minSize': min_size, 'maxSize': max_size, 'desiredSize': desired}}}


@pytest.fixture(name='eks')
def fixture_eks():
    client = _client('eks')
    with Stubber(client) as stubber:
        yield aws.EksNodeGroup(client, 'kfuse-az2', 'lab'), stubber
        stubber.assert_no_pending_responses()


# -- EKS ---------------------------------------------------------------------------------------------------------

def test_eks_read_and_resize_with_one_request_token(eks):
    group, stubber = eks
    stubber.add_response('describe_nodegroup', _nodegroup(status='UPDATING'), NODEGROUP)
    state = group.read()
    assert state.sizes.as_tuple() == (0, 6, 0) and state.status == 'UPDATING' and state.busy
    wanted = GroupSizes(3, 6, 3)
    first_token = group._request_token  # pylint: disable=protected-access
    expected = dict(NODEGROUP, scalingConfig={'minSize': 3, 'maxSize': 6, 'desiredSize': 3},
                    clientRequestToken=first_token)
    stubber.add_client_error('update_nodegroup_config', 'ServerException', 'try again', http_status_code=500,
                             expected_params=expected)
    stubber.add_client_error('update_nodegroup_config', 'ResourceInUseException', 'Nodegroup is UPDATING',
                             http_status_code=409, expected_params=expected)
    with pytest.raises(NodeGroupError) as caught:
        group.resize(state, wanted)
    assert caught.value.transient and not caught.value.busy
    # After a 5xx the same request is sent again (same idempotency token): EKS makes it one update.
    with pytest.raises(NodeGroupError) as caught:
        group.resize(state, wanted)
    assert caught.value.busy and caught.value.transient and caught.value.code == 'ResourceInUseException'
    assert 'EKS node group kfuse-az2 of cluster lab' in str(caught.value)
    # A refusal created nothing: the next attempt is a new request.
    second_token = group._request_token  # pylint: disable=protected-access
    assert second_token != first_token
    stubber.add_response('update_nodegroup_config', {'update': {'id': 'u-1', 'status': 'InProgress'}},
                         dict(expected, clientRequestToken=second_token))
    assert group.resize(state, wanted) == 'u-1'


@pytest.mark.parametrize('code, status, transient, busy', [
    ('ThrottlingException', 400, True, False), ('ServerException', 500, True, False),
    ('ResourceInUseException', 409, True, True), ('ResourceNotFoundException', 404, False, False),
    ('AccessDeniedException', 403, False, False), ('SomethingNew', 503, True, False),
])
def test_eks_error_classes(eks, code, status, transient, busy):
    group, stubber = eks
    stubber.add_client_error('describe_nodegroup', code, 'the message', http_status_code=status)
    with pytest.raises(NodeGroupError) as caught:
        group.read()
    assert (caught.value.transient, caught.value.busy, caught.value.code) == (transient, busy, code)
    assert caught.value.fail_result()['provider_error']['group'] == 'kfuse-az2'


def test_eks_refuses_before_any_change(eks):
    group, _stubber = eks
    state = GroupState(GroupSizes(0, 6, 0), status='DELETING')
    with pytest.raises(NodeGroupError, match='is DELETING and cannot be resized'):
        group.check_change(state, GroupSizes(3, 6, 3))
    with pytest.raises(OptionError, match='max_size must be at least 1 for an EKS managed node group'):
        group.check_change(GroupState(GroupSizes(0, 6, 0), status='ACTIVE'), GroupSizes(0, 0, 0))


def test_eks_progress_uses_describe_update(eks):
    group, stubber = eks
    stubber.add_response('describe_nodegroup', _nodegroup(3, 6, 3, 'UPDATING'), NODEGROUP)
    stubber.add_response('describe_update', {'update': {'id': 'u-1', 'status': 'InProgress'}},
                         {'name': 'lab', 'updateId': 'u-1', 'nodegroupName': 'kfuse-az2'})
    stubber.add_response('describe_nodegroup', _nodegroup(3, 6, 3, 'ACTIVE'), NODEGROUP)
    stubber.add_response('describe_update', {'update': {'id': 'u-1', 'status': 'Successful'}},
                         {'name': 'lab', 'updateId': 'u-1', 'nodegroupName': 'kfuse-az2'})
    stubber.add_response('describe_nodegroup', _nodegroup(3, 6, 3, 'ACTIVE'), NODEGROUP)
    stubber.add_response('describe_update', {'update': {'id': 'u-1', 'status': 'Failed', 'errors': [
        {'errorCode': 'AsgInstanceLaunchFailures', 'errorMessage': 'no capacity'}]}},
        {'name': 'lab', 'updateId': 'u-1', 'nodegroupName': 'kfuse-az2'})
    first = group.progress('u-1')
    assert not first.settled and first.change_status == 'InProgress' and first.failure is None
    assert group.progress('u-1').settled
    failed = group.progress('u-1')
    assert 'is Failed (AsgInstanceLaunchFailures: no capacity)' in failed.failure


def test_eks_progress_without_describe_update_falls_back_to_the_status(eks):
    group, stubber = eks
    stubber.add_response('describe_nodegroup', _nodegroup(3, 6, 3, 'ACTIVE'), NODEGROUP)
    stubber.add_client_error('describe_update', '404', 'Not Found', http_status_code=404)
    stubber.add_response('describe_nodegroup', _nodegroup(3, 6, 3, 'ACTIVE'), NODEGROUP)
    assert group.progress('u-1').settled
    # Not asked again.
    assert group.progress('u-1').settled


# -- Auto Scaling -----------------------------------------------------------------------------------------------

def test_asg_read_resize_and_not_found():
    client = _client('autoscaling')
    group = aws.AutoScalingGroup(client, 'kfuse-asg')
    with Stubber(client) as stubber:
        stubber.add_response('describe_auto_scaling_groups', {'AutoScalingGroups': [{
            'AutoScalingGroupName': 'kfuse-asg', 'MinSize': 0, 'MaxSize': 4, 'DesiredCapacity': 0,
            'DefaultCooldown': 300, 'AvailabilityZones': ['us-east-1a'], 'HealthCheckType': 'EC2',
            'CreatedTime': '2026-01-01T00:00:00Z'}]}, {'AutoScalingGroupNames': ['kfuse-asg']})
        state = group.read()
        assert state.sizes.as_tuple() == (0, 4, 0) and state.status is None and not state.busy
        stubber.add_response('update_auto_scaling_group', {}, {'AutoScalingGroupName': 'kfuse-asg', 'MinSize': 2,
                                                               'MaxSize': 4, 'DesiredCapacity': 2})
        assert group.resize(state, GroupSizes(2, 4, 2)) is None
        stubber.add_response('describe_auto_scaling_groups', {'AutoScalingGroups': []})
        with pytest.raises(NodeGroupError, match='Auto Scaling group kfuse-asg: not found'):
            group.read()
        stubber.add_client_error('update_auto_scaling_group', 'ScalingActivityInProgress', 'busy',
                                 http_status_code=400)
        with pytest.raises(NodeGroupError) as caught:
            group.resize(state, GroupSizes(2, 4, 2))
        assert caught.value.busy
    with pytest.raises(NodeGroupError, match='being deleted'):
        group.check_change(GroupState(GroupSizes(0, 4, 0), status='Delete in progress'), GroupSizes(1, 4, 1))


# -- GKE and AKS over a scripted HTTP session ----------------------------------------------------------------------

class FakeResponse:
    def __init__(self, status, body, headers=None):
        self.status_code = status
        self.text = body if isinstance(body, str) else json.dumps(body)
        self.headers = headers or {}


class FakeSession:
    """Answers in order by (method, url prefix); records every request."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, json=None, params=None, headers=None, timeout=None):  # pylint: disable=redefined-outer-name
        self.sent.append({'method': method, 'url': url, 'json': json, 'params': params, 'headers': headers})
        for index, (want_method, prefix, response) in enumerate(self.answers):
            if want_method == method and url.startswith(prefix):
                del self.answers[index]
                return response
        raise AssertionError('unexpected %s %s' % (method, url))


API = 'https://container.example.test'
POOL = API + '/v1/projects/p/locations/us-central1/clusters/c/nodePools/kfuse-b'
MANAGER = 'https://compute.googleapis.com/compute/v1/projects/p/zones/us-central1-b/instanceGroupManagers/gke-c-kfuse-b'


def _gke(answers):
    pool = gke.GkeNodePool(API, 'p', 'us-central1', 'c', 'kfuse-b', token=lambda: 'tok')
    pool.rest.session = FakeSession(answers)
    return pool


def _pool_body(status='RUNNING', urls=(MANAGER.replace('instanceGroupManagers', 'instanceGroups'),),
               autoscaling=None):
    return {'name': 'kfuse-b', 'status': status, 'instanceGroupUrls': list(urls), 'autoscaling': autoscaling or {}}


def test_gke_reads_the_instance_group_target_size_and_sets_the_size():
    pool = _gke([
        ('GET', POOL, FakeResponse(200, _pool_body())),
        ('GET', MANAGER, FakeResponse(200, {'targetSize': 2, 'zone': 'https://x/zones/us-central1-b'})),
        ('POST', POOL + ':setSize', FakeResponse(200, {'name': 'operation-1', 'status': 'RUNNING'})),
        ('GET', POOL, FakeResponse(200, _pool_body('RECONCILING'))),
        ('GET', MANAGER, FakeResponse(200, {'targetSize': 3})),
        ('GET', API + '/v1/projects/p/locations/us-central1/operations/operation-1',
         FakeResponse(200, {'name': 'operation-1', 'status': 'RUNNING'})),
        ('GET', POOL, FakeResponse(200, _pool_body())),
        ('GET', MANAGER, FakeResponse(200, {'targetSize': 3})),
        ('GET', API + '/v1/projects/p/locations/us-central1/operations/operation-1',
         FakeResponse(200, {'name': 'operation-1', 'status': 'DONE'})),
    ])
    state = pool.read()
    assert state.sizes.as_tuple() == (None, None, 2) and state.status == 'RUNNING'
    assert state.details['zone_sizes'] == {'us-central1-b': 2}
    assert pool.resize(state, GroupSizes(None, None, 3)) == 'operation-1'
    assert pool.rest.session.sent[2]['json'] == {'nodeCount': 3}
    assert pool.rest.session.sent[2]['headers']['Authorization'] == 'Bearer tok'
    first = pool.progress('operation-1')
    assert not first.settled and first.state.busy and first.change_status == 'RUNNING'
    assert pool.progress('operation-1').settled


def test_gke_errors_busy_refusals_and_failed_operation():
    pool = _gke([
        ('POST', POOL + ':setSize', FakeResponse(400, {'error': {
            'code': 400, 'status': 'FAILED_PRECONDITION', 'message': 'Cluster is running incompatible operation o-9.'}})),
        ('GET', POOL, FakeResponse(404, {'error': {'code': 404, 'status': 'NOT_FOUND', 'message': 'Not found: x.'}})),
        ('GET', POOL, FakeResponse(429, {'error': {'code': 429, 'status': 'RESOURCE_EXHAUSTED', 'message': 'quota'}},
                                   {'Retry-After': '7'})),
        ('GET', POOL, FakeResponse(200, _pool_body(urls=()))),
        ('GET', API + '/v1/projects/p/locations/us-central1/operations/o-1', FakeResponse(200, {
            'name': 'o-1', 'status': 'DONE', 'error': {'code': 9, 'message': 'quota exceeded for CPUS'}})),
    ])
    with pytest.raises(NodeGroupError) as caught:
        pool.resize(None, GroupSizes(None, None, 3))
    assert caught.value.busy and caught.value.code == 'FAILED_PRECONDITION'
    with pytest.raises(NodeGroupError) as caught:
        pool.read()
    assert not caught.value.transient and '404 NOT_FOUND: Not found: x.' in str(caught.value)
    with pytest.raises(NodeGroupError) as caught:
        pool.read()
    assert caught.value.transient and caught.value.retry_after == 7.0
    failed = pool.progress('o-1')
    assert 'failed: quota exceeded for CPUS' in failed.failure
    assert failed.state.sizes.desired_size is None


def test_gke_refuses_autoscaled_pools_and_untrusted_instance_group_urls():
    pool = _gke([('GET', POOL, FakeResponse(200, _pool_body(urls=('https://evil.example/instanceGroups/x',))))])
    with pytest.raises(NodeGroupError, match='refusing to send the access token to https://evil.example'):
        pool.read()
    state = GroupState(GroupSizes(None, None, 0), 'RUNNING', details={'autoscaling': {
        'enabled': True, 'minNodeCount': 1, 'maxNodeCount': 5}})
    with pytest.raises(NodeGroupError, match='autoscaling is enabled .min 1, max 5.*provider=none'):
        pool.check_change(state, GroupSizes(None, None, 3))


ARM = 'https://management.example.test'
AGENT_POOL = ARM + '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/kfuseb'
OPERATION = ARM + '/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/op-7?api-version=v'


def _aks(answers):
    pool = aks.AksAgentPool(ARM, 's', 'rg', 'c', 'kfuseb', token=lambda: 'tok', api_version='2025-08-01')
    pool.rest.session = FakeSession(answers)
    return pool


def _agent_pool(count=0, state='Succeeded', mode='User', autoscaling=False, etag=None):
    properties = {'count': count, 'vmSize': 'Standard_D4s_v5', 'mode': mode, 'provisioningState': state,
                  'enableAutoScaling': autoscaling, 'nodeImageVersion': 'img-1', 'powerState': {'code': 'Running'}}
    if etag:
        properties['eTag'] = etag
    return {'id': '/x', 'name': 'kfuseb', 'properties': properties}


def test_aks_put_keeps_the_pool_changes_count_and_polls_the_operation():
    pool = _aks([
        ('GET', AGENT_POOL, FakeResponse(200, _agent_pool(etag='"e-1"'))),
        ('PUT', AGENT_POOL, FakeResponse(200, _agent_pool(3, 'Scaling'), {'Azure-AsyncOperation': OPERATION})),
        ('GET', AGENT_POOL, FakeResponse(200, _agent_pool(3, 'Scaling'))),
        ('GET', OPERATION, FakeResponse(200, {'name': 'op-7', 'status': 'InProgress'})),
        ('GET', AGENT_POOL, FakeResponse(200, _agent_pool(3))),
        ('GET', OPERATION, FakeResponse(200, {'name': 'op-7', 'status': 'Succeeded'})),
    ])
    state = pool.read()
    assert state.sizes.as_tuple() == (None, None, 0) and state.status == 'Succeeded'
    assert pool.rest.session.sent[0]['params'] == {'api-version': '2025-08-01'}
    assert pool.resize(state, GroupSizes(None, None, 3)) == 'op-7'
    put = pool.rest.session.sent[1]
    assert put['headers']['If-Match'] == '"e-1"'
    assert put['json']['properties']['count'] == 3 and put['json']['properties']['vmSize'] == 'Standard_D4s_v5'
    assert not set(put['json']['properties']) & {'provisioningState', 'nodeImageVersion', 'eTag'}
    assert not pool.progress('op-7').settled
    assert pool.progress('op-7').settled


def test_aks_errors_and_refusals():
    pool = _aks([
        ('PUT', AGENT_POOL, FakeResponse(409, {'error': {'code': 'OperationNotAllowed', 'message': 'scale in progress'}})),
        ('GET', AGENT_POOL, FakeResponse(401, {'error': {'code': 'InvalidAuthenticationToken', 'message': 'bad'}})),
        ('GET', AGENT_POOL, FakeResponse(200, _agent_pool(3, 'Failed'))),
        ('GET', OPERATION, FakeResponse(200, {'name': 'op-7', 'status': 'Failed', 'error': {
            'code': 'QuotaExceeded', 'message': 'no cores left'}})),
    ])
    with pytest.raises(NodeGroupError) as caught:
        pool.resize(GroupState(GroupSizes(None, None, 0), details={'pool': _agent_pool()}), GroupSizes(None, None, 3))
    assert caught.value.busy and caught.value.code == 'OperationNotAllowed'
    with pytest.raises(NodeGroupError) as caught:
        pool.read()
    assert not caught.value.transient and 'InvalidAuthenticationToken' in str(caught.value)
    pool._operations['op-7'] = OPERATION  # pylint: disable=protected-access
    failed = pool.progress('op-7')
    assert 'is Failed: QuotaExceeded no cores left' in failed.failure
    system = GroupState(GroupSizes(None, None, 1), 'Succeeded', details={'mode': 'System'})
    with pytest.raises(OptionError, match='size=0 is not allowed for AKS agent pool kfuseb.*System'):
        pool.check_change(system, GroupSizes(None, None, 0))
    details = {'autoscaling': True, 'min_count': 1, 'max_count': 3}
    autoscaled = GroupState(GroupSizes(None, None, 1), 'Succeeded', details=details)
    with pytest.raises(NodeGroupError, match='autoscaler is enabled .minCount 1, maxCount 3.'):
        pool.check_change(autoscaled, GroupSizes(None, None, 2))


def test_async_operation_on_another_host_is_not_followed():
    pool = _aks([
        ('PUT', AGENT_POOL, FakeResponse(200, _agent_pool(3, 'Scaling'), {
            'Azure-AsyncOperation': 'https://elsewhere.example/operations/op-8'})),
    ])
    assert pool.resize(GroupState(GroupSizes(None, None, 0), details={'pool': _agent_pool()}),
                       GroupSizes(None, None, 3)) == 'op-8'
    with pytest.raises(NodeGroupError, match='refusing to send the access token to https://elsewhere.example'):
        pool.rest.call('GET', pool._operations['op-8'])  # pylint: disable=protected-access


@pytest.mark.parametrize('value, message', [
    ('ftp://x', 'must be an https:// URL'), ('https://', 'must be an https:// URL'),
    ('http://example.com', 'plain http:// to example.com'), ('https://x/?q=1', 'must be an https:// URL'),
])
def test_api_url_checks(value, message):
    with pytest.raises(OptionError, match=message):
        check_api_url(value)
    assert check_api_url('http://127.0.0.1:8443/') == 'http://127.0.0.1:8443'
