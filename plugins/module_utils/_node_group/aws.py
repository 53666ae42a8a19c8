# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EKS managed node groups and EC2 Auto Scaling groups, through boto3.

EKS: ``DescribeNodegroup`` (``scalingConfig`` and ``status``), ``UpdateNodegroupConfig`` with
``scalingConfig{minSize,maxSize,desiredSize}`` and a ``clientRequestToken`` (so a call retried after a timeout or a
5xx is the same update; a fresh one after a refusal), ``DescribeUpdate`` for the update's outcome. A group that is not ACTIVE refuses updates with
``ResourceInUseException``: the module waits for ACTIVE, then retries.

Auto Scaling: ``DescribeAutoScalingGroups`` and ``UpdateAutoScalingGroup`` (MinSize, MaxSize, DesiredCapacity).

Retries are the module's own (``provider.Retrier``): botocore is told to make one attempt per call, so one policy
(full jitter, Retry-After, the deadline of the task) applies to every provider.
"""

from __future__ import annotations

import traceback
import uuid

from ansible_collections.kfuse.failover.plugins.module_utils._node_group.provider import (
    GroupState, NodeGroupProvider, Progress)
from ansible_collections.kfuse.failover.plugins.module_utils._node_group.sizes import GroupSizes
from ansible_collections.kfuse.failover.plugins.module_utils.errors import NodeGroupError, OptionError

try:
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore import exceptions as boto_exceptions
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()

    class _MissingBotocore:
        """Stand-ins so except clauses stay valid without botocore (aws_client refuses to run first)."""

        class ClientError(Exception):
            pass

        class BotoCoreError(Exception):
            pass

        class ProfileNotFound(BotoCoreError):
            pass

        class NoRegionError(BotoCoreError):
            pass

    boto_exceptions = _MissingBotocore

EKS_LABEL = 'eks.amazonaws.com/nodegroup'
# No standard label names an Auto Scaling group on its Nodes; kubelets of such groups register with
# --node-labels=kfuse.io/asg=<group> by this collection's convention (node_selector overrides it).
ASG_LABEL = 'kfuse.io/asg'

# Error codes that mean "try again later" on every AWS API, and those that mean "the group is busy".
TRANSIENT_CODES = frozenset((
    'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'RequestThrottledException',
    'RequestLimitExceeded', 'TooManyRequestsException', 'SlowDown', 'ServiceUnavailable',
    'ServiceUnavailableException', 'InternalFailure', 'InternalError', 'InternalServerError', 'ServerException',
    'ResourceContention'))
BUSY_CODES = frozenset(('ResourceInUseException', 'ScalingActivityInProgress'))
TRANSIENT_BOTO_ERRORS = ('EndpointConnectionError', 'ConnectionClosedError', 'ConnectTimeoutError',
                         'ReadTimeoutError', 'ConnectionError')

EKS_BUSY = frozenset(('CREATING', 'UPDATING'))
EKS_REFUSED = frozenset(('DELETING', 'CREATE_FAILED', 'DELETE_FAILED'))
EKS_UPDATE_FAILED = frozenset(('Failed', 'Cancelled'))


def aws_client(service, params):
    """A boto3 client of ``service`` from the module's AWS options; credentials from the options, the profile or
    boto3's default chain."""
    if not HAS_BOTO3:
        raise NodeGroupError('the boto3 Python library is required for provider %s' % params['provider'],
                             provider=params['provider'], code='MissingLibrary')
    # None lets botocore use AWS_CA_BUNDLE or the profile's ca_bundle, as the AWS CLI does.
    verify = (params.get('ca_path') or None) if params.get('validate_certs', True) else False
    try:
        session = boto3.session.Session(aws_access_key_id=params.get('access_key'),
                                        aws_secret_access_key=params.get('secret_key'),
                                        aws_session_token=params.get('session_token'),
                                        profile_name=params.get('profile'), region_name=params.get('region'))
        config = BotoConfig(connect_timeout=20, read_timeout=60,
                            retries={'total_max_attempts': 1, 'mode': 'standard'})
        return session.client(service, endpoint_url=params.get('endpoint_url'), verify=verify, config=config)
    except boto_exceptions.ProfileNotFound as exc:
        raise OptionError('profile: %s' % exc) from None
    except boto_exceptions.NoRegionError:
        raise OptionError('region: no AWS region is configured; set region (or AWS_REGION)') from None
    except (boto_exceptions.BotoCoreError, ValueError) as exc:
        raise NodeGroupError('cannot create the AWS %s client: %s' % (service, exc), provider=params['provider'],
                             code=type(exc).__name__) from None


