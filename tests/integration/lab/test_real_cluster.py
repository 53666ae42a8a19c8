# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that the lab's Kubernetes is the real thing where failover automation depends on it: scheduling by zone,
scale to zero, StatefulSet rollouts, finalizers, port-forward through the API server, and RBAC.

Run: ``PYTHONPATH=tests/lab:tests/integration .venv/bin/python -m pytest -q tests/integration/lab/test_real_cluster.py``
"""

import json
import os
import re
import subprocess
import time

import pytest
import requests
from kubernetes import client as kube_client
from kubernetes.client.rest import ApiException

import kube_cluster
from ansible_run import VENV_BIN, run_ansible

NAMESPACE = "reality"
ZONE_LABEL = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module", name="kube")
def kube_fixture(tmp_path_factory):
    """One cluster with a node in zone lab-az1 only: zone lab-az2 has no node until a test adds one."""
    lab = kube_cluster.start_kube(tmp_path_factory.mktemp("real"), ("lab",),
                                  nodes={"lab": [("lab-az1", "kfuse-az1", 1)]}, namespace=NAMESPACE)
    try:
        with lab.client("lab") as api_client:
            kube_cluster.create_namespace(api_client, NAMESPACE)
        yield lab
    finally:
        lab.stop()


@pytest.fixture(name="api")
def api_fixture(kube):
    with kube.client("lab") as api_client:
        yield api_client


def kubectl(kube, *args, timeout=60):
    return subprocess.run([kube_cluster.tool_path("kubectl"), "--kubeconfig", str(kube.kubeconfig)] + list(args),
                          capture_output=True, text=True, timeout=timeout, check=False)


def wait_for(probe, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError("%s not seen within %.0f s (last: %r)" % (what, timeout, last))


def deployment(name, replicas=1, affinity_zone=None):
    labels = {"app": name}
    spec = {"containers": [{"name": "main", "image": "kfuse/lab:latest"}]}
    if affinity_zone:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [affinity_zone]}]}]}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def pods_of(core, app):
    return core.list_namespaced_pod(NAMESPACE, label_selector="app=" + app).items


def test_required_zone_affinity_waits_for_a_node_of_that_zone(api):
    core, apps = kube_client.CoreV1Api(api), kube_client.AppsV1Api(api)
    apps.create_namespaced_deployment(NAMESPACE, deployment("pinned-az2", affinity_zone="lab-az2"))

    def unschedulable():
        pods = pods_of(core, "pinned-az2")
        return pods and all(
            any(c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"
                for c in (pod.status.conditions or [])) for pod in pods) and pods
    pods = wait_for(unschedulable, "the scheduler's Unschedulable verdict")
    assert all(pod.status.phase == "Pending" and not pod.spec.node_name for pod in pods)
    time.sleep(2)  # still Pending a moment later: nothing else places it
    assert all(not pod.spec.node_name for pod in pods_of(core, "pinned-az2"))

    node = kube_cluster.add_nodes(api, "lab-az2", "kfuse-az2", 1)[0]

    def running():
        pods = pods_of(core, "pinned-az2")
        return pods and all(pod.status.phase == "Running" for pod in pods) and pods
    pods = wait_for(running, "the pod Running once a lab-az2 node is Ready")
    assert [pod.spec.node_name for pod in pods] == [node]


def test_scale_to_zero_completes_and_k8s_wait_returns(kube, api, tmp_path):
    apps = kube_client.AppsV1Api(api)
    apps.create_namespaced_deployment(NAMESPACE, deployment("scaled", replicas=2, affinity_zone="lab-az1"))
    wait_for(lambda: (apps.read_namespaced_deployment_status("scaled", NAMESPACE).status.ready_replicas or 0) == 2,
             "two ready replicas")
    args = {"kubeconfig": str(kube.kubeconfig), "context": "lab", "namespace": NAMESPACE, "state": "present", "wait": True,
            "wait_timeout": 60, "definition": deployment("scaled", replicas=0, affinity_zone="lab-az1")}
    run = run_ansible([os.path.join(VENV_BIN, "ansible"), "localhost", "-m", "kubernetes.core.k8s",
                       "-a", json.dumps(args)], tmp_path, timeout=180)
    result = run.result()
    assert run.rc == 0, run.stdout + run.stderr
    assert result["changed"] is True and result["result"]["spec"]["replicas"] == 0
    assert pods_of(kube_client.CoreV1Api(api), "scaled") == []
    status = apps.read_namespaced_deployment_status("scaled", NAMESPACE).status
    assert (status.replicas or 0) == 0 and status.observed_generation == 2


def test_kubectl_rollout_status_follows_a_statefulset(kube, api):
    labels = {"app": "configdb"}
    kube_client.AppsV1Api(api).create_namespaced_stateful_set(NAMESPACE, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "configdb"},
        "spec": {"serviceName": "configdb", "replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "postgresql", "image": "bitnami/postgresql"}]}}}})
    done = kubectl(kube, "-n", NAMESPACE, "rollout", "status", "statefulset/configdb", "--timeout=60s", timeout=90)
    assert done.returncode == 0, done.stderr
    assert "partitioned roll out complete: 2 new pods have been updated" in done.stdout
    names = sorted(pod.metadata.name for pod in pods_of(kube_client.CoreV1Api(api), "configdb"))
    assert names == ["configdb-0", "configdb-1"]


def test_namespace_with_a_finalizer_stays_terminating_until_it_is_removed(api):
    core = kube_client.CoreV1Api(api)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": "held", "finalizers": ["kfuse.io/hold"]}})
    core.create_namespaced_config_map("held", {"metadata": {"name": "inside"}, "data": {"k": "v"}})
    core.delete_namespace("held")
    wait_for(lambda: core.read_namespace("held").status.phase == "Terminating", "phase Terminating")
    # The namespace controller empties it, then waits on the finalizer.
    wait_for(lambda: not core.list_namespaced_config_map("held").items, "the namespace emptied")
    time.sleep(2)
    assert core.read_namespace("held").status.phase == "Terminating"
    core.patch_namespace("held", {"metadata": {"finalizers": None}})

    def gone():
        try:
            core.read_namespace("held")
        except ApiException as exc:
            return exc.status == 404
        return False
    wait_for(gone, "the namespace gone")


def test_service_account_without_a_role_is_refused(kube, api):
    core, rbac = kube_client.CoreV1Api(api), kube_client.RbacAuthorizationV1Api(api)
    core.create_namespaced_service_account(NAMESPACE, {"metadata": {"name": "reader"}})
    token = core.create_namespaced_service_account_token("reader", NAMESPACE, {"spec": {"expirationSeconds": 600}})
    url = kube.clusters["lab"].url + "/api/v1/namespaces/%s/secrets" % NAMESPACE
    headers = {"Authorization": "Bearer " + token.status.token}
    refused = requests.get(url, headers=headers, verify=str(kube.ca), timeout=10)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "Forbidden"
    assert "system:serviceaccount:%s:reader" % NAMESPACE in refused.json()["message"]
    rbac.create_namespaced_role(NAMESPACE, {"metadata": {"name": "secret-reader"}, "rules": [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]})
    rbac.create_namespaced_role_binding(NAMESPACE, {
        "metadata": {"name": "reader-reads-secrets"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": NAMESPACE}]})
    wait_for(lambda: requests.get(url, headers=headers, verify=str(kube.ca), timeout=10).status_code == 200,
             "the bound Role honoured")


# ---- port-forward to the az-service simulator, on the lab of the other suites ----------------------------------


def test_kubectl_port_forward_svc_reaches_the_simulator(lab, tmp_path):
    kube = lab.zones["az2"]["kfuse_kube"]
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [kube_cluster.tool_path("kubectl"), "--kubeconfig", kube["kubeconfig"], "--context", kube["context"],
         "-n", kube["namespace"], "port-forward", "svc/az-service", ":8080"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        found = re.search(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8443", line)
        assert found, line
        az = lab.az("az2")
        response = requests.get("https://127.0.0.1:%s/status" % found.group(1), verify=az["ca_path"], timeout=10,
                                headers={"Authorization": "Bearer " + az["token"]})
        assert response.status_code == 200 and response.json()["zone"] == "lab-az2"
    finally:
        proc.terminate()
        proc.wait(10)


def test_python_client_port_forward_reaches_the_simulator(lab):
    kube, az = lab.zones["az1"]["kfuse_kube"], lab.az("az1")
    from kubernetes import config as kube_config  # pylint: disable=import-outside-toplevel
    api_client = kube_config.new_client_from_config(config_file=kube["kubeconfig"], context=kube["context"])
    try:
        core = kube_client.CoreV1Api(api_client)
        pod = core.list_namespaced_pod(kube["namespace"], label_selector="app.kubernetes.io/name=az-service").items[0]
        status, body = kube_cluster.https_get_through_portforward(
            api_client, kube["namespace"], pod.metadata.name, 8443, "/status", az["ca_path"], az["token"],
            "az-service.kfuse.svc")
    finally:
        api_client.close()
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body)["zone"] == "lab-az1"
