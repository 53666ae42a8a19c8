# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One cluster's object store: objects, a monotonic resourceVersion, a bounded event history and watchers."""

import asyncio
import base64
import collections
import copy
import datetime
import itertools
import random
import uuid

from . import errors
from .resources import lookup_kind
from .selection import fields_match, labels_match

# Fields that never make an update a real change.
_VOLATILE_META = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid")


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(length=5):
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _position in range(length))


def _comparable(obj):
    clone = copy.deepcopy(obj)
    meta = clone.get("metadata", {})
    for key in _VOLATILE_META:
        meta.pop(key, None)
    return clone


class Watcher:
    """A watch stream's filter and queue of (type, object) events."""

    def __init__(self, res, namespace, label_req, field_req):
        self.res = res
        self.namespace = namespace
        self.label_req = label_req
        self.field_req = field_req
        self.queue = asyncio.Queue()

    def matches(self, res, obj):
        if res is not self.res:
            return False
        meta = obj.get("metadata", {})
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return labels_match(self.label_req, meta.get("labels")) and fields_match(self.field_req, obj)


class Store:
    """All objects of one emulated cluster."""

    def __init__(self, history_size=2000):
        self.objects = {}  # (res, namespace, name) -> object
        self._rv = itertools.count(int(datetime.datetime.now().timestamp()) % 100000 * 10 + 1000)
        self.current_rv = next(self._rv)
        self.history = collections.deque(maxlen=history_size)
        self.watchers = set()
        self.listeners = []  # callables(event_type, res, obj) for controllers
        self._ip_counter = itertools.count(10)

    # -- resourceVersion and events -------------------------------------------------------------------------
    def next_rv(self):
        self.current_rv = next(self._rv)
        return str(self.current_rv)

    def _emit(self, event_type, res, obj, old=None):
        self.history.append((int(obj["metadata"]["resourceVersion"]), event_type, res, copy.deepcopy(obj), old))
        for watcher in list(self.watchers):
            self._deliver(watcher, event_type, res, obj, old)
        for listener in self.listeners:
            listener(event_type, res, copy.deepcopy(obj))

    @staticmethod
    def _deliver(watcher, event_type, res, obj, old):
        if watcher.matches(res, obj):
            watcher.queue.put_nowait((event_type, copy.deepcopy(obj)))
        elif event_type == "MODIFIED" and old is not None and watcher.matches(res, old):
            # The object left the selection: the watcher sees it go away.
            watcher.queue.put_nowait(("DELETED", copy.deepcopy(obj)))

    def replay(self, watcher, since):
        """Queue the history after resourceVersion `since`; False when that is older than the history kept."""
        if self.history and len(self.history) == self.history.maxlen and since < self.history[0][0] - 1:
            return False
        for rv, event_type, res, obj, old in self.history:
            if rv > since:
                self._deliver(watcher, event_type, res, obj, old)
        return True

    # -- reads ------------------------------------------------------------------------------------------------
    def get(self, res, namespace, name):
        obj = self.objects.get((res, namespace or "", name))
        return copy.deepcopy(obj) if obj is not None else None

    def require(self, res, namespace, name):
        obj = self.get(res, namespace, name)
        if obj is None:
            raise errors.not_found(res, name)
        return obj

    def list(self, res, namespace=None, label_req=(), field_req=()):
        items = []
        for (obj_res, obj_ns, _name), obj in self.objects.items():
            if obj_res is not res or (namespace and obj_ns != namespace):
                continue
            if labels_match(label_req, obj["metadata"].get("labels")) and fields_match(field_req, obj):
                items.append(copy.deepcopy(obj))
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return items

    # -- writes -----------------------------------------------------------------------------------------------
    def create(self, res, obj, dry_run=False):
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        if not res.namespaced:
            meta.pop("namespace", None)
        namespace = meta.get("namespace", "")
        if res.namespaced:
            if not namespace:
                raise errors.bad_request("the namespace of the object must be set")
            if self.get(_NAMESPACES, "", namespace) is None:
                raise errors.ApiError(404, 'namespaces "%s" not found' % namespace, "NotFound",
                                      {"name": namespace, "kind": "namespaces"})
        if not meta.get("name"):
            if meta.get("generateName"):
                for _attempt in range(20):
                    meta["name"] = meta["generateName"] + random_suffix()
                    if (res, namespace, meta["name"]) not in self.objects:
                        break
            else:
                raise errors.invalid(res, "", "metadata.name: Required value: name or generateName is required")
        if (res, namespace, meta["name"]) in self.objects:
            raise errors.already_exists(res, meta["name"])
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        meta["generation"] = 1
        for key in ("resourceVersion", "selfLink", "deletionTimestamp"):
            meta.pop(key, None)
        self._defaults(res, obj)
        if dry_run:
            meta["resourceVersion"] = str(self.current_rv)
            return obj
        meta["resourceVersion"] = self.next_rv()
        self.objects[(res, namespace, meta["name"])] = obj
        self._emit("ADDED", res, obj)
        return copy.deepcopy(obj)

    def update(self, res, obj, dry_run=False, subresource=None, check_rv=True):
        """Replace an object; keeps identity fields, bumps generation on spec changes, 409 on a stale RV."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        namespace = meta.get("namespace", "") if res.namespaced else ""
        name = meta.get("name")
        current = self.objects.get((res, namespace, name))
        if current is None:
            raise errors.not_found(res, name)
        wanted_rv = meta.get("resourceVersion")
        if check_rv and wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise errors.conflict(res, name)
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        if subresource == "status":
            merged = copy.deepcopy(current)
            merged["status"] = obj.get("status")
            if merged["status"] is None:
                merged.pop("status")
            obj = merged
            meta = obj["metadata"]
        elif res.has_status and "status" in current and res.kind != "Pod":
            obj["status"] = copy.deepcopy(current["status"])
        elif res.kind == "Pod" and "status" not in obj and "status" in current:
            obj["status"] = copy.deepcopy(current["status"])
        for key in ("uid", "creationTimestamp"):
            meta[key] = current["metadata"].get(key)
        if res.namespaced:
            meta["namespace"] = namespace
        meta["generation"] = current["metadata"].get("generation", 1)
        if obj.get("spec") != current.get("spec") and subresource != "status":
            meta["generation"] += 1
        self._defaults(res, obj, current)
        if _comparable(obj) == _comparable(current) and meta.get("managedFields") == current["metadata"].get(
                "managedFields"):
            return copy.deepcopy(current)
        if dry_run:
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
            return obj
        meta["resourceVersion"] = self.next_rv()
        self.objects[(res, namespace, name)] = obj
        self._emit("MODIFIED", res, obj, current)
        return copy.deepcopy(obj)

    def delete(self, res, namespace, name, dry_run=False, propagation="Background", precondition_rv=None):
        key = (res, namespace or "", name)
        current = self.objects.get(key)
        if current is None:
            raise errors.not_found(res, name)
        if precondition_rv and precondition_rv != current["metadata"]["resourceVersion"]:
            raise errors.conflict(res, name)
        if dry_run:
            return copy.deepcopy(current)
        del self.objects[key]
        gone = copy.deepcopy(current)
        gone["metadata"]["resourceVersion"] = self.next_rv()
        gone["metadata"]["deletionTimestamp"] = now_iso()
        self._emit("DELETED", res, gone)
        if res.kind == "Namespace":
            for (obj_res, obj_ns, obj_name) in list(self.objects):
                if obj_ns == name and obj_res.namespaced:
                    self.delete(obj_res, obj_ns, obj_name, propagation="Orphan")
        if propagation != "Orphan":
            self._collect_dependents(current["metadata"]["uid"])
        return gone

    def _collect_dependents(self, owner_uid):
        """Garbage collection: delete the objects an owner controlled or owned."""
        for (obj_res, obj_ns, obj_name), obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == owner_uid for ref in refs) and (obj_res, obj_ns, obj_name) in self.objects:
                self.delete(obj_res, obj_ns, obj_name)

    # -- defaults the real API server fills in ---------------------------------------------------------------
    def _defaults(self, res, obj, current=None):
        meta = obj["metadata"]
        spec = obj.get("spec")
        if res.kind == "Namespace":
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
        elif res.kind == "Secret":
            obj.setdefault("type", "Opaque")
            string_data = obj.pop("stringData", None) or {}
            if string_data:
                data = obj.setdefault("data", {}) or {}
                for key, value in string_data.items():
                    data[key] = base64.b64encode(str(value).encode()).decode()
                obj["data"] = data
        elif res.kind == "Service":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            if spec["type"] != "ExternalName":
                old_ip = ((current or {}).get("spec") or {}).get("clusterIP")
                if not spec.get("clusterIP"):
                    spec["clusterIP"] = old_ip or "10.96.%d.%d" % divmod(next(self._ip_counter), 250)
                spec.setdefault("clusterIPs", [spec["clusterIP"]] if spec["clusterIP"] != "None" else ["None"])
            spec.setdefault("sessionAffinity", "None")
            for port in spec.get("ports") or []:
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
            obj.setdefault("status", {"loadBalancer": {}})
        elif res.kind == "Pod" and current is None:
            spec = obj.setdefault("spec", {})
            spec.setdefault("nodeName", "lab-node")
            if not obj.get("status"):
                obj["status"] = pod_running_status(spec)
        elif res.kind in ("Deployment", "StatefulSet", "ReplicaSet") and isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            if res.kind == "Deployment":
                spec.setdefault("strategy", {"type": "RollingUpdate",
                                             "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
                spec.setdefault("revisionHistoryLimit", 10)
                spec.setdefault("progressDeadlineSeconds", 600)
            if current is None:
                obj.pop("status", None)


def pod_running_status(spec):
    stamp = now_iso()
    statuses = [{"name": c.get("name", ""), "image": c.get("image", ""), "imageID": "", "ready": True, "started": True,
                 "restartCount": 0, "state": {"running": {"startedAt": stamp}}}
                for c in (spec or {}).get("containers") or []]
    conditions = [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}
                  for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")]
    return {"phase": "Running", "conditions": conditions, "containerStatuses": statuses, "hostIP": "127.0.0.1",
            "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}], "startTime": stamp, "qosClass": "BestEffort"}


_NAMESPACES = lookup_kind("v1", "Namespace")
