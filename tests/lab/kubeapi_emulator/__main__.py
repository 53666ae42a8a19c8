# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: start one HTTPS listener per --cluster and write the ready file."""

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

from aiohttp import web

from .server import Cluster, setup_logging


def _pairs(values, option):
    result = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise SystemExit("%s expects NAME=VALUE, got %r" % (option, value))
        result[name] = rest
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="kubeapi_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cluster", action="append", required=True, help="NAME=PORT (0 picks a free port)")
    parser.add_argument("--token", action="append", help="NAME=TOKEN")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--ready-file")
    parser.add_argument("--ready-delay", type=float, default=0.0)
    parser.add_argument("--verbose", action="store_true", help="log every request (method, path, content types)")
    return parser.parse_args(argv)


def write_ready_file(path, doc):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(doc, handle)
    os.replace(tmp, path)


async def serve(args):
    ssl_context = None
    if args.tls_cert:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.tls_cert, args.tls_key)
    tokens = _pairs(args.token, "--token")
    runners, clusters = [], {}
    for name, port in _pairs(args.cluster, "--cluster").items():
        cluster = Cluster(name, tokens.get(name), args.ready_delay)
        runner = web.AppRunner(cluster.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, args.host, int(port), ssl_context=ssl_context)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # pylint: disable=protected-access
        scheme = "https" if ssl_context else "http"
        clusters[name] = {"port": bound, "url": "%s://%s:%d" % (scheme, args.host, bound)}
        runners.append(runner)
    if args.ready_file:
        write_ready_file(args.ready_file, {"pid": os.getpid(), "clusters": clusters})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


def main(argv=None):
    args = parse_args(argv)
    setup_logging(args.verbose)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
