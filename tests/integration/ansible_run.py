# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real ``ansible`` and ``ansible-playbook`` runs for the integration suites, with this checkout's collection.

``run_ansible(cmd, tmp_path, timeout, check, verbosity)`` runs one command and returns a ``Run`` whose ``results()``
and ``result()`` read the JSON callback's output.
"""

import json
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
TOOLS_BIN = os.path.join(REPO, ".tools", "bin")  # helm and kubectl (hacking/bootstrap.sh)
COLLECTIONS = os.path.join(REPO, ".build", "collections")


def ansible_env(tmp_path, json_output=True):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "PATH": os.pathsep.join([VENV_BIN, TOOLS_BIN, env.get("PATH", "")]),
    })
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
        env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
    return env


class Run:
    """One finished ansible or ansible-playbook process."""

    def __init__(self, proc, parsed):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.parsed = parsed

    def results(self, host=None):
        """Task results in order, as (task name, host, result) triples."""
        found = []
        for play in (self.parsed or {}).get("plays", []):
            for task in play.get("tasks", []):
                for name, result in task.get("hosts", {}).items():
                    if host is None or name == host:
                        found.append((task["task"]["name"], name, result))
        return found

    def result(self, host=None):
        """The last task result (of a host)."""
        return self.results(host)[-1][2]

    def stats(self):
        return (self.parsed or {}).get("stats", {})


def run_ansible(cmd, tmp_path, timeout, check=False, verbosity=0):
    """Run ``cmd`` (``--check`` and ``-v...`` added as asked) from the checkout with ``ansible_env``. Without
    verbosity the JSON callback's output is parsed; with it the default callback's text is kept for reading."""
    json_output = not verbosity
    if check:
        cmd = cmd + ["--check"]
    if verbosity:
        cmd = cmd + ["-" + "v" * verbosity]
    proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(tmp_path, json_output), capture_output=True, text=True,
                          timeout=timeout, check=False)
    parsed = None
    if json_output:
        start = proc.stdout.find("{")
        if start >= 0:
            parsed = json.loads(proc.stdout[start:])
    return Run(proc, parsed)
