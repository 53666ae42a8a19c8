# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zone state machine of the simulated az-service.

``active --pause--> paused``; ``standby|paused|failed --activate--> activating --> active`` (or ``failed``).
While active the zone "consumes": it writes Pinot segment objects and periodic database dumps to the bucket.
Every S3 call runs in a worker thread so the HTTP handlers stay responsive during long activations.
"""

import asyncio
import copy
import dataclasses
import json
import logging

from botocore.exceptions import BotoCoreError, ClientError

from azservice_sim.faults import FaultSet
from azservice_sim.params import ParamError, format_time, parse_bool, parse_positive_int, parse_time, utcnow
from azservice_sim.peers import PeerUnreachable

LOG = logging.getLogger("azservice_sim.machine")

TABLES = ("kf_metrics", "kf_logs", "kf_traces")
DATABASES = ("configdb", "orchestratordb")
STORAGE_ERRORS = (BotoCoreError, ClientError)


class ServiceError(Exception):
    """An API error: HTTP status, short error code and a human reason."""

    def __init__(self, status, error, reason):
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason


class ActivationFailed(Exception):
    """Activation stopped before the zone became active."""


@dataclasses.dataclass
class ZoneConfig:
    zone_id: str
    namespace: str = "kfuse"
    initial_state: str = "standby"
    segment_interval: float = 1.0
    dump_interval: float = 5.0
    rehydrate_rate: float = 50.0
    default_batch_size: int = 25
    seed_segments: int = 60


class ZoneService:
    """One zone's az-service: state, activation progress, background consumption and fault knobs."""

    def __init__(self, config, store, peers):
        self.config = config
        self.store = store
        self.peers = peers
        self.faults = FaultSet()
        self._lock = asyncio.Lock()
        self._writer = None
        self._activation_task = None
        self._sequence = 0
        self.state = "standby"
        self.consuming = False
        self.alerts_silenced = True
        self.activation = None
        self._set_initial_state()

    @property
    def zone(self):
        return self.config.zone_id

    def _set_initial_state(self):
        active = self.config.initial_state == "active"
        self.state = "active" if active else "standby"
        self.consuming = active
        self.alerts_silenced = not active
        self.activation = None

    # ---- lifecycle ---------------------------------------------------------------------------------

    async def start(self, seed=True):
        """Seed the bucket (when starting active) and start consuming."""
        if self.state != "active":
            return
        if seed:
            await asyncio.to_thread(self._seed_sync)
        self._start_writer()

    async def close(self):
        await self._cancel(self._activation_task)
        self._activation_task = None
        await self._stop_writer()

    async def reset(self, wipe=False):
        """Back to the initial state with no faults; wipe=True also deletes this zone's objects and reseeds."""
        async with self._lock:
            await self.close()
            self.faults.clear()
            self._set_initial_state()
            deleted = 0
            if wipe:
                deleted = await asyncio.to_thread(self.store.delete_zone, self.zone)
            await self.start(seed=wipe)
            return {"zone": self.zone, "state": self.state, "reset": True, "deletedObjects": deleted}

    @staticmethod
    async def _cancel(task):
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    # ---- consumption: segments and dumps -----------------------------------------------------------

    def _next_segment(self):
        self._sequence += 1
        now = utcnow()
        table = TABLES[self._sequence % len(TABLES)]
        name = "%s/%s__%d__%d" % (table, self.zone, self._sequence, int(now.timestamp() * 1000))
        body = {"zone": self.zone, "table": table, "sequence": self._sequence, "createdAt": format_time(now)}
        return name, json.dumps(body).encode()

    def _write_segment_sync(self):
        name, body = self._next_segment()
        self.store.put(self.store.segment_key(self.zone, name), body)
        return name

    def _write_dumps_sync(self):
        now = utcnow()
        for database in DATABASES:
            body = {"zone": self.zone, "database": database, "takenAt": format_time(now), "lastSegment": self._sequence}
            self.store.put(self.store.dump_key(self.zone, database, now), json.dumps(body).encode())

    def _seed_sync(self):
        for _segment in range(self.config.seed_segments):
            self._write_segment_sync()
        self._write_dumps_sync()

    def _final_backup_sync(self):
        self._write_dumps_sync()
        self._write_segment_sync()

    def _start_writer(self):
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def _stop_writer(self):
        await self._cancel(self._writer)
        self._writer = None

    async def _write_loop(self):
        loop = asyncio.get_running_loop()
        next_segment = loop.time() + self.config.segment_interval
        next_dump = loop.time() + self.config.dump_interval
        while True:
            await asyncio.sleep(max(0.0, min(next_segment, next_dump) - loop.time()))
            try:
                if loop.time() >= next_segment:
                    next_segment += self.config.segment_interval
                    await asyncio.to_thread(self._write_segment_sync)
                if loop.time() >= next_dump:
                    next_dump += self.config.dump_interval
                    await asyncio.to_thread(self._write_dumps_sync)
            except STORAGE_ERRORS as exc:
                # A real service keeps consuming through a storage hiccup and retries on the next tick.
                LOG.warning("backup write failed: %s", exc)
            # Never try to catch up a backlog after a stall: restart the schedule from now.
            next_segment = max(next_segment, loop.time())
            next_dump = max(next_dump, loop.time())

    # ---- API operations ----------------------------------------------------------------------------

    def status(self):
        return {
            "zone": self.zone,
            "namespace": self.config.namespace,
            "state": self.state,
            "consuming": self.consuming,
            "alertsSilenced": self.alerts_silenced,
            "activation": copy.deepcopy(self.activation),
        }

    async def pause(self, query):
        force = parse_bool("force", query.get("force"))
        async with self._lock:
            if self.state == "activating":
                raise ServiceError(409, "activation_in_progress", "zone %s is activating; pause after it finishes" % self.zone)
            if self.state != "active":
                return dict(self.status(), changed=False, message="zone is not consuming; nothing to pause")
            if not force and self.faults.flush_check_fails:
                raise ServiceError(self.faults.pause_refusal_status, "flush_check_failed",
                                   "Kafka flush check failed: in-flight data not yet flushed; retry or pass force=true")
            self.alerts_silenced = True
            await self._stop_writer()
            try:
                await asyncio.to_thread(self._final_backup_sync)
            except STORAGE_ERRORS as exc:
                self._start_writer()
                raise ServiceError(503, "backup_failed", "final backup before pausing failed: %s" % exc) from exc
            self.consuming = False
            self.state = "paused"
            return dict(self.status(), changed=True, flushCheck="skipped" if force else "passed")

    async def resume(self):
        changed = self.alerts_silenced
        self.alerts_silenced = False
        return dict(self.status(), changed=changed)

    async def activate(self, query):
        source_zone = query.get("zone", "").strip()
        if not source_zone:
            raise ParamError("zone", "required: the zone id of the source backup")
        latest = parse_time("latestTime", query["latestTime"]) if "latestTime" in query else utcnow()
        source_force = parse_bool("sourceForce", query.get("sourceForce"))
        batch_size = parse_positive_int("batchSize", query.get("batchSize"), self.config.default_batch_size)
        source_namespace = query.get("sourceNamespace", "").strip()
        if source_namespace and not self.peers.knows(source_namespace):
            raise ParamError("sourceNamespace", "no az-service known for namespace %r" % source_namespace)
        async with self._lock:
            if self.state == "activating":
                raise ServiceError(409, "activation_in_progress", "zone %s is already activating" % self.zone)
            if self.state == "active":
                raise ServiceError(409, "already_active", "zone %s is already active; pause it first" % self.zone)
            dumps = await self._find_dumps(source_zone, latest)
            source_pause = None
            if source_namespace:
                source_pause = await self._pause_source(source_namespace, source_force)
            self.state = "activating"
            self.consuming = False
            self.alerts_silenced = True
            self.activation = {
                "sourceZone": source_zone,
                "phase": "restoring",
                "latestTime": format_time(latest),
                "databases": {database: "pending" for database in DATABASES},
                "dumps": dumps,
                "segments": {"total": None, "rehydrated": 0, "failed": 0, "batchSize": batch_size, "batches": 0},
                "params": dict(query),
                "sourcePause": source_pause,
                "startedAt": format_time(utcnow()),
                "finishedAt": None,
                "error": None,
            }
            self._activation_task = asyncio.get_running_loop().create_task(self._run_activation())
            return self.status()

    async def _find_dumps(self, source_zone, latest):
        dumps = {}
        try:
            for database in DATABASES:
                dumps[database] = await asyncio.to_thread(self.store.newest_dump, source_zone, database, latest)
        except STORAGE_ERRORS as exc:
            raise ServiceError(503, "storage_unavailable", "listing backups failed: %s" % exc) from exc
        missing = [database for database, key in dumps.items() if key is None]
        if missing:
            raise ServiceError(404, "no_backups", "no %s dump for zone %r at or before %s"
                               % (" or ".join(missing), source_zone, format_time(latest)))
        return dumps

    async def _pause_source(self, namespace, force):
        try:
            status, body = await self.peers.pause(namespace, force)
        except PeerUnreachable as exc:
            raise ServiceError(502, "source_pause_failed", "az-service of namespace %s unreachable: %s" % (namespace, exc)) from exc
        if status >= 300:
            reason = body.get("reason") if isinstance(body, dict) else None
            raise ServiceError(409 if status == 409 else 502, "source_pause_failed",
                               "pause of namespace %s answered %d: %s" % (namespace, status, reason or body))
        return {"namespace": namespace, "force": force, "status": status}

    # ---- activation ----------------------------------------------------------------------------------

    async def _run_activation(self):
        activation = self.activation
        try:
            await self._restore(activation)
            activation["phase"] = "rehydrating"
            await self._rehydrate(activation)
            activation["phase"] = "resuming"
            self.consuming = True
            self.state = "active"
            self._start_writer()
            activation["phase"] = "done"
        except (ActivationFailed, *STORAGE_ERRORS) as exc:
            LOG.warning("activation failed: %s", exc)
            activation["phase"] = "failed"
            activation["error"] = str(exc)
            self.state = "failed"
            self.consuming = False
        activation["finishedAt"] = format_time(utcnow())

    async def _restore(self, activation):
        for database in DATABASES:
            activation["databases"][database] = "restoring"
            await asyncio.to_thread(self.store.read, activation["dumps"][database])
            activation["databases"][database] = "restored"

    def _check_injected_failure(self, progress):
        fail_after = self.faults.activation_fail_after
        if fail_after is not None and progress["rehydrated"] >= fail_after:
            raise ActivationFailed("injected failure after %d rehydrated segments" % progress["rehydrated"])

    def _copy_segment_sync(self, source_zone, relative, progress):
        try:
            self.store.copy_segment(source_zone, self.zone, relative)
            progress["rehydrated"] += 1
        except STORAGE_ERRORS as exc:
            LOG.warning("rehydrating %s failed: %s", relative, exc)
            progress["failed"] += 1

    async def _rehydrate(self, activation):
        source_zone = activation["sourceZone"]
        progress = activation["segments"]
        source = await asyncio.to_thread(self.store.list_segments, source_zone)
        present = set(await asyncio.to_thread(self.store.list_segments, self.zone))
        missing = [name for name in source if name not in present]
        progress["total"] = len(missing)
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._check_injected_failure(progress)
        for first in range(0, len(missing), progress["batchSize"]):
            for relative in missing[first:first + progress["batchSize"]]:
                await asyncio.to_thread(self._copy_segment_sync, source_zone, relative, progress)
                self._check_injected_failure(progress)
            progress["batches"] += 1
            # Pace whole batches to --rehydrate-rate segments per second.
            done = progress["rehydrated"] + progress["failed"]
            await asyncio.sleep(max(0.0, started + done / self.config.rehydrate_rate - loop.time()))
        if progress["failed"]:
            raise ActivationFailed("%d of %d segments failed to rehydrate" % (progress["failed"], progress["total"]))
