# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles chained by hand on a fresh shared-topology lab: preflight -> secrets -> node_group -> kloudfuse ->
az-service hand-over -> ingress, then the lab's own state is checked: az2 runs kfuse 3.4.2 on its own Ready nodes
with az1's secrets, is active, and is the only zone serving. A check-mode run first changes nothing.
The same chain runs on the per-zone lab in test_rbac.py, as the failover's ServiceAccount."""

import os
import sys

import pytest
from kubernetes import client as kube_client

from ansible_run import REPO, VENV_BIN, run_ansible
from chain_support import api, check_chain_result

LAB_DIR = os.path.join(REPO, "tests", "lab")
CHAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chain.yml")


@pytest.fixture(params=["shared"])
def topology_lab(request, tmp_path_factory):
    if LAB_DIR not in sys.path:
        sys.path.insert(0, LAB_DIR)
    import labctl  # pylint: disable=import-outside-toplevel

    with labctl.running_lab(str(tmp_path_factory.mktemp("chain-" + request.param)), topology=request.param) as info:
        yield info


def snapshot(info):
    """What the chain changes, read straight from the lab: secrets, kfuse version, nodes, az states."""
    found = {}
    for zone in ("az1", "az2"):
        core = kube_client.CoreV1Api(api(info, zone))
        namespace = info["kube"][zone]["namespace"]
        found[zone] = {
            "secrets": sorted(s.metadata.name for s in core.list_namespaced_secret(namespace).items
                              if not s.metadata.name.startswith("sh.helm.")),
            "configmaps": sorted(c.metadata.name for c in core.list_namespaced_config_map(namespace).items),
            "nodes": sorted(n.metadata.name for n in core.list_node(
                label_selector="topology.kubernetes.io/zone=lab-" + zone).items),
        }
    return found


def test_roles_chain_on_the_lab(topology_lab, tmp_path):
    info = topology_lab
    inventory = info["paths"]["inventory"]
    env_vars = ["-e", "chain_source=az1", "-e", "chain_target=az2"]
    os.environ["HELM_REGISTRY_CONFIG"] = info["paths"]["helm_registry_config"]
    before = snapshot(info)

    dry = run_ansible([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, CHAIN] + env_vars
                      + ["-e", "ingress_force=true"], tmp_path, timeout=600, check=True)
    # check mode stops at the activation wait (nothing was activated), but nothing before it changed anything
    assert snapshot(info) == before, "check mode changed the lab"
    assert dry.stats()["az2"]["changed"] >= 3, dry.stats()

    run = run_ansible([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, CHAIN] + env_vars,
                      tmp_path, timeout=900)
    core = check_chain_result(info, run)
    namespace = info["kube"]["az2"]["namespace"]
    ready = [n for n in core.list_node(label_selector="eks.amazonaws.com/nodegroup=kfuse-az2").items
             if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)]
    assert len(ready) == 3
    pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=az-service").items
    assert pods and all(p.spec.node_name in {n.metadata.name for n in ready} for p in pods)

    status = run_ansible([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory,
                          os.path.join(REPO, "extensions", "molecule", "ingress", "verify.yml")], tmp_path, timeout=300)
    assert status.rc == 0, status.stdout[-3000:]
