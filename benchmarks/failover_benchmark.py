#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failover benchmark: the lab failover az1 -> az2 with fixed simulated delays, wall time vs the critical path.

Usage: ``.venv/bin/python benchmarks/failover_benchmark.py [--node-delay 120] [--rehydrate-rate 2] [--no-sequential]
[--processes] [--keep-reports DIR]``

For each mode (``overlap``: the playbook as shipped; ``sequential``: ``-e kfuse_overlap=false``, every step after
the previous one; with ``--processes`` also ``processes``: ``-e kfuse_in_process=false``, every module of the
collection run as its own process instead of in the task's worker, see plugins/plugin_utils/_in_process.py), a fresh
per-zone lab is started with the given delays, ``failover.yml`` runs once with the
failover_report callback on, and the lab comes down. From the run's report and the lab's fixed delays it prints:

* wall: the ``ansible-playbook`` process from start to exit;
* critical path: the unavoidable simulated waits in a chain - the node group's boot delay (``--node-delay``, the
  time a new size stands before its Nodes register) plus the rehydration (the segments the activation rehydrated,
  read from the journal, over ``--rehydrate-rate``); everything else in the lab answers at once;
* wall / critical path (target: <= 1.10 for the overlap mode);
* the orchestration overhead, split: Ansible start-up (process start to the first task), the preflight, the
  journal writes, the other tasks that are not waits (module start-up and API calls), and the polling slack (for
  each wait, up to one poll interval after the condition held: estimated as half an interval per wait).

Exit status 0 whatever the figures: a measurement, not a test. One run per mode; the machines are noisy, so
compare ratios from the same run rather than seconds across runs.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))

import labctl  # noqa: E402  pylint: disable=wrong-import-position,import-error

VENV_BIN = os.path.join(REPO, ".venv", "bin")
WAIT_ACTIONS = ("async_status", "az_status", "k8s_info", "node_group")


MODES = {"overlap": {}, "sequential": {"kfuse_overlap": False}, "processes": {"kfuse_in_process": False}}


def run_failover(state_dir, report_dir, poll, mode_vars):
    """ansible-playbook failover.yml on the lab in state_dir; (wall seconds, report dict, journal run record)."""
    lab = labctl.read_json(os.path.join(state_dir, "lab.json"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_CALLBACKS_ENABLED="kfuse.failover.failover_report", KFUSE_REPORT_DIR=report_dir,
               HELM_REGISTRY_CONFIG=lab["paths"]["helm_registry_config"],
               PATH=os.pathsep.join([VENV_BIN, os.path.join(REPO, ".tools", "bin"), os.environ.get("PATH", "")]))
    extra = dict({"kfuse_source": "az1", "kfuse_target": "az2", "kfuse_poll_interval": poll}, **mode_vars)
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", lab["paths"]["inventory"],
           os.path.join(REPO, "playbooks", "failover.yml"), "-e", json.dumps(extra)]
    started = time.time()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.time() - started
    if proc.returncode != 0:
        sys.exit("the failover failed (rc %d):\n%s" % (proc.returncode, proc.stdout[-4000:]))
    reports = sorted(name for name in os.listdir(report_dir) if name.endswith("-failover.json"))
    with open(os.path.join(report_dir, reports[-1]), encoding="utf-8") as handle:
        report = json.load(handle)
    return wall, report, journal_run(lab)


def journal_run(lab):
    import boto3  # pylint: disable=import-outside-toplevel
    s3 = boto3.client("s3", endpoint_url=lab["s3"]["endpoint"], region_name=lab["s3"]["region"],
                      aws_access_key_id=lab["s3"]["access_key"], aws_secret_access_key=lab["s3"]["secret_key"])
    prefix = "kfuse-failover/journal/"
    state = json.loads(s3.get_object(Bucket=lab["s3"]["bucket"], Key=prefix + "state.json")["Body"].read())
    return json.loads(s3.get_object(Bucket=lab["s3"]["bucket"], Key=prefix + "runs/%s.json"
                                    % state["last_run_id"])["Body"].read())


def rehydrated_segments(record):
    for step in record.get("steps", []):
        if step["name"] == "activate":
            progress = (step.get("detail") or {}).get("progress") or {}
            return float(progress.get("total") or progress.get("done") or 0)
    return 0.0


