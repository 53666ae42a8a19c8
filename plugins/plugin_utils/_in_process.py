# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the collection's own modules in the task's worker process when they would run on this machine anyway.

Private to the collection. Every module of the collection has an action plugin of the same name made of
``InProcessModuleAction``. When the task would run the module here, with this very Python (``ansible_connection:
local`` and ``ansible_python_interpreter`` set to the interpreter running ansible-playbook, as the collection's
inventory model has it), the action runs the module's own ``main()`` in the worker process that Ansible forks for
the task: the same code, the same arguments (``module_defaults`` and the ``_ansible_*`` settings included: check
mode, diff, no_log, verbosity), the same ``AnsibleModule`` argument checks and no_log masking, the same result,
decoded by the same code as a module's output. What it saves is the separate module process: Python started again,
the AnsiballZ payload unpacked, ansible.module_utils compiled again from its zip, and the SDKs imported again - about
half a second of CPU per task, which a failover pays some thirty times on its critical path.

Anything else runs the module the usual way (``_execute_module``): another connection or interpreter, become,
``async``, an ansible-core without ``patch_module_args``, or ``kfuse_in_process: false`` (an inventory or extra var)
to rule it out. The worker process ends with the task, so whatever the module changes in the process (environment,
imported libraries, threads) does not outlive it.
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import sys
import traceback

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

try:
    # The argument channel every module unit test uses (ansible-core 2.19 and later).
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # older ansible-core: modules run as separate processes
    patch_module_args = None

display = Display()

IN_PROCESS_VAR = 'kfuse_in_process'
# The serialization profile of collection modules: what patch_module_args encodes the arguments with, and what the
# module's JSON is decoded with.
PROFILE = 'legacy'


def in_process_blocker(transport, interpreter, executable, become, async_val, enabled):
    """Why the module cannot run in this process (a short reason), or None when it can."""
    if not enabled:
        return '%s is false' % IN_PROCESS_VAR
    if patch_module_args is None:
        return 'this ansible-core has no in-process argument channel'
    if transport != 'local':
        return 'connection %s, not local' % transport
    if become:
        return 'become'
    if async_val:
        return 'async'
    if not interpreter or os.path.abspath(str(interpreter)) != os.path.abspath(executable):
        return 'ansible_python_interpreter %s is not %s' % (interpreter or '(unset)', executable)
    return None


class InProcessModuleAction(ActionBase):
    """The action plugin of every module of the collection (see the module docstring)."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # has no effect, as in ansible-core's normal action

        blocker = self._in_process_blocker(task_vars)
        if blocker is None:
            result.update(self._run_in_process(task_vars))
            return result

        display.vvvv('%s runs as a separate process: %s' % (self._task.resolved_action, blocker))
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _in_process_blocker(self, task_vars):
        interpreter = task_vars.get('ansible_python_interpreter')
        if interpreter is not None:
            interpreter = self._templar.template(interpreter)
        enabled = task_vars.get(IN_PROCESS_VAR, True)
        enabled = boolean(self._templar.template(enabled), strict=False)
        return in_process_blocker(self._connection.transport, interpreter, sys.executable,
                                  self._play_context.become, self._task.async_val, enabled)

    def _run_in_process(self, task_vars):
        module_name = self._task.resolved_action
        module_args = self._task.args.copy()
        self._update_module_args(module_name, module_args, task_vars)
        environment = {}
        self._compute_environment_string(raw_environment_out=environment)

        namespace, collection, name = module_name.split('.')
        module_fqn = 'ansible_collections.%s.%s.plugins.modules.%s' % (namespace, collection, name)
        out, err = io.StringIO(), io.StringIO()
        rc = 0
        saved_environment = dict(os.environ)
        os.environ.update({key: str(value) for key, value in environment.items()})
        try:
            # stderr too: what a library prints there (a Python warning) stays out of the play's output, as it
            # does when the module is a process of its own.
            with patch_module_args(module_args), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                runpy.run_module(module_fqn, run_name='__main__', alter_sys=True)
        except SystemExit as exc:  # how every module ends: exit_json or fail_json
            rc = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # A module that raised instead of failing: the same shape as the AnsiballZ wrapper's answer.
            return {'failed': True, 'msg': 'module %s raised %s: %s' % (module_name, type(exc).__name__, exc),
                    'exception': traceback.format_exc()}
        finally:
            os.environ.clear()
            os.environ.update(saved_environment)

        data = self._parse_returned_data({'rc': rc, 'stdout': out.getvalue(), 'stderr': err.getvalue()}, PROFILE)
        data.pop('_ansible_suppress_tmpdir_delete', None)
        if rc and 'failed' not in data:
            data['failed'] = True
        return data
