# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pod mode: ``pg_dump``/``pg_restore`` run inside a pod (the Kloudfuse configdb pod) through ``pods/exec``.

Private to the collection (``_postgres`` package). The ``kubernetes`` client runs the exec in binary mode (stdout
is not UTF-8 decoded). A password given to us is sent on the exec's stdin, read by a tiny ``sh`` wrapper into
``PGPASSWORD``, so it appears neither in the exec URL (API-server audit logs) nor in the pod's process list. The exit
status comes from the error channel (channel 3, a metav1.Status document).
"""

from __future__ import annotations

import json
import re
import select
import ssl

from ansible_collections.kfuse.failover.plugins.module_utils import kube
from ansible_collections.kfuse.failover.plugins.module_utils._postgres.stream import (
    STDERR_TAIL_BYTES,
    DumpReader,
    dump_args,
    restore_args,
    stderr_summary,
)
from ansible_collections.kfuse.failover.plugins.module_utils.errors import PostgresError

STDIN_CHANNEL = 0
STDOUT_CHANNEL = 1
STDERR_CHANNEL = 2
ERROR_CHANNEL = 3
CLOSE_CHANNEL = 255
V5_PROTOCOL = 'v5.channel.k8s.io'
STDIN_FRAME_SIZE = 64 * 1024
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def _connection_args(database=None, username=None, host=None, port=None):
    args = []
    if host:
        args.append('--host=%s' % host)
    if port:
        args.append('--port=%s' % port)
    if username:
        args.append('--username=%s' % username)
    if database:
        args.append('--dbname=%s' % database)
    return args


def _wrap_password(argv, password=None, password_env=None):
    """argv wrapped so the tool gets PGPASSWORD from stdin's first line or from another env variable."""
    if password is not None and password_env:
        raise PostgresError('password and password_env are mutually exclusive')
    if password is not None:
        if '\n' in password or '\r' in password:
            raise PostgresError('a password with a line break cannot be sent to the pod')
        # `read` takes one line from stdin byte by byte, so the rest of stdin stays for the tool.
        return ['sh', '-c', 'IFS= read -r PGPASSWORD || exit 97; export PGPASSWORD; exec "$@"', 'sh'] + argv
    if password_env:
        if not _ENV_NAME.match(password_env):
            raise PostgresError('password_env must be an environment variable name, got %r' % (password_env,))
        return ['sh', '-c', 'PGPASSWORD="${%s}"; export PGPASSWORD; exec "$@"' % password_env, 'sh'] + argv
    return argv


def pod_dump_command(database, exclude_tables=(), username=None, host=None, port=None, pg_dump='pg_dump',
                     password=None, password_env=None):
    """argv run in the pod for a dump."""
    argv = [pg_dump] + dump_args(exclude_tables) + _connection_args(database, username, host, port)
    return _wrap_password(argv, password, password_env)


def pod_restore_command(database, clean=True, no_owner=True, single_transaction=True, username=None, host=None,
                        port=None, pg_restore='pg_restore', password=None, password_env=None):
    """argv run in the pod for a restore from stdin."""
    argv = [pg_restore] + restore_args(clean, no_owner, single_transaction) + _connection_args(database, username, host, port)
    return _wrap_password(argv, password, password_env)


# Go's os/exec wording, which kubelets that do not map an exit to NonZeroExitCode (kwok) leave in the message.
_GO_EXIT_STATUS = re.compile(r'\bexit status (\d+)$')


def exit_code_from_status(status):
    """0 for a Success metav1.Status, the ExitCode cause for a failure, None when the status names none.

    Kubelets that do not map a command's exit to NonZeroExitCode (virtual kubelets such as kwok) report a failure
    whose message ends with Go's ``exit status N``; that N is the exit code too.
    """
    if not isinstance(status, dict):
        return None
    if status.get('status') == 'Success':
        return 0
    for cause in ((status.get('details') or {}).get('causes') or []):
        if cause.get('reason') == 'ExitCode':
            try:
                return int(cause.get('message'))
            except (TypeError, ValueError):
                return None
    found = _GO_EXIT_STATUS.search(str(status.get('message') or ''))
    return int(found.group(1)) if found else None


