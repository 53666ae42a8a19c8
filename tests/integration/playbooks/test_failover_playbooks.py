# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""failover.yml, failback.yml, drill.yml and backup.yml end to end on a fresh lab: the vendor runbook's whole
procedure (secrets, node group, Helm release, az-service, ingress) under the journal's run lock, checked on the
servers themselves. After every run: never both zones consuming, never traffic on a zone that is not active.
The per-zone lab's failback runs through ansible-runner, as AWX runs a job."""

import json
import os
import signal
import time

from e2e_support import changed_tasks, wait_for
from runner_support import check_job, run_job

FAILOVER = {"kfuse_source": "az1", "kfuse_target": "az2", "kfuse_poll_interval": 1}
SECRETS = ("kfuse-image-pull-credentials", "cloud-storage-secret", "kfuse-pg-credentials")


def assert_safe(lab, active):
    """The invariants: exactly `active` consumes, and the ingress controllers and the DNS record serve it alone."""
    consuming = [zone for zone in ("az1", "az2") if lab.az_status(zone)["consuming"]]
    assert consuming == [active], "zones consuming: %s" % consuming
    assert lab.az_status(active)["state"] == "active"
    assert lab.serving_ingress() == [active]
    assert lab.dns_target().startswith("ingress-" + active + ".")


def report_of(report_dir, operation):
    found = sorted(name for name in os.listdir(report_dir) if name.endswith("-%s.json" % operation))
    assert found, "no %s report in %s: %s" % (operation, report_dir, os.listdir(report_dir))
    with open(os.path.join(report_dir, found[-1]), encoding="utf-8") as handle:
        return json.load(handle)


def test_failover_then_failback(topology_lab, tmp_path):
    lab = topology_lab
    # the per-zone lab also re-runs the failover and runs the failback through ansible-runner: neither depends on
    # the topology
    per_zone = lab.info["topology"] == "per-zone"
    reports = tmp_path / "reports"
    before = lab.snapshot()
    source_segments = lab.segments("lab-az1")
    assert source_segments, "the active zone should have written segments before the failover"

    dry = lab.run("failover.yml", tmp_path, FAILOVER, check=True)
    assert dry.rc == 0, dry.stdout[-4000:] + dry.stderr[-2000:]
    assert lab.snapshot() == before, "check mode changed the lab"
    assert len(changed_tasks(dry, "az2")) >= 4, "check mode should say what a failover would change"

    run = lab.run("failover.yml", tmp_path, FAILOVER, report_dir=reports)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert_safe(lab, "az2")
    assert lab.az_status("az1")["state"] == "paused"
    assert lab.az_status("az2")["activation"]["sourceZone"] == "lab-az1"
    assert lab.az_status("az2")["alertsSilenced"] is False
    # every segment the source had before the failover now also lives under the target's prefix
    assert source_segments <= lab.segments("lab-az2")
    assert len(lab.ready_nodes("az2")) == 3 and lab.node_group_size("az2") == 3
    assert lab.kfuse_version("az2") == "3.4.2"
    state = lab.journal("state.json")
    assert state["active_zone"] == "az2" and state["last_outcome"] == "succeeded"
    assert lab.journal("lock.json")["held"] is False
    record = lab.journal("runs/%s.json" % state["last_run_id"])
    assert [step["name"] for step in record["steps"]] == \
        ["secrets", "backup", "node_group", "kloudfuse", "pause", "activate", "ingress", "resume"]
    assert record["steps"][1]["status"] == "done", record["steps"][1]  # the source's config backup

    report = report_of(reports, "failover")
    assert report["outcome"] == "succeeded"
    steps = {step["name"] for step in report["steps"]}
    assert {"Preflight", "Secrets", "Node group", "Kloudfuse", "Pause", "Activate", "Ingress", "Resume"} <= steps
    assert 0 < report["rto"]["rehydration_seconds"] < report["rto"]["traffic_seconds"] < report["duration"]
    # the node group was scaled in the background while the secrets were copied and the release installed
    assert report["parallel"], "no steps overlapped"
    assert "rehydrating" in run.stderr

    if per_zone:
        again = lab.run("failover.yml", tmp_path, FAILOVER)
        assert again.rc == 0, again.stdout[-4000:]
        # a second run changes nothing in the zones: the journal records the (empty) run and a fresh config backup
        # set of the source is written, by design
        assert [name for name in changed_tasks(again)
                if "journal" not in name.lower() and not name.startswith("Backup |")] == []

    failback = {"kfuse_poll_interval": 1, "kfuse_cold_standby": True}
    if per_zone:
        # as AWX runs a job: through ansible-runner, its events and artifacts checked (runner_support.py)
        tokens = {zone: lab.info["azservice"][zone]["token"] for zone in ("az1", "az2")}
        check_job(run_job(lab, tmp_path, "failback.yml", failback, reports), "az2", "az1", reports, "failback", tokens)
    else:
        back = lab.run("failback.yml", tmp_path, failback, report_dir=reports)
        assert back.rc == 0, back.stdout[-4000:] + back.stderr[-2000:]
    assert_safe(lab, "az1")
    assert lab.az_status("az1")["activation"]["sourceZone"] == "lab-az2"
    assert lab.az_status("az2")["state"] == "paused"
    assert lab.node_group_size("az2") == 0, "cold standby: the old source's node group goes to zero"
    wait_for(lambda: not lab.ready_nodes("az2"), "az2's nodes to go", timeout=120)
    assert lab.journal("state.json")["active_zone"] == "az1"
    assert report_of(reports, "failback")["outcome"] == "succeeded"


