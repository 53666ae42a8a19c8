# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end-to-end suite's view of a lab: the playbooks run on it, and its whole state read straight from the
servers (Kubernetes API, moto's S3/EKS/Route 53, the az-service simulators), never from what the playbooks say."""

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import boto3
import requests
import yaml
from kubernetes import client as kube_client
from kubernetes import config as kube_config

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(INTEGRATION))
for entry in (INTEGRATION, os.path.join(REPO, "tests", "lab")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import labctl  # noqa: E402  pylint: disable=wrong-import-position,import-error
from ansible_run import VENV_BIN, Run, ansible_env, run_ansible  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOKS = os.path.join(REPO, "playbooks")
JOURNAL_PREFIX = "kfuse-failover/journal/"
REPORT_CALLBACK = "kfuse.failover.failover_report"
# What the az-services write on their own while a zone consumes: not a change made by a playbook.
AZ_SERVICE_PREFIXES = ("/segments/", "/postgres/")


@contextlib.contextmanager
def lab_running(state_dir, **options):
    """A fresh lab for one test, always taken down."""
    with labctl.running_lab(str(state_dir), **options) as info:
        yield info


def _digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


class LabView:
    """A running lab (what labctl.lab_up returned) and its servers."""

    def __init__(self, info):
        self.info = info
        self.inventory = info["paths"]["inventory"]
        self.kubeconfig = info["paths"]["kubeconfig"]
        s3 = info["s3"]
        self._aws = {"endpoint_url": s3["endpoint"], "region_name": s3["region"],
                     "aws_access_key_id": s3["access_key"], "aws_secret_access_key": s3["secret_key"]}
        self.bucket = s3["bucket"]

    def inventory_vars(self):
        """The group vars of kfuse_zones in the lab's inventory (kfuse_cloud_storage, credentials...)."""
        with open(self.inventory, encoding="utf-8") as handle:
            return yaml.safe_load(handle)["all"]["children"]["kfuse_zones"]["vars"]

    # ---- the servers ---------------------------------------------------------------------------------------

    def aws(self, service):
        return boto3.client(service, **self._aws)

    def api(self, zone):
        return kube_config.new_client_from_config(config_file=self.kubeconfig, context=self.info["kube"][zone]["context"])

    def namespace(self, zone):
        return self.info["kube"][zone]["namespace"]

    def core(self, zone):
        return kube_client.CoreV1Api(self.api(zone))

    def az_status(self, zone):
        """The zone's az-service /status, from the simulator itself."""
        sim = self.info["azservice"][zone]
        response = requests.get(sim["url"] + "/status", verify=self.info["paths"]["ca"], timeout=10,
                                headers={"Authorization": "Bearer " + sim["token"]})
        response.raise_for_status()
        return response.json()

    def az_faults(self, zone, **faults):
        sim = self.info["azservice"][zone]
        response = requests.post(sim["url"] + "/_lab/faults", json=faults, verify=self.info["paths"]["ca"],
                                 timeout=10, headers={"Authorization": "Bearer " + sim["token"]})
        response.raise_for_status()

    def stop_piece(self, name):
        """SIGKILL one of the lab's processes (a zone's kube-apiserver, say): the zone is gone."""
        piece = labctl.read_json(self.info["paths"]["lab_json"])["pieces"][name]
        os.kill(piece["pid"], signal.SIGKILL)

    def journal(self, name):
        """state.json, lock.json or runs/<id>.json of the run journal, or None."""
        try:
            body = self.aws("s3").get_object(Bucket=self.bucket, Key=JOURNAL_PREFIX + name)["Body"].read()
        except self.aws("s3").exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def bucket_keys(self, include_az_service=False):
        keys = {}
        for page in self.aws("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                if include_az_service or not any(part in item["Key"] for part in AZ_SERVICE_PREFIXES):
                    keys[item["Key"]] = item["ETag"]
        return keys

    def segments(self, zone_id):
        """Names of the Pinot segment objects under a zone's prefix (``<zone id>/segments/``)."""
        prefix = zone_id + "/segments/"
        return {item["Key"][len(prefix):]
                for page in self.aws("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
                for item in page.get("Contents", [])}

    def secret_data(self, zone, name):
        return self.core(zone).read_namespaced_secret(name, self.namespace(zone)).data

    def delete_secret(self, zone, name):
        self.core(zone).delete_namespaced_secret(name, self.namespace(zone))

    def node_group_size(self, zone):
        group = self.info["node_groups"][zone]
        found = self.aws("eks").describe_nodegroup(clusterName=group["cluster"], nodegroupName=group["name"])
        return found["nodegroup"]["scalingConfig"]["desiredSize"]

    def ready_nodes(self, zone):
        group = self.info["node_groups"][zone]["name"]
        nodes = self.core(zone).list_node(
            label_selector="eks.amazonaws.com/nodegroup=" + group).items
        return sorted(n.metadata.name for n in nodes
                      if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or []))

    def dns_target(self):
        route53 = self.aws("route53")
        zone_id = [z["Id"] for z in route53.list_hosted_zones()["HostedZones"]
                   if z["Name"].rstrip(".") == self.info["dns"]["hosted_zone"]][0]
        for record in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]:
            if record["Name"].rstrip(".") == self.info["dns"]["record"]:
                return record["ResourceRecords"][0]["Value"]
        return None

    def config_map(self, zone, name):
        """The data of a ConfigMap in the zone's kfuse namespace, None when there is none."""
        try:
            return self.core(zone).read_namespaced_config_map(name, self.namespace(zone)).data
        except kube_client.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def kfuse_version(self, zone):
        """The kfuse release's version in a zone (its kfuse-version ConfigMap), None without a release."""
        found = self.config_map(zone, "kfuse-version")
        return found["version"] if found is not None else None

    def serving_ingress(self):
        """The zones whose standalone ingress controller has ready replicas."""
        live = []
        for zone in ("az1", "az2"):
            apps = kube_client.AppsV1Api(self.api(zone))
            for deployment in apps.list_namespaced_deployment("ingress-" + zone).items \
                    if self._namespace_exists(zone, "ingress-" + zone) else []:
                if (deployment.spec.replicas or 0) > 0 and (deployment.status.ready_replicas or 0) > 0:
                    live.append(zone)
                    break
        return live

    def _namespace_exists(self, zone, name):
        try:
            self.core(zone).read_namespace(name)
        except kube_client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # ---- the whole state, for "check mode changes nothing" --------------------------------------------------

    def snapshot(self):
        """Every object a run could change: Kubernetes objects of both zones (by resourceVersion, workloads by
        spec), IngressClasses, Nodes, namespaces; the bucket's keys and ETags (what the az-services write on their
        own left out); node group sizes; the DNS record; the az-services' states."""
        state = {"kube": {}, "bucket": self.bucket_keys(), "node_groups": {}, "dns": self.dns_target(), "az": {}}
        contexts_seen = set()
        for zone in ("az1", "az2"):
            api = self.api(zone)
            core, apps = kube_client.CoreV1Api(api), kube_client.AppsV1Api(api)
            namespaces = [self.namespace(zone), "ingress-" + zone]
            kube = {}
            for namespace in namespaces:
                kube[namespace] = {
                    "secrets": {s.metadata.name: s.metadata.resource_version
                                for s in core.list_namespaced_secret(namespace).items},
                    "configmaps": {c.metadata.name: c.metadata.resource_version
                                   for c in core.list_namespaced_config_map(namespace).items},
                    "services": {s.metadata.name: _digest(s.spec.ports and [p.to_dict() for p in s.spec.ports])
                                 for s in core.list_namespaced_service(namespace).items},
                    "deployments": {d.metadata.name: _digest(api.sanitize_for_serialization(d.spec))
                                    for d in apps.list_namespaced_deployment(namespace).items},
                    "statefulsets": {d.metadata.name: _digest(api.sanitize_for_serialization(d.spec))
                                     for d in apps.list_namespaced_stateful_set(namespace).items},
                }
            context = self.info["kube"][zone]["context"]
            if context not in contexts_seen:
                contexts_seen.add(context)
                kube["_cluster"] = {
                    "namespaces": sorted(n.metadata.name for n in core.list_namespace().items),
                    "nodes": sorted(n.metadata.name for n in core.list_node().items),
                    "ingressclasses": sorted(i.metadata.name for i in
                                             kube_client.NetworkingV1Api(api).list_ingress_class().items),
                }
            state["kube"][zone] = kube
            state["node_groups"][zone] = self.node_group_size(zone)
            status = self.az_status(zone)
            state["az"][zone] = {"state": status["state"], "consuming": status["consuming"],
                                 "alertsSilenced": status.get("alertsSilenced"),
                                 "source": (status.get("activation") or {}).get("sourceZone")}
        return state

    # ---- running the playbooks -----------------------------------------------------------------------------

    def playbook_command(self, name, extra_vars=None):
        cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", self.inventory, os.path.join(PLAYBOOKS, name)]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        return cmd

    def run(self, name, tmp_path, extra_vars=None, check=False, verbosity=0, report_dir=None, timeout=900):
        """ansible-playbook playbooks/<name> on the lab; with report_dir, the failover_report callback on."""
        extra_env = {"HELM_REGISTRY_CONFIG": self.info["paths"]["helm_registry_config"]}
        if report_dir:
            extra_env.update({"ANSIBLE_CALLBACKS_ENABLED": REPORT_CALLBACK, "KFUSE_REPORT_DIR": str(report_dir)})
        with _environment(extra_env):
            return run_ansible(self.playbook_command(name, extra_vars), tmp_path, timeout, check, verbosity)

    def run_module(self, module, args, tmp_path, host="localhost", timeout=300):
        """One module with ad-hoc ``ansible`` (on localhost by default, with the lab's Python)."""
        cmd = [os.path.join(VENV_BIN, "ansible"), host, "-i", self.inventory, "-m", module, "-a", json.dumps(args)]
        if host == "localhost":
            cmd += ["-e", "ansible_python_interpreter=" + sys.executable, "-c", "local"]
        return run_ansible(cmd, tmp_path, timeout)

    def start(self, name, tmp_path, extra_vars=None):
        """The playbook left running in its own session (so a test can SIGKILL it with its module processes);
        returns the Popen, its output going to a file next to it."""
        env = ansible_env(tmp_path, json_output=False)
        env["HELM_REGISTRY_CONFIG"] = self.info["paths"]["helm_registry_config"]
        output = open(tmp_path / ("%s-%d.log" % (name, time.time())), "w", encoding="utf-8")  # pylint: disable=consider-using-with
        return subprocess.Popen(self.playbook_command(name, extra_vars), cwd=REPO, env=env, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)


@contextlib.contextmanager
def _environment(values):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def changed_tasks(run, host=None):
    """Names of the tasks that reported changed (of a host)."""
    return [name for name, _host, result in run.results(host) if result.get("changed")]


def wait_for(predicate, what, timeout=300, interval=0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))


class TcpRelay:
    """A TCP relay from a free 127.0.0.1 port to the lab server at ``server_url``, which a test can cut: from then
    on it drops every open connection and every new one at once, as a storage endpoint that goes away mid-run.
    ``url`` is the relay's own address with the server's scheme; ``close()`` stops it."""

    def __init__(self, server_url):
        parsed = urllib.parse.urlsplit(server_url)
        self.upstream = (parsed.hostname, parsed.port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = "%s://127.0.0.1:%d" % (parsed.scheme, self.listener.getsockname()[1])
        self.is_cut = threading.Event()
        self.open = set()
        self.guard = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return  # closed
            try:
                if self.is_cut.is_set():
                    raise OSError("cut")
                upstream = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            with self.guard:
                self.open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, *sockets):
        for sock in sockets:
            with self.guard:
                self.open.discard(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def cut(self):
        self.is_cut.set()
        with self.guard:
            current = list(self.open)
        self._drop(*current)
        return True

    def close(self):
        self.listener.close()
        self.cut()


__all__ = ["LabView", "Run", "TcpRelay", "changed_tasks", "lab_running", "wait_for"]
