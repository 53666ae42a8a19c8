# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic merge patch."""

import copy


class PatchError(ValueError):
    """A patch that cannot be applied (answered as 422 or 400)."""


# Kubernetes merge keys of the lists that strategic merge patch merges instead of replacing.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "conditions": "type",
    "ownerReferences": "uid",
    "ports": ("containerPort", "port"),
}
# Primitive lists merged as sets.
MERGED_PRIMITIVE_LISTS = {"finalizers"}


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    for part in parts:
        if isinstance(doc, list):
            try:
                doc = doc[int(part)]
            except (ValueError, IndexError) as exc:
                raise PatchError("path not found: %s" % part) from exc
        elif isinstance(doc, dict):
            if part not in doc:
                raise PatchError("path not found: %s" % part)
            doc = doc[part]
        else:
            raise PatchError("path not found: %s" % part)
    return doc


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                index = int(last)
            except ValueError as exc:
                raise PatchError("bad array index %r" % last) from exc
            if index < 0 or index > len(parent):
                raise PatchError("array index out of range")
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError("cannot add to a scalar")
    return doc


def _remove(doc, parts):
    if not parts:
        raise PatchError("cannot remove the root")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    try:
        if isinstance(parent, list):
            return parent.pop(int(last))
        return parent.pop(last)
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        raise PatchError("path not found: %s" % "/".join(parts)) from exc


def json_patch(target, operations):
    """RFC 6902."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise PatchError("invalid JSON patch operation")
        op = operation["op"]
        parts = _pointer(operation.get("path", ""))
        if op == "add":
            doc = _add(doc, parts, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(doc, parts)
        elif op == "replace":
            _walk(doc, parts)
            if parts:
                _remove(doc, parts)
            doc = _add(doc, parts, copy.deepcopy(operation.get("value")))
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from", ""))
            value = copy.deepcopy(_walk(doc, source))
            if op == "move":
                _remove(doc, source)
            doc = _add(doc, parts, value)
        elif op == "test":
            if _walk(doc, parts) != operation.get("value"):
                raise PatchError("test operation failed at %s" % operation.get("path"))
        else:
            raise PatchError("unknown JSON patch op %r" % op)
    return doc


def _merge_key_for(field_name, items):
    key = MERGE_KEYS.get(field_name)
    if isinstance(key, tuple):
        for candidate in key:
            if any(isinstance(i, dict) and candidate in i for i in items):
                return candidate
        return key[-1]
    return key


def _merge_list(field_name, original, patch):
    if original is None:
        original = []
    key = _merge_key_for(field_name, list(original) + list(patch))
    if key is None:
        if field_name in MERGED_PRIMITIVE_LISTS:
            result = list(original)
            for item in patch:
                if item not in result:
                    result.append(item)
            return result
        return [_strip_directives(i) for i in patch]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    result = copy.deepcopy(list(original))
    for item in patch:
        if not isinstance(item, dict):
            result.append(item)
            continue
        index = next((n for n, cur in enumerate(result) if isinstance(cur, dict) and cur.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def _strip_directives(value):
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items()
                if not k.startswith("$") and not k.startswith("$setElementOrder") and v is not None}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def strategic_merge(original, patch):
    """Kubernetes strategic merge patch for the built-in kinds (merge keys known by field name)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list):
                result[name] = [v for v in result[name] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            if isinstance(result.get(key), list) or key in MERGE_KEYS or key in MERGED_PRIMITIVE_LISTS:
                result[key] = _merge_list(key, result.get(key), value)
            else:
                result[key] = _strip_directives(value)
        else:
            result[key] = value
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"]) | {k for k in patch if not k.startswith("$")}
        result = {k: v for k, v in result.items() if k in keep}
    return result


def fields_v1(value):
    """The managedFields FieldsV1 set of a (partial) object, as server-side apply records it."""
    if isinstance(value, dict):
        fields = {}
        for key, sub in value.items():
            if key in ("apiVersion", "kind"):
                continue
            fields["f:" + key] = fields_v1(sub)
        return fields
    if isinstance(value, list):
        fields = {}
        for item in value:
            if isinstance(item, dict):
                name = next((item[k] for k in ("name", "containerPort", "port", "mountPath", "type") if k in item), None)
                if name is not None:
                    key = next(k for k in ("name", "containerPort", "port", "mountPath", "type") if k in item)
                    fields['k:{"%s":%s}' % (key, '"%s"' % name if isinstance(name, str) else name)] = fields_v1(item)
            else:
                fields['v:"%s"' % item] = {}
        return fields
    return {}
