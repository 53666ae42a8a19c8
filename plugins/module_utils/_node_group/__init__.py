# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the node_group module does, one concern per file (private to the collection):

- ``sizes``: the wanted sizes from the request and the provider's current ones (min/max rules), pure;
- ``provider``: the one interface every provider implements (``read``, ``check_change``, ``resize``,
  ``progress``), the group state it returns, and the retry of transient provider errors;
- ``aws``: EKS managed node groups and EC2 Auto Scaling groups (boto3);
- ``rest``: the JSON-over-HTTPS client GKE and AKS share (bearer token, the providers' error shapes);
- ``gke``: GKE node pools (``setSize`` and its Operation, google-auth);
- ``aks``: AKS agent pools (create-or-update and its ``Azure-AsyncOperation``, azure-identity);
- ``nodes``: counting registered and Ready Nodes in Kubernetes by label;
- ``task``: option checks, the read -> plan -> change -> wait sequence, and the module result.
"""
