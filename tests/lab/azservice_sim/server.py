# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP layer of the simulator: routes, bearer token, fault injection and JSON errors.

Handlers stay thin; the behaviour lives in ``machine.ZoneService``.
"""

import asyncio
import collections
import hmac
import json
import logging

from aiohttp import web

from azservice_sim.faults import FaultError
from azservice_sim.machine import ServiceError
from azservice_sim.params import ParamError, format_time, parse_bool, utcnow

LOG = logging.getLogger("azservice_sim.server")
SERVICE_KEY = web.AppKey("service", object)
SETTINGS_KEY = web.AppKey("settings", dict)
LAB_PREFIX = "/_lab/"
REQUEST_LOG_SIZE = 200


def _json(body, status=200):
    return web.json_response(body, status=status, dumps=lambda value: json.dumps(value, sort_keys=True))


def _error(status, error, reason):
    return _json({"error": error, "reason": reason}, status=status)


def _drop_connection(request):
    """Close the connection without an answer (the client sees a reset / empty reply)."""
    transport = request.transport
    if transport is not None:
        transport.abort()


@web.middleware
async def record_requests(request, handler):
    settings = request.app[SETTINGS_KEY]
    settings["requests"].append({"at": format_time(utcnow()), "method": request.method, "path": request.path,
                                 "query": dict(request.query)})
    return await handler(request)


@web.middleware
async def inject_faults(request, handler):
    """Faults apply to the API only (not to /_lab/ control) and act before anything else."""
    if request.path.startswith(LAB_PREFIX):
        return await handler(request)
    faults = request.app[SERVICE_KEY].faults
    if faults.unreachable or faults.take("drop", request.method, request.path):
        _drop_connection(request)
        return web.Response(status=499)
    if faults.latency:
        await asyncio.sleep(faults.latency)
    canned = faults.take("responses", request.method, request.path)
    if canned:
        body = canned.get("body", {"error": "injected", "reason": "lab fault: status %d" % canned["status"]})
        return _json(body, status=canned["status"])
    response = await handler(request)
    if faults.take("drop_after_action", request.method, request.path):
        _drop_connection(request)
    return response


@web.middleware
async def require_token(request, handler):
    token = request.app[SETTINGS_KEY]["token"]
    if token:
        supplied = request.headers.get("Authorization", "")
        if not hmac.compare_digest(supplied.encode(), ("Bearer " + token).encode()):
            return _error(401, "unauthorized", "missing or wrong bearer token")
    return await handler(request)


@web.middleware
async def json_errors(request, handler):
    try:
        return await handler(request)
    except ParamError as exc:
        return _error(400, "bad_parameter", "%s: %s" % (exc.name, exc.reason))
    except ServiceError as exc:
        return _error(exc.status, exc.error, exc.reason)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), "%s %s: %s" % (request.method, request.path, exc.reason))


def _text_status(status):
    """``key=value`` text: state=activating zone=lab-az2 ... rehydrated=120 total=300."""
    activation = status.get("activation") or {}
    segments = activation.get("segments") or {}
    fields = [("state", status["state"]), ("zone", status["zone"]), ("consuming", status["consuming"]),
              ("alerts_silenced", status["alertsSilenced"]), ("source_zone", activation.get("sourceZone")),
              ("phase", activation.get("phase")), ("rehydrated", segments.get("rehydrated")),
              ("total", segments.get("total")), ("error", activation.get("error"))]
    parts = []
    for key, value in fields:
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parts.append("%s=%s" % (key, '"%s"' % text if " " in text else text))
    return " ".join(parts) + "\n"


def _camel_nested_status(status):
    """camelCase keys nested by concern; counters named segmentsRehydrated / totalSegments."""
    activation = status.get("activation") or {}
    segments = activation.get("segments") or {}
    body = {"service": {"azState": status["state"].upper(), "zoneId": status["zone"]},
            "pinot": {"isConsuming": status["consuming"]},
            "alerting": {"alertsMuted": status["alertsSilenced"]}}
    if activation:
        body["recovery"] = {"restoredFrom": activation.get("sourceZone"), "stage": activation.get("phase"),
                            "stats": {"segmentsRehydrated": segments.get("rehydrated"),
                                      "totalSegments": segments.get("total")},
                            "error": activation.get("error")}
    return body


async def get_status(request):
    service = request.app[SERVICE_KEY]
    status = service.status()
    shape = service.faults.status_shape
    if shape == "text":
        return web.Response(text=_text_status(status), content_type="text/plain")
    if shape == "camel_nested":
        return _json(_camel_nested_status(status))
    if shape == "unreadable":
        return web.Response(text="<html><head><title>Kloudfuse</title></head><body><h1>Maintenance</h1>"
                                 "<p>Please come back later.</p></body></html>", content_type="text/html")
    return _json(status)


async def post_pause(request):
    return _json(await request.app[SERVICE_KEY].pause(request.query))


async def post_activate(request):
    return _json(await request.app[SERVICE_KEY].activate(request.query))


async def post_resume(request):
    return _json(await request.app[SERVICE_KEY].resume())


async def get_faults(request):
    return _json(request.app[SERVICE_KEY].faults.snapshot())


async def post_faults(request):
    service = request.app[SERVICE_KEY]
    try:
        update = await request.json()
        service.faults.merge(update)
    except ValueError as exc:
        # FaultError is a ValueError, and so is a body that is not JSON.
        reason = str(exc) if isinstance(exc, FaultError) else "body must be a JSON object"
        return _error(400, "bad_faults", reason)
    return _json(service.faults.snapshot())


async def post_reset(request):
    wipe = parse_bool("wipe", request.query.get("wipe"))
    request.app[SETTINGS_KEY]["requests"].clear()
    return _json(await request.app[SERVICE_KEY].reset(wipe=wipe))


async def get_lab_state(request):
    service = request.app[SERVICE_KEY]
    settings = request.app[SETTINGS_KEY]
    return _json({"status": service.status(), "faults": service.faults.snapshot(),
                  "requests": list(settings["requests"]), "config": settings["config"]})


def build_app(service, token=None, config_summary=None):
    app = web.Application(middlewares=[json_errors, record_requests, inject_faults, require_token])
    app[SERVICE_KEY] = service
    app[SETTINGS_KEY] = {"token": token, "requests": collections.deque(maxlen=REQUEST_LOG_SIZE),
                         "config": dict(config_summary or {})}
    app.router.add_get("/status", get_status)
    app.router.add_post("/pause", post_pause)
    app.router.add_post("/activate", post_activate)
    app.router.add_post("/resume", post_resume)
    app.router.add_get("/_lab/faults", get_faults)
    app.router.add_post("/_lab/faults", post_faults)
    app.router.add_post("/_lab/reset", post_reset)
    app.router.add_get("/_lab/state", get_lab_state)

    async def shutdown(_app):
        await service.close()

    app.on_shutdown.append(shutdown)
    return app
