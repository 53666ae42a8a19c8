# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration tests of the lab's Kubernetes API emulator against the official clients: the kubernetes Python
client, kubernetes.core through ansible-playbook, kubectl and helm."""

import base64
import http.server
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kubernetes import client as k8s_client, config as k8s_config, watch as k8s_watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = REPO / ".venv" / "bin"
TOOLS_BIN = REPO / ".tools" / "bin"
TOKENS = {"az1": "token-az1-secret", "az2": "token-az2-secret"}
if str(REPO / "tests" / "lab") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "lab"))

import kubeapi_lab  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The emulator with two clusters, a kubeconfig for both, and environment for the CLI tools."""
    workdir = tmp_path_factory.mktemp("kubeapi")
    emulator = kubeapi_lab.start_kubeapi(workdir, ("az1", "az2"), tokens=TOKENS,
                                         extra_args=("--ready-delay", "0.5", "--verbose"))
    try:
        assert emulator.ready["pid"] == emulator.pid
        home = workdir / "home"
        home.mkdir()
        tool_env = dict(os.environ, HOME=str(home), KUBECONFIG=str(emulator.kubeconfig),
                        XDG_CACHE_HOME=str(home / ".cache"), XDG_CONFIG_HOME=str(home / ".config"),
                        XDG_DATA_HOME=str(home / ".local" / "share"),
                        HELM_CACHE_HOME=str(home / "helm-cache"), HELM_CONFIG_HOME=str(home / "helm-config"),
                        HELM_DATA_HOME=str(home / "helm-data"))
        yield {"clusters": emulator.clusters, "kubeconfig": emulator.kubeconfig, "ca": emulator.ca, "dir": workdir,
               "env": tool_env, "log": emulator.log, "tls": (emulator.pki["server_cert"], emulator.pki["server_key"])}
    finally:
        emulator.stop()


def api_client(lab, context="az1"):
    return k8s_config.new_client_from_config(config_file=str(lab["kubeconfig"]), context=context)


@pytest.fixture(scope="module")
def core(lab):
    return k8s_client.CoreV1Api(api_client(lab))


@pytest.fixture(scope="module")
def apps(lab):
    return k8s_client.AppsV1Api(api_client(lab))


def ensure_namespace(core_api, name):
    try:
        core_api.create_namespace(k8s_client.V1Namespace(metadata=k8s_client.V1ObjectMeta(name=name)))
    except ApiException as exc:
        assert exc.status == 409


def wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %ss" % timeout)


# -- the kubernetes Python client ------------------------------------------------------------------------------


def test_unauthenticated_requests_get_401(lab):
    configuration = k8s_client.Configuration()
    configuration.host = lab["clusters"]["az1"]["url"]
    configuration.ssl_ca_cert = str(lab["ca"])
    configuration.api_key = {"authorization": "Bearer wrong-token"}
    with pytest.raises(ApiException) as info:
        k8s_client.CoreV1Api(k8s_client.ApiClient(configuration)).list_namespace()
    assert info.value.status == 401
    assert json.loads(info.value.body)["kind"] == "Status"


def test_version_and_discovery(lab):
    api = api_client(lab)
    assert k8s_client.VersionApi(api).get_code().major == "1"
    groups = {g.name for g in k8s_client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "coordination.k8s.io"} <= groups
    names = {r.name for r in k8s_client.CoreV1Api(api).get_api_resources().resources}
    assert {"namespaces", "secrets", "configmaps", "services", "pods", "pods/portforward"} <= names


