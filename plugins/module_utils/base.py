# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module base every module of the collection uses: ``KfuseModule``.

In the spirit of amazon.aws ``AnsibleAWSModule``:

- ``fail_from_exception(exc)`` is the one way a module fails on an error: the message, the provider's code or
  HTTP status and the other keys of the error (``KfuseError.fail_result()``), and the traceback (``exception=``).
- ``register_secret(value)`` adds every secret the module learns while it runs (tokens, passwords parsed out of
  connection strings, credentials read from a file or a Secret, decrypted keys) to ``no_log_values``: Ansible then
  masks them in the whole result, the traceback included, whatever a library echoed. No module_utils redacts
  by hand.
- ``run(task, ...)`` calls one module_utils function and exits with its result, or fails from its error.
- ``add_cleanup(callable)`` registers what must be closed whatever happens (a port-forward relay); cleanups run
  before the module exits or fails.
"""

from __future__ import annotations

import base64
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError


def secret_strings(value):
    """Every non-empty string in ``value`` (a string, bytes, or a dict/list of them), for ``no_log_values``.

    Bytes are registered as text when they decode, and in their base64 and hex spellings (a decrypted key may be
    echoed in any of those).
    """
    found = []
    if value is None or isinstance(value, bool):
        return found
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        if raw:
            try:
                found.append(raw.decode('utf-8'))
            except UnicodeDecodeError:
                pass
            found.extend([base64.b64encode(raw).decode('ascii'), raw.hex()])
    elif isinstance(value, str):
        if value.strip():
            found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(secret_strings(item))
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            found.extend(secret_strings(item))
    return found


class KfuseModule(AnsibleModule):
    """AnsibleModule with one failure method, secret registration and cleanups."""

    def __init__(self, *args, **kwargs):
        self._cleanups = []  # set first: AnsibleModule's own argument checks may already fail
        super().__init__(*args, **kwargs)

    # -- secrets -------------------------------------------------------------------------------------------------

    def register_secret(self, *values):
        """Mask every string in ``values`` (strings, bytes, dicts, lists) in everything the module returns."""
        for value in values:
            self.no_log_values.update(secret_strings(value))

    # -- cleanups ------------------------------------------------------------------------------------------------

    def add_cleanup(self, cleanup):
        """Run ``cleanup()`` before the module exits or fails (last added, first run)."""
        self._cleanups.append(cleanup)

    def run_cleanups(self):
        """Run and forget the registered cleanups; a failing cleanup becomes a warning."""
        cleanups = getattr(self, '_cleanups', None) or []
        while cleanups:
            cleanup = cleanups.pop()
            try:
                cleanup()
            except Exception as exc:  # pylint: disable=broad-exception-caught
                self.warn('cleanup failed: %s' % exc)

    def exit_json(self, **kwargs):
        self.run_cleanups()
        super().exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):  # pylint: disable=arguments-differ
        self.run_cleanups()
        super().fail_json(msg=msg, **kwargs)

    # -- failing from an error -----------------------------------------------------------------------------------

    def fail_from_exception(self, exc, msg=None, **extra):
        """Fail the module from ``exc``: message, provider code/status and other keys of the error, traceback.

        ``msg`` (optional) is put before the error's own message; ``extra`` adds or overrides result keys
        (``changed=True`` after a partial change, ``params`` sent, ...).
        """
        result = exc.fail_result() if isinstance(exc, KfuseError) else {}
        result.update(extra)
        text = str(exc) or type(exc).__name__
        message = '%s: %s' % (msg, text) if msg else text
        formatted = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        result.pop('msg', None)
        result.pop('exception', None)
        self.fail_json(msg=message, exception=formatted, **result)

    def run(self, task, *args, **kwargs):
        """Exit with ``task(*args, **kwargs)`` (a result dict), or fail from the KfuseError it raises."""
        try:
            result = task(*args, **kwargs)
        except KfuseError as exc:
            self.fail_from_exception(exc)
        self.exit_json(**result)
