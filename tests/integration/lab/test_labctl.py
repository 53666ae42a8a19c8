# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab launcher end to end: real moto, a real Kubernetes control plane with kwok nodes, az-service simulators.

Run: ``PYTHONPATH=tests/lab .venv/bin/python -m pytest -q tests/integration/lab/test_labctl.py``
"""

import json
import os
import subprocess
import time

import boto3
import pytest
import requests
import yaml
from kubernetes import client as kube_client, config as kube_config

import kube_cluster
import labctl
from ansible_run import VENV_BIN, run_ansible


KUBE_PIECES = ("etcd", "kube-apiserver-{c}", "kube-controller-manager-{c}", "kube-scheduler-{c}", "kwok-{c}")


def expected_pieces(contexts):
    names = {"moto", "oci-registry", "azservice-az1", "azservice-az2", "etcd", "node-provisioner"}
    for context in contexts:
        names.update(piece.format(c=context) for piece in KUBE_PIECES)
    return sorted(names)


@pytest.fixture(scope="module", name="lab")
def lab_fixture(tmp_path_factory):
    state_dir = str(tmp_path_factory.mktemp("lab"))
    info = labctl.lab_up(state_dir)
    try:
        yield info
    finally:
        labctl.lab_down(state_dir)


def _core(lab, context):
    api_client = kube_config.new_client_from_config(config_file=lab["paths"]["kubeconfig"], context=context)
    return api_client, kube_client.CoreV1Api(api_client)


def test_up_writes_the_lab_files(lab):
    for key in ("ca", "kubeconfig", "inventory", "env", "lab_json"):
        assert os.path.isfile(lab["paths"][key]), key
    recorded = labctl.read_json(lab["paths"]["lab_json"])
    assert sorted(recorded["pieces"]) == expected_pieces(["lab-az1", "lab-az2"])
    assert all(labctl.pid_alive(p["pid"], p["argv"]) for p in recorded["pieces"].values())
    with open(lab["paths"]["env"], encoding="utf-8") as handle:
        env = handle.read()
    assert "AWS_ACCESS_KEY_ID=" in env and lab["s3"]["endpoint"] in env


def test_up_refuses_a_second_lab_in_the_same_dir(lab):
    with pytest.raises(labctl.LabError, match="already runs"):
        labctl.lab_up(lab["state_dir"])
    assert labctl.lab_running(lab["state_dir"])


def assert_zone_seeded(lab, name, zone_id, context, namespace):
    """The zone's az-service pod Running on a node of the zone's cluster, its Service, its node groups."""
    api_client, core = _core(lab, context)
    try:
        pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=az-service").items
        assert len(pods) == 1 and pods[0].metadata.name.startswith("az-service-")
        pod = pods[0]
        assert pod.status.phase == "Running" and pod.spec.node_name
        assert pod.spec.containers[0].ports[0].name == "https"
        assert pod.metadata.owner_references[0].kind == "ReplicaSet"
        service = core.read_namespaced_service("az-service", namespace)
        assert service.spec.ports[0].port == 8080 and service.spec.ports[0].target_port == "https"
        assert service.spec.selector == {"app.kubernetes.io/name": "az-service"}
        group = {"az1": ("kfuse-az1", 3), "az2": ("kfuse-az2", 0)}[name]
        nodes = core.list_node(label_selector="topology.kubernetes.io/zone=%s,eks.amazonaws.com/nodegroup=%s"
                               % (zone_id, group[0])).items
        assert len(nodes) == group[1]
        assert all(any(c.type == "Ready" and c.status == "True" for c in node.status.conditions) for node in nodes)
    finally:
        api_client.close()


def test_kubeconfig_reaches_both_clusters(lab):
    with open(lab["paths"]["kubeconfig"], encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["current-context"] == "lab-az1"
    for name in ("az1", "az2"):
        assert lab["kube"][name]["context"] == "lab-" + name and lab["kube"][name]["namespace"] == "kfuse"
        assert_zone_seeded(lab, name, "lab-" + name, "lab-" + name, "kfuse")
    assert lab["kube"]["az1"]["url"] != lab["kube"]["az2"]["url"]


def test_node_groups_follow_their_size_in_the_cloud(lab):
    """Resizing a zone's EKS node group in moto registers (then removes) Ready kwok Nodes of that zone and group."""
    group = lab["node_groups"]["az2"]
    eks = boto3.client("eks", endpoint_url=group["endpoint_url"], region_name=group["region"],
                       aws_access_key_id=lab["s3"]["access_key"], aws_secret_access_key=lab["s3"]["secret_key"])
    selector = ",".join("%s=%s" % item for item in group["labels"].items())
    api_client, core = _core(lab, "lab-az2")

    def ready_nodes():
        return sorted(node.metadata.name for node in core.list_node(label_selector=selector).items
                      if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or []))

    def wait_for_nodes(expected):
        deadline = time.monotonic() + 30
        while ready_nodes() != expected:
            assert time.monotonic() < deadline, "nodes %s, expected %s" % (ready_nodes(), expected)
            time.sleep(0.2)

    try:
        assert ready_nodes() == []
        for desired, expected in ((2, ["kfuse-az2-0", "kfuse-az2-1"]), (0, [])):
            eks.update_nodegroup_config(clusterName=group["cluster"], nodegroupName=group["name"],
                                        scalingConfig={"minSize": 0, "maxSize": 6, "desiredSize": desired})
            wait_for_nodes(expected)
    finally:
        api_client.close()