def test_crud_and_status_objects(core):
    ensure_namespace(core, "crud")
    body = k8s_client.V1ConfigMap(metadata=k8s_client.V1ObjectMeta(generate_name="cm-", labels={"tier": "a"}),
                                  data={"k": "v"})
    created = core.create_namespaced_config_map("crud", body)
    assert created.metadata.name.startswith("cm-") and created.metadata.uid and created.metadata.creation_timestamp
    fetched = core.read_namespaced_config_map(created.metadata.name, "crud")
    assert fetched.data == {"k": "v"}
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("crud", k8s_client.V1ConfigMap(
            metadata=k8s_client.V1ObjectMeta(name=created.metadata.name)))
    assert info.value.status == 409 and json.loads(info.value.body)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("absent", "crud")
    assert info.value.status == 404 and json.loads(info.value.body)["reason"] == "NotFound"
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("no-such-namespace", body)
    assert info.value.status == 404
    dry = core.create_namespaced_secret("crud", k8s_client.V1Secret(
        metadata=k8s_client.V1ObjectMeta(name="dry"), string_data={"a": "b"}), dry_run="All")
    assert dry.data == {"a": base64.b64encode(b"b").decode()}
    with pytest.raises(ApiException):
        core.read_namespaced_secret("dry", "crud")
    listed = core.list_namespaced_config_map("crud")
    assert int(listed.metadata.resource_version) >= int(created.metadata.resource_version)
    assert [c.metadata.name for c in listed.items] == [created.metadata.name]
    core.delete_namespaced_config_map(created.metadata.name, "crud")
    assert core.list_namespaced_config_map("crud").items == []


def test_stale_resource_version_conflicts(core):
    ensure_namespace(core, "crud")
    cm = core.create_namespaced_config_map("crud", k8s_client.V1ConfigMap(
        metadata=k8s_client.V1ObjectMeta(name="versioned"), data={"n": "1"}))
    cm.data = {"n": "2"}
    updated = core.replace_namespaced_config_map("versioned", "crud", cm)
    assert int(updated.metadata.resource_version) > int(cm.metadata.resource_version)
    cm.data = {"n": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as info:
        core.replace_namespaced_config_map("versioned", "crud", cm)
    assert info.value.status == 409 and json.loads(info.value.body)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("versioned", "crud").data == {"n": "2"}


def test_label_and_field_selectors(core):
    ensure_namespace(core, "sel")
    for name, labels in (("one", {"app": "x", "tier": "web"}), ("two", {"app": "x", "tier": "db"}),
                         ("three", {"app": "y"})):
        core.create_namespaced_config_map("sel", k8s_client.V1ConfigMap(
            metadata=k8s_client.V1ObjectMeta(name=name, labels=labels)))

    def names(**kwargs):
        return sorted(c.metadata.name for c in core.list_namespaced_config_map("sel", **kwargs).items)

    assert names(label_selector="app=x") == ["one", "two"]
    assert names(label_selector="app==x,tier!=db") == ["one"]
    assert names(label_selector="tier in (web,db)") == ["one", "two"]
    assert names(label_selector="app notin (x)") == ["three"]
    assert names(label_selector="tier") == ["one", "two"]
    assert names(label_selector="!tier") == ["three"]
    assert names(field_selector="metadata.name=two") == ["two"]
    assert names(field_selector="metadata.name!=two") == ["one", "three"]
    page = core.list_namespaced_config_map("sel", limit=2)
    token = page.metadata.to_dict()["_continue"]
    assert len(page.items) == 2 and token
    rest = core.list_namespaced_config_map("sel", limit=2, _continue=token)
    assert len(rest.items) == 1
    core.create_namespaced_secret("sel", k8s_client.V1Secret(metadata=k8s_client.V1ObjectMeta(name="tls"),
                                                             type="kubernetes.io/tls"))
    core.create_namespaced_secret("sel", k8s_client.V1Secret(metadata=k8s_client.V1ObjectMeta(name="plain")))
    typed = core.list_namespaced_secret("sel", field_selector="type=kubernetes.io/tls").items
    assert [s.metadata.name for s in typed] == ["tls"]
    everywhere = core.list_config_map_for_all_namespaces(label_selector="app=y").items
    assert [(c.metadata.namespace, c.metadata.name) for c in everywhere] == [("sel", "three")]
    with pytest.raises(ApiException) as info:
        core.list_namespaced_config_map("sel", label_selector="app in (x")
    assert info.value.status == 400
    core.delete_collection_namespaced_config_map("sel", label_selector="app=x")
    assert names() == ["three"]


def test_patch_types(core, apps):
    ensure_namespace(core, "patch")
    core.create_namespaced_config_map("patch", k8s_client.V1ConfigMap(
        metadata=k8s_client.V1ObjectMeta(name="p", labels={"a": "1", "b": "2"}), data={"x": "1"}))
    merged = core.patch_namespaced_config_map("p", "patch", {"metadata": {"labels": {"b": None, "c": "3"}}},
                                              _content_type="application/merge-patch+json")
    assert merged.metadata.labels == {"a": "1", "c": "3"}
    patched = core.patch_namespaced_config_map("p", "patch", [{"op": "add", "path": "/data/y", "value": "2"},
                                                              {"op": "remove", "path": "/data/x"}])
    assert patched.data == {"y": "2"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "smp", "namespace": "patch"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "smp"}},
                           "template": {"metadata": {"labels": {"app": "smp"}},
                                        "spec": {"containers": [
                                            {"name": "main", "image": "busybox:1",
                                             "env": [{"name": "A", "value": "1"}]},
                                            {"name": "side", "image": "busybox:1"}]}}}}
    apps.create_namespaced_deployment("patch", deployment)
    smp = apps.patch_namespaced_deployment("smp", "patch", {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "busybox:2", "env": [{"name": "B", "value": "2"}]}]}}}})
    containers = {c.name: c for c in smp.spec.template.spec.containers}
    assert set(containers) == {"main", "side"}
    assert containers["main"].image == "busybox:2"
    assert [e.name for e in containers["main"].env] == ["A", "B"]
    assert smp.metadata.generation == 2
    deleted = apps.patch_namespaced_deployment("smp", "patch", {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "$patch": "delete"}]}}}})
    assert [c.name for c in deleted.spec.template.spec.containers] == ["main"]
    applied = core.patch_namespaced_config_map(
        "ssa", "patch", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"k": "v"}},
        field_manager="pytest", _content_type="application/apply-patch+yaml")
    assert applied.data == {"k": "v"}
    assert applied.metadata.managed_fields[0].manager == "pytest"
    again = core.patch_namespaced_config_map(
        "ssa", "patch", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"k": "v"}},
        field_manager="pytest", _content_type="application/apply-patch+yaml")
    assert again.metadata.resource_version == applied.metadata.resource_version
    with pytest.raises(ApiException) as info:
        core.patch_namespaced_config_map("ssa", "patch", {"data": {"k": "w"}},
                                         _content_type="application/apply-patch+yaml")
    assert info.value.status == 400


