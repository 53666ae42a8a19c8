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
    AKS_POOL_ID, ASG, EKS_CLUSTER, EKS_GROUP, GKE_POOL_NAME, NODE_DELAY, OPERATION_SECONDS, SLOW_DELAY, SLOW_GROUP,
    ZONES, Cloud, create_aws_groups)

# pylint: disable=wrong-import-position,import-error
from ansible_run import VENV_BIN, run_ansible  # noqa: E402
from cloud_lab import start_cloud_lab  # noqa: E402
# pylint: enable=wrong-import-position,import-error


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    with start_cloud_lab(tmp_path_factory.mktemp("node-group"), gke_pools=[(GKE_POOL_NAME, 0)],
                         aks_pools=[(AKS_POOL_ID, 0)], operation_seconds=OPERATION_SECONDS, cloud_class=Cloud) as lab:
        create_aws_groups(lab)
        lab.start_provisioner("node-provisioner", NODE_DELAY, eks=[(EKS_CLUSTER + "/" + EKS_GROUP, ZONES["eks"])],
                              asg=[(ASG, ZONES["asg"])], gke=[(GKE_POOL_NAME, ZONES["gke"])],
                              aks=[(AKS_POOL_ID, ZONES["aks"])])
        # Boots later than any wait of the suite: the timeout test's group.
        lab.start_provisioner("slow-provisioner", SLOW_DELAY, eks=[(EKS_CLUSTER + "/" + SLOW_GROUP, ZONES["slow"])])
        yield lab


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
