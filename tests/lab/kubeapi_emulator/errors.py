# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""API errors and the Status objects the clients expect for them."""

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           406: "NotAcceptable", 409: "AlreadyExists", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
           500: "InternalError", 502: "ServiceUnavailable", 503: "ServiceUnavailable"}


class ApiError(Exception):
    """An error answered as a Kubernetes Status."""

    def __init__(self, code, message, reason=None, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self):
        return status_doc(self.code, self.message, self.reason, self.details)


def status_doc(code, message, reason, details=None, success=False):
    doc = {"kind": "Status", "apiVersion": "v1", "metadata": {},
           "status": "Success" if success else "Failure", "message": message, "reason": reason, "code": code}
    if details:
        doc["details"] = details
    if success:
        doc.pop("reason")
        doc.pop("message")
    return doc


def _qualified(res):
    return "%s.%s" % (res.plural, res.group) if res.group else res.plural


def _details(res, name):
    details = {"name": name, "kind": res.plural}
    if res.group:
        details["group"] = res.group
    return details


def not_found(res, name):
    return ApiError(404, '%s "%s" not found' % (_qualified(res), name), "NotFound", _details(res, name))


def already_exists(res, name):
    return ApiError(409, '%s "%s" already exists' % (_qualified(res), name), "AlreadyExists", _details(res, name))


def conflict(res, name):
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been modified; please apply your '
                    'changes to the latest version and try again' % (_qualified(res), name), "Conflict",
                    _details(res, name))


def invalid(res, name, message):
    kind_details = _details(res, name)
    kind_details["kind"] = res.kind
    return ApiError(422, '%s "%s" is invalid: %s' % (res.kind, name, message), "Invalid", kind_details)


def bad_request(message):
    return ApiError(400, message, "BadRequest")
