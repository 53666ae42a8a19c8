# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) into JSON-like dicts.

A body is the magic b"k8s\\x00" followed by a runtime.Unknown message whose raw field holds the typed object.
Only the kinds clients were seen sending as protobuf have schemas here.
"""

import base64
import datetime
import json

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    """A body that cannot be decoded."""


def _varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def iter_fields(data):
    """Yield (field_number, wire_type, value) with value an int (varint/fixed) or bytes (length-delimited)."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value = bytes(data[pos:pos + length])
            if len(value) != length:
                raise ProtobufError("truncated field %d" % number)
            pos += length
        elif wire == 1:
            value = int.from_bytes(data[pos:pos + 8], "little")
            pos += 8
        elif wire == 5:
            value = int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        else:
            raise ProtobufError("unsupported wire type %d" % wire)
        yield number, wire, value


# Field kinds: "string", "bytes" (base64 in JSON), "int", "bool", "time", ("msg", SCHEMA),
# ("map", value_kind), ("list", kind), "raw_json" (FieldsV1 / RawExtension bytes holding JSON).
TIME = "time"
TYPE_META = {1: ("apiVersion", "string"), 2: ("kind", "string")}
OWNER_REFERENCE = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"), 5: ("apiVersion", "string"),
                   6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}
FIELDS_V1 = "fieldsv1"
MANAGED_FIELDS = {1: ("manager", "string"), 2: ("operation", "string"), 3: ("apiVersion", "string"), 4: ("time", TIME),
                  6: ("fieldsType", "string"), 7: ("fieldsV1", FIELDS_V1), 8: ("subresource", "string")}
OBJECT_META = {
    1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"), 4: ("selfLink", "string"),
    5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int"), 8: ("creationTimestamp", TIME),
    9: ("deletionTimestamp", TIME), 10: ("deletionGracePeriodSeconds", "int"), 11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")), 13: ("ownerReferences", ("list", ("msg", OWNER_REFERENCE))),
    14: ("finalizers", ("list", "string")), 17: ("managedFields", ("list", ("msg", MANAGED_FIELDS))),
}
SECRET = {1: ("metadata", ("msg", OBJECT_META)), 2: ("data", ("map", "bytes")), 3: ("type", "string"),
          4: ("stringData", ("map", "string")), 5: ("immutable", "bool")}
CONFIG_MAP = {1: ("metadata", ("msg", OBJECT_META)), 2: ("data", ("map", "string")), 3: ("binaryData", ("map", "bytes")),
              4: ("immutable", "bool")}
NAMESPACE = {1: ("metadata", ("msg", OBJECT_META)), 2: ("spec", ("msg", {1: ("finalizers", ("list", "string"))})),
             3: ("status", ("msg", {1: ("phase", "string")}))}
OBJECT_REFERENCE = {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                    5: ("apiVersion", "string"), 6: ("resourceVersion", "string"), 7: ("fieldPath", "string")}
MICRO_TIME = "microtime"
EVENT = {1: ("metadata", ("msg", OBJECT_META)), 2: ("involvedObject", ("msg", OBJECT_REFERENCE)), 3: ("reason", "string"),
         4: ("message", "string"), 5: ("source", ("msg", {1: ("component", "string"), 2: ("host", "string")})),
         6: ("firstTimestamp", TIME), 7: ("lastTimestamp", TIME), 8: ("count", "int"), 9: ("type", "string"),
         10: ("eventTime", MICRO_TIME), 12: ("action", "string"), 14: ("reportingComponent", "string"),
         15: ("reportingInstance", "string")}
LEASE_SPEC = {1: ("holderIdentity", "string"), 2: ("leaseDurationSeconds", "int"), 3: ("acquireTime", MICRO_TIME),
              4: ("renewTime", MICRO_TIME), 5: ("leaseTransitions", "int")}
