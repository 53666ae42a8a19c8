# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node groups of every provider the node_group module serves, resized through each one's API, followed by kwok
Nodes: EC2 Auto Scaling in moto (boto3), GKE node pools and AKS agent pools on the lab's cloud_nodepools stand-in
(plain HTTPS with the documented URLs, bodies and long-running operations), a real control plane, the node
provisioner as its own process.

Run: ``PYTHONPATH=tests/lab .venv/bin/python -m pytest -q tests/integration/lab/test_cloud_nodepools.py``
"""

import time

import pytest
import requests

import kube_cluster
import node_provisioner
from cloud_lab import start_cloud_lab

PROJECT, LOCATION = "kfuse-lab", "us-central1"
GKE_POOL = "projects/%s/locations/%s/clusters/lab/nodePools/kfuse-gke" % (PROJECT, LOCATION)
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
AKS_CLUSTER = ("/subscriptions/%s/resourceGroups/kfuse-lab/providers/Microsoft.ContainerService/managedClusters/lab"
               % SUBSCRIPTION)
AKS_POOL = AKS_CLUSTER + "/agentPools/kfuseaks"
API_VERSION = "2025-05-01"
ASG = "kfuse-asg"
ZONES = {"asg": "us-east-1a", "gke": "us-central1-a", "aks": "eastus-1"}
OPERATION_SECONDS = 1.5
NODE_DELAY = 0.5


@pytest.fixture(scope="module", name="cloud")
def cloud_fixture(tmp_path_factory):
    with start_cloud_lab(tmp_path_factory.mktemp("cloud-nodepools"), gke_pools=[(GKE_POOL, 0)],
                         aks_pools=[(AKS_POOL, 0)], operation_seconds=OPERATION_SECONDS) as cloud:
        cloud.create_asg(ASG, ZONES["asg"], 6)
        cloud.start_provisioner("node-provisioner", NODE_DELAY, asg=[(ASG, ZONES["asg"])],
                                gke=[(GKE_POOL, ZONES["gke"])], aks=[(AKS_POOL, ZONES["aks"])])
        yield cloud


def wait_for_nodes(cloud, label, name, zone, count, timeout=30.0):
    """Until exactly ``count`` Ready Nodes carry ``label=name`` (and the zone); return their names."""
    deadline = time.monotonic() + timeout
    while True:
        nodes = cloud.core.list_node(label_selector="%s=%s" % (label, name)).items
        ready = [node for node in nodes if any(c.type == "Ready" and c.status == "True"
                                               for c in (node.status.conditions or []))]
        if len(nodes) == count and len(ready) == count:
            for node in nodes:
                assert node.metadata.labels[kube_cluster.ZONE_LABEL] == zone
                assert kube_cluster.NODE_GROUP_LABEL not in node.metadata.labels or label == kube_cluster.NODE_GROUP_LABEL
            return sorted(node.metadata.name for node in nodes)
        if time.monotonic() > deadline:
            with open(cloud.logs["node-provisioner"], encoding="utf-8") as handle:
                log = handle.read()[-2000:]
            raise AssertionError("%d nodes (%d Ready) with %s=%s, wanted %d; provisioner log:\n%s"
                                 % (len(nodes), len(ready), label, name, count, log))
        time.sleep(0.2)


def test_asg_desired_capacity_registers_then_removes_nodes(cloud):
    autoscaling = cloud.aws("autoscaling")
    autoscaling.set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=2)
    assert wait_for_nodes(cloud, node_provisioner.ASG_LABEL, ASG, ZONES["asg"], 2) == [ASG + "-0", ASG + "-1"]
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=ASG, MinSize=0, MaxSize=6, DesiredCapacity=1)
    assert wait_for_nodes(cloud, node_provisioner.ASG_LABEL, ASG, ZONES["asg"], 1) == [ASG + "-0"]
    autoscaling.set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=0)
    wait_for_nodes(cloud, node_provisioner.ASG_LABEL, ASG, ZONES["asg"], 0)


def gke_set_size(cloud, count):
    """POST :setSize, then poll the Operation until DONE; return (first answer, the operations seen)."""
    url = "%s/v1/%s:setSize" % (cloud.server.url, GKE_POOL)
    response = cloud.call("POST", url, json={"nodeCount": count})
    assert response.status_code == 200, response.text
    operation = response.json()
    assert operation["operationType"] == "SET_NODE_POOL_SIZE" and operation["status"] == "RUNNING"
    assert operation["targetLink"].endswith("/v1/" + GKE_POOL)
    op_url = "%s/v1/projects/%s/locations/%s/operations/%s" % (cloud.server.url, PROJECT, LOCATION,
                                                               operation["name"])
    assert operation["selfLink"] == op_url
    seen = []
    deadline = time.monotonic() + 15
    while not seen or seen[-1]["status"] != "DONE":
        assert time.monotonic() < deadline, seen
        polled = cloud.call("GET", op_url)
        assert polled.status_code == 200, polled.text
        seen.append(polled.json())
        time.sleep(0.3)
    return operation, seen


def test_gke_set_size_operation_then_nodes(cloud):
    pool_url = "%s/v1/%s" % (cloud.server.url, GKE_POOL)
    pool = cloud.call("GET", pool_url).json()
    assert (pool["name"], pool["status"], pool["initialNodeCount"], pool["labNodeCount"]) == ("kfuse-gke", "RUNNING",
                                                                                              0, 0)
    operation, seen = gke_set_size(cloud, 3)
    assert seen[0]["status"] == "RUNNING" and seen[-1]["status"] == "DONE" and seen[-1]["endTime"]
    assert {entry["name"] for entry in seen} == {operation["name"]}
    pool = cloud.call("GET", pool_url).json()
    assert pool["status"] == "RUNNING" and pool["labNodeCount"] == 3 and pool["initialNodeCount"] == 0
    # The real API's current size: the target size of the pool's instance group manager.
    manager_url = pool["instanceGroupUrls"][0].replace("/instanceGroups/", "/instanceGroupManagers/")
    assert cloud.call("GET", manager_url).json()["targetSize"] == 3
    names = wait_for_nodes(cloud, node_provisioner.GKE_LABEL, "kfuse-gke", ZONES["gke"], 3)
    assert names == ["kfuse-gke-0", "kfuse-gke-1", "kfuse-gke-2"]

    gke_set_size(cloud, 0)
    wait_for_nodes(cloud, node_provisioner.GKE_LABEL, "kfuse-gke", ZONES["gke"], 0)


def test_gke_one_operation_at_a_time_and_bad_body(cloud):
    url = "%s/v1/%s:setSize" % (cloud.server.url, GKE_POOL)
    first = cloud.call("POST", url, json={"nodeCount": 0})
    assert first.status_code == 200
    pool = cloud.call("GET", "%s/v1/%s" % (cloud.server.url, GKE_POOL)).json()
    assert pool["status"] == "RECONCILING"
    second = cloud.call("POST", url, json={"nodeCount": 1})
    assert second.status_code == 400
    assert second.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert first.json()["name"] in second.json()["error"]["message"]
    bad = cloud.call("POST", url, json={"nodeCount": -1})
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    time.sleep(OPERATION_SECONDS + 0.2)


def test_gke_service_account_token_through_google_auth(cloud, monkeypatch):
    pytest.importorskip("google.auth")
    from google.auth.transport.requests import AuthorizedSession  # pylint: disable=import-outside-toplevel
    from google.oauth2 import service_account  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cloud.server.ca)
    credentials = service_account.Credentials.from_service_account_file(
        cloud.server.service_account_file, scopes=["https://www.googleapis.com/auth/cloud-platform"])
    with AuthorizedSession(credentials) as session:
        response = session.get("%s/v1/%s" % (cloud.server.url, GKE_POOL), timeout=10)
    assert response.status_code == 200 and response.json()["name"] == "kfuse-gke"
    assert requests.get(cloud.server.url + "/_lab/state", verify=cloud.server.ca, timeout=10).json()[
        "tokensIssued"] >= 1


def aks_put_count(cloud, count, expect_status=200):
    """PUT the agent pool with properties.count, then poll Azure-AsyncOperation until Succeeded."""
    url = cloud.server.url + AKS_POOL
    response = cloud.call("PUT", url, params={"api-version": API_VERSION}, json={"properties": {"count": count}})
    assert response.status_code == expect_status, response.text
    body = response.json()
    assert body["properties"]["count"] == count
    assert body["properties"]["provisioningState"] in ("Scaling", "Creating")
    op_url = response.headers["Azure-AsyncOperation"]
    assert op_url.startswith("%s/subscriptions/%s/providers/Microsoft.ContainerService/locations/eastus/operations/"
                             % (cloud.server.url, SUBSCRIPTION)) and "api-version=" + API_VERSION in op_url
    during = cloud.call("GET", url, params={"api-version": API_VERSION}).json()
    assert during["properties"]["provisioningState"] == body["properties"]["provisioningState"]
    seen = []
    deadline = time.monotonic() + 15
    while not seen or seen[-1] == "InProgress":
        assert time.monotonic() < deadline, seen
        polled = cloud.call("GET", op_url)
        assert polled.status_code == 200, polled.text
        seen.append(polled.json()["status"])
        time.sleep(0.3)
    assert seen[0] == "InProgress" and seen[-1] == "Succeeded"
    after = cloud.call("GET", url, params={"api-version": API_VERSION}).json()
    assert after["properties"]["provisioningState"] == "Succeeded" and after["properties"]["count"] == count
    return body


def test_aks_put_count_polls_then_nodes(cloud):
    pool = cloud.call("GET", cloud.server.url + AKS_POOL, params={"api-version": API_VERSION}).json()
    assert pool["id"] == AKS_POOL and pool["name"] == "kfuseaks"
    assert pool["properties"]["count"] == 0 and pool["properties"]["provisioningState"] == "Succeeded"
    aks_put_count(cloud, 2)
    assert wait_for_nodes(cloud, node_provisioner.AKS_LABEL, "kfuseaks", ZONES["aks"], 2) == ["kfuseaks-0",
                                                                                              "kfuseaks-1"]
    busy = cloud.call("PUT", cloud.server.url + AKS_POOL, params={"api-version": API_VERSION},
                      json={"properties": {"count": 1}})
    assert busy.status_code == 200
    again = cloud.call("PUT", cloud.server.url + AKS_POOL, params={"api-version": API_VERSION},
                       json={"properties": {"count": 0}})
    assert again.status_code == 409 and again.json()["error"]["code"] == "OperationNotAllowed"
    time.sleep(OPERATION_SECONDS + 0.2)
    aks_put_count(cloud, 0)
    wait_for_nodes(cloud, node_provisioner.AKS_LABEL, "kfuseaks", ZONES["aks"], 0)


def test_aks_put_creates_a_pool_with_201(cloud):
    url = cloud.server.url + AKS_CLUSTER + "/agentPools/spare"
    response = cloud.call("PUT", url, params={"api-version": API_VERSION}, json={"properties": {"count": 0}})
    assert response.status_code == 201 and response.json()["properties"]["provisioningState"] == "Creating"
    assert "Azure-AsyncOperation" in response.headers
    listed = cloud.call("GET", cloud.server.url + AKS_CLUSTER + "/agentPools", params={"api-version": API_VERSION})
    assert sorted(pool["name"] for pool in listed.json()["value"]) == ["kfuseaks", "spare"]


def test_without_token_401_and_unknown_pool_404_in_each_providers_shape(cloud):
    gke_url = "%s/v1/%s" % (cloud.server.url, GKE_POOL)
    for headers in ({}, {"Authorization": "Bearer not-a-lab-token"}):
        response = cloud.call("GET", gke_url, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == 401 and response.json()["error"]["status"] == "UNAUTHENTICATED"
        response = cloud.call("POST", gke_url + ":setSize", headers=headers, json={"nodeCount": 5})
        assert response.status_code == 401
    missing = cloud.call("GET", gke_url.replace("kfuse-gke", "nope"))
    assert missing.status_code == 404
    assert missing.json()["error"] == {"code": 404, "status": "NOT_FOUND",
                                       "message": "Not found: %s." % GKE_POOL.replace("kfuse-gke", "nope")}
    missing_op = cloud.call("GET", "%s/v1/projects/%s/locations/%s/operations/operation-0" % (cloud.server.url,
                                                                                              PROJECT, LOCATION))
    assert missing_op.status_code == 404 and missing_op.json()["error"]["status"] == "NOT_FOUND"

    aks_url = cloud.server.url + AKS_POOL
    response = cloud.call("GET", aks_url, headers={}, params={"api-version": API_VERSION})
    assert response.status_code == 401 and response.json()["error"]["code"] == "AuthenticationFailed"
    assert set(response.json()["error"]) == {"code", "message"}
    response = cloud.call("PUT", aks_url, headers={"Authorization": "Bearer wrong"},
                          params={"api-version": API_VERSION}, json={"properties": {"count": 5}})
    assert response.status_code == 401 and response.json()["error"]["code"] == "InvalidAuthenticationToken"
    missing = cloud.call("GET", aks_url.replace("kfuseaks", "nope"), params={"api-version": API_VERSION})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NotFound"
    no_cluster = cloud.call("GET", aks_url.replace("managedClusters/lab", "managedClusters/other"),
                            params={"api-version": API_VERSION})
    assert no_cluster.status_code == 404 and no_cluster.json()["error"]["code"] == "ResourceNotFound"
    no_version = cloud.call("GET", aks_url)
    assert no_version.status_code == 400 and no_version.json()["error"]["code"] == "MissingApiVersionParameter"
    # Nothing above changed a size.
    state = requests.get(cloud.server.url + "/_lab/state", verify=cloud.server.ca, timeout=10).json()
    assert state["gke"][GKE_POOL]["nodeCount"] == 0 and state["aks"][AKS_POOL]["count"] == 0
