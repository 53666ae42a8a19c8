# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_dump / pg_restore streams of the module_utils._postgres package against a real throwaway PostgreSQL, in DSN
mode and in pod mode through the lab API server's exec websocket (kwok runs the command on this machine)."""

import json
import tracemalloc

import pytest
from kubernetes.stream import stream

import postgres_lab
from ansible_collections.kfuse.failover.plugins.module_utils import errors
from ansible_collections.kfuse.failover.plugins.module_utils._postgres import local
from ansible_collections.kfuse.failover.plugins.module_utils._postgres import pod as pg_pod

APP_TABLES = ("customers", "orders", "audit_log")
CHUNK = 256 * 1024


def table_rows(info, database, tables):
    """Every row of each table as psql text, in a stable order."""
    return {table: postgres_lab.psql(info, "SELECT * FROM %s ORDER BY 1;" % table, database) for table in tables}


def table_names(info, database):
    return postgres_lab.psql(info, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1;",
                             database).split()


def big_digest(info, database):
    return postgres_lab.psql(info, "SELECT count(*), md5(string_agg(md5(data), '' ORDER BY id)) FROM blobs;",
                             database).strip()


# -- DSN mode ----------------------------------------------------------------------------------------------------

def test_dump_and_restore_round_trip(pg, fresh_db):
    target = fresh_db()
    with local.dump_stream(pg["dsn"], database="appdb") as reader:
        result = local.restore_stream(postgres_lab.dsn_for(pg, target), reader.chunks(CHUNK))
        assert reader.bytes_read == result["bytes"] > 0
    assert table_names(pg, target) == sorted(APP_TABLES)
    original = table_rows(pg, "appdb", APP_TABLES)
    assert original["orders"].count("\n") == 300
    assert table_rows(pg, target, APP_TABLES) == original
    view = postgres_lab.psql(pg, "SELECT count(*) FROM big_orders;", target).strip()
    assert view == postgres_lab.psql(pg, "SELECT count(*) FROM big_orders;", "appdb").strip()


def test_dump_is_custom_format_of_the_named_database(pg):
    with local.dump_stream(postgres_lab.dsn_for(pg, "appdb"), database="otherdb") as reader:
        head = reader.read(5)
        rest = reader.read()
    assert head == b"PGDMP"
    assert b"settings" in rest and b"customers" not in rest


def test_restore_with_clean_replaces_existing_rows(pg, fresh_db):
    target = fresh_db()
    with local.dump_stream(pg["dsn"], database="otherdb") as reader:
        local.restore_stream(postgres_lab.dsn_for(pg, target), reader)
    postgres_lab.psql(pg, "UPDATE settings SET value = '\"changed\"'; INSERT INTO settings VALUES ('extra', '1');",
                      target)
    with local.dump_stream(pg["dsn"], database="otherdb") as reader:
        local.restore_stream(postgres_lab.dsn_for(pg, target), reader, clean=True)
    assert table_rows(pg, target, ["settings"]) == table_rows(pg, "otherdb", ["settings"])


def test_excluded_table_is_left_out(pg, fresh_db):
    target = fresh_db()
    with local.dump_stream(pg["dsn"], database="appdb", exclude_tables=("audit_log",)) as reader:
        local.restore_stream(postgres_lab.dsn_for(pg, target), reader)
    assert table_names(pg, target) == ["customers", "orders"]
    assert table_rows(pg, target, ["customers", "orders"]) == table_rows(pg, "appdb", ["customers", "orders"])


def test_failing_dump_raises_a_clear_error_without_the_password(pg):
    reader = local.dump_stream(pg["dsn"], database="no_such_db")
    with pytest.raises(errors.PostgresError) as caught:
        reader.read(CHUNK)
    reader.close()
    error = caught.value
    assert error.exit_code == 1
    assert 'pg_dump of database "no_such_db" on 127.0.0.1:%d as kfuse failed (exit code 1)' % pg["port"] in str(error)
    assert 'database "no_such_db" does not exist' in str(error)
    assert pg["password"] not in str(error) and pg["password"] not in error.stderr


def test_wrong_password_is_reported_but_not_shown(pg):
    wrong = "Wr0ng-Secret-" + pg["password"][:6]
    dsn = "host=127.0.0.1 port=%d user=kfuse password='%s' dbname=appdb" % (pg["port"], wrong)
    with pytest.raises(errors.PostgresError) as caught:
        with local.dump_stream(dsn) as reader:
            reader.read()
    assert "password authentication failed" in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in caught.value.stderr


