# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""az_connection: a zone's kfuse_az_service and kfuse_kube host vars turned into az_service module options."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kfuse.failover.plugins.filter.az_connection import FilterModule, az_connection

KUBE = {'kubeconfig': '/home/ops/.kube/az2', 'context': 'az2', 'namespace': 'kfuse'}
URL = 'https://az-service.az2.example.com'


def test_filter_is_registered():
    assert FilterModule().filters() == {'az_connection': az_connection}


def test_reach_defaults_to_url_when_url_is_set():
    assert az_connection({'url': URL, 'service': 'az-service', 'port': 8080}, KUBE) == {'url': URL}


def test_reach_defaults_to_kube_without_url():
    assert az_connection({'service': 'az-service', 'port': 8080}, KUBE) == {
        'kubeconfig': '/home/ops/.kube/az2', 'context': 'az2', 'namespace': 'kfuse', 'service': 'az-service',
        'service_port': 8080}


@pytest.mark.parametrize('reach', [None, ''])
def test_unset_reach_is_the_default(reach):
    assert az_connection({'reach': reach, 'url': URL}, KUBE) == {'url': URL}
    assert az_connection({'reach': reach}, KUBE) == KUBE


def test_reach_kube_wins_over_a_url():
    found = az_connection({'reach': 'kube', 'url': URL, 'service': 'az-service', 'port': 8080}, KUBE)
    assert 'url' not in found and found['service'] == 'az-service' and found['service_port'] == 8080
    assert found['context'] == 'az2'


def test_reach_url_ignores_kube():
    assert az_connection({'reach': 'url', 'url': URL}, KUBE) == {'url': URL}


def test_bad_reach_names_the_choices():
    with pytest.raises(AnsibleFilterError) as info:
        az_connection({'reach': 'ssh', 'url': URL}, KUBE)
    assert str(info.value) == "az_connection: reach must be one of url, kube, got 'ssh'"


@pytest.mark.parametrize('url', [None, ''])
def test_reach_url_needs_a_url(url):
    with pytest.raises(AnsibleFilterError, match='reach url needs kfuse_az_service.url'):
        az_connection({'reach': 'url', 'url': url}, KUBE)


def test_input_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match='kfuse_az_service must be a dict, got str'):
        az_connection(URL, KUBE)


@pytest.mark.parametrize('reach', ['url', 'kube'])
def test_tls_token_and_status_map_are_passed_on(reach):
    status_map = {'state': 'mode', 'values': {'ACTIVE': 'active'}}
    found = az_connection({'reach': reach, 'url': URL, 'ca_path': '/etc/ssl/kfuse-ca.pem', 'validate_certs': False,
                           'token': 'az-token-value', 'status_map': status_map, 'unrelated': 'x'}, KUBE)
    assert found['ca_path'] == '/etc/ssl/kfuse-ca.pem'
    assert found['validate_certs'] is False
    assert found['token'] == 'az-token-value'
    assert found['status_map'] == status_map
    assert 'unrelated' not in found and 'reach' not in found


def test_none_values_are_dropped_and_falsy_ones_kept():
    found = az_connection({'service': 'az-service', 'port': None, 'token': None, 'ca_path': None,
                           'validate_certs': False, 'status_map': None},
                          {'kubeconfig': None, 'context': 'az2', 'namespace': None})
    assert found == {'context': 'az2', 'service': 'az-service', 'validate_certs': False}


@pytest.mark.parametrize('kube', [None, {}])
def test_kube_may_be_omitted(kube):
    assert az_connection({'service': 'az-service'}, kube) == {'service': 'az-service'}
    assert az_connection({}, kube) == {}
