# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one helper for running a module's ``main()`` in-process in unit tests.

``run_module(main, args, patches=...)`` sets the module arguments, runs ``main``, and returns the result exactly as
Ansible would receive it (after ``no_log_values`` masking) with whether it failed. Nothing of AnsibleModule is
replaced except the final write to stdout, so argument-spec checks, masking and warnings are the real ones.
"""

from __future__ import annotations

import contextlib
import io
import json
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()):
            yield


class ModuleRun:
    """What one run returned: the result dict, whether it failed, and its warnings."""

    def __init__(self, result, failed):
        self.result = result
        self.failed = failed
        self.warnings = result.get('warnings') or []

    def __iter__(self):
        # result, failed = run_module(...)
        return iter((self.result, self.failed))


def _warning_text(warning):
    """The text of one warning: a string, a dict with msg, or ansible-core 2.19's WarningSummary."""
    if isinstance(warning, str):
        return warning
    if isinstance(warning, dict):
        return str(warning.get('msg', warning))
    event = getattr(warning, 'event', None)
    return str(getattr(event, 'msg', warning))


def run_module(main, args, patches=(), tracebacks=False):
    """Run ``main()`` with module arguments ``args``; ``patches`` is a list of (target, attribute, value).

    ``tracebacks`` asks for the traceback in failed results, as the controller does at -vvv. Returns a ModuleRun
    (unpacks as ``result, failed``). Raises AssertionError when main returns without exiting.
    """
    captured = {}

    def record(_module, result):
        result = dict(result)
        result['warnings'] = [_warning_text(item) for item in result.get('warnings') or []]
        captured['result'] = json.loads(json.dumps(result, default=str))

    # Warnings and deprecations are process-global and de-duplicated: start each run with none.
    for name in ('_global_warnings', '_global_deprecations'):
        if hasattr(ansible_warnings, name):
            getattr(ansible_warnings, name).clear()
    stack = contextlib.ExitStack()
    with stack:
        stack.enter_context(patch_module_args(args))
        if hasattr(basic.AnsibleModule, '_record_module_result'):
            stack.enter_context(mock.patch.object(basic.AnsibleModule, '_record_module_result', record))
        else:  # pragma: no cover - ansible-core < 2.19 prints the result
            stdout = stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
            captured['stdout'] = stdout
        try:
            # Once anything imported controller code (ansible._internal), warn() goes to the display instead of
            # the result; a module run is never the controller.
            from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
            stack.enter_context(mock.patch.object(_internal, 'is_controller', False))
        except (ImportError, AttributeError):  # pragma: no cover - older ansible-core
            pass
        if tracebacks:
            try:
                from ansible.module_utils._internal import _traceback  # pylint: disable=import-outside-toplevel
                stack.enter_context(mock.patch.object(_traceback, '_is_traceback_enabled', lambda _event: True))
            except (ImportError, AttributeError):  # pragma: no cover - older ansible-core always returns it
                pass
        for target, attribute, value in patches:
            stack.enter_context(mock.patch.object(target, attribute, value))
        try:
            main()
        except SystemExit:
            pass
        else:
            raise AssertionError('the module returned without exit_json or fail_json')
    if 'result' not in captured:
        captured['result'] = json.loads(captured['stdout'].getvalue().strip().splitlines()[-1])
    result = captured['result']
    result['warnings'] = [_warning_text(item) for item in result.get('warnings') or []]
    return ModuleRun(result, bool(result.get('failed')))
