# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Service -> Pod -> container port resolution and the port-forward relay (with a stand-in for the websocket)."""

from __future__ import annotations

import datetime
import http.server
import socket
import threading

import pytest
import requests
from kubernetes import client as k8s
from urllib3.exceptions import MaxRetryError

from ansible_collections.kfuse.failover.plugins.module_utils import kube

T0 = datetime.datetime(2026, 11, 21, 9, 0, tzinfo=datetime.timezone.utc)


def pod(name, ready=True, phase='Running', ready_since=T0, created=T0, ports=None, deleting=False, restarts=0):
    conditions = [k8s.V1PodCondition(type='Ready', status='True' if ready else 'False', last_transition_time=ready_since)]
    container = k8s.V1Container(name='az', ports=[k8s.V1ContainerPort(container_port=p, name=n) for n, p in (ports or {}).items()])
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name=name, creation_timestamp=created, deletion_timestamp=T0 if deleting else None),
        spec=k8s.V1PodSpec(containers=[container]),
        status=k8s.V1PodStatus(phase=phase, conditions=conditions,
                               container_statuses=[k8s.V1ContainerStatus(name='az', restart_count=restarts, ready=ready,
                                                                         image='x', image_id='x')]))


class FakeCoreV1:
    def __init__(self, service, pods):
        self.service = service
        self.pods = pods
        self.selectors = []

    def read_namespaced_service(self, name, namespace):
        if self.service is None:
            raise k8s.ApiException(status=404, reason='Not Found')
        assert (name, namespace) == (self.service.metadata.name, self.service.metadata.namespace)
        return self.service

    def list_namespaced_pod(self, namespace, label_selector):
        self.selectors.append((namespace, label_selector))
        return k8s.V1PodList(items=self.pods)


def service(target_port=8443, port=8080, selector=None):
    return k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name='az-service', namespace='kfuse'),
        spec=k8s.V1ServiceSpec(selector={'app': 'az-service', 'tier': 'x'} if selector is None else selector,
                               ports=[k8s.V1ServicePort(port=9999, target_port=1), k8s.V1ServicePort(port=port, target_port=target_port)]))


def test_numeric_target_port_and_selector():
    core = FakeCoreV1(service(target_port=8443), [pod('az-0')])
    assert kube.resolve_service_target(core, 'kfuse', 'az-service', 8080) == ('az-0', 8443)
    assert core.selectors == [('kfuse', 'app=az-service,tier=x')]


def test_named_target_port_resolves_on_the_chosen_pod():
    core = FakeCoreV1(service(target_port='https'), [pod('az-0', ports={'metrics': 9090, 'https': 8443})])
    assert kube.resolve_service_target(core, 'kfuse', 'az-service', 8080) == ('az-0', 8443)


def test_missing_target_port_means_service_port():
    core = FakeCoreV1(service(target_port=None), [pod('az-0')])
    assert kube.resolve_service_target(core, 'kfuse', 'az-service', 8080) == ('az-0', 8080)


def test_ready_pod_preferred_over_older_unready_ones():
    later = T0 + datetime.timedelta(minutes=5)
    pods = [pod('az-a', ready=False), pod('az-b', phase='Pending', ready=False), pod('az-c', deleting=True),
            pod('az-d', ready_since=later), pod('az-e', ready_since=T0, restarts=3), pod('az-f', ready_since=T0)]
    core = FakeCoreV1(service(), pods)
    assert kube.resolve_service_target(core, 'kfuse', 'az-service', 8080)[0] == 'az-f'


@pytest.mark.parametrize('svc, pods, message', [
    (None, [], 'cannot read service kfuse/az-service: 404'),
    (service(port=8081), [pod('az-0')], 'does not have a service port 8080 (ports: 9999, 8081)'),
    (service(selector={}), [pod('az-0')], 'has no selector'),
    (service(), [pod('az-0', ready=False)], 'no ready pod behind service kfuse/az-service'),
    (service(target_port='https'), [pod('az-0', ports={'http': 80})], "no container port named 'https'"),
])
def test_resolution_errors(svc, pods, message):
    with pytest.raises(kube.KubeError) as info:
        kube.resolve_service_target(FakeCoreV1(svc, pods), 'kfuse', 'az-service', 8080)
    assert message in str(info.value)


def test_unreachable_api_server_is_a_kube_error():
    class Unreachable(FakeCoreV1):
        def read_namespaced_service(self, name, namespace):
            raise MaxRetryError(None, '/api/v1/namespaces/kfuse/services/az-service', 'connection refused')

    with pytest.raises(kube.KubeError, match='cannot reach the Kubernetes API server'):
        kube.resolve_service_target(Unreachable(None, []), 'kfuse', 'az-service', 8080)


class StandInForward:
    """What kubernetes.stream.portforward returns, backed by a plain TCP connection to a local server."""

    def __init__(self, address, port):
        self.port = port
        self.sock = socket.create_connection(address)
        self.closed = False

    def socket(self, port):
        assert port == self.port
        return self.sock

    def error(self, port):
        assert port == self.port
        return None

    def close(self):
        self.closed = True
        self.sock.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # pylint: disable=invalid-name
        body = b'{"state": "active", "path": "%s"}' % self.path.encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(name='http_server')
def fixture_http_server():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_relay_carries_http_through_the_forward(http_server):
    calls = []

    def forward(api_method, name, namespace, ports):
        calls.append((api_method, name, namespace, ports))
        return StandInForward(http_server.server_address, 8443)

    core = k8s.CoreV1Api(api_client=k8s.ApiClient(k8s.Configuration()))
    with kube.PortForwardRelay(core, 'kfuse', 'az-0', 8443, forward=forward) as relay:
        with requests.Session() as session:
            for _round in range(3):
                answer = session.get('http://127.0.0.1:%d/status' % relay.local_port, timeout=5)
                assert answer.json() == {'state': 'active', 'path': '/status'}
        fresh = requests.get('http://127.0.0.1:%d/again' % relay.local_port, timeout=5)
        assert fresh.json()['path'] == '/again'
    assert relay.connections == 2  # keep-alive: one tunnel per TCP connection
    assert calls[0][1:] == ('az-0', 'kfuse', '8443')
    assert calls[0][0] == core.connect_get_namespaced_pod_portforward
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', relay.local_port), timeout=1).close()


def test_relay_closes_client_and_records_error_when_forward_fails():
    def forward(*_args, **_kwargs):
        raise k8s.ApiException(status=0, reason='Handshake status 403 Forbidden')

    core = k8s.CoreV1Api(api_client=k8s.ApiClient(k8s.Configuration()))
    with kube.PortForwardRelay(core, 'kfuse', 'az-0', 8443, forward=forward) as relay:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get('http://127.0.0.1:%d/status' % relay.local_port, timeout=5)
        assert 'Handshake status 403 Forbidden' in relay.describe()
        assert relay.describe().startswith('port-forward to pod kfuse/az-0 port 8443')


def test_new_api_client_reports_bad_kubeconfig(tmp_path):
    missing = tmp_path / 'nope.yaml'
    with pytest.raises(kube.KubeError, match='cannot load Kubernetes configuration'):
        kube.new_api_client(str(missing), 'ctx')
