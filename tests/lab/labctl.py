#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Launcher of the local lab: ``labctl.py up|status|down [--state-dir DIR]``.

``up`` starts moto S3, a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, kwok for Nodes and Pods; see kube_cluster.py) and one az-service simulator per zone, all on
127.0.0.1 with free ports; seeds each zone (namespace, node groups, the az-service Deployment and Service, and the
kwok port-forward that leads the Service's pods to that zone's simulator), and writes ca.pem, kubeconfig,
inventory.yml, lab.env and lab.json into the state directory. ``down`` stops every recorded PID. The CLI is a thin
layer over ``lab_up``, ``lab_status`` and ``lab_down``, which tests import.

Two topologies (``--topology``): ``per-zone`` (default), one cluster per zone, contexts lab-az1 and lab-az2,
namespace kfuse in each; ``shared``, the runbook's "both installed in the same Kubernetes cluster": one cluster
(context lab) with both zones' node groups, each zone in its own namespace (kfuse-az1, kfuse-az2).

``--rbac`` (``rbac=True``): extensions/rbac/kfuse-failover-rbac.yml applied to every cluster (each zone's namespace and
ingress-<zone>), a TokenRequest token of ServiceAccount kfuse-failover in kubeconfig-failover, and the inventory's
kfuse_kube.kubeconfig pointing at it, so the roles run with only those rights. The admin kubeconfig stays for the
lab itself and for tests that inspect the clusters.
"""

import argparse
import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

import boto3
import yaml
from kubernetes import client as kube_client

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(LAB_DIR))
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

import kube_cluster  # noqa: E402  pylint: disable=wrong-import-position
import labca  # noqa: E402  pylint: disable=wrong-import-position
import oci_registry  # noqa: E402  pylint: disable=wrong-import-position
# LabError, free_port, pid_alive, read_json and stop_pieces are also what tests reach through this module.
from procs import (  # noqa: E402  pylint: disable=wrong-import-position
    LabError, Piece as _Piece, free_port, http_answers, log_tail, pid_alive, read_json, stop_pieces, write_file)

DEFAULT_STATE_DIR = os.path.join(REPO_ROOT, "lab-state")
BUCKET = "kfuse-lab"
REGION = "us-east-1"
ACCESS_KEY = "lab"
SECRET_KEY = "lab-secret"
NAMESPACE = "kfuse"
SERVICE_NAME = "az-service"
RELEASE = "kfuse"
# The version the active zone runs when the lab starts (the registry also holds a newer one).
INSTALLED_CHART_VERSION = "3.4.2"
INGRESS_CHART_VERSION = "4.12.1"
# Route 53 in moto: the name users reach Kloudfuse by, a CNAME to the live zone's load balancer name.
DNS_ZONE = "kfuse.lab.internal"
DNS_RECORD = "kfuse." + DNS_ZONE
SERVICE_PORT = 8080
CONTAINER_PORT = 8443
# Each zone: a system node group (always on; the az-service runs there) and the Kloudfuse node group, which the
# standby keeps at zero nodes. Nodes carry topology.kubernetes.io/zone=<zone_id> and the EKS node-group label.
ZONES = (
    {"name": "az1", "zone_id": "lab-az1", "initial_state": "active", "node_group": "kfuse-az1", "nodes": 3},
    {"name": "az2", "zone_id": "lab-az2", "initial_state": "standby", "node_group": "kfuse-az2", "nodes": 0},
)
TOPOLOGIES = ("per-zone", "shared")
NODE_GROUP_MAX = 6
ACTIVE_NODES = 3
# Seconds a node group's new size stands before the provisioner registers or removes Nodes (instance boot time).
NODE_DELAY = 2.0
SHARED_CONTEXT = "lab"
# The collection's least-privilege RBAC (docs/rbac.md): its objects carry a scope label, applied one scope at a time.
RBAC_FILE = os.path.join(REPO_ROOT, "extensions", "rbac", "kfuse-failover-rbac.yml")
RBAC_SCOPE_LABEL = "failover.kfuse.io/scope"
RBAC_ACCOUNT = {"namespace": "kfuse-failover", "name": "kfuse-failover"}
# Long enough for any suite on the lab, short enough that a leaked token soon dies.
RBAC_TOKEN_SECONDS = 6 * 3600
INGRESS_PREFIX = "ingress-"
RUN_MARKER = "running"
_MOTO_LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


def zone_layout(topology):
    """Where each zone lives: {zone name: {"context": ..., "namespace": ...}} for ``topology``."""
    if topology not in TOPOLOGIES:
        raise LabError("topology: %r is not one of %s" % (topology, ", ".join(TOPOLOGIES)))
    if topology == "shared":
        return {zone["name"]: {"context": SHARED_CONTEXT, "namespace": "%s-%s" % (NAMESPACE, zone["name"])}
                for zone in ZONES}
    return {zone["name"]: {"context": "lab-" + zone["name"], "namespace": NAMESPACE} for zone in ZONES}


# ---- small helpers ---------------------------------------------------------------------------------


def venv_python():
    candidate = os.path.join(REPO_ROOT, ".venv", "bin", "python")
    return candidate if os.path.exists(candidate) else sys.executable


def venv_tool(name):
    candidate = os.path.join(os.path.dirname(venv_python()), name)
    return candidate if os.path.exists(candidate) else name


def child_env():
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [LAB_DIR, env.get("PYTHONPATH")])),
    })
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(name, None)
    return env


class Piece(_Piece):
    """A lab process: log in <state_dir>/logs, the lab's environment, started from the repository root."""

    def __init__(self, name, argv, state_dir):
        super().__init__(name, argv, os.path.join(state_dir, "logs"), env=child_env(), cwd=REPO_ROOT)


