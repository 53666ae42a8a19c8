# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway PostgreSQL server for tests and the lab.

``start_postgres(workdir)`` runs initdb and pg_ctl as the ``postgres`` user (PostgreSQL refuses to run as root)
with a data directory in a fresh folder owned by ``postgres``, listening on 127.0.0.1 on a free port with its unix
socket in that folder, and creates a password-authenticated test role that may create databases.
``stop_postgres(info)`` stops the postmaster by PID and removes the folder. ``psql(info, sql)`` runs SQL as the
test role over TCP (password in the environment, never on the command line).
"""

import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

POSTGRES_USER = "postgres"
TEST_ROLE = "kfuse"


def find_bin_dir():
    """The newest /usr/lib/postgresql/<major>/bin that has initdb."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql (install the Debian "
                           "postgresql package; hacking/bootstrap.sh does)")
    return os.path.dirname(candidates[-1])


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(argv):
    """argv run as the postgres user: directly when we already are, else through runuser (needs root)."""
    if os.geteuid() == pwd.getpwnam(POSTGRES_USER).pw_uid:
        return list(argv)
    return ["runuser", "-u", POSTGRES_USER, "--"] + list(argv)


def _run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (argv[0] if argv[0] != "runuser" else argv[4],
                                                        result.returncode, (result.stderr or result.stdout)[-2000:]))
    return result


def _make_root(workdir):
    """A fresh folder the postgres user owns; under workdir when postgres can reach it, else in the temp dir."""
    account = pwd.getpwnam(POSTGRES_USER)
    for parent in (workdir, None):
        root = tempfile.mkdtemp(prefix="kfuse-pg-", dir=str(parent) if parent else None)
        os.chown(root, account.pw_uid, account.pw_gid)
        os.chmod(root, 0o700)
        reachable = subprocess.run(_as_postgres(["test", "-w", root]), check=False).returncode == 0
        if reachable:
            return root
        os.rmdir(root)
    raise RuntimeError("no folder the postgres user can write to")


def _postmaster_pid(data_dir):
    with open(os.path.join(data_dir, "postmaster.pid"), encoding="utf-8") as handle:
        return int(handle.readline().strip())


def start_postgres(workdir, bin_dir=None, password=None):
    """Start a throwaway server; returns dict(dsn, port, pid, bin_dir, host, user, password, root, data_dir,
    socket_dir, log_file). The dsn is a URI for the test role on database ``postgres``."""
    bin_dir = bin_dir or find_bin_dir()
    password = password or secrets.token_urlsafe(18)
    root = _make_root(workdir)
    info = {"root": root, "bin_dir": bin_dir, "host": "127.0.0.1", "user": TEST_ROLE, "password": password,
            "data_dir": os.path.join(root, "data"), "socket_dir": root, "log_file": os.path.join(root, "server.log"),
            "pid": None}
    try:
        superuser_pwfile = os.path.join(root, "pwfile")
        with open(superuser_pwfile, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(18) + "\n")
        account = pwd.getpwnam(POSTGRES_USER)
        os.chown(superuser_pwfile, account.pw_uid, account.pw_gid)
        _run(_as_postgres([os.path.join(bin_dir, "initdb"), "-D", info["data_dir"], "-U", POSTGRES_USER,
                           "--pwfile", superuser_pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
                           "-E", "UTF8", "--locale=C", "--no-sync"]))
        os.unlink(superuser_pwfile)
        for attempt in range(5):
            port = _free_port()
            options = "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off" % (port, root)
            result = subprocess.run(_as_postgres([os.path.join(bin_dir, "pg_ctl"), "-D", info["data_dir"],
                                                  "-l", info["log_file"], "-o", options, "-w", "-t", "60", "start"]),
                                    capture_output=True, text=True, check=False)
            if result.returncode == 0:
                break
            if attempt == 4:
                raise RuntimeError("pg_ctl start failed: %s %s" % (result.stderr[-1000:], _tail(info["log_file"])))
        info["port"] = port
        info["pid"] = _postmaster_pid(info["data_dir"])
        # The role's password goes through psql's stdin, never its command line.
        sql = "CREATE ROLE %s LOGIN CREATEDB PASSWORD '%s';\n" % (TEST_ROLE, password.replace("'", "''"))
        _run(_as_postgres([os.path.join(bin_dir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", root,
                           "-p", str(port), "-U", POSTGRES_USER, "-d", "postgres"]), input=sql)
        info["dsn"] = "postgresql://%s:%s@127.0.0.1:%d/postgres" % (TEST_ROLE, password, port)
        return info
    except BaseException:
        stop_postgres(info)
        raise


def _tail(path, limit=2000):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-limit:]
    except OSError:
        return ""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_postgres(info, timeout=30.0):
    """Fast shutdown of the postmaster by PID (SIGINT, then SIGQUIT), then remove its folder."""
    pid = info.get("pid")
    if pid:
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
            if not _alive(pid):
                break
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
    if info.get("root"):
        shutil.rmtree(info["root"], ignore_errors=True)


def pg_env(info, database="postgres"):
    """Environment for libpq tools to reach the server as the test role."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(PGHOST=info["host"], PGPORT=str(info["port"]), PGUSER=info["user"], PGPASSWORD=info["password"],
               PGDATABASE=database)
    return env


def psql(info, sql, database="postgres"):
    """Run SQL as the test role; returns stdout (unaligned, tuples only, '|' separated)."""
    result = _run([os.path.join(info["bin_dir"], "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                  input=sql, env=pg_env(info, database))
    return result.stdout


def dsn_for(info, database):
    """The URI of ``database`` for the test role."""
    return "postgresql://%s:%s@127.0.0.1:%d/%s" % (info["user"], info["password"], info["port"], database)


if __name__ == "__main__":
    started = start_postgres(sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir())
    print(json.dumps({key: value for key, value in started.items() if key != "password"}, indent=1))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop_postgres(started)
