# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Documentation of the az-service connection options shared by the az_* modules."""

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of the az-service: reach (URL or Kubernetes port-forward), TLS, token, retries."""

    DOCUMENTATION = r'''
options:
  url:
    description:
      - Base URL of the az-service, for example V(https://localhost:8082) behind a C(kubectl port-forward),
        or an ingress address.
      - Mutually exclusive with O(kubeconfig), O(context), O(namespace), O(service), O(service_port) and O(scheme).
      - When no O(url) is given, the module reaches the service through the Kubernetes API instead; at least one
        of O(url) or those Kubernetes options must be set.
    type: str
  kubeconfig:
    description:
      - Path of the kubeconfig used to reach the service through the Kubernetes API server.
      - Defaults to E(KUBECONFIG) or C(~/.kube/config); without either, the in-cluster service account is used.
      - The module resolves O(service) to a ready pod through its selector and O(service_port) to the container
        port through C(targetPort) (number or name), exactly as C(kubectl port-forward svc/NAME) does, then relays
        connections from a private loopback port to that pod through the API server's port-forward. No
        C(kubectl) process is needed; the relay is closed when the module ends.
    type: path
  context:
    description:
      - Kubernetes context of O(kubeconfig) to use. Defaults to the current context.
    type: str
  namespace:
    description:
      - Namespace of the az-service Service. V(kfuse) when reaching the service through Kubernetes.
    type: str
  service:
    description:
      - Name of the az-service Service. V(az-service) when reaching the service through Kubernetes.
    type: str
  service_port:
    description:
      - Port of the Service to forward to. V(8080) when reaching the service through Kubernetes.
    type: int
  scheme:
    description:
      - Protocol spoken to the pod through the port-forward. V(https) when reaching the service through Kubernetes.
      - Certificates are checked against the name C(localhost) in that case, so use O(ca_path) with a certificate
        valid for C(localhost), or O(validate_certs=false).
    type: str
    choices: [https, http]
  validate_certs:
    description:
      - Verify the az-service TLS certificate. Turn off only for throw-away environments.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA (bundle) that signed the az-service certificate, instead of the system trust store.
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS. May contain the private key too.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert) when it is a separate file. Requires O(client_cert).
    type: path
  token:
    description:
      - Bearer token sent as C(Authorization) header. Never shown in results or messages.
      - Read from E(KFUSE_AZ_SERVICE_TOKEN) when not given.
    type: str
  allow_insecure_token:
    description:
      - Allow sending O(token) over a plain C(http://) O(url) to a host that is not a loopback address.
        Without it the module refuses before sending anything.
    type: bool
    default: false
  timeout:
    description:
      - Seconds allowed for each HTTP request (connect and each read).
    type: float
    default: 30
  retries:
    description:
      - How many times a failed request is retried (so at most O(retries) + 1 attempts).
      - A request that never reached the service (connection refused, connect timeout, cut TLS handshake) is always
        retried. HTTP 429 and 503 mean "not processed" and are retried for every call, honouring C(Retry-After)
        (up to 120 seconds).
      - C(GET /status), C(POST /pause) and C(POST /resume) are idempotent and are also retried after failures that
        may have reached the service (read timeout, connection dropped after sending, HTTP 502 or 504).
      - C(POST /activate) is not re-sent blindly after such a failure (nor after HTTP 409) - the module first reads
        C(/status) and, when the service reports activation started or done for the requested zone, takes the
        activation as accepted; otherwise it retries. Other HTTP errors and certificate failures fail at once.
    type: int
    default: 5
  retry_delay:
    description:
      - Base of the exponential backoff between retries, in seconds. Before retry N (counted from 0) the module
        sleeps a random time between 0 and min(30, O(retry_delay) * 2^N) ("full jitter").
    type: float
    default: 1
requirements:
  - requests
  - kubernetes (only when reaching the service through the Kubernetes API)
notes:
  - All az_* modules belong to the action group C(kfuse.failover.az_service), so connection options can be set
    once with C(module_defaults) and C(group/kfuse.failover.az_service). Every member also accepts C(wait_timeout)
    and C(poll_interval); C(wait) is not accepted by M(kfuse.failover.az_status).
  - A failed call fails the module with C(msg), C(method), C(url), C(status) (the HTTP status code, null when no
    answer came back) and C(body) (truncated). The token never appears in any of them.
  - Response bodies of the az-service are not documented. The modules parse JSON when the body is JSON, tolerate
    missing, extra and alternative fields, and always return the raw body too.
'''
