# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's node provisioner: keeps each zone's kwok Nodes in step with its node group in the cloud emulators.

What a cloud does when a node group is resized (instances boot, kubelets register, or drain and go), the lab does
here: every ``--interval`` seconds it reads each group's size and, once a change has stood for ``--delay`` seconds
(boot time), registers or removes kwok Nodes labelled with the zone and the group in that zone's cluster. kwok then
makes them Ready and the real scheduler places (or leaves Pending) the pods pinned to that zone. It touches the
heartbeat file after every round, so ``labctl status`` can tell it works.

Where a size is read, and the node label naming the group:

- ``--group CLUSTER/NODEGROUP=CONTEXT,ZONE``: an EKS managed node group in moto (``desiredSize``),
  ``eks.amazonaws.com/nodegroup``;
- ``--asg NAME=CONTEXT,ZONE``: an EC2 Auto Scaling group in moto (``DesiredCapacity``), ``--asg-label``
  (default ``kfuse.io/asg``);
- ``--gke URL/projects/P/locations/L/clusters/C/nodePools/NP=CONTEXT,ZONE``: a GKE node pool of the lab's
  cloud_nodepools stand-in (its ``GET /_lab/state``), ``cloud.google.com/gke-nodepool``;
- ``--aks URL/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/C/agentPools/P=CONTEXT,ZONE``:
  an AKS agent pool of the same stand-in, ``kubernetes.azure.com/agentpool``.

``python -m node_provisioner --endpoint URL --kubeconfig FILE --group CLUSTER/NODEGROUP=CONTEXT,ZONE [...]``
"""

import argparse
import os
import re
import sys
import time
import urllib.parse

import boto3
import requests
from kubernetes import client as kube_client, config as kube_config

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

import kube_cluster  # noqa: E402  pylint: disable=wrong-import-position

_GROUP = re.compile(r"^(?P<cluster>[^/=]+)/(?P<nodegroup>[^/=]+)=(?P<context>[^,]+),(?P<zone>.+)$")
_TARGET = re.compile(r"^(?P<source>.+)=(?P<context>[^,=]+),(?P<zone>[^=]+)$")
_GKE_PATH = re.compile(r"^(?P<prefix>.*?)/(?P<name>projects/[^/]+/locations/[^/]+/clusters/[^/]+/nodePools/"
                       r"(?P<pool>[^/:]+))$")
_AKS_PATH = re.compile(r"^(?P<prefix>.*?)(?P<name>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                       r"Microsoft\.ContainerService/managedClusters/[^/]+/agentPools/(?P<pool>[^/]+))$")

GKE_LABEL = "cloud.google.com/gke-nodepool"
AKS_LABEL = "kubernetes.azure.com/agentpool"
ASG_LABEL = "kfuse.io/asg"


class NodeGroup:
    """One node group: where its size is read (``provider``, ``source``) and where its Nodes live (context, zone);
    its Nodes carry ``label=name``."""

    def __init__(self, provider, name, label, context, zone, source):
        self.provider, self.name, self.label = provider, name, label
        self.context, self.zone, self.source = context, zone, source
        self.desired = None
        self.changed_at = 0.0

    def __str__(self):
        return "%s %s" % (self.provider, self.source if isinstance(self.source, str) else "/".join(self.source))

    def observe(self, desired, now):
        if desired != self.desired:
            self.desired, self.changed_at = desired, now

    def settled(self, now, delay):
        return self.desired is not None and now - self.changed_at >= delay


def parse_eks(spec):
    found = _GROUP.match(spec)
    if not found:
        raise ValueError("--group: %r is not CLUSTER/NODEGROUP=CONTEXT,ZONE" % spec)
    return NodeGroup("eks", found.group("nodegroup"), kube_cluster.NODE_GROUP_LABEL, found.group("context"),
                     found.group("zone"), (found.group("cluster"), found.group("nodegroup")))


def _target(spec, option, form):
    found = _TARGET.match(spec)
    if not found:
        raise ValueError("%s: %r is not %s=CONTEXT,ZONE" % (option, spec, form))
    return found.group("source"), found.group("context"), found.group("zone")


def parse_asg(spec, label=ASG_LABEL):
    name, context, zone = _target(spec, "--asg", "NAME")
    return NodeGroup("asg", name, label, context, zone, name)


def parse_cloud(spec, provider):
    """``--gke``/``--aks``: the pool's URL on the stand-in; source is (state URL, pool key in the state)."""
    form = {"gke": "URL/projects/P/locations/L/clusters/C/nodePools/NP",
            "aks": "URL/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/C/"
                   "agentPools/P"}[provider]
    url, context, zone = _target(spec, "--" + provider, form)
    parsed = urllib.parse.urlsplit(url)
    found = (_GKE_PATH if provider == "gke" else _AKS_PATH).match(parsed.path)
    if parsed.scheme not in ("http", "https") or not found:
        raise ValueError("--%s: %r is not %s=CONTEXT,ZONE" % (provider, spec, form))
    state_url = "%s://%s/_lab/state" % (parsed.scheme, parsed.netloc)
    return NodeGroup(provider, found.group("pool"), GKE_LABEL if provider == "gke" else AKS_LABEL, context, zone,
                     (state_url, found.group("name")))


