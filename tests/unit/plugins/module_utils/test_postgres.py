# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Command construction, connection strings, error messages and password handling of the _postgres package, with stand-in
tools (small scripts) and a stand-in exec websocket."""

from __future__ import annotations

import json
import os
import sys

import pytest
from websocket import ABNF

from ansible_collections.kfuse.failover.plugins.module_utils import errors, kube
from ansible_collections.kfuse.failover.plugins.module_utils._postgres import dsn, local, stream
from ansible_collections.kfuse.failover.plugins.module_utils._postgres import pod as pg_pod
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KfuseError

SECRET = "s3cr3t-P@ss word'"


# -- connection strings ------------------------------------------------------------------------------------------

def test_parse_uri_with_encoded_parts_and_query():
    params = dsn.parse_dsn("postgresql://us%40er:p%3Ass%2F@db.example:5433/app%20db?sslmode=require&application_name=x")
    assert params == {"user": "us@er", "password": "p:ss/", "host": "db.example", "port": "5433", "dbname": "app db",
                      "sslmode": "require", "application_name": "x"}


def test_parse_uri_multi_host_and_ipv6():
    params = dsn.parse_dsn("postgres://h1:5432,[::1]:5433/db")
    assert params == {"host": "h1,::1", "port": "5432,5433", "dbname": "db"}
    assert dsn.parse_dsn("postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql") == {
        "dbname": "db", "host": "/var/run/postgresql"}


def test_parse_keyword_string_with_quotes_and_escapes():
    params = dsn.parse_dsn(r"host=h port = 5 password='a b\'c' dbname=x user=u\ v")
    assert params == {"host": "h", "port": "5", "password": "a b'c", "dbname": "x", "user": "u v"}
    with pytest.raises(KfuseError, match="unterminated"):
        dsn.parse_dsn("password='abc")
    with pytest.raises(KfuseError, match="missing"):
        dsn.parse_dsn("host")


@pytest.mark.parametrize("value", ["plain", "with space", "quote'd", "back\\slash", "", "=eq"])
def test_conninfo_quoting_round_trips(value):
    params = {"host": "h", "application_name": value}
    assert dsn.parse_dsn(dsn.build_conninfo(params)) == params


def test_split_dsn_removes_the_password_and_overrides_the_database():
    params, password = dsn.split_dsn("postgresql://kfuse:%s@127.0.0.1:5432/postgres" % "pw%20x", "configdb")
    assert password == "pw x"
    assert params == {"user": "kfuse", "host": "127.0.0.1", "port": "5432", "dbname": "configdb", "connect_timeout": "10"}
    params, password = dsn.split_dsn("dbname=a connect_timeout=3")
    assert password is None and params == {"dbname": "a", "connect_timeout": "3"}


# -- commands -----------------------------------------------------------------------------------------------------

def test_dump_command():
    params, _password = dsn.split_dsn("postgresql://u:pw@h:1/db")
    argv = local.dump_command(params, exclude_tables=("audit_log", "public.big*"), pg_dump="/opt/pg_dump")
    assert argv == ["/opt/pg_dump", "--format=custom", "--no-password", "--exclude-table=audit_log",
                    "--exclude-table=public.big*", "--dbname=user=u host=h port=1 dbname=db connect_timeout=10"]
    with pytest.raises(KfuseError, match="password"):
        local.dump_command({"password": "x"})
    with pytest.raises(KfuseError, match="exclude_tables"):
        local.dump_command({}, exclude_tables=[""])


@pytest.mark.parametrize("clean,no_owner,single,expected", [
    (True, True, True, ["--clean", "--if-exists", "--no-owner", "--single-transaction"]),
    (False, False, False, []),
    (False, True, False, ["--no-owner"]),
])
def test_restore_command(clean, no_owner, single, expected):
    argv = local.restore_command({"dbname": "x"}, clean=clean, no_owner=no_owner, single_transaction=single)
    assert argv == ["pg_restore", "--format=custom", "--no-password"] + expected + ["--dbname=dbname=x"]


def test_pod_commands_keep_the_password_off_the_command_line():
    plain = pg_pod.pod_dump_command("configdb", ("t",), username="postgres", host="localhost", port=5432)
    assert plain == ["pg_dump", "--format=custom", "--no-password", "--exclude-table=t", "--host=localhost",
                     "--port=5432", "--username=postgres", "--dbname=configdb"]
    wrapped = pg_pod.pod_dump_command("configdb", password=SECRET)
    assert wrapped[:2] == ["sh", "-c"] and "read -r PGPASSWORD" in wrapped[2]
    assert wrapped[4:] == ["pg_dump", "--format=custom", "--no-password", "--dbname=configdb"]
    assert not any(SECRET in arg for arg in wrapped)
    from_env = pg_pod.pod_restore_command("configdb", password_env="POSTGRES_PASSWORD")
    assert '"${POSTGRES_PASSWORD}"' in from_env[2] and from_env[4] == "pg_restore"
    with pytest.raises(KfuseError, match="password_env"):
        pg_pod.pod_dump_command("db", password_env="X; rm -rf /")
    with pytest.raises(KfuseError, match="mutually exclusive"):
        pg_pod.pod_dump_command("db", password="a", password_env="B")
    with pytest.raises(KfuseError, match="line break"):
        pg_pod.pod_dump_command("db", password="a\nb")


def test_exit_code_from_status():
    assert pg_pod.exit_code_from_status({"status": "Success"}) == 0
    assert pg_pod.exit_code_from_status({"status": "Failure", "details": {"causes": [
        {"reason": "Other", "message": "x"}, {"reason": "ExitCode", "message": "7"}]}}) == 7
    assert pg_pod.exit_code_from_status({"status": "Failure", "message": "no"}) is None
    assert pg_pod.exit_code_from_status(None) is None
    # kwok's form: the command's exit only in an InternalError's message.
    assert pg_pod.exit_code_from_status({"status": "Failure", "reason": "InternalError", "message": (
        "Internal error occurred: error executing command in container: cmd wait: sh -c exit 3: exit status 3")}) == 3
    assert pg_pod.exit_code_from_status({"status": "Failure", "message": "exit status 3 and more"}) is None


@pytest.mark.parametrize("output,version", [
    ("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", "15.18"),
    ("pg_restore (PostgreSQL) 17devel\n", "17devel"),
    ("pg_dump (PostgreSQL) 9.6.24\n", "9.6.24"),
])
def test_parse_version(output, version):
    assert stream.parse_version(output) == version


def test_parse_version_failure_is_clear():
    with pytest.raises(errors.PostgresError, match="cannot tell the version of pg_dump"):
        stream.parse_version("")


# -- stand-in tools ------------------------------------------------------------------------------------------------

def write_tool(tmp_path, name, body):
    """A small Python script standing in for pg_dump / pg_restore; it records its argv and PGPASSWORD."""
    path = tmp_path / name
    record = tmp_path / (name + ".json")
    path.write_text("#!%s\nimport json, os, sys\n"
                    "json.dump({'argv': sys.argv, 'pgpassword': os.environ.get('PGPASSWORD')}, open(%r, 'w'))\n%s"
                    % (sys.executable, str(record), body))
    path.chmod(0o755)
    return str(path), record


def test_dump_failure_message_has_exit_code_and_stderr_but_no_password(tmp_path):
    tool, record = write_tool(tmp_path, "pg_dump", (
        "sys.stdout.buffer.write(b'PGDMP' + b'x' * 100000); sys.stdout.flush()\n"
        "sys.stderr.write('pg_dump: error: connection failed: password %s rejected\\n' % os.environ['PGPASSWORD'])\n"
        "sys.exit(2)\n"))
    dsn = "host=db.internal port=5432 user=kfuse dbname=configdb password='%s'" % SECRET.replace("'", "\\'")
    reader = local.dump_stream(dsn, pg_dump=tool)
    assert reader.read(5) == b"PGDMP"
    with pytest.raises(errors.PostgresError) as caught:
        while reader.read(4096):
            pass
    reader.close()
    message = str(caught.value)
    # The tool's own words are kept; the module base masks the password (registered from the DSN) in the result.
    assert message == ('pg_dump of database "configdb" on db.internal:5432 as kfuse failed (exit code 2): '
                       'pg_dump: error: connection failed: password %s rejected' % SECRET)
    assert caught.value.exit_code == 2
    seen = json.loads(record.read_text())
    assert seen["pgpassword"] == SECRET
    assert not any(SECRET in arg for arg in seen["argv"])
    assert reader.max_buffered <= 4096


def test_dump_read_returns_full_blocks(tmp_path):
    tool, _record = write_tool(tmp_path, "pg_dump", (
        "import time\nfor _ in range(5):\n    sys.stdout.buffer.write(b'a' * 1000); sys.stdout.flush(); time.sleep(0.01)\n"))
    with local.dump_stream("dbname=x", pg_dump=tool) as reader:
        assert [len(block) for block in reader.chunks(2048)] == [2048, 2048, 904]
        assert reader.read(10) == b""


def test_missing_tool_is_reported():
    with pytest.raises(errors.PostgresError, match="cannot run /nonexistent/pg_dump for database \"x\""):
        local.dump_stream("dbname=x", pg_dump="/nonexistent/pg_dump")


def test_restore_feeds_stdin_and_reports_warnings(tmp_path):
    tool, record = write_tool(tmp_path, "pg_restore", (
        "data = sys.stdin.buffer.read()\nsys.stderr.write('pg_restore: warning: read %d\\n' % len(data))\n"))
    result = local.restore_stream("postgresql://u:%s@h/db" % "pw", [b"a" * 70000, b"b" * 30000], pg_restore=tool)
    assert result == {"bytes": 100000, "warnings": ["pg_restore: warning: read 100000"]}
    seen = json.loads(record.read_text())
    assert seen["pgpassword"] == "pw" and seen["argv"][-1] == "--dbname=user=u host=h dbname=db connect_timeout=10"


def test_restore_failure_stops_feeding_and_raises(tmp_path):
    tool, _record = write_tool(tmp_path, "pg_restore", (
        "sys.stderr.write('pg_restore: error: could not connect as %s\\n' % os.environ['PGPASSWORD'])\nsys.exit(1)\n"))

    def endless():
        while True:
            yield b"z" * 65536
    with pytest.raises(errors.PostgresError) as caught:
        local.restore_stream("host=h dbname=db password=%s" % "hunter2", endless(), pg_restore=tool)
    assert str(caught.value) == ('pg_restore into database "db" on h failed (exit code 1): '
                                 'pg_restore: error: could not connect as hunter2')


# -- stand-in exec websocket ------------------------------------------------------------------------------------

class FakeFrame:
    def __init__(self, data):
        self.data = data


class FakeSocket:
    """recv_data_frame/send of websocket-client, replaying scripted frames."""

    def __init__(self, frames):
        self.frames = list(frames)
        self.sent = []
        self.sock = None

    def recv_data_frame(self, _control_frame):
        if not self.frames:
            return ABNF.OPCODE_CLOSE, FakeFrame(b"")
        return ABNF.OPCODE_BINARY, FakeFrame(self.frames.pop(0))

    def send(self, payload, opcode):
        assert opcode == ABNF.OPCODE_BINARY
        self.sent.append(payload)

    def settimeout(self, _timeout):
        pass


class FakeClient:
    def __init__(self, frames, subprotocol="v5.channel.k8s.io"):
        self.sock = FakeSocket(frames)
        self.subprotocol = subprotocol
        self.closed = False

    def close(self):
        self.closed = True


class FakeCore:
    def connect_get_namespaced_pod_exec(self):  # only its identity matters to the stand-in stream
        raise AssertionError("not called directly")


def fake_stream(monkeypatch, client):
    calls = []

    def stream(method, pod, namespace, **kwargs):
        calls.append((method.__name__, pod, namespace, kwargs))
        return client
    monkeypatch.setattr(kube, "k8s_stream", stream)
    return calls


def status_frame(doc):
    return bytes((3,)) + json.dumps(doc).encode()


def test_pod_dump_reads_binary_stdout_and_sends_the_password_on_stdin(monkeypatch):
    payload = bytes(range(256)) * 10
    client = FakeClient([b"\x01" + payload[:1000], b"\x02notice\n", b"\x01" + payload[1000:], status_frame({"status": "Success"})])
    calls = fake_stream(monkeypatch, client)
    with pg_pod.pod_dump_stream(FakeCore(), "kfuse", "kfuse-configdb-0", "configdb", container="postgresql",
                                password=SECRET) as reader:
        assert reader.read() == payload
    name, pod, namespace, kwargs = calls[0]
    assert (name, pod, namespace) == ("connect_get_namespaced_pod_exec", "kfuse-configdb-0", "kfuse")
    assert kwargs["binary"] is True and kwargs["stdin"] is True and kwargs["container"] == "postgresql"
    assert not any(SECRET in arg for arg in kwargs["command"])
    assert client.sock.sent == [b"\x00" + SECRET.encode() + b"\n", b"\xff\x00"]


def test_pod_dump_failure_uses_the_exit_code(monkeypatch):
    failure = {"status": "Failure", "reason": "NonZeroExitCode",
               "details": {"causes": [{"reason": "ExitCode", "message": "1"}]}}
    client = FakeClient([b"\x02pg_dump: error: password " + SECRET.encode() + b" failed\n", status_frame(failure)])
    fake_stream(monkeypatch, client)
    reader = pg_pod.pod_dump_stream(FakeCore(), "kfuse", "db-0", "configdb", password=SECRET)
    with pytest.raises(errors.PostgresError) as caught:
        reader.read(10)
    assert str(caught.value) == ('pg_dump of database "configdb" in pod kfuse/db-0 failed (exit code 1): '
                                 'pg_dump: error: password %s failed' % SECRET)
    assert caught.value.exit_code == 1 and client.closed


def test_pod_stream_without_status_is_an_error(monkeypatch):
    fake_stream(monkeypatch, FakeClient([b"\x01PGDMP"]))
    reader = pg_pod.pod_dump_stream(FakeCore(), "ns", "p", "db")
    assert reader.read(5) == b"PGDMP"
    with pytest.raises(errors.PostgresError, match="ended without an exit status"):
        reader.read(5)


def test_pod_restore_needs_v5_to_close_stdin(monkeypatch):
    client = FakeClient([], subprotocol="v4.channel.k8s.io")
    fake_stream(monkeypatch, client)
    with pytest.raises(errors.PostgresError, match="needs the v5.channel.k8s.io exec protocol"):
        pg_pod.pod_restore_stream(FakeCore(), "ns", "p", [b"data"], "db")
    assert client.sock.sent == [] and client.closed


def test_pod_restore_sends_bounded_frames_then_closes_stdin(monkeypatch):
    client = FakeClient([status_frame({"status": "Success"})])
    fake_stream(monkeypatch, client)
    result = pg_pod.pod_restore_stream(FakeCore(), "ns", "p", [b"x" * 150000], "db", password="pw")
    assert result == {"bytes": 150000, "warnings": []}
    sizes = [len(frame) - 1 for frame in client.sock.sent]
    assert client.sock.sent[0] == b"\x00pw\n" and sizes[1:4] == [65536, 65536, 18928]
    assert client.sock.sent[-1] == b"\xff\x00"


def test_env_is_not_mutated(monkeypatch, tmp_path):
    monkeypatch.setenv("PGPASSWORD", "ambient")
    tool, record = write_tool(tmp_path, "pg_dump", "")
    with local.dump_stream("dbname=x", pg_dump=tool) as reader:
        reader.read()
    assert json.loads(record.read_text())["pgpassword"] == "ambient"
    assert os.environ["PGPASSWORD"] == "ambient"
