# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line of the az-service simulator (see tests/lab/README.md for the contract)."""

import argparse
import asyncio
import json
import logging
import os
import sys

from botocore.exceptions import BotoCoreError, ClientError

from aio_serve import serve_until_signalled
from azservice_sim.machine import ZoneConfig, ZoneService
from azservice_sim.peers import PeerClient
from azservice_sim.server import build_app
from azservice_sim.storage import ZoneStore, make_s3_client

LOG = logging.getLogger("azservice_sim")


def _pairs(values, option):
    result = {}
    for value in values or ():
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise SystemExit("%s expects NAME=VALUE, got %r" % (option, value))
        result[name] = rest
    return result


def _positive_float(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog="azservice_sim", description="Simulated Kloudfuse az-service for the local lab.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert (PEM)")
    parser.add_argument("--ready-file", help="written atomically once listening: {pid, port, url}")
    parser.add_argument("--zone-id", required=True, help="zone id this az-service writes its backups under")
    parser.add_argument("--namespace", default="kfuse", help="Kubernetes namespace it pretends to live in")
    parser.add_argument("--peer", action="append", default=[], metavar="NS=URL", help="az-service of another namespace")
    parser.add_argument("--peer-token", action="append", default=[], metavar="NS=TOKEN", help="bearer token for a peer")
    parser.add_argument("--peer-ca", help="CA bundle to verify peers")
    parser.add_argument("--initial-state", choices=("active", "standby"), default="standby")
    parser.add_argument("--s3-endpoint", required=True)
    parser.add_argument("--s3-bucket", required=True)
    parser.add_argument("--s3-region", default="us-east-1")
    parser.add_argument("--segment-interval", type=_positive_float, default=1.0)
    parser.add_argument("--dump-interval", type=_positive_float, default=5.0)
    parser.add_argument("--rehydrate-rate", type=_positive_float, default=50.0, help="segments per second")
    parser.add_argument("--default-batch-size", type=int, default=25, help="batch size when activate has no batchSize")
    parser.add_argument("--seed-segments", type=int, default=60, help="segments written at start when starting active")
    parser.add_argument("--token", default=os.environ.get("AZSERVICE_SIM_TOKEN"),
                        help="require this bearer token (default: $AZSERVICE_SIM_TOKEN)")
    parser.add_argument("--log-level", default="INFO")
    return parser


def _write_ready_file(path, payload):
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.replace(tmp, path)


async def serve(args):
    store = ZoneStore(make_s3_client(args.s3_endpoint, args.s3_region), args.s3_bucket)
    peers = PeerClient(_pairs(args.peer, "--peer"), _pairs(args.peer_token, "--peer-token"), args.peer_ca)
    config = ZoneConfig(
        zone_id=args.zone_id, namespace=args.namespace, initial_state=args.initial_state,
        segment_interval=args.segment_interval, dump_interval=args.dump_interval, rehydrate_rate=args.rehydrate_rate,
        default_batch_size=max(1, args.default_batch_size), seed_segments=max(0, args.seed_segments),
    )
    service = ZoneService(config, store, peers)
    summary = {"zone": config.zone_id, "namespace": config.namespace, "initialState": config.initial_state,
               "bucket": args.s3_bucket, "peers": sorted(peers.urls), "rehydrateRate": config.rehydrate_rate,
               "defaultBatchSize": config.default_batch_size}
    app = build_app(service, token=args.token, config_summary=summary)

    async def listening(url, port):
        await service.start()
        if args.ready_file:
            _write_ready_file(args.ready_file, {"pid": os.getpid(), "port": port, "url": url})
        LOG.info("az-service simulator for zone %s (%s) listening on %s", config.zone_id, config.initial_state, url)

    await serve_until_signalled(app, args.host, args.port, args.tls_cert, args.tls_key, listening)


def main(argv=None):
    args = build_parser().parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(args))
    except (BotoCoreError, ClientError) as exc:
        print("azservice_sim: object storage error: %s" % exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print("azservice_sim: %s" % exc, file=sys.stderr)
        return 1
    return 0
