# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Helm values derived for a zone: set_path, zone_affinity, zone_values and the zone_values filter."""

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kfuse.failover.plugins.filter.zone_values import FilterModule, zone_values_filter
from ansible_collections.kfuse.failover.plugins.module_utils._helm_values import set_path, zone_affinity, zone_values
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

ZONE_LABEL = 'topology.kubernetes.io/zone'
TOLERATIONS = [{'key': 'kfuse', 'operator': 'Equal', 'value': 'az2', 'effect': 'NoSchedule'}]
S3 = {'type': 's3', 'useSecret': True, 'secretName': 'cloud-storage-secret',
      's3': {'region': 'us-east-1', 'bucket': 'kfuse-shared'}, 'endpoint_url': 'http://127.0.0.1:9000'}


def affinity(*expressions):
    return {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
        {'matchExpressions': [{'key': key, 'operator': 'In', 'values': [value]} for key, value in expressions]}]}}}


# -- set_path -----------------------------------------------------------------------------------------------------

def test_set_path_creates_the_nesting_and_returns_the_same_dict():
    values = {}
    assert set_path(values, 'a.b.c', 1) is values
    assert values == {'a': {'b': {'c': 1}}}


def test_set_path_keeps_siblings_and_replaces_non_dict_parents():
    values = {'a': {'keep': True, 'b': 'scalar'}, 'other': 1}
    set_path(values, 'a.b.c', 2)
    assert values == {'a': {'keep': True, 'b': {'c': 2}}, 'other': 1}


def test_set_path_single_key():
    assert set_path({'x': 1}, 'y', [1]) == {'x': 1, 'y': [1]}


def test_set_path_copies_the_value():
    value = {'nested': ['list']}
    values = set_path({}, 'a', value)
    value['nested'].append('changed')
    assert values == {'a': {'nested': ['list']}}


@pytest.mark.parametrize('path', ['', '.', 'a..b', '.a', 'a.', 'global..affinity'])
def test_set_path_refuses_empty_parts(path):
    values = {}
    with pytest.raises(OptionError) as info:
        set_path(values, path, 1)
    assert repr(path) in str(info.value) and 'none empty' in str(info.value)
    assert values == {}


# -- zone_affinity ------------------------------------------------------------------------------------------------

def test_zone_affinity_without_node_labels():
    assert zone_affinity('us-east-1b', ZONE_LABEL) == affinity((ZONE_LABEL, 'us-east-1b'))


def test_zone_affinity_with_node_labels_sorted_and_stringified():
    found = zone_affinity('us-east-1b', ZONE_LABEL, {'eks.amazonaws.com/nodegroup': 'kfuse-az2', 'tier': 3})
    assert found == affinity(('eks.amazonaws.com/nodegroup', 'kfuse-az2'), ('tier', '3'), (ZONE_LABEL, 'us-east-1b'))


def test_zone_affinity_zone_label_wins_over_node_labels():
    found = zone_affinity('us-east-1b', ZONE_LABEL, {ZONE_LABEL: 'us-east-1a'})
    assert found == affinity((ZONE_LABEL, 'us-east-1b'))


def test_zone_affinity_leaves_node_labels_alone():
    labels = {'pool': 'a'}
    zone_affinity('z', ZONE_LABEL, labels)
    assert labels == {'pool': 'a'}


# -- zone_values ----------------------------------------------------------------------------------------------------

def test_defaults_pin_global_affinity_only():
    assert zone_values('us-east-1b') == {'global': {'affinity': affinity((ZONE_LABEL, 'us-east-1b'))}}


def test_custom_node_label_and_node_labels():
    found = zone_values('az2', node_label='kfuse/zone', node_labels={'pool': 'kfuse'})
    assert found == {'global': {'affinity': affinity(('kfuse/zone', 'az2'), ('pool', 'kfuse'))}}


def test_affinity_at_every_path_and_none_for_an_empty_list():
    found = zone_values('az2', affinity_paths=['controller.affinity', 'defaultBackend.affinity'])
    assert found == {'controller': {'affinity': affinity((ZONE_LABEL, 'az2'))},
                     'defaultBackend': {'affinity': affinity((ZONE_LABEL, 'az2'))}}
    assert zone_values('az2', affinity_paths=[]) == {}


