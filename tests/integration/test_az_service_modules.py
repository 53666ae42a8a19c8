# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The az-service modules, run by ansible against the lab's simulators (the playbooks that chain them are tested end
to end in tests/integration/playbooks/, on labs of their own)."""

import pytest


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
    # az2 without any segment: the activation has all of az1's to rehydrate (60 seeded), so it fails at the 5th
    # whatever earlier tests of this lab rehydrated and however few az1 wrote since.
    fresh_lab.reset(wipe=["az2"])
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


def test_token_never_printed_at_vvv(fresh_lab, run_module):
    tokens = [fresh_lab.az(zone)["token"] for zone in ("az1", "az2")]
    runs = [run_module("az1", "kfuse.failover.az_pause", fresh_lab.kube_args("az1"), verbosity=3),
            run_module("az2", "kfuse.failover.az_activate",
                       dict(fresh_lab.url_args("az2"), zone="lab-az1", poll_interval=0.2), verbosity=3),
            run_module("az2", "kfuse.failover.az_activate", dict(fresh_lab.url_args("az2"), zone="lab-az9"),
                       verbosity=3)]
    assert [run.rc == 0 for run in runs] == [True, True, False], runs[-1].stdout[-3000:]
    for run in runs:
        for output in (run.stdout, run.stderr):
            for token in tokens:
                assert token not in output
