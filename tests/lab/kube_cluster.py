# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's Kubernetes: real control planes built from source, with kwok standing in for kubelets.

``start_kube(workdir, clusters)`` starts one etcd, then for each cluster a kube-apiserver (its own etcd prefix, TLS
from the lab CA, RBAC and NodeRestriction, a ServiceAccount signing key), a kube-controller-manager, a
kube-scheduler and a kwok that manages the cluster's fake Nodes and Pods (Pods go Running once scheduled) and serves
the kubelet API, so that port-forward and exec go through the real API server to processes on this machine. All on
127.0.0.1 with free ports; every process is stopped by PID. The binaries come from hacking/build_controlplane.sh.

Nodes are made with ``add_nodes`` (labelled with ``topology.kubernetes.io/zone`` and a node-group label), port-forward
targets with ``forward_namespace_port`` (kwok ClusterPortForward), local exec with ``create_local_exec_pod`` (kwok
Exec).
"""

import base64
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(LAB_DIR))
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

import labca  # noqa: E402  pylint: disable=wrong-import-position
from procs import LabError, Piece, free_port, http_answers, stop_pieces, write_file  # noqa: E402  pylint: disable=wrong-import-position

BUILD_SCRIPT = os.path.join(REPO_ROOT, "hacking", "build_controlplane.sh")
BIN_ENV = "KFUSE_CONTROLPLANE_BIN"
SERVICE_CIDR = "10.96.0.0/16"
ADMIN_USER = "kfuse-lab-admin"
KWOK_GROUP, KWOK_VERSION = "kwok.x-k8s.io", "v1alpha1"
# kwok's CRDs the lab uses: per-pod and per-namespace exec and port-forward targets.
KWOK_CRDS = ("Exec", "ClusterExec", "PortForward", "ClusterPortForward")
NODE_GROUP_LABEL = "eks.amazonaws.com/nodegroup"
ZONE_LABEL = "topology.kubernetes.io/zone"
API_START_TIMEOUT = 90.0
# How long a node may miss heartbeats before the node lifecycle controller marks it NotReady (kwok renews leases).
NODE_LEASE_SECONDS = 40


def controlplane_bin():
    """The folder with kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok.

    ``$KFUSE_CONTROLPLANE_BIN`` when set, else what hacking/build_controlplane.sh prints (it builds once per
    machine and reuses its cache after that; its progress goes to stderr).
    """
    if os.environ.get(BIN_ENV):
        return os.environ[BIN_ENV]
    done = subprocess.run(["bash", BUILD_SCRIPT], stdout=subprocess.PIPE, check=False, text=True)
    if done.returncode != 0:
        raise LabError("building the control plane failed (%s exited %d)" % (BUILD_SCRIPT, done.returncode))
    return done.stdout.strip().splitlines()[-1]


def _kubeconfig_doc(clusters, ca_path, cert_path, key_path, user, namespace=None):
    """clusters: {context name: server url}; one user (a client certificate); the first context is current."""
    ca_data = base64.b64encode(Path(ca_path).read_bytes()).decode()
    context_extra = {"namespace": namespace} if namespace else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url, "certificate-authority-data": ca_data}}
                     for name, url in clusters.items()],
        "users": [{"name": user, "user": {
            "client-certificate-data": base64.b64encode(Path(cert_path).read_bytes()).decode(),
            "client-key-data": base64.b64encode(Path(key_path).read_bytes()).decode()}}],
        "contexts": [{"name": name, "context": dict(context_extra, cluster=name, user=user)} for name in clusters],
        "current-context": next(iter(clusters)),
        "preferences": {},
    }


def write_kubeconfig(path, clusters, ca_path, cert_path, key_path, user=ADMIN_USER, namespace=None):
    """Write a kubeconfig (mode 0600) with one context per cluster ({name: url}), named like it."""
    doc = _kubeconfig_doc(clusters, ca_path, cert_path, key_path, user, namespace)
    write_file(str(path), yaml.safe_dump(doc, sort_keys=False), 0o600)
    return Path(path)


class ClusterPki:
    """Certificates of one lab: the serving certificate (API servers and kwok) and one client identity per role."""

    def __init__(self, directory, pki=None):
        self.directory = str(directory)
        self.lab = pki or labca.create_lab_pki(self.directory, labca.LAB_SERVER_NAMES + labca.KUBERNETES_SERVER_NAMES)
        ca, ca_key = self.lab["ca"], self.lab["ca_key"]
        self.ca = ca
        self.sa_key, self.sa_pub = labca.create_signing_key(self.directory, "service-account-key")
        self.clients = {
            "admin": labca.create_client_cert(self.directory, ca, ca_key, ADMIN_USER, ["system:masters"], "admin"),
            "controller-manager": labca.create_client_cert(self.directory, ca, ca_key, "system:kube-controller-manager",
                                                           [], "controller-manager"),
            "scheduler": labca.create_client_cert(self.directory, ca, ca_key, "system:kube-scheduler", [], "scheduler"),
            "kubelet-client": labca.create_client_cert(self.directory, ca, ca_key, "kube-apiserver-kubelet-client",
                                                       ["system:masters"], "kubelet-client"),
        }


class Cluster:
    """One control plane: its name (also its kubeconfig context), port and URL."""

    def __init__(self, name, port):
        self.name = name
        self.port = port
        self.url = "https://127.0.0.1:%d" % port


class KubeLab:
    """Running control planes: ``clusters`` {name: Cluster}, ``kubeconfig``, ``ca``, ``pieces``; ``stop()``."""

    def __init__(self, workdir, bin_dir, pki):
        self.workdir = Path(workdir)
        self.bin_dir = bin_dir
        self.pki = pki
        self.ca = Path(pki.ca)
        self.clusters = {}
        self.pieces = []
        self.kubeconfig = None

    def api_client(self, cluster):
        from kubernetes import config as kube_config  # pylint: disable=import-outside-toplevel
        return kube_config.new_client_from_config(config_file=str(self.kubeconfig), context=cluster)

    @contextlib.contextmanager
    def client(self, cluster):
        """An ApiClient of the lab admin for ``cluster``, closed on exit."""
        api_client = self.api_client(cluster)
        try:
            yield api_client
        finally:
            api_client.close()

    def stop(self):
        """Stop every process (kwok and the control plane first, etcd last); idempotent."""
        alive = stop_pieces([(piece.name, piece.record()) for piece in reversed(self.pieces)])
        if alive:
            raise LabError("processes still alive after SIGKILL: %s" % ", ".join(map(str, alive)))


def _tool(bin_dir, name):
    return os.path.join(bin_dir, name)


def _kwok_share(bin_dir):
    return os.path.join(os.path.dirname(bin_dir), "share", "kwok")


def start_etcd(lab, record):
    data = lab.workdir / "etcd-data"
    client, peer = free_port(), free_port()
    piece = Piece("etcd", [
        _tool(lab.bin_dir, "etcd"), "--name", "lab", "--data-dir", data,
        "--listen-client-urls", "http://127.0.0.1:%d" % client, "--advertise-client-urls", "http://127.0.0.1:%d" % client,
        "--listen-peer-urls", "http://127.0.0.1:%d" % peer, "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
        "--initial-cluster", "lab=http://127.0.0.1:%d" % peer, "--listen-metrics-urls", "http://127.0.0.1:%d" % free_port(),
        # A throwaway store: durability buys nothing here and fsync is the slowest thing etcd does.
        "--unsafe-no-fsync", "--log-level", "warn",
    ], lab.workdir / "logs")
    _launch(lab, record, piece, url="http://127.0.0.1:%d" % client, health="http://127.0.0.1:%d/health" % client)
    piece.wait_for(lambda: http_answers("http://127.0.0.1:%d/health" % client) == 200, "a healthy /health")
    return "http://127.0.0.1:%d" % client


def _apiserver_argv(lab, cluster, etcd_url):
    pki, certs = lab.pki, lab.workdir / cluster.name
    return [
        _tool(lab.bin_dir, "kube-apiserver"),
        "--etcd-servers", etcd_url, "--etcd-prefix", "/registry-%s" % cluster.name,
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(cluster.port),
        "--cert-dir", certs,
        "--tls-cert-file", pki.lab["server_cert"], "--tls-private-key-file", pki.lab["server_key"],
        "--client-ca-file", pki.ca,
        "--authorization-mode", "Node,RBAC",
        "--enable-admission-plugins", "NodeRestriction",
        "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file", pki.sa_pub, "--service-account-signing-key-file", pki.sa_key,
        "--service-cluster-ip-range", SERVICE_CIDR,
        # Port-forward, exec and logs go to each node's kubelet endpoint: kwok, on 127.0.0.1, with a lab certificate.
        "--kubelet-preferred-address-types", "InternalIP",
        "--kubelet-certificate-authority", pki.ca,
        "--kubelet-client-certificate", pki.clients["kubelet-client"][0],
        "--kubelet-client-key", pki.clients["kubelet-client"][1],
        # No kube-proxy or real endpoints here: the default/kubernetes Service has no endpoint to reconcile.
        "--endpoint-reconciler-type", "none",
        "--allow-privileged=true", "--profiling=false", "--v=1",
    ]


def _component_kubeconfig(lab, cluster, role):
    path = lab.workdir / cluster.name / ("%s.kubeconfig" % role)
    cert, key = lab.pki.clients[role]
    return str(write_kubeconfig(path, {cluster.name: cluster.url}, lab.pki.ca, cert, key, user=role))


def _kwok_config(lab):
    """kwok's configuration: the node and pod lifecycle stages kwok ships (fast: Ready at once, leases renewed)."""
    path = lab.workdir / "kwok.yaml"
    if not path.exists():
        share = _kwok_share(lab.bin_dir)
        docs = [Path(share, "stages", name).read_text() for name in sorted(os.listdir(os.path.join(share, "stages")))]
        write_file(str(path), "\n---\n".join(doc.strip() for doc in docs) + "\n")
    return str(path)