def _ready_file_probe(path):
    return lambda: read_json(path) if os.path.exists(path) else None


# ---- starting the pieces -------------------------------------------------------------------------------


def start_moto(state_dir):
    """moto_server on a port it picks itself; return (piece, endpoint)."""
    piece = Piece("moto", [venv_tool("moto_server"), "-H", "127.0.0.1", "-p", "0"], state_dir)

    def listening():
        found = _MOTO_LISTENING.search(log_tail(piece.log_path, 50))
        return found and "http://127.0.0.1:%s" % found.group(1)

    endpoint = piece.wait_for(listening, "a listening port")
    piece.wait_for(lambda: http_answers(endpoint + "/moto-api/"), "an answer on " + endpoint)
    return piece, endpoint


def create_bucket(endpoint, bucket=BUCKET):
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY)
    client.create_bucket(Bucket=bucket)


def start_simulator(state_dir, zone, port, peer_url, peer_token, pki, s3_endpoint, token, extra_args=(),
                    namespace=NAMESPACE, peer_namespace=NAMESPACE):
    ready = os.path.join(state_dir, "azservice-%s.ready.json" % zone["name"])
    if os.path.exists(ready):
        os.unlink(ready)
    argv = [venv_python(), "-m", "azservice_sim", "--host", "127.0.0.1", "--port", str(port),
            "--tls-cert", pki["server_cert"], "--tls-key", pki["server_key"], "--ready-file", ready,
            "--zone-id", zone["zone_id"], "--namespace", namespace, "--initial-state", zone["initial_state"],
            "--peer", "%s=%s" % (peer_namespace, peer_url), "--peer-token=%s=%s" % (peer_namespace, peer_token),
            "--peer-ca", pki["ca"], "--s3-endpoint", s3_endpoint, "--s3-bucket", BUCKET, "--s3-region", REGION,
            "--token=" + token] + list(extra_args)
    return Piece("azservice-" + zone["name"], argv, state_dir), ready


# ---- generated files -------------------------------------------------------------------------------------


def write_inventory(path, lab):
    hosts = {}
    for zone in ZONES:
        sim, kube = lab["azservice"][zone["name"]], lab["kube"][zone["name"]]
        hosts[zone["name"]] = {
            "kfuse_zone_id": zone["zone_id"],
            # with rbac the roles run as the ServiceAccount; the lab and its tests keep the admin kubeconfig
            "kfuse_kube": {"kubeconfig": lab["paths"].get("failover_kubeconfig", lab["paths"]["kubeconfig"]),
                           "context": kube["context"],
                           "namespace": kube["namespace"]},
            "kfuse_az_service": {"url": sim["url"], "service": SERVICE_NAME, "port": SERVICE_PORT,
                                 "ca_path": lab["paths"]["ca"], "token": sim["token"]},
            "kfuse_node_group": lab["node_groups"][zone["name"]],
            "kfuse_ingress_address": ingress_address(zone["name"]),
        }
    doc = {"all": {"children": {"kfuse_zones": {
        "hosts": hosts,
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": venv_python(),
            "kfuse_helm_registry": {key: lab["helm_registry"][key]
                                    for key in ("host", "url", "username", "password", "ca_path")},
            "kfuse_storage_credentials": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
            # The passphrase of the lab's config backup sets (a vaulted variable in a real inventory).
            "kfuse_backup_passphrase": lab["backup_passphrase"],
            "kfuse_chart_ref": lab["helm_registry"]["url"] + "/kfuse",
            "kfuse_ingress_chart_ref": lab["helm_registry"]["url"] + "/ingress-nginx",
            "kfuse_dns": dict(lab["dns"], access_key=ACCESS_KEY, secret_key=SECRET_KEY),
            "kfuse_cloud_storage": {
                "type": "s3", "useSecret": True, "secretName": "cloud-storage-secret",
                "s3": {"region": REGION, "bucket": BUCKET},
                "endpoint_url": lab["s3"]["endpoint"],
            },
        },
    }}}}
    write_file(path, "---\n" + yaml.safe_dump(doc, sort_keys=False), 0o600)