class AwsProvider(NodeGroupProvider):
    """What EKS and Auto Scaling share: calls with error translation."""

    def __init__(self, client, name, cluster=None):
        super().__init__(name, cluster)
        self.client = client

    def _call(self, method, **kwargs):
        try:
            return getattr(self.client, method)(**kwargs)
        except boto_exceptions.ClientError as exc:
            raise self._client_error(method, exc) from None
        except boto_exceptions.BotoCoreError as exc:
            name = type(exc).__name__
            transient = name in TRANSIENT_BOTO_ERRORS or any(
                base.__name__ in TRANSIENT_BOTO_ERRORS for base in type(exc).__mro__)
            raise self.error('%s failed: %s' % (method, exc), code=name, transient=transient) from None

    def _client_error(self, method, exc):
        error = exc.response.get('Error', {})
        status = exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode')
        code = str(error.get('Code') or status or 'Unknown')
        message = ' '.join(str(error.get('Message') or exc).split())
        busy = code in BUSY_CODES
        transient = busy or code in TRANSIENT_CODES or (status is not None and (status == 429 or status >= 500))
        return self.error('%s failed: %s (%s)' % (method, message, code), code=code, transient=transient, busy=busy)


class EksNodeGroup(AwsProvider):
    """An EKS managed node group."""

    key = 'eks'
    label = EKS_LABEL
    change_key = 'update_id'
    kind = 'EKS node group'

    def __init__(self, client, name, cluster):
        super().__init__(client, name, cluster)
        # One idempotency token per module run: a resent UpdateNodegroupConfig is the same update.
        self._request_token = str(uuid.uuid4())
        self._describe_update = True

    def read(self):
        group = self._call('describe_nodegroup', clusterName=self.cluster, nodegroupName=self.name)['nodegroup']
        scaling = group.get('scalingConfig') or {}
        status = group.get('status')
        issues = [issue.get('message') or issue.get('code') for issue in (group.get('health') or {}).get('issues') or []]
        return GroupState(GroupSizes(scaling.get('minSize'), scaling.get('maxSize'), scaling.get('desiredSize')),
                          status=status, busy=status in EKS_BUSY, details={'issues': issues})

    def check_change(self, state, wanted):
        if state.status in EKS_REFUSED:
            raise self.error('the node group is %s and cannot be resized' % state.status, code=state.status)
        if wanted.max_size < 1:
            raise OptionError('max_size must be at least 1 for an EKS managed node group, got %d (the group can '
                              'still be scaled to size=0)' % wanted.max_size)

    def resize(self, state, wanted):
        try:
            answer = self._call('update_nodegroup_config', clusterName=self.cluster, nodegroupName=self.name,
                                scalingConfig={'minSize': wanted.min_size, 'maxSize': wanted.max_size,
                                               'desiredSize': wanted.desired_size},
                                clientRequestToken=self._request_token)
        except NodeGroupError as exc:
            if exc.busy or not exc.transient:
                # A definite refusal: nothing was created under this token, the next attempt gets a fresh one.
                # After a timeout or a 5xx the same token is sent again, so EKS makes it the same update.
                self._request_token = str(uuid.uuid4())
            raise
        return (answer.get('update') or {}).get('id')

    def progress(self, change_id):
        state = self.read()
        settled = not state.busy
        failure = update_status = None
        if change_id and self._describe_update:
            try:
                update = self._call('describe_update', name=self.cluster, updateId=change_id,
                                    nodegroupName=self.name).get('update') or {}
            except NodeGroupError as exc:
                if exc.transient:
                    raise
                # DescribeUpdate not allowed or not implemented: the group's status alone tells when it is done.
                self._describe_update = False
            else:
                update_status = update.get('status')
                if update_status in EKS_UPDATE_FAILED:
                    errors = '; '.join('%s: %s' % (item.get('errorCode'), item.get('errorMessage'))
                                       for item in update.get('errors') or []) or 'no error given'
                    failure = 'EKS update %s of %s is %s (%s)' % (change_id, self.describe(), update_status, errors)
                settled = settled and update_status == 'Successful'
        if state.status in EKS_REFUSED:
            failure = failure or '%s is %s' % (self.describe(), state.status)
        return Progress(state, settled, failure, update_status)


class AutoScalingGroup(AwsProvider):
    """An EC2 Auto Scaling group."""

    key = 'asg'
    label = ASG_LABEL
    kind = 'Auto Scaling group'

    def read(self):
        found = self._call('describe_auto_scaling_groups', AutoScalingGroupNames=[self.name]).get(
            'AutoScalingGroups') or []
        if not found:
            raise self.error('not found (DescribeAutoScalingGroups returned no group of that name)', code='NotFound')
        group = found[0]
        status = group.get('Status')  # only set while the group is being deleted
        instances = {}
        for instance in group.get('Instances') or []:
            state = instance.get('LifecycleState')
            instances[state] = instances.get(state, 0) + 1
        return GroupState(GroupSizes(group.get('MinSize'), group.get('MaxSize'), group.get('DesiredCapacity')),
                          status=status, details={'instances': instances})

    def check_change(self, state, wanted):
        if state.status:
            raise self.error('the group is being deleted (%s) and cannot be resized' % state.status,
                             code='DeleteInProgress')

    def resize(self, state, wanted):
        self._call('update_auto_scaling_group', AutoScalingGroupName=self.name, MinSize=wanted.min_size,
                   MaxSize=wanted.max_size, DesiredCapacity=wanted.desired_size)
        return None
