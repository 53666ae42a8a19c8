# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kfuse.failover.journal on the real emulators (moto_server, fake-gcs-server, Azurite): racing runs, the whole
lifecycle through ansible-playbook, a re-run after a kill, and break_lock."""

import json
import multiprocessing
import os
import signal
import time

import pytest

import journal_support  # pylint: disable=import-error
from journal_support import PREFIX, module_args  # pylint: disable=import-error

from ansible_collections.kfuse.failover.plugins.module_utils import _journal

LOCK = PREFIX + "lock.json"
STATE = PREFIX + "state.json"
ROUTE = {"operation": "failover", "source": "az1", "target": "az2"}


def read_doc(store, key):
    return json.loads(store.read_bytes(key))


def task_results(run):
    """{task name: result} of one ansible-playbook run (JSON callback)."""
    return {name: result for name, _host, result in run.results()}


def finish_released(store):
    """Begin and finish one run directly, so lock.json exists in its released form."""
    journal = _journal.Journal(store, PREFIX, who={"holder": "setup", "process": {}})
    run_id = journal.begin("drill")["run_id"]
    _journal.Journal(store, PREFIX, who={"holder": "setup", "process": {}}).finish(run_id, "succeeded")
    assert read_doc(store, LOCK)["held"] is False


@pytest.mark.parametrize("lock_before", ["absent", "released"])
def test_racing_processes_exactly_one_takes_the_lock(target, lock_before):
    """Four processes read the same lock, then send their conditional write at the same moment."""
    store = target.store()
    if lock_before == "released":
        finish_released(store)
    context = multiprocessing.get_context("spawn")
    racers = 4
    start_barrier, done_barrier, results = context.Barrier(racers), context.Barrier(racers), context.Queue()
    processes = [context.Process(target=journal_support.race_begin, args=(
        number, target.cloud_storage, target.credentials, PREFIX, start_barrier, done_barrier, results))
        for number in range(racers)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _racer in range(racers)]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    winners = [outcome for outcome in outcomes if outcome[1] == "won"]
    losers = [outcome for outcome in outcomes if outcome[1] == "lost"]
    assert len(winners) == 1 and len(losers) == racers - 1, outcomes
    number, _won, run_id, pid = winners[0]
    lock = read_doc(store, LOCK)
    assert (lock["run_id"], lock["holder"], lock["process"]["pid"]) == (run_id, "racer-%d" % number, pid)
    for _number, _lost, message, _pid in losers:
        assert "held by run %s" % run_id in message and "racer-%d" % number in message
        assert "its controller process %d" % pid in message and "is still running" in message
    runs = [info.key for info in store.list(PREFIX + "runs/")]
    assert runs.count(PREFIX + "runs/%s.json" % run_id) == 1
    assert len(runs) == (1 if lock_before == "absent" else 2), runs


def test_two_ansible_playbook_runs_started_together_one_proceeds(target, playbook_process):
    """Two operators start the same failover at the same time: one holds the lock, the other stops at begin."""
    store = target.store()
    tasks = [
        {"name": "begin", "kfuse.failover.journal": dict(ROUTE, action="begin"), "register": "journal"},
        {"name": "work", "ansible.builtin.wait_for": {"timeout": 8}},
        {"name": "finish", "kfuse.failover.journal": {"action": "finish", "run_id": "{{ journal.run_id }}",
                                                      "outcome": "succeeded"}},
    ]
    started = [playbook_process(tasks, module_args(target)) for _operator in range(2)]
    outputs = []
    for process, out in started:
        process.wait(240)
        text = out.read_text()
        outputs.append((process.returncode, json.loads(text[text.find("{"):])))
    assert sorted(code for code, _output in outputs) == [0, 2], outputs
    won = next(output for code, output in outputs if code == 0)
    lost = next(output for code, output in outputs if code != 0)
    begin_won = won["plays"][0]["tasks"][0]["hosts"]["localhost"]
    begin_lost = lost["plays"][0]["tasks"][0]["hosts"]["localhost"]
    run_id = begin_won["run_id"]
    assert begin_lost["failed"] and "held by run %s" % run_id in begin_lost["msg"]
    assert begin_lost["lock"]["holder"] == begin_won["holder"]
    assert "is still running" in begin_lost["msg"]
    assert len(lost["plays"][0]["tasks"]) == 1, "the losing run went on after its begin failed"
    state = read_doc(store, STATE)
    assert state["active_zone"] == "az2" and [entry["run_id"] for entry in state["history"]] == [run_id]


def test_whole_lifecycle_through_ansible_playbook(target, run_playbook):
    store = target.store()
    defaults = module_args(target, **ROUTE)
    tasks = [
        {"name": "nothing yet", "kfuse.failover.journal": {}, "register": "empty"},
        {"name": "begin in check mode", "kfuse.failover.journal": {"action": "begin"}, "check_mode": True},
        {"name": "begin", "kfuse.failover.journal": {"action": "begin", "mode": "planned"}, "register": "journal"},
        {"name": "preflight", "kfuse.failover.journal": {"action": "checkpoint", "run_id": "{{ journal.run_id }}",
                                                         "step": "preflight", "detail": {"checks": 14}}},
        {"name": "pause", "kfuse.failover.journal": {"action": "checkpoint", "run_id": "{{ journal.run_id }}",
                                                     "step": "pause_source", "status": "skipped"}},
        {"name": "heartbeat", "kfuse.failover.journal": {"action": "checkpoint", "run_id": "{{ journal.run_id }}"}},
        {"name": "while running", "kfuse.failover.journal": {}},
        {"name": "finish in check mode", "kfuse.failover.journal": {
            "action": "finish", "run_id": "{{ journal.run_id }}", "outcome": "succeeded"}, "check_mode": True},
        {"name": "finish", "kfuse.failover.journal": {"action": "finish", "run_id": "{{ journal.run_id }}",
                                                      "outcome": "succeeded"}},
        {"name": "finish again", "kfuse.failover.journal": {"action": "finish", "run_id": "{{ journal.run_id }}",
                                                            "outcome": "succeeded"}},
        {"name": "after", "kfuse.failover.journal": {}},
    ]
    run = run_playbook(tasks, defaults)
    assert run.rc == 0, run.stdout[-3000:]
    results = task_results(run)
    assert results["nothing yet"]["lock_status"] == "free" and results["nothing yet"]["active_zone"] is None
    check = results["begin in check mode"]
    assert check["changed"] and [write["operation"] for write in check["writes"]] == ["create", "create"]
    begun = results["begin"]
    run_id = begun["run_id"]
    assert begun["changed"] and begun["lock_status"] == "held" and not begun["resumed"]
    assert check["run_id"] != run_id, "check mode wrote its run"
    # The holder is the ansible-playbook process, found above the module's own short-lived process.
    pid = begun["lock"]["process"]["pid"]
    assert pid and begun["holder"].endswith("pid %d" % pid) and pid != os.getpid()
    assert results["pause"]["completed_steps"] == ["preflight", "pause_source"]
    assert results["heartbeat"]["writes"] == [{"key": LOCK, "operation": "replace"}]
    running = results["while running"]
    assert (running["lock_status"], running["run_id"], running["lock"]["step"]) == ("held", run_id, "pause_source")
    assert results["finish in check mode"]["active_zone"] == "az2"
    finished = results["finish"]
    assert finished["changed"] and finished["lock"] is None and finished["active_zone"] == "az2"
    assert not results["finish again"]["changed"]
    after = results["after"]
    assert (after["lock_status"], after["active_zone"], after["run"]["outcome"]) == ("free", "az2", "succeeded")
    steps = read_doc(store, PREFIX + "runs/%s.json" % run_id)["steps"]
    assert [(step["name"], step["status"], step["detail"]) for step in steps] == [
        ("preflight", "done", {"checks": 14}), ("pause_source", "skipped", {})]
    assert sorted(info.key for info in store.list(PREFIX)) == sorted([LOCK, STATE, PREFIX + "runs/%s.json" % run_id])


def test_rerun_after_a_kill_continues_from_the_last_completed_step(target, playbook_process, run_playbook):
    store = target.store()
    defaults = module_args(target, **ROUTE)
    first_tasks = [
        {"name": "begin", "kfuse.failover.journal": {"action": "begin"}, "register": "journal"},
        {"name": "preflight", "kfuse.failover.journal": {"action": "checkpoint", "run_id": "{{ journal.run_id }}",
                                                         "step": "preflight"}},
        {"name": "a long step", "ansible.builtin.wait_for": {"timeout": 120}},
    ]
    process, _out = playbook_process(first_tasks, defaults)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if read_doc(store, LOCK).get("step") == "preflight":
                break
        except Exception:  # pylint: disable=broad-exception-caught
            pass
        time.sleep(0.3)
    else:
        pytest.fail("the first run never checkpointed")
    lock = read_doc(store, LOCK)
    os.killpg(process.pid, signal.SIGKILL)  # the operator's ansible-playbook dies mid-step
    process.wait(30)
    assert lock["process"]["pid"] == process.pid
    second = run_playbook([
        {"name": "begin again", "kfuse.failover.journal": {"action": "begin"}, "register": "journal"},
        {"name": "preflight", "kfuse.failover.journal": {"action": "checkpoint", "run_id": "{{ journal.run_id }}",
                                                         "step": "preflight"},
         "when": "'preflight' not in journal.completed_steps"},
        {"name": "activate", "kfuse.failover.journal": {"action": "checkpoint", "run_id": "{{ journal.run_id }}",
                                                        "step": "activate_target"}},
        {"name": "finish", "kfuse.failover.journal": {"action": "finish", "run_id": "{{ journal.run_id }}",
                                                      "outcome": "succeeded"}},
    ], defaults)
    assert second.rc == 0, second.stdout[-3000:]
    results = task_results(second)
    begun = results["begin again"]
    assert begun["resumed"] and begun["run_id"] == lock["run_id"] and begun["completed_steps"] == ["preflight"]
    assert begun["run"]["resumes"][0]["reason"] == "holder-gone"
    assert results["preflight"].get("skipped")
    run = read_doc(store, PREFIX + "runs/%s.json" % lock["run_id"])
    assert [(step["name"], step["attempts"]) for step in run["steps"]] == [("preflight", 1), ("activate_target", 1)]
    assert run["outcome"] == "succeeded"


def test_break_lock_needs_the_holders_run_id_and_a_stale_lock(target, run_playbook):
    store = target.store()
    run_id = "{{ journal.run_id }}"
    attempt = {"ignore_errors": True}
    run = run_playbook([
        {"name": "begin", "kfuse.failover.journal": {"action": "begin", "operation": "upgrade",
                                                     "holder": "alice on bastion-1"}, "register": "journal"},
        dict(attempt, name="wrong run", **{"kfuse.failover.journal": {
            "action": "break_lock", "expected_run_id": "20261203T000000Z-upgrade-000000", "stale_after": 0}}),
        dict(attempt, name="not stale", **{"kfuse.failover.journal": {"action": "break_lock", "expected_run_id": run_id}}),
        {"name": "check mode", "kfuse.failover.journal": {"action": "break_lock", "expected_run_id": run_id,
                                                          "stale_after": 0}, "check_mode": True},
        {"name": "still held", "kfuse.failover.journal": {}},
        {"name": "break", "kfuse.failover.journal": {"action": "break_lock", "expected_run_id": run_id, "stale_after": 0}},
        {"name": "after", "kfuse.failover.journal": {}},
        dict(attempt, name="late checkpoint", **{"kfuse.failover.journal": {
            "action": "checkpoint", "run_id": run_id, "step": "x"}}),
    ], module_args(target))
    results = task_results(run)
    assert run.rc == 0 and len(results) == 8, run.stdout[-3000:]
    run_id = results["begin"]["run_id"]
    wrong = results["wrong run"]
    assert wrong["failed"] and "nothing was broken" in wrong["msg"] and run_id in wrong["msg"]
    assert results["not stale"]["failed"] and "is not stale" in results["not stale"]["msg"]
    assert results["check mode"]["changed"] and results["still held"]["lock_status"] == "held"
    broken = results["break"]
    assert broken["changed"] and broken["lock_status"] == "free" and broken["run"]["outcome"] == "aborted"
    assert broken["run"]["broken"]["holder"] == "alice on bastion-1"
    after = results["after"]
    assert after["lock"] is None and after["state"]["history"][0]["outcome"] == "aborted"
    late = results["late checkpoint"]
    assert late["failed"] and "was broken by" in late["msg"]
    lock = read_doc(store, LOCK)
    assert lock["held"] is False and lock["broken"]["run_id"] == run_id