def write_env(path, lab):
    lines = [
        "# Source this file for a shell that talks to the lab: . %s" % path,
        "export AWS_ACCESS_KEY_ID=%s" % ACCESS_KEY,
        "export AWS_SECRET_ACCESS_KEY=%s" % SECRET_KEY,
        "export AWS_DEFAULT_REGION=%s" % REGION,
        "export AWS_ENDPOINT_URL_S3=%s" % lab["s3"]["endpoint"],
        "export KFUSE_LAB_S3_ENDPOINT=%s" % lab["s3"]["endpoint"],
        "export KFUSE_LAB_S3_BUCKET=%s" % BUCKET,
        "export KUBECONFIG=%s" % lab["paths"]["kubeconfig"],
        "export HELM_REGISTRY_CONFIG=%s" % lab["paths"]["helm_registry_config"],
        "export PATH=%s:$PATH" % os.path.join(REPO_ROOT, ".tools", "bin"),
        "",
    ]
    write_file(path, "\n".join(lines), 0o600)


# ---- seeding the zones ----------------------------------------------------------------------------------


def initial_nodes(layout):
    """{context: [(zone label, node group, count), ...]}: a system node in every zone (named after its cluster, and
    its zone when the cluster is shared) and each zone's Kloudfuse group."""
    groups = {}
    shared = len({place["context"] for place in layout.values()}) < len(layout)
    for zone in ZONES:
        context = layout[zone["name"]]["context"]
        system = "%s-system-%s" % (context, zone["name"]) if shared else "%s-system" % context
        groups.setdefault(context, []).append((zone["zone_id"], system, 1))
        groups[context].append((zone["zone_id"], zone["node_group"], zone["nodes"]))
    return groups


def seed_zone(api_client, namespace, simulator_port):
    """Namespace, the az-service Deployment (one replica, container port 8443 named https), Service az-service
    (8080 -> https), and the kwok port-forward that sends the namespace's port 8443 to the zone's simulator."""
    core = kube_client.CoreV1Api(api_client)
    labels = {"app.kubernetes.io/name": SERVICE_NAME, "app.kubernetes.io/managed-by": "Helm"}
    # As if the zone's kfuse release had made them: helm adopts them when the release is installed here.
    owner = {"meta.helm.sh/release-name": RELEASE, "meta.helm.sh/release-namespace": namespace}
    kube_cluster.create_namespace(api_client, namespace)
    kube_cluster.forward_namespace_port(api_client, namespace, CONTAINER_PORT, simulator_port)
    kube_client.AppsV1Api(api_client).create_namespaced_deployment(namespace, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": SERVICE_NAME, "labels": labels, "annotations": owner},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": SERVICE_NAME}}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": SERVICE_NAME, "image": "kfuse/az-service:lab",
                                     "ports": [{"name": "https", "containerPort": CONTAINER_PORT, "protocol": "TCP"}]}]},
        }},
    })
    core.create_namespaced_service(namespace, {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": SERVICE_NAME, "labels": labels, "annotations": owner},
        "spec": {"selector": {"app.kubernetes.io/name": SERVICE_NAME},
                 "ports": [{"name": "https", "port": SERVICE_PORT, "targetPort": "https", "protocol": "TCP"}]},
    })


def seed_secrets(api_client, namespace, registry):
    """The runbook's secrets in the active zone (the standby gets them from a failover): image pull credentials for
    the lab's registry, the S3 cloud-storage secret and the PostgreSQL password (names in kloudfuse-facts.md)."""
    auth = base64.b64encode(("%s:%s" % (registry["username"], registry["password"])).encode()).decode()
    docker_config = {"auths": {registry["host"]: {"username": registry["username"], "password": registry["password"],
                                                  "auth": auth}}}
    core = kube_client.CoreV1Api(api_client)
    labels = {"app.kubernetes.io/part-of": "kfuse"}
    for name, kind, data in (
            ("kfuse-image-pull-credentials", "kubernetes.io/dockerconfigjson",
             {".dockerconfigjson": json.dumps(docker_config)}),
            ("cloud-storage-secret", "Opaque", {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}),
            ("kfuse-pg-credentials", "Opaque", {"postgresql-password": secrets.token_hex(12)})):
        core.create_namespaced_secret(namespace, {"apiVersion": "v1", "kind": "Secret", "type": kind,
                                                  "metadata": {"name": name, "labels": labels}, "stringData": data})


