# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes helpers shared by the collection's modules.

- ``new_api_client``: an API client from a kubeconfig file and context (or the in-cluster service account).
- ``resolve_service_target``: Service -> ready Pod and container port, the way ``kubectl port-forward svc/NAME``
  resolves it on the client side (selector, then targetPort as a number or a named container port).
- ``PortForwardRelay``: a loopback TCP listener whose every connection is relayed to the Pod port through the
  API server's port-forward websocket (``kubernetes.stream.portforward``), so no ``kubectl`` process is needed.
- The one import guard of the ``kubernetes`` client for the collection: ``HAS_KUBERNETES``,
  ``KUBERNETES_IMPORT_ERROR``, ``require_kubernetes()`` and the names other module_utils use (``k8s_client``,
  ``k8s_stream``, ``ApiException``, ``ABNF``, ``WebSocketException``).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import traceback

from ansible_collections.kfuse.failover.plugins.module_utils.errors import KubeError

try:
    from urllib3.exceptions import HTTPError as Urllib3HTTPError
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.stream import portforward as k8s_portforward
    from kubernetes.stream import stream as k8s_stream  # pylint: disable=unused-import
    from websocket import ABNF, WebSocketException  # pylint: disable=unused-import
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()


def require_kubernetes(what='this', error_class=KubeError):
    """Raise ``error_class`` naming ``what`` unless the kubernetes Python library imports."""
    if not HAS_KUBERNETES:
        raise error_class('the kubernetes Python library is required for %s' % what)


def new_api_client(kubeconfig=None, context=None):
    """ApiClient from ``kubeconfig`` (default: $KUBECONFIG or ~/.kube/config) and ``context`` (default: current).

    Falls back to the in-cluster service account when no kubeconfig exists and none was named, which is how
    an AWX execution environment running inside a cluster reaches its API server.
    """
    require_kubernetes('Kubernetes access')
    default_path = os.path.expanduser(os.environ.get('KUBECONFIG', '~/.kube/config').split(os.pathsep)[0])
    try:
        if kubeconfig or context or os.path.exists(default_path):
            return k8s_config.new_client_from_config(config_file=kubeconfig, context=context)
        configuration = k8s_client.Configuration()
        k8s_config.load_incluster_config(client_configuration=configuration)
        return k8s_client.ApiClient(configuration)
    except (k8s_config.ConfigException, OSError, ValueError, TypeError) as exc:
        raise KubeError('cannot load Kubernetes configuration (kubeconfig=%s, context=%s): %s'
                        % (kubeconfig or 'default', context or 'current', exc)) from None


def _pod_is_ready(pod):
    if pod.metadata.deletion_timestamp is not None or (pod.status and pod.status.phase) != 'Running':
        return False
    for condition in (pod.status.conditions or []):
        if condition.type == 'Ready':
            return condition.status == 'True'
    return False


def _ready_since(pod):
    for condition in (pod.status.conditions or []):
        if condition.type == 'Ready' and condition.last_transition_time is not None:
            return condition.last_transition_time.timestamp()
    return float('inf')


def _restarts(pod):
    return sum(status.restart_count or 0 for status in (pod.status.container_statuses or []))


def choose_pod(pods):
    """The pod kubectl would pick among ``pods``: ready ones only, longest ready first, fewer restarts, older, name."""
    ready = [pod for pod in pods if _pod_is_ready(pod)]
    if not ready:
        return None

    def rank(pod):
        created = pod.metadata.creation_timestamp.timestamp() if pod.metadata.creation_timestamp else float('inf')
        return (_ready_since(pod), _restarts(pod), created, pod.metadata.name)
    return sorted(ready, key=rank)[0]


def container_port_for(pod, target_port):
    """Container port number for a Service targetPort (an int, a numeric string or a named container port)."""
    if isinstance(target_port, int):
        return target_port
    if isinstance(target_port, str) and target_port.isdigit():
        return int(target_port)
    for container in (pod.spec.containers or []):
        for port in (container.ports or []):
            if port.name == target_port:
                return port.container_port
    raise KubeError('pod %s has no container port named %r (targetPort of the service)' % (pod.metadata.name, target_port))


