# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles as ServiceAccount kfuse-failover with only extensions/rbac/kfuse-failover-rbac.yml (docs/rbac.md), on a
fresh per-zone lab started with rbac=True: the roles chained by hand (chain.yml: preflight -> secrets -> node_group
-> kloudfuse -> az-service hand-over -> ingress) change nothing in check mode, then succeed; the kloudfuse role's
hard paths (a stale release lock broken, a stuck revision deleted, an upgrade that deletes the fixed-name Jobs) and
an az-service call through port-forward succeed too; and what the failover does not need is refused with 403.
The ServiceAccount's effective rules for each namespace it works in are printed after the run (`show`)."""

import base64
import gzip
import json
import os
import subprocess
import sys

import pytest
import yaml
from kubernetes import client as kube_client
from kubernetes.client.rest import ApiException

from ansible_run import REPO, TOOLS_BIN, VENV_BIN, run_ansible
from chain_support import api, chain_snapshot, check_chain_result

LAB_DIR = os.path.join(REPO, "tests", "lab")
CHAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chain.yml")
ACCOUNT = "system:serviceaccount:kfuse-failover:kfuse-failover"


# The per-zone lab only: the end-to-end playbook tests (tests/integration/playbooks) run as this ServiceAccount on
# both topologies.
@pytest.fixture(params=["per-zone"])
def rbac_lab(request, tmp_path_factory):
    if LAB_DIR not in sys.path:
        sys.path.insert(0, LAB_DIR)
    import labctl  # pylint: disable=import-outside-toplevel

    with labctl.running_lab(str(tmp_path_factory.mktemp("rbac-" + request.param)), topology=request.param,
                            rbac=True) as info:
        os.environ["HELM_REGISTRY_CONFIG"] = info["paths"]["helm_registry_config"]
        yield info


def inventory(info):
    with open(info["paths"]["inventory"], encoding="utf-8") as handle:
        return yaml.safe_load(handle)["all"]["children"]["kfuse_zones"]["hosts"]


def playbook(info, tmp_path, path, *extra, timeout=900, check=False):
    return run_ansible([os.path.join(VENV_BIN, "ansible-playbook"), "-i", info["paths"]["inventory"], path]
                       + list(extra), tmp_path, timeout=timeout, check=check)


def effective_rules(info, zone, namespace):
    """``kubectl auth can-i --list`` as the SA in ``namespace`` of ``zone``'s cluster (a SelfSubjectRulesReview),
    without the non-resource URLs every authenticated user may read (discovery, health, version)."""
    done = subprocess.run([os.path.join(TOOLS_BIN, "kubectl"), "--kubeconfig", info["paths"]["failover_kubeconfig"],
                           "--context", info["kube"][zone]["context"], "auth", "can-i", "--list", "-n", namespace],
                          capture_output=True, text=True, check=True, timeout=60)
    return "\n".join(line.rstrip() for line in done.stdout.splitlines() if not line.startswith(" "))


def refused(call, *args, **kwargs):
    """The HTTP status a call as the SA gets: 403 is what least privilege promises."""
    try:
        call(*args, **kwargs)
    except ApiException as exc:
        return exc.status
    return 200