def _install_kwok_crds(lab, cluster, kubeconfig):
    """kubectl apply kwok's CRDs for exec and port-forward targets, and wait until they are served."""
    share = os.path.join(_kwok_share(lab.bin_dir), "crds")
    kubectl = tool_path("kubectl")
    files = [os.path.join(share, name) for name in sorted(os.listdir(share))]
    argv = [kubectl, "--kubeconfig", str(kubeconfig), "apply", "--server-side"]
    for path in files:
        argv += ["-f", path]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise LabError("installing kwok's CRDs in %s failed: %s" % (cluster, done.stderr.strip()))
    done = subprocess.run([kubectl, "--kubeconfig", str(kubeconfig), "wait", "--for", "condition=Established",
                           "--timeout", "30s"] + ["-f%s" % path for path in files],
                          capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise LabError("kwok's CRDs in %s were not established: %s" % (cluster, done.stderr.strip()))


def tool_path(name):
    """helm or kubectl from the checkout's .tools/bin (bootstrap puts them there), else from PATH."""
    candidate = os.path.join(REPO_ROOT, ".tools", "bin", name)
    return candidate if os.path.exists(candidate) else name


def start_kube(workdir, clusters=("az1",), nodes=None, namespace=None, pki=None, record=None, bin_dir=None,
               kubeconfig=None):
    """Start one etcd and a control plane per name in ``clusters``; return a KubeLab.

    ``nodes`` {cluster: [(zone, node group, count), ...]} (default: one node of zone ``<cluster>`` per cluster);
    ``pki`` a labca.create_lab_pki dict to share the lab's CA; ``record(piece, **extra)`` is called after each
    process starts (the launcher writes lab.json there, so a half-started lab can be stopped); ``kubeconfig`` where
    the admin kubeconfig goes (default ``<workdir>/kubeconfig``), one context per cluster, named like it.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    lab = KubeLab(workdir, bin_dir or controlplane_bin(), ClusterPki(workdir / "pki", pki))
    record = record or (lambda piece, **extra: None)
    try:
        etcd_url = start_etcd(lab, record)
        for name in clusters:
            start_cluster(lab, name, etcd_url, record)
        urls = {name: cluster.url for name, cluster in lab.clusters.items()}
        admin_cert, admin_key = lab.pki.clients["admin"]
        lab.kubeconfig = write_kubeconfig(kubeconfig or workdir / "kubeconfig", urls, lab.pki.ca, admin_cert,
                                          admin_key, namespace=namespace)
        for name in clusters:
            with lab.client(name) as api_client:
                for zone, group, count in (nodes or {}).get(name, [(name, "%s-ng" % name, 1)]):
                    add_nodes(api_client, zone, group, count)
        return lab
    except BaseException:
        lab.stop()
        raise


def _launch(lab, record, piece, **extra):
    """Count a started process in the lab (so stop() finds it) and hand it to ``record``."""
    lab.pieces.append(piece)
    record(piece, **extra)
    return piece


def _component_argv(lab, cluster, binary, role, port):
    """Flags the controller-manager and the scheduler share: the role's identity, /healthz served on ``port`` with
    the lab's certificate (so status checks can verify it), one instance so no leader election."""
    config = _component_kubeconfig(lab, cluster, role)
    return [_tool(lab.bin_dir, binary), "--kubeconfig", config, "--authentication-kubeconfig", config,
            "--authorization-kubeconfig", config, "--bind-address", "127.0.0.1", "--secure-port", port,
            "--tls-cert-file", lab.pki.lab["server_cert"], "--tls-private-key-file", lab.pki.lab["server_key"],
            "--leader-elect=false", "--v=1"]


def start_cluster(lab, name, etcd_url, record):
    """kube-apiserver, then the controller-manager, the scheduler and kwok of one cluster."""
    cluster = Cluster(name, free_port())
    (lab.workdir / name).mkdir(parents=True, exist_ok=True)
    admin_config = _component_kubeconfig(lab, cluster, "admin")
    logs = lab.workdir / "logs"
    apiserver = Piece("kube-apiserver-" + name, _apiserver_argv(lab, cluster, etcd_url), logs)
    _launch(lab, record, apiserver, url=cluster.url, health=cluster.url + "/readyz", admin=True)
    admin = lab.pki.clients["admin"]
    apiserver.wait_for(lambda: http_answers(cluster.url + "/readyz", lab.pki.ca, client_cert=admin) == 200,
                       "a ready /readyz", timeout=API_START_TIMEOUT, interval=0.25)
    kcm_port, scheduler_port = free_port(), free_port()
    _launch(lab, record, Piece("kube-controller-manager-" + name, _component_argv(
        lab, cluster, "kube-controller-manager", "controller-manager", kcm_port) + [
        "--use-service-account-credentials=true",
        "--service-account-private-key-file", lab.pki.sa_key, "--root-ca-file", lab.pki.ca,
        "--cluster-signing-cert-file", lab.pki.ca, "--cluster-signing-key-file", lab.pki.lab["ca_key"],
    ], logs), health="https://127.0.0.1:%d/healthz" % kcm_port)
    _launch(lab, record, Piece("kube-scheduler-" + name, _component_argv(
        lab, cluster, "kube-scheduler", "scheduler", scheduler_port), logs),
        health="https://127.0.0.1:%d/healthz" % scheduler_port)
    _install_kwok_crds(lab, name, admin_config)
    kwok_port = free_port()
    kwok_url = "https://127.0.0.1:%d" % kwok_port
    kwok = Piece("kwok-" + name, [
        _tool(lab.bin_dir, "kwok"),
        "--kubeconfig", admin_config, "--config", _kwok_config(lab),
        "--manage-all-nodes=true", "--node-ip", "127.0.0.1", "--node-port", kwok_port,
        "--server-address", "127.0.0.1:%d" % kwok_port,
        "--tls-cert-file", lab.pki.lab["server_cert"], "--tls-private-key-file", lab.pki.lab["server_key"],
        "--node-lease-duration-seconds", str(NODE_LEASE_SECONDS), "--enable-crds", ",".join(KWOK_CRDS),
    ], logs)
    _launch(lab, record, kwok, url=kwok_url, health=kwok_url + "/healthz")
    kwok.wait_for(lambda: http_answers(kwok_url + "/healthz", lab.pki.ca) == 200, "a healthy /healthz", interval=0.25)
    lab.clusters[name] = cluster
    return cluster


# ---- objects the lab makes in a cluster -----------------------------------------------------------------


def create_namespace(api_client, name, timeout=30.0):
    """Create namespace ``name`` and wait for its ``default`` ServiceAccount (the controller-manager makes it; until
    then the ServiceAccount admission plugin refuses pods there)."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    core = k8s_client.CoreV1Api(api_client)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    deadline = time.monotonic() + timeout
    while not core.list_namespaced_service_account(name, field_selector="metadata.name=default").items:
        if time.monotonic() > deadline:
            raise LabError("namespace %s has no default ServiceAccount after %.0f s" % (name, timeout))
        time.sleep(0.1)
    return name


def add_node(api_client, zone, group, index, taints=None, group_label=NODE_GROUP_LABEL):
    """Register kwok Node ``<group>-<index>`` of node group ``group`` in ``zone`` (kwok makes it Ready); its name.

    ``group_label`` is the node label naming the group (EKS's by default; a GKE node pool, an AKS agent pool or an
    Auto Scaling group carry another)."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    name = "%s-%d" % (group, index)
    labels = {ZONE_LABEL: zone, group_label: group, "kubernetes.io/hostname": name,
              "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"}
    k8s_client.CoreV1Api(api_client).create_node({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {"kwok.x-k8s.io/node": "fake"}},
        "spec": {"taints": list(taints or [])},
    })
    return name


