# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pods/<name>/portforward over a websocket, as the kubernetes Python client speaks it.

Binary frames whose first byte is the channel: port i uses data channel 2i and error channel 2i+1, and the first
frame the server sends on each channel carries the port number as two bytes, little endian.
"""

import asyncio

from aiohttp import WSMsgType, web

from . import backends, errors

PROTOCOLS = ("v4.channel.k8s.io", "v5.channel.k8s.io", "channel.k8s.io", "portforward.k8s.io")


def requested_ports(request):
    ports = []
    for value in request.query.getall("ports", []):
        for item in value.split(","):
            if item.strip():
                ports.append(int(item.strip()))
    if not ports:
        raise errors.bad_request("query parameter ports is required")
    return ports


async def _pump(reader, ws, channel):
    """Backend -> websocket for one port."""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            await ws.send_bytes(bytes((channel,)) + data)
    except (ConnectionError, RuntimeError, asyncio.CancelledError):
        return


async def port_forward(request, store, namespace, name):
    pod = store.require(backends.POD, namespace, name)
    ports = requested_ports(request)
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True)
    await ws.prepare(request)
    writers, pumps = {}, []
    for index, port in enumerate(ports):
        header = port.to_bytes(2, "little")
        await ws.send_bytes(bytes((2 * index,)) + header)
        await ws.send_bytes(bytes((2 * index + 1,)) + header)
        try:
            host, backend_port = backends.pod_backend(pod, port)
            reader, writer = await asyncio.open_connection(host, backend_port)
        except errors.ApiError as exc:
            await ws.send_bytes(bytes((2 * index + 1,)) + exc.message.encode())
            continue
        except OSError as exc:
            message = "error forwarding port %d to pod %s: %s" % (port, name, exc)
            await ws.send_bytes(bytes((2 * index + 1,)) + message.encode())
            continue
        writers[2 * index] = writer
        pumps.append(asyncio.ensure_future(_pump(reader, ws, 2 * index)))
    watcher = asyncio.ensure_future(_close_when_done(pumps, ws)) if pumps else None
    try:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY or not msg.data:
                continue
            writer = writers.get(msg.data[0])
            if writer is not None and len(msg.data) > 1:
                writer.write(msg.data[1:])
                await writer.drain()
    except (ConnectionError, RuntimeError):
        pass
    finally:
        for pump in pumps:
            pump.cancel()
        if watcher is not None:
            watcher.cancel()
        for writer in writers.values():
            writer.close()
        await ws.close()
    return ws


async def _close_when_done(pumps, ws):
    """When every backend connection has closed, close the websocket so the client sees EOF."""
    await asyncio.gather(*pumps, return_exceptions=True)
    await ws.close()
