# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kfuse.failover.node_group in real ansible-playbook runs: EKS and Auto Scaling on moto_server, GKE (google-auth
service account) and AKS (azure-identity service principal) on the node-pool stand-in, kwok Nodes registered and
removed by the node provisioner on a real control plane.

Run: ``make integration PYTEST_ARGS='tests/integration/node_group -x'``
"""

import os
import threading
import time
import urllib.parse

import pytest

from node_group_lab import (  # pylint: disable=import-error
    AKS_POOL, ASG, EKS_GROUP, GKE_POOL, GROUP_MAX, SLOW_GROUP, ZONES, node_group_task)

POLL = {"poll_interval": 0.5, "wait_timeout": 60}
LABELS = {"eks": ("eks.amazonaws.com/nodegroup", EKS_GROUP), "asg": ("kfuse.io/asg", ASG),
          "gke": ("cloud.google.com/gke-nodepool", GKE_POOL), "aks": ("kubernetes.azure.com/agentpool", AKS_POOL)}
CHANGE_KEY = {"eks": "update_id", "asg": None, "gke": "operation", "aks": "operation"}


def _results(run):
    assert run.parsed, run.stdout[-3000:] + run.stderr[-3000:]
    return {name: result for name, _host, result in run.results()}


def _succeeded(result, changed):
    """The result did not fail and says ``changed``; the message is shown when it failed."""
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is changed, result


@pytest.mark.parametrize("provider", ["eks", "asg", "gke", "aks"])
def test_scale_up_rerun_check_above_max_and_to_zero(cloud, run_tasks, provider):
    label, group = LABELS[provider]
    selector = {label: group, "topology.kubernetes.io/zone": ZONES[provider]}
    base = dict(cloud.args(provider), node_selector=selector, **POLL)
    # Providers without a maximum of their own (GKE, AKS pools) take max_size as a bound of the request.
    above = dict(base, size=GROUP_MAX + 1) if provider in ("eks", "asg") else dict(base, size=5, max_size=4)
    assert cloud.provider_size(provider)[2] == 0
    run = run_tasks([
        node_group_task("check 0 -> 3", dict(base, size=3), check_mode=True),
        node_group_task("scale 0 -> 3", dict(base, size=3)),
        node_group_task("again", dict(base, size=3)),
        node_group_task("above max", above, ignore_errors=True),
        node_group_task("scale to 0", dict(base, size=0)),
    ], diff=True)
    results = _results(run)

    check = results["check 0 -> 3"]
    _succeeded(check, True)
    assert check["before"]["desired_size"] == 0 and check["after"]["desired_size"] == 3
    assert "progress" not in check and "nodes" not in check
    assert check["diff"]["before"]["desired_size"] == 0 and check["diff"]["after"]["desired_size"] == 3

    up = results["scale 0 -> 3"]
    _succeeded(up, True)
    assert up["before"]["desired_size"] == 0, "check mode changed the group: %s" % up["before"]
    assert up["after"]["desired_size"] == 3
    assert up["nodes"]["registered"] == 3 and up["nodes"]["ready"] == 3, up["nodes"]
    assert up["nodes"]["names"] == ["%s-%d" % (group, index) for index in range(3)]
    assert up["progress"][0]["requested"] == 3 and up["progress"][-1]["ready"] == 3, up["progress"]
    assert any(sample["ready"] < 3 for sample in up["progress"]), up["progress"]
    assert up["elapsed"] > 0
    if provider in ("eks", "asg"):
        # Scaling up from zero raised the minimum with the desired size; the maximum was kept.
        assert (up["after"]["min_size"], up["after"]["max_size"]) == (3, GROUP_MAX)
    if CHANGE_KEY[provider]:
        assert up[CHANGE_KEY[provider]], up

    again = results["again"]
    _succeeded(again, False)
    assert again["nodes"]["ready"] == 3
    assert "update_id" not in again and "operation" not in again

    refused = results["above max"]
    assert refused.get("failed") is True and refused.get("changed") is not True, refused
    if provider in ("eks", "asg"):
        assert "size=%d" % (GROUP_MAX + 1) in refused["msg"] and "(%d)" % GROUP_MAX in refused["msg"], refused["msg"]
        assert "max_size" in refused["msg"]
    else:
        assert "max_size=4 is below size=5" in refused["msg"], refused["msg"]

    down = results["scale to 0"]
    _succeeded(down, True)
    assert down["before"]["desired_size"] == 3, "the refused request changed the group: %s" % down["before"]
    if provider in ("eks", "asg"):
        assert down["before"]["max_size"] == GROUP_MAX and down["after"]["min_size"] == 0
    assert down["nodes"] == {"selector": down["nodes"]["selector"], "registered": 0, "ready": 0, "names": []}
    assert cloud.provider_size(provider)[2] == 0
    assert cloud.node_names(label, group) == []
    if provider == "aks":
        azure = cloud.server.azure
        assert azure["client_secret"] not in run.stdout
        assert cloud.lab_state()["azureTokensIssued"] >= 1
    if provider == "gke":
        assert cloud.lab_state()["tokensIssued"] >= 1


def _module_pids():
    """The processes the module may run in: its own (AnsiballZ) or, in-process, the ansible-playbook worker's."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmdline = handle.read()
                if b"AnsiballZ_node_group" in cmdline or b"ansible-playbook" in cmdline:
                    pids.append(pid)
        except OSError:
            continue
    return pids