class SizeReader:
    """Reads each group's desired size from its provider; the stand-in's state is read once per round."""

    def __init__(self, endpoint, region, cloud_ca):
        self.endpoint, self.region, self.cloud_ca = endpoint, region, cloud_ca
        self._eks = self._autoscaling = None
        self._states = {}

    def new_round(self):
        self._states = {}

    def desired(self, group):
        readers = {"eks": self._eks_size, "asg": self._asg_size, "gke": self._gke_size, "aks": self._aks_size}
        return readers[group.provider](group)

    def _aws(self, service):
        # parse_groups made sure there is an endpoint when EKS or Auto Scaling groups are followed.
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region)

    def _eks_size(self, group):
        self._eks = self._eks or self._aws("eks")
        cluster, name = group.source
        return self._eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]["scalingConfig"][
            "desiredSize"]

    def _asg_size(self, group):
        self._autoscaling = self._autoscaling or self._aws("autoscaling")
        found = self._autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group.source])[
            "AutoScalingGroups"]
        if not found:
            raise LookupError("no Auto Scaling group %s" % group.source)
        return found[0]["DesiredCapacity"]

    def _state(self, url):
        if url not in self._states:
            response = requests.get(url, verify=self.cloud_ca or True, timeout=5)
            response.raise_for_status()
            self._states[url] = response.json()
        return self._states[url]

    def _gke_size(self, group):
        url, name = group.source
        return self._state(url)["gke"][name]["nodeCount"]

    def _aks_size(self, group):
        url, name = group.source
        return self._state(url)["aks"][name]["count"]


def reconcile(core, group):
    """Add or remove Nodes of ``group`` until there are ``group.desired``; return what was done (a log line)."""
    selector = "%s=%s" % (group.label, group.name)
    nodes = sorted((node.metadata.name for node in core.list_node(label_selector=selector).items), key=_index)
    if len(nodes) < group.desired:
        taken = {_index(name) for name in nodes}
        free = [index for index in range(group.desired * 2 + 1) if index not in taken][:group.desired - len(nodes)]
        added = [kube_cluster.add_node(core.api_client, group.zone, group.name, index, group_label=group.label)
                 for index in free]
        return "%s: desired %d, registered %s" % (group.name, group.desired, ", ".join(added))
    if len(nodes) > group.desired:
        # Like a scale-in: the newest instances go first.
        removed = nodes[group.desired:]
        for name in removed:
            core.delete_node(name)
        return "%s: desired %d, removed %s" % (group.name, group.desired, ", ".join(removed))
    return None


def _index(name):
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def parse_groups(args):
    groups = [parse_eks(spec) for spec in args.group]
    groups += [parse_asg(spec, args.asg_label) for spec in args.asg]
    groups += [parse_cloud(spec, "gke") for spec in args.gke]
    groups += [parse_cloud(spec, "aks") for spec in args.aks]
    if not groups:
        raise ValueError("give at least one --group, --asg, --gke or --aks")
    if (args.group or args.asg) and not args.endpoint:
        raise ValueError("--group and --asg need --endpoint (the moto server)")
    return groups


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--endpoint", help="moto server URL (EKS, Auto Scaling)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--group", action="append", default=[], metavar="CLUSTER/NODEGROUP=CONTEXT,ZONE")
    parser.add_argument("--asg", action="append", default=[], metavar="NAME=CONTEXT,ZONE")
    parser.add_argument("--asg-label", default=ASG_LABEL, help="node label naming an Auto Scaling group")
    parser.add_argument("--gke", action="append", default=[], metavar="URL/projects/P/locations/L/clusters/C/"
                                                                      "nodePools/NP=CONTEXT,ZONE")
    parser.add_argument("--aks", action="append", default=[], metavar="URL/subscriptions/S/resourceGroups/RG/providers/"
                                                                      "Microsoft.ContainerService/managedClusters/C/"
                                                                      "agentPools/P=CONTEXT,ZONE")
    parser.add_argument("--cloud-ca", help="CA bundle for the cloud_nodepools stand-in (HTTPS)")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds a new size stands before nodes follow")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--heartbeat", help="file touched after every round")
    args = parser.parse_args(argv)
    try:
        groups = parse_groups(args)
    except ValueError as exc:
        parser.error(str(exc))
    sizes = SizeReader(args.endpoint, args.region, args.cloud_ca)
    cores = {context: kube_client.CoreV1Api(kube_config.new_client_from_config(config_file=args.kubeconfig,
                                                                               context=context))
             for context in {group.context for group in groups}}
    print("node provisioner: watching %s" % ", ".join(str(group) for group in groups), flush=True)
    while True:
        now = time.monotonic()
        sizes.new_round()
        for group in groups:
            try:
                group.observe(sizes.desired(group), now)
                if group.settled(now, args.delay):
                    done = reconcile(cores[group.context], group)
                    if done:
                        print("node provisioner: %s %s" % (group.provider, done), flush=True)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # A lab process keeps going through a transient error and says what it was.
                print("node provisioner: %s: %s: %s" % (group, type(exc).__name__, exc), flush=True)
        if args.heartbeat:
            with open(args.heartbeat, "w", encoding="utf-8") as handle:
                handle.write("%f\n" % time.time())
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
