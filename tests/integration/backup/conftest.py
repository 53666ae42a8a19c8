# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the backup module tests: the three storage emulators, the Kubernetes API emulator with a Helm
release, a throwaway PostgreSQL, and ad-hoc ``ansible`` runs of the modules on localhost."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LAB_DIR = REPO / "tests" / "lab"
HELM = REPO / ".tools" / "bin" / "helm"
for entry in (str(LAB_DIR), str(REPO / "tests" / "integration"), str(REPO / ".build" / "collections")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from ansible_run import VENV_BIN, run_ansible  # noqa: E402  pylint: disable=import-error,wrong-import-position
import kube_cluster  # noqa: E402  pylint: disable=import-error,wrong-import-position
import postgres_lab  # noqa: E402  pylint: disable=import-error,wrong-import-position
import storage_emulators  # noqa: E402  pylint: disable=import-error,wrong-import-position


# -- ansible runs -------------------------------------------------------------------------------------------------

@pytest.fixture
def run_module(tmp_path):
    """run_module(module, args, check=False, verbosity=0) -> Run, on the implicit localhost with the JSON callback."""

    def run(module, args, check=False, verbosity=0, timeout=240):
        cmd = [os.path.join(VENV_BIN, "ansible"), "localhost", "-m", "kfuse.failover." + module,
               "-a", json.dumps(args)]
        return run_ansible(cmd, tmp_path, timeout, check, verbosity)

    return run


@pytest.fixture
def run_tasks(tmp_path):
    """run_tasks([task, ...]) -> Run: one ansible-playbook run of the tasks on localhost (cheaper than N ad-hoc runs)."""

    def run(tasks, timeout=300):
        playbook = tmp_path / ("play-%s.yml" % secrets.token_hex(4))
        playbook.write_text(json.dumps([{"name": "backup tests", "hosts": "localhost", "gather_facts": False,
                                         "tasks": tasks}]))
        cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
        return run_ansible(cmd, tmp_path, timeout)

    return run


# -- object storage -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def emulators(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("storage")
    started = {}
    oauth = storage_emulators.OAuthTokenEndpoint().start()
    try:
        started["s3"] = storage_emulators.start_moto(str(workdir / "moto"))
        started["azure"] = storage_emulators.start_azurite(str(workdir / "azurite"))
        started["gcs"] = storage_emulators.start_fake_gcs(str(workdir / "gcs"))
        started["oauth"] = oauth
        yield started
    finally:
        for name in ("gcs", "azure", "s3"):
            if name in started:
                started[name].stop()
        oauth.stop()


class Bucket:
    """One fresh bucket/container on one emulator: module arguments and direct access for assertions."""

    def __init__(self, provider, emulators):
        self.provider = provider
        self.name = "kfb-%s" % secrets.token_hex(6)
        emulator = emulators[provider]
        if provider == "s3":
            import boto3  # pylint: disable=import-outside-toplevel
            creds = emulator.credentials
            self.client = boto3.client("s3", endpoint_url=emulator.endpoint, region_name=creds["region"],
                                       aws_access_key_id=creds["access_key"], aws_secret_access_key=creds["secret_key"])
            self.client.create_bucket(Bucket=self.name)
            self.cloud_storage = {"type": "s3", "s3": {"region": creds["region"], "bucket": self.name},
                                  "endpoint_url": emulator.endpoint}
            # the Kloudfuse secret's own key names
            self.credentials = {"accessKey": creds["access_key"], "secretKey": creds["secret_key"]}
            self.secret_values = [creds["secret_key"]]
        elif provider == "azure":
            from azure.storage.blob import BlobServiceClient  # pylint: disable=import-outside-toplevel
            service = BlobServiceClient.from_connection_string(emulator.credentials["connection_string"])
            self.client = service.create_container(self.name)
            self.cloud_storage = {"type": "azure", "azure": {"container": self.name}}
            self.credentials = {"connectionString": emulator.credentials["connection_string"]}
            self.secret_values = [emulator.credentials["account_key"]]
        else:
            from google.auth.credentials import AnonymousCredentials  # pylint: disable=import-outside-toplevel
            from google.cloud import storage as gcs  # pylint: disable=import-outside-toplevel
            client = gcs.Client(project="kfuse-lab", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": emulator.endpoint})
            self.client = client.create_bucket(self.name)
            info = emulators["oauth"].service_account_info()
            self.cloud_storage = {"type": "gcs", "gcs": {"bucket": self.name, "project": "kfuse-lab"},
                                  "endpoint_url": emulator.endpoint}
            self.credentials = {"service_account_info": info}
            self.secret_values = [info["private_key"].splitlines()[1]]

    def args(self, **extra):
        args = {"cloud_storage": self.cloud_storage, "storage_credentials": self.credentials}
        args.update(extra)
        return args

    def keys(self):
        if self.provider == "s3":
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
            return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        if self.provider == "azure":
            return sorted(blob.name for blob in self.client.list_blobs())
        return sorted(blob.name for blob in self.client.list_blobs())

    def read(self, key):
        if self.provider == "s3":
            return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        if self.provider == "azure":
            return self.client.download_blob(key).readall()
        return self.client.blob(key).download_as_bytes()

    def write(self, key, data):
        if self.provider == "s3":
            self.client.put_object(Bucket=self.name, Key=key, Body=data)
        elif self.provider == "azure":
            self.client.upload_blob(key, data, overwrite=True)
        else:
            self.client.blob(key).upload_from_string(data)

    def delete(self, key):
        if self.provider == "s3":
            self.client.delete_object(Bucket=self.name, Key=key)
        elif self.provider == "azure":
            self.client.delete_blob(key)
        else:
            self.client.blob(key).delete()


@pytest.fixture
def make_bucket(emulators):
    return lambda provider: Bucket(provider, emulators)


# -- Kubernetes with a Helm release --------------------------------------------------------------------------------

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: kfuse-lab\nversion: 0.3.0\nappVersion: '3.4'\n",
    "values.yaml": "zone: none\nreplicas: 1\n",
    "templates/config.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
                              "data:\n  zone: {{ .Values.zone | quote }}\n"),
}


