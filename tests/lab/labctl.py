#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Launcher of the local lab: ``labctl.py up|status|down [--state-dir DIR]``.

``up`` starts moto S3, the Kubernetes API emulator (clusters az1 and az2) and one az-service simulator per zone,
all on 127.0.0.1 with free ports, seeds both clusters, and writes ca.pem, kubeconfig, inventory.yml, lab.env and
lab.json into the state directory. ``down`` stops every recorded PID. The CLI is a thin layer over
``lab_up``, ``lab_status`` and ``lab_down``, which tests import.
"""

import argparse
import json
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import yaml
from kubernetes import client as kube_client, config as kube_config

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(LAB_DIR))
sys.path.insert(0, LAB_DIR)

import labca  # noqa: E402  pylint: disable=wrong-import-position
import kubeapi_lab  # noqa: E402  pylint: disable=wrong-import-position

DEFAULT_STATE_DIR = os.path.join(REPO_ROOT, "lab-state")
BUCKET = "kfuse-lab"
REGION = "us-east-1"
ACCESS_KEY = "lab"
SECRET_KEY = "lab-secret"
NAMESPACE = "kfuse"
SERVICE_NAME = "az-service"
SERVICE_PORT = 8080
CONTAINER_PORT = 8443
ZONES = (
    {"name": "az1", "zone_id": "lab-az1", "initial_state": "active"},
    {"name": "az2", "zone_id": "lab-az2", "initial_state": "standby"},
)
START_TIMEOUT = 30.0
STOP_GRACE = 5.0
RUN_MARKER = "running"
_MOTO_LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


class LabError(Exception):
    """The lab could not be started, inspected or stopped."""


# ---- small helpers ---------------------------------------------------------------------------------


def venv_python():
    candidate = os.path.join(REPO_ROOT, ".venv", "bin", "python")
    return candidate if os.path.exists(candidate) else sys.executable


def venv_tool(name):
    candidate = os.path.join(os.path.dirname(venv_python()), name)
    return candidate if os.path.exists(candidate) else name


def free_port():
    """A port that was free a moment ago (for the two simulators, which must know each other's URL up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def log_tail(path, lines=15):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no log)"


def read_json(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_file(path, text, mode=0o644):
    tmp = path + ".part"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def pid_alive(pid, argv=None):
    """True when pid runs (not a zombie) and, when argv is given, runs exactly that command line."""
    try:
        with open("/proc/%d/stat" % pid, "r", encoding="utf-8") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        if argv is not None:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                running = [arg.decode(errors="replace") for arg in handle.read().split(b"\0")[:-1]]
            # A script started through its shebang shows up as [interpreter, script, args...].
            return running == list(argv) or running[1:] == list(argv)
    except (OSError, IndexError):
        return False
    return True


class Piece:
    """One child process of the lab with its log."""

    def __init__(self, name, argv, state_dir):
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(state_dir, "logs", name + ".log")
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=child_env(),
                cwd=REPO_ROOT, start_new_session=True)

    def record(self, **extra):
        return dict({"pid": self.proc.pid, "argv": self.argv, "log": self.log_path}, **extra)

    def fail(self, what):
        raise LabError("%s %s; last lines of %s:\n%s" % (self.name, what, self.log_path, log_tail(self.log_path)))

    def wait_for(self, probe, what, timeout=START_TIMEOUT):
        """Poll probe() until it returns something truthy; fail naming this piece if it exits or times out."""
        return poll_until(probe, self.proc, what, self.fail, timeout)


def poll_until(probe, proc, what, fail, timeout=START_TIMEOUT):
    """Poll probe() until it returns something truthy; fail(reason) (which raises) when ``proc`` exits first or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if proc.poll() is not None:
            fail("exited with status %s before %s" % (proc.returncode, what))
        if time.monotonic() > deadline:
            fail("did not get %s within %.0f s" % (what, timeout))
        time.sleep(0.1)


def _ready_file_probe(path):
    return lambda: read_json(path) if os.path.exists(path) else None


def http_answers(url, ca_path=None, token=None, timeout=3.0):
    """HTTP status of GET url, or None when nothing answers (any HTTP status counts as answering)."""
    context = ssl.create_default_context(cafile=ca_path) if url.startswith("https") else None
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


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


def start_simulator(state_dir, zone, port, peer_url, peer_token, pki, s3_endpoint, token, extra_args=()):
    ready = os.path.join(state_dir, "azservice-%s.ready.json" % zone["name"])
    if os.path.exists(ready):
        os.unlink(ready)
    argv = [venv_python(), "-m", "azservice_sim", "--host", "127.0.0.1", "--port", str(port),
            "--tls-cert", pki["server_cert"], "--tls-key", pki["server_key"], "--ready-file", ready,
            "--zone-id", zone["zone_id"], "--namespace", NAMESPACE, "--initial-state", zone["initial_state"],
            "--peer", "%s=%s" % (NAMESPACE, peer_url), "--peer-token=%s=%s" % (NAMESPACE, peer_token),
            "--peer-ca", pki["ca"], "--s3-endpoint", s3_endpoint, "--s3-bucket", BUCKET, "--s3-region", REGION,
            "--token=" + token] + list(extra_args)
    return Piece("azservice-" + zone["name"], argv, state_dir), ready


def start_emulator(state_dir, pki, tokens):
    ready = os.path.join(state_dir, "kubeapi.ready.json")
    if os.path.exists(ready):
        os.unlink(ready)
    argv = kubeapi_lab.emulator_argv(venv_python(), [zone["name"] for zone in ZONES], tokens, pki["server_cert"],
                                     pki["server_key"], ready)
    piece = Piece("kubeapi", argv, state_dir)
    info = piece.wait_for(_ready_file_probe(ready), "its ready file")
    missing = [zone["name"] for zone in ZONES if zone["name"] not in info.get("clusters", {})]
    if missing:
        piece.fail("ready file lacks clusters %s" % ", ".join(missing))
    return piece, info


# ---- generated files -------------------------------------------------------------------------------------


def write_kubeconfig(path, ca_path, clusters):
    """clusters: {context name: (server url, token)}; the first one is the current context, kfuse its namespace."""
    kubeapi_lab.write_kubeconfig(path, ca_path, clusters, namespace=NAMESPACE)


def write_inventory(path, lab):
    hosts = {}
    for zone in ZONES:
        sim = lab["azservice"][zone["name"]]
        hosts[zone["name"]] = {
            "kfuse_zone_id": zone["zone_id"],
            "kfuse_kube": {"kubeconfig": lab["paths"]["kubeconfig"], "context": "lab-" + zone["name"], "namespace": NAMESPACE},
            "kfuse_az_service": {"url": sim["url"], "service": SERVICE_NAME, "port": SERVICE_PORT,
                                 "ca_path": lab["paths"]["ca"], "token": sim["token"]},
        }
    doc = {"all": {"children": {"kfuse_zones": {
        "hosts": hosts,
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": venv_python(),
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
        "",
    ]
    write_file(path, "\n".join(lines), 0o600)


# ---- seeding the clusters ----------------------------------------------------------------------------------


def seed_cluster(kubeconfig, context, zone_id, simulator_port):
    """Namespace kfuse, Pod az-service-0 (Running, Ready, forwarding to the simulator), Service az-service, 3 Nodes."""
    api_client = kube_config.new_client_from_config(config_file=kubeconfig, context=context)
    try:
        core = kube_client.CoreV1Api(api_client)
        labels = {"app.kubernetes.io/name": SERVICE_NAME}
        core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        for index in range(3):
            core.create_node({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": "%s-node-%d" % (zone_id, index),
                             "labels": {"topology.kubernetes.io/zone": zone_id, "kubernetes.io/os": "linux"}},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            })
        pod_status = {"phase": "Running", "podIP": "127.0.0.1",
                      "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
                      "containerStatuses": [{"name": SERVICE_NAME, "ready": True, "restartCount": 0, "started": True,
                                             "image": "kfuse/az-service:lab", "imageID": "", "state": {"running": {}}}]}
        core.create_namespaced_pod(NAMESPACE, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": SERVICE_NAME + "-0", "labels": labels,
                         "annotations": {"lab.kfuse.io/forward.%d" % CONTAINER_PORT: "127.0.0.1:%d" % simulator_port}},
            "spec": {"nodeName": "%s-node-0" % zone_id,
                     "containers": [{"name": SERVICE_NAME, "image": "kfuse/az-service:lab",
                                     "ports": [{"name": "https", "containerPort": CONTAINER_PORT, "protocol": "TCP"}]}]},
            "status": pod_status,
        })
        # A real API server ignores status on create; set it through the status subresource as a kubelet would.
        core.patch_namespaced_pod_status(SERVICE_NAME + "-0", NAMESPACE, {"status": pod_status})
        core.create_namespaced_service(NAMESPACE, {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": SERVICE_NAME, "labels": labels},
            "spec": {"selector": labels,
                     "ports": [{"name": "https", "port": SERVICE_PORT, "targetPort": "https", "protocol": "TCP"}]},
        })
    finally:
        api_client.close()


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


def lab_up(state_dir=DEFAULT_STATE_DIR, simulator_args=()):
    """Start the whole lab in state_dir and return what lab.json records; on any failure stop what started.

    simulator_args are extra command-line options for both az-service simulators (e.g. a slower rehydrate rate).
    """
    state_dir = os.path.abspath(state_dir)
    paths = _paths(state_dir)
    if lab_running(state_dir):
        raise LabError("a lab already runs in %s; run 'labctl.py down --state-dir %s' first" % (state_dir, state_dir))
    os.makedirs(paths["logs"], exist_ok=True)
    lab = {"state_dir": state_dir, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "paths": paths, "pieces": {}, "launcher_pid": os.getpid()}
    write_file(paths["marker"], "%d\n" % os.getpid())
    started = []

    def track(piece, **extra):
        started.append(piece)
        lab["pieces"][piece.name] = piece.record(**extra)
        # Written after every start so that 'down' can stop a half-started lab.
        write_file(paths["lab_json"], json.dumps(lab, indent=2, sort_keys=True), 0o600)

    try:
        pki = labca.create_lab_pki(state_dir)
        lab["paths"].update({"ca": pki["ca"], "server_cert": pki["server_cert"], "server_key": pki["server_key"]})

        moto, endpoint = start_moto(state_dir)
        track(moto, url=endpoint)
        create_bucket(endpoint)
        lab["s3"] = {"endpoint": endpoint, "bucket": BUCKET, "region": REGION,
                     "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}

        kube_tokens = {zone["name"]: secrets.token_hex(16) for zone in ZONES}
        emulator, info = start_emulator(state_dir, pki, kube_tokens)
        track(emulator)
        lab["kube"] = {zone["name"]: {"context": "lab-" + zone["name"], "url": info["clusters"][zone["name"]]["url"],
                                      "port": info["clusters"][zone["name"]]["port"], "token": kube_tokens[zone["name"]]}
                       for zone in ZONES}
        lab["pieces"]["kubeapi"]["url"] = {name: kube["url"] for name, kube in lab["kube"].items()}

        lab["azservice"] = _start_simulators(state_dir, pki, endpoint, track, simulator_args)

        write_kubeconfig(paths["kubeconfig"], pki["ca"],
                         {kube["context"]: (kube["url"], kube["token"]) for kube in lab["kube"].values()})
        for zone in ZONES:
            try:
                seed_cluster(paths["kubeconfig"], "lab-" + zone["name"], zone["zone_id"], lab["azservice"][zone["name"]]["port"])
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # Any client or API failure while seeding means the emulator is not usable for the lab.
                emulator.fail("could not be seeded for %s (%s: %s)" % (zone["name"], type(exc).__name__, exc))
        write_inventory(paths["inventory"], lab)
        write_env(paths["env"], lab)
        write_file(paths["lab_json"], json.dumps(lab, indent=2, sort_keys=True), 0o600)
        return lab
    except BaseException:
        _stop_pieces([(piece.name, piece.record()) for piece in started])
        if os.path.exists(paths["marker"]):
            os.unlink(paths["marker"])
        raise


def _start_simulators(state_dir, pki, s3_endpoint, track, extra_args=()):
    ports = {zone["name"]: free_port() for zone in ZONES}
    tokens = {zone["name"]: secrets.token_hex(16) for zone in ZONES}
    urls = {name: "https://127.0.0.1:%d" % port for name, port in ports.items()}
    pending = []
    for zone, peer in zip(ZONES, reversed(ZONES)):
        piece, ready = start_simulator(state_dir, zone, ports[zone["name"]], urls[peer["name"]], tokens[peer["name"]],
                                       pki, s3_endpoint, tokens[zone["name"]], extra_args)
        track(piece, url=urls[zone["name"]], port=ports[zone["name"]])
        pending.append((zone, piece, ready))
    result = {}
    for zone, piece, ready in pending:
        info = piece.wait_for(_ready_file_probe(ready), "its ready file")
        result[zone["name"]] = {"zone_id": zone["zone_id"], "url": info["url"], "port": info["port"],
                                "token": tokens[zone["name"]], "pid": piece.proc.pid}
    return result


def _stop_pieces(pieces, grace=STOP_GRACE):
    """SIGTERM every live recorded process, SIGKILL what outlives the grace period; return the PIDs still alive."""
    pids = [piece["pid"] for _name, piece in pieces if pid_alive(piece["pid"], piece.get("argv"))]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):
            _reap(pids)
            time.sleep(0.1)
    return [pid for pid in pids if pid_alive(pid)]


def _reap(pids):
    """Collect those PIDs if they are exited children of this process (up and down in one process, e.g. tests)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def lab_down(state_dir=DEFAULT_STATE_DIR):
    """Stop every process recorded in state_dir; idempotent. Return {"stopped": [...], "alive": [...]}."""
    paths = _paths(os.path.abspath(state_dir))
    lab = read_json(paths["lab_json"])
    pieces = _recorded_pieces(lab)
    running = [name for name, piece in pieces if pid_alive(piece["pid"], piece.get("argv"))]
    alive = _stop_pieces(pieces)
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
    ca_path = lab["paths"].get("ca")
    if name == "moto":
        return http_answers(piece["url"] + "/moto-api/") is not None
    if name == "kubeapi":
        kube = lab.get("kube", {})
        return bool(kube) and all(http_answers(k["url"] + "/version", ca_path, k["token"]) == 200 for k in kube.values())
    if name.startswith("azservice-"):
        sim = lab.get("azservice", {}).get(name[len("azservice-"):])
        return bool(sim) and http_answers(sim["url"] + "/status", ca_path, sim["token"]) == 200
    return False


# ---- command line --------------------------------------------------------------------------------------------


def _print_summary(lab):
    print("lab is up in %s" % lab["state_dir"])
    print("  s3        %s  bucket %s" % (lab["s3"]["endpoint"], BUCKET))
    for name, kube in lab["kube"].items():
        sim = lab["azservice"][name]
        print("  %s       kube %s (context %s)  az-service %s (zone %s)" % (name, kube["url"], kube["context"], sim["url"], sim["zone_id"]))
    print("  inventory %s" % lab["paths"]["inventory"])
    print("  shell     . %s" % lab["paths"]["env"])
    print("  stop      %s %s down --state-dir %s" % (os.path.relpath(venv_python()), os.path.relpath(__file__), lab["state_dir"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=("up", "status", "down"))
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="default: lab-state in the repository root")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--rehydrate-rate", type=float, help="up: segments per second the simulators rehydrate")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            simulator_args = ["--rehydrate-rate", str(args.rehydrate_rate)] if args.rehydrate_rate else []
            lab = lab_up(args.state_dir, simulator_args)
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
                print("  %-14s pid %-7s %-5s %s" % (name, entry["pid"], liveness, answers))
        healthy = status["running"] and status["pieces"] and all(e["alive"] and e["answers"] for e in status["pieces"].values())
        return 0 if healthy else 3
    except LabError as exc:
        print("labctl %s failed: %s" % (args.command, exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
