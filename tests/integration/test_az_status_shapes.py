# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The az modules against the simulator answering /status in other shapes: understood, or refused fast."""

import json
import time

import pytest


def sim_status(lab, zone):
    """The simulator's state from its control endpoint (its /status may be in another shape)."""
    return lab.lab_state(zone)["status"]


@pytest.mark.parametrize("shape", ["text", "camel_nested"])
def test_pause_activate_status_resume_in_each_shape(fresh_lab, run_module, shape):
    lab = fresh_lab
    for zone in ("az1", "az2"):
        lab.faults(zone, status_shape=shape)

    pause = run_module("az1", "kfuse.failover.az_pause", dict(lab.url_args("az1"), poll_interval=0.2))
    assert pause.rc == 0, pause.stdout[-3000:]
    assert pause.result("az1")["status"]["state"] == "paused"
    assert sim_status(lab, "az1")["state"] == "paused"

    activate = run_module("az2", "kfuse.failover.az_activate",
                          dict(lab.url_args("az2"), zone="lab-az1", batch_size=20, poll_interval=0.2))
    assert activate.rc == 0, activate.stdout[-3000:]
    result = activate.result("az2")
    assert result["changed"] is True and result["status"]["state"] == "active"
    assert result["status"]["source_zone"] == "lab-az1"
    assert any(sample.get("total") for sample in result["progress"]), result["progress"]

    status = run_module("az2", "kfuse.failover.az_status", lab.url_args("az2"))
    assert status.rc == 0, status.stdout[-3000:]
    read = status.result("az2")["status"]
    assert read["understood"] is True and read["state"] == "active" and read["alerts_silenced"] is True

    resume = run_module("az2", "kfuse.failover.az_resume", dict(lab.url_args("az2"), poll_interval=0.2))
    assert resume.rc == 0, resume.stdout[-3000:]
    assert resume.result("az2")["changed"] is True
    assert sim_status(lab, "az2")["alertsSilenced"] is False


def test_unreadable_status_fails_fast_with_the_body(fresh_lab, run_module):
    lab = fresh_lab
    lab.faults("az2", status_shape="unreadable")
    started = time.monotonic()
    run = run_module("az2", "kfuse.failover.az_status",
                     dict(lab.url_args("az2"), wait_for="active", wait_timeout=600, poll_interval=0.2))
    elapsed = time.monotonic() - started
    assert run.rc != 0
    result = run.result("az2")
    assert "could not be understood in 3 consecutive reads" in result["msg"] and "status_map" in result["msg"]
    assert "Maintenance" in result["msg"] and result["timed_out"] is False
    assert elapsed < 60, elapsed  # well under the 600 s timeout


def test_pause_refused_with_500_by_the_flush_check_names_force(fresh_lab, run_module):
    lab = fresh_lab
    lab.faults("az1", flush_check_fails=True, pause_refusal_status=500)
    refused = run_module("az1", "kfuse.failover.az_pause", lab.url_args("az1"))
    assert refused.rc != 0
    result = refused.result("az1")
    assert result["status"] == 500 and "force=true" in result["msg"]
    assert "Kafka flush check failed" in result["msg"]  # the service's own words
    assert sim_status(lab, "az1")["state"] == "active"


def test_no_secret_in_any_output_at_vvvv(fresh_lab, run_module, run_playbook, tmp_path):
    lab = fresh_lab
    token = lab.az("az2")["token"]
    with_credentials = lab.az("az2")["url"].replace("://", "://operator:Url-Passw0rd-7f3a@")
    # As operators write it: values come from variables (inventory, vault, -e), not literally in the task, since
    # Ansible's own error display quotes a failed task's source (an ad-hoc task's literal arguments included).
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({"kfuse_test_url": with_credentials, "kfuse_test_token": token}))
    playbook = tmp_path / "secrets.yml"
    playbook.write_text(
        "- hosts: az2\n"
        "  gather_facts: false\n"
        "  vars_files: ['%s']\n"
        "  tasks:\n"
        "    - name: A url with credentials is refused and never echoed\n"
        "      kfuse.failover.az_status:\n"
        "        url: '{{ kfuse_test_url }}'\n"
        "        token: '{{ kfuse_test_token }}'\n" % secrets_file)
    runs = [run_module("az2", "kfuse.failover.az_status", dict(lab.url_args("az2"), status_map={"state": "state"}),
                       verbosity=4),
            run_playbook(str(playbook), verbosity=4),
            run_module("az2", "kfuse.failover.az_activate", dict(lab.url_args("az2"), zone="lab-az9"), verbosity=4)]
    assert runs[0].rc == 0 and runs[1].rc != 0 and runs[2].rc != 0
    assert "must not carry credentials" in runs[1].stdout
    for run in runs:
        for output in (run.stdout, run.stderr):
            assert token not in output and "Url-Passw0rd-7f3a" not in output and with_credentials not in output