def test_watch_sees_added_modified_deleted(core):
    ensure_namespace(core, "watched")
    start = core.list_namespaced_config_map("watched").metadata.resource_version
    events = []

    def consume():
        stream = k8s_watch.Watch().stream(core.list_namespaced_config_map, "watched", resource_version=start,
                                          timeout_seconds=5, label_selector="watched=yes")
        for event in stream:
            events.append((event["type"], event["object"].metadata.name))

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.5)
    core.create_namespaced_config_map("watched", k8s_client.V1ConfigMap(
        metadata=k8s_client.V1ObjectMeta(name="w1", labels={"watched": "yes"})))
    core.create_namespaced_config_map("watched", k8s_client.V1ConfigMap(
        metadata=k8s_client.V1ObjectMeta(name="ignored", labels={"watched": "no"})))
    core.patch_namespaced_config_map("w1", "watched", {"data": {"a": "b"}})
    core.delete_namespaced_config_map("w1", "watched")
    thread.join(20)
    assert not thread.is_alive()
    assert events == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    replay = [(e["type"], e["object"].metadata.name) for e in k8s_watch.Watch().stream(
        core.list_namespaced_config_map, "watched", resource_version=start, timeout_seconds=1)]
    assert replay[:2] == [("ADDED", "w1"), ("ADDED", "ignored")]
    cluster_wide = [(e["type"], e["object"].metadata.name) for e in k8s_watch.Watch().stream(
        core.list_config_map_for_all_namespaces, resource_version=start, timeout_seconds=1,
        field_selector="metadata.namespace=watched,metadata.name=w1")]
    assert cluster_wide == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def raw_get(lab, context, path):
    """A GET with nothing but the standard library, for answers the typed client would not show as sent."""
    context_ssl = ssl.create_default_context(cafile=str(lab["ca"]))
    request = urllib.request.Request(lab["clusters"][context]["url"] + path,
                                     headers={"Authorization": "Bearer %s" % TOKENS[context]})
    with urllib.request.urlopen(request, context=context_ssl, timeout=30) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


