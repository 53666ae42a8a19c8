# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pods/<name>/exec over a websocket, as the kubernetes Python client and kubectl speak it.

Binary frames whose first byte is the channel: 0 stdin, 1 stdout, 2 stderr, 3 error (one metav1.Status JSON at the
end: Success, or Failure with details.causes[{reason: ExitCode, message: "N"}]); with v5.channel.k8s.io the client
may send [255, channel] to close its stdin.

Lab-only behaviour: there are no containers, so the command runs as a local subprocess, and only for Pods that ask
for it with the annotation ``lab.kfuse.io/exec: local``; ``lab.kfuse.io/exec-env`` (a JSON object) adds environment
variables (e.g. PGHOST/PGPORT/PGUSER/PGPASSWORD of a throwaway PostgreSQL). Every other Pod gets a Failure status.
"""

import asyncio
import json
import os

from aiohttp import WSMsgType, web

from . import backends, errors

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io")
V5 = "v5.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR, CLOSE = 0, 1, 2, 3, 255
EXEC_ANNOTATION = "lab.kfuse.io/exec"
ENV_ANNOTATION = "lab.kfuse.io/exec-env"
# What a subprocess inherits from the emulator; everything else comes from the Pod's annotation.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR")
READ_SIZE = 64 * 1024


def _flag(request, name, default=False):
    value = request.query.get(name)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "y", "on", "")


def success_status():
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}


def exit_status(command, code):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command %s, exit code %d"
                       % (json.dumps(command), code),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def failure_status(message, reason="InternalError", code=500):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def _check_container(pod, container):
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    if container and names and container not in names:
        raise errors.bad_request('container %s is not valid for pod %s' % (container, pod["metadata"]["name"]))


def _environment(pod):
    annotations = pod["metadata"].get("annotations") or {}
    env = {key: os.environ[key] for key in INHERITED_ENV if key in os.environ}
    raw = annotations.get(ENV_ANNOTATION)
    if raw:
        extra = json.loads(raw)
        if not isinstance(extra, dict):
            raise ValueError("%s must be a JSON object" % ENV_ANNOTATION)
        env.update({str(key): str(value) for key, value in extra.items()})
    return env


async def _pump(reader, ws, channel):
    """Subprocess pipe -> websocket channel; aiohttp's send applies back-pressure."""
    try:
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                return
            await ws.send_bytes(bytes((channel,)) + data)
    except (ConnectionError, RuntimeError, asyncio.CancelledError):
        return


async def _feed_stdin(ws, process, v5):
    """Websocket channel 0 -> the subprocess's stdin until the client closes it (v5) or goes away."""
    stdin = process.stdin
    try:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY or not msg.data or stdin is None:
                continue
            channel, payload = msg.data[0], msg.data[1:]
            if channel == CLOSE and v5 and payload[:1] == bytes((STDIN,)):
                stdin.close()
                stdin = None
            elif channel == STDIN and payload:
                try:
                    stdin.write(payload)
                    await stdin.drain()
                except (ConnectionError, RuntimeError):
                    # The command stopped reading (it exited): drop the rest, its status still goes out.
                    stdin = None
    except (ConnectionError, RuntimeError):
        pass
    return "client-gone"


async def _send_status(ws, status):
    try:
        await ws.send_bytes(bytes((ERROR,)) + json.dumps(status).encode())
    except (ConnectionError, RuntimeError):
        pass


async def pod_exec(request, store, namespace, name):
    pod = store.require(backends.POD, namespace, name)
    command = request.query.getall("command", [])
    if not command:
        raise errors.bad_request("you must specify at least 1 command")
    _check_container(pod, request.query.get("container"))
    want_stdin = _flag(request, "stdin")
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True, max_msg_size=0)
    await ws.prepare(request)
    v5 = ws.ws_protocol == V5
    annotations = pod["metadata"].get("annotations") or {}
    if annotations.get(EXEC_ANNOTATION) != "local":
        await _send_status(ws, failure_status(
            'pod "%s" cannot exec in the lab: it lacks the annotation %s: local' % (name, EXEC_ANNOTATION)))
        await ws.close()
        return ws
    try:
        process = await asyncio.create_subprocess_exec(
            *command, env=_environment(pod),
            stdin=asyncio.subprocess.PIPE if want_stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except (OSError, ValueError) as exc:
        await _send_status(ws, failure_status(
            "Internal error occurred: error executing command in container: %s" % exc))
        await ws.close()
        return ws
    pumps = [asyncio.ensure_future(_pump(process.stdout, ws, STDOUT)),
             asyncio.ensure_future(_pump(process.stderr, ws, STDERR))]
    feeder = asyncio.ensure_future(_feed_stdin(ws, process, v5))
    finished = asyncio.ensure_future(_wait_output(process, pumps))
    try:
        done, _pending = await asyncio.wait({feeder, finished}, return_when=asyncio.FIRST_COMPLETED)
        if finished in done:
            code = finished.result()
            await _send_status(ws, success_status() if code == 0 else exit_status(command, code))
    finally:
        for task in pumps + [feeder, finished]:
            task.cancel()
        if process.returncode is None:
            process.kill()
            await process.wait()
        await ws.close()
    return ws


async def _wait_output(process, pumps):
    """Exit code once stdout and stderr are fully sent and the process has ended."""
    await asyncio.gather(*pumps, return_exceptions=True)
    return await process.wait()