class PodExec:
    """One exec session in binary mode, read frame by frame so at most one frame is buffered."""

    def __init__(self, core_v1, namespace, pod, command, container=None, stdin=False, timeout=None):
        kube.require_kubernetes('pod mode', PostgresError)
        self.where = 'pod %s/%s' % (namespace, pod) + (' container %s' % container if container else '')
        kwargs = {'command': command, 'stdin': stdin, 'stdout': True, 'stderr': True, 'tty': False,
                  'binary': True, '_preload_content': False}
        if container:
            kwargs['container'] = container
        try:
            self.client = kube.k8s_stream(core_v1.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
        except kube.ApiException as exc:
            raise PostgresError('cannot exec in %s: %s' % (self.where, exc.reason or exc.status)) from None
        except (kube.WebSocketException, OSError) as exc:
            raise PostgresError('cannot exec in %s: %s' % (self.where, exc)) from None
        if timeout:
            self.client.sock.settimeout(timeout)
        self.v5 = self.client.subprotocol == V5_PROTOCOL
        self.stderr = bytearray()
        self.status_raw = bytearray()
        self.closed = False

    def next_stdout(self, block=True):
        """The next stdout bytes (b'' when a frame carried none), or None once the session ended."""
        while not self.closed:
            if not block and not self._frame_waiting():
                return b''
            try:
                opcode, frame = self.client.sock.recv_data_frame(True)
            except (kube.WebSocketException, OSError):
                self.closed = True
                break
            if opcode == kube.ABNF.OPCODE_CLOSE:
                self.closed = True
                break
            if opcode not in (kube.ABNF.OPCODE_BINARY, kube.ABNF.OPCODE_TEXT) or not frame.data:
                continue
            data = frame.data if isinstance(frame.data, bytes) else frame.data.encode('utf-8')
            channel, payload = data[0], data[1:]
            if channel == STDOUT_CHANNEL:
                return payload
            if channel == STDERR_CHANNEL:
                self.stderr += payload
                if len(self.stderr) > STDERR_TAIL_BYTES:
                    del self.stderr[:len(self.stderr) - STDERR_TAIL_BYTES]
            elif channel == ERROR_CHANNEL:
                self.status_raw += payload
        return None

    def _frame_waiting(self):
        sock = self.client.sock.sock
        if sock is None:
            return True
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        readable, _w, _x = select.select([sock], [], [], 0)
        return bool(readable)

    def send_stdin(self, data):
        """Send bytes on stdin in frames of bounded size; False when the other side has gone."""
        view = memoryview(data)
        for start in range(0, len(view), STDIN_FRAME_SIZE):
            try:
                self.client.sock.send(bytes((STDIN_CHANNEL,)) + view[start:start + STDIN_FRAME_SIZE].tobytes(),
                                      opcode=kube.ABNF.OPCODE_BINARY)
            except (kube.WebSocketException, OSError):
                return False
        return True

    def close_stdin(self):
        """Signal the end of stdin (v5.channel.k8s.io only); False when the other side has gone."""
        try:
            self.client.sock.send(bytes((CLOSE_CHANNEL, STDIN_CHANNEL)), opcode=kube.ABNF.OPCODE_BINARY)
        except (kube.WebSocketException, OSError):
            return False
        return True

    def drain(self):
        """Read until the session ends, keeping stderr and the status (stdout is discarded)."""
        while self.next_stdout() is not None:
            pass

    def status(self):
        if not self.status_raw:
            return None
        try:
            return json.loads(bytes(self.status_raw).decode('utf-8', 'replace'))
        except ValueError:
            return {'status': 'Failure', 'message': bytes(self.status_raw).decode('utf-8', 'replace')}

    def stderr_text(self):
        return bytes(self.stderr).decode('utf-8', 'replace')

    def close(self):
        self.closed = True
        try:
            self.client.close()
        except (kube.WebSocketException, OSError):
            pass

    def failure(self, tool, action):
        """PostgresError for a session that did not end with Success, else None."""
        status = self.status()
        code = exit_code_from_status(status)
        if code == 0:
            return None
        stderr = self.stderr_text()
        if status is None:
            reason = 'the exec stream ended without an exit status'
        elif code is None:
            reason = str(status.get('message') or status.get('reason') or 'exec failed')
        else:
            reason = 'exit code %d' % code
        return PostgresError('%s %s in %s failed (%s): %s' % (tool, action, self.where, reason, stderr_summary(stderr)),
                             exit_code=code, stderr=stderr)


class PodDumpReader(DumpReader):
    """Pod mode: pg_dump's stdout through the exec websocket."""

    def __init__(self, session, what, tool):
        super().__init__(what)
        self._session = session
        self._tool = tool
        self._pending = b''

    def _read_some(self, size):
        while not self._pending:
            data = self._session.next_stdout()
            if data is None:
                return b''
            self._pending = data
        block, self._pending = self._pending[:size], self._pending[size:]
        return block

    def _finish(self):
        error = self._session.failure(self._tool, 'of %s' % self.what)
        self._session.close()
        if error is not None:
            raise error

    def close(self):
        self._session.close()


def pod_dump_stream(core_v1, namespace, pod, database, exclude_tables=(), container=None, username=None,
                    password=None, password_env=None, host=None, port=None, pg_dump='pg_dump', timeout=None):
    """``pg_dump -Fc`` run in ``pod``; returns a DumpReader over its stdout (binary, never decoded)."""
    command = pod_dump_command(database, exclude_tables, username, host, port, pg_dump, password, password_env)
    session = PodExec(core_v1, namespace, pod, command, container, stdin=password is not None, timeout=timeout)
    if password is not None:
        session.send_stdin(password.encode('utf-8') + b'\n')
        if session.v5:
            session.close_stdin()
    return PodDumpReader(session, 'database "%s"' % database, pg_dump)


def pod_restore_stream(core_v1, namespace, pod, chunks, database, clean=True, no_owner=True, container=None,
                       username=None, password=None, password_env=None, host=None, port=None,
                       pg_restore='pg_restore', single_transaction=True, timeout=None):
    """Feed the dump ``chunks`` to ``pg_restore`` run in ``pod``; returns {'bytes', 'warnings'}."""
    command = pod_restore_command(database, clean, no_owner, single_transaction, username, host, port, pg_restore,
                                  password, password_env)
    session = PodExec(core_v1, namespace, pod, command, container, stdin=True, timeout=timeout)
    try:
        if not session.v5:
            # Without v5 the API server cannot pass on the end of stdin, so pg_restore would wait forever.
            offered = session.client.subprotocol or 'none'
            raise PostgresError('restore in %s needs the %s exec protocol (Kubernetes 1.30 or later) to signal the '
                                'end of the dump; the API server offered %s' % (session.where, V5_PROTOCOL, offered))
        if password is not None:
            session.send_stdin(password.encode('utf-8') + b'\n')
        written = 0
        for chunk in chunks:
            if not session.send_stdin(chunk):
                break
            written += len(chunk)
            # Keep reading what the pod says so its output never fills up and stalls it.
            while not session.closed and session.next_stdout(block=False):
                pass
        session.close_stdin()
        session.drain()
        error = session.failure(pg_restore, 'into database "%s"' % database)
        if error is not None:
            raise error
        stderr = session.stderr_text()
        return {'bytes': written, 'warnings': [line for line in stderr.splitlines() if line.strip()]}
    finally:
        session.close()


def new_core_v1(api_client):
    """CoreV1Api over an ApiClient from kube.new_api_client()."""
    kube.require_kubernetes('pod mode', PostgresError)
    return kube.k8s_client.CoreV1Api(api_client)
