# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The zone_values filter: the Helm values that pin a release to one availability zone."""

from __future__ import annotations

DOCUMENTATION = r'''
name: zone_values
short_description: Helm values that pin a release to one zone
version_added: 0.1.0
author:
  - kfuse.failover contributors (@kfuse)
description:
  - Returns the Helm values the collection derives for a zone, to be combined (recursively) over the user's values.
  - A required node affinity on O(node_label) = the zone id (and O(node_labels)), set at each of O(affinity_paths); O(tolerations) at
    each of O(tolerations_paths) (when not empty); O(extra) merged in; and, when given, the shared bucket at
    C(global.cloudStorage) without the collection's own keys (C(endpoint_url)).
  - The kloudfuse role uses it for the kfuse release and the ingress role for the standalone ingress-nginx
    controller (C(controller.affinity)), so both are pinned the same way.
options:
  _input:
    description: The zone id (the value of the zone label on that zone's nodes), for example C(us-east-1a).
    type: str
    required: true
  affinity_paths:
    description: Dotted value paths that receive the node affinity.
    type: list
    elements: str
    default: [global.affinity]
  tolerations_paths:
    description: Dotted value paths that receive O(tolerations).
    type: list
    elements: str
    default: [global.tolerations]
  tolerations:
    description: Tolerations of the zone's nodes' taints.
    type: list
    elements: dict
    default: []
  node_label:
    description: Node label holding the zone id.
    type: str
    default: topology.kubernetes.io/zone
  node_labels:
    description:
      - More labels the nodes must carry, for example the zone's node-group label
        (C(eks.amazonaws.com/nodegroup)), so that pods wait for that group rather than land on other nodes of the
        zone.
    type: dict
  cloud_storage:
    description: The shared bucket in the chart's C(global.cloudStorage) shape; not set when omitted.
    type: dict
  extra:
    description: More values for the zone (for example C(az-service.config.zone)), given as dotted paths.
    type: dict
'''

EXAMPLES = r'''
- name: Values of the kfuse release in az2
  ansible.builtin.set_fact:
    az2_values: >-
      {{ user_values | combine('us-east-1b' | kfuse.failover.zone_values(
           cloud_storage=kfuse_cloud_storage, extra={'az-service.config.zone': 'us-east-1b'}), recursive=true) }}

- name: Values that pin an ingress-nginx controller to az2
  ansible.builtin.set_fact:
    controller_values: "{{ 'us-east-1b' | kfuse.failover.zone_values(affinity_paths=['controller.affinity'],
                           tolerations_paths=['controller.tolerations']) }}"
'''

RETURN = r'''
_value:
  description: The derived values, a nested dict.
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.kfuse.failover.plugins.module_utils._helm_values import zone_values
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

# Keys of the inventory's cloud storage dict that the collection reads and the chart does not know.
COLLECTION_ONLY_STORAGE_KEYS = ('endpoint_url',)


def zone_values_filter(zone_id, affinity_paths=None, tolerations_paths=None, tolerations=None,
                       node_label='topology.kubernetes.io/zone', cloud_storage=None, extra=None, node_labels=None):
    """Thin wrapper over module_utils._names.zone_values (errors become filter errors)."""
    try:
        return zone_values(zone_id, affinity_paths=affinity_paths, tolerations_paths=tolerations_paths,
                           tolerations=tolerations, node_label=node_label, cloud_storage=cloud_storage,
                           extra=extra, drop_storage_keys=COLLECTION_ONLY_STORAGE_KEYS, node_labels=node_labels)
    except OptionError as exc:
        raise AnsibleFilterError('zone_values: %s' % exc) from None


class FilterModule:
    """kfuse.failover filters."""

    def filters(self):
        return {'zone_values': zone_values_filter}
