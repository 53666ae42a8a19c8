# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's modules in the task's worker process (plugins/plugin_utils/_in_process.py) against the lab: the
same results, failures, check mode and masking as the module run as its own process (kfuse_in_process=false)."""

AS_A_PROCESS = {"kfuse_in_process": False}


def ran_as_a_process(run, module):
    """Whether -vvv shows Ansible executing the module's AnsiballZ payload."""
    return ("AnsiballZ_%s.py" % module) in run.stdout


def test_status_is_the_same_both_ways(fresh_lab, run_module):
    inside = run_module("az2", "kfuse.failover.az_status", fresh_lab.url_args("az2"))
    outside = run_module("az2", "kfuse.failover.az_status", fresh_lab.url_args("az2"), extra_vars=AS_A_PROCESS)
    assert inside.rc == 0 and outside.rc == 0, inside.stdout[-2000:] + outside.stdout[-2000:]
    a, b = inside.result("az2"), outside.result("az2")
    assert a["status"] == b["status"]
    assert a["status"]["state"] == "standby"
    assert sorted(a) == sorted(b)


def test_only_the_opt_out_starts_a_module_process(fresh_lab, run_module):
    inside = run_module("az2", "kfuse.failover.az_status", fresh_lab.url_args("az2"), verbosity=3)
    outside = run_module("az2", "kfuse.failover.az_status", fresh_lab.url_args("az2"), verbosity=3,
                         extra_vars=AS_A_PROCESS)
    assert inside.rc == 0 and outside.rc == 0, inside.stdout[-2000:] + outside.stdout[-2000:]
    assert not ran_as_a_process(inside, "az_status"), inside.stdout[-3000:]
    assert ran_as_a_process(outside, "az_status"), outside.stdout[-3000:]


def test_bad_options_fail_the_same_way(fresh_lab, run_module):
    for args, expected in ((dict(fresh_lab.url_args("az2"), timeout=-1), "timeout must be a positive number"),
                           (dict(fresh_lab.url_args("az2"), bogus=1), "Unsupported parameters")):
        inside = run_module("az2", "kfuse.failover.az_status", args)
        outside = run_module("az2", "kfuse.failover.az_status", args, extra_vars=AS_A_PROCESS)
        assert inside.rc != 0 and outside.rc != 0
        assert expected in inside.result("az2")["msg"]
        assert inside.result("az2")["msg"] == outside.result("az2")["msg"]


def test_check_mode_changes_nothing_in_process(fresh_lab, run_module):
    run = run_module("az1", "kfuse.failover.az_pause", fresh_lab.url_args("az1"), check=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result("az1")["changed"] is True
    assert fresh_lab.status("az1")["state"] == "active"


def test_token_is_masked_at_vvv_in_process(fresh_lab, run_module):
    token = fresh_lab.url_args("az2")["token"]
    run = run_module("az2", "kfuse.failover.az_status", fresh_lab.url_args("az2"), verbosity=3)
    assert run.rc == 0, run.stdout[-3000:]
    assert not ran_as_a_process(run, "az_status")
    assert '"token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in run.stdout, run.stdout[-3000:]
    assert token not in run.stdout + run.stderr


ENV_PLAYBOOK = """
- hosts: az2
  gather_facts: false
  tasks:
    - name: The token from the task's environment (the option's fallback)
      kfuse.failover.az_status: {url: "{{ url }}", ca_path: "{{ ca_path }}"}
      environment:
        KFUSE_AZ_SERVICE_TOKEN: "{{ token }}"
    - name: The next task runs without it
      kfuse.failover.az_status: {url: "{{ url }}", ca_path: "{{ ca_path }}"}
"""


def test_task_environment_reaches_the_module_and_no_further(fresh_lab, run_playbook, tmp_path):
    playbook = tmp_path / "environment.yml"
    playbook.write_text(ENV_PLAYBOOK)
    run = run_playbook(str(playbook), extra_vars=fresh_lab.url_args("az2"))
    results = run.results("az2")
    names = [result[0] for result in results]
    assert names == ["The token from the task's environment (the option's fallback)",
                     "The next task runs without it"], run.stdout[-3000:]
    first, second = results[0][2], results[1][2]
    assert not first.get("failed"), first
    assert first["status"]["state"] == "standby"
    assert second.get("failed"), second
    assert "401" in str(second.get("msg")) or "token" in str(second.get("msg")).lower(), second