def add_nodes(api_client, zone, group, count, start=0, taints=None, wait=True, timeout=30.0,
              group_label=NODE_GROUP_LABEL):
    """Create ``count`` kwok Nodes of node group ``group`` in ``zone`` (named ``<group>-<i>``); wait until Ready."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    names = [add_node(api_client, zone, group, index, taints, group_label) for index in range(start, start + count)]
    if wait:
        wait_nodes_ready(k8s_client.CoreV1Api(api_client), names, timeout)
    return names


def wait_nodes_ready(core, names, timeout=30.0):
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for node in core.list_node().items:
            ready = any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))
            if ready:
                pending.discard(node.metadata.name)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise LabError("nodes %s not Ready within %.0f s" % (", ".join(sorted(pending)), timeout))
        time.sleep(0.2)


def forward_namespace_port(api_client, namespace, port, target_port, name=None):
    """Every Pod of ``namespace`` forwards its ``port`` to 127.0.0.1:``target_port`` (a kwok ClusterPortForward)."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    custom = k8s_client.CustomObjectsApi(api_client)
    body = {
        "apiVersion": "%s/%s" % (KWOK_GROUP, KWOK_VERSION), "kind": "ClusterPortForward",
        "metadata": {"name": name or "%s-%d" % (namespace, port)},
        "spec": {"selector": {"matchNamespaces": [namespace]},
                 "forwards": [{"ports": [port], "target": {"address": "127.0.0.1", "port": target_port}}]},
    }
    return custom.create_cluster_custom_object(KWOK_GROUP, KWOK_VERSION, "clusterportforwards", body)


