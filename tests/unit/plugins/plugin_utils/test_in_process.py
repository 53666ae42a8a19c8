# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a module of the collection may run in the task's worker process, and every action plugin uses that base."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.kfuse.failover.plugins.plugin_utils import _in_process
from ansible_collections.kfuse.failover.plugins.plugin_utils._in_process import in_process_blocker

HERE = sys.executable
PLUGINS = os.path.join(os.path.dirname(os.path.abspath(_in_process.__file__)), os.pardir)


def test_local_with_this_python_runs_in_process():
    assert in_process_blocker('local', HERE, HERE, False, 0, True) is None


def test_the_same_python_spelled_with_dots_runs_in_process():
    spelled = os.path.join(os.path.dirname(HERE), '.', os.path.basename(HERE))
    assert in_process_blocker('local', spelled, HERE, False, 0, True) is None


@pytest.mark.parametrize('transport, interpreter, become, async_val, enabled, reason', [
    ('ssh', HERE, False, 0, True, 'connection ssh, not local'),
    ('local', HERE, True, 0, True, 'become'),
    ('local', HERE, False, 30, True, 'async'),
    ('local', None, False, 0, True, 'ansible_python_interpreter (unset) is not'),
    ('local', '/usr/bin/python3-elsewhere', False, 0, True, 'ansible_python_interpreter /usr/bin/python3-elsewhere'),
    ('local', HERE, False, 0, False, 'kfuse_in_process is false'),
])
def test_anything_else_runs_as_a_process(transport, interpreter, become, async_val, enabled, reason):
    blocker = in_process_blocker(transport, interpreter, HERE, become, async_val, enabled)
    assert blocker is not None and blocker.startswith(reason), blocker


def test_without_the_argument_channel_modules_run_as_processes(monkeypatch):
    monkeypatch.setattr(_in_process, 'patch_module_args', None)
    assert 'no in-process argument channel' in in_process_blocker('local', HERE, HERE, False, 0, True)


def test_every_module_has_the_in_process_action():
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(PLUGINS, 'modules'))
                     if name.endswith('.py') and not name.startswith('_'))
    actions = sorted(name[:-3] for name in os.listdir(os.path.join(PLUGINS, 'action'))
                     if name.endswith('.py') and not name.startswith('_'))
    assert modules and actions == modules
    for name in actions:
        with open(os.path.join(PLUGINS, 'action', name + '.py'), encoding='utf-8') as handle:
            assert 'class ActionModule(InProcessModuleAction)' in handle.read(), name
