# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The az-service modules and the failover playbook, run by ansible against the lab's simulators."""

import os

import boto3
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAILOVER = os.path.join(REPO, "playbooks", "failover.yml")
FAILBACK = os.path.join(REPO, "playbooks", "failback.yml")


def changed_count(run, host):
    return run.stats().get(host, {}).get("changed", 0)


def zone_segments(lab, zone_id):
    """Segment object names under a zone's prefix in the lab bucket."""
    storage = lab.group_vars["kfuse_cloud_storage"]
    s3 = boto3.client("s3", endpoint_url=storage["endpoint_url"], region_name=storage["s3"]["region"],
                      aws_access_key_id=lab.info.get("aws_access_key_id", "lab"),
                      aws_secret_access_key=lab.info.get("aws_secret_access_key", "lab-secret"))
    names = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=storage["s3"]["bucket"], Prefix=zone_id + "/segments/"):
        for item in page.get("Contents", []):
            names.add(item["Key"].split("/", 2)[2])
    return names


@pytest.mark.parametrize("reach", ["url", "kube"])
def test_failover_sequence_then_second_run_changes_nothing(fresh_lab, run_playbook, reach):
    lab = fresh_lab
    source_segments = zone_segments(lab, "lab-az1")
    assert source_segments, "the active zone should have written segments before the failover"

    first = run_playbook(FAILOVER, {"kfuse_source": "az1", "kfuse_target": "az2", "kfuse_az_reach": reach})
    assert first.rc == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert changed_count(first, "az1") == 1  # pause
    assert changed_count(first, "az2") == 2  # activate, resume

    activate = [r for name, host, r in first.results("az2") if name.startswith("Restore databases")][0]
    assert activate["changed"] is True
    assert activate["status"]["state"] == "active"
    assert activate["progress"], "the activation should report the progress it watched"

    source, target = lab.status("az1"), lab.status("az2")
    assert source["state"] == "paused" and source["consuming"] is False
    assert target["state"] == "active" and target["consuming"] is True and target["alertsSilenced"] is False
    assert target["activation"]["sourceZone"] == "lab-az1"
    # every segment the source had before the failover now also lives under the target's prefix
    assert source_segments <= zone_segments(lab, "lab-az2")

    second = run_playbook(FAILOVER, {"kfuse_source": "az1", "kfuse_target": "az2", "kfuse_az_reach": reach})
    assert second.rc == 0, second.stdout[-4000:]
    assert changed_count(second, "az1") == 0
    assert changed_count(second, "az2") == 0


def test_failback_brings_zone_one_back(fresh_lab, run_playbook):
    over = run_playbook(FAILOVER, {"kfuse_source": "az1", "kfuse_target": "az2"})
    assert over.rc == 0, over.stdout[-4000:]
    back = run_playbook(FAILBACK)
    assert back.rc == 0, back.stdout[-4000:]
    assert fresh_lab.status("az2")["state"] == "paused"
    az1 = fresh_lab.status("az1")
    assert az1["state"] == "active" and az1["activation"]["sourceZone"] == "lab-az2"


def test_check_mode_reports_changes_and_changes_nothing(fresh_lab, run_playbook):
    run = run_playbook(FAILOVER, {"kfuse_source": "az1", "kfuse_target": "az2"}, check=True)
    assert run.rc == 0, run.stdout[-4000:]
    assert changed_count(run, "az1") == 1
    assert changed_count(run, "az2") >= 1
    assert fresh_lab.status("az1")["state"] == "active"
    assert fresh_lab.status("az2")["state"] == "standby"


def test_playbook_refuses_a_bad_request_before_any_change(fresh_lab, run_playbook):
    run = run_playbook(FAILOVER, {"kfuse_source": "az1", "kfuse_target": "az1"})
    assert run.rc != 0
    assert "kfuse_source and kfuse_target" in run.stdout
    assert fresh_lab.status("az1")["state"] == "active"


def test_status_by_url_and_by_port_forward_agree(fresh_lab, run_module):
    by_url = run_module("az1", "kfuse.failover.az_status", fresh_lab.url_args("az1"))
    by_kube = run_module("az1", "kfuse.failover.az_status", fresh_lab.kube_args("az1"))
    for run in (by_url, by_kube):
        result = run.result("az1")
        assert run.rc == 0, run.stdout[-3000:]
        assert result["changed"] is False
        assert result["status"]["state"] == "active"
        assert result["status"]["zone"] == "lab-az1"
        assert '"state"' in result["raw"]


def test_transient_503_is_retried(fresh_lab, run_module):
    fresh_lab.faults("az1", responses=[{"path": "/pause", "status": 503, "count": 2}])
    run = run_module("az1", "kfuse.failover.az_pause", dict(fresh_lab.url_args("az1"), retry_delay=0.1))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result("az1")["changed"] is True
    assert fresh_lab.status("az1")["state"] == "paused"


def test_dropped_connection_on_status_is_retried(fresh_lab, run_module):
    fresh_lab.faults("az2", drop=[{"path": "/status", "count": 2}])
    run = run_module("az2", "kfuse.failover.az_status", dict(fresh_lab.url_args("az2"), retry_delay=0.1))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result("az2")["status"]["state"] == "standby"


def test_activate_dropped_after_action_is_not_sent_twice(fresh_lab, run_module):
    assert run_module("az1", "kfuse.failover.az_pause", fresh_lab.url_args("az1")).rc == 0
    fresh_lab.faults("az2", drop_after_action=[{"path": "/activate", "count": 1}])
    run = run_module("az2", "kfuse.failover.az_activate",
                     dict(fresh_lab.url_args("az2"), zone="lab-az1", retry_delay=0.1, poll_interval=0.2))
    # a blind re-send would have met "409 activation in progress"; the module read /status instead
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result("az2")["status"]["state"] == "active"