def overhead(report, wall, poll):
    tasks = report["tasks"]
    first = min(task["start"] for task in tasks)
    journal = sum(task["duration"] for task in tasks if "journal" in task["action"])
    # the preflight runs on both zones' hosts at once: its wall time, from its first task to its last
    preflight_steps = [step for step in report["steps"] if step["name"] == "Preflight"]
    preflight = (max(step["end"] for step in preflight_steps) - min(step["start"] for step in preflight_steps)
                 if preflight_steps else 0.0)
    waits = [task for task in tasks if task["action"].split(".")[-1] in WAIT_ACTIONS and task.get("attempts")]
    others = sum(task["duration"] for task in tasks
                 if task["step"] != "Preflight" and "journal" not in task["action"]
                 and not task.get("attempts") and not task.get("async") and task["status"] != "skipped")
    return {"ansible_startup": wall - report["duration"] + first, "preflight": preflight, "journal": journal,
            "other_tasks": others, "polling_slack": 0.5 * poll * len(waits), "tasks": len(tasks)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--node-delay", type=float, default=120.0, help="seconds before new Nodes register")
    parser.add_argument("--rehydrate-rate", type=float, default=2.0, help="segments per second rehydrated")
    parser.add_argument("--poll", type=float, default=2.0, help="kfuse_poll_interval of the run")
    parser.add_argument("--no-sequential", action="store_true", help="skip the sequential comparison run")
    parser.add_argument("--processes", action="store_true",
                        help="also run the failover with the collection's modules as processes of their own")
    parser.add_argument("--keep-reports", metavar="DIR", help="copy each run's report (JSON and HTML) into DIR")
    args = parser.parse_args(argv)

    rows = []
    modes = ["overlap"] + ([] if args.no_sequential else ["sequential"]) + (["processes"] if args.processes else [])
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix="kfuse-bench-") as work:
            state_dir, report_dir = os.path.join(work, "lab"), os.path.join(work, "reports")
            os.makedirs(report_dir)
            print("%s: starting a lab (node delay %.0f s, rehydration %.1f segments/s)..."
                  % (mode, args.node_delay, args.rehydrate_rate), flush=True)
            with labctl.running_lab(state_dir, node_delay=args.node_delay,
                                    simulator_args=["--rehydrate-rate", str(args.rehydrate_rate)]):
                wall, report, record = run_failover(state_dir, report_dir, args.poll, MODES[mode])
            if args.keep_reports:
                shutil.copytree(report_dir, os.path.join(args.keep_reports, mode), dirs_exist_ok=True)
        segments = rehydrated_segments(record)
        critical = args.node_delay + segments / args.rehydrate_rate
        rows.append((mode, wall, critical, segments, report, overhead(report, wall, args.poll)))
        print("%s: done in %.1f s" % (mode, wall), flush=True)

    print()
    print("%-10s %8s %9s %6s %8s %8s %9s %9s %9s %8s %6s" % (
        "mode", "wall s", "critical", "ratio", "startup", "preflt", "journal", "tasks s", "poll slk", "rto s", "tasks"))
    for mode, wall, critical, _segments, report, cost in rows:
        print("%-10s %8.1f %9.1f %6.2f %8.1f %8.1f %9.1f %9.1f %9.1f %8.1f %6d" % (
            mode, wall, critical, wall / critical, cost["ansible_startup"], cost["preflight"], cost["journal"],
            cost["other_tasks"], cost["polling_slack"], report["rto"]["traffic_seconds"] or 0, cost["tasks"]))
    mode, wall, critical, segments, report, _cost = rows[0]
    print("\ncritical path = node delay %.0f s + %d segments / %.1f per s = %.1f s; target wall <= 1.10 x critical "
          "path: %s (%.2f)" % (args.node_delay, segments, args.rehydrate_rate, critical,
                               "met" if wall <= 1.10 * critical else "NOT met", wall / critical))
    walls = {row[0]: row[1] for row in rows}
    if "sequential" in walls:
        print("overlap saves %.1f s against every step in sequence (%.2f x)"
              % (walls["sequential"] - wall, walls["sequential"] / wall))
    if "processes" in walls:
        print("modules in the task's process save %.1f s against modules as processes (%.2f x)"
              % (walls["processes"] - wall, walls["processes"] / wall))
    labels = ["%s%s %.1f s" % (step["name"], " (%s)" % step["host"] if step["name"] == "Preflight" else "",
                               step["duration"]) for step in report["steps"] if step["duration"] >= 1]
    print("steps (overlap run): " + ", ".join(labels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
