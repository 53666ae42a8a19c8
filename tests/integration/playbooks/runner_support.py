# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A playbook run through ansible-runner's Python API, as AWX runs a job, and the checks of such a job: runner's own
stdout callback (awx_display) turns the run into job events, and the failover_report callback, enabled beside it,
still writes its JSON and HTML report; no az-service token reaches runner's output, events or artifacts.
test_failover_playbooks.py runs the per-zone lab's failback this way."""

import json
import os
import shlex

import ansible_runner

from e2e_support import REPORT_CALLBACK, PLAYBOOKS
from ansible_run import COLLECTIONS, REPO, TOOLS_BIN, VENV_BIN

ANSIBLE_PLAYBOOK = os.path.join(VENV_BIN, "ansible-playbook")
RUN_TIMEOUT = 1500


def run_job(lab, tmp_path, playbook, extravars, reports):
    """One job through ansible_runner.run, in its own private data dir, as AWX would start it.

    ``binary=`` makes runner run that program as it is (its "raw" mode: the playbook is not appended), so the
    playbook goes in ``cmdline``; runner still adds ``-i <inventory>`` and ``-e <extravars>``."""
    name = os.path.splitext(playbook)[0]
    private = tmp_path / ("runner-" + name)
    private.mkdir()
    envvars = {
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "HELM_REGISTRY_CONFIG": lab.info["paths"]["helm_registry_config"],
        "PATH": os.pathsep.join([VENV_BIN, TOOLS_BIN, os.environ.get("PATH", "")]),
        "ANSIBLE_CALLBACKS_ENABLED": REPORT_CALLBACK,
        "KFUSE_REPORT_DIR": str(reports),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
    }
    runner = ansible_runner.run(
        private_data_dir=str(private), ident=name, binary=ANSIBLE_PLAYBOOK,
        cmdline=shlex.quote(os.path.join(PLAYBOOKS, playbook)), inventory=lab.inventory, extravars=extravars,
        envvars=envvars, process_isolation=False, host_cwd=REPO, quiet=True, timeout=RUN_TIMEOUT)
    return runner


def stdout_of(runner):
    with open(os.path.join(runner.config.artifact_dir, "stdout"), encoding="utf-8") as handle:
        return handle.read()


def describe(runner):
    return "status %s rc %s\n%s" % (runner.status, runner.rc, stdout_of(runner)[-5000:])


def ok_tasks(events, host):
    """Names of the tasks that ended runner_on_ok on a host, in order."""
    return [event["event_data"].get("task", "") for event in events
            if event["event"] == "runner_on_ok" and event["event_data"].get("host") == host]


def report_pair(reports, operation):
    """The JSON record (parsed) and the HTML page (text) of the one run of an operation."""
    names = sorted(os.listdir(reports))
    found = [name for name in names if name.endswith("-%s.json" % operation)]
    assert len(found) == 1, "want one %s report in %s: %s" % (operation, reports, names)
    base = found[0][:-len(".json")]
    assert base + ".html" in names, "no HTML beside %s: %s" % (found[0], names)
    with open(os.path.join(reports, base + ".json"), encoding="utf-8") as handle:
        record = json.load(handle)
    with open(os.path.join(reports, base + ".html"), encoding="utf-8") as handle:
        page = handle.read()
    return base, record, page


def check_job(runner, source, target, reports, operation, tokens):
    assert runner.status == "successful" and runner.rc == 0, describe(runner)
    artifact_dir = runner.config.artifact_dir
    # the venv's ansible-playbook ran, on the playbook asked for
    with open(os.path.join(artifact_dir, "command"), encoding="utf-8") as handle:
        command = json.load(handle)["command"]
    assert command[0] == ANSIBLE_PLAYBOOK and command[1] == os.path.join(PLAYBOOKS, operation + ".yml"), command

    stdout = stdout_of(runner)
    assert stdout.strip(), "runner wrote no stdout to %s" % artifact_dir
    with runner.stdout as handle:
        assert handle.read() == stdout  # what the API hands out is the artifact
    events = list(runner.events)
    assert os.listdir(os.path.join(artifact_dir, "job_events")), "no job events in the artifacts"
    kinds = {event["event"] for event in events}
    assert {"playbook_on_start", "playbook_on_play_start", "playbook_on_task_start", "runner_on_ok",
            "playbook_on_stats"} <= kinds, kinds

    # the named steps of the runbook reached runner as task events of the right zones
    for host, prefix in ((source, "Pause | "), (target, "Activate | "), (target, "Ingress | "),
                         (target, "Resume | "), (target, "Journal | ")):
        assert any(name.startswith(prefix) for name in ok_tasks(events, host)), \
            "no runner_on_ok of a %r task on %s: %s" % (prefix, host, ok_tasks(events, host))
    stats = [event for event in events if event["event"] == "playbook_on_stats"][-1]["event_data"]
    assert not stats.get("failures") and not stats.get("dark"), stats
    assert runner.stats and not runner.stats.get("failures"), runner.stats

    # the report callback ran beside awx_display: its report exists, and its lines became runner events
    base, record, page = report_pair(reports, operation)
    assert record["outcome"] == "succeeded", record["outcome"]
    assert (record["source"], record["target"]) == (source, target)
    steps = {(step["name"], step["host"]) for step in record["steps"]}
    assert {("Pause", source), ("Activate", target), ("Ingress", target)} <= steps, sorted(steps)
    assert all(step["result"] != "failed" for step in record["steps"]), record["steps"]
    assert record["rto"]["traffic_seconds"] and record["rto"]["rehydration_seconds"], record["rto"]
    assert page.startswith("<!DOCTYPE html>") and "Activate" in page and "Ingress" in page
    # the rehydration's progress lines, printed by the report callback on each retry, are runner events too
    assert any("rehydrating" in (event.get("stdout") or "") for event in events), "no progress line in the events"
    said = [event for event in events if "Run report: " in (event.get("stdout") or "")]
    assert said and base + ".html" in said[-1]["stdout"], "no 'Run report:' line in the events"
    assert "Run report: " in stdout and base + ".json" in stdout

    # nothing of the az-services' tokens in what runner keeps of the job (stdout, events, the whole artifact dir)
    dumped_events = json.dumps(events)
    for zone, token in tokens.items():
        assert token not in stdout, "the %s az-service token is in runner's stdout" % zone
        assert token not in dumped_events, "the %s az-service token is in runner's events" % zone
    for folder, _dirs, files in os.walk(artifact_dir):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            assert not any(token in text for token in tokens.values()), "a token in %s" % os.path.join(folder, name)
    for name in (base + ".json", base + ".html"):
        with open(os.path.join(reports, name), encoding="utf-8") as handle:
            text = handle.read()
        assert not any(token in text for token in tokens.values()), "a token in the report %s" % name
    return events