@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    """The lab's control planes az1 and az2, kfuse secrets and a Helm release 'kfuse' with user values in az1."""
    from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
    workdir = tmp_path_factory.mktemp("kube")
    lab = kube_cluster.start_kube(workdir, ("az1", "az2"))
    cores = {}
    try:
        kubeconfig = lab.kubeconfig
        cores = {name: k8s_client.CoreV1Api(lab.api_client(name)) for name in lab.clusters}
        for name in lab.clusters:
            for namespace in ("kfuse", "standby"):
                kube_cluster.create_namespace(cores[name].api_client, namespace)
        az1 = cores["az1"]
        az1.create_namespaced_secret("kfuse", k8s_client.V1Secret(
            metadata=k8s_client.V1ObjectMeta(name="kfuse-pg", labels={"app.kubernetes.io/part-of": "kfuse"},
                                             annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"}),
            string_data={"password": "pg-password-az1"}))
        az1.create_namespaced_secret("kfuse", k8s_client.V1Secret(
            metadata=k8s_client.V1ObjectMeta(name="kfuse-sso", labels={"app.kubernetes.io/part-of": "kfuse"}),
            string_data={"client-secret": "sso-secret-az1"}))
        az1.create_namespaced_secret("kfuse", k8s_client.V1Secret(
            metadata=k8s_client.V1ObjectMeta(name="image-pull"), type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": '{"auths": {}}'}))
        helm_values = None
        if HELM.exists():
            chart = workdir / "chart"
            for relative, text in CHART.items():
                (chart / relative).parent.mkdir(parents=True, exist_ok=True)
                (chart / relative).write_text(text)
            home = workdir / "home"
            env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig), HELM_CACHE_HOME=str(home / "c"),
                       HELM_CONFIG_HOME=str(home / "g"), HELM_DATA_HOME=str(home / "d"))
            for zone in ("az1", "az1-updated"):
                result = subprocess.run([str(HELM), "upgrade", "--install", "kfuse", str(chart), "--namespace", "kfuse",
                                         "--kube-context", "az1", "--set", "zone=%s" % zone, "--set",
                                         "global.cloudStorage.type=s3"],
                                        env=env, capture_output=True, text=True, timeout=120, check=False)
                assert result.returncode == 0, result.stdout + result.stderr
            helm_values = {"zone": "az1-updated", "global": {"cloudStorage": {"type": "s3"}}}
        yield {"kubeconfig": str(kubeconfig), "core": cores, "helm_values": helm_values, "logs": str(workdir / "logs")}
    finally:
        for core in cores.values():
            core.api_client.close()
        lab.stop()


# -- PostgreSQL ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg(tmp_path_factory):
    """A throwaway server with two small databases, configdb and orchestratordb."""
    info = postgres_lab.start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        for database in ("configdb", "orchestratordb"):
            postgres_lab.psql(info, "CREATE DATABASE %s;" % database)
        postgres_lab.psql(info, "CREATE TABLE streams (id int PRIMARY KEY, name text);"
                                "INSERT INTO streams SELECT g, 'stream ' || g FROM generate_series(1, 120) g;", "configdb")
        postgres_lab.psql(info, "CREATE TABLE jobs (id int PRIMARY KEY, state text); CREATE TABLE job_log (line text);"
                                "INSERT INTO jobs VALUES (1, 'done'), (2, 'running');"
                                "INSERT INTO job_log SELECT 'line ' || g FROM generate_series(1, 50) g;", "orchestratordb")
        yield info
    finally:
        postgres_lab.stop_postgres(info)
