# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the journal suite: the storage suite's emulators (moto_server, fake-gcs-server with its OAuth token
endpoint, Azurite) and fresh buckets, reused from tests/integration/storage/conftest.py, plus real ansible runs."""

import importlib.util
import json
import os
import secrets
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
for entry in (str(REPO / "tests" / "lab"), str(REPO / "tests" / "integration"), str(REPO / ".build" / "collections"),
              str(Path(__file__).resolve().parent)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from ansible_run import VENV_BIN, ansible_env, run_ansible  # noqa: E402  pylint: disable=import-error,wrong-import-position

# The storage suite's conftest, loaded under its own name: its session fixture starts the three emulators.
_SPEC = importlib.util.spec_from_file_location("kfuse_storage_suite", REPO / "tests" / "integration" / "storage" / "conftest.py")
storage_suite = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(storage_suite)

storage_servers = storage_suite.storage_servers  # noqa: F401  (a fixture, re-exported)
target = storage_suite.target  # noqa: F401  (a fixture: a fresh bucket on each provider)


def playbook_command(tmp_path, tasks, defaults=None):
    """The ansible-playbook command line of one play on localhost running ``tasks`` (JSON), journal defaults set."""
    play = {"name": "journal", "hosts": "localhost", "gather_facts": False, "tasks": tasks}
    if defaults:
        play["module_defaults"] = {"kfuse.failover.journal": defaults}
    playbook = tmp_path / ("play-%s.yml" % secrets.token_hex(4))
    playbook.write_text(json.dumps([play]))
    return [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
            "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]


@pytest.fixture
def run_playbook(tmp_path):
    """run_playbook(tasks, defaults=None) -> Run: one ansible-playbook process."""

    def run(tasks, defaults=None, timeout=300):
        return run_ansible(playbook_command(tmp_path, tasks, defaults), tmp_path, timeout)

    return run


@pytest.fixture
def playbook_process(tmp_path):
    """playbook_process(tasks, defaults=None) -> (Popen, stdout path): an ansible-playbook left running, in its
    own session so that a test can kill it (by its pid) with every module process under it."""
    import subprocess  # pylint: disable=import-outside-toplevel
    started = []

    def start(tasks, defaults=None):
        out = tmp_path / ("out-%s.json" % secrets.token_hex(4))
        with open(out, "w", encoding="utf-8") as handle:
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                playbook_command(tmp_path, tasks, defaults), cwd=str(REPO), env=ansible_env(tmp_path), stdout=handle,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        started.append(process)
        return process, out

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(10)
