# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label and field selectors, parsed once and matched against objects."""

import re


class SelectorError(ValueError):
    """A selector string that cannot be parsed."""


_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_CMP_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")


def _split_terms(text):
    """Split on commas that are not inside parentheses."""
    terms, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [t for t in terms if t.strip()]


def parse_label_selector(text):
    """Return a list of (key, op, values) requirements; op in eq, ne, in, notin, exists, notexists."""
    requirements = []
    for term in _split_terms(text or ""):
        match = _SET_RE.match(term)
        if match and not match.group(1):
            values = {v.strip() for v in match.group(4).split(",") if v.strip()}
            requirements.append((match.group(2), match.group(3), values))
            continue
        match = _CMP_RE.match(term)
        if match:
            requirements.append((match.group(1), "ne" if match.group(2) == "!=" else "eq", {match.group(3)}))
            continue
        match = _EXISTS_RE.match(term)
        if match:
            requirements.append((match.group(2), "notexists" if match.group(1) else "exists", set()))
            continue
        raise SelectorError("unable to parse requirement: %r" % term)
    return requirements


def labels_match(requirements, labels):
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        if op == "eq" and (not present or value not in values):
            return False
        if op == "ne" and present and value in values:
            return False
        if op == "in" and (not present or value not in values):
            return False
        if op == "notin" and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "notexists" and present:
            return False
    return True


def match_labels_selector(selector):
    """Turn a LabelSelector object (matchLabels/matchExpressions) into requirements."""
    requirements = []
    for key, value in ((selector or {}).get("matchLabels") or {}).items():
        requirements.append((key, "eq", {value}))
    for expr in (selector or {}).get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "notexists"}.get(expr.get("operator"))
        if op:
            requirements.append((expr.get("key"), op, set(expr.get("values") or [])))
    return requirements


def _field_value(obj, path):
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    return "" if value is None else str(value)


def parse_field_selector(text, allowed):
    """Return (path, op, value) tuples; only metadata.name, metadata.namespace and the kind's extra fields."""
    requirements = []
    for term in _split_terms(text or ""):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not match:
            raise SelectorError("invalid field selector: %r" % term)
        path = match.group(1)
        if path not in ("metadata.name", "metadata.namespace") and path not in allowed:
            raise SelectorError('field label not supported: "%s"' % path)
        requirements.append((path, "ne" if match.group(2) == "!=" else "eq", match.group(3)))
    return requirements


def fields_match(requirements, obj):
    for path, op, value in requirements:
        actual = _field_value(obj, path)
        if (op == "eq") != (actual == value):
            return False
    return True