def test_backup_drill_then_emergency_failover(per_zone_lab, tmp_path):
    lab = per_zone_lab

    backup = lab.run("backup.yml", tmp_path, {"kfuse_zone": "az1"})
    assert backup.rc == 0, backup.stdout[-4000:]
    sets = [key for key in lab.bucket_keys() if key.startswith("kfuse-failover/backups/lab-az1/")
            and key.endswith("manifest.json")]
    assert sets, "backup.yml wrote no complete set: %s" % sorted(lab.bucket_keys())[:20]

    reports = tmp_path / "reports"
    drill = lab.run("drill.yml", tmp_path, FAILOVER, report_dir=reports)
    assert drill.rc == 0, drill.stdout[-4000:] + drill.stderr[-2000:]
    # the drill touched neither the source nor the traffic, and cleaned up after itself
    assert_safe(lab, "az1")
    assert lab.az_status("az2")["state"] == "paused"
    assert lab.kfuse_version("az2") is None
    assert lab.node_group_size("az2") == 0
    assert lab.journal("state.json")["history"][0]["operation"] == "drill"
    assert lab.journal("state.json")["active_zone"] in (None, "az1")
    drilled = report_of(reports, "drill")
    assert drilled["outcome"] == "succeeded" and drilled["rto"]["rehydration_seconds"] > 0
    assert drilled["rpo"]["seconds"] is not None

    # a standby that never got the secrets (the drill left its copies: remove them), then zone 1 is gone: its
    # Kubernetes API and its az-service; the emergency failover must take the secrets from the backup set
    source_secrets = {name: lab.secret_data("az1", name) for name in SECRETS}
    for name in SECRETS:
        lab.delete_secret("az2", name)
    lab.stop_piece("kube-apiserver-" + lab.info["kube"]["az1"]["context"])
    lab.az_faults("az1", unreachable=True)

    planned = lab.run("failover.yml", tmp_path, FAILOVER, timeout=600)
    assert planned.rc != 0, "a planned failover must stop when the source cannot be reached"
    assert lab.az_status("az2")["state"] == "paused", "the planned run changed the target before stopping"

    emergency = lab.run("failover.yml", tmp_path, dict(FAILOVER, kfuse_emergency=True), report_dir=reports)
    assert emergency.rc == 0, emergency.stdout[-4000:] + emergency.stderr[-2000:]
    target = lab.az_status("az2")
    assert target["state"] == "active" and target["consuming"] is True
    assert lab.dns_target().startswith("ingress-az2.")
    restored = [result for name, _host, result in emergency.results("az2")
                if "ansible_facts" in result and "secrets_result" in result["ansible_facts"]]
    assert restored and sorted(restored[-1]["ansible_facts"]["secrets_result"]["restored_from_backup"]) == \
        sorted(SECRETS), restored[-1:]
    assert {name: lab.secret_data("az2", name) for name in SECRETS} == source_secrets
    assert lab.journal("state.json")["active_zone"] == "az2"
    assert lab.journal("runs/%s.json" % lab.journal("state.json")["last_run_id"])["mode"] == "emergency"