def test_watch_invalid_resource_version_is_gone(lab):
    status, _content_type, body = raw_get(lab, "az2", "/api/v1/namespaces?watch=true&resourceVersion=1&timeoutSeconds=1")
    assert status == 200
    # A fresh cluster keeps its whole history, so an old resourceVersion replays it.
    assert all(json.loads(line)["type"] == "ADDED" for line in body.decode().splitlines())
    _status, _content_type, body = raw_get(lab, "az2", "/api/v1/namespaces?watch=true&resourceVersion=x&timeoutSeconds=1")
    event = json.loads(body.decode().splitlines()[0])
    assert event["type"] == "ERROR" and event["object"]["code"] == 410


def test_workload_controllers_and_namespace_delete(core, apps):
    ensure_namespace(core, "work")
    apps.create_namespaced_deployment("work", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})

    def ready_deployment():
        deployment = apps.read_namespaced_deployment_status("web", "work")
        return deployment if deployment.status.ready_replicas == 2 else None

    ready = wait_for(ready_deployment)
    assert ready.status.observed_generation == ready.metadata.generation
    assert {c.type: c.status for c in ready.status.conditions}["Available"] == "True"
    replica_sets = apps.list_namespaced_replica_set("work", label_selector="app=web").items
    assert len(replica_sets) == 1 and replica_sets[0].metadata.owner_references[0].name == "web"
    pods = core.list_namespaced_pod("work", label_selector="app=web", field_selector="status.phase=Running").items
    assert len(pods) == 2
    apps.patch_namespaced_deployment_scale("web", "work", {"spec": {"replicas": 3}})
    wait_for(lambda: len(core.list_namespaced_pod("work").items) == 3)
    apps.create_namespaced_stateful_set("work", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}})
    wait_for(lambda: apps.read_namespaced_stateful_set("db", "work").status.ready_replicas == 2)
    assert core.read_namespaced_pod("db-1", "work").status.phase == "Running"
    core.delete_namespace("work")
    wait_for(lambda: not apps.list_deployment_for_all_namespaces(label_selector="app=web").items)
    assert core.list_namespaced_pod("work").items == []


def test_clusters_are_isolated(lab, core):
    ensure_namespace(core, "isolated")
    other = k8s_client.CoreV1Api(api_client(lab, "az2"))
    assert "isolated" not in {n.metadata.name for n in other.list_namespace().items}


# -- kubernetes.core through ansible-playbook ------------------------------------------------------------------

PLAYBOOK = """
- name: Drive the emulator with kubernetes.core
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Namespace
      kubernetes.core.k8s:
        api_version: v1
        kind: Namespace
        name: ansible
    - name: ConfigMap and Deployment
      kubernetes.core.k8s:
        namespace: ansible
        definition:
          - apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, labels: {app: demo, role: config}}
            data: {mode: "{{ mode }}"}
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: demo, labels: {app: demo, role: server}}
            spec:
              selector: {matchLabels: {app: demo}}
              template:
                metadata: {labels: {app: demo}}
                spec:
                  containers:
                    - name: main
                      image: "busybox:{{ tag }}"
      register: applied
    - name: Patch the Deployment's replicas
      kubernetes.core.k8s:
        state: patched
        api_version: apps/v1
        kind: Deployment
        name: demo
        namespace: ansible
        definition:
          spec: {replicas: 2}
      register: patched
    - name: Query by label
      kubernetes.core.k8s_info:
        kind: ConfigMap
        namespace: ansible
        label_selectors: ["app=demo", "role in (config)"]
      register: info
    - name: Wait for the Deployment
      kubernetes.core.k8s_info:
        kind: Deployment
        api_version: apps/v1
        namespace: ansible
        name: demo
        wait: true
        wait_timeout: 30
      register: deployment
    - name: Report
      ansible.builtin.copy:
        dest: "{{ report }}"
        content: "{{ {'applied': applied.changed, 'patched': patched.changed,
                      'configmaps': info.resources | map(attribute='metadata.name') | list,
                      'ready': deployment.resources[0].status.readyReplicas | default(0)} | to_json }}"
        mode: "0644"
"""


