# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AzServiceModule: how the connection options become a client (URL or Kubernetes port-forward)."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.kfuse.failover.plugins.module_utils import _az_module, kube
from ansible_collections.kfuse.failover.tests.unit.module_runner import patch_module_args


class Failed(Exception):
    pass


class FakeRelay:
    instances = []

    def __init__(self, core_v1, namespace, pod, port):
        self.args = (core_v1, namespace, pod, port)
        self.closed = False
        FakeRelay.instances.append(self)

    def start(self):
        return 40123

    def describe(self):
        return 'port-forward to pod %s/%s port %s' % self.args[1:]

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def fixture_no_exit(monkeypatch):
    def fail_json(_module, **kwargs):
        raise Failed(kwargs['msg'])

    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda _m, _t: None)
    # The TLS file options name files that must exist; these tests only look at how they are passed on.
    monkeypatch.setattr(_az_module.os.path, 'isfile', lambda _path: True)


def make_module(args):
    with patch_module_args(args):
        return _az_module.AzServiceModule(argument_spec={})


@pytest.fixture(name='kube_stubs')
def fixture_kube_stubs(monkeypatch):
    seen = {}

    def new_api_client(kubeconfig, context):
        seen['config'] = (kubeconfig, context)
        return mock.sentinel.api_client

    def resolve(core_v1, namespace, service, port):
        seen['resolve'] = (namespace, service, port)
        return 'az-service-0', 8443

    FakeRelay.instances = []
    monkeypatch.setattr(kube, 'new_api_client', new_api_client)
    monkeypatch.setattr(kube, 'resolve_service_target', resolve)
    monkeypatch.setattr(kube, 'PortForwardRelay', FakeRelay)
    return seen


def test_kube_defaults_and_relay(kube_stubs):
    module = make_module({'context': 'az2', 'ca_path': '/ca.pem', 'token': 't0k'})
    with module.connect() as client:
        assert client.base_url == 'https://localhost:40123'
        assert client.session.trust_env is False
        assert client.verify == '/ca.pem' and client.token == 't0k'
        assert client.transport_note() == 'port-forward to pod kfuse/az-service-0 port 8443'
    assert kube_stubs['config'] == (None, 'az2')
    assert kube_stubs['resolve'] == ('kfuse', 'az-service', 8080)
    assert FakeRelay.instances[0].closed


def test_kube_options_override_defaults(kube_stubs):
    module = make_module({'kubeconfig': '/kc', 'namespace': 'kf2', 'service': 'azs', 'service_port': 9443, 'scheme': 'http'})
    client = module.build_client()
    assert client.base_url == 'http://localhost:40123'
    assert kube_stubs['resolve'] == ('kf2', 'azs', 9443)
    module.close_relay()
    assert FakeRelay.instances[0].closed


def test_kube_error_fails_with_its_message(monkeypatch):
    def resolve(*_args):
        raise kube.KubeError('no ready pod behind service kfuse/az-service')

    monkeypatch.setattr(kube, 'new_api_client', lambda *_a: mock.sentinel.api_client)
    monkeypatch.setattr(kube, 'resolve_service_target', resolve)
    module = make_module({'context': 'az2'})
    with pytest.raises(Failed, match='no ready pod behind service'):
        module.build_client()


@pytest.mark.parametrize('args, verify, cert', [
    ({'url': 'https://x'}, True, None),
    ({'url': 'https://x', 'validate_certs': False, 'ca_path': '/ca.pem'}, False, None),
    ({'url': 'https://x', 'client_cert': '/c.pem', 'client_key': '/k.pem'}, True, ('/c.pem', '/k.pem')),
    ({'url': 'https://x', 'client_cert': '/both.pem'}, True, '/both.pem'),
])
def test_url_mode_tls(args, verify, cert):
    client = make_module(args).build_client()
    assert (client.base_url, client.verify, client.cert, client.session.trust_env) == ('https://x', verify, cert, True)


def test_token_from_environment(monkeypatch):
    monkeypatch.setenv('KFUSE_AZ_SERVICE_TOKEN', 'from-env')
    assert make_module({'url': 'https://x'}).build_client().token == 'from-env'


@pytest.mark.parametrize('url, trust_env', [
    ('http://127.0.0.1:8082', False), ('http://localhost:8082', False), ('https://127.0.0.1:8082', True),
    ('http://az.example.test', True),
])
def test_plain_http_loopback_urls_ignore_environment_proxies(url, trust_env):
    # The token may go over plain http to this machine only; an HTTP_PROXY would carry it elsewhere.
    args = {'url': url, 'allow_insecure_token': True} if 'example' in url else {'url': url}
    client = make_module(args).build_client()
    assert client.session.trust_env is trust_env