def test_bad_request_and_a_second_run_are_refused_a_stale_lock_broken_only_when_asked_a_killed_run_continues(per_zone_lab, tmp_path):
    lab = per_zone_lab
    group_vars = lab.inventory_vars()
    journal = {"cloud_storage": group_vars["kfuse_cloud_storage"],
               "storage_credentials": group_vars["kfuse_storage_credentials"]}
    holder = lab.run_module("kfuse.failover.journal", dict(journal, action="begin", operation="upgrade",
                                                           source="az1", target="az2", holder="ops@bastion"), tmp_path)
    assert holder.rc == 0, holder.stdout[-3000:]
    held = holder.result()["run_id"]
    before = lab.snapshot()

    # a bad request fails before any change, naming the variable (on this lab: one lab start fewer)
    for extra, expected in (({"kfuse_source": "az1", "kfuse_target": "az1"}, "must be two different zones"),
                            ({"kfuse_source": "az1", "kfuse_target": "az9"}, "kfuse_target: az9 is not a host"),
                            (dict(FAILOVER, kfuse_batch_size=0), "kfuse_batch_size: 0 is not a number from 1"),
                            (dict(FAILOVER, kfuse_ingress_method="bgp"), "kfuse_ingress_method: bgp"),
                            (dict(FAILOVER, kfuse_emergency="maybe"), "kfuse_emergency: maybe is not a boolean")):
        run = lab.run("failover.yml", tmp_path, extra)
        assert run.rc != 0
        assert expected in run.stdout, run.stdout[-2000:]
    assert lab.snapshot() == before, "a bad request changed something"

    refused = lab.run("failover.yml", tmp_path, FAILOVER)
    assert refused.rc != 0
    assert held in refused.stdout and "ops@bastion" in refused.stdout
    assert lab.snapshot() == before, "a refused run changed something"

    not_stale = lab.run_module("kfuse.failover.journal", dict(journal, action="break_lock", expected_run_id=held), tmp_path)
    assert not_stale.rc != 0 and "stale" in not_stale.result()["msg"]
    broken = lab.run_module("kfuse.failover.journal", dict(journal, action="break_lock", expected_run_id=held,
                                                           stale_after=0), tmp_path)
    assert broken.rc == 0, broken.stdout[-3000:]

    # SIGKILL the failover once the target's node group is up; the re-run continues from there
    process = lab.start("failover.yml", tmp_path, FAILOVER)
    try:
        wait_for(lambda: (lab.journal("lock.json") or {}).get("step") in ("node_group", "kloudfuse"),
                 "the run to checkpoint its node group", timeout=300)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    killed = lab.journal("lock.json")
    assert killed["held"] is True
    time.sleep(1)
    resumed = lab.run("failover.yml", tmp_path, FAILOVER)
    assert resumed.rc == 0, resumed.stdout[-4000:]
    record = lab.journal("runs/%s.json" % killed["run_id"])
    assert record["outcome"] == "succeeded" and record["resumes"], record
    assert_safe(lab, "az2")
    # the steps done before the kill were not done again
    skipped = [name for name, _host, result in resumed.results("az2") if result.get("skipped")]
    assert any(name.startswith("Secrets | Copy") for name in skipped), skipped

    # readiness of a failback az2 -> az1: ready, with an RTO predicted from the journal's step times ...
    back = {"kfuse_source": "az2", "kfuse_target": "az1"}
    ready = lab.run("readiness.yml", tmp_path, back)
    assert ready.rc == 0, ready.stdout[-4000:]
    prediction = [result["ansible_facts"]["kfuse_rto_prediction"] for name, _host, result in ready.results("az1")
                  if "kfuse_rto_prediction" in result.get("ansible_facts", {})][-1]
    assert prediction["traffic_seconds"] > 0 and prediction["based_on"] == [killed["run_id"]], prediction
    assert {"node_group", "kloudfuse", "activate", "ingress"} <= set(prediction["steps"]), prediction
    # ... and not ready once az1's az-service stops answering; readiness changes nothing either way
    broken_before = lab.snapshot()
    lab.az_faults("az1", unreachable=True)
    broken = lab.run("readiness.yml", tmp_path, back)
    assert broken.rc != 0 and "not ready to take over" in broken.stdout, broken.stdout[-3000:]
    lab.az_faults("az1", unreachable=False)
    assert lab.snapshot() == broken_before