def run_playbook(lab, mode, tag):
    playbook = lab["dir"] / "k8s.yml"
    playbook.write_text(PLAYBOOK)
    report = lab["dir"] / ("report-%s-%s.json" % (mode, tag))
    env = dict(lab["env"], K8S_AUTH_KUBECONFIG=str(lab["kubeconfig"]), K8S_AUTH_CONTEXT="az1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    result = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook),
                             "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "mode=%s" % mode,
                             "-e", "tag=%s" % tag, "-e", "report=%s" % report],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(report.read_text())


def test_ansible_kubernetes_core(lab, core, apps):
    first = run_playbook(lab, "a", "1")
    assert first == {"applied": True, "patched": True, "configmaps": ["settings"], "ready": 2}
    second = run_playbook(lab, "a", "1")
    assert second["applied"] is False and second["patched"] is False
    third = run_playbook(lab, "b", "1")
    assert third["applied"] is True
    assert core.read_namespaced_config_map("settings", "ansible").data == {"mode": "b"}
    assert apps.read_namespaced_deployment("demo", "ansible").spec.replicas == 2


# -- port-forward and service proxy ----------------------------------------------------------------------------


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(b"echo:" + data)


class _HelloHandler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({"method": self.command, "path": self.path, "body": body.decode(),
                              "header": self.headers.get("X-Probe")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "hello")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        return


class _ThreadingTCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="module")
def backends(lab):
    """A TCP echo server, a plain HTTP server and an HTTPS server on loopback."""
    echo = _ThreadingTCPServer(("127.0.0.1", 0), _EchoHandler)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HelloHandler)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HelloHandler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*lab["tls"])
    secure.socket = tls.wrap_socket(secure.socket, server_side=True)
    servers = (echo, plain, secure)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"echo": echo.server_address[1], "http": plain.server_address[1], "https": secure.server_address[1]}
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_pod(core, namespace, name, labels, annotations, ports):
    core.create_namespaced_pod(namespace, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {"containers": [{"name": "main", "image": "busybox",
                                 "ports": [{"containerPort": p, "name": n} for n, p in ports.items()]}]}})