def test_roles_run_with_least_privilege(rbac_lab, tmp_path, show):
    info = rbac_lab
    hosts = inventory(info)
    # the roles get the SA's kubeconfig, which holds tokens only; the lab keeps its admin one
    assert all(host["kfuse_kube"]["kubeconfig"] == info["paths"]["failover_kubeconfig"] for host in hosts.values())
    assert info["paths"]["kubeconfig"] != info["paths"]["failover_kubeconfig"]
    with open(info["paths"]["failover_kubeconfig"], encoding="utf-8") as handle:
        users = yaml.safe_load(handle)["users"]
    assert users and all(set(user["user"]) == {"token"} for user in users)
    for zone in ("az1", "az2"):
        review = kube_client.AuthenticationV1Api(api(info, zone, "failover_kubeconfig")).create_self_subject_review(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert review.status.user_info.username == ACCOUNT

    show("\n".join(["--- effective rules of %s (topology %s)" % (ACCOUNT, info["topology"])] + [
        "# %s: kubectl auth can-i --list -n %s\n%s" % (info["kube"][zone]["context"], namespace,
                                                       effective_rules(info, zone, namespace))
        for zone in ("az1", "az2") for namespace in (info["kube"][zone]["namespace"], "ingress-" + zone)]))

    # the roles chained by hand (chain.yml), a check-mode pass first: it stops at the activation wait (nothing was
    # activated), and nothing before it changed anything
    chain_vars = ["-e", "chain_source=az1", "-e", "chain_target=az2"]
    before = chain_snapshot(info)
    dry = playbook(info, tmp_path, CHAIN, *chain_vars, "-e", "ingress_force=true", timeout=600, check=True)
    assert chain_snapshot(info) == before, "check mode changed the lab"
    assert dry.stats()["az2"]["changed"] >= 3, dry.stats()
    run = playbook(info, tmp_path, CHAIN, *chain_vars)
    # what it did, read as the admin: az2 runs kfuse 3.4.2 with az1's secrets, its az-service on its own Ready nodes
    core = check_chain_result(info, run)
    namespace = info["kube"]["az2"]["namespace"]
    ready = {n.metadata.name for n in core.list_node(label_selector="eks.amazonaws.com/nodegroup=kfuse-az2").items
             if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)}
    assert len(ready) == 3, ready
    pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=az-service").items
    assert pods and all(p.spec.node_name in ready for p in pods), [p.spec.node_name for p in pods]
    status = playbook(info, tmp_path, os.path.join(REPO, "extensions", "molecule", "ingress", "verify.yml"),
                      timeout=300)
    assert status.rc == 0, status.stdout[-3000:]

    # the kloudfuse role's other writes: a dead run's lock replaced, a stuck revision deleted, an upgrade to 3.4.3
    # (the fixed-name Jobs deleted first, helm patching what changed)
    revision = _stale_lock_and_pending_revision(core, namespace)
    hard = playbook(info, tmp_path, _kloudfuse_play(tmp_path), "-e", "zone=az2")
    assert hard.rc == 0, hard.stdout[-4000:] + hard.stderr[-2000:]
    assert core.read_namespaced_config_map("kfuse-version", namespace).data["version"] == "3.4.3"
    # the stuck record was deleted and its revision number reused by the upgrade
    statuses = {record.metadata.labels["version"]: record.metadata.labels["status"] for record in
                core.list_namespaced_secret(namespace, label_selector="owner=helm,name=kfuse").items}
    assert statuses[str(revision)] == "deployed" and "pending-upgrade" not in statuses.values(), statuses
    assert not core.list_namespaced_config_map(namespace, field_selector="metadata.name=kfuse-upgrade-lock-kfuse").items

    # an az-service module through the API server's port-forward (the chain reaches the simulators by URL)
    az, kube = hosts["az2"]["kfuse_az_service"], hosts["az2"]["kfuse_kube"]
    forwarded = run_ansible([os.path.join(VENV_BIN, "ansible"), "localhost", "-m", "kfuse.failover.az_status", "-a",
                             json.dumps({"kubeconfig": kube["kubeconfig"], "context": kube["context"],
                                         "namespace": kube["namespace"], "service": az["service"],
                                         "service_port": az["port"], "ca_path": az["ca_path"], "token": az["token"]})],
                            tmp_path, timeout=120)
    assert forwarded.rc == 0, forwarded.stdout[-3000:]

    # and what the failover does not need is refused
    sa_core = kube_client.CoreV1Api(api(info, "az2", "failover_kubeconfig"))
    sa_rbac = kube_client.RbacAuthorizationV1Api(api(info, "az2", "failover_kubeconfig"))
    node = core.list_node().items[0].metadata.name
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "kfuse-failover-escalate"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"kind": "ServiceAccount", "name": "kfuse-failover", "namespace": "kfuse-failover"}]}
    attempts = {
        "list secrets in kube-system": refused(sa_core.list_namespaced_secret, "kube-system"),
        "list secrets in all namespaces": refused(sa_core.list_secret_for_all_namespaces),
        "read a secret of its own namespace": refused(sa_core.read_namespaced_secret, "anything", "kfuse-failover"),
        "delete a node": refused(sa_core.delete_node, node),
        "patch a node": refused(sa_core.patch_node, node, {"metadata": {"labels": {"kfuse": "x"}}}),
        "create a ClusterRoleBinding": refused(sa_rbac.create_cluster_role_binding, binding),
        "create a Role in the zone": refused(sa_rbac.create_namespaced_role, namespace,
                                             {"metadata": {"name": "x"}, "rules": []}),
        "create a pod in the zone": refused(sa_core.create_namespaced_pod, namespace, {
            "metadata": {"name": "x"}, "spec": {"containers": [{"name": "x", "image": "x"}]}}),
        "exec into a pod": refused(sa_core.connect_get_namespaced_pod_exec, "x", namespace, command=["true"]),
        "delete a namespace": refused(sa_core.delete_namespace, namespace),
        "read a secret in default": refused(sa_core.read_namespaced_secret, "x", "default"),
    }
    show("--- refused to %s: %s" % (ACCOUNT, ", ".join("%s %s" % (what, code) for what, code in attempts.items())))
    assert all(code == 403 for code in attempts.values()), attempts


def _stale_lock_and_pending_revision(core, namespace):
    """What a helm client and an Ansible run killed mid-upgrade leave (made as the admin): the lock ConfigMap and a
    pending-upgrade record one revision past the newest; returns that revision."""
    records = core.list_namespaced_secret(namespace, label_selector="owner=helm,name=kfuse").items
    newest = max(records, key=lambda record: int(record.metadata.labels["version"]))
    # helm's record: base64 (the API's) of base64 of gzip of the release JSON, whose status helm believes
    release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(newest.data["release"]))))
    revision = release["version"] + 1
    release["version"] = revision
    release["info"]["status"] = "pending-upgrade"
    body = base64.b64encode(base64.b64encode(gzip.compress(json.dumps(release).encode()))).decode()
    core.create_namespaced_secret(namespace, {
        "apiVersion": "v1", "kind": "Secret", "type": newest.type,
        "metadata": {"name": "sh.helm.release.v1.kfuse.v%d" % revision,
                     "labels": dict(newest.metadata.labels, status="pending-upgrade", version=str(revision))},
        "data": {"release": body}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "kfuse-upgrade-lock-kfuse"},
                                                  "data": {"holder": "a dead run", "since": "2026-12-02T03:00:00Z"}})
    return revision


def _kloudfuse_play(tmp_path):
    path = tmp_path / "kloudfuse-hard.yml"
    path.write_text(yaml.safe_dump([{
        "name": "Kloudfuse over a dead run's leftovers",
        "hosts": "{{ zone }}",
        "gather_facts": False,
        "roles": [{"role": "kfuse.failover.kloudfuse", "vars": {
            "kloudfuse_chart_version": "3.4.3", "kloudfuse_break_lock": True, "kloudfuse_recover_pending": True,
            "kloudfuse_poll_interval": 1, "kloudfuse_wait_timeout": 120}}],
    }], sort_keys=False))
    return str(path)
