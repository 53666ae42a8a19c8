# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal OpenAPI: enough for kubectl's and helm's field-validation support checks.

The v3 documents describe every served path with its operations and query parameters (the checks look for
`fieldValidation` on the PATCH operation of a group-version-kind). They carry no component schemas, so clients
fall back to their built-in knowledge of the kinds for strategic merge patches and skip schema validation.
"""

import hashlib
import json

from .resources import RESOURCES, group_versions

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "pretty", "force", "labelSelector", "fieldSelector",
                 "resourceVersion", "timeoutSeconds", "watch", "limit", "continue")


def _gv_path(group, version):
    return "apis/%s/%s" % (group, version) if group else "api/%s" % version


def _operation(res, action):
    params = [{"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
              for name in _QUERY_PARAMS]
    return {"operationId": "%s%s" % (action, res.kind), "tags": [res.group or "core"], "parameters": params,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version, "kind": res.kind},
            "responses": {"200": {"description": "OK"}}}


def gv_document(group, version):
    paths = {}
    for res in RESOURCES:
        if res.group != group or res.version != version:
            continue
        base = "/" + _gv_path(group, version)
        collection = base + ("/namespaces/{namespace}/" if res.namespaced else "/") + res.plural
        paths[collection] = {"get": _operation(res, "list"), "post": _operation(res, "post"),
                             "delete": _operation(res, "deletecollection")}
        paths[collection + "/{name}"] = {"get": _operation(res, "get"), "put": _operation(res, "put"),
                                         "patch": _operation(res, "patch"), "delete": _operation(res, "delete")}
    if not paths:
        return None
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": paths,
            "components": {"schemas": {}}}


def _hash(doc):
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()


def v3_index():
    paths = {}
    for group, versions in group_versions().items():
        for version in versions:
            path = _gv_path(group, version)
            paths[path] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (path, _hash(gv_document(group, version)))}
    return {"paths": paths}


def v2_document():
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": {}, "definitions": {}}


# The same document as protobuf (gnostic openapi_v2.Document): field 1 swagger="2.0".
V2_PROTOBUF = b"\x0a\x032.0"
