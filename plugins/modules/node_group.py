#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: node_group
short_description: Scale a zone's node group and wait until its nodes are Ready in Kubernetes
version_added: 0.1.0
description:
  - Sets the node count of one zone's node group - an EKS managed node group, an EC2 Auto Scaling group, a GKE node
    pool or an AKS agent pool - and waits until exactly that many Nodes of the group are registered and Ready in
    Kubernetes. Use it to bring the standby zone's Kloudfuse nodes up before a failover, and to scale the old zone to
    V(0) afterwards (a cold standby).
  - With O(provider=none) a cluster autoscaler or Karpenter owns the nodes; the module changes nothing and only
    waits for the nodes of O(node_selector).
  - Bad input fails before any call. The module then reads the group, computes the wanted minimum, maximum and
    desired size (see O(min_size) and O(max_size)) and fails before any call that changes anything when the group
    cannot take them (O(size) above the maximum, a System AKS pool at V(0), a pool whose autoscaler owns its size).
  - A group whose sizes already match is not changed (idempotent); the module still waits for the nodes.
  - With O(wait=true) the module lists the nodes once before the change, so a Kubernetes API it cannot read fails
    before anything is changed.
  - A group busy with another operation (EKS not ACTIVE, a GKE operation running, an AKS pool C(Scaling)) is waited
    for before the change. Throttling, HTTP 429 and 5xx answers, connection errors and "busy" refusals (EKS
    C(ResourceInUseException), GKE C(FAILED_PRECONDITION) for a running operation, AKS 409) are retried with
    exponential backoff and full jitter (or the provider's C(Retry-After)), at most 8 attempts within O(wait_timeout);
    after a failure that may have reached the provider, the group is read again before the change is re-sent.
  - The wait ends when the registered Nodes, the Ready Nodes and O(size) are equal (so scaling to V(0) waits until the
    Nodes are gone) and the provider's change has settled (EKS group C(ACTIVE) again and its update C(Successful),
    GKE operation C(DONE), AKS operation C(Succeeded)). On timeout it fails with what it last saw - the requested
    size, the provider's desired size and status, the registered and the Ready nodes - and the progress history.
author:
  - kfuse.failover contributors (@kfuse)
