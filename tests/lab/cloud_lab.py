# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A suite's own node-group cloud, started in one call: a real control plane (context ``lab``, one system node),
moto_server, the GKE/AKS node-pool stand-in, and node provisioners following whichever groups the suite makes.

``with start_cloud_lab(workdir, gke_pools=[(name, count)], aks_pools=[(id, count)], operation_seconds=S) as lab:``
yields a ``CloudLab`` (or ``cloud_class``, a subclass with the suite's own helpers): ``kube``, ``moto``, ``server``
(the stand-in), ``pki``, ``api_client``/``core`` of context ``lab``, ``aws(service)`` (boto3 on moto), ``call()``
(the stand-in with its bearer token), ``lab_state()``, ``node_names(label, value)``, ``create_asg(...)`` and
``start_provisioner(name, delay, eks=..., asg=..., gke=..., aks=...)`` (its log in ``logs[name]``). When the block
ends everything is stopped by PID in reverse start order, so provisioners stop before what they follow.
"""

import contextlib
import os
import sys
from pathlib import Path

import boto3
import requests
from kubernetes import client as kube_client

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

# pylint: disable=wrong-import-position
import cloud_nodepools  # noqa: E402
import kube_cluster  # noqa: E402
import labca  # noqa: E402
import node_provisioner  # noqa: E402
from procs import Piece, stop_pieces  # noqa: E402
from storage_emulators import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, start_moto  # noqa: E402
# pylint: enable=wrong-import-position

CONTEXT = "lab"
LAUNCH_CONFIGURATION = "kfuse-lc"


def aws_env():
    """The environment of a child that talks to moto: the lab's keys only, whatever the caller's AWS setup."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY=S3_SECRET_KEY,
               AWS_DEFAULT_REGION=S3_REGION, PYTHONUNBUFFERED="1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    return env


class CloudLab:
    """The running cloud lab and the clients the suites use on it."""

    def __init__(self, workdir, kube, moto, server, pki, stack):
        self.workdir = workdir
        self.kube = kube
        self.moto = moto
        self.server = server
        self.pki = pki
        self.api_client = kube.api_client(CONTEXT)
        self.core = kube_client.CoreV1Api(self.api_client)
        self.headers = {"Authorization": "Bearer " + server.tokens[0]}
        self.logs = {}
        self._stack = stack
        self._launch_configuration = False

    def aws(self, service):
        return boto3.client(service, endpoint_url=self.moto.endpoint, region_name=S3_REGION,
                            aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY)

    def call(self, method, url, headers=None, **kwargs):
        """A request to the stand-in, with its token unless ``headers`` says otherwise."""
        return requests.request(method, url, headers=self.headers if headers is None else headers,
                                verify=self.server.ca, timeout=10, **kwargs)

    def lab_state(self):
        return requests.get(self.server.url + "/_lab/state", verify=self.server.ca, timeout=10).json()

    def node_names(self, label, value):
        return sorted(node.metadata.name for node in self.core.list_node(label_selector="%s=%s" % (label, value)).items)

    def create_asg(self, name, zone, max_size):
        """An EC2 Auto Scaling group in moto at size 0 (min 0) in one zone."""
        autoscaling = self.aws("autoscaling")
        if not self._launch_configuration:
            # Every group of the lab may share one; moto refuses a second of the same name.
            autoscaling.create_launch_configuration(LaunchConfigurationName=LAUNCH_CONFIGURATION,
                                                    ImageId="ami-12c6146b", InstanceType="t3.large")
            self._launch_configuration = True
        autoscaling.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=LAUNCH_CONFIGURATION,
                                              MinSize=0, MaxSize=max_size, DesiredCapacity=0,
                                              AvailabilityZones=[zone])

    def start_provisioner(self, name, delay, eks=(), asg=(), gke=(), aks=()):
        """A node provisioner (``delay`` seconds of boot time) following groups given as (group, zone) pairs:
        ``eks`` "CLUSTER/NODEGROUP", ``asg`` a group name, ``gke`` a node pool's name ("projects/..."), ``aks`` an
        agent pool's id ("/subscriptions/..."); returns once it has done its first round."""
        heartbeat = str(self.workdir / (name + ".heartbeat"))
        argv = [sys.executable, node_provisioner.__file__, "--endpoint", self.moto.endpoint, "--region", S3_REGION,
                "--kubeconfig", str(self.kube.kubeconfig), "--cloud-ca", self.server.ca, "--delay", str(delay),
                "--interval", "0.2", "--heartbeat", heartbeat]
        for option, prefix, groups in (("--group", "", eks), ("--asg", "", asg),
                                       ("--gke", self.server.url + "/v1/", gke), ("--aks", self.server.url, aks)):
            argv += [arg for group, zone in groups for arg in (option, "%s%s=%s,%s" % (prefix, group, CONTEXT, zone))]
        piece = Piece(name, argv, str(self.workdir), env=aws_env())
        # Stopped with the lab even when its first round never comes.
        self._stack.callback(stop_pieces, [(name, piece.record())])
        self.logs[name] = piece.log_path
        piece.wait_for(lambda: os.path.exists(heartbeat), "its first round")


@contextlib.contextmanager
def start_cloud_lab(workdir, gke_pools=(), aks_pools=(), operation_seconds=2.0, cloud_class=CloudLab):
    """Start the lab under ``workdir``; yield a ``cloud_class``; stop every piece started, newest first."""
    workdir = Path(workdir)
    with contextlib.ExitStack() as stack:
        pki = labca.create_lab_pki(str(workdir / "pki"))
        kube = kube_cluster.start_kube(workdir / "kube", (CONTEXT,), nodes={CONTEXT: [("lab-system", "system", 1)]},
                                       pki=pki)
        stack.callback(kube.stop)
        moto = start_moto(str(workdir / "moto"))
        stack.callback(moto.stop)
        server = cloud_nodepools.start_cloud_nodepools(workdir / "server", pki, gke_pools=gke_pools,
                                                       aks_pools=aks_pools, operation_seconds=operation_seconds)
        stack.callback(server.stop)
        lab = cloud_class(workdir, kube, moto, server, pki, stack)
        stack.callback(lab.api_client.close)
        yield lab