def test_port_forward_concurrent_sessions(lab, core, backends):
    ensure_namespace(core, "net")
    make_pod(core, "net", "echo", {"app": "echo"},
             {"lab.kfuse.io/forward.7000": "127.0.0.1:%d" % backends["echo"],
              "lab.kfuse.io/forward.7001": "127.0.0.1:%d" % closed_port()}, {"echo": 7000})
    results = {}

    def session(index):
        # stream() swaps the request function of the client it is given: one client per thread.
        own = k8s_client.CoreV1Api(api_client(lab))
        forward = portforward(own.connect_get_namespaced_pod_portforward, "echo", "net", ports="7000")
        sock = forward.socket(7000)
        sock.setblocking(True)
        sock.settimeout(10)
        received = b""
        for round_trip in range(3):
            message = b"session-%d-%d" % (index, round_trip)
            sock.sendall(message)
            expected = b"echo:" + message
            chunk = b""
            while len(chunk) < len(expected):
                data = sock.recv(1024)
                if not data:
                    break
                chunk += data
            received += chunk
        results[index] = received
        forward.close()

    threads = [threading.Thread(target=session, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for index in range(2):
        assert results[index] == b"".join(b"echo:session-%d-%d" % (index, n) for n in range(3))

    for port in (7001, 7002):  # connection refused, no annotation
        forward = portforward(core.connect_get_namespaced_pod_portforward, "echo", "net", ports=str(port))
        sock = forward.socket(port)
        sock.settimeout(10)
        assert sock.recv(1024) == b""
        assert wait_for(lambda p=port, f=forward: f.error(p))


def test_service_and_pod_proxy(lab, core, backends):
    ensure_namespace(core, "net")
    make_pod(core, "net", "web-1", {"app": "web"},
             {"lab.kfuse.io/forward.8080": "127.0.0.1:%d" % backends["http"],
              "lab.kfuse.io/forward.8443": "127.0.0.1:%d" % backends["https"]}, {"http": 8080, "https": 8443})
    core.create_namespaced_service("net", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"},
                                                       {"name": "https", "port": 443, "targetPort": 8443}]}})
    status, _content_type, body = raw_get(lab, "az1", "/api/v1/namespaces/net/services/web:80/proxy/hello/world?x=1")
    assert status == 200
    assert json.loads(body) == {"method": "GET", "path": "/hello/world?x=1", "body": "", "header": None}
    answer = core.connect_post_namespaced_service_proxy_with_path("web:http", "net", "submit", path2="submit")
    # The generated client hands back the decoded JSON as a Python repr string.
    assert "'method': 'POST'" in answer and "'path': '/submit" in answer
    status, _content_type, body = raw_get(lab, "az1", "/api/v1/namespaces/net/services/https:web:https/proxy/secure")
    assert status == 200 and json.loads(body)["path"] == "/secure"
    status, _content_type, body = raw_get(lab, "az1", "/api/v1/namespaces/net/pods/web-1:8080/proxy/direct")
    assert status == 200 and json.loads(body)["path"] == "/direct"
    with pytest.raises(urllib.error.HTTPError) as info:
        raw_get(lab, "az1", "/api/v1/namespaces/net/services/absent/proxy/")
    assert info.value.code == 404


# -- kubectl and helm --------------------------------------------------------------------------------------------

KUBECTL = TOOLS_BIN / "kubectl"
HELM = TOOLS_BIN / "helm"
needs_kubectl = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl not installed at .tools/bin (hacking/bootstrap.sh)")
needs_helm = pytest.mark.skipif(not HELM.exists(), reason="helm not installed at .tools/bin (hacking/bootstrap.sh)")


def run_tool(lab, *args, check=True):
    result = subprocess.run([str(a) for a in args], env=lab["env"], capture_output=True, text=True, timeout=180,
                            check=False)
    if check:
        assert result.returncode == 0, "%s\n%s\n%s" % (" ".join(map(str, args)), result.stdout, result.stderr)
    return result


MANIFEST = """
apiVersion: v1
kind: Namespace
metadata: {name: kubectl-ns}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: kubectl-ns, labels: {app: kc}}
data: {level: "%(level)s"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kc-web, namespace: kubectl-ns, labels: {app: kc}}
spec:
  replicas: %(replicas)d
  selector: {matchLabels: {app: kc}}
  template:
    metadata: {labels: {app: kc}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          env: [{name: LEVEL, value: "%(level)s"}]
        - name: sidecar
          image: busybox:1
"""


