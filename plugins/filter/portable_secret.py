# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The portable_secret filter: a Kubernetes Secret made applicable to another cluster."""

from __future__ import annotations

DOCUMENTATION = r'''
name: portable_secret
short_description: Make a Kubernetes Secret portable to another cluster
version_added: 0.1.0
author:
  - kfuse.failover contributors (@kfuse)
description:
  - Returns a copy of a Secret without the fields that tie it to the cluster it was read from, so that it can be
    applied to another cluster (for example the standby zone during a failover).
  - Removes C(metadata.uid), C(metadata.resourceVersion), C(metadata.creationTimestamp),
    C(metadata.ownerReferences), C(metadata.managedFields), C(metadata.selfLink), C(metadata.generation),
    the deletion markers, C(status) and the C(kubectl.kubernetes.io/last-applied-configuration) annotation.
  - Keeps the name, namespace, labels, other annotations, C(type), C(data), C(stringData) and C(immutable).
options:
  _input:
    description: A Secret as a dict, for example one resource of M(kubernetes.core.k8s_info).
    type: dict
    required: true
  namespace:
    description: Namespace to set on the result instead of the original one.
    type: str
'''

EXAMPLES = r'''
- name: Read a secret in AZ1
  kubernetes.core.k8s_info:
    context: az1
    kind: Secret
    namespace: kfuse
    name: kfuse-cloud-storage
  register: source

- name: Apply it in AZ2
  kubernetes.core.k8s:
    context: az2
    definition: "{{ source.resources[0] | kfuse.failover.portable_secret }}"

- name: Copy it into another namespace
  ansible.builtin.set_fact:
    copied: "{{ source.resources[0] | kfuse.failover.portable_secret(namespace='kfuse-standby') }}"
'''

RETURN = r'''
_value:
  description: The Secret without cluster-bound fields.
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.kfuse.failover.plugins.module_utils._secrets import portable_secret
from ansible_collections.kfuse.failover.plugins.module_utils.errors import SourceError


def portable_secret_filter(secret, namespace=None):
    """Thin wrapper: the logic lives in module_utils so the backup modules share it."""
    try:
        return portable_secret(secret, namespace=namespace)
    except SourceError as exc:
        raise AnsibleFilterError('portable_secret: %s' % exc) from None


class FilterModule:
    """kfuse.failover filters."""

    def filters(self):
        return {'portable_secret': portable_secret_filter}
