# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the storage suite: moto_server, Azurite and fake-gcs-server (plus a loopback OAuth token
endpoint for GCS service accounts) started once per session, and a fresh bucket per test and provider."""

import json
import os
import sys
import uuid

import boto3
import pytest
import requests
from azure.storage.blob import BlobServiceClient

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LAB_DIR = os.path.join(REPO, "tests", "lab")
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

import kube_cluster  # noqa: E402  pylint: disable=wrong-import-position
import storage_emulators  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.kfuse.failover.plugins.module_utils.storage import open_store  # noqa: E402  pylint: disable=wrong-import-position

PROVIDERS = ("s3", "gcs", "azure")


class Servers:
    """The running emulators of the session."""

    def __init__(self, moto, azurite, fake_gcs, oauth):
        self.moto = moto
        self.azurite = azurite
        self.fake_gcs = fake_gcs
        self.oauth = oauth
        self.gcs_service_account = oauth.service_account_info()


@pytest.fixture(scope="session")
def storage_servers(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("storage-emulators"))
    started = []
    oauth = storage_emulators.OAuthTokenEndpoint().start()
    try:
        for start in (storage_emulators.start_moto, storage_emulators.start_azurite, storage_emulators.start_fake_gcs):
            started.append(start(workdir))
        yield Servers(started[0], started[1], started[2], oauth)
    finally:
        for emulator in started:
            emulator.stop()
        oauth.stop()


class Target:
    """One fresh bucket (or container) on one provider, with the credentials the lab hands out."""

    def __init__(self, provider, servers, name):
        self.provider = provider
        self.servers = servers
        self.name = name
        if provider == "s3":
            moto = servers.moto
            self.cloud_storage = {"type": "s3", "s3": {"region": moto.credentials["region"], "bucket": name},
                                  "endpoint_url": moto.endpoint}
            self.credentials = {"access_key": moto.credentials["access_key"],
                                "secret_key": moto.credentials["secret_key"], "session_token": None}
            self.seed_secret = {"accessKey": moto.credentials["access_key"], "secretKey": moto.credentials["secret_key"]}
            self.secret_values = [moto.credentials["secret_key"]]
        elif provider == "gcs":
            info = servers.gcs_service_account
            self.cloud_storage = {"type": "gcs", "gcs": {"bucket": name}, "endpoint_url": servers.fake_gcs.endpoint}
            self.credentials = {"service_account_info": info}
            self.seed_secret = {"secretKey": json.dumps(info)}
            self.secret_values = [info["private_key"], info["private_key_id"]]
        else:
            azurite = servers.azurite
            self.cloud_storage = {"type": "azure", "azure": {"container": name}}
            self.credentials = {"connection_string": azurite.credentials["connection_string"]}
            self.seed_secret = {"connectionString": azurite.credentials["connection_string"]}
            self.secret_values = [azurite.credentials["account_key"], azurite.credentials["connection_string"]]

    def store(self, credentials=None, cloud_storage=None, **options):
        return open_store(cloud_storage or self.cloud_storage,
                          self.credentials if credentials is None else credentials, **options)

    def create(self):
        """Create the bucket/container with a plain client (the collection never creates buckets)."""
        if self.provider == "s3":
            moto = self.servers.moto
            boto3.client("s3", endpoint_url=moto.endpoint, region_name=moto.credentials["region"],
                         aws_access_key_id=moto.credentials["access_key"],
                         aws_secret_access_key=moto.credentials["secret_key"]).create_bucket(Bucket=self.name)
        elif self.provider == "gcs":
            response = requests.post(self.servers.fake_gcs.endpoint + "/storage/v1/b", params={"project": "kfuse-lab"},
                                     json={"name": self.name}, timeout=10)
            response.raise_for_status()
        else:
            service = BlobServiceClient.from_connection_string(self.servers.azurite.credentials["connection_string"])
            service.create_container(self.name)
        return self


def bucket_name(prefix="kfuse"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:16])


@pytest.fixture(params=PROVIDERS)
def target(request, storage_servers):
    """A fresh, empty bucket on each provider."""
    return Target(request.param, storage_servers, bucket_name()).create()


@pytest.fixture
def new_target(storage_servers):
    """Factory: a fresh, empty bucket on the named provider."""
    return lambda provider: Target(provider, storage_servers, bucket_name()).create()


@pytest.fixture(params=PROVIDERS)
def missing_target(request, storage_servers):
    """A provider whose bucket does not exist."""
    return Target(request.param, storage_servers, bucket_name("missing"))


# ---- Kubernetes (credentials read from a Secret) ----------------------------------------------------------------


@pytest.fixture(scope="session")
def kube_api(tmp_path_factory):
    """The lab's control plane with one cluster, and a kubeconfig for it (context lab, namespace default)."""
    lab = kube_cluster.start_kube(tmp_path_factory.mktemp("kube"), ("lab",), namespace="default")
    try:
        yield {"kubeconfig": str(lab.kubeconfig), "context": "lab"}
    finally:
        lab.stop()