@needs_kubectl
def test_kubectl_apply_create_get_delete(lab):
    manifest = lab["dir"] / "kubectl.yaml"
    manifest.write_text(MANIFEST % {"level": "info", "replicas": 1})
    first = run_tool(lab, KUBECTL, "apply", "-f", manifest)
    assert "deployment.apps/kc-web created" in first.stdout
    manifest.write_text(MANIFEST % {"level": "debug", "replicas": 2})
    second = run_tool(lab, KUBECTL, "apply", "-f", manifest)
    assert "configmap/app-config configured" in second.stdout
    assert "namespace/kubectl-ns unchanged" in second.stdout
    deployment = json.loads(run_tool(lab, KUBECTL, "-n", "kubectl-ns", "get", "deployment", "kc-web", "-o",
                                     "json").stdout)
    assert deployment["spec"]["replicas"] == 2
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] == ["web", "sidecar"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "LEVEL", "value": "debug"}]
    run_tool(lab, KUBECTL, "-n", "kubectl-ns", "create", "secret", "generic", "creds", "--from-literal=user=admin",
             "--from-literal=password=s3cret")
    secret = json.loads(run_tool(lab, KUBECTL, "-n", "kubectl-ns", "get", "secret", "creds", "-o", "json").stdout)
    assert base64.b64decode(secret["data"]["password"]) == b"s3cret" and secret["type"] == "Opaque"
    listed = json.loads(run_tool(lab, KUBECTL, "-n", "kubectl-ns", "get", "configmaps", "-l", "app=kc", "-o",
                                 "json").stdout)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["app-config"]
    assert listed["items"][0]["data"] == {"level": "debug"}
    run_tool(lab, KUBECTL, "-n", "kubectl-ns", "wait", "--for=condition=Available", "deployment/kc-web",
             "--timeout=30s")
    table = run_tool(lab, KUBECTL, "-n", "kubectl-ns", "get", "secrets").stdout
    assert "creds" in table
    run_tool(lab, KUBECTL, "-n", "kubectl-ns", "delete", "secret", "creds")
    missing = run_tool(lab, KUBECTL, "-n", "kubectl-ns", "get", "secret", "creds", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr
    other = run_tool(lab, KUBECTL, "--context", "az2", "get", "namespaces", "-o", "json").stdout
    assert "kubectl-ns" not in {i["metadata"]["name"] for i in json.loads(other)["items"]}
    run_tool(lab, KUBECTL, "-n", "kubectl-ns", "delete", "deployment", "kc-web")
    assert json.loads(run_tool(lab, KUBECTL, "-n", "kubectl-ns", "get", "pods", "-o", "json").stdout)["items"] == []
    run_tool(lab, KUBECTL, "delete", "namespace", "kubectl-ns")
    gone = run_tool(lab, KUBECTL, "get", "namespace", "kubectl-ns", check=False)
    assert gone.returncode != 0


CHART_TEMPLATE = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: {app: {{ .Release.Name }}}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-svc
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{name: http, port: 80, targetPort: http}]
"""


@needs_helm
def test_helm_upgrade_install_history_uninstall(lab, core, apps):
    chart = lab["dir"] / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: labdemo\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("message: hello\nreplicas: 1\n")
    (chart / "templates" / "all.yaml").write_text(CHART_TEMPLATE)
    common = ["--namespace", "helm-ns", "--kube-context", "az1"]
    run_tool(lab, HELM, "upgrade", "--install", "demo", chart, "--create-namespace", "--wait", "--timeout", "60s",
             *common)
    assert apps.read_namespaced_deployment("demo-web", "helm-ns").status.ready_replicas == 1
    run_tool(lab, HELM, "upgrade", "--install", "demo", chart, "--wait", "--timeout", "60s", "--set",
             "message=bye", "--set", "replicas=2", *common)
    assert core.read_namespaced_config_map("demo-config", "helm-ns").data == {"message": "bye"}
    assert apps.read_namespaced_deployment("demo-web", "helm-ns").status.ready_replicas == 2
    history = json.loads(run_tool(lab, HELM, "history", "demo", "-o", "json", *common).stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]
    releases = core.list_namespaced_secret("helm-ns", label_selector="owner=helm,name=demo").items
    assert len(releases) == 2
    run_tool(lab, HELM, "uninstall", "demo", "--wait", *common)
    assert core.list_namespaced_secret("helm-ns", label_selector="owner=helm").items == []
    assert apps.list_namespaced_deployment("helm-ns").items == []
    assert core.list_namespaced_pod("helm-ns").items == []
