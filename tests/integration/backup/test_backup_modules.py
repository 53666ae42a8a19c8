# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup, backup_info and backup_restore run by ``ansible`` against moto S3, Azurite, fake-gcs-server, the
lab's Kubernetes control plane (with a real Helm release) and a throwaway PostgreSQL."""

import base64
import json
from pathlib import Path

import pytest
import yaml

import kube_cluster  # pylint: disable=import-error
import postgres_lab  # pylint: disable=import-error
from backup_support import PASSPHRASE, PROVIDERS, result_of  # pylint: disable=import-error

ZONE = "az1"
PREFIX = "kfuse-failover/backups/az1/"
SECRETS = {"secrets": [{"label_selector": "app.kubernetes.io/part-of=kfuse"}, {"name": "image-pull"}]}


def kube_args(kube, context="az1"):
    return {"kubeconfig": kube["kubeconfig"], "context": context}


def secret_value(core, namespace, name, key):
    return base64.b64decode(core.read_namespaced_secret(name, namespace).data[key]).decode()


def set_keys(bucket, set_id):
    return [key[len(PREFIX + set_id) + 1:] for key in bucket.keys() if key.startswith(PREFIX + set_id + "/")]


# -- the full round trip, once per provider -----------------------------------------------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
def test_round_trip_secrets_values_and_two_databases(provider, make_bucket, run_module, kube, pg):
    bucket = make_bucket(provider)
    sources = dict(SECRETS, helm_releases=[{"name": "kfuse"}], databases=[
        {"name": "configdb", "dsn": postgres_lab.dsn_for(pg, "configdb")},
        {"name": "orchestratordb", "dsn": postgres_lab.dsn_for(pg, "orchestratordb"), "exclude_tables": ["job_log"]}])
    if kube["helm_values"] is None:
        del sources["helm_releases"]
    made = result_of(run_module("backup", bucket.args(zone=ZONE, sources=sources, encryption_passphrase=PASSPHRASE,
                                                      **kube_args(kube))))
    assert made.get("failed") is not True, made.get("msg")
    assert made["changed"] is True and made["encrypted"] is True and made["verified"] is True
    stored = set_keys(bucket, made["set_id"])
    expected = {"secrets/kfuse/kfuse-pg.json.enc", "secrets/kfuse/kfuse-sso.json.enc", "secrets/kfuse/image-pull.json.enc",
                "postgres/configdb.dump.enc", "postgres/orchestratordb.dump.enc", "manifest.json", ".writer"}
    if kube["helm_values"] is not None:
        expected.add("helm/kfuse/values.yaml.enc")
    assert set(stored) == expected
    manifest = json.loads(bucket.read(PREFIX + made["set_id"] + "/manifest.json"))
    assert manifest["encryption"]["algorithm"] == "AES-256-GCM" and manifest["source"]["kube_context"] == "az1"
    assert all(b"pg-password-az1" not in bucket.read(PREFIX + made["set_id"] + "/" + key) for key in stored)

    info = result_of(run_module("backup_info", bucket.args(zone=ZONE, verify="latest", encryption_passphrase=PASSPHRASE)))
    assert info.get("failed") is not True, info.get("msg")
    assert info["complete"] == [made["set_id"]] and info["verification"]["ok"] and info["verification"]["full"]
    assert info["changed"] is False

    for database in ("configdb_restored", "orchestratordb_restored"):
        postgres_lab.psql(pg, "CREATE DATABASE %s;" % database)
    restore_args = bucket.args(zone=ZONE, namespace="standby", encryption_passphrase=PASSPHRASE,
                               dest=str(Path(kube["logs"]).parent / ("restore-" + provider)), databases=[
                                   {"name": "configdb", "target_database": "configdb_restored",
                                    "dsn": postgres_lab.dsn_for(pg, "configdb_restored")},
                                   {"name": "orchestratordb", "target_database": "orchestratordb_restored",
                                    "dsn": postgres_lab.dsn_for(pg, "orchestratordb_restored")}], **kube_args(kube, "az2"))
    restored = result_of(run_module("backup_restore", restore_args))
    assert restored.get("failed") is not True, restored.get("msg")
    assert sorted((s["name"], s["action"]) for s in restored["secrets"]) == [
        ("image-pull", "created"), ("kfuse-pg", "created"), ("kfuse-sso", "created")]
    az2 = kube["core"]["az2"]
    assert secret_value(az2, "standby", "kfuse-pg", "password") == "pg-password-az1"
    portable = az2.read_namespaced_secret("kfuse-pg", "standby")
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (portable.metadata.annotations or {})
    assert az2.read_namespaced_secret("image-pull", "standby").type == "kubernetes.io/dockerconfigjson"
    assert postgres_lab.psql(pg, "SELECT count(*) FROM streams;", "configdb_restored").strip() == "120"
    assert postgres_lab.psql(pg, "SELECT state FROM jobs ORDER BY id;", "orchestratordb_restored").split() == ["done", "running"]
    excluded = postgres_lab.psql(pg, "SELECT count(*) FROM pg_tables WHERE tablename = 'job_log';", "orchestratordb_restored")
    assert excluded.strip() == "0"
    if kube["helm_values"] is not None:
        values_path = [f["path"] for f in restored["files"] if f["kind"] == "helm_values"][0]
        with open(values_path, encoding="utf-8") as handle:
            assert yaml.safe_load(handle) == kube["helm_values"]

    # a second restore of secrets only changes nothing
    again = result_of(run_module("backup_restore", bucket.args(zone=ZONE, namespace="standby",
                                                               encryption_passphrase=PASSPHRASE, **kube_args(kube, "az2"))))
    assert again["changed"] is False and {s["action"] for s in again["secrets"]} == {"unchanged"}
    for database in ("configdb_restored", "orchestratordb_restored"):
        postgres_lab.psql(pg, "DROP DATABASE %s;" % database)
    for name in ("kfuse-pg", "kfuse-sso", "image-pull"):
        az2.delete_namespaced_secret(name, "standby")