def zone_values(zone_id, node_group, bucket=BUCKET):
    """The kfuse chart values of a zone, as the kloudfuse role derives them: pinned to the zone's nodes, the zone's
    az-service identity, the shared bucket, the bundled ingress-nginx off."""
    return {
        "global": {
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [
                    {"key": kube_cluster.NODE_GROUP_LABEL, "operator": "In", "values": [node_group]},
                    {"key": kube_cluster.ZONE_LABEL, "operator": "In", "values": [zone_id]}]}]}}},
            "cloudStorage": {"type": "s3", "useSecret": True, "secretName": "cloud-storage-secret",
                             "s3": {"region": REGION, "bucket": bucket}},
        },
        "az-service": {"config": {"zone": zone_id}},
        "ingress-nginx": {"enabled": False, "installIngressRules": True,
                          "controller": {"ingressClass": zone_id, "ingressClassResource": {"name": zone_id}}},
    }


def ingress_address(zone_name):
    """The DNS name of a zone's ingress load balancer (what the Route 53 record points to when it is live)."""
    return "ingress-%s.lb.%s" % (zone_name, DNS_ZONE)


def ingress_values(zone_id, replicas):
    """Values of a zone's standalone ingress-nginx, as the ingress role derives them."""
    return {"controller": {
        "replicaCount": replicas, "ingressClass": zone_id, "electionID": "ingress-nginx-leader-" + zone_id,
        "ingressClassResource": {"name": zone_id, "controllerValue": "k8s.io/ingress-nginx-" + zone_id},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": kube_cluster.ZONE_LABEL, "operator": "In", "values": [zone_id]}]}]}}},
    }}


def create_dns(endpoint, live_zone):
    """The hosted zone and the record pointing at the live zone's ingress; returns what the inventory says."""
    route53 = boto3.client("route53", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY)
    hosted = route53.create_hosted_zone(Name=DNS_ZONE + ".", CallerReference="kfuse-lab-%d" % time.time())
    route53.change_resource_record_sets(HostedZoneId=hosted["HostedZone"]["Id"], ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": DNS_RECORD + ".", "Type": "CNAME", "TTL": 60,
                                                  "ResourceRecords": [{"Value": ingress_address(live_zone)}]}}]})
    return {"hosted_zone": DNS_ZONE, "record": DNS_RECORD, "type": "CNAME", "ttl": 60, "endpoint_url": endpoint,
            "region": REGION}


def create_node_groups(endpoint, layout):
    """One EKS cluster per Kubernetes cluster and each zone's Kloudfuse node group in moto, at the lab's sizes;
    return {zone name: what the inventory says of its node group}."""
    eks = boto3.client("eks", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY)
    account = "arn:aws:iam::123456789012:role/"
    groups = {}
    for zone in ZONES:
        cluster = layout[zone["name"]]["context"]
        if cluster not in {group["cluster"] for group in groups.values()}:
            eks.create_cluster(name=cluster, roleArn=account + "eks-cluster",
                               resourcesVpcConfig={"subnetIds": ["subnet-" + zone["name"]]})
        eks.create_nodegroup(clusterName=cluster, nodegroupName=zone["node_group"], subnets=["subnet-" + zone["name"]],
                             nodeRole=account + "eks-node", labels={kube_cluster.ZONE_LABEL: zone["zone_id"]},
                             scalingConfig={"minSize": 0, "maxSize": NODE_GROUP_MAX, "desiredSize": zone["nodes"]})
        # size: the group's node count while its zone is active (what a failover scales the target to)
        groups[zone["name"]] = {"provider": "eks", "cluster": cluster, "name": zone["node_group"], "region": REGION,
                                "endpoint_url": endpoint, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
                                "size": ACTIVE_NODES,
                                "labels": {kube_cluster.ZONE_LABEL: zone["zone_id"],
                                           kube_cluster.NODE_GROUP_LABEL: zone["node_group"]}}
    return groups


def start_node_provisioner(state_dir, endpoint, kubeconfig, groups, track, delay=NODE_DELAY):
    """The process that registers and removes kwok Nodes as the node groups in moto are resized (each EKS cluster
    is named like the kubeconfig context of its Kubernetes cluster)."""
    heartbeat = os.path.join(state_dir, "node-provisioner.heartbeat")
    if os.path.exists(heartbeat):
        os.unlink(heartbeat)
    argv = [venv_python(), "-m", "node_provisioner", "--endpoint", endpoint, "--region", REGION,
            "--kubeconfig", kubeconfig, "--delay", str(delay), "--heartbeat", heartbeat]
    for zone in ZONES:
        group = groups[zone["name"]]
        argv += ["--group", "%s/%s=%s,%s" % (group["cluster"], group["name"], group["cluster"], zone["zone_id"])]
    piece = Piece("node-provisioner", argv, state_dir)
    track(piece, heartbeat=heartbeat)
    piece.wait_for(lambda: os.path.exists(heartbeat), "its first round")
    return piece


def heartbeat_fresh(path, within=10.0):
    try:
        return time.time() - os.path.getmtime(path) < within
    except OSError:
        return False


