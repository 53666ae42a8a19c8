# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the PostgreSQL dump/restore tests: a throwaway server with sample databases, and the lab's
Kubernetes control plane with Pods whose exec (kwok's Exec) runs locally against that server."""

import os
import sys
from pathlib import Path

import pytest
from kubernetes import client as k8s_client

REPO = Path(__file__).resolve().parents[3]
LAB_DIR = REPO / "tests" / "lab"
sys.path.insert(0, str(LAB_DIR))
sys.path.insert(0, str(REPO / ".build" / "collections"))

import kube_cluster  # noqa: E402  pylint: disable=wrong-import-position
import postgres_lab  # noqa: E402  pylint: disable=wrong-import-position


SAMPLE_SQL = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, created timestamptz NOT NULL);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer REFERENCES customers(id), amount numeric(10,2),
                     payload bytea);
CREATE TABLE audit_log (id serial PRIMARY KEY, message text);
INSERT INTO customers SELECT g, 'customer ' || g, '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 hour'
    FROM generate_series(1, 50) g;
INSERT INTO orders (customer_id, amount, payload)
    SELECT 1 + g % 50, g * 1.25, decode(md5(g::text), 'hex') FROM generate_series(1, 300) g;
INSERT INTO audit_log (message) SELECT 'event ' || g FROM generate_series(1, 40) g;
CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
"""

OTHER_SQL = """
CREATE TABLE settings (key text PRIMARY KEY, value jsonb);
INSERT INTO settings VALUES ('zone', '"az1"'), ('retention', '{"days": 7}');
"""

# ~20 MB of incompressible bytes (md5 output), so the custom-format dump is about that size too.
BIG_SQL = """
CREATE TABLE blobs (id integer PRIMARY KEY, data bytea NOT NULL);
INSERT INTO blobs SELECT g, decode(md5((g * 8)::text) || md5((g * 8 + 1)::text) || md5((g * 8 + 2)::text)
    || md5((g * 8 + 3)::text) || md5((g * 8 + 4)::text) || md5((g * 8 + 5)::text) || md5((g * 8 + 6)::text)
    || md5((g * 8 + 7)::text), 'hex')
    FROM generate_series(1, 160000) g;
"""


@pytest.fixture(scope="session")
def pg(tmp_path_factory):
    """A running throwaway server with databases appdb, otherdb and bigdb owned by the test role."""
    info = postgres_lab.start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        for database in ("appdb", "otherdb", "bigdb"):
            postgres_lab.psql(info, "CREATE DATABASE %s;" % database)
        postgres_lab.psql(info, SAMPLE_SQL, "appdb")
        postgres_lab.psql(info, OTHER_SQL, "otherdb")
        postgres_lab.psql(info, BIG_SQL, "bigdb")
        yield info
    finally:
        postgres_lab.stop_postgres(info)


@pytest.fixture
def fresh_db(pg):
    """Factory of new empty databases, dropped after the test."""
    created = []

    def make(prefix="restored"):
        name = "%s_%d" % (prefix, len(created) + 1)
        postgres_lab.psql(pg, "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s;" % (name, name))
        created.append(name)
        return name
    yield make
    for name in created:
        postgres_lab.psql(pg, "DROP DATABASE IF EXISTS %s WITH (FORCE);" % name)


@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    """The lab's control plane (one cluster, az1, one kwok node) over HTTPS with the lab admin's certificate."""
    lab = kube_cluster.start_kube(tmp_path_factory.mktemp("kube-exec"), ("az1",))
    try:
        yield {"kubeconfig": str(lab.kubeconfig), "context": "az1", "logs": str(lab.workdir / "logs")}
    finally:
        lab.stop()


@pytest.fixture(scope="session")
def core_v1(kube):
    """CoreV1Api built with the collection's own kube helper."""
    from ansible_collections.kfuse.failover.plugins.module_utils import kube as kube_utils  # pylint: disable=import-outside-toplevel
    return k8s_client.CoreV1Api(kube_utils.new_api_client(kube["kubeconfig"], kube["context"]))


@pytest.fixture(scope="session")
def configdb_pods(core_v1, pg):
    """Pods in namespace kfuse: one with the full PG env, one without the password, one with no exec target."""
    namespace = kube_cluster.create_namespace(core_v1.api_client, "kfuse")
    base_env = {"PGHOST": pg["host"], "PGPORT": str(pg["port"]), "PGUSER": pg["user"],
                "PATH": "%s:%s" % (pg["bin_dir"], os.environ.get("PATH", "/usr/bin:/bin"))}
    pods = {"with_env": dict(base_env, PGPASSWORD=pg["password"]), "no_password": base_env, "plain": None}
    names = {}
    for key, env in pods.items():
        names[key] = kube_cluster.create_local_exec_pod(core_v1, namespace, "kfuse-configdb-%s" % key.replace("_", "-"),
                                                        env, labels={"app": "kfuse-configdb"})
    return {"namespace": namespace, **names}