def test_flush_check_failure_needs_force(fresh_lab, run_module):
    fresh_lab.faults("az1", flush_check_fails=True)
    refused = run_module("az1", "kfuse.failover.az_pause", fresh_lab.url_args("az1"))
    assert refused.rc != 0
    assert "force" in refused.result("az1")["msg"]
    assert fresh_lab.status("az1")["state"] == "active"

    forced = run_module("az1", "kfuse.failover.az_pause", dict(fresh_lab.url_args("az1"), force=True))
    assert forced.rc == 0, forced.stdout[-3000:]
    assert fresh_lab.status("az1")["state"] == "paused"


def test_activation_failing_part_way_reports_last_status(fresh_lab, run_module):
    assert run_module("az1", "kfuse.failover.az_pause", fresh_lab.url_args("az1")).rc == 0
    fresh_lab.faults("az2", activation_fail_after=5)
    run = run_module("az2", "kfuse.failover.az_activate",
                     dict(fresh_lab.url_args("az2"), zone="lab-az1", batch_size=2, poll_interval=0.2))
    assert run.rc != 0
    result = run.result("az2")
    assert result["status"]["state"] == "failed"
    assert "failed" in result["msg"]


def test_wait_timeout_says_what_it_last_saw(fresh_lab, run_module):
    run = run_module("az2", "kfuse.failover.az_status",
                     dict(fresh_lab.url_args("az2"), wait_for="active", wait_timeout=2, poll_interval=0.5))
    assert run.rc != 0
    result = run.result("az2")
    assert "standby" in result["msg"]
    assert result["status"]["state"] == "standby"


def test_refuses_target_that_restored_another_zone(fresh_lab, run_module):
    assert run_module("az1", "kfuse.failover.az_pause", fresh_lab.url_args("az1")).rc == 0
    assert run_module("az2", "kfuse.failover.az_activate",
                      dict(fresh_lab.url_args("az2"), zone="lab-az1", poll_interval=0.2)).rc == 0
    run = run_module("az2", "kfuse.failover.az_activate", dict(fresh_lab.url_args("az2"), zone="lab-az9"))
    assert run.rc != 0
    assert "lab-az1" in run.result("az2")["msg"]
    assert fresh_lab.status("az2")["activation"]["sourceZone"] == "lab-az1"


@pytest.mark.parametrize("args, option", [
    ({"zone": ""}, "zone"),
    ({"zone": "lab-az1", "latest_time": "yesterday at noon"}, "latest_time"),
    ({"zone": "lab-az1", "batch_size": -3}, "batch_size"),
    ({"zone": "lab-az1", "no_such_option": 1}, "no_such_option"),
    # The bad-input classes of issue 7, section 3 (az modules), against the lab.
    ({"zone": "lab-az1", "latest_time": "2999-01-01T00:00:00Z"}, "latest_time: 2999-01-01T00:00:00Z is in the future"),
    ({"zone": "lab-az1", "batch_size": 1000000000}, "batch_size must be a positive integer up to 10000"),
    ({"zone": "lab-az1", "extra_params": {"zone": "lab-az9"}}, "extra_params.zone: set it with the zone option"),
    ({"zone": "lab-az1", "extra_params": {"latestTime": "2999-01-01"}}, "extra_params.latestTime"),
    ({"zone": "lab-az1", "extra_params": {"x": {"nested": 1}}}, "extra_params.x: a query parameter takes"),
    ({"zone": "  "}, "zone must be a non-empty"),
    ({"zone": "lab-az1", "timeout": "nan"}, "timeout must be a finite number"),
    ({"zone": "lab-az1", "timeout": "inf"}, "timeout must be a finite number"),
    ({"zone": "lab-az1", "client_cert": "/nonexistent/client.pem"}, "client_cert: no such file"),
    ({"zone": "lab-az1", "status_map": {"state": "a..b"}}, "status_map.state must be a dotted path"),
])
def test_bad_input_fails_before_any_request(fresh_lab, run_module, args, option):
    # an unreachable service turns any request into a connection error: the failure must name the option instead
    fresh_lab.faults("az2", unreachable=True)
    run = run_module("az2", "kfuse.failover.az_activate", dict(fresh_lab.url_args("az2"), **args))
    assert run.rc != 0
    assert option in run.result("az2")["msg"]
    assert run.result("az2").get("changed") is not True
    fresh_lab.faults("az2", unreachable=False)
    assert fresh_lab.status("az2")["state"] == "standby"


def test_url_and_kube_options_together_are_refused(fresh_lab, run_module):
    args = dict(fresh_lab.kube_args("az2"), url=fresh_lab.az("az2")["url"], zone="lab-az1")
    run = run_module("az2", "kfuse.failover.az_activate", args)
    assert run.rc != 0
    assert "url" in run.result("az2")["msg"]
    assert fresh_lab.status("az2")["state"] == "standby"


def test_token_never_printed_at_vvv(fresh_lab, run_playbook, run_module):
    tokens = [fresh_lab.az(zone)["token"] for zone in ("az1", "az2")]
    playbook = run_playbook(FAILOVER, {"kfuse_source": "az1", "kfuse_target": "az2"}, verbosity=3)
    failing = run_module("az2", "kfuse.failover.az_activate", dict(fresh_lab.url_args("az2"), zone="lab-az9"),
                         verbosity=3)
    assert playbook.rc == 0, playbook.stdout[-3000:]
    for output in (playbook.stdout, playbook.stderr, failing.stdout, failing.stderr):
        for token in tokens:
            assert token not in output
