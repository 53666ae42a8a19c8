# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the node_group suite's fixtures and tests share: names, sizes and zones of the suite's groups, the running
lab (``Cloud``, the shared ``cloud_lab.CloudLab`` plus module arguments per provider and the providers' sizes read
directly), and tasks."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LAB_DIR = REPO / "tests" / "lab"
for entry in (str(LAB_DIR), str(REPO / "tests" / "integration")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

# pylint: disable=wrong-import-position,import-error
import kube_cluster  # noqa: E402
from cloud_lab import CONTEXT, CloudLab  # noqa: E402
from storage_emulators import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY  # noqa: E402
# pylint: enable=wrong-import-position,import-error

EKS_CLUSTER = "lab"
EKS_GROUP = "kfuse-eks"
SLOW_GROUP = "kfuse-slow"
ASG = "kfuse-asg"
PROJECT, LOCATION, GKE_CLUSTER = "kfuse-lab", "us-central1", "lab"
GKE_POOL = "kfuse-gke"
GKE_POOL_NAME = "projects/%s/locations/%s/clusters/%s/nodePools/%s" % (PROJECT, LOCATION, GKE_CLUSTER, GKE_POOL)
SUBSCRIPTION, RESOURCE_GROUP, AKS_CLUSTER = "00000000-0000-0000-0000-000000000000", "kfuse-lab", "lab"
AKS_POOL = "kfuseaks"
AKS_POOL_ID = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s/"
               "agentPools/%s" % (SUBSCRIPTION, RESOURCE_GROUP, AKS_CLUSTER, AKS_POOL))
ZONES = {"eks": "us-east-1a", "slow": "us-east-1b", "asg": "us-east-1c", "gke": "us-central1-a", "aks": "eastus-1"}
GROUP_MAX = 4
OPERATION_SECONDS = 1.0
NODE_DELAY = 1.5
SLOW_DELAY = 120.0


class Cloud(CloudLab):
    """The running suite lab and the module arguments that reach each provider."""

    def kube_args(self):
        return {"kubeconfig": str(self.kube.kubeconfig), "context": CONTEXT}

    def aws_args(self):
        return dict(self.kube_args(), region=S3_REGION, endpoint_url=self.moto.endpoint, access_key=S3_ACCESS_KEY,
                    secret_key=S3_SECRET_KEY)

    def args(self, provider):
        """Module arguments of each provider's group (size and the rest added by the test)."""
        if provider == "eks":
            return dict(self.aws_args(), provider="eks", cluster=EKS_CLUSTER, name=EKS_GROUP)
        if provider == "asg":
            return dict(self.aws_args(), provider="asg", name=ASG)
        if provider == "gke":
            return dict(self.kube_args(), provider="gke", project=PROJECT, location=LOCATION, cluster=GKE_CLUSTER,
                        name=GKE_POOL, api_url=self.server.url, ca_path=self.server.ca,
                        credentials_file=self.server.service_account_file)
        if provider == "aks":
            azure = self.server.azure
            return dict(self.kube_args(), provider="aks", subscription_id=SUBSCRIPTION, resource_group=RESOURCE_GROUP,
                        cluster=AKS_CLUSTER, name=AKS_POOL, api_url=self.server.url, ca_path=self.server.ca,
                        tenant_id=azure["tenant_id"], client_id=azure["client_id"],
                        client_secret=azure["client_secret"], authority_host=azure["authority_host"])
        raise ValueError(provider)

    def provider_size(self, provider):
        """(min, max, desired) as the provider holds them now (None where it has no such number)."""
        if provider == "eks":
            scaling = self.aws("eks").describe_nodegroup(clusterName=EKS_CLUSTER, nodegroupName=EKS_GROUP)[
                "nodegroup"]["scalingConfig"]
            return scaling["minSize"], scaling["maxSize"], scaling["desiredSize"]
        if provider == "asg":
            group = self.aws("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[ASG])[
                "AutoScalingGroups"][0]
            return group["MinSize"], group["MaxSize"], group["DesiredCapacity"]
        if provider == "gke":
            return None, None, self.lab_state()["gke"][GKE_POOL_NAME]["nodeCount"]
        return None, None, self.lab_state()["aks"][AKS_POOL_ID]["count"]


def create_aws_groups(cloud):
    """The suite's groups in moto: an EKS cluster with the quick and the slow node group, and the ASG."""
    eks = cloud.aws("eks")
    role = "arn:aws:iam::123456789012:role/"
    eks.create_cluster(name=EKS_CLUSTER, roleArn=role + "eks-cluster", resourcesVpcConfig={"subnetIds": ["subnet-a"]})
    for group, zone in ((EKS_GROUP, ZONES["eks"]), (SLOW_GROUP, ZONES["slow"])):
        eks.create_nodegroup(clusterName=EKS_CLUSTER, nodegroupName=group, subnets=["subnet-a"],
                             nodeRole=role + "eks-node", labels={kube_cluster.ZONE_LABEL: zone},
                             scalingConfig={"minSize": 0, "maxSize": GROUP_MAX, "desiredSize": 0})
    cloud.create_asg(ASG, ZONES["asg"], GROUP_MAX)


def node_group_task(name, args, **task_options):
    """One task of the module, with its arguments and task keywords (check_mode, ignore_errors...)."""
    task = {"name": name, "kfuse.failover.node_group": args}
    task.update(task_options)
    return task