def wait_rolled_out(api_client, namespace, name=SERVICE_NAME, timeout=60.0):
    """Until Deployment ``name`` runs its latest template only (the release installed over the seeded one)."""
    apps = kube_client.AppsV1Api(api_client)
    deadline = time.monotonic() + timeout
    while True:
        deployment = apps.read_namespaced_deployment_status(name, namespace)
        status, wanted = deployment.status, deployment.spec.replicas
        if ((status.observed_generation or 0) >= deployment.metadata.generation
                and status.updated_replicas == wanted and status.replicas == wanted
                and status.available_replicas == wanted):
            return
        if time.monotonic() > deadline:
            raise LabError("deployment %s/%s not rolled out after %.0f s (last status: %s)"
                           % (namespace, name, timeout, status))
        time.sleep(0.2)


def wait_zone_ready(api_client, namespace, timeout=60.0):
    """Until the az-service Deployment has its replica available (scheduled on a kwok node, Running, Ready)."""
    apps = kube_client.AppsV1Api(api_client)
    deadline = time.monotonic() + timeout
    while True:
        status = apps.read_namespaced_deployment_status(SERVICE_NAME, namespace).status
        if (status.available_replicas or 0) >= 1:
            return
        if time.monotonic() > deadline:
            raise LabError("deployment %s/%s has no available replica after %.0f s (last status: %s)"
                           % (namespace, SERVICE_NAME, timeout, status.conditions))
        time.sleep(0.2)


# ---- least-privilege RBAC (--rbac) ---------------------------------------------------------------------------


def rbac_targets(layout):
    """{context: [namespaces of the Kloudfuse scope], [namespaces of the ingress scope]} for ``layout``."""
    targets = {}
    for name, place in layout.items():
        kloudfuse, ingress = targets.setdefault(place["context"], ([], []))
        kloudfuse.append(place["namespace"])
        ingress.append(INGRESS_PREFIX + name)
    return targets


def apply_rbac(kubeconfig, context, scope, namespace=None):
    """``kubectl apply`` the objects of one scope of RBAC_FILE, as docs/rbac.md tells an operator to."""
    argv = [kube_cluster.tool_path("kubectl"), "--kubeconfig", kubeconfig, "--context", context, "apply",
            "-f", RBAC_FILE, "-l", "%s=%s" % (RBAC_SCOPE_LABEL, scope)]
    if namespace:
        argv += ["-n", namespace]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise LabError("applying the %s RBAC in %s%s failed: %s"
                       % (scope, context, " namespace " + namespace if namespace else "", done.stderr.strip()))


def mint_token(api_client, seconds=RBAC_TOKEN_SECONDS):
    """A token of the failover ServiceAccount from the TokenRequest API (audience: the API server's own)."""
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "spec": {"expirationSeconds": int(seconds)}}
    answer = kube_client.CoreV1Api(api_client).create_namespaced_service_account_token(
        RBAC_ACCOUNT["name"], RBAC_ACCOUNT["namespace"], request)
    return answer.status.token