def test_failed_restore_is_all_or_nothing(pg, fresh_db):
    target = fresh_db()
    with local.dump_stream(pg["dsn"], database="appdb") as reader:
        dump = reader.read()
    truncated = dump[:len(dump) * 2 // 3]
    with pytest.raises(errors.PostgresError) as caught:
        local.restore_stream(postgres_lab.dsn_for(pg, target), [truncated])
    assert caught.value.exit_code == 1
    assert "pg_restore into database \"%s\"" % target in str(caught.value)
    assert pg["password"] not in str(caught.value)
    assert table_names(pg, target) == []


def test_tool_version():
    assert local.tool_version("pg_dump").split(".")[0] == "15"
    with pytest.raises(errors.PostgresError, match="cannot run"):
        local.tool_version("/nonexistent/pg_dump")


def assert_copies_bigdb_with_bounded_memory(pg, target, open_dump, restore):
    """Stream bigdb from ``open_dump()`` into ``restore(chunks)`` under tracemalloc: the copy is whole and the
    traced peak stays far below the dump's size."""
    tracemalloc.start()
    try:
        with open_dump() as reader:
            result = restore(reader.chunks(CHUNK))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result["bytes"] == reader.bytes_read > 18 * 1024 * 1024
    assert reader.max_buffered <= CHUNK
    assert peak < 4 * 1024 * 1024, "peak traced memory %d bytes for a %d byte dump" % (peak, reader.bytes_read)
    assert big_digest(pg, target) == big_digest(pg, "bigdb")


def test_large_dump_streams_with_bounded_memory(pg, fresh_db):
    target = fresh_db("big")
    assert_copies_bigdb_with_bounded_memory(
        pg, target, lambda: local.dump_stream(pg["dsn"], database="bigdb"),
        lambda chunks: local.restore_stream(postgres_lab.dsn_for(pg, target), chunks))


# -- pod mode (exec through the API server to kwok) -----------------------------------------------------------------

def test_pod_dump_and_restore_through_exec(pg, core_v1, configdb_pods, fresh_db):
    namespace, pod = configdb_pods["namespace"], configdb_pods["with_env"]
    target = fresh_db("pod")
    with pg_pod.pod_dump_stream(core_v1, namespace, pod, "appdb", exclude_tables=("audit_log",)) as reader:
        result = pg_pod.pod_restore_stream(core_v1, namespace, pod, reader.chunks(CHUNK), target,
                                           container="postgresql")
    assert result["bytes"] == reader.bytes_read > 0
    assert table_names(pg, target) == ["customers", "orders"]
    assert table_rows(pg, target, ["customers", "orders"]) == table_rows(pg, "appdb", ["customers", "orders"])


def test_pod_password_goes_through_stdin(pg, core_v1, configdb_pods, fresh_db):
    namespace, pod = configdb_pods["namespace"], configdb_pods["no_password"]
    target = fresh_db("podpw")
    with pg_pod.pod_dump_stream(core_v1, namespace, pod, "otherdb", password=pg["password"]) as reader:
        pg_pod.pod_restore_stream(core_v1, namespace, pod, reader, target, password=pg["password"])
    assert table_rows(pg, target, ["settings"]) == table_rows(pg, "otherdb", ["settings"])
    with pytest.raises(errors.PostgresError) as caught:
        with pg_pod.pod_dump_stream(core_v1, namespace, pod, "otherdb") as reader:
            reader.read()
    assert "exit code 1" in str(caught.value)
    assert "no password supplied" in str(caught.value) or "password authentication failed" in str(caught.value)


def test_pod_dump_failure_reports_exit_code_and_stderr(pg, core_v1, configdb_pods):
    namespace, pod = configdb_pods["namespace"], configdb_pods["no_password"]
    reader = pg_pod.pod_dump_stream(core_v1, namespace, pod, "no_such_db", password=pg["password"])
    with pytest.raises(errors.PostgresError) as caught:
        reader.read(CHUNK)
    reader.close()
    assert caught.value.exit_code == 1
    assert "pod kfuse/%s" % pod in str(caught.value)
    assert 'database "no_such_db" does not exist' in str(caught.value)
    assert pg["password"] not in str(caught.value) and pg["password"] not in caught.value.stderr


def test_pod_without_exec_target_is_refused(core_v1, configdb_pods):
    with pytest.raises(errors.PostgresError) as caught:
        with pg_pod.pod_dump_stream(core_v1, configdb_pods["namespace"], configdb_pods["plain"], "appdb") as reader:
            reader.read()
    assert caught.value.exit_code is None
    assert "no exec found" in str(caught.value)


def test_pod_large_dump_streams_with_bounded_memory(pg, core_v1, configdb_pods, fresh_db):
    namespace, pod = configdb_pods["namespace"], configdb_pods["with_env"]
    target = fresh_db("podbig")
    assert_copies_bigdb_with_bounded_memory(
        pg, target, lambda: pg_pod.pod_dump_stream(core_v1, namespace, pod, "bigdb"),
        lambda chunks: pg_pod.pod_restore_stream(core_v1, namespace, pod, chunks, target))


# -- the API server's exec endpoint with the client's own helpers ------------------------------------------------

def test_exec_endpoint_speaks_the_clients_channel_protocol(core_v1, configdb_pods):
    namespace, pod = configdb_pods["namespace"], configdb_pods["with_env"]
    client = stream(core_v1.connect_get_namespaced_pod_exec, pod, namespace,
                    command=["sh", "-c", 'echo "port=$PGPORT"; echo oops >&2; exit 3'],
                    stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)
    client.run_forever(timeout=30)
    # kwok reports the exit as an InternalError naming "exit status 3", which the client's own returncode property
    # cannot parse; the collection reads both forms.
    assert pg_pod.exit_code_from_status(json.loads(client.read_channel(3))) == 3
    assert client.read_stdout().strip().startswith("port=")
    assert client.read_stderr().strip() == "oops"
    assert client.subprotocol == "v5.channel.k8s.io"


def test_exec_of_a_missing_command_is_a_failure_status(core_v1, configdb_pods):
    client = stream(core_v1.connect_get_namespaced_pod_exec, configdb_pods["with_env"], configdb_pods["namespace"],
                    command=["/nonexistent/tool"], stdout=True, stderr=True, stdin=False, tty=False,
                    _preload_content=False)
    client.run_forever(timeout=30)
    status = json.loads(client.read_channel(3))
    assert status["status"] == "Failure" and "/nonexistent/tool" in status["message"]
