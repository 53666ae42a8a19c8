# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's node provisioner: keeps each zone's kwok Nodes in step with its node group in the cloud emulator.

What a cloud does when a node group is resized (instances boot, kubelets register, or drain and go), the lab does
here: every ``--interval`` seconds it reads each EKS managed node group's ``desiredSize`` from moto and, once a
change has stood for ``--delay`` seconds (boot time), registers or removes kwok Nodes labelled with the zone and the
node group in that zone's cluster. kwok then makes them Ready and the real scheduler places (or leaves Pending) the
pods pinned to that zone. It touches the heartbeat file after every round, so ``labctl status`` can tell it works.

``python -m node_provisioner --endpoint URL --kubeconfig FILE --group CLUSTER/NODEGROUP=CONTEXT,ZONE [...]``
"""

import argparse
import os
import re
import sys
import time

import boto3
from kubernetes import client as kube_client, config as kube_config

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

import kube_cluster  # noqa: E402  pylint: disable=wrong-import-position

_GROUP = re.compile(r"^(?P<cluster>[^/=]+)/(?P<nodegroup>[^/=]+)=(?P<context>[^,]+),(?P<zone>.+)$")


class NodeGroup:
    """One node group: where its size is read (EKS cluster/nodegroup) and where its Nodes live (context, zone)."""

    def __init__(self, spec):
        found = _GROUP.match(spec)
        if not found:
            raise ValueError("--group: %r is not CLUSTER/NODEGROUP=CONTEXT,ZONE" % spec)
        self.cluster, self.name = found.group("cluster"), found.group("nodegroup")
        self.context, self.zone = found.group("context"), found.group("zone")
        self.desired = None
        self.changed_at = 0.0

    def observe(self, desired, now):
        if desired != self.desired:
            self.desired, self.changed_at = desired, now

    def settled(self, now, delay):
        return self.desired is not None and now - self.changed_at >= delay


def reconcile(core, group):
    """Add or remove Nodes of ``group`` until there are ``group.desired``; return what was done (a log line)."""
    selector = "%s=%s" % (kube_cluster.NODE_GROUP_LABEL, group.name)
    nodes = sorted((node.metadata.name for node in core.list_node(label_selector=selector).items), key=_index)
    if len(nodes) < group.desired:
        taken = {_index(name) for name in nodes}
        free = [index for index in range(group.desired * 2 + 1) if index not in taken][:group.desired - len(nodes)]
        added = [kube_cluster.add_node(core.api_client, group.zone, group.name, index) for index in free]
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--endpoint", required=True, help="moto server URL (EKS)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--group", action="append", required=True, metavar="CLUSTER/NODEGROUP=CONTEXT,ZONE")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds a new size stands before nodes follow")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--heartbeat", help="file touched after every round")
    args = parser.parse_args(argv)
    try:
        groups = [NodeGroup(spec) for spec in args.group]
    except ValueError as exc:
        parser.error(str(exc))
    eks = boto3.client("eks", endpoint_url=args.endpoint, region_name=args.region)
    cores = {context: kube_client.CoreV1Api(kube_config.new_client_from_config(config_file=args.kubeconfig,
                                                                               context=context))
             for context in {group.context for group in groups}}
    print("node provisioner: watching %s" % ", ".join("%s/%s" % (g.cluster, g.name) for g in groups), flush=True)
    while True:
        now = time.monotonic()
        for group in groups:
            try:
                scaling = eks.describe_nodegroup(clusterName=group.cluster, nodegroupName=group.name)
                group.observe(scaling["nodegroup"]["scalingConfig"]["desiredSize"], now)
                if group.settled(now, args.delay):
                    done = reconcile(cores[group.context], group)
                    if done:
                        print("node provisioner: " + done, flush=True)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # A lab process keeps going through a transient error and says what it was.
                print("node provisioner: %s/%s: %s: %s" % (group.cluster, group.name, type(exc).__name__, exc),
                      flush=True)
        if args.heartbeat:
            with open(args.heartbeat, "w", encoding="utf-8") as handle:
                handle.write("%f\n" % time.time())
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
