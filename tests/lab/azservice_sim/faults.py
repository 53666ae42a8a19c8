# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab fault knobs: injected latency, canned statuses, dropped connections, failing checks and status shapes.

``status_shape`` changes how GET /status answers (the real service's body is not public, so the modules must read
other shapes or refuse them): ``json`` (the default, flat JSON with a nested ``activation``), ``text``
(``key=value`` text), ``camel_nested`` (camelCase keys nested by concern, counters named
``segmentsRehydrated``/``totalSegments``) or ``unreadable`` (an HTML page). ``pause_refusal_status`` is the HTTP
status of the pause refused by the Kafka flush check (409 by default; 500 as some services answer).
"""

import copy

_RULE_LISTS = ("responses", "drop", "drop_after_action")
STATUS_SHAPES = ("json", "text", "camel_nested", "unreadable")


def default_faults():
    return {
        "latency": 0.0,
        "responses": [],
        "drop": [],
        "drop_after_action": [],
        "flush_check_fails": False,
        "activation_fail_after": None,
        "unreachable": False,
        "status_shape": "json",
        "pause_refusal_status": 409,
    }


class FaultError(ValueError):
    """A fault document the simulator cannot apply."""


def _validate_rule(kind, rule):
    if not isinstance(rule, dict) or not isinstance(rule.get("path"), str):
        raise FaultError("%s: every entry needs a string 'path'" % kind)
    count = rule.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise FaultError("%s: 'count' must be a positive integer" % kind)
    clean = {"path": rule["path"], "count": count}
    if rule.get("method") is not None:
        clean["method"] = str(rule["method"]).upper()
    if kind == "responses":
        status = rule.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise FaultError("responses: 'status' must be an HTTP status code")
        clean["status"] = status
        if "body" in rule:
            clean["body"] = rule["body"]
    return clean


class FaultSet:
    """The current faults; rules with a count are consumed by the requests they match."""

    def __init__(self):
        self.current = default_faults()

    def snapshot(self):
        return copy.deepcopy(self.current)

    def clear(self):
        self.current = default_faults()

    def merge(self, update):
        """Validate the whole update first, then replace the keys it names."""
        if not isinstance(update, dict):
            raise FaultError("the fault document must be a JSON object")
        merged = copy.deepcopy(self.current)
        for key, value in update.items():
            if key not in merged:
                raise FaultError("unknown fault %r; known: %s" % (key, ", ".join(sorted(merged))))
            if key in _RULE_LISTS:
                if not isinstance(value, list):
                    raise FaultError("%s must be a list" % key)
                merged[key] = [_validate_rule(key, rule) for rule in value]
            elif key == "latency":
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    raise FaultError("latency must be a non-negative number of seconds")
                merged[key] = float(value)
            elif key == "status_shape":
                if value not in STATUS_SHAPES:
                    raise FaultError("status_shape must be one of %s" % ", ".join(STATUS_SHAPES))
                merged[key] = value
            elif key == "pause_refusal_status":
                if not isinstance(value, int) or isinstance(value, bool) or not 400 <= value <= 599:
                    raise FaultError("pause_refusal_status must be an HTTP error status (400-599)")
                merged[key] = value
            elif key == "activation_fail_after":
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise FaultError("activation_fail_after must be null or a non-negative integer")
                merged[key] = value
            else:
                if not isinstance(value, bool):
                    raise FaultError("%s must be true or false" % key)
                merged[key] = value
        self.current = merged

    def take(self, kind, method, path):
        """Consume one use of the first matching rule of that kind; return the rule or None."""
        rules = self.current[kind]
        for rule in rules:
            if rule["path"] == path and rule.get("method", method) == method:
                rule["count"] -= 1
                if rule["count"] <= 0:
                    rules.remove(rule)
                return rule
        return None

    @property
    def latency(self):
        return self.current["latency"]

    @property
    def unreachable(self):
        return self.current["unreachable"]

    @property
    def flush_check_fails(self):
        return self.current["flush_check_fails"]

    @property
    def status_shape(self):
        return self.current["status_shape"]

    @property
    def pause_refusal_status(self):
        return self.current["pause_refusal_status"]

    @property
    def activation_fail_after(self):
        return self.current["activation_fail_after"]
