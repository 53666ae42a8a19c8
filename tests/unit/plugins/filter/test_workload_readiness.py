# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""workload_readiness: rolled out and ready Deployments / StatefulSets, and the one-line summary of what is seen."""

from __future__ import annotations

import pytest

from ansible_collections.kfuse.failover.plugins.filter.workload_readiness import FilterModule, workload_readiness


def workload(name, replicas=1, generation=2, observed=2, ready=None, updated=None, current=None, kind='Deployment'):
    """A workload as k8s_info returns it; ready/updated/current default to ``replicas`` (fully rolled out)."""
    status = {'observedGeneration': observed,
              'readyReplicas': replicas if ready is None else ready,
              'updatedReplicas': replicas if updated is None else updated,
              'replicas': replicas if current is None else current}
    return {'apiVersion': 'apps/v1', 'kind': kind, 'metadata': {'name': name, 'generation': generation},
            'spec': {'replicas': replicas}, 'status': {k: v for k, v in status.items() if v is not None}}


def test_filter_is_registered():
    assert FilterModule().filters() == {'workload_readiness': workload_readiness}


def test_rolled_out_workloads_are_ready():
    found = workload_readiness([workload('az-service'), workload('kfuse-configdb', replicas=3, kind='StatefulSet')])
    assert found == {'ready': True, 'total': 2, 'ready_count': 2, 'ready_replicas': 4, 'waiting': [],
                     'summary': 'az-service 1/1, kfuse-configdb 3/3'}


def test_newer_observed_generation_is_fine():
    assert workload_readiness([workload('a', generation=2, observed=3)])['ready'] is True


@pytest.mark.parametrize('changes', [
    {'observed': 1},                      # the controller has not seen the latest spec
    {'observed': None},                   # nor any
    {'ready': 0},
    {'ready': 2, 'replicas': 3},
    {'updated': 0},                       # rollout not started
    {'current': 2},                       # an old replica is still running next to the new one
    {'ready': 2, 'current': 2},           # extra ready replica of the old revision
])
def test_not_ready(changes):
    found = workload_readiness([workload('az-service', **changes), workload('ok')])
    assert found['ready'] is False
    assert found['waiting'] == ['az-service'] and found['ready_count'] == 1 and found['total'] == 2


def test_old_replica_still_present_is_not_ready_though_all_wanted_are_ready():
    old_still_there = workload('kfuse-ingest', replicas=2, ready=2, updated=2, current=3)
    found = workload_readiness([old_still_there])
    assert found['ready'] is False and found['summary'] == 'kfuse-ingest 2/2'


@pytest.mark.parametrize('given', [[], None])
def test_no_workloads_are_ready_with_none_found(given):
    assert workload_readiness(given) == {'ready': True, 'total': 0, 'ready_count': 0, 'ready_replicas': 0,
                                         'waiting': [], 'summary': 'none found'}


def test_summary_is_name_ready_over_wanted():
    found = workload_readiness([workload('az-service', replicas=1, ready=1), workload('kfuse-configdb', replicas=3, ready=1),
                                workload('pinot-server', replicas=2, ready=None)])
    assert found['summary'] == 'az-service 1/1, kfuse-configdb 1/3, pinot-server 2/2'
    assert found['waiting'] == ['kfuse-configdb'] and found['ready_replicas'] == 4


def test_a_status_without_ready_replicas_counts_zero():
    fresh = {'metadata': {'name': 'new', 'generation': 1}, 'spec': {'replicas': 2}, 'status': {}}
    found = workload_readiness([fresh])
    assert found['summary'] == 'new 0/2' and found['ready'] is False and found['waiting'] == ['new']


def test_spec_replicas_defaults_to_one():
    one = {'metadata': {'name': 'one', 'generation': 1},
           'status': {'observedGeneration': 1, 'readyReplicas': 1, 'updatedReplicas': 1, 'replicas': 1}}
    assert workload_readiness([one]) == {'ready': True, 'total': 1, 'ready_count': 1, 'ready_replicas': 1,
                                         'waiting': [], 'summary': 'one 1/1'}


def test_scaled_to_zero_is_ready():
    zero = {'metadata': {'name': 'zero', 'generation': 4}, 'spec': {'replicas': 0}, 'status': {'observedGeneration': 4}}
    found = workload_readiness([zero])
    assert found['ready'] is True and found['summary'] == 'zero 0/0'


def test_scaling_down_to_zero_with_a_replica_left_is_not_ready():
    draining = {'metadata': {'name': 'drain', 'generation': 5}, 'spec': {'replicas': 0},
                'status': {'observedGeneration': 5, 'replicas': 1, 'readyReplicas': 1}}
    assert workload_readiness([draining])['ready'] is False


def test_a_workload_without_metadata_is_named_question_mark():
    found = workload_readiness([{'spec': {'replicas': 1}, 'status': {}}])
    assert found['waiting'] == ['?'] and found['summary'] == '? 0/1'
