# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node-pool stand-in's Entra ID endpoints, used by azure-identity unmodified: the tenant's OpenID
configuration, the client-credentials grant, and the errors MSAL reports for a wrong secret or tenant."""

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from node_group_lab import AKS_POOL_ID  # pylint: disable=import-error


def _credential(server, **changes):
    azure = dict(server.azure, **changes)
    return ClientSecretCredential(azure["tenant_id"], azure["client_id"], azure["client_secret"],
                                  authority=azure["authority_host"], disable_instance_discovery=True,
                                  connection_verify=server.ca)


def test_client_secret_credential_gets_a_token_the_arm_routes_accept(cloud):
    server = cloud.server
    before = cloud.lab_state()["azureTokensIssued"]
    token = _credential(server).get_token(server.url + "/.default")
    assert token.token.startswith("lab-entra-") and token.expires_on > 0
    answer = requests.get(server.url + AKS_POOL_ID, params={"api-version": "2025-08-01"}, verify=server.ca,
                          headers={"Authorization": "Bearer " + token.token}, timeout=10)
    assert answer.status_code == 200 and answer.json()["name"] == "kfuseaks"
    assert cloud.lab_state()["azureTokensIssued"] == before + 1


def test_openid_configuration_names_the_token_endpoint(cloud):
    server = cloud.server
    tenant = server.azure["tenant_id"]
    config = requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (server.url, tenant), verify=server.ca,
                          timeout=10).json()
    assert config["token_endpoint"] == "%s/%s/oauth2/v2.0/token" % (server.url, tenant)
    assert config["issuer"] == "%s/%s/v2.0" % (server.url, tenant)


@pytest.mark.parametrize("changes, code", [({"client_secret": "wrong"}, "AADSTS7000215"),
                                           ({"client_id": "00000000-0000-0000-0000-00000000ffff"}, "AADSTS700016")])
def test_wrong_client_fails_with_entra_codes(cloud, changes, code):
    with pytest.raises(ClientAuthenticationError) as caught:
        _credential(cloud.server, **changes).get_token(cloud.server.url + "/.default")
    assert code in str(caught.value)


def test_unknown_tenant_is_refused(cloud):
    server = cloud.server
    answer = requests.post("%s/%s/oauth2/v2.0/token" % (server.url, "not-a-tenant"), verify=server.ca, timeout=10,
                           data={"grant_type": "client_credentials", "client_id": server.azure["client_id"],
                                 "client_secret": server.azure["client_secret"], "scope": server.url + "/.default"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_tenant"
    grant = requests.post("%s/%s/oauth2/v2.0/token" % (server.url, server.azure["tenant_id"]), verify=server.ca,
                          timeout=10, data={"grant_type": "password", "scope": "x"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
