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
  status_map:
    description:
      - Where the fields of your az-service's C(GET /status) body are, for a shape the built-in rules do not read.
        Set it once for every az module with C(module_defaults) and C(group/kfuse.failover.az_service).
      - A path is dotted, into the JSON object or C(key=value) text body, list items by index (V(status.state),
        V(items.0.phase)). A path that is set but missing from a body means the field is unknown; the built-in
        rules are not used for it.
      - "Built-in state table (a word in neither it nor O(status_map) is not understood, and never ends a wait as
        success): V(active) - active, activated; V(paused) - paused, suspended; V(standby) - standby, stand_by,
        inactive, passive; V(activating) - activating, restoring, rehydrating, hydrating, recovering, in_progress;
        V(failed) - failed, failure, error, errored, aborted."
      - "Built-in rules: the state is the shallowest string under a key named C(state) (or ending in C(State) or
        C(_state)) or C(status); progress is a pair of numbers in one object whose keys name a done count
        (done, rehydrated, completed, restored, processed...) and a total (total, of, expected, count), in
        snake_case or camelCase at any depth, or a percent (percent, pct, a C(progress) scalar); the source zone is
        under C(sourceZone), C(source_zone), C(restoredFrom) or C(source)."
    type: dict
    suboptions:
      state:
        description: Dotted path of the state word, for example V(health.mode).
        type: str
      done:
        description: Dotted path of the number of segments rehydrated so far.
        type: str
      total:
        description: Dotted path of the number of segments to rehydrate.
        type: str
      percent:
        description: Dotted path of the progress in percent (V(40), V(0.4) or V(40%)).
        type: str
      source_zone:
        description: Dotted path of the zone whose backups were (or are being) restored.
        type: str
      zone:
        description: Dotted path of the zone id of this az-service.
        type: str
      consuming:
        description: Dotted path of the flag saying whether Pinot consumption runs.
        type: str
      alerts_silenced:
        description: Dotted path of the flag saying whether alerts are silenced.
        type: str
      phase:
        description: Dotted path of the activation phase.
        type: str
      error:
        description: Dotted path of the error text.
        type: str
      active:
        description: Your service's words for V(active), matched case-insensitively before the built-in table.
        type: list
        elements: str
      paused:
        description: Your service's words for V(paused), matched case-insensitively before the built-in table.
        type: list
        elements: str
      standby:
        description: Your service's words for V(standby), matched case-insensitively before the built-in table.
        type: list
        elements: str
      activating:
        description: Your service's words for V(activating), matched case-insensitively before the built-in table.
        type: list
        elements: str
      failed:
        description: Your service's words for V(failed), matched case-insensitively before the built-in table.
        type: list
        elements: str
  unreadable_status_limit:
    description:
      - How many consecutive C(GET /status) reads that cannot be understood (no state field, or a state word that is
        neither in the built-in table nor in O(status_map)) a wait accepts before it fails, quoting the body
        (trimmed) and pointing at O(status_map). A wait never runs to its full timeout on a shape it cannot read.
    type: int
    default: 3
requirements:
  - requests
  - kubernetes (only when reaching the service through the Kubernetes API)
notes:
  - All az_* modules belong to the action group C(kfuse.failover.az_service), so connection options can be set
    once with C(module_defaults) and C(group/kfuse.failover.az_service). Every member also accepts C(wait_timeout)
    and C(poll_interval); C(wait) is not accepted by M(kfuse.failover.az_status).
  - A failed call fails the module with C(msg), C(method), C(url), C(status) and C(code) (the HTTP status code,
    null when no answer came back) and C(body) (truncated). The token is masked in all of them (and in the
    traceback) by Ansible's C(no_log) handling.
  - Response bodies of the az-service are not documented. The modules read JSON objects (flat or nested) and
    C(key=value) text by the rules of O(status_map), always return the raw body too, and say when a status was not
    understood (C(status.understood), C(status.state_word)) instead of guessing.
'''
