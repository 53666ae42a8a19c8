# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolving a Pod port or a Service port to the local TCP backend named by a Pod annotation."""

import ipaddress

from . import errors
from .resources import lookup_kind
from .selection import labels_match

POD = lookup_kind("v1", "Pod")
SERVICE = lookup_kind("v1", "Service")
ANNOTATION_PREFIX = "lab.kfuse.io/forward."


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pod_backend(pod, port):
    """(host, port) the Pod's `port` forwards to; ApiError when the Pod does not say."""
    annotation = ((pod["metadata"].get("annotations") or {}).get("%s%s" % (ANNOTATION_PREFIX, port)))
    if not annotation:
        raise errors.ApiError(502, 'pod "%s" has no %s%s annotation: nothing listens on port %s'
                              % (pod["metadata"]["name"], ANNOTATION_PREFIX, port, port), "ServiceUnavailable")
    host, _colon, number = annotation.rpartition(":")
    host = host.strip("[]")
    if not _loopback(host) or not number.isdigit():
        raise errors.ApiError(502, "forward annotation %r must name a loopback host:port" % annotation,
                              "ServiceUnavailable")
    return host, int(number)


def container_port(pod, port_ref):
    """The container port number of a Pod for a number or a named container port."""
    if isinstance(port_ref, int) or str(port_ref).isdigit():
        return int(port_ref)
    for container in pod.get("spec", {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == port_ref:
                return int(cport["containerPort"])
    raise errors.ApiError(503, 'no container port named "%s" in pod "%s"' % (port_ref, pod["metadata"]["name"]),
                          "ServiceUnavailable")


def first_container_port(pod):
    for container in pod.get("spec", {}).get("containers") or []:
        for cport in container.get("ports") or []:
            return int(cport["containerPort"])
    return 80


def _ready(pod):
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return all(c.get("status") == "True" for c in status.get("conditions") or [] if c.get("type") == "Ready")


def service_backend(store, namespace, name, port_ref):
    """Service -> Pods by selector -> target container port -> annotation backend."""
    service = store.require(SERVICE, namespace, name)
    ports = service.get("spec", {}).get("ports") or []
    chosen = None
    for sport in ports:
        if port_ref in (None, "") or str(sport.get("port")) == str(port_ref) or sport.get("name") == port_ref:
            chosen = sport
            break
    if chosen is None:
        raise errors.ApiError(503, 'no service port %r found for service "%s"' % (port_ref, name), "ServiceUnavailable")
    selector = service.get("spec", {}).get("selector") or {}
    if not selector:
        raise errors.ApiError(503, 'service "%s" has no selector' % name, "ServiceUnavailable")
    requirements = [(k, "eq", {v}) for k, v in selector.items()]
    pods = [p for p in store.list(POD, namespace) if labels_match(requirements, p["metadata"].get("labels")) and _ready(p)]
    if not pods:
        raise errors.ApiError(503, 'no endpoints available for service "%s"' % name, "ServiceUnavailable")
    target = chosen.get("targetPort", chosen.get("port"))
    last_error = None
    for pod in pods:
        try:
            return pod_backend(pod, container_port(pod, target))
        except errors.ApiError as exc:
            last_error = exc
    raise last_error