# -- databases dumped and restored inside pods, through the Kubernetes exec API -------------------------------------

def configdb_pod(core, pg, name, env):
    """A configdb pod whose exec runs locally with ``env`` plus the server's address and the PostgreSQL tools on
    PATH, like the chart's container."""
    env = dict(env, PGHOST=pg["host"], PGPORT=str(pg["port"]), PGUSER=pg["user"],
               PATH="%s:/usr/bin:/bin" % pg["bin_dir"])
    return kube_cluster.create_local_exec_pod(core, "kfuse", name, env, labels={"app": "kfuse-configdb"})


def test_databases_dumped_and_restored_inside_pods(make_bucket, run_module, kube, pg):
    """The seed's configdb case: pg_dump runs in the source zone's pod (password from the container's env),
    pg_restore in the target zone's pod (password sent on stdin); nothing needs a route to the database."""
    bucket = make_bucket("s3")
    source_pod = configdb_pod(kube["core"]["az1"], pg, "kfuse-configdb-dump", {"POSTGRES_PASSWORD": pg["password"]})
    target_pod = configdb_pod(kube["core"]["az2"], pg, "kfuse-configdb-restore", {})
    try:
        made = result_of(run_module("backup", bucket.args(zone=ZONE, encrypt="never", sources={"databases": [
            {"name": "configdb", "pod": source_pod, "container": "postgresql", "password_env": "POSTGRES_PASSWORD",
             "exclude_tables": []}]}, **kube_args(kube))))
        assert made.get("failed") is not True, made.get("msg")
        assert made["verified"] is True
        assert set(set_keys(bucket, made["set_id"])) == {"postgres/configdb.dump", "manifest.json", ".writer"}
        dump = bucket.read(PREFIX + made["set_id"] + "/postgres/configdb.dump")
        assert dump.startswith(b"PGDMP"), "not a pg_dump custom-format archive"
        entry = made["manifest"]["objects"][0]
        assert entry["meta"]["via"] == "pod" and entry["meta"]["pod"] == "kfuse/" + source_pod

        postgres_lab.psql(pg, "CREATE DATABASE configdb_pod_restored;")
        restored = result_of(run_module("backup_restore", bucket.args(zone=ZONE, set_id=made["set_id"], databases=[
            {"name": "configdb", "target_database": "configdb_pod_restored", "pod": target_pod,
             "password": pg["password"]}], **kube_args(kube, "az2"))))
        assert restored.get("failed") is not True, restored.get("msg")
        assert restored["changed"] is True
        assert pg["password"] not in json.dumps(restored) and pg["password"] not in json.dumps(made)
        count = postgres_lab.psql(pg, "SELECT count(*) FROM streams;", "configdb_pod_restored")
        assert count.strip() == "120"
    finally:
        postgres_lab.psql(pg, "DROP DATABASE IF EXISTS configdb_pod_restored;")
        kube["core"]["az1"].delete_namespaced_pod(source_pod, "kfuse")
        kube["core"]["az2"].delete_namespaced_pod(target_pod, "kfuse")


# -- encryption off, wrong key, incomplete and corrupted sets -----------------------------------------------------