def resolve_service_target(core_v1, namespace, service, port):
    """(pod name, container port) serving ``port`` of Service ``service`` in ``namespace``."""
    try:
        svc = core_v1.read_namespaced_service(service, namespace)
    except ApiException as exc:
        raise KubeError('cannot read service %s/%s: %s %s' % (namespace, service, exc.status, exc.reason)) from None
    except (Urllib3HTTPError, OSError) as exc:
        raise KubeError('cannot reach the Kubernetes API server to read service %s/%s: %s' % (namespace, service, exc)) from None
    service_port = None
    for candidate in (svc.spec.ports or []):
        if candidate.port == port:
            service_port = candidate
            break
    if service_port is None:
        known = ', '.join(str(candidate.port) for candidate in (svc.spec.ports or [])) or 'none'
        raise KubeError('service %s/%s does not have a service port %s (ports: %s)' % (namespace, service, port, known))
    selector = svc.spec.selector or {}
    if not selector:
        raise KubeError('service %s/%s has no selector, so it cannot be port-forwarded to a pod' % (namespace, service))
    label_selector = ','.join('%s=%s' % item for item in sorted(selector.items()))
    try:
        pods = core_v1.list_namespaced_pod(namespace, label_selector=label_selector).items
    except ApiException as exc:
        raise KubeError('cannot list pods %s in %s: %s %s' % (label_selector, namespace, exc.status, exc.reason)) from None
    except (Urllib3HTTPError, OSError) as exc:
        raise KubeError('cannot reach the Kubernetes API server to list pods in %s: %s' % (namespace, exc)) from None
    pod = choose_pod(pods)
    if pod is None:
        seen = ', '.join('%s (%s)' % (p.metadata.name, p.status.phase if p.status else 'unknown') for p in pods) or 'none'
        raise KubeError('no ready pod behind service %s/%s (selector %s; pods: %s)' % (namespace, service, label_selector, seen))
    target = service_port.target_port
    if target in (None, 0, ''):
        target = service_port.port
    return pod.metadata.name, container_port_for(pod, target)


class PortForwardRelay:
    """Loopback listener relaying each accepted connection to ``pod``:``port`` over an API-server port-forward.

    One websocket per TCP connection (that is how the API server multiplexes nothing for us). Threads are
    daemons and ``close()`` stops everything; use it as a context manager.
    """

    def __init__(self, core_v1, namespace, pod, port, bind_host='127.0.0.1', forward=None):
        self.core_v1 = core_v1
        self.namespace = namespace
        self.pod = pod
        self.port = port
        self.bind_host = bind_host
        self._forward = forward or k8s_portforward
        self._listener = None
        self._stop = threading.Event()
        self._threads = []
        self._lock = threading.Lock()
        self._open = set()
        self.local_port = None
        self.last_error = None
        self.connections = 0

    def start(self):
        """Bind 127.0.0.1:0 and start accepting; returns the local port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.bind_host, 0))
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener
        self.local_port = listener.getsockname()[1]
        thread = threading.Thread(target=self._accept_loop, name='kfuse-portforward-accept', daemon=True)
        thread.start()
        self._threads.append(thread)
        return self.local_port

    def __enter__(self):
        if self._listener is None:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def describe(self):
        """Where the relay goes and its last error, for error messages."""
        text = 'port-forward to pod %s/%s port %s' % (self.namespace, self.pod, self.port)
        if self.last_error:
            text += ' (last relay error: %s)' % self.last_error
        return text

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._relay, args=(conn,), name='kfuse-portforward-relay', daemon=True)
            thread.start()
            self._threads.append(thread)

    def _relay(self, conn):
        forward = None
        remote = None
        try:
            try:
                forward = self._forward(self.core_v1.connect_get_namespaced_pod_portforward, self.pod, self.namespace,
                                        ports=str(self.port))
                remote = forward.socket(self.port)
                remote.setblocking(True)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # Any failure to open the tunnel must close the client connection, not kill the module.
                self.last_error = 'cannot open port-forward: %s' % (getattr(exc, 'reason', None) or exc)
                return
            with self._lock:
                self._open.update((conn, remote))
            self._pump(conn, remote)
            error = forward.error(self.port)
            if error:
                self.last_error = error.strip()
        finally:
            with self._lock:
                self._open.discard(conn)
                self._open.discard(remote)
            for sock in (conn, remote):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass
            if forward is not None:
                try:
                    forward.close()
                except Exception:  # pylint: disable=broad-exception-caught
                    pass

    def _pump(self, conn, remote):
        """Copy bytes both ways until either side closes or the relay stops."""
        peers = {conn.fileno(): remote, remote.fileno(): conn}
        sockets = {conn.fileno(): conn, remote.fileno(): remote}
        while not self._stop.is_set():
            try:
                readable, _w, _x = select.select(list(sockets.values()), [], [], 0.2)
            except (OSError, ValueError):
                return
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    peers[sock.fileno()].sendall(data)
                except OSError:
                    return

    def close(self):
        """Stop accepting, close the listener and every live relayed connection."""
        self._stop.set()
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
        with self._lock:
            live = list(self._open)
        for sock in live:
            try:
                sock.close()
            except OSError:
                pass
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)
