# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' harder paths on a real lab (per-zone): secrets restored from a backup set in an emergency, secrets that
differ left alone unless forced, given values in the wrong format refused before any write; a kfuse release stuck in
pending-upgrade stopped and then recovered on request; a release lock held by another run; the lock and pending
revision a killed attempt of the same run left, taken over."""

import base64
import json
import os
import sys

import pytest
import yaml
from kubernetes import client as kube_client
from kubernetes import config as kube_config

from ansible_run import REPO, VENV_BIN, run_ansible
from helm_records import leave_pending_upgrade, release_statuses

LAB_DIR = os.path.join(REPO, "tests", "lab")
RUNBOOK_SECRETS = ("kfuse-image-pull-credentials", "cloud-storage-secret", "kfuse-pg-credentials")
PASSPHRASE = "lab passphrase for the roles test"


@pytest.fixture(scope="module")
def lab_info(tmp_path_factory):
    if LAB_DIR not in sys.path:
        sys.path.insert(0, LAB_DIR)
    import labctl  # pylint: disable=import-outside-toplevel

    with labctl.running_lab(str(tmp_path_factory.mktemp("roles-edges"))) as info:
        os.environ["HELM_REGISTRY_CONFIG"] = info["paths"]["helm_registry_config"]
        yield info


def core(info, zone):
    return kube_client.CoreV1Api(kube_config.new_client_from_config(
        config_file=info["paths"]["kubeconfig"], context=info["kube"][zone]["context"]))


def ns(info, zone):
    return info["kube"][zone]["namespace"]


def play(info, tmp_path, host, tasks, extra_vars=None, check=False, verbosity=0):
    """Run a one-play playbook of ``tasks`` on ``host`` of the lab inventory."""
    path = tmp_path / ("play-%d.yml" % len(list(tmp_path.glob("play-*.yml"))))
    path.write_text(yaml.safe_dump([{"name": "Roles edge case", "hosts": host, "gather_facts": False,
                                     "tasks": tasks}], sort_keys=False))
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", info["paths"]["inventory"], str(path)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return run_ansible(cmd, tmp_path, timeout=600, check=check, verbosity=verbosity)


def role(name, **role_vars):
    return {"name": "Apply " + name, "ansible.builtin.include_role": {"name": "kfuse.failover." + name},
            "vars": role_vars}


def failure(run):
    """The message of the failed task."""
    failed = [result for _name, _host, result in run.results() if result.get("failed")]
    return failed[-1].get("msg", "") if failed else ""


def facts(run, key):
    found = [result["ansible_facts"][key] for _name, _host, result in run.results()
             if key in result.get("ansible_facts", {})]
    return found[-1]


def test_emergency_secrets_come_from_the_newest_backup_set(lab_info, tmp_path):
    backup = {"name": "Back up az1's secrets", "kfuse.failover.backup": {
        "zone": "lab-az1", "cloud_storage": "{{ kfuse_cloud_storage }}",
        "storage_credentials": "{{ kfuse_storage_credentials }}", "kubeconfig": "{{ kfuse_kube.kubeconfig }}",
        "context": "{{ kfuse_kube.context }}", "namespace": "{{ kfuse_kube.namespace }}",
        "sources": {"secrets": [{"label_selector": "app.kubernetes.io/part-of=kfuse"}]},
        "encryption_passphrase": PASSPHRASE}}
    made = play(lab_info, tmp_path, "az1", [backup])
    assert made.rc == 0, failure(made) or made.stdout[-2000:]

    run = play(lab_info, tmp_path, "az2", [
        role("secrets", secrets_source="az1", secrets_emergency=True, secrets_backup_passphrase=PASSPHRASE)])
    assert run.rc == 0, failure(run) or run.stdout[-3000:]
    result = facts(run, "secrets_result")
    assert sorted(result["restored_from_backup"]) == sorted(RUNBOOK_SECRETS)
    assert result["source"] == "" and sorted(result["missing"]) == ["kfuse-auth-google", "kfuse-auth-users"]
    for name in RUNBOOK_SECRETS:
        assert core(lab_info, "az2").read_namespaced_secret(name, ns(lab_info, "az2")).data == \
            core(lab_info, "az1").read_namespaced_secret(name, ns(lab_info, "az1")).data
    assert PASSPHRASE not in run.stdout and "lab-secret" not in run.stdout


def test_differing_secret_is_left_alone_unless_forced(lab_info, tmp_path):
    target, namespace = core(lab_info, "az2"), ns(lab_info, "az2")
    value = {"string_data": {"accessKey": "other", "secretKey": "other-secret-value"}}
    left = play(lab_info, tmp_path, "az2", [
        role("secrets", secrets_source="az1", secrets_values={"cloud-storage-secret": value})])
    assert left.rc == 0, failure(left)
    assert facts(left, "secrets_result")["kept"] == ["cloud-storage-secret"]
    assert base64.b64decode(target.read_namespaced_secret("cloud-storage-secret", namespace).data["accessKey"]) != b"other"

    forced = play(lab_info, tmp_path, "az2", [
        role("secrets", secrets_source="az1", secrets_force=True, secrets_values={"cloud-storage-secret": value})])
    assert forced.rc == 0, failure(forced)
    assert facts(forced, "secrets_result")["updated"] == ["cloud-storage-secret"]
    assert base64.b64decode(target.read_namespaced_secret("cloud-storage-secret", namespace).data["accessKey"]) == b"other"
    assert "other-secret-value" not in forced.stdout


def test_given_value_in_the_wrong_format_changes_nothing(lab_info, tmp_path):
    target, namespace = core(lab_info, "az2"), ns(lab_info, "az2")
    before = sorted(s.metadata.name for s in target.list_namespaced_secret(namespace).items)
    run = play(lab_info, tmp_path, "az2", [role("secrets", secrets_source="az1", secrets_extra=[
        {"name": "kfuse-tls", "format": "tls"}], secrets_values={"kfuse-tls": {"string_data": {"cert": "x"}}})])
    assert run.rc != 0
    assert "kfuse-tls" in failure(run) and "kubernetes.io/tls" in failure(run)
    assert sorted(s.metadata.name for s in target.list_namespaced_secret(namespace).items) == before


def test_pending_release_is_reported_then_recovered_on_request(lab_info, tmp_path):
    revision = leave_pending_upgrade(core(lab_info, "az1"), ns(lab_info, "az1"))
    stuck = play(lab_info, tmp_path, "az1", [role("kloudfuse", kloudfuse_chart_version="3.4.3",
                                                  kloudfuse_poll_interval=1, kloudfuse_wait_timeout=120)])
    assert stuck.rc != 0
    message = failure(stuck)
    assert "pending-upgrade" in message and "kloudfuse_recover_pending=true" in message
    assert "sh.helm.release.v1.kfuse.v%d" % revision in message

    recovered = play(lab_info, tmp_path, "az1", [role("kloudfuse", kloudfuse_chart_version="3.4.3",
                                                      kloudfuse_recover_pending=True, kloudfuse_poll_interval=1,
                                                      kloudfuse_wait_timeout=120)])
    assert recovered.rc == 0, failure(recovered) or recovered.stdout[-3000:]
    assert facts(recovered, "kloudfuse_result")["action"] == "upgraded"
    api = core(lab_info, "az1")
    assert api.read_namespaced_config_map("kfuse-version", ns(lab_info, "az1")).data["version"] == "3.4.3"
    statuses = release_statuses(api, ns(lab_info, "az1"))
    assert not any(status.startswith("pending") for status in statuses), statuses


def test_release_lock_of_another_run_stops_the_role(lab_info, tmp_path):
    api, namespace = core(lab_info, "az1"), ns(lab_info, "az1")

    def revisions():
        return sorted(s.metadata.name for s in api.list_namespaced_secret(
            namespace, label_selector="owner=helm,name=kfuse").items)

    before = revisions()
    api.create_namespaced_config_map(namespace, {"metadata": {"name": "kfuse-upgrade-lock-kfuse"},
                                                 "data": {"holder": "ci-job-42", "since": "2026-12-02T03:00:00Z"}})
    held = play(lab_info, tmp_path, "az1", [role("kloudfuse", kloudfuse_chart_version="3.4.3",
                                                 kloudfuse_values={"global": {"numNodes": 2}})])
    assert held.rc != 0
    assert "ci-job-42" in failure(held) and "2026-12-02T03:00:00Z" in failure(held)
    assert revisions() == before, "helm ran although another run held the lock"

    broken = play(lab_info, tmp_path, "az1", [role("kloudfuse", kloudfuse_chart_version="3.4.3", kloudfuse_break_lock=True,
                                                   kloudfuse_values={"global": {"numNodes": 2}},
                                                   kloudfuse_poll_interval=1, kloudfuse_wait_timeout=120)])
    assert broken.rc == 0, failure(broken)
    names = {c.metadata.name for c in api.list_namespaced_config_map(namespace).items}
    assert "kfuse-upgrade-lock-kfuse" not in names
    assert len(revisions()) == len(before) + 1


def test_lock_and_pending_revision_left_by_this_run_are_taken_over(lab_info, tmp_path):
    """A re-run of a run killed mid-upgrade (same kloudfuse_run_id) takes its lock over and recovers the pending
    revision by itself; a lock naming another run id still stops the role."""
    api, namespace = core(lab_info, "az1"), ns(lab_info, "az1")
    run_id = "20261203T030000Z-failover-killed"
    api.create_namespaced_config_map(namespace, {"metadata": {"name": "kfuse-upgrade-lock-kfuse"}, "data": {
        "holder": "ops via Ansible for az1", "since": "2026-12-03T03:00:00Z", "run_id": run_id}})
    revision = leave_pending_upgrade(api, namespace)

    other = play(lab_info, tmp_path, "az1", [role("kloudfuse", kloudfuse_chart_version="3.4.3",
                                                  kloudfuse_run_id="20261203T040000Z-failover-other")])
    assert other.rc != 0
    assert "ops via Ansible for az1\" (run %s)" % run_id in failure(other) and "kloudfuse_break_lock" in failure(other)
    assert "pending-upgrade" in release_statuses(api, namespace)

    rerun = play(lab_info, tmp_path, "az1", [role("kloudfuse", kloudfuse_chart_version="3.4.3", kloudfuse_run_id=run_id,
                                                  kloudfuse_poll_interval=1, kloudfuse_wait_timeout=120)])
    assert rerun.rc == 0, failure(rerun) or rerun.stdout[-3000:]
    assert facts(rerun, "kloudfuse_result")["action"] == "upgraded"
    forgotten = [result for name, _host, result in rerun.results() if "Forget the pending revision" in name]
    assert forgotten and forgotten[0].get("changed"), "the pending revision v%d was not deleted" % revision
    assert not any(status.startswith("pending") for status in release_statuses(api, namespace))
    assert "kfuse-upgrade-lock-kfuse" not in {c.metadata.name for c in api.list_namespaced_config_map(namespace).items}


def test_secret_data_never_reaches_the_output_even_at_vvvv(lab_info, tmp_path):
    source, namespace = core(lab_info, "az1"), ns(lab_info, "az1")
    values = []
    for name in RUNBOOK_SECRETS:
        for raw in source.read_namespaced_secret(name, namespace).data.values():
            values += [raw, base64.b64decode(raw).decode()]
    given = "given-by-vault-7f3a9c"
    run = play(lab_info, tmp_path, "az2", [
        role("secrets", secrets_source="az1", secrets_force=True,
             secrets_extra=[{"name": "kfuse-extra", "required": False}],
             secrets_values={"kfuse-extra": {"string_data": {"token": given}}})], verbosity=4)
    assert run.rc == 0, run.stdout[-3000:]
    output = run.stdout + run.stderr
    assert "kfuse-extra" in output
    leaked = [value for value in values + [given] if len(value) > 3 and value in output]
    assert not leaked, "secret data in the output at -vvvv: %d values" % len(leaked)