def test_unencrypted_set_stores_plain_objects_and_check_mode_writes_nothing(make_bucket, run_module, kube, tmp_path):
    bucket = make_bucket("s3")
    values = tmp_path / "values-az1.yaml"
    values.write_text("global:\n  zone: az1\n")
    args = bucket.args(zone=ZONE, sources={"files": [{"path": str(values)}]}, encrypt="never", **kube_args(kube))
    planned = result_of(run_module("backup", args, check=True))
    assert planned["changed"] is True and [o["key"] for o in planned["objects"]] == ["files/values-az1.yaml"]
    assert bucket.keys() == []
    made = result_of(run_module("backup", args))
    assert made["encrypted"] is False
    assert bucket.read(PREFIX + made["set_id"] + "/files/values-az1.yaml") == b"global:\n  zone: az1\n"


def test_wrong_key_restores_nothing_and_incomplete_sets_are_ignored(make_bucket, run_module, kube):
    bucket = make_bucket("gcs")
    made = result_of(run_module("backup", bucket.args(zone=ZONE, sources=SECRETS, encryption_passphrase=PASSPHRASE,
                                                      set_id="20260101T000000Z", **kube_args(kube))))
    assert made["set_id"] == "20260101T000000Z", made.get("msg")
    # a newer set whose writer died before the manifest
    bucket.write(PREFIX + "20260102T000000Z/.writer", b"{}")
    bucket.write(PREFIX + "20260102T000000Z/secrets/kfuse/kfuse-pg.json.enc", b"partial")

    info = result_of(run_module("backup_info", bucket.args(zone=ZONE, verify="latest", encryption_passphrase=PASSPHRASE)))
    assert info["incomplete"] == ["20260102T000000Z"] and info["complete"] == ["20260101T000000Z"]
    assert info["verification"]["set_id"] == "20260101T000000Z" and info["verification"]["ok"]

    wrong = result_of(run_module("backup_restore", bucket.args(zone=ZONE, namespace="standby",
                                                               encryption_passphrase="not the passphrase",
                                                               **kube_args(kube, "az2"))))
    assert wrong["failed"] is True and "wrong passphrase" in wrong["msg"]
    assert kube["core"]["az2"].list_namespaced_secret("standby").items == []

    incomplete = result_of(run_module("backup_restore", bucket.args(zone=ZONE, set_id="20260102T000000Z",
                                                                    encryption_passphrase=PASSPHRASE, **kube_args(kube, "az2"))))
    assert incomplete["failed"] is True and "is incomplete" in incomplete["msg"]
    assert kube["core"]["az2"].list_namespaced_secret("standby").items == []


