# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP wiring: one aiohttp application per emulated cluster, all answering JSON."""

import asyncio
import base64
import copy
import json
import logging
import sys

import yaml
from aiohttp import web

from . import errors, openapi, portforward, proxy, resources
from . import exec as pod_exec
from .controllers import Controllers
from .patches import PatchError, fields_v1, json_patch, merge_patch, strategic_merge
from .protobuf import ProtobufError, decode_object, DELETE_OPTIONS, decode_envelope, decode_message
from .selection import SelectorError, parse_field_selector, parse_label_selector
from .store import Store, Watcher, now_iso

LOG = logging.getLogger("kubeapi_emulator")
PROTOBUF = "application/vnd.kubernetes.protobuf"
VERSION = {"major": "1", "minor": "33", "gitVersion": "v1.33.0-kfuse-lab", "gitCommit": "0" * 40,
           "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
           "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": "33"}
UNAUTHENTICATED_PATHS = ("/healthz", "/readyz", "/livez", "/version")


def json_response(doc, status=200):
    return web.Response(status=status, body=json.dumps(doc).encode(), content_type="application/json")


def _truthy(value):
    return str(value).lower() in ("true", "1")


class Cluster:
    """One emulated cluster: its store, controllers, token and aiohttp application."""

    def __init__(self, name, token=None, ready_delay=0.0):
        self.name = name
        self.token = token
        self.store = Store()
        self.controllers = Controllers(self.store, ready_delay)
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.dispatch)
        self.store.create(resources.lookup_kind("v1", "Namespace"), {"metadata": {"name": "default"}})
        for ns in ("kube-system", "kube-public", "kube-node-lease"):
            self.store.create(resources.lookup_kind("v1", "Namespace"), {"metadata": {"name": ns}})
        self.store.create(resources.lookup_kind("v1", "Node"), {
            "metadata": {"name": "lab-node", "labels": {"kubernetes.io/hostname": "lab-node"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}})

    @web.middleware
    async def _middleware(self, request, handler):
        LOG.info("%s %s %s ct=%s accept=%s", self.name, request.method, request.path_qs,
                 request.headers.get("Content-Type", "-"), request.headers.get("Accept", "-"))
        if self.token and request.path not in UNAUTHENTICATED_PATHS:
            if request.headers.get("Authorization", "") != "Bearer %s" % self.token:
                return json_response(errors.status_doc(401, "Unauthorized", "Unauthorized"), 401)
        try:
            return await handler(request)
        except errors.ApiError as exc:
            LOG.info("%s -> %d %s", self.name, exc.code, exc.message)
            return json_response(exc.status(), exc.code)
        except (SelectorError, PatchError, ProtobufError) as exc:
            return json_response(errors.bad_request(str(exc)).status(), 400)

    # -- routing ----------------------------------------------------------------------------------------------
    async def dispatch(self, request):  # pylint: disable=too-many-return-statements
        path = request.path.rstrip("/") or "/"
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/readyz", "/livez") or path.startswith(("/healthz/", "/readyz/", "/livez/")):
            return web.Response(text="ok")
        if path == "/version":
            return json_response(VERSION)
        if path == "/openapi/v2":
            if PROTOBUF in request.headers.get("Accept", "") or "protobuf" in request.headers.get("Accept", ""):
                return web.Response(body=openapi.V2_PROTOBUF,
                                    content_type="application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            return json_response(openapi.v2_document())
        if path == "/openapi/v3":
            return json_response(openapi.v3_index())
        if path.startswith("/openapi/v3/"):
            rest = parts[2:]
            doc = None
            if rest[:1] == ["api"] and len(rest) == 2:
                doc = openapi.gv_document("", rest[1])
            elif rest[:1] == ["apis"] and len(rest) == 3:
                doc = openapi.gv_document(rest[1], rest[2])
            if doc is None:
                raise errors.ApiError(404, "the server could not find the requested resource", "NotFound")
            return json_response(doc)
        if path == "/api":
            return json_response(resources.api_versions_doc())
        if path == "/apis":
            return json_response(resources.api_group_list_doc())
        if parts[:1] == ["api"] and len(parts) >= 2:
            return await self._resource_request(request, "", parts[1], parts[2:])
        if parts[:1] == ["apis"] and len(parts) == 2:
            doc = resources.api_group_doc(parts[1])
            if doc:
                return json_response(doc)
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            return await self._resource_request(request, parts[1], parts[2], parts[3:])
        raise errors.ApiError(404, "the server could not find the requested resource", "NotFound")

    async def _resource_request(self, request, group, version, rest):
        if not rest:
            doc = resources.resource_list_doc(group, version)
            if doc is None:
                raise errors.ApiError(404, "the server could not find the requested resource", "NotFound")
            return json_response(doc)
        watch = False
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces" and resources.lookup(group, version, rest[2]):
            namespace, rest = rest[1], rest[2:]
        res = resources.lookup(group, version, rest[0]) if rest else None
        if res is None:
            raise errors.ApiError(404, "the server could not find the requested resource", "NotFound")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if res.namespaced and namespace is None and name is not None:
            raise errors.ApiError(404, "the server could not find the requested resource", "NotFound")
        if not res.namespaced:
            namespace = None
        if sub == "proxy" and res.plural in ("services", "pods"):
            return await proxy.proxy_request(request, self.store, namespace, res.plural, name, "/".join(rest[3:]))
        if sub == "portforward" and res.plural == "pods":
            return await portforward.port_forward(request, self.store, namespace, name)
        if sub == "exec" and res.plural == "pods":
            return await pod_exec.pod_exec(request, self.store, namespace, name)
        if sub not in (None, "status", "scale") or len(rest) > 3:
            raise errors.ApiError(404, "the server could not find the requested resource", "NotFound")
        method = request.method
        if name is None:
            if method == "GET" and (watch or _truthy(request.query.get("watch", ""))):
                return await self._watch(request, res, namespace)
            if method == "GET":
                return self._list(request, res, namespace)
            if method == "POST":
                return await self._create(request, res, namespace)
            if method == "DELETE":
                return self._delete_collection(request, res, namespace)
        else:
            if watch and method == "GET":
                return await self._watch(request, res, namespace, name)
            if sub == "scale":
                return await self._scale(request, res, namespace, name)
            if method == "GET":
                return json_response(self.store.require(res, namespace, name))
            if method == "PUT":
                return await self._replace(request, res, namespace, name, sub)
            if method == "PATCH":
                return await self._patch(request, res, namespace, name, sub)
            if method == "DELETE":
                return await self._delete(request, res, namespace, name)
        raise errors.ApiError(405, "the server does not allow this method on the requested resource",
                              "MethodNotAllowed")

    # -- bodies -------------------------------------------------------------------------------------------------
    @staticmethod
    async def _body(request):
        raw = await request.read()
        ctype = request.content_type
        if ctype == PROTOBUF:
            return decode_object(raw)
        if not raw:
            return {}
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml"):
                return yaml.safe_load(raw.decode())
            return json.loads(raw.decode())
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request("the body of the request could not be decoded: %s" % exc) from exc

    @staticmethod
    def _dry_run(request):
        return "All" in request.query.getall("dryRun", [])

    def _selectors(self, request, res):
        label_req = parse_label_selector(request.query.get("labelSelector", ""))
        field_req = parse_field_selector(request.query.get("fieldSelector", ""), res.field_selectors)
        return label_req, field_req

    @staticmethod
    def _check_identity(res, obj, namespace, name=None):
        if not isinstance(obj, dict):
            raise errors.bad_request("the body must be an object")
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        kind = obj.get("kind")
        if kind and kind != res.kind:
            raise errors.bad_request("the API version in the data (%s) does not match the expected API version (%s) "
                                     "or kind %s" % (obj.get("apiVersion"), res.api_version, kind))
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                         "the request")
            meta["namespace"] = namespace
        if name is not None:
            if meta.get("name") and meta["name"] != name:
                raise errors.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                         % (meta["name"], name))
            meta["name"] = name
        return obj

    # -- verbs --------------------------------------------------------------------------------------------------
    def _list(self, request, res, namespace):
        label_req, field_req = self._selectors(request, res)
        items = self.store.list(res, namespace, label_req, field_req)
        meta = {"resourceVersion": str(self.store.current_rv)}
        token = request.query.get("continue")
        if token:
            try:
                after = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
            except ValueError as exc:
                raise errors.bad_request("invalid continue token") from exc
            items = [i for i in items if [i["metadata"].get("namespace", ""), i["metadata"]["name"]] > after]
        limit = int(request.query.get("limit") or 0)
        if 0 < limit < len(items):
            last = items[limit - 1]["metadata"]
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps([last.get("namespace", ""), last["name"]]).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if "as=Table" in request.headers.get("Accept", ""):
            return json_response(self._table(items, meta))
        return json_response({"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": meta,
                              "items": items})

    @staticmethod
    def _table(items, meta):
        rows = [{"cells": [i["metadata"]["name"], i["metadata"].get("creationTimestamp", "")],
                 "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": i["metadata"]}}
                for i in items]
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": [{"name": "Name", "type": "string", "format": "name", "description": "Name",
                                       "priority": 0},
                                      {"name": "Created At", "type": "date", "format": "", "description": "Created",
                                       "priority": 0}],
                "rows": rows}

    async def _create(self, request, res, namespace):
        obj = self._check_identity(res, await self._body(request), namespace)
        created = self.store.create(res, obj, dry_run=self._dry_run(request))
        return json_response(created, 201)

    async def _replace(self, request, res, namespace, name, sub):
        obj = self._check_identity(res, await self._body(request), namespace, name)
        if self.store.get(res, namespace, name) is None:
            raise errors.not_found(res, name)
        return json_response(self.store.update(res, obj, dry_run=self._dry_run(request), subresource=sub))

    async def _patch(self, request, res, namespace, name, sub):
        ctype = request.content_type
        patch = await self._body(request)
        current = self.store.get(res, namespace, name)
        dry_run = self._dry_run(request)
        if ctype == "application/apply-patch+yaml":
            manager = request.query.get("fieldManager")
            if not manager:
                raise errors.bad_request("fieldManager is required for apply requests")
            if not isinstance(patch, dict):
                raise errors.bad_request("an apply patch must be an object")
            self._check_identity(res, patch, namespace, name)
            if current is None:
                obj = strategic_merge({}, patch)
                _record_apply(obj, None, manager, patch, res)
                return json_response(self.store.create(res, obj, dry_run=dry_run), 201)
            merged = strategic_merge(current, patch)
            _record_apply(merged, current, manager, patch, res)
        elif current is None:
            raise errors.not_found(res, name)
        elif ctype == "application/json-patch+json":
            merged = json_patch(current, patch)
        elif ctype == "application/merge-patch+json":
            merged = merge_patch(current, patch)
        elif ctype == "application/strategic-merge-patch+json":
            merged = strategic_merge(current, patch)
        else:
            raise errors.ApiError(415, "the body of the request was in an unknown format - accepted media types "
                                  "include: application/json-patch+json, application/merge-patch+json, "
                                  "application/apply-patch+yaml, application/strategic-merge-patch+json",
                                  "UnsupportedMediaType")
        if not isinstance(merged, dict):
            raise errors.invalid(res, name, "the patch does not produce an object")
        self._check_identity(res, merged, namespace, name)
        return json_response(self.store.update(res, merged, dry_run=dry_run, subresource=sub))

    async def _delete(self, request, res, namespace, name):
        options = {}
        raw = await request.read()
        if raw and request.content_type == PROTOBUF:
            options = decode_message(decode_envelope(raw)[2], DELETE_OPTIONS)
        elif raw:
            try:
                options = json.loads(raw.decode())
            except ValueError:
                options = {}
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        if _truthy(request.query.get("orphanDependents", options.get("orphanDependents", False))):
            propagation = "Orphan"
        dry_run = self._dry_run(request) or "All" in (options.get("dryRun") or [])
        precondition = (options.get("preconditions") or {}).get("resourceVersion")
        gone = self.store.delete(res, namespace, name, dry_run=dry_run, propagation=propagation,
                                 precondition_rv=precondition)
        if res.kind in ("Pod", "Namespace"):
            if res.kind == "Namespace":
                gone["status"] = {"phase": "Terminating"}
            return json_response(gone)
        details = {"name": name, "kind": res.plural, "uid": gone["metadata"]["uid"]}
        if res.group:
            details["group"] = res.group
        return json_response(errors.status_doc(200, "", "", details, success=True))

    def _delete_collection(self, request, res, namespace):
        label_req, field_req = self._selectors(request, res)
        deleted = []
        for obj in self.store.list(res, namespace, label_req, field_req):
            meta = obj["metadata"]
            if self.store.get(res, meta.get("namespace"), meta["name"]) is not None:
                deleted.append(self.store.delete(res, meta.get("namespace"), meta["name"],
                                                 dry_run=self._dry_run(request)))
        return json_response({"kind": res.kind + "List", "apiVersion": res.api_version,
                              "metadata": {"resourceVersion": str(self.store.current_rv)}, "items": deleted})

    async def _scale(self, request, res, namespace, name):
        obj = self.store.require(res, namespace, name)
        if request.method in ("PUT", "PATCH"):
            body = await self._body(request)
            scale = self._scale_doc(obj)
            if request.method == "PUT":
                scale = body
            elif request.content_type == "application/json-patch+json":
                scale = json_patch(scale, body)
            else:
                scale = merge_patch(scale, body)
            wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != obj["metadata"]["resourceVersion"]:
                raise errors.conflict(res, name)
            obj["spec"]["replicas"] = int((scale.get("spec") or {}).get("replicas", 0))
            obj = self.store.update(res, obj, dry_run=self._dry_run(request))
        elif request.method != "GET":
            raise errors.ApiError(405, "method not allowed on scale", "MethodNotAllowed")
        return json_response(self._scale_doc(obj))

    @staticmethod
    def _scale_doc(obj):
        selector = (obj.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
        meta = {k: obj["metadata"].get(k) for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
                "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": ",".join("%s=%s" % kv for kv in sorted(selector.items()))}}

    async def _watch(self, request, res, namespace, name=None):
        label_req, field_req = self._selectors(request, res)
        if name:
            field_req = list(field_req) + [("metadata.name", "eq", name)]
        watcher = Watcher(res, namespace, label_req, field_req)
        rv = request.query.get("resourceVersion", "")
        initial = _truthy(request.query.get("sendInitialEvents", ""))
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        gone = False
        if rv in ("", "0") or initial:
            for obj in self.store.list(res, namespace, label_req, field_req):
                watcher.queue.put_nowait(("ADDED", obj))
            if initial:
                bookmark = {"kind": res.kind, "apiVersion": res.api_version, "metadata": {
                    "resourceVersion": str(self.store.current_rv),
                    "annotations": {"k8s.io/initial-events-end": "true"}}}
                watcher.queue.put_nowait(("BOOKMARK", bookmark))
        else:
            try:
                since = int(rv)
            except ValueError:
                since = -1
            gone = since < 0 or not self.store.replay(watcher, since)
        if gone:
            status = errors.status_doc(410, "too old resource version: %s (%s)" % (rv, self.store.current_rv),
                                       "Expired")
            await response.write(json.dumps({"type": "ERROR", "object": status}).encode() + b"\n")
            await response.write_eof()
            return response
        self.store.watchers.add(watcher)
        timeout = float(request.query.get("timeoutSeconds") or 1800)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    event_type, obj = await asyncio.wait_for(watcher.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
                await response.write(json.dumps({"type": event_type, "object": obj}).encode() + b"\n")
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self.store.watchers.discard(watcher)
        return response


def _record_apply(obj, current, manager, patch, res):
    """Server-side apply bookkeeping: one managedFields entry per manager, kept as is when nothing changed."""
    applied = copy.deepcopy(patch)
    meta = applied.get("metadata") or {}
    for key in ("name", "namespace", "resourceVersion", "uid", "managedFields"):
        meta.pop(key, None)
    fields = fields_v1(applied)
    entries = list((current or {}).get("metadata", {}).get("managedFields") or [])
    old = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Apply"), None)
    if old is None or old.get("fieldsV1") != fields:
        entries = [e for e in entries if e is not old]
        entries.append({"manager": manager, "operation": "Apply", "apiVersion": res.api_version, "time": now_iso(),
                        "fieldsType": "FieldsV1", "fieldsV1": fields})
    obj.setdefault("metadata", {})["managedFields"] = entries


def setup_logging(verbose):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
