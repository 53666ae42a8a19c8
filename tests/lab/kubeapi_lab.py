# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes API emulator for one test session: start it, write a kubeconfig for it, stop it.

``start_kubeapi(workdir, clusters, tokens=None, pki=None)`` returns a ``KubeApi`` handle (``kubeconfig``, ``ca``,
``clusters``, ``tokens``, ``log``, ``stop()``). ``emulator_argv`` and ``write_kubeconfig`` are what ``labctl``
shares with it, so the lab and the test fixtures start the emulator and describe it the same way.
``create_local_exec_pod`` makes a pod whose exec the emulator runs on this machine (database dumps in pod mode).
"""

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

import labca  # noqa: E402  pylint: disable=wrong-import-position

START_TIMEOUT = 30.0
STOP_GRACE = 10.0


class KubeApiError(Exception):
    """The emulator did not start."""


def emulator_argv(python, clusters, tokens, tls_cert, tls_key, ready_file, extra_args=()):
    """Command line of ``python -m kubeapi_emulator`` serving ``clusters`` (names, free ports) with bearer ``tokens``."""
    argv = [python, "-m", "kubeapi_emulator", "--host", "127.0.0.1"]
    for name in clusters:
        argv += ["--cluster", "%s=0" % name]
        if tokens.get(name):
            argv += ["--token", "%s=%s" % (name, tokens[name])]
    return argv + ["--tls-cert", str(tls_cert), "--tls-key", str(tls_key), "--ready-file", str(ready_file)] + list(extra_args)


def write_kubeconfig(path, ca_path, clusters, namespace=None):
    """Write a kubeconfig (mode 0600) for ``clusters`` = {context: (server url, token)}; the first is current.

    Each context names a cluster and a user of the same name; ``namespace`` becomes every context's default.
    """
    ca_data = base64.b64encode(Path(ca_path).read_bytes()).decode()
    names = list(clusters)
    context = {"namespace": namespace} if namespace else {}
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": clusters[n][0], "certificate-authority-data": ca_data}} for n in names],
        "users": [{"name": n, "user": {"token": clusters[n][1]}} for n in names],
        "contexts": [{"name": n, "context": dict(context, cluster=n, user=n)} for n in names],
        "current-context": names[0],
        "preferences": {},
    }
    path = str(path)
    partial = path + ".part"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(yaml.safe_dump(doc, sort_keys=False))
    os.replace(partial, path)
    return Path(path)


def _read_ready(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # not written yet, or half written


class KubeApi:
    """A running emulator: ``clusters`` {name: {url, port}}, ``tokens``, ``kubeconfig``, ``ca``, ``log``, ``pki``."""

    def __init__(self, workdir, process, ready, tokens, pki, kubeconfig, log):
        self.workdir = workdir
        self.process = process
        self.ready = ready
        self.clusters = ready["clusters"]
        self.tokens = tokens
        self.pki = pki
        self.ca = Path(pki["ca"])
        self.kubeconfig = kubeconfig
        self.log = log

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        """SIGTERM, then SIGKILL after a grace period; idempotent."""
        if self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_GRACE)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start_kubeapi(workdir, clusters=("az1",), tokens=None, pki=None, namespace=None, extra_args=(),
                  timeout=START_TIMEOUT):
    """Start the emulator in ``workdir`` (log, ready file, kubeconfig, and the lab PKI unless ``pki`` is given).

    ``tokens`` {cluster: bearer token} default to random ones; ``pki`` is a dict with ``ca``, ``server_cert`` and
    ``server_key`` paths (``labca.create_lab_pki``). The kubeconfig has one context per cluster, named like it.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    clusters = list(clusters)
    tokens = dict(tokens) if tokens else {name: secrets.token_hex(16) for name in clusters}
    pki = pki or labca.create_lab_pki(str(workdir))
    ready_file = workdir / "kubeapi.ready.json"
    if ready_file.exists():
        ready_file.unlink()
    log = workdir / "kubeapi.log"
    argv = emulator_argv(sys.executable, clusters, tokens, pki["server_cert"], pki["server_key"], ready_file, extra_args)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [LAB_DIR, os.environ.get("PYTHONPATH")])))
    with log.open("wb") as log_file:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log_file,  # pylint: disable=consider-using-with
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        ready = _read_ready(ready_file)
        while not ready:
            if process.poll() is not None:
                raise KubeApiError("the Kubernetes API emulator exited with %s:\n%s" % (process.returncode, log.read_text()))
            if time.monotonic() > deadline:
                raise KubeApiError("the Kubernetes API emulator wrote no ready file within %.0f s:\n%s" % (timeout, log.read_text()))
            time.sleep(0.1)
            ready = _read_ready(ready_file)
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", pki["ca"],
                                      {name: (ready["clusters"][name]["url"], tokens[name]) for name in clusters},
                                      namespace=namespace)
        return KubeApi(workdir, process, ready, tokens, pki, kubeconfig, log)
    except BaseException:
        KubeApi(workdir, process, {"clusters": {}}, tokens, pki, None, log).stop()
        raise


def create_local_exec_pod(core_v1, namespace, name, env=None, labels=None, container="postgresql"):
    """A pod whose exec the emulator runs on this machine (annotation ``lab.kfuse.io/exec: local``) with ``env``
    as its environment; with ``env`` None the pod is not annotated and exec is refused."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    annotations = {} if env is None else {"lab.kfuse.io/exec": "local", "lab.kfuse.io/exec-env": json.dumps(env)}
    core_v1.create_namespaced_pod(namespace, k8s_client.V1Pod(
        metadata=k8s_client.V1ObjectMeta(name=name, labels=labels or {}, annotations=annotations),
        spec=k8s_client.V1PodSpec(containers=[k8s_client.V1Container(name=container, image="bitnami/postgresql")])))
    return name
