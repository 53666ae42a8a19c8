# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DSN mode: the local ``pg_dump``/``pg_restore`` against a connection string.

Private to the collection (``_postgres`` package). A password found in the DSN travels in ``PGPASSWORD`` of the
child's environment; the command line carries a connection string without it. The module registers that password
in ``no_log_values`` (``_backup_tasks``), so whatever the tool echoes is masked by Ansible.
"""

from __future__ import annotations

import os
import subprocess

from ansible_collections.kfuse.failover.plugins.module_utils._postgres.dsn import build_conninfo, describe_target, split_dsn
from ansible_collections.kfuse.failover.plugins.module_utils._postgres.stream import (
    DumpReader,
    StderrTail,
    dump_args,
    parse_version,
    restore_args,
    stderr_summary,
)
from ansible_collections.kfuse.failover.plugins.module_utils.errors import PostgresError


def dump_command(params, exclude_tables=(), pg_dump='pg_dump'):
    """argv of a DSN-mode pg_dump (``params`` must not hold a password)."""
    if 'password' in params:
        raise PostgresError('the password must not be part of a command line')
    return [pg_dump] + dump_args(exclude_tables) + ['--dbname=%s' % build_conninfo(params)]


def restore_command(params, clean=True, no_owner=True, single_transaction=True, pg_restore='pg_restore'):
    """argv of a DSN-mode pg_restore reading the dump from stdin."""
    if 'password' in params:
        raise PostgresError('the password must not be part of a command line')
    return [pg_restore] + restore_args(clean, no_owner, single_transaction) + ['--dbname=%s' % build_conninfo(params)]


def _child_env(password):
    env = dict(os.environ)
    if password is not None:
        env['PGPASSWORD'] = password
        env.pop('PGPASSFILE', None)
    return env


class ProcessDumpReader(DumpReader):
    """DSN mode: pg_dump's stdout."""

    def __init__(self, argv, env, what):
        super().__init__(what)
        try:
            self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                             stderr=subprocess.PIPE, env=env, bufsize=0)
        except OSError as exc:
            raise PostgresError('cannot run %s for %s: %s' % (argv[0], what, exc.strerror or exc)) from None
        self._stderr = StderrTail(self._process.stderr)

    def _read_some(self, size):
        return self._process.stdout.read(size)

    def _finish(self):
        code = self._process.wait()
        if code != 0:
            stderr = self._stderr.text()
            raise PostgresError('pg_dump of %s failed (exit code %d): %s' % (self.what, code, stderr_summary(stderr)),
                                exit_code=code, stderr=stderr)

    def close(self):
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._process.stdout.close()
        self._stderr.text(timeout=2.0)
        self._process.stderr.close()


def dump_stream(dsn, database=None, exclude_tables=(), pg_dump='pg_dump'):
    """Start ``pg_dump -Fc`` for ``database`` (default: the DSN's) and return a DumpReader over its output."""
    params, password = split_dsn(dsn, database)
    argv = dump_command(params, exclude_tables, pg_dump)
    return ProcessDumpReader(argv, _child_env(password), describe_target(params))


def restore_stream(dsn, chunks, clean=True, no_owner=True, pg_restore='pg_restore', database=None, single_transaction=True):
    """Feed the dump ``chunks`` (an iterable of bytes) to ``pg_restore``; returns {'bytes', 'warnings'}.
    Raises PostgresError naming the exit code and the end of pg_restore's stderr."""
    params, password = split_dsn(dsn, database)
    argv = restore_command(params, clean, no_owner, single_transaction, pg_restore)
    what = describe_target(params)
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                   stderr=subprocess.PIPE, env=_child_env(password), bufsize=0)
    except OSError as exc:
        raise PostgresError('cannot run %s for %s: %s' % (pg_restore, what, exc.strerror or exc)) from None
    stderr_tail = StderrTail(process.stderr)
    written = 0
    try:
        for chunk in chunks:
            try:
                process.stdin.write(chunk)
            except BrokenPipeError:
                break  # pg_restore gave up; its exit code and stderr say why
            written += len(chunk)
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        stderr = stderr_tail.text()
        process.stderr.close()
    if code != 0:
        raise PostgresError('pg_restore into %s failed (exit code %d): %s' % (what, code, stderr_summary(stderr)),
                            exit_code=code, stderr=stderr)
    return {'bytes': written, 'warnings': [line for line in stderr.splitlines() if line.strip()]}


def tool_version(binary='pg_dump'):
    """The version a PostgreSQL client tool reports, e.g. '15.18'."""
    try:
        result = subprocess.run([binary, '--version'], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PostgresError('cannot run %s --version: %s' % (binary, getattr(exc, 'strerror', None) or exc)) from None
    return parse_version(result.stdout, binary)