HELM_INSTALL = """
- hosts: az1
  gather_facts: false
  tasks:
    - name: Install the kfuse stand-in from the lab's OCI registry
      kubernetes.core.helm:
        kubeconfig: "{{ kfuse_kube.kubeconfig }}"
        context: "{{ kfuse_kube.context }}"
        release_name: kfuse
        release_namespace: chart-check
        create_namespace: true
        chart_ref: "{{ kfuse_helm_registry.url }}/kfuse"
        chart_version: 3.4.3
        binary_path: %(helm)s
        values: {ingress-nginx: {enabled: false, installIngressRules: false}}
        wait: true
        wait_timeout: 120s
      environment:
        SSL_CERT_FILE: "{{ kfuse_helm_registry.ca_path }}"
        HELM_REGISTRY_CONFIG: %(registry_config)s
"""


def test_stand_in_charts_install_from_the_oci_registry(lab, tmp_path):
    """helm pulls need the registry login; with it, kubernetes.core.helm installs the kfuse stand-in and waits."""
    registry = lab["helm_registry"]
    assert registry["charts"] == {"kfuse": ["3.4.2", "3.4.3"], "ingress-nginx": ["4.12.1"]}
    helm = kube_cluster.tool_path("helm")
    anonymous = subprocess.run([helm, "show", "chart", registry["url"] + "/kfuse", "--version", "3.4.2", "--ca-file",
                                registry["ca_path"]], capture_output=True, text=True, timeout=60, check=False,
                               env=dict(os.environ, HELM_REGISTRY_CONFIG=str(tmp_path / "none.json")))
    assert anonymous.returncode != 0 and "basic credential not found" in anonymous.stderr
    playbook = tmp_path / "install.yml"
    playbook.write_text(HELM_INSTALL % {
        "helm": helm, "registry_config": os.path.join(lab["state_dir"], "helm", "config", "registry", "config.json")})
    run = run_ansible([os.path.join(VENV_BIN, "ansible-playbook"), "-i", lab["paths"]["inventory"], str(playbook)],
                      tmp_path, timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.result("az1")["status"]["chart"] == "kfuse-3.4.3"
    api_client, core = _core(lab, "lab-az1")
    try:
        assert core.read_namespaced_config_map("kfuse-version", "chart-check").data == {"version": "3.4.3"}
        pods = core.list_namespaced_pod("chart-check").items
        phases = {pod.metadata.name.rsplit("-", 1)[0]: pod.status.phase for pod in pods}
        assert phases["kfuse-configdb"] == "Running" and phases["kfuse-setup-pinot"] == "Succeeded"
    finally:
        api_client.close()


def test_inventory_parses_with_ansible_inventory(lab):
    tool = os.path.join(os.path.dirname(labctl.venv_python()), "ansible-inventory")
    result = subprocess.run([tool, "-i", lab["paths"]["inventory"], "--list"], capture_output=True, text=True,
                            check=True, timeout=120)
    inventory = json.loads(result.stdout)
    assert sorted(inventory["kfuse_zones"]["hosts"]) == ["az1", "az2"]
    for name in ("az1", "az2"):
        hostvars = inventory["_meta"]["hostvars"][name]
        assert hostvars["kfuse_zone_id"] == "lab-" + name
        assert hostvars["kfuse_kube"]["context"] == "lab-" + name
        assert hostvars["kfuse_az_service"]["url"] == lab["azservice"][name]["url"]
        assert hostvars["kfuse_cloud_storage"]["s3"]["bucket"] == "kfuse-lab"
        assert hostvars["ansible_connection"] == "local"
        assert hostvars["kfuse_node_group"]["name"] == "kfuse-" + name


def test_simulators_answer_over_https_with_their_tokens(lab):
    expected = {"az1": ("lab-az1", "active"), "az2": ("lab-az2", "standby")}
    for name, sim in lab["azservice"].items():
        response = requests.get(sim["url"] + "/status", headers={"Authorization": "Bearer " + sim["token"]},
                                verify=lab["paths"]["ca"], timeout=10)
        assert response.status_code == 200
        assert (response.json()["zone"], response.json()["state"]) == expected[name]
        config = requests.get(sim["url"] + "/_lab/state", headers={"Authorization": "Bearer " + sim["token"]},
                              verify=lab["paths"]["ca"], timeout=10).json()["config"]
        assert config["peers"] == ["kfuse"]


def test_simulator_is_reachable_through_the_api_server_port_forward(lab):
    """The client's port-forward to the az-service pod goes through the API server to kwok, which forwards the
    namespace's port 8443 to that zone's simulator."""
    api_client, core = _core(lab, "lab-az2")
    try:
        pod = core.list_namespaced_pod("kfuse", label_selector="app.kubernetes.io/name=az-service").items[0]
        status, body = kube_cluster.https_get_through_portforward(
            api_client, "kfuse", pod.metadata.name, 8443, "/status", lab["paths"]["ca"],
            lab["azservice"]["az2"]["token"], "az-service.kfuse.svc")
    finally:
        api_client.close()
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body)["zone"] == "lab-az2"


