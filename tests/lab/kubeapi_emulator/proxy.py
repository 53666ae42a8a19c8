# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The services/<name>/proxy and pods/<name>/proxy subresources: plain HTTP(S) forwarding to the backend."""

import aiohttp
from aiohttp import web

from . import backends, errors

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "host", "authorization", "content-length"}


def split_target(target):
    """'https:name:port' -> ('https', 'name', 'port'); scheme and port optional."""
    parts = target.split(":")
    scheme = "http"
    if len(parts) > 1 and parts[0] in ("http", "https"):
        scheme = parts.pop(0)
    name = parts[0]
    port = parts[1] if len(parts) > 1 else None
    return scheme, name, port


async def proxy_request(request, store, namespace, kind, target, path):
    scheme, name, port = split_target(target)
    if kind == "services":
        host, backend_port = backends.service_backend(store, namespace, name, port)
    else:
        pod = store.require(backends.POD, namespace, name)
        host, backend_port = backends.pod_backend(pod, backends.container_port(pod, port) if port
                                                  else backends.first_container_port(pod))
    url = "%s://%s:%d/%s" % (scheme, host, backend_port, path)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    body = await request.read()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
        try:
            async with session.request(request.method, url, params=request.rel_url.query, headers=headers,
                                       data=body or None, ssl=False, allow_redirects=False) as upstream:
                response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
                for key, value in upstream.headers.items():
                    if key.lower() not in _HOP_BY_HOP:
                        response.headers.add(key, value)
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        except aiohttp.ClientError as exc:
            raise errors.ApiError(503, "error trying to reach service: %s" % exc, "ServiceUnavailable") from exc