options:
  provider:
    description:
      - Who owns the nodes.
      - V(eks) - an EKS managed node group (UpdateNodegroupConfig).
      - V(asg) - an EC2 Auto Scaling group (UpdateAutoScalingGroup), for example self-managed EKS nodes.
      - V(gke) - a GKE node pool (C(setSize)).
      - V(aks) - an AKS agent pool (Agent Pools - Create Or Update).
      - V(none) - a cluster autoscaler or Karpenter owns the nodes; only wait. Requires O(node_selector).
    type: str
    required: true
    choices: [eks, asg, gke, aks, none]
  name:
    description:
      - Name of the EKS node group, Auto Scaling group, GKE node pool or AKS agent pool.
      - Required unless O(provider=none).
    type: str
  cluster:
    description:
      - The EKS cluster, GKE cluster or AKS managed cluster of the group. Required for V(eks), V(gke) and V(aks).
    type: str
  size:
    description:
      - Wanted number of nodes (the desired size). V(0) scales the group away, for a cold standby.
      - For V(gke) it is the node count per zone of the pool, as GKE applies it.
    type: int
    required: true
  min_size:
    description:
      - Minimum size of the group (V(eks), V(asg)); must not be above O(size).
      - When not given, scaling up raises the minimum to O(size) (so scaling up from zero raises the minimum and the
        desired size together), scaling to V(0) sets it to V(0), and otherwise the group's minimum is kept, lowered to
        O(size) when it would be above it.
      - For V(gke) and V(aks) (pools without autoscaling have no minimum) it only bounds the request.
    type: int
  max_size:
    description:
      - Maximum size of the group (V(eks), V(asg)). When not given the group's current maximum is kept.
      - An O(size) above the maximum (given or current) fails before any change, naming both numbers.
      - For V(gke) and V(aks) it only bounds the request.
    type: int
  region:
    description:
      - AWS region (V(eks), V(asg)). Defaults to the boto3 configuration (E(AWS_REGION), the profile).
    type: str
  endpoint_url:
    description:
      - URL of the EKS or Auto Scaling API instead of the AWS endpoint (a VPC endpoint, a test server).
    type: str
  access_key:
    description:
      - AWS access key id. With O(secret_key); boto3's default credential chain (environment, profile, instance
        role, web identity) when not given.
    type: str
  secret_key:
    description:
      - AWS secret access key. Never shown in results or logs.
    type: str
  session_token:
    description:
      - AWS session token of temporary credentials. Requires O(access_key).
    type: str
  profile:
    description:
      - AWS profile of the shared configuration files. Mutually exclusive with O(access_key).
    type: str
  project:
    description:
      - Google Cloud project of the GKE cluster. Required for V(gke).
    type: str
  location:
    description:
      - Location of the GKE cluster, a region (V(us-central1)) or a zone (V(us-central1-a)). Required for V(gke).
    type: str
  api_url:
    description:
      - Base URL of the provider's API (V(gke), V(aks)). Defaults to V(https://container.googleapis.com) for V(gke) and
        V(https://management.azure.com) for V(aks) (for V(aks) the token scope is O(api_url) followed by
        C(/.default)).
      - Access tokens are sent only to this host (and, for V(gke), to C(*.googleapis.com) instance group URLs);
        plain C(http://) only to this machine.
    type: str
  credentials_file:
    description:
      - Google credentials file (V(gke)) - a service-account key JSON, or any file C(google-auth) loads
        (authorized user, workload identity federation). Application Default Credentials when not given.
    type: path
  subscription_id:
    description:
      - Azure subscription of the AKS cluster. Required for V(aks).
    type: str
  resource_group:
    description:
      - Resource group of the AKS cluster. Required for V(aks).
    type: str
  api_version:
    description:
      - Microsoft.ContainerService API version of the requests (V(aks)). Defaults to V(2025-08-01), a generally
        available version.
    type: str
  tenant_id:
    description:
      - Entra ID tenant of the service principal (V(aks)). With O(client_id) and O(client_secret).
    type: str
  client_id:
    description:
      - Application (client) id of the service principal (V(aks)); the module then uses C(ClientSecretCredential).
      - Without O(client_id), O(client_secret) and O(tenant_id), C(DefaultAzureCredential) is used (environment,
        workload identity, managed identity, Azure CLI).
    type: str
  client_secret:
    description:
      - Client secret of the service principal (V(aks)). Never shown in results or logs.
    type: str
  authority_host:
    description:
      - Entra ID authority host (V(aks)), for example V(https://login.microsoftonline.us) for Azure Government.
        Defaults to the public cloud's. For a host MSAL does not know (Azure Stack), instance discovery is skipped.
    type: str
  ca_path:
    description:
      - PEM CA bundle that signed the provider API's certificate (and its token endpoint's), instead of the system
        trust store.
    type: path
  validate_certs:
    description:
      - Verify the provider API's TLS certificate. Turn off only for throw-away environments.
    type: bool
    default: true
  wait:
    description:
      - Wait until O(size) nodes of the group are registered and Ready in Kubernetes (none left for O(size=0)) and
        the provider's change has settled.
      - Without the wait the module returns once the provider has accepted the change, and does not use Kubernetes.
  wait_timeout:
    description:
      - Also bounds the wait for a busy group before the change and the retries of transient errors.
    default: 900
  poll_interval:
    description:
      - Seconds between two looks at the provider and the Nodes. While the group is busy before the change, the
        interval grows while nothing changes (x1.5 per poll, up to four times this value, at most 60 seconds).
      - The wait for the Ready nodes polls at this interval throughout, so the end of the longest wait of a
        failover is seen within one interval.
    type: float
    default: 5
  node_selector:
    description:
      - Labels of the Nodes to count, as a dict. Defaults to the provider's node-group label with O(name) -
        C(eks.amazonaws.com/nodegroup), C(cloud.google.com/gke-nodepool), C(kubernetes.azure.com/agentpool), and for
        V(asg) C(kfuse.io/asg) (no standard label exists, so register the nodes' kubelets with it, or set
        O(node_selector)).
      - Add C(topology.kubernetes.io/zone) to count one zone's nodes of a group spread over several zones.
      - Required for O(provider=none).
    type: dict
extends_documentation_fragment:
  - kfuse.failover.wait
  - kfuse.failover.wait.timing
  - kfuse.failover.kube
  - kfuse.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the group and reports its current and wanted sizes and whether they differ; sends no change and does
        not wait. With O(provider=none) it counts the nodes once.
  diff_mode:
    support: full
    details:
      - Shows the minimum, maximum and desired size before and after (wanted, in check mode).
requirements:
  - boto3 (V(eks), V(asg))
  - google-auth and requests (V(gke))
  - azure-identity and requests (V(aks))
notes:
  - The module runs on the controller (C(ansible_connection=local)) and talks to the provider's API and to the
    Kubernetes API server of O(kubeconfig) and O(context).
  - A GKE node pool or AKS agent pool with autoscaling enabled is refused - its autoscaler owns the size; use
    O(provider=none) to wait for such nodes, or disable autoscaling first.
  - Provider failures fail the module with C(msg), C(code) (the provider's error code or HTTP status) and
    C(provider_error); after a change was sent, the result also says C(changed=true) and what was seen.
seealso:
  - name: EKS UpdateNodegroupConfig
    description: The API call that resizes an EKS managed node group.
    link: https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupConfig.html
  - name: GKE nodePools.setSize
    description: The API call that resizes a GKE node pool.
    link: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools/setSize
  - name: AKS Agent Pools - Create Or Update
    description: The API call that resizes an AKS agent pool.
    link: https://learn.microsoft.com/rest/api/aks/agent-pools/create-or-update
'''

EXAMPLES = r'''
- name: Bring up the Kloudfuse nodes of AZ2 (EKS) and wait until 3 are Ready there
  kfuse.failover.node_group:
    provider: eks
    cluster: prod-use1
    name: kfuse-az2
    size: 3
    region: us-east-1
    context: prod-use1
    node_selector:
      eks.amazonaws.com/nodegroup: kfuse-az2
      topology.kubernetes.io/zone: us-east-1b
  register: az2_nodes

- name: Scale AZ1's group to zero afterwards (cold standby), raising nothing else
  kfuse.failover.node_group:
    provider: eks
    cluster: prod-use1
    name: kfuse-az1
    size: 0
    region: us-east-1
    context: prod-use1

- name: Self-managed nodes in an Auto Scaling group, raising its maximum
  kfuse.failover.node_group:
    provider: asg
    name: kfuse-az2-asg
    size: 6
    max_size: 8
    context: prod-use1
    node_selector: {kfuse.io/asg: kfuse-az2-asg}

- name: GKE node pool of zone b, with a service-account key
  kfuse.failover.node_group:
    provider: gke
    project: kfuse-prod
    location: us-central1
    cluster: prod
    name: kfuse-zone-b
    size: 3
    credentials_file: /etc/kfuse/gke-sa.json
    context: gke_kfuse-prod_us-central1_prod

- name: AKS agent pool, with a service principal from the vault
  kfuse.failover.node_group:
    provider: aks
    subscription_id: 00000000-0000-0000-0000-000000000000
    resource_group: kfuse-prod
    cluster: prod
    name: kfusez2
    size: 3
    tenant_id: "{{ vault_azure_tenant_id }}"
    client_id: "{{ vault_azure_client_id }}"
    client_secret: "{{ vault_azure_client_secret }}"
    context: prod

- name: Karpenter owns the nodes - only wait until 3 are Ready in the zone
  kfuse.failover.node_group:
    provider: none
    size: 3
    context: prod-use1
    node_selector:
      karpenter.sh/nodepool: kfuse
      topology.kubernetes.io/zone: us-east-1b
    wait_timeout: 1200
'''

RETURN = r'''
provider:
  description: The O(provider).
  returned: always
  type: str
  sample: eks
before:
  description:
    - The group as read before any change - C(min_size), C(max_size), C(desired_size) (null where the provider has
      no such number - the minimum and maximum of GKE and AKS pools, everything for V(none)) and C(status), the
      provider's word (EKS C(ACTIVE), GKE C(RUNNING), AKS provisioningState C(Succeeded); null for an Auto Scaling
      group not being deleted).
  returned: always
  type: dict
  sample: {"min_size": 0, "max_size": 6, "desired_size": 0, "status": "ACTIVE"}
after:
  description:
    - The group as read at the end, in the shape of RV(before). In check mode, the wanted sizes.
  returned: always
  type: dict
  sample: {"min_size": 3, "max_size": 6, "desired_size": 3, "status": "ACTIVE"}
nodes:
  description:
    - The Nodes counted at the end - C(selector) (the label selector), C(registered), C(ready) and C(names).
  returned: when the module waited, and always for O(provider=none)
  type: dict
  sample: {"selector": "eks.amazonaws.com/nodegroup=kfuse-az2", "registered": 3, "ready": 3,
           "names": ["ip-10-0-1-10.ec2.internal", "ip-10-0-1-11.ec2.internal", "ip-10-0-1-12.ec2.internal"]}
progress:
  description:
    - What the wait saw, one sample per change - C(elapsed) seconds, C(requested), C(provider_desired),
      C(provider_status), C(change_status) (EKS update, GKE or AKS operation), C(registered), C(ready); a sample
      with C(poll_error) when a poll failed transiently.
  returned: when the module waited
  type: list
  elements: dict
  sample: [{"elapsed": 0.0, "requested": 3, "provider_desired": 3, "provider_status": "UPDATING", "registered": 0,
            "ready": 0}, {"elapsed": 41.2, "requested": 3, "provider_desired": 3, "provider_status": "ACTIVE",
            "registered": 3, "ready": 3}]
elapsed:
  description: Seconds spent waiting for the nodes.
  returned: when the module waited
  type: float
  sample: 41.2
update_id:
  description: Id of the EKS update (C(DescribeUpdate)).
  returned: when a change was sent to an EKS node group
  type: str
  sample: 2e8a5d2c-4b6f-3c1a-9d0e-7f6a5b4c3d2e
operation:
  description: Name of the GKE operation, or id of the AKS asynchronous operation.
  returned: when a change was sent to a GKE or AKS pool
  type: str
  sample: operation-1763719200000-5f0c2b1a
timed_out:
  description: Whether a failed wait ran out of O(wait_timeout).
  returned: when a wait failed
  type: bool
provider_error:
  description: The provider's error - C(provider), C(code), C(group), C(message).
  returned: when a provider call failed
  type: dict
'''

from ansible_collections.kfuse.failover.plugins.module_utils._node_group.task import (
    MUTUALLY_EXCLUSIVE, NODE_GROUP_ARGSPEC, REQUIRED_BY, REQUIRED_IF, REQUIRED_TOGETHER, run_node_group)
from ansible_collections.kfuse.failover.plugins.module_utils.base import KfuseModule


def main():
    module = KfuseModule(argument_spec=NODE_GROUP_ARGSPEC, required_if=REQUIRED_IF, required_together=REQUIRED_TOGETHER,
                         required_by=REQUIRED_BY, mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    module.run(run_node_group, module.params, module.register_secret, check_mode=module.check_mode, diff=module._diff)


if __name__ == '__main__':
    main()