LEASE = {1: ("metadata", ("msg", OBJECT_META)), 2: ("spec", ("msg", LEASE_SPEC))}
PRECONDITIONS = {1: ("uid", "string"), 2: ("resourceVersion", "string")}
DELETE_OPTIONS = {1: ("gracePeriodSeconds", "int"), 2: ("preconditions", ("msg", PRECONDITIONS)),
                  3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "string"), 5: ("dryRun", ("list", "string"))}
SERVICE_ACCOUNT = {1: ("metadata", ("msg", OBJECT_META)),
                   2: ("secrets", ("list", ("msg", OBJECT_REFERENCE))),
                   3: ("imagePullSecrets", ("list", ("msg", {1: ("name", "string")}))),
                   4: ("automountServiceAccountToken", "bool")}

SCHEMAS = {
    ("v1", "Secret"): SECRET,
    ("v1", "ConfigMap"): CONFIG_MAP,
    ("v1", "Namespace"): NAMESPACE,
    ("v1", "Event"): EVENT,
    ("v1", "ServiceAccount"): SERVICE_ACCOUNT,
    ("coordination.k8s.io/v1", "Lease"): LEASE,
    ("v1", "DeleteOptions"): DELETE_OPTIONS,
    ("meta.k8s.io/v1", "DeleteOptions"): DELETE_OPTIONS,
}


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _time(data, micro=False):
    fields = {field_no: field_value for field_no, _wire, field_value in iter_fields(data)}
    if not fields.get(1) and not fields.get(2):
        return None  # gogo-protobuf always writes non-pointer Time fields, empty when unset
    stamp = datetime.datetime.fromtimestamp(_signed(fields.get(1, 0)), datetime.timezone.utc)
    if micro:
        stamp = stamp.replace(microsecond=fields.get(2, 0) // 1000)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scalar(kind, wire, value):
    if kind == "string":
        return value.decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "int":
        return _signed(value)
    if kind == "bool":
        return bool(value)
    if kind == TIME:
        return _time(value)
    if kind == MICRO_TIME:
        return _time(value, micro=True)
    if kind == FIELDS_V1:
        raw = {field_no: field_value for field_no, _wire, field_value in iter_fields(value)}.get(1, b"{}")
        return _json_loads(raw)
    if isinstance(kind, tuple) and kind[0] == "msg":
        return decode_message(value, kind[1])
    raise ProtobufError("cannot decode wire type %d as %r" % (wire, kind))


def _json_loads(raw):
    return json.loads(raw.decode("utf-8") or "{}")


def decode_message(data, schema):
    """Decode one message with a schema of {field_number: (json_name, kind)}; unknown fields are skipped."""
    result = {}
    for number, wire, value in iter_fields(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = {field_no: field_value for field_no, _wire, field_value in iter_fields(value)}
            key = entry.get(1, b"").decode("utf-8")
            result.setdefault(name, {})[key] = _scalar(kind[1], 2, entry.get(2, b""))
        elif isinstance(kind, tuple) and kind[0] == "list":
            result.setdefault(name, []).append(_scalar(kind[1], wire, value))
        else:
            decoded = _scalar(kind, wire, value)
            # Non-pointer fields are always written; their zero values mean "unset" in JSON terms.
            if decoded not in (None, "", 0) or kind == "bool":
                result[name] = decoded
    return result


def decode_envelope(body):
    """Return (apiVersion, kind, raw bytes, content type) of a protobuf-encoded body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    unknown = {field_no: field_value for field_no, _wire, field_value in iter_fields(body[len(MAGIC):])}
    type_meta = decode_message(unknown.get(1, b""), TYPE_META)
    return type_meta.get("apiVersion", ""), type_meta.get("kind", ""), unknown.get(2, b""), unknown.get(4, b"").decode()


def decode_object(body):
    """Decode a protobuf request body into the JSON form the rest of the server works with."""
    api_version, kind, raw, _content_type = decode_envelope(body)
    schema = SCHEMAS.get((api_version, kind))
    if schema is None:
        raise ProtobufError("protobuf decoding of %s %s is not supported by the emulator" % (api_version, kind))
    obj = {"apiVersion": api_version, "kind": kind}
    obj.update(decode_message(raw, schema))
    return obj