@pytest.mark.parametrize("provider", ["gcs", "s3"])
def test_corrupted_object_fails_verify_naming_it(provider, make_bucket, run_module, kube):
    bucket = make_bucket(provider)
    made = result_of(run_module("backup", bucket.args(zone=ZONE, sources=SECRETS, encryption_passphrase=PASSPHRASE,
                                                      **kube_args(kube))))
    key = PREFIX + made["set_id"] + "/secrets/kfuse/kfuse-sso.json.enc"
    data = bytearray(bucket.read(key))
    data[len(data) // 2] ^= 1
    bucket.write(key, bytes(data))
    info = result_of(run_module("backup_info", bucket.args(zone=ZONE, verify=made["set_id"],
                                                           encryption_passphrase=PASSPHRASE)))
    assert info["failed"] is True and "secrets/kfuse/kfuse-sso.json.enc" in info["msg"]
    assert info["verification"]["failed"] == ["secrets/kfuse/kfuse-sso.json.enc"]


# -- retention, two writers, freshness ----------------------------------------------------------------------------

def test_retention_keeps_the_right_sets_and_a_set_id_is_written_once(make_bucket, run_tasks, tmp_path):
    bucket = make_bucket("s3")
    path = tmp_path / "f.txt"
    path.write_text("x")
    args = bucket.args(zone=ZONE, sources={"files": [{"path": str(path)}]}, encrypt="never")
    tasks = [{"name": set_id, "kfuse.failover.backup": dict(args, set_id=set_id)}
             for set_id in ("20250101T000000Z", "20250102T000000Z", "20250103T000000Z")]
    tasks.append({"name": "twice", "kfuse.failover.backup": dict(args, set_id="20250103T000000Z"), "ignore_errors": True})
    tasks.append({"name": "latest", "kfuse.failover.backup": dict(args, keep_last=2)})
    tasks.append({"name": "info", "kfuse.failover.backup_info": bucket.args(zone=ZONE, manifests=False)})
    run = run_tasks(tasks)
    results = {name: result for name, _host, result in run.results()}
    assert run.rc == 0, run.stdout[-3000:]
    assert results["twice"]["failed"] is True and "already" in results["twice"]["msg"]
    latest = results["latest"]
    assert sorted(latest["pruned"]) == ["20250101T000000Z", "20250102T000000Z"]
    assert results["info"]["complete"] == ["20250103T000000Z", latest["set_id"]]
    assert not [key for key in bucket.keys() if "/20250101T000000Z/" in key or "/20250102T000000Z/" in key]


def test_az_service_backup_freshness(make_bucket, run_module):
    bucket = make_bucket("s3")
    bucket.write("lab-az1/postgres/configdb/20260101T000000Z.dump", b"dump")
    fresh = result_of(run_module("backup_info", bucket.args(az_backups={"zone": "lab-az1", "max_age": "1h"})))
    assert fresh.get("failed") is not True, fresh.get("msg")
    assert fresh["az_backups"]["newest_key"] == "lab-az1/postgres/configdb/20260101T000000Z.dump"
    assert fresh["az_backups"]["stale"] is False and fresh["latest"] is None
    missing = result_of(run_module("backup_info", bucket.args(az_backups={"zone": "lab-az2", "max_age": "1h"})))
    assert missing["failed"] is True and "lab-az2/postgres/" in missing["msg"]


# -- secrets stay secret; bad input writes nothing ----------------------------------------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
def test_credentials_never_appear_at_vvv(provider, make_bucket, run_module, kube, pg):
    bucket = make_bucket(provider)
    runs = []
    if provider == "s3":
        dsn = postgres_lab.dsn_for(pg, "configdb")
        sources = dict(SECRETS, databases=[{"name": "configdb", "dsn": dsn}])
        runs.append(run_module("backup", bucket.args(zone=ZONE, sources=sources, encryption_passphrase=PASSPHRASE,
                                                     **kube_args(kube)), verbosity=3))
        assert runs[0].rc == 0, runs[0].stdout[-3000:]
    # a failure after the credentials were used (no set to restore) must not show them either
    runs.append(run_module("backup_restore", bucket.args(zone="az9", encryption_passphrase=PASSPHRASE,
                                                         **kube_args(kube, "az2")), verbosity=3))
    assert runs[-1].rc != 0 and "no complete backup set" in runs[-1].stdout
    for run in runs:
        output = run.stdout + run.stderr
        for secret in bucket.secret_values + [PASSPHRASE, pg["password"], "pg-password-az1"]:
            assert secret not in output


def test_bad_input_fails_before_any_write(make_bucket, run_tasks, kube):
    bucket = make_bucket("s3")
    args = bucket.args(zone=ZONE, sources=SECRETS, encryption_passphrase=PASSPHRASE, **kube_args(kube))
    cases = [
        ({"cloud_storage": {"type": "ftp"}}, "cloud_storage.type must be one of s3, gcs, azure"),
        ({"cloud_storage": {"type": "s3", "s3": {"region": "us-east-1"}}}, "cloud_storage.s3.bucket is required"),
        ({"storage_ambient": True}, "storage_ambient"),
        ({"encryption_passphrase": None}, "encryption_passphrase"),
        ({"sources": {"databases": [{"name": "configdb"}]}}, "needs exactly one of dsn or pod"),
        # The bad-input classes of issue 7, section 3: each named, nothing written.
        ({"prefix": "backups/../elsewhere"}, "prefix:"),
        ({"zone": "   "}, "zone:"),
        ({"encryption_passphrase": "x"}, "encryption_passphrase must be at least 12 characters"),
        ({"sources": {"secrets": [{"name": "Not_A_Secret_Name"}]}}, "sources.secrets[0].name must be a Kubernetes"),
        ({"sources": {"secrets": [{"label_selector": "app = = x"}]}}, "sources.secrets[0].label_selector"),
        ({"sources": {"databases": [{"name": "configdb", "dsn": "host=h password='open"}]}},
         "sources.databases[0].dsn: invalid connection string"),
        ({"sources": {"databases": [{"name": "configdb", "pod": "db-0", "password_env": "A B"}]}},
         "sources.databases[0].password_env must be an environment variable name"),
        ({"sources": {"databases": [{"name": "configdb", "pod": "Bad Pod"}]}}, "sources.databases[0].pod must be"),
    ]
    tasks = []
    for position, (change, _message) in enumerate(cases):
        case = {key: value for key, value in dict(args, **change).items() if value is not None}
        tasks.append({"name": "case %d" % position, "kfuse.failover.backup": case, "ignore_errors": True})
    run = run_tasks(tasks)
    results = [result for _name, _host, result in run.results()]
    assert len(results) == len(cases), run.stdout[-3000:]
    for (_change, message), result in zip(cases, results):
        assert result["failed"] is True and message in result["msg"]
    assert bucket.keys() == []