def create_local_exec_pod(core_v1, namespace, name, env=None, labels=None, container="postgresql", timeout=30.0):
    """A Pod whose exec runs on this machine (a kwok Exec with ``env`` added to the environment), Running when this
    returns. With ``env`` None there is no Exec for it, so exec into it fails as it would into a pod without a shell.
    """
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    if env is not None:
        k8s_client.CustomObjectsApi(core_v1.api_client).create_namespaced_custom_object(
            KWOK_GROUP, KWOK_VERSION, namespace, "execs", {
                "apiVersion": "%s/%s" % (KWOK_GROUP, KWOK_VERSION), "kind": "Exec",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"execs": [{"local": {"envs": [{"name": k, "value": str(v)} for k, v in env.items()]}}]},
            })
    core_v1.create_namespaced_pod(namespace, k8s_client.V1Pod(
        metadata=k8s_client.V1ObjectMeta(name=name, labels=labels or {}),
        spec=k8s_client.V1PodSpec(containers=[k8s_client.V1Container(name=container, image="bitnami/postgresql")])))
    wait_pod_running(core_v1, namespace, name, timeout)
    return name


def wait_pod_running(core_v1, namespace, name, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        pod = core_v1.read_namespaced_pod(name, namespace)
        if pod.status.phase == "Running":
            return pod
        if time.monotonic() > deadline:
            raise LabError("pod %s/%s not Running within %.0f s (phase %s)" % (namespace, name, timeout, pod.status.phase))
        time.sleep(0.2)


def https_get_through_portforward(api_client, namespace, pod, port, path, ca_path, token, server_hostname):
    """GET ``path`` over HTTPS from ``pod``'s ``port`` through the API server's port-forward (the Python client's
    own helper); return (status line, body bytes)."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    from kubernetes.stream import portforward  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    core = k8s_client.CoreV1Api(api_client)
    forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    try:
        sock = forward.socket(port)
        sock.setblocking(True)
        context = ssl.create_default_context(cafile=str(ca_path))
        with context.wrap_socket(sock, server_hostname=server_hostname) as tls:
            tls.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n"
                         % (path, server_hostname, token)).encode())
            reply = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                reply += chunk
    finally:
        forward.close()
    head, _blank, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), body