def test_active_zone_seeded_the_bucket(lab):
    s3 = boto3.client("s3", endpoint_url=lab["s3"]["endpoint"], region_name="us-east-1",
                      aws_access_key_id=lab["s3"]["access_key"], aws_secret_access_key=lab["s3"]["secret_key"])
    listed = s3.list_objects_v2(Bucket="kfuse-lab", Prefix="lab-az1/segments/")
    assert listed["KeyCount"] >= 60
    assert s3.list_objects_v2(Bucket="kfuse-lab", Prefix="lab-az1/postgres/configdb/")["KeyCount"] >= 1


def test_status_sees_every_piece_alive_and_answering(lab):
    status = labctl.lab_status(lab["state_dir"])
    assert status["running"] is True
    assert {name: (e["alive"], e["answers"]) for name, e in status["pieces"].items()} == {
        name: (True, True) for name in expected_pieces(["lab-az1", "lab-az2"])}


def _cli(*args):
    return subprocess.run([labctl.venv_python(), labctl.__file__] + list(args), capture_output=True, text=True,
                          timeout=120, check=False)


def test_cli_up_status_down_leaves_no_live_pid(tmp_path):
    """The shared topology through the CLI: one cluster, both zones' node groups, a namespace per zone."""
    state_dir = str(tmp_path / "cli-lab")
    try:
        check_cli_lab(state_dir)
    finally:
        # Whatever failed above, no lab outlives the test (a no-op when the CLI's own down worked).
        labctl.lab_down(state_dir)


def check_cli_lab(state_dir):
    up = _cli("up", "--state-dir", state_dir, "--json", "--topology", "shared")
    assert up.returncode == 0, up.stderr
    lab = json.loads(up.stdout)
    pids = [piece["pid"] for piece in lab["pieces"].values()]
    assert sorted(lab["pieces"]) == expected_pieces(["lab"])
    assert all(labctl.pid_alive(pid) for pid in pids)
    for name in ("az1", "az2"):
        assert (lab["kube"][name]["context"], lab["kube"][name]["namespace"]) == ("lab", "kfuse-" + name)
        assert_zone_seeded(lab, name, "lab-" + name, "lab", "kfuse-" + name)
        # One cluster, two az-services: each namespace's port-forward leads to its own zone's simulator.
        api_client, core = _core(lab, "lab")
        try:
            pod = core.list_namespaced_pod("kfuse-" + name, label_selector="app.kubernetes.io/name=az-service").items[0]
            status, body = kube_cluster.https_get_through_portforward(
                api_client, "kfuse-" + name, pod.metadata.name, 8443, "/status", lab["paths"]["ca"],
                lab["azservice"][name]["token"], "az-service.kfuse.svc")
        finally:
            api_client.close()
        assert status == "HTTP/1.1 200 OK" and json.loads(body)["zone"] == "lab-" + name
    assert _cli("status", "--state-dir", state_dir).returncode == 0
    assert _cli("up", "--state-dir", state_dir).returncode == 1
    down = _cli("down", "--state-dir", state_dir)
    assert down.returncode == 0, down.stderr
    assert not any(labctl.pid_alive(pid) for pid in pids)
    assert not os.path.exists(os.path.join(state_dir, labctl.RUN_MARKER))
    again = _cli("down", "--state-dir", state_dir)
    assert again.returncode == 0 and "nothing was running" in again.stdout
    assert _cli("status", "--state-dir", state_dir).returncode == 3


def test_failed_piece_stops_the_others_and_is_named(tmp_path):
    # A real simulator process that refuses its arguments stands for any piece that cannot start.
    state_dir = str(tmp_path / "broken-lab")
    with pytest.raises(labctl.LabError) as failure:
        labctl.lab_up(state_dir, simulator_args=("--rehydrate-rate", "-1"))
    assert "azservice-az1" in str(failure.value) and "must be greater than 0" in str(failure.value)
    recorded = labctl.read_json(os.path.join(state_dir, "lab.json"))
    assert "moto" in recorded["pieces"] and "azservice-az1" in recorded["pieces"]
    assert not any(labctl.pid_alive(piece["pid"]) for piece in recorded["pieces"].values())
    assert not labctl.lab_running(state_dir)
