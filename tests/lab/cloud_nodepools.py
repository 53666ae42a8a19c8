# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-ins for the node-pool APIs of GKE and AKS: one HTTPS process on 127.0.0.1 (see tests/lab/README.md).

GKE (container.googleapis.com/v1): ``GET .../nodePools[/{np}]``, ``POST .../nodePools/{np}:setSize`` answering an
Operation that is ``RUNNING`` for ``--operation-seconds`` and then ``DONE``, ``GET .../operations/{op}``, plus the
Compute instance group manager of each pool (``targetSize``, the real API's current size). AKS (management.azure.com):
``GET/PUT .../managedClusters/{c}/agentPools[/{p}]?api-version=`` with ``Azure-AsyncOperation`` polling
(``InProgress`` then ``Succeeded``). Every API call needs a bearer token: one of ``--token``, one this server
issued at ``POST /token`` for a JWT grant signed by the service-account key it writes to ``--gcp-service-account``
(google-auth works unmodified), or one issued to an ``--azure-client`` at ``POST /{tenant}/oauth2/v2.0/token``
(client credentials; the tenant's ``/{tenant}/v2.0/.well-known/openid-configuration`` names that endpoint, so
azure-identity's ClientSecretCredential works with ``authority=<url>`` and ``disable_instance_discovery=True``).
``GET /_lab/state`` (no token) and ``--state-file`` give the pools' sizes to the node provisioner.

``python -m cloud_nodepools --tls-cert F --tls-key F --ready-file F --gke-pool projects/p/locations/l/clusters/c/nodePools/np=N
--aks-pool /subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p=N``
"""

import argparse
import asyncio
import collections
import datetime
import json
import os
import re
import secrets
import sys
import urllib.parse
import uuid

from aiohttp import web

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

# pylint: disable=wrong-import-position,import-error
from aio_serve import serve_until_signalled  # noqa: E402
from procs import LabError, Piece, read_json, stop_pieces, write_file  # noqa: E402
from storage_emulators import OAuthTokenEndpoint  # noqa: E402
# pylint: enable=wrong-import-position,import-error

STATE_KEY = web.AppKey("state", object)
REQUEST_LOG_SIZE = 200
GKE_VERSION = "1.34.4-gke.1000"
AKS_PROVIDER = "Microsoft.ContainerService"
_GKE_POOL = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/clusters/(?P<cluster>[^/]+)"
                       r"/nodePools/(?P<pool>[^/:]+)$")
_ENTRA_PATH = re.compile(r"^/(?P<tenant>[^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token)$")
_AKS_POOL = re.compile(r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
                       r"Microsoft\.ContainerService/managedClusters/(?P<cluster>[^/]+)/agentPools/(?P<pool>[^/]+)$")


def utc_text(moment=None):
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json(body, status=200, headers=None):
    return web.json_response(body, status=status, headers=headers,
                             dumps=lambda value: json.dumps(value, sort_keys=True))


def google_error(status, code_name, message):
    """The Google API error shape (google.rpc.Status inside ``error``)."""
    return _json({"error": {"code": status, "message": message, "status": code_name}}, status=status)


def arm_error(status, code, message, headers=None):
    """The Azure Resource Manager error shape."""
    return _json({"error": {"code": code, "message": message}}, status=status, headers=headers)


class CloudState:
    """Pools, operations and tokens of both providers; every change is written to ``state_file``."""

    def __init__(self, tokens, operation_seconds, state_file=None, azure_tenant=None, azure_clients=None):
        self.tokens = set(tokens)
        self.azure_tenant = azure_tenant
        self.azure_clients = dict(azure_clients or {})
        self.azure_issued = 0
        self.operation_seconds = operation_seconds
        self.state_file = state_file
        self.base_url = None
        self.gke = {}
        self.gke_operations = {}
        self.aks = {}
        self.aks_operations = {}
        self.requests = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self.oauth = OAuthTokenEndpoint()

    # ---- setup -----------------------------------------------------------------------------------------------

    def add_gke_pool(self, name, count):
        found = _GKE_POOL.match(name)
        if not found:
            raise ValueError("--gke-pool: %r is not projects/P/locations/L/clusters/C/nodePools/NP" % name)
        location = found.group("location")
        # A zonal cluster's location is its zone; a regional pool here runs in the region's zone "a" only, so the
        # pool's size and its one instance group's target size are the same number.
        zone = location if re.search(r"-[a-z]$", location) else location + "-a"
        self.gke[name] = {"parts": found.groupdict(), "zone": zone, "nodeCount": count, "initialNodeCount": count,
                          "status": "RUNNING", "operation": None}

    def add_aks_pool(self, resource_id, count, location="eastus"):
        found = _AKS_POOL.match(resource_id)
        if not found:
            raise ValueError("--aks-pool: %r is not /subscriptions/S/resourceGroups/RG/providers/"
                             "Microsoft.ContainerService/managedClusters/C/agentPools/P" % resource_id)
        self.aks[resource_id] = {"parts": found.groupdict(), "location": location, "count": count,
                                 "provisioningState": "Succeeded", "mode": "User", "operation": None}

    # ---- GKE -------------------------------------------------------------------------------------------------

    def _instance_group(self, pool, kind):
        parts = pool["parts"]
        return "%s/compute/v1/projects/%s/zones/%s/%s/gke-%s-%s-grp" % (
            self.base_url, parts["project"], pool["zone"], kind, parts["cluster"], parts["pool"])

    def gke_pool_body(self, name):
        pool = self.gke[name]
        parts = pool["parts"]
        return {"name": parts["pool"], "config": {"machineType": "e2-standard-4", "diskSizeGb": 100},
                "initialNodeCount": pool["initialNodeCount"], "locations": [pool["zone"]],
                "selfLink": "%s/v1/%s" % (self.base_url, name), "version": GKE_VERSION,
                "instanceGroupUrls": [self._instance_group(pool, "instanceGroups")], "status": pool["status"],
                "autoscaling": {}, "management": {"autoUpgrade": True, "autoRepair": True},
                # Lab-only: the real NodePool has no current size (it is the instance groups' targetSize).
                "labNodeCount": pool["nodeCount"]}

    def gke_instance_group_manager(self, project, zone, name):
        for pool in self.gke.values():
            if (pool["parts"]["project"], pool["zone"]) == (project, zone) and \
                    self._instance_group(pool, "instanceGroupManagers").endswith("/" + name):
                return {"kind": "compute#instanceGroupManager", "name": name, "zone": pool["zone"],
                        "targetSize": pool["nodeCount"], "instanceGroup": self._instance_group(pool, "instanceGroups"),
                        "selfLink": self._instance_group(pool, "instanceGroupManagers"),
                        "status": {"isStable": pool["status"] == "RUNNING"}}
        return None

    def gke_running_operation(self, name):
        """The RUNNING operation on the cluster of pool ``name``, if any (GKE runs one at a time per cluster)."""
        cluster = name.rsplit("/nodePools/", 1)[0]
        for operation in self.gke_operations.values():
            if operation["status"] == "RUNNING" and operation["_cluster"] == cluster:
                return operation
        return None

    def gke_set_size(self, name, count):
        pool = self.gke[name]
        parts = pool["parts"]
        op_id = "operation-%d-%s" % (int(datetime.datetime.now().timestamp() * 1000), secrets.token_hex(4))
        operation = {
            "name": op_id, "zone": pool["zone"], "operationType": "SET_NODE_POOL_SIZE", "status": "RUNNING",
            "selfLink": "%s/v1/projects/%s/locations/%s/operations/%s" % (
                self.base_url, parts["project"], parts["location"], op_id),
            "targetLink": "%s/v1/%s" % (self.base_url, name), "location": parts["location"],
            "startTime": utc_text(), "_cluster": name.rsplit("/nodePools/", 1)[0]}
        self.gke_operations[op_id] = operation
        pool.update(nodeCount=count, status="RECONCILING", operation=op_id)
        self.save()
        asyncio.get_running_loop().call_later(self.operation_seconds, self._gke_done, name, op_id)
        return self.gke_operation_body(op_id)

    def _gke_done(self, name, op_id):
        operation = self.gke_operations[op_id]
        operation.update(status="DONE", endTime=utc_text())
        pool = self.gke[name]
        if pool["operation"] == op_id:
            pool.update(status="RUNNING", operation=None)
        self.save()

    def gke_operation_body(self, op_id):
        return {key: value for key, value in self.gke_operations[op_id].items() if not key.startswith("_")}

    # ---- AKS -------------------------------------------------------------------------------------------------

    def aks_pool_body(self, resource_id):
        pool = self.aks[resource_id]
        return {"id": resource_id, "name": pool["parts"]["pool"], "type": AKS_PROVIDER + "/managedClusters/agentPools",
                "properties": {"count": pool["count"], "vmSize": "Standard_D4s_v5", "osType": "Linux",
                               "mode": pool["mode"], "type": "VirtualMachineScaleSets", "enableAutoScaling": False,
                               "orchestratorVersion": "1.34.4", "provisioningState": pool["provisioningState"],
                               "powerState": {"code": "Running"}}}

    def aks_put(self, resource_id, count, mode, api_version):
        """Create or resize; return (status, body, operation url)."""
        created = resource_id not in self.aks
        if created:
            self.add_aks_pool(resource_id, count, self._aks_cluster_location(resource_id))
            self.aks[resource_id]["mode"] = mode or "User"
        pool = self.aks[resource_id]
        op_id = secrets.token_hex(16)
        operation = {"name": op_id, "status": "InProgress", "startTime": utc_text(), "_pool": resource_id}
        self.aks_operations[op_id] = operation
        pool.update(count=count, provisioningState="Creating" if created else "Scaling", operation=op_id)
        self.save()
        asyncio.get_running_loop().call_later(self.operation_seconds, self._aks_done, resource_id, op_id)
        url = "%s/subscriptions/%s/providers/%s/locations/%s/operations/%s?api-version=%s" % (
            self.base_url, pool["parts"]["subscription"], AKS_PROVIDER, pool["location"], op_id, api_version)
        return (201 if created else 200), self.aks_pool_body(resource_id), url

    def _aks_cluster_location(self, resource_id):
        cluster = resource_id.rsplit("/agentPools/", 1)[0]
        return next((pool["location"] for pool_id, pool in self.aks.items()
                     if pool_id.rsplit("/agentPools/", 1)[0] == cluster), "eastus")

    def aks_cluster_known(self, cluster_id):
        return any(pool_id.rsplit("/agentPools/", 1)[0] == cluster_id for pool_id in self.aks)

    def _aks_done(self, resource_id, op_id):
        self.aks_operations[op_id].update(status="Succeeded", endTime=utc_text())
        pool = self.aks[resource_id]
        if pool["operation"] == op_id:
            pool.update(provisioningState="Succeeded", operation=None)
        self.save()

    def aks_operation_body(self, op_id):
        return {key: value for key, value in self.aks_operations[op_id].items() if not key.startswith("_")}

    # ---- lab ---------------------------------------------------------------------------------------------------

    def snapshot(self):
        return {
            "url": self.base_url, "operationSeconds": self.operation_seconds,
            "gke": {name: {"nodeCount": pool["nodeCount"], "status": pool["status"], "operation": pool["operation"]}
                    for name, pool in self.gke.items()},
            "aks": {rid: {"count": pool["count"], "provisioningState": pool["provisioningState"],
                          "operation": pool["operation"]} for rid, pool in self.aks.items()},
            "operations": {"gke": [self.gke_operation_body(op) for op in self.gke_operations],
                           "aks": [dict(self.aks_operation_body(op), pool=value["_pool"])
                                   for op, value in self.aks_operations.items()]},
            "tokensIssued": self.oauth.issued, "azureTokensIssued": self.azure_issued,
            "requests": list(self.requests)}

    def save(self):
        if self.state_file:
            snapshot = self.snapshot()
            snapshot.pop("requests")
            write_file(self.state_file, json.dumps(snapshot, indent=1, sort_keys=True) + "\n")


# ---- HTTP ------------------------------------------------------------------------------------------------------


def _is_arm(path):
    return path.startswith("/subscriptions/")


@web.middleware
async def record_and_authorize(request, handler):
    state = request.app[STATE_KEY]
    state.requests.append({"at": utc_text(), "method": request.method, "path": request.path,
                           "query": dict(request.query)})
    if request.path.startswith("/_lab/") or request.path == "/token" or _ENTRA_PATH.match(request.path):
        return await handler(request)
    supplied = request.headers.get("Authorization", "")
    scheme, _sep, token = supplied.partition(" ")
    if scheme.lower() != "bearer" or token not in state.tokens:
        if _is_arm(request.path):
            message = ("Authentication failed. The 'Authorization' header is missing." if not supplied
                       else "Authentication failed. The access token is not valid.")
            challenge = 'Bearer authorization_uri="%s/token", error="invalid_token"' % state.base_url
            return arm_error(401, "AuthenticationFailed" if not supplied else "InvalidAuthenticationToken", message,
                             headers={"WWW-Authenticate": challenge})
        response = google_error(401, "UNAUTHENTICATED",
                                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                "login cookie or other valid authentication credential.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        return response
    if _is_arm(request.path) and not request.query.get("api-version"):
        return arm_error(400, "MissingApiVersionParameter",
                         "The api-version query parameter (?api-version=) is required for all requests.")
    return await handler(request)


async def _body(request):
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _gke_name(request):
    info = request.match_info
    return "projects/%s/locations/%s/clusters/%s/nodePools/%s" % (
        info["project"], info["location"], info["cluster"], info["pool"])


async def gke_list_pools(request):
    state = request.app[STATE_KEY]
    info = request.match_info
    prefix = "projects/%s/locations/%s/clusters/%s/nodePools/" % (info["project"], info["location"], info["cluster"])
    pools = [state.gke_pool_body(name) for name in sorted(state.gke) if name.startswith(prefix)]
    if not pools:
        return google_error(404, "NOT_FOUND", "Not found: %s." % prefix.rsplit("/nodePools/", 1)[0])
    return _json({"nodePools": pools})


async def gke_get_pool(request):
    state = request.app[STATE_KEY]
    name = _gke_name(request)
    if name not in state.gke:
        return google_error(404, "NOT_FOUND", "Not found: %s." % name)
    return _json(state.gke_pool_body(name))


async def gke_set_size(request):
    state = request.app[STATE_KEY]
    name = _gke_name(request)
    if name not in state.gke:
        return google_error(404, "NOT_FOUND", "Not found: %s." % name)
    body = await _body(request)
    count = (body or {}).get("nodeCount")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return google_error(400, "INVALID_ARGUMENT", "Invalid value at 'node_count': a non-negative integer "
                                                     "is required.")
    running = state.gke_running_operation(name)
    if running:
        return google_error(400, "FAILED_PRECONDITION", "Cluster is running incompatible operation %s."
                            % running["name"])
    return _json(state.gke_set_size(name, count))


async def gke_get_operation(request):
    state = request.app[STATE_KEY]
    info = request.match_info
    operation = state.gke_operations.get(info["operation"])
    if operation is None or operation["location"] != info["location"] or \
            not operation["_cluster"].startswith("projects/%s/" % info["project"]):
        return google_error(404, "NOT_FOUND", "Not found: projects/%s/locations/%s/operations/%s." % (
            info["project"], info["location"], info["operation"]))
    return _json(state.gke_operation_body(info["operation"]))


async def gce_get_instance_group_manager(request):
    state = request.app[STATE_KEY]
    info = request.match_info
    manager = state.gke_instance_group_manager(info["project"], info["zone"], info["name"])
    if manager is None:
        return _json({"error": {"code": 404, "message": "The resource 'projects/%s/zones/%s/instanceGroupManagers/%s'"
                                                        " was not found" % (info["project"], info["zone"], info["name"]),
                                "errors": [{"reason": "notFound", "domain": "global"}]}}, status=404)
    return _json(manager)


def _aks_cluster_id(request):
    info = request.match_info
    return "/subscriptions/%s/resourceGroups/%s/providers/%s/managedClusters/%s" % (
        info["subscription"], info["group"], AKS_PROVIDER, info["cluster"])


def _aks_pool_id(request):
    return "%s/agentPools/%s" % (_aks_cluster_id(request), request.match_info["pool"])


def _aks_not_found_cluster(request):
    info = request.match_info
    return arm_error(404, "ResourceNotFound", "The Resource '%s/managedClusters/%s' under resource group '%s' was "
                                              "not found." % (AKS_PROVIDER, info["cluster"], info["group"]))


async def aks_list_pools(request):
    state = request.app[STATE_KEY]
    cluster_id = _aks_cluster_id(request)
    if not state.aks_cluster_known(cluster_id):
        return _aks_not_found_cluster(request)
    return _json({"value": [state.aks_pool_body(rid) for rid in sorted(state.aks)
                            if rid.rsplit("/agentPools/", 1)[0] == cluster_id]})


async def aks_get_pool(request):
    state = request.app[STATE_KEY]
    resource_id = _aks_pool_id(request)
    if resource_id not in state.aks:
        if not state.aks_cluster_known(resource_id.rsplit("/agentPools/", 1)[0]):
            return _aks_not_found_cluster(request)
        return arm_error(404, "NotFound", "Agent Pool '%s' not found in managed cluster '%s'."
                         % (request.match_info["pool"], request.match_info["cluster"]))
    return _json(state.aks_pool_body(resource_id))


async def aks_put_pool(request):
    state = request.app[STATE_KEY]
    resource_id = _aks_pool_id(request)
    if not state.aks_cluster_known(resource_id.rsplit("/agentPools/", 1)[0]):
        return _aks_not_found_cluster(request)
    body = await _body(request)
    properties = (body or {}).get("properties")
    count = properties.get("count", 1) if isinstance(properties, dict) else None
    mode = properties.get("mode") if isinstance(properties, dict) else None
    if not re.match(r"^[a-z][a-z0-9]{0,11}$", request.match_info["pool"]):
        return arm_error(400, "InvalidParameter", "The agent pool name must match ^[a-z][a-z0-9]{0,11}$.")
    pool = state.aks.get(resource_id)
    minimum = 1 if (mode or (pool or {}).get("mode")) == "System" else 0
    if not isinstance(count, int) or isinstance(count, bool) or not minimum <= count <= 1000:
        return arm_error(400, "InvalidParameter", "The value of parameter agentPoolProfile.count is invalid: it must "
                                                  "be in the range of %d to 1000 (inclusive)." % minimum)
    if pool and pool["operation"]:
        return arm_error(409, "OperationNotAllowed", "Operation is not allowed because there's an in progress "
                                                     "scale operation on agent pool '%s'." % pool["parts"]["pool"])
    status, body, url = state.aks_put(resource_id, count, mode, request.query["api-version"])
    return _json(body, status=status, headers={"Azure-AsyncOperation": url, "Retry-After": "1"})


async def aks_get_operation(request):
    state = request.app[STATE_KEY]
    op_id = request.match_info["operation"]
    operation = state.aks_operations.get(op_id)
    if operation is None:
        return arm_error(404, "NotFound", "Operation %s not found." % op_id)
    headers = {"Retry-After": "1"} if operation["status"] == "InProgress" else None
    return _json(state.aks_operation_body(op_id), headers=headers)


async def post_token(request):
    """OAuth 2.0 JWT-bearer grant (google-auth's service-account flow); the token is accepted from then on."""
    state = request.app[STATE_KEY]
    status, payload = state.oauth._grant(await request.text())  # pylint: disable=protected-access
    if status == 200:
        state.tokens.add(payload["access_token"])
    return _json(payload, status=status)


def entra_error(status, error, code, description):
    """The Entra ID (AAD) token endpoint's error shape."""
    return _json({"error": error, "error_description": "AADSTS%d: %s" % (code, description), "error_codes": [code],
                  "timestamp": utc_text()}, status=status)


def _known_tenant(state, tenant):
    return state.azure_tenant is not None and tenant == state.azure_tenant


async def entra_openid_configuration(request):
    """What MSAL reads first: the tenant's OpenID configuration naming its token endpoint."""
    state = request.app[STATE_KEY]
    tenant = request.match_info["tenant"]
    if not _known_tenant(state, tenant):
        return entra_error(400, "invalid_tenant", 90002, "Tenant '%s' not found." % tenant)
    base = "%s/%s" % (state.base_url, tenant)
    return _json({"issuer": base + "/v2.0", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                  "token_endpoint": base + "/oauth2/v2.0/token", "jwks_uri": base + "/discovery/v2.0/keys",
                  "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                  "response_types_supported": ["code", "id_token", "token"], "tenant_region_scope": "NA"})


async def entra_token(request):
    """Client-credentials grant (RFC 6749 4.4) for a configured --azure-client; the token is accepted from then on."""
    state = request.app[STATE_KEY]
    tenant = request.match_info["tenant"]
    if not _known_tenant(state, tenant):
        return entra_error(400, "invalid_tenant", 90002, "Tenant '%s' not found." % tenant)
    form = urllib.parse.parse_qs(await request.text())

    def field(name):
        return (form.get(name) or [None])[0]

    if field("grant_type") != "client_credentials":
        return entra_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
    if not field("scope"):
        return entra_error(400, "invalid_request", 900144, "The request body must contain the 'scope' parameter.")
    client_id = field("client_id")
    if client_id not in state.azure_clients:
        description = "Application with identifier '%s' was not found in the directory '%s'." % (client_id, tenant)
        return entra_error(400, "unauthorized_client", 700016, description)
    if not secrets.compare_digest(field("client_secret") or "", state.azure_clients[client_id]):
        return entra_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
    token = "lab-entra-" + secrets.token_hex(16)
    state.tokens.add(token)
    state.azure_issued += 1
    return _json({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})


async def get_lab_state(request):
    return _json(request.app[STATE_KEY].snapshot())


def build_app(state):
    app = web.Application(middlewares=[record_and_authorize])
    app[STATE_KEY] = state
    gke = "/v1/projects/{project}/locations/{location}/clusters/{cluster}/nodePools"
    app.router.add_get(gke, gke_list_pools)
    app.router.add_get(gke + "/{pool:[^/:]+}", gke_get_pool)
    app.router.add_post(gke + "/{pool:[^/:]+}:setSize", gke_set_size)
    app.router.add_get("/v1/projects/{project}/locations/{location}/operations/{operation}", gke_get_operation)
    app.router.add_get("/compute/v1/projects/{project}/zones/{zone}/instanceGroupManagers/{name}",
                       gce_get_instance_group_manager)
    aks = ("/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/"
           "managedClusters/{cluster}/agentPools")
    app.router.add_get(aks, aks_list_pools)
    app.router.add_get(aks + "/{pool}", aks_get_pool)
    app.router.add_put(aks + "/{pool}", aks_put_pool)
    app.router.add_get("/subscriptions/{subscription}/providers/Microsoft.ContainerService/locations/{location}/"
                       "operations/{operation}", aks_get_operation)
    app.router.add_post("/token", post_token)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", entra_openid_configuration)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", entra_token)
    app.router.add_get("/_lab/state", get_lab_state)
    return app


def _pool_spec(text, option):
    name, sep, count = text.rpartition("=")
    if not sep or not name or not count.isdigit():
        raise SystemExit("%s expects NAME=COUNT, got %r" % (option, text))
    return name, int(count)


def build_parser():
    parser = argparse.ArgumentParser(prog="cloud_nodepools", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="private key of --tls-cert (PEM)")
    parser.add_argument("--ready-file", help="written atomically once listening: {pid, port, url}")
    parser.add_argument("--state-file", help="the pools' sizes and states, rewritten on every change")
    parser.add_argument("--gke-pool", action="append", default=[], metavar="projects/P/locations/L/clusters/C/"
                                                                           "nodePools/NP=COUNT")
    parser.add_argument("--aks-pool", action="append", default=[], metavar="/subscriptions/S/resourceGroups/RG/"
                                                                           "providers/Microsoft.ContainerService/"
                                                                           "managedClusters/C/agentPools/P=COUNT")
    parser.add_argument("--aks-location", default="eastus")
    parser.add_argument("--token", action="append", default=[], help="an accepted bearer token (repeatable)")
    parser.add_argument("--gcp-service-account", help="write a service-account key JSON whose token_uri is this "
                                                      "server's /token")
    parser.add_argument("--azure-tenant", help="the Entra ID tenant id served at /{tenant}/...")
    parser.add_argument("--azure-client", action="append", default=[], metavar="CLIENT_ID=SECRET",
                        help="a service principal that may get tokens (client credentials; repeatable)")
    parser.add_argument("--operation-seconds", type=float, default=2.0,
                        help="how long a setSize operation or an agent pool PUT runs")
    return parser


async def serve(args, state):
    async def listening(url, port):
        state.base_url = url
        state.oauth.url = url + "/token"
        ready = {"pid": os.getpid(), "port": port, "url": url}
        if args.gcp_service_account:
            write_file(args.gcp_service_account, json.dumps(state.oauth.service_account_info()), 0o600)
            ready["gcp_service_account"] = args.gcp_service_account
        state.save()
        if args.ready_file:
            write_file(args.ready_file, json.dumps(ready))
        print("cloud node pools: listening on %s (%d GKE, %d AKS pools)" % (url, len(state.gke), len(state.aks)),
              flush=True)

    await serve_until_signalled(build_app(state), args.host, args.port, args.tls_cert, args.tls_key, listening,
                                access_log=None)


def main(argv=None):
    args = build_parser().parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    clients = dict(spec.split("=", 1) for spec in args.azure_client if "=" in spec)
    if len(clients) != len(args.azure_client) or (clients and not args.azure_tenant):
        raise SystemExit("--azure-client expects CLIENT_ID=SECRET, together with --azure-tenant")
    state = CloudState(args.token, args.operation_seconds, args.state_file, args.azure_tenant, clients)
    try:
        for spec in args.gke_pool:
            state.add_gke_pool(*_pool_spec(spec, "--gke-pool"))
        for spec in args.aks_pool:
            state.add_aks_pool(*_pool_spec(spec, "--aks-pool"), location=args.aks_location)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    asyncio.run(serve(args, state))
    return 0


# ---- for suites -------------------------------------------------------------------------------------------------


class CloudNodepools:
    """A running stand-in: ``url``, ``ca``, ``tokens``, ``state_file``, ``service_account_file``, ``azure``
    (``tenant_id``, ``client_id``, ``client_secret``, ``authority_host``), ``stop()``."""

    def __init__(self, piece, ready, ca, tokens, state_file, azure=None):
        self.piece = piece
        self.url = ready["url"]
        self.ca = ca
        self.tokens = list(tokens)
        self.state_file = state_file
        self.service_account_file = ready.get("gcp_service_account")
        self.azure = dict(azure or {}, authority_host=self.url)

    def record(self):
        return self.piece.record(url=self.url, state_file=self.state_file)

    def stop(self):
        return stop_pieces([(self.piece.name, self.record())])

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start_cloud_nodepools(workdir, pki, gke_pools=(), aks_pools=(), tokens=None, operation_seconds=2.0,
                          name="cloud-nodepools", python=None):
    """Start the stand-in with TLS from ``pki`` (a labca.create_lab_pki dict); ``gke_pools``/``aks_pools`` are
    (name, count) pairs. An Entra ID tenant with one service principal is made up (``CloudNodepools.azure``).
    Returns a CloudNodepools once it listens."""
    workdir = str(workdir)
    os.makedirs(workdir, exist_ok=True)
    tokens = list(tokens) if tokens is not None else ["lab-cloud-" + secrets.token_hex(16)]
    ready_path = os.path.join(workdir, name + ".ready.json")
    state_file = os.path.join(workdir, name + ".state.json")
    for stale in (ready_path, state_file):
        if os.path.exists(stale):
            os.unlink(stale)
    argv = [python or sys.executable, os.path.abspath(__file__), "--tls-cert", pki["server_cert"],
            "--tls-key", pki["server_key"], "--ready-file", ready_path, "--state-file", state_file,
            "--gcp-service-account", os.path.join(workdir, name + ".service-account.json"),
            "--operation-seconds", str(operation_seconds)]
    azure = {"tenant_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()),
             "client_secret": "lab-secret-" + secrets.token_hex(16)}
    argv += ["--azure-tenant", azure["tenant_id"],
             "--azure-client=%s=%s" % (azure["client_id"], azure["client_secret"])]
    argv += ["--token=" + token for token in tokens]
    argv += ["--gke-pool=%s=%d" % pool for pool in gke_pools]
    argv += ["--aks-pool=%s=%d" % pool for pool in aks_pools]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    piece = Piece(name, argv, workdir, env=env)
    try:
        ready = piece.wait_for(lambda: read_json(ready_path), "its ready file")
    except LabError:
        stop_pieces([(name, piece.record())])
        raise
    return CloudNodepools(piece, ready, pki["ca"], tokens, state_file, azure)


if __name__ == "__main__":
    sys.exit(main())
