# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node_group suite's own lab, started once: a real control plane (kwok Nodes), moto_server with an EKS
cluster, two EKS managed node groups and an Auto Scaling group, the GKE/AKS node-pool stand-in (with its
service-account and Entra ID token endpoints), and two node provisioners - a quick one following every group but
one, and a slow one (longer boot delay than any wait here) following ``kfuse-slow`` for the timeout test.
Ansible runs are real ``ansible-playbook`` runs of the module on localhost."""

import json
import os
import secrets
import sys

import pytest

from node_group_lab import (  # pylint: disable=import-error
    AKS_POOL_ID, ASG, CONTEXT, EKS_CLUSTER, EKS_GROUP, GKE_POOL_NAME, NODE_DELAY, OPERATION_SECONDS, SLOW_DELAY,
    SLOW_GROUP, ZONES, Cloud, create_aws_groups, start_provisioner)

# pylint: disable=wrong-import-position,import-error
from ansible_run import VENV_BIN, run_ansible  # noqa: E402
import cloud_nodepools  # noqa: E402
import kube_cluster  # noqa: E402
import labca  # noqa: E402
from storage_emulators import start_moto  # noqa: E402
# pylint: enable=wrong-import-position,import-error


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("node-group")
    pki = labca.create_lab_pki(str(workdir / "pki"))
    stack = []
    try:
        kube = kube_cluster.start_kube(workdir / "kube", (CONTEXT,), nodes={CONTEXT: [("lab-system", "system", 1)]},
                                       pki=pki)
        stack.append(kube.stop)
        moto = start_moto(str(workdir / "moto"))
        stack.append(moto.stop)
        server = cloud_nodepools.start_cloud_nodepools(workdir / "server", pki, gke_pools=[(GKE_POOL_NAME, 0)],
                                                       aks_pools=[(AKS_POOL_ID, 0)],
                                                       operation_seconds=OPERATION_SECONDS)
        stack.append(server.stop)
        lab = Cloud(kube, moto, server, pki)
        stack.append(lab.api_client.close)
        create_aws_groups(lab)
        stack.append(start_provisioner(lab, workdir, "node-provisioner", NODE_DELAY, [
            "--group", "%s/%s=%s,%s" % (EKS_CLUSTER, EKS_GROUP, CONTEXT, ZONES["eks"]),
            "--asg", "%s=%s,%s" % (ASG, CONTEXT, ZONES["asg"]),
            "--gke", "%s/v1/%s=%s,%s" % (server.url, GKE_POOL_NAME, CONTEXT, ZONES["gke"]),
            "--aks", "%s%s=%s,%s" % (server.url, AKS_POOL_ID, CONTEXT, ZONES["aks"])]))
        stack.append(start_provisioner(lab, workdir, "slow-provisioner", SLOW_DELAY, [
            "--group", "%s/%s=%s,%s" % (EKS_CLUSTER, SLOW_GROUP, CONTEXT, ZONES["slow"])]))
        yield lab
    finally:
        for stop in reversed(stack):
            stop()


@pytest.fixture
def run_tasks(tmp_path):
    """run_tasks([task, ...], diff=False) -> Run: one ansible-playbook run of the tasks on localhost."""

    def run(tasks, timeout=180, diff=False):
        playbook = tmp_path / ("play-%s.yml" % secrets.token_hex(4))
        playbook.write_text(json.dumps([{"name": "node_group", "hosts": "localhost", "gather_facts": False,
                                         "tasks": tasks}]))
        cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
        if diff:
            cmd.append("--diff")
        return run_ansible(cmd, tmp_path, timeout)

    return run
