# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Child processes of the lab: start one with its log, wait for it, record it, stop recorded ones by PID.

Shared by the launcher (labctl), the Kubernetes control plane (kube_cluster) and the suites' own emulators.
Imports nothing outside the standard library, so any of them can use it.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

START_TIMEOUT = 30.0
STOP_GRACE = 5.0


class LabError(Exception):
    """The lab could not be started, inspected or stopped."""


def free_port():
    """A port that was free a moment ago (for servers that must know each other's address up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path, lines=15):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no log)"


def read_json(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_file(path, text, mode=0o644):
    tmp = path + ".part"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def pid_alive(pid, argv=None):
    """True when pid runs (not a zombie) and, when argv is given, runs exactly that command line."""
    try:
        with open("/proc/%d/stat" % pid, "r", encoding="utf-8") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        if argv is not None:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                running = [arg.decode(errors="replace") for arg in handle.read().split(b"\0")[:-1]]
            # A script started through its shebang shows up as [interpreter, script, args...].
            return running == list(argv) or running[1:] == list(argv)
    except (OSError, IndexError):
        return False
    return True


def poll_until(probe, proc, what, fail, timeout=START_TIMEOUT, interval=0.1):
    """Poll probe() until it returns something truthy; fail(reason) (which raises) when ``proc`` exits first or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if proc.poll() is not None:
            fail("exited with status %s before %s" % (proc.returncode, what))
        if time.monotonic() > deadline:
            fail("did not get %s within %.0f s" % (what, timeout))
        time.sleep(interval)


def http_answers(url, ca_path=None, token=None, timeout=3.0, client_cert=None):
    """HTTP status of GET url, or None when nothing answers (any HTTP status counts as answering).

    ``client_cert`` is a (cert, key) pair of PEM paths for servers that authenticate clients by certificate.
    """
    context = None
    if url.startswith("https"):
        context = ssl.create_default_context(cafile=ca_path)
        if client_cert:
            context.load_cert_chain(*client_cert)
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


class Piece:
    """One child process with its log at ``<log_dir>/<name>.log``, in a session of its own (stopped by PID)."""

    def __init__(self, name, argv, log_dir, env=None, cwd=None):
        self.name = name
        self.argv = [str(arg) for arg in argv]
        os.makedirs(log_dir, exist_ok=True)
        self.log_path = os.path.join(log_dir, name + ".log")
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                start_new_session=True)

    def record(self, **extra):
        return dict({"pid": self.proc.pid, "argv": self.argv, "log": self.log_path}, **extra)

    def fail(self, what):
        raise LabError("%s %s; last lines of %s:\n%s" % (self.name, what, self.log_path, log_tail(self.log_path)))

    def wait_for(self, probe, what, timeout=START_TIMEOUT, interval=0.1):
        """Poll probe() until it returns something truthy; fail naming this piece if it exits or times out."""
        return poll_until(probe, self.proc, what, self.fail, timeout, interval)


def stop_pieces(pieces, grace=STOP_GRACE):
    """SIGTERM every live recorded process ((name, record) pairs), SIGKILL what outlives the grace period; return
    the PIDs still alive."""
    pids = [piece["pid"] for _name, piece in pieces if pid_alive(piece["pid"], piece.get("argv"))]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):
            _reap(pids)
            time.sleep(0.1)
    _reap(pids)
    return [pid for pid in pids if pid_alive(pid)]


def _reap(pids):
    """Collect those PIDs if they are exited children of this process (up and down in one process, e.g. tests)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