@pytest.mark.parametrize('tolerations', [None, []])
def test_no_tolerations_unless_given(tolerations):
    found = zone_values('az2', tolerations=tolerations, tolerations_paths=['controller.tolerations'])
    assert 'tolerations' not in found['global'] and 'controller' not in found


def test_tolerations_at_default_and_custom_paths():
    assert zone_values('az2', tolerations=TOLERATIONS)['global']['tolerations'] == TOLERATIONS
    found = zone_values('az2', affinity_paths=['controller.affinity'], tolerations_paths=['controller.tolerations'],
                        tolerations=TOLERATIONS)
    assert found == {'controller': {'affinity': affinity((ZONE_LABEL, 'az2')), 'tolerations': TOLERATIONS}}


def test_tolerations_must_be_dicts():
    with pytest.raises(OptionError, match='tolerations must be a list of dicts'):
        zone_values('az2', tolerations=['NoSchedule'])


def test_node_labels_must_be_a_dict():
    with pytest.raises(OptionError, match='node_labels must be a dict'):
        zone_values('az2', node_labels=['pool=kfuse'])


def test_cloud_storage_copied_with_only_the_dropped_keys_left_out():
    found = zone_values('az2', cloud_storage=S3, drop_storage_keys=('endpoint_url',))
    assert found['global']['cloudStorage'] == {k: v for k, v in S3.items() if k != 'endpoint_url'}
    assert zone_values('az2', cloud_storage=S3)['global']['cloudStorage'] == S3


def test_cloud_storage_must_be_a_dict():
    with pytest.raises(OptionError, match='cloud_storage must be a dict'):
        zone_values('az2', cloud_storage='s3://bucket')


def test_extra_dotted_paths_are_merged_with_the_derived_values():
    found = zone_values('us-east-1b', extra={'az-service.config.zone': 'us-east-1b', 'global.orgId': 'kfuse'})
    assert found == {'global': {'affinity': affinity((ZONE_LABEL, 'us-east-1b')), 'orgId': 'kfuse'},
                     'az-service': {'config': {'zone': 'us-east-1b'}}}


@pytest.mark.parametrize('zone_id', ['', '   ', None, 5, ['us-east-1b']])
def test_bad_zone_id_is_refused(zone_id):
    with pytest.raises(OptionError, match='zone id must be a non-empty string'):
        zone_values(zone_id)


# -- the filter -----------------------------------------------------------------------------------------------------

def test_filter_is_registered():
    assert FilterModule().filters() == {'zone_values': zone_values_filter}


def test_filter_drops_endpoint_url_and_leaves_the_input_alone():
    given = copy.deepcopy(S3)
    found = zone_values_filter('us-east-1b', cloud_storage=given, extra={'az-service.config.zone': 'us-east-1b'})
    assert found['global']['cloudStorage'] == {'type': 's3', 'useSecret': True, 'secretName': 'cloud-storage-secret',
                                               's3': {'region': 'us-east-1', 'bucket': 'kfuse-shared'}}
    assert given == S3
    assert found['az-service'] == {'config': {'zone': 'us-east-1b'}}
    assert found['global']['affinity'] == affinity((ZONE_LABEL, 'us-east-1b'))


def test_filter_without_cloud_storage_sets_none():
    assert 'cloudStorage' not in zone_values_filter('az1')['global']


def test_filter_passes_every_option_on():
    found = zone_values_filter('az2', affinity_paths=['controller.affinity'], tolerations_paths=['controller.tolerations'],
                               tolerations=TOLERATIONS, node_label='kfuse/zone', node_labels={'pool': 'p'})
    assert found == {'controller': {'affinity': affinity(('kfuse/zone', 'az2'), ('pool', 'p')),
                                    'tolerations': TOLERATIONS}}


@pytest.mark.parametrize('zone_id', ['', None, 42])
def test_filter_bad_zone_id_is_a_filter_error_naming_the_zone(zone_id):
    with pytest.raises(AnsibleFilterError) as info:
        zone_values_filter(zone_id)
    assert str(info.value).startswith('zone_values: the zone id must be a non-empty string')
    assert repr(zone_id) in str(info.value)


def test_filter_bad_extra_path_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"zone_values: value path 'global\.\.x'"):
        zone_values_filter('az2', extra={'global..x': 1})