def write_token_kubeconfig(path, admin_kubeconfig, tokens):
    """The admin kubeconfig's clusters and contexts with a token user per context ({context: token}); mode 0600."""
    with open(admin_kubeconfig, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    user = "%s@%%s" % RBAC_ACCOUNT["name"]
    doc["users"] = [{"name": user % context, "user": {"token": token}} for context, token in tokens.items()]
    for entry in doc["contexts"]:
        entry["context"]["user"] = user % entry["name"]
    write_file(path, yaml.safe_dump(doc, sort_keys=False), 0o600)


def setup_rbac(kube, layout, admin_kubeconfig, path):
    """Apply the RBAC to every cluster of the lab, mint the ServiceAccount's tokens, write their kubeconfig at
    ``path``; return what lab.json records (no token)."""
    tokens = {}
    for context, (kloudfuse, ingress) in rbac_targets(layout).items():
        with kube.client(context) as api_client:
            core = kube_client.CoreV1Api(api_client)
            # A zone's ingress namespace exists once its release is installed; the standby's is made here, as an
            # operator makes it before binding the Role in it.
            existing = {ns.metadata.name for ns in core.list_namespace().items}
            for namespace in ingress:
                if namespace not in existing:
                    kube_cluster.create_namespace(api_client, namespace)
            apply_rbac(admin_kubeconfig, context, "cluster")
            for namespace in kloudfuse:
                apply_rbac(admin_kubeconfig, context, "kloudfuse", namespace)
            for namespace in ingress:
                apply_rbac(admin_kubeconfig, context, "ingress", namespace)
            tokens[context] = mint_token(api_client)
    write_token_kubeconfig(path, admin_kubeconfig, tokens)
    return {"service_account": "%(namespace)s/%(name)s" % RBAC_ACCOUNT, "file": RBAC_FILE,
            "token_seconds": RBAC_TOKEN_SECONDS,
            "namespaces": {context: {"kloudfuse": kloudfuse, "ingress": ingress}
                           for context, (kloudfuse, ingress) in rbac_targets(layout).items()}}


# ---- lab lifecycle -----------------------------------------------------------------------------------------


def _paths(state_dir):
    return {
        "state_dir": state_dir,
        "ca": os.path.join(state_dir, "ca.pem"),
        "kubeconfig": os.path.join(state_dir, "kubeconfig"),
        "inventory": os.path.join(state_dir, "inventory.yml"),
        "env": os.path.join(state_dir, "lab.env"),
        "lab_json": os.path.join(state_dir, "lab.json"),
        "logs": os.path.join(state_dir, "logs"),
        "marker": os.path.join(state_dir, RUN_MARKER),
        # helm's registry logins of the lab; HELM_REGISTRY_CONFIG for kubernetes.core.helm
        "helm_registry_config": oci_registry.helm_env(os.path.join(state_dir, "helm"))["HELM_REGISTRY_CONFIG"],
    }


def _recorded_pieces(lab):
    return [(name, piece) for name, piece in (lab or {}).get("pieces", {}).items() if piece.get("pid")]


def lab_running(state_dir):
    """True when the run marker exists and at least one recorded process still runs."""
    paths = _paths(os.path.abspath(state_dir))
    if not os.path.exists(paths["marker"]):
        return False
    lab = read_json(paths["lab_json"])
    return any(pid_alive(piece["pid"], piece.get("argv")) for _name, piece in _recorded_pieces(lab))


def lab_up(state_dir=DEFAULT_STATE_DIR, simulator_args=(), topology="per-zone", node_delay=NODE_DELAY, rbac=False):
    """Start the whole lab in state_dir and return what lab.json records; on any failure stop what started.

    simulator_args are extra command-line options for both az-service simulators (e.g. a slower rehydrate rate);
    node_delay the seconds a node group's new size stands before its Nodes follow; rbac: the inventory's
    kubeconfig is the failover ServiceAccount's (kubeconfig-failover, paths.failover_kubeconfig) instead of the
    admin's, with extensions/rbac applied to every cluster.
    """
    state_dir = os.path.abspath(state_dir)
    paths = _paths(state_dir)
    layout = zone_layout(topology)
    if lab_running(state_dir):
        raise LabError("a lab already runs in %s; run 'labctl.py down --state-dir %s' first" % (state_dir, state_dir))
    # A stopped lab's data (etcd, registry, helm logins) would clash with the new one: every up starts afresh.
    for leftover in ("kube", "registry", "helm"):
        shutil.rmtree(os.path.join(state_dir, leftover), ignore_errors=True)
    os.makedirs(paths["logs"], exist_ok=True)
    lab = {"state_dir": state_dir, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "topology": topology, "paths": paths, "pieces": {}, "launcher_pid": os.getpid()}
    write_file(paths["marker"], "%d\n" % os.getpid())
    started = []

    def track(piece, **extra):
        started.append(piece)
        lab["pieces"][piece.name] = piece.record(**extra)
        # Written after every start so that 'down' can stop a half-started lab.
        write_file(paths["lab_json"], json.dumps(lab, indent=2, sort_keys=True), 0o600)

    try:
        bin_dir = kube_cluster.controlplane_bin()
        pki = labca.create_lab_pki(state_dir, labca.LAB_SERVER_NAMES + labca.KUBERNETES_SERVER_NAMES)
        lab["paths"].update({"ca": pki["ca"], "server_cert": pki["server_cert"], "server_key": pki["server_key"]})

        moto, endpoint = start_moto(state_dir)
        track(moto, url=endpoint, health=endpoint + "/moto-api/")
        create_bucket(endpoint)
        lab["s3"] = {"endpoint": endpoint, "bucket": BUCKET, "region": REGION,
                     "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
        lab["backup_passphrase"] = secrets.token_urlsafe(18)

        registry, registry_info = oci_registry.start_registry(os.path.join(state_dir, "registry"), pki, paths["logs"])
        track(registry, url="https://" + registry_info["host"], health=registry_info["health"], health_status=401)
        lab["helm_registry"] = {key: registry_info[key] for key in ("host", "url", "username", "password", "ca_path")}
        lab["helm_registry"]["charts"] = oci_registry.push_charts(registry_info, kube_cluster.tool_path("helm"),
                                                                  os.path.join(state_dir, "helm"))

        lab["azservice"] = _start_simulators(state_dir, pki, endpoint, track, layout, simulator_args)

        contexts = list(dict.fromkeys(place["context"] for place in layout.values()))
        kube = kube_cluster.start_kube(os.path.join(state_dir, "kube"), contexts, nodes=initial_nodes(layout), pki=pki,
                                       record=track, bin_dir=bin_dir, kubeconfig=paths["kubeconfig"])
        lab["paths"]["admin_cert"], lab["paths"]["admin_key"] = kube.pki.clients["admin"]
        lab["kube"] = {name: dict(place, url=kube.clusters[place["context"]].url,
                                  port=kube.clusters[place["context"]].port)
                       for name, place in layout.items()}
        for zone in ZONES:
            place = layout[zone["name"]]
            with kube.client(place["context"]) as api_client:
                seed_zone(api_client, place["namespace"], lab["azservice"][zone["name"]]["port"])
                if zone["initial_state"] == "active":
                    seed_secrets(api_client, place["namespace"], lab["helm_registry"])
        for name, place in layout.items():
            with kube.client(place["context"]) as api_client:
                wait_zone_ready(api_client, place["namespace"])
        for zone in ZONES:
            if zone["initial_state"] == "active":
                oci_registry.install_release(
                    lab["helm_registry"], kube_cluster.tool_path("helm"), os.path.join(state_dir, "helm"),
                    dict(layout[zone["name"]], kubeconfig=paths["kubeconfig"]), RELEASE, "kfuse",
                    INSTALLED_CHART_VERSION, zone_values(zone["zone_id"], zone["node_group"]))
                ingress_kube = {"kubeconfig": paths["kubeconfig"], "context": layout[zone["name"]]["context"],
                                "namespace": "ingress-" + zone["name"]}
                oci_registry.install_release(
                    lab["helm_registry"], kube_cluster.tool_path("helm"), os.path.join(state_dir, "helm"),
                    ingress_kube, "ingress-" + zone["name"], "ingress-nginx", INGRESS_CHART_VERSION,
                    ingress_values(zone["zone_id"], 1), create_namespace=True)
                lab["dns"] = create_dns(endpoint, zone["name"])
                with kube.client(layout[zone["name"]]["context"]) as api_client:
                    wait_rolled_out(api_client, layout[zone["name"]]["namespace"])
        lab["node_groups"] = create_node_groups(endpoint, layout)
        start_node_provisioner(state_dir, endpoint, paths["kubeconfig"], lab["node_groups"], track, node_delay)
        if rbac:
            # after every admin seeding step, so only the roles' own work runs as the ServiceAccount
            paths["failover_kubeconfig"] = os.path.join(state_dir, "kubeconfig-failover")
            lab["rbac"] = setup_rbac(kube, layout, paths["kubeconfig"], paths["failover_kubeconfig"])
        write_inventory(paths["inventory"], lab)
        write_env(paths["env"], lab)
        write_file(paths["lab_json"], json.dumps(lab, indent=2, sort_keys=True), 0o600)
        return lab
    except BaseException:
        stop_pieces([(piece.name, piece.record()) for piece in reversed(started)])
        if os.path.exists(paths["marker"]):
            os.unlink(paths["marker"])
        raise


@contextlib.contextmanager
def running_lab(state_dir, **options):
    """``lab_up(state_dir, **options)`` for the duration of a ``with`` block; the lab always comes down."""
    lab = lab_up(state_dir, **options)
    try:
        yield lab
    finally:
        lab_down(state_dir)


def _start_simulators(state_dir, pki, s3_endpoint, track, layout, extra_args=()):
    ports = {zone["name"]: free_port() for zone in ZONES}
    tokens = {zone["name"]: secrets.token_hex(16) for zone in ZONES}
    urls = {name: "https://127.0.0.1:%d" % port for name, port in ports.items()}
    pending = []
    for zone, peer in zip(ZONES, reversed(ZONES)):
        piece, ready = start_simulator(state_dir, zone, ports[zone["name"]], urls[peer["name"]], tokens[peer["name"]],
                                       pki, s3_endpoint, tokens[zone["name"]], extra_args,
                                       namespace=layout[zone["name"]]["namespace"],
                                       peer_namespace=layout[peer["name"]]["namespace"])
        track(piece, url=urls[zone["name"]], port=ports[zone["name"]])
        pending.append((zone, piece, ready))
    result = {}
    for zone, piece, ready in pending:
        info = piece.wait_for(_ready_file_probe(ready), "its ready file")
        result[zone["name"]] = {"zone_id": zone["zone_id"], "url": info["url"], "port": info["port"],
                                "token": tokens[zone["name"]], "pid": piece.proc.pid}
    return result


def lab_down(state_dir=DEFAULT_STATE_DIR):
    """Stop every process recorded in state_dir; idempotent. Return {"stopped": [...], "alive": [...]}."""
    paths = _paths(os.path.abspath(state_dir))
    lab = read_json(paths["lab_json"])
    pieces = _recorded_pieces(lab)
    running = [name for name, piece in pieces if pid_alive(piece["pid"], piece.get("argv"))]
    alive = stop_pieces(list(reversed(pieces)))
    if alive:
        raise LabError("processes still alive after SIGKILL: %s" % ", ".join(map(str, alive)))
    if os.path.exists(paths["marker"]):
        os.unlink(paths["marker"])
    return {"stopped": running, "alive": alive}


def lab_status(state_dir=DEFAULT_STATE_DIR):
    """For each recorded piece: pid, alive, url and whether its endpoint answers."""
    paths = _paths(os.path.abspath(state_dir))
    lab = read_json(paths["lab_json"])
    result = {"state_dir": paths["state_dir"], "running": os.path.exists(paths["marker"]), "pieces": {}}
    if not lab:
        return result
    for name, piece in _recorded_pieces(lab):
        alive = pid_alive(piece["pid"], piece.get("argv"))
        entry = {"pid": piece["pid"], "alive": alive, "url": piece.get("url"), "answers": False}
        if alive:
            entry["answers"] = _endpoint_answers(lab, name, piece)
        result["pieces"][name] = entry
    return result


def _endpoint_answers(lab, name, piece):
    """Whether a piece's health endpoint answers 200 (the API servers are asked with the lab admin's certificate)."""
    paths = lab["paths"]
    if name.startswith("azservice-"):
        sim = lab.get("azservice", {}).get(name[len("azservice-"):])
        return bool(sim) and http_answers(sim["url"] + "/status", paths.get("ca"), sim["token"]) == 200
    if piece.get("heartbeat"):
        return heartbeat_fresh(piece["heartbeat"])
    if not piece.get("health"):
        return False
    client_cert = (paths["admin_cert"], paths["admin_key"]) if piece.get("admin") and "admin_cert" in paths else None
    return http_answers(piece["health"], paths.get("ca"), client_cert=client_cert) == piece.get("health_status", 200)


# ---- command line --------------------------------------------------------------------------------------------


def _print_summary(lab):
    print("lab is up in %s (topology %s)" % (lab["state_dir"], lab["topology"]))
    print("  s3        %s  bucket %s" % (lab["s3"]["endpoint"], BUCKET))
    for name, kube in lab["kube"].items():
        sim = lab["azservice"][name]
        print("  %s       kube %s (context %s, namespace %s)  az-service %s (zone %s)"
              % (name, kube["url"], kube["context"], kube["namespace"], sim["url"], sim["zone_id"]))
    print("  inventory %s" % lab["paths"]["inventory"])
    if lab["paths"].get("failover_kubeconfig"):
        print("  rbac      the inventory runs as %s with %s" % (lab["rbac"]["service_account"],
                                                                lab["paths"]["failover_kubeconfig"]))
    print("  shell     . %s" % lab["paths"]["env"])
    print("  stop      %s %s down --state-dir %s" % (os.path.relpath(venv_python()), os.path.relpath(__file__), lab["state_dir"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=("up", "status", "down"))
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="default: lab-state in the repository root")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--rehydrate-rate", type=float, help="up: segments per second the simulators rehydrate")
    parser.add_argument("--topology", choices=TOPOLOGIES, default="per-zone",
                        help="up: one cluster per zone (default), or one cluster shared by both zones")
    parser.add_argument("--node-delay", type=float, default=NODE_DELAY,
                        help="up: seconds a node group's new size stands before its Nodes follow (default %(default)s)")
    parser.add_argument("--rbac", action="store_true",
                        help="up: the inventory runs as ServiceAccount kfuse-failover with extensions/rbac applied")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            simulator_args = ["--rehydrate-rate", str(args.rehydrate_rate)] if args.rehydrate_rate else []
            lab = lab_up(args.state_dir, simulator_args, args.topology, args.node_delay, rbac=args.rbac)
            if args.json:
                print(json.dumps(lab, indent=2, sort_keys=True))
            else:
                _print_summary(lab)
            return 0
        if args.command == "down":
            result = lab_down(args.state_dir)
            print(json.dumps(result) if args.json else "stopped: %s" % (", ".join(result["stopped"]) or "nothing was running"))
            return 0
        status = lab_status(args.state_dir)
        if args.json:
            print(json.dumps(status, indent=2, sort_keys=True))
        else:
            print("lab in %s: %s" % (status["state_dir"], "running" if status["running"] else "not running"))
            for name, entry in status["pieces"].items():
                liveness = "alive" if entry["alive"] else "dead"
                answers = "answers" if entry["answers"] else "no answer"
                print("  %-32s pid %-7s %-5s %s" % (name, entry["pid"], liveness, answers))
        healthy = status["running"] and status["pieces"] and all(e["alive"] and e["answers"] for e in status["pieces"].values())
        return 0 if healthy else 3
    except LabError as exc:
        print("labctl %s failed: %s" % (args.command, exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
