# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""pg_dump / pg_restore streams, against a DSN or inside a pod through the Kubernetes exec API.

Dumps are PostgreSQL's custom format (``pg_dump -Fc``) and are never held in memory: a dump is a reader with
``read(n)`` over the tool's output, and a restore consumes an iterable of byte chunks into the tool's input.

DSN mode runs the local ``pg_dump``/``pg_restore``. A password found in the DSN travels in ``PGPASSWORD`` of the
child's environment; the command line carries a connection string without it, and no message ever shows it.

Pod mode runs the tools in a pod (the Kloudfuse configdb pod) through ``pods/exec`` with the ``kubernetes`` client
in binary mode (stdout is not UTF-8 decoded). A password given to us is sent on the exec's stdin, read by a tiny
``sh`` wrapper into ``PGPASSWORD``, so it appears neither in the exec URL (API-server audit logs) nor in the pod's
process list. The exit status comes from the error channel (channel 3, a metav1.Status document).
"""

from __future__ import annotations

import json
import os
import re
import select
import ssl
import subprocess
import threading
import traceback
from urllib.parse import parse_qsl, unquote

from ansible_collections.kfuse.failover.plugins.module_utils.errors import PostgresError

try:
    from kubernetes import client as k8s_client
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import stream as k8s_stream
    from websocket import ABNF, WebSocketException
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

STDIN_CHANNEL = 0
STDOUT_CHANNEL = 1
STDERR_CHANNEL = 2
ERROR_CHANNEL = 3
CLOSE_CHANNEL = 255
V5_PROTOCOL = 'v5.channel.k8s.io'
DEFAULT_CHUNK_SIZE = 1024 * 1024
STDIN_FRAME_SIZE = 64 * 1024
STDERR_TAIL_BYTES = 8 * 1024
DEFAULT_CONNECT_TIMEOUT = '10'
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_PLAIN_VALUE = re.compile(r"^[^\s'\\]+$")
_VERSION = re.compile(r'\b(\d+(?:\.\d+)*(?:devel|beta\d*|rc\d*)?)\b')


# -- connection strings ------------------------------------------------------------------------------------------

def _parse_uri(dsn):
    rest = dsn.split('://', 1)[1]
    rest, _hash, query = rest.partition('?')
    netloc, _slash, path = rest.partition('/')
    params = {}
    userinfo, at_sign, hostspec = netloc.rpartition('@')
    if not at_sign:
        userinfo, hostspec = '', netloc
    if userinfo:
        user, colon, password = userinfo.partition(':')
        if user:
            params['user'] = unquote(user)
        if colon:
            params['password'] = unquote(password)
    hosts, ports = [], []
    for item in hostspec.split(','):
        if item.startswith('['):
            host, _bracket, tail = item[1:].partition(']')
            port = tail[1:] if tail.startswith(':') else ''
        else:
            host, colon, port = item.rpartition(':')
            if not colon:
                host, port = item, ''
        hosts.append(unquote(host))
        ports.append(port)
    if any(hosts):
        params['host'] = ','.join(hosts)
    if any(ports):
        params['port'] = ','.join(ports)
    if path:
        params['dbname'] = unquote(path)
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = value
    return params


def _parse_keywords(dsn):
    params = {}
    position, length = 0, len(dsn)
    while position < length:
        while position < length and dsn[position].isspace():
            position += 1
        if position >= length:
            break
        equals = dsn.find('=', position)
        if equals < 0:
            raise PostgresError('invalid connection string: missing "=" after %r' % dsn[position:position + 20].split()[0])
        key = dsn[position:equals].strip()
        position = equals + 1
        while position < length and dsn[position].isspace():
            position += 1
        value = []
        if position < length and dsn[position] == "'":
            position += 1
            while position < length and dsn[position] != "'":
                if dsn[position] == '\\' and position + 1 < length:
                    position += 1
                value.append(dsn[position])
                position += 1
            if position >= length:
                raise PostgresError('invalid connection string: unterminated quoted value for %s' % key)
            position += 1
        else:
            while position < length and not dsn[position].isspace():
                if dsn[position] == '\\' and position + 1 < length:
                    position += 1
                value.append(dsn[position])
                position += 1
        params[key] = ''.join(value)
    return params


def parse_dsn(dsn):
    """Connection parameters of a libpq URI (postgresql://...) or keyword/value string, as a dict."""
    dsn = (dsn or '').strip()
    if dsn.startswith(('postgresql://', 'postgres://')):
        return _parse_uri(dsn)
    return _parse_keywords(dsn)


def _quote(value):
    value = str(value)
    if _PLAIN_VALUE.match(value):
        return value
    return "'%s'" % value.replace('\\', '\\\\').replace("'", "\\'")


def build_conninfo(params):
    """A keyword/value connection string from ``params`` (values quoted as libpq expects)."""
    return ' '.join('%s=%s' % (key, _quote(value)) for key, value in params.items())


def split_dsn(dsn, database=None):
    """(params without the password, password or None); ``database`` overrides the DSN's dbname."""
    params = parse_dsn(dsn)
    password = params.pop('password', None)
    if database:
        params['dbname'] = database
    params.setdefault('connect_timeout', DEFAULT_CONNECT_TIMEOUT)
    return params, password


def describe_target(params):
    """'database "x" on host:port as user' without any secret, for messages."""
    where = params.get('host') or 'the default host'
    if params.get('port'):
        where += ':%s' % params['port']
    text = 'database "%s" on %s' % (params.get('dbname') or params.get('user') or 'default', where)
    if params.get('user'):
        text += ' as %s' % params['user']
    return text


def redact(text, secrets):
    """``text`` with every non-empty secret replaced by '********'."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, '********')
    return text


# -- commands ------------------------------------------------------------------------------------------------------

def dump_args(exclude_tables=()):
    """pg_dump options shared by both modes: custom format, never prompt, excluded tables."""
    args = ['--format=custom', '--no-password']
    for table in exclude_tables or ():
        if not table or '\n' in table:
            raise PostgresError('exclude_tables entries must be non-empty table names or patterns, got %r' % (table,))
        args.append('--exclude-table=%s' % table)
    return args


def restore_args(clean=True, no_owner=True, single_transaction=True):
    """pg_restore options shared by both modes; input is always stdin."""
    args = ['--format=custom', '--no-password']
    if clean:
        args += ['--clean', '--if-exists']
    if no_owner:
        args.append('--no-owner')
    if single_transaction:
        # One transaction: a failed restore leaves the database as it was, never half restored.
        args.append('--single-transaction')
    return args


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


class _StderrTail:
    """Drains a pipe on a thread (so the child never blocks on it), keeping only its last bytes."""

    def __init__(self, pipe, limit=STDERR_TAIL_BYTES):
        self._pipe = pipe
        self._limit = limit
        self._data = bytearray()
        self._thread = threading.Thread(target=self._drain, name='kfuse-pg-stderr', daemon=True)
        self._thread.start()

    def _drain(self):
        while True:
            block = self._pipe.read(4096)
            if not block:
                return
            self._data += block
            if len(self._data) > self._limit:
                del self._data[:len(self._data) - self._limit]

    def text(self, timeout=5.0):
        self._thread.join(timeout)
        return self._data.decode('utf-8', 'replace')


def _stderr_summary(stderr, secrets):
    lines = [line.strip() for line in redact(stderr or '', secrets).splitlines() if line.strip()]
    return ' | '.join(lines[-6:]) if lines else 'no error output'


class DumpReader:
    """A binary reader over a running dump. ``read(n)`` returns n bytes until the end, then b''; at the end it
    raises PostgresError if the dump failed. ``max_buffered`` is the most bytes it ever held at once."""

    def __init__(self, what):
        self.what = what
        self.bytes_read = 0
        self.max_buffered = 0
        self._finished = False

    def _read_some(self, size):
        """Up to ``size`` bytes, b'' at the end of the output (subclasses)."""
        raise NotImplementedError

    def _finish(self):
        """Called once at the end of the output: raise PostgresError when the tool failed (subclasses)."""
        raise NotImplementedError

    def read(self, size=-1):
        if self._finished:
            return b''
        if size is None or size < 0:
            # The caller asked for everything: honour it, it is their memory.
            size = float('inf')
        out = bytearray()
        while len(out) < size:
            block = self._read_some(int(min(size - len(out), DEFAULT_CHUNK_SIZE)))
            if not block:
                self._finished = True
                self._finish()
                break
            out += block
            self.max_buffered = max(self.max_buffered, len(out))
        self.bytes_read += len(out)
        return bytes(out)

    def readable(self):
        return True

    def chunks(self, chunk_size=DEFAULT_CHUNK_SIZE):
        """Iterate the dump in chunks of ``chunk_size`` bytes."""
        while True:
            block = self.read(chunk_size)
            if not block:
                return
            yield block

    def __iter__(self):
        return self.chunks()

    def close(self):
        """Release the stream; stops the tool when the dump was not read to the end."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class ProcessDumpReader(DumpReader):
    """DSN mode: pg_dump's stdout."""

    def __init__(self, argv, env, what, secrets):
        super().__init__(what)
        self._secrets = secrets
        try:
            self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                             stderr=subprocess.PIPE, env=env, bufsize=0)
        except OSError as exc:
            raise PostgresError('cannot run %s for %s: %s' % (argv[0], what, exc.strerror or exc)) from None
        self._stderr = _StderrTail(self._process.stderr)

    def _read_some(self, size):
        return self._process.stdout.read(size)

    def _finish(self):
        code = self._process.wait()
        if code != 0:
            stderr = redact(self._stderr.text(), self._secrets)
            raise PostgresError('pg_dump of %s failed (exit code %d): %s' % (self.what, code, _stderr_summary(stderr, ())),
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
    return ProcessDumpReader(argv, _child_env(password), describe_target(params), [password])


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
    stderr_tail = _StderrTail(process.stderr)
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
        stderr = redact(stderr_tail.text(), [password])
        process.stderr.close()
    if code != 0:
        raise PostgresError('pg_restore into %s failed (exit code %d): %s' % (what, code, _stderr_summary(stderr, ())),
                            exit_code=code, stderr=stderr)
    return {'bytes': written, 'warnings': [line for line in stderr.splitlines() if line.strip()]}


def tool_version(binary='pg_dump'):
    """The version a PostgreSQL client tool reports, e.g. '15.18'."""
    try:
        result = subprocess.run([binary, '--version'], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PostgresError('cannot run %s --version: %s' % (binary, getattr(exc, 'strerror', None) or exc)) from None
    return parse_version(result.stdout, binary)


def parse_version(output, binary='pg_dump'):
    """'15.18' from 'pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'."""
    head = (output or '').strip().splitlines()[0] if (output or '').strip() else ''
    after = head.split(')', 1)[1] if ')' in head else head
    match = _VERSION.search(after)
    if not match:
        raise PostgresError('cannot tell the version of %s from %r' % (binary, head[:200]))
    return match.group(1)


# -- pod mode --------------------------------------------------------------------------------------------------------

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


def exit_code_from_status(status):
    """0 for a Success metav1.Status, the ExitCode cause for a failure, None when the status names none."""
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
    return None


class PodExec:
    """One exec session in binary mode, read frame by frame so at most one frame is buffered."""

    def __init__(self, core_v1, namespace, pod, command, container=None, stdin=False, timeout=None):
        if not HAS_KUBERNETES:
            raise PostgresError('the kubernetes Python library is required for pod mode')
        self.where = 'pod %s/%s' % (namespace, pod) + (' container %s' % container if container else '')
        kwargs = {'command': command, 'stdin': stdin, 'stdout': True, 'stderr': True, 'tty': False,
                  'binary': True, '_preload_content': False}
        if container:
            kwargs['container'] = container
        try:
            self.client = k8s_stream(core_v1.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
        except ApiException as exc:
            raise PostgresError('cannot exec in %s: %s' % (self.where, exc.reason or exc.status)) from None
        except (WebSocketException, OSError) as exc:
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
            except (WebSocketException, OSError):
                self.closed = True
                break
            if opcode == ABNF.OPCODE_CLOSE:
                self.closed = True
                break
            if opcode not in (ABNF.OPCODE_BINARY, ABNF.OPCODE_TEXT) or not frame.data:
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
                                      opcode=ABNF.OPCODE_BINARY)
            except (WebSocketException, OSError):
                return False
        return True

    def close_stdin(self):
        """Signal the end of stdin (v5.channel.k8s.io only); False when the other side has gone."""
        try:
            self.client.sock.send(bytes((CLOSE_CHANNEL, STDIN_CHANNEL)), opcode=ABNF.OPCODE_BINARY)
        except (WebSocketException, OSError):
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
        except (WebSocketException, OSError):
            pass

    def failure(self, tool, action, secrets):
        """PostgresError for a session that did not end with Success, else None."""
        status = self.status()
        code = exit_code_from_status(status)
        if code == 0:
            return None
        stderr = redact(self.stderr_text(), secrets)
        if status is None:
            reason = 'the exec stream ended without an exit status'
        elif code is None:
            reason = redact(str(status.get('message') or status.get('reason') or 'exec failed'), secrets)
        else:
            reason = 'exit code %d' % code
        return PostgresError('%s %s in %s failed (%s): %s' % (tool, action, self.where, reason, _stderr_summary(stderr, ())),
                             exit_code=code, stderr=stderr)


class PodDumpReader(DumpReader):
    """Pod mode: pg_dump's stdout through the exec websocket."""

    def __init__(self, session, what, secrets, tool):
        super().__init__(what)
        self._session = session
        self._secrets = secrets
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
        error = self._session.failure(self._tool, 'of %s' % self.what, self._secrets)
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
    return PodDumpReader(session, 'database "%s"' % database, [password], pg_dump)


def pod_restore_stream(core_v1, namespace, pod, chunks, database, clean=True, no_owner=True, container=None,
                       username=None, password=None, password_env=None, host=None, port=None,
                       pg_restore='pg_restore', single_transaction=True, timeout=None):
    """Feed the dump ``chunks`` to ``pg_restore`` run in ``pod``; returns {'bytes', 'warnings'}."""
    command = pod_restore_command(database, clean, no_owner, single_transaction, username, host, port, pg_restore,
                                  password, password_env)
    session = PodExec(core_v1, namespace, pod, command, container, stdin=True, timeout=timeout)
    secrets = [password]
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
        error = session.failure(pg_restore, 'into database "%s"' % database, secrets)
        if error is not None:
            raise error
        stderr = redact(session.stderr_text(), secrets)
        return {'bytes': written, 'warnings': [line for line in stderr.splitlines() if line.strip()]}
    finally:
        session.close()


def pod_tool_version(core_v1, namespace, pod, container=None, binary='pg_dump', timeout=60):
    """The version of a PostgreSQL tool inside the pod, e.g. '15.18'."""
    session = PodExec(core_v1, namespace, pod, [binary, '--version'], container, timeout=timeout)
    try:
        output = bytearray()
        while True:
            data = session.next_stdout()
            if data is None:
                break
            output += data
        error = session.failure(binary, '--version', ())
        if error is not None:
            raise error
        return parse_version(output.decode('utf-8', 'replace'), binary)
    finally:
        session.close()


def new_core_v1(api_client):
    """CoreV1Api over an ApiClient from kube.new_api_client()."""
    if not HAS_KUBERNETES:
        raise PostgresError('the kubernetes Python library is required for pod mode')
    return k8s_client.CoreV1Api(api_client)