def _connected_to(pid, port):
    """Whether process ``pid`` holds an established TCP connection to 127.0.0.1:``port``."""
    try:
        inodes = {os.readlink("/proc/%s/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%s/fd" % pid)}
    except OSError:
        return False
    with open("/proc/net/tcp", encoding="ascii") as handle:
        for line in handle.readlines()[1:]:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            if state == "01" and int(remote.split(":")[1], 16) == port and "socket:[%s]" % inode in inodes:
                return True
    return False


def _wait_until_module_reads_nodes(api_port, timeout=60.0):
    """Until the module itself talks to the Kubernetes API server (it counts nodes), so that what follows happens
    while it waits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(_connected_to(pid, api_port) for pid in _module_pids()):
            return
        time.sleep(0.05)
    raise AssertionError("the module did not reach the API server within %.0fs" % timeout)


def test_provider_none_only_waits_while_another_actor_scales(cloud, run_tasks):
    """provider=none: the module changes nothing; here boto3 plays the cluster autoscaler on the Auto Scaling
    group while the module waits for its nodes."""
    label, group = LABELS["asg"]
    args = dict(cloud.kube_args(), provider="none", size=2, node_selector={label: group}, **POLL)
    autoscaling = cloud.aws("autoscaling")
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(run=run_tasks([node_group_task("wait", args)])))
    worker.start()
    try:
        _wait_until_module_reads_nodes(urllib.parse.urlsplit(cloud.api_client.configuration.host).port)
        autoscaling.set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=2)
    finally:
        worker.join(120)
    result = _results(outcome["run"])["wait"]
    _succeeded(result, False)
    assert result["provider"] == "none" and result["before"]["desired_size"] is None
    assert result["nodes"]["registered"] == 2 and result["nodes"]["ready"] == 2
    assert result["progress"][0]["registered"] == 0 and result["progress"][-1]["ready"] == 2, result["progress"]
    assert "update_id" not in result and "operation" not in result

    autoscaling.set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=0)
    down = _results(run_tasks([node_group_task("gone", dict(args, size=0))]))["gone"]
    _succeeded(down, False)
    assert down["nodes"]["registered"] == 0, down


def test_timeout_names_requested_provider_registered_and_ready(cloud, run_tasks):
    """The slow group's nodes boot later than the wait allows: the failure says what it last saw."""
    args = dict(cloud.aws_args(), provider="eks", cluster="lab", name=SLOW_GROUP, size=2, poll_interval=0.5,
                wait_timeout=4)
    result = _results(run_tasks([node_group_task("slow", args, ignore_errors=True)]))["slow"]
    assert result.get("failed") is True and result["changed"] is True and result["timed_out"] is True, result
    message = result["msg"]
    assert message.startswith("timed out after"), message
    for part in ("requested=2", "provider_desired=2", "registered=0", "ready=0", SLOW_GROUP):
        assert part in message, message
    assert result["update_id"] and result["progress"] and result["nodes"]["registered"] == 0
    assert result["before"]["desired_size"] == 0 and result["after"]["desired_size"] == 2
    cloud.aws("eks").update_nodegroup_config(clusterName="lab", nodegroupName=SLOW_GROUP,
                                             scalingConfig={"minSize": 0, "maxSize": GROUP_MAX, "desiredSize": 0})
