# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds the emulator serves and the discovery documents built from them."""

from dataclasses import dataclass, field

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    """One served resource type (plural name within a group/version)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple = ()
    subresources: tuple = ()
    categories: tuple = ()
    has_status: bool = False
    field_selectors: tuple = field(default=())

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def singular(self):
        return self.kind.lower()

    @property
    def prefix(self):
        """URL prefix of the group/version: /api/v1 or /apis/<group>/<version>."""
        return "/apis/%s" % self.api_version if self.group else "/api/%s" % self.version


RESOURCES = [
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",), has_status=True),
    Resource("", "v1", "secrets", "Secret", True, (), (), field_selectors=("type",)),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "services", "Service", True, ("svc",), ("status", "proxy"), ("all",), has_status=True),
    Resource("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    Resource("", "v1", "pods", "Pod", True, ("po",), ("status", "portforward", "proxy", "log"), ("all",), has_status=True,
             field_selectors=("status.phase", "spec.nodeName")),
    Resource("", "v1", "nodes", "Node", False, ("no",), ("status", "proxy"), has_status=True),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Resource("", "v1", "events", "Event", True, ("ev",)),
    Resource("apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status", "scale"), ("all",), has_status=True),
    Resource("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status", "scale"), ("all",), has_status=True),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale"), ("all",), has_status=True),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True),
]

BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KIND = {(r.group, r.kind): r for r in RESOURCES}


def group_versions():
    """Ordered {group: [versions]} of the served API groups."""
    groups = {}
    for res in RESOURCES:
        versions = groups.setdefault(res.group, [])
        if res.version not in versions:
            versions.append(res.version)
    return groups


def lookup(group, version, plural):
    return BY_PATH.get((group, version, plural))


def lookup_kind(api_version, kind):
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return BY_KIND.get((group, kind))


def api_versions_doc():
    """The legacy /api document."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}]}


def api_group_list_doc():
    """The legacy /apis document."""
    groups = []
    for group, versions in group_versions().items():
        if not group:
            continue
        entries = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
        groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group_doc(group):
    versions = group_versions().get(group)
    if not versions or not group:
        return None
    entries = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries, "preferredVersion": entries[0]}


def resource_list_doc(group, version):
    """The /api/v1 or /apis/<group>/<version> APIResourceList, or None when not served."""
    items = []
    for res in RESOURCES:
        if res.group != group or res.version != version:
            continue
        verbs = list(ALL_VERBS)
        if res.plural == "namespaces":
            verbs.remove("deletecollection")
        entry = {"name": res.plural, "singularName": res.singular, "namespaced": res.namespaced, "kind": res.kind,
                 "verbs": verbs}
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        items.append(entry)
        for sub in res.subresources:
            sub_entry = {"name": "%s/%s" % (res.plural, sub), "singularName": "", "namespaced": res.namespaced,
                         "kind": res.kind, "verbs": ["get", "patch", "update"]}
            if sub == "scale":
                sub_entry.update(group="autoscaling", version="v1", kind="Scale")
            elif sub in ("portforward", "proxy"):
                sub_entry.update(kind="PodPortForwardOptions" if sub == "portforward" else res.kind + "ProxyOptions",
                                 verbs=["create", "get"] if sub == "portforward" else
                                 ["create", "delete", "get", "patch", "update"])
            elif sub == "log":
                sub_entry.update(kind="Pod", verbs=["get"])
            items.append(sub_entry)
    if not items:
        return None
    gv = "%s/%s" % (group, version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}
