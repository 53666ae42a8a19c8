# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workload controllers: Deployments own ReplicaSets, ReplicaSets and StatefulSets own Pods, and all of them
report ready status once --ready-delay has passed since their spec last changed."""

import asyncio
import copy
import hashlib
import json
import time

from . import errors
from .resources import lookup_kind
from .store import now_iso, pod_running_status, random_suffix

DEPLOYMENT = lookup_kind("apps/v1", "Deployment")
REPLICA_SET = lookup_kind("apps/v1", "ReplicaSet")
STATEFUL_SET = lookup_kind("apps/v1", "StatefulSet")
POD = lookup_kind("v1", "Pod")
WORKLOADS = (DEPLOYMENT, REPLICA_SET, STATEFUL_SET)


def template_hash(template):
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    return "".join("bcdfghjklmnpqrstvwxz2456789"[int(digest[i:i + 2], 16) % 27] for i in range(0, 20, 2))


def _owner_ref(obj):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def _owned_by(obj, owner_uid):
    return any(ref.get("uid") == owner_uid and ref.get("controller")
               for ref in obj["metadata"].get("ownerReferences") or [])


class Controllers:
    """Reconciles workloads of one store; scheduled on the running asyncio loop."""

    def __init__(self, store, ready_delay=0.0):
        self.store = store
        self.ready_delay = ready_delay
        self._pending = set()
        self._ready_at = {}  # (res, ns, name) -> (generation, replicas, monotonic time)
        store.listeners.append(self._on_event)

    def _on_event(self, event_type, res, obj):
        meta = obj["metadata"]
        if res in WORKLOADS and event_type != "DELETED":
            self._schedule((res, meta.get("namespace", ""), meta["name"]), 0)
        elif res is POD and event_type == "DELETED":
            for ref in meta.get("ownerReferences") or []:
                owner = lookup_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
                if owner in (REPLICA_SET, STATEFUL_SET):
                    self._schedule((owner, meta.get("namespace", ""), ref.get("name")), 0)

    def _schedule(self, key, delay):
        if delay <= 0 and key in self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if delay <= 0:
            self._pending.add(key)
            loop.call_soon(self._run, key)
        else:
            loop.call_later(delay, self._run, key)

    def _run(self, key):
        self._pending.discard(key)
        res, namespace, name = key
        obj = self.store.get(res, namespace, name)
        if obj is None:
            self._ready_at.pop(key, None)
            return
        try:
            if res is DEPLOYMENT:
                self._reconcile_deployment(obj)
            elif res is REPLICA_SET:
                self._reconcile_pods(obj, REPLICA_SET)
            else:
                self._reconcile_pods(obj, STATEFUL_SET)
            self._report_status(key, obj)
        except errors.ApiError:
            # A concurrent client write won; the resulting event schedules another pass.
            self._schedule(key, 0.05)

    def _is_ready(self, key, obj):
        """True once ready_delay has passed since this generation/replica count was first seen."""
        marker = (obj["metadata"].get("generation"), obj["spec"].get("replicas", 1))
        seen = self._ready_at.get(key)
        if seen is None or seen[:2] != marker:
            seen = marker + (time.monotonic() + self.ready_delay,)
            self._ready_at[key] = seen
        remaining = seen[2] - time.monotonic()
        if remaining > 0:
            self._schedule(key, remaining + 0.01)
            return False
        return True

    def _report_status(self, key, obj):
        res = key[0]
        replicas = obj["spec"].get("replicas", 1)
        ready = self._is_ready(key, obj)
        count = replicas if ready else 0
        status = dict(obj.get("status") or {})
        status.update(observedGeneration=obj["metadata"].get("generation", 1), replicas=replicas,
                      readyReplicas=count, availableReplicas=count)
        if res is DEPLOYMENT:
            status["updatedReplicas"] = replicas
            status["unavailableReplicas"] = replicas - count
            if not status["unavailableReplicas"]:
                status.pop("unavailableReplicas")
            status["conditions"] = self._deployment_conditions(obj, ready, status.get("conditions"))
        elif res is REPLICA_SET:
            status["fullyLabeledReplicas"] = replicas
        else:
            revision = "%s-%s" % (obj["metadata"]["name"], template_hash(obj["spec"].get("template"))[:10])
            status.update(currentReplicas=replicas, updatedReplicas=replicas, currentRevision=revision,
                          updateRevision=revision, collisionCount=0)
        if not count:
            for field in ("readyReplicas", "availableReplicas"):
                status.pop(field)
        if status != obj.get("status"):
            obj["status"] = status
            obj["metadata"].pop("resourceVersion", None)
            self.store.update(res, obj, subresource="status")

    @staticmethod
    def _deployment_conditions(obj, ready, previous):
        previous = {c.get("type"): c for c in previous or []}
        stamp = now_iso()
        rs_name = "%s-%s" % (obj["metadata"]["name"], template_hash(obj["spec"].get("template")))
        wanted = [
            ("Available", "True" if ready else "False",
             "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
             "Deployment has minimum availability." if ready else "Deployment does not have minimum availability."),
            ("Progressing", "True", "NewReplicaSetAvailable" if ready else "ReplicaSetUpdated",
             'ReplicaSet "%s" has %s.' % (rs_name, "successfully progressed" if ready else "is progressing")),
        ]
        conditions = []
        for ctype, status, reason, message in wanted:
            old = previous.get(ctype) or {}
            same = old.get("status") == status and old.get("reason") == reason
            conditions.append({"type": ctype, "status": status, "reason": reason, "message": message,
                               "lastUpdateTime": old.get("lastUpdateTime") if same else stamp,
                               "lastTransitionTime": old.get("lastTransitionTime") if same else stamp})
        return conditions

    def _reconcile_deployment(self, deploy):
        namespace = deploy["metadata"]["namespace"]
        uid = deploy["metadata"]["uid"]
        template = copy.deepcopy(deploy["spec"].get("template") or {})
        pod_hash = template_hash(template)
        name = "%s-%s" % (deploy["metadata"]["name"], pod_hash)
        owned = [rs for rs in self.store.list(REPLICA_SET, namespace) if _owned_by(rs, uid)]
        revision = 1 + max((int(rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", 0))
                            for rs in owned), default=0)
        replicas = deploy["spec"].get("replicas", 1)
        for rs in owned:
            if rs["metadata"]["name"] != name and rs["spec"].get("replicas"):
                rs["spec"]["replicas"] = 0
                rs["metadata"].pop("resourceVersion", None)
                self.store.update(REPLICA_SET, rs)
        current = next((rs for rs in owned if rs["metadata"]["name"] == name), None)
        if current is None:
            template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
            selector = copy.deepcopy(deploy["spec"].get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
            labels = dict(template["metadata"]["labels"])
            rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": name, "namespace": namespace, "labels": labels,
                               "annotations": {"deployment.kubernetes.io/revision": str(revision),
                                               "deployment.kubernetes.io/desired-replicas": str(replicas)},
                               "ownerReferences": [_owner_ref(deploy)]},
                  "spec": {"replicas": replicas, "selector": selector, "template": template}}
            self.store.create(REPLICA_SET, rs)
            annotations = deploy["metadata"].setdefault("annotations", {})
            if annotations.get("deployment.kubernetes.io/revision") != str(revision):
                annotations["deployment.kubernetes.io/revision"] = str(revision)
                deploy["metadata"].pop("resourceVersion", None)
                self.store.update(DEPLOYMENT, deploy)
        elif current["spec"].get("replicas") != replicas:
            current["spec"]["replicas"] = replicas
            current["metadata"].pop("resourceVersion", None)
            self.store.update(REPLICA_SET, current)

    def _reconcile_pods(self, owner, owner_res):
        namespace = owner["metadata"]["namespace"]
        uid = owner["metadata"]["uid"]
        replicas = owner["spec"].get("replicas", 1)
        template = owner["spec"].get("template") or {}
        pods = [p for p in self.store.list(POD, namespace) if _owned_by(p, uid)]
        if owner_res is STATEFUL_SET:
            wanted = ["%s-%d" % (owner["metadata"]["name"], i) for i in range(replicas)]
        else:
            wanted = [p["metadata"]["name"] for p in pods][:replicas]
            while len(wanted) < replicas:
                wanted.append("%s-%s" % (owner["metadata"]["name"], random_suffix()))
        existing = {p["metadata"]["name"] for p in pods}
        for pod in pods:
            if pod["metadata"]["name"] not in wanted:
                self.store.delete(POD, namespace, pod["metadata"]["name"])
        for pod_name in wanted:
            if pod_name in existing or self.store.get(POD, namespace, pod_name) is not None:
                continue
            meta = copy.deepcopy(template.get("metadata") or {})
            meta.update(name=pod_name, namespace=namespace, ownerReferences=[_owner_ref(owner)])
            spec = copy.deepcopy(template.get("spec") or {})
            spec.setdefault("nodeName", "lab-node")
            if owner_res is STATEFUL_SET:
                meta.setdefault("labels", {})["statefulset.kubernetes.io/pod-name"] = pod_name
            self.store.create(POD, {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
                                    "status": pod_running_status(spec)})
