# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run of chain.yml (az1 -> az2) must have done, read from the lab with the admin kubeconfig (the RBAC test
runs the chain as the ServiceAccount)."""

from kubernetes import client as kube_client
from kubernetes import config as kube_config

SECRETS = ("kfuse-image-pull-credentials", "cloud-storage-secret", "kfuse-pg-credentials")


def api(info, zone, kubeconfig="kubeconfig"):
    """A client of a zone's cluster, with the lab's admin kubeconfig unless another path key is named."""
    return kube_config.new_client_from_config(config_file=info["paths"][kubeconfig],
                                              context=info["kube"][zone]["context"])


def chain_snapshot(info):
    """What the chain changes, read straight from the lab: secrets, ConfigMaps, nodes of each zone."""
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


def check_chain_result(info, run):
    """The chain succeeded: preflight ok for 3.4.2, az1's secrets in az2, kfuse 3.4.2 there. Returns az2's CoreV1Api."""
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    facts = {name: result for name, _host, result in run.results("az2") if "ansible_facts" in result}
    preflight = [r for n, r in facts.items() if "Sum up" in n][0]["ansible_facts"]["preflight_result"]
    assert preflight["ok"] and preflight["chart_version"] == "3.4.2", preflight["checks"]
    core = kube_client.CoreV1Api(api(info, "az2"))
    namespace = info["kube"]["az2"]["namespace"]
    source = kube_client.CoreV1Api(api(info, "az1"))
    for name in SECRETS:
        assert core.read_namespaced_secret(name, namespace).data == \
            source.read_namespaced_secret(name, info["kube"]["az1"]["namespace"]).data
    assert core.read_namespaced_config_map("kfuse-version", namespace).data["version"] == "3.4.2"
    return core
