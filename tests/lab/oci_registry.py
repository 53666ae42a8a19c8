# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real OCI registry for the lab's charts: Debian's ``docker-registry`` (CNCF distribution) on loopback, TLS from
the lab CA and htpasswd (bcrypt) login, with the stand-in charts pushed by the real helm binary.

``start_registry(workdir, pki, log_dir)`` returns ``(piece, info)``; ``push_charts(info, helm, versions)`` packages
``tests/lab/charts/<name>`` at each version and pushes it to ``oci://<host>/kfuse-helm`` (the vendor's repository
name), as the vendor's registry serves ``kfuse``.
"""

import os
import secrets
import shutil
import subprocess
import tempfile

import bcrypt
import yaml

from procs import LabError, Piece, free_port, http_answers, write_file

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
CHARTS_DIR = os.path.join(LAB_DIR, "charts")
REPOSITORY = "kfuse-helm"
USERNAME = "lab"
# What the lab publishes: the kfuse stand-in at two versions (so an upgrade and a refused downgrade can be tried),
# and the standalone ingress-nginx stand-in.
CHART_VERSIONS = {"kfuse": ("3.4.2", "3.4.3"), "ingress-nginx": ("4.12.1",)}


def registry_binary():
    found = shutil.which("docker-registry")
    if not found:
        raise LabError("docker-registry is not installed (Debian package docker-registry; hacking/bootstrap.sh "
                       "installs it)")
    return found


def start_registry(workdir, pki, log_dir):
    """Start the registry in ``workdir`` on a free loopback port; return (piece, info) once /v2/ answers."""
    os.makedirs(workdir, exist_ok=True)
    port = free_port()
    password = secrets.token_hex(12)
    htpasswd = os.path.join(workdir, "htpasswd")
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    write_file(htpasswd, "%s:%s\n" % (USERNAME, hashed), 0o600)
    config = os.path.join(workdir, "config.yml")
    write_file(config, yaml.safe_dump({
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": os.path.join(workdir, "data")}, "delete": {"enabled": True}},
        "http": {"addr": "127.0.0.1:%d" % port, "tls": {"certificate": pki["server_cert"], "key": pki["server_key"]}},
        "auth": {"htpasswd": {"realm": "kfuse-lab", "path": htpasswd}},
    }))
    piece = Piece("oci-registry", [registry_binary(), "serve", config], log_dir)
    host = "127.0.0.1:%d" % port
    info = {"host": host, "url": "oci://%s/%s" % (host, REPOSITORY), "username": USERNAME, "password": password,
            "ca_path": pki["ca"], "health": "https://%s/v2/" % host}
    try:
        # Unauthenticated /v2/ answers 401 once the registry serves (that is its documented "I am here").
        piece.wait_for(lambda: http_answers(info["health"], pki["ca"]) == 401, "an answer on /v2/")
    except BaseException:
        piece.proc.kill()
        raise
    return piece, info


def helm_env(home):
    """helm with its config, cache and registry logins kept under ``home`` (not the user's)."""
    return dict(os.environ, HELM_CONFIG_HOME=os.path.join(home, "config"), HELM_CACHE_HOME=os.path.join(home, "cache"),
                HELM_DATA_HOME=os.path.join(home, "data"),
                HELM_REGISTRY_CONFIG=os.path.join(home, "config", "registry", "config.json"))


def _helm(helm, args, env, stdin=None):
    done = subprocess.run([helm] + args, input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        raise LabError("helm %s failed: %s" % (args[0], (done.stderr or done.stdout).strip()))
    return done.stdout


def push_charts(info, helm, home, versions=None):
    """Log in, package each stand-in chart at each version and push it; return {chart: [versions pushed]}."""
    env = helm_env(home)
    _helm(helm, ["registry", "login", info["host"], "--username", info["username"], "--password-stdin",
                 "--ca-file", info["ca_path"]], env, stdin=info["password"])
    pushed = {}
    with tempfile.TemporaryDirectory() as packages:
        for chart, chart_versions in (versions or CHART_VERSIONS).items():
            for version in chart_versions:
                _helm(helm, ["package", os.path.join(CHARTS_DIR, chart), "--version", version, "--app-version",
                             version if chart == "kfuse" else _app_version(chart), "--destination", packages], env)
                _helm(helm, ["push", os.path.join(packages, "%s-%s.tgz" % (chart, version)), info["url"],
                             "--ca-file", info["ca_path"]], env)
                pushed.setdefault(chart, []).append(version)
    return pushed


def _app_version(chart):
    with open(os.path.join(CHARTS_DIR, chart, "Chart.yaml"), encoding="utf-8") as handle:
        return str(yaml.safe_load(handle)["appVersion"])


def install_release(info, helm, home, kube, release, chart, version, values, create_namespace=False):
    """``helm upgrade --install`` of ``chart`` at ``version`` from the registry (as the zone's operator would have
    done before the lab's story starts). ``kube``: {kubeconfig, context, namespace}."""
    env = dict(helm_env(home), SSL_CERT_FILE=info["ca_path"])
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(values, handle)
    try:
        _helm(helm, ["upgrade", "--install", release, "%s/%s" % (info["url"], chart), "--version", version,
                     "--namespace", kube["namespace"], "--kubeconfig", kube["kubeconfig"],
                     "--kube-context", kube["context"], "--values", handle.name]
              + (["--create-namespace"] if create_namespace else []), env)
    finally:
        os.unlink(handle.name)
