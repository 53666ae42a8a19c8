# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the lab's aiohttp servers (az-service simulator, cloud node-pool stand-in) listen and stop."""

import asyncio
import signal
import ssl

from aiohttp import web


async def serve_until_signalled(app, host, port, tls_cert=None, tls_key=None, on_listening=None, **runner_options):
    """Serve ``app`` on host:port (0 picks a free port), HTTPS when ``tls_cert`` is given, until SIGTERM or SIGINT.

    ``on_listening(url, port)``, a coroutine, runs once the socket is bound (ready files, start-up work).
    """
    ssl_context = None
    if tls_cert:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(tls_cert, tls_key)
    runner = web.AppRunner(app, handle_signals=False, **runner_options)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
        bound = runner.addresses[0][1]
        if on_listening is not None:
            await on_listening("%s://%s:%d" % ("https" if ssl_context else "http", host, bound), bound)
        await stop.wait()
    finally:
        await runner.cleanup()
