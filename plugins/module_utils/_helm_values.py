# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helm values the collection derives for a zone (node pinning, the zone's identity, the shared bucket).

Private to the collection; the zone_values filter is its public face.
"""

from __future__ import annotations

import copy

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError


def set_path(values, path, value):
    """Set ``value`` at the dotted ``path`` of the nested dict ``values`` (created as needed)."""
    parts = str(path).split('.')
    if not all(parts):
        raise OptionError('value path %r: use dot-separated keys, none empty (for example global.affinity)' % path)
    node = values
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = copy.deepcopy(value)
    return values


def zone_affinity(zone_id, node_label, node_labels=None):
    """A required node affinity to nodes whose ``node_label`` is ``zone_id`` and that carry ``node_labels``."""
    labels = dict(node_labels or {})
    labels[node_label] = zone_id
    expressions = [{'key': key, 'operator': 'In', 'values': [str(labels[key])]} for key in sorted(labels)]
    return {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
        {'matchExpressions': expressions}]}}}


def zone_values(zone_id, affinity_paths=None, tolerations_paths=None, tolerations=None,
                node_label='topology.kubernetes.io/zone', cloud_storage=None, extra=None, drop_storage_keys=(),
                node_labels=None):
    """The derived values of a zone (see the zone_values filter's documentation)."""
    if not isinstance(zone_id, str) or not zone_id.strip():
        raise OptionError('the zone id must be a non-empty string, got %r' % (zone_id,))
    if tolerations and not all(isinstance(item, dict) for item in tolerations):
        raise OptionError('tolerations must be a list of dicts (key, operator, value, effect)')
    if node_labels is not None and not isinstance(node_labels, dict):
        raise OptionError('node_labels must be a dict of node label names to values')
    values = {}
    for path in (['global.affinity'] if affinity_paths is None else affinity_paths):
        set_path(values, path, zone_affinity(zone_id, node_label, node_labels))
    if tolerations:
        for path in (['global.tolerations'] if tolerations_paths is None else tolerations_paths):
            set_path(values, path, list(tolerations))
    if cloud_storage:
        if not isinstance(cloud_storage, dict):
            raise OptionError('cloud_storage must be a dict in the shape of global.cloudStorage')
        set_path(values, 'global.cloudStorage',
                 {key: value for key, value in cloud_storage.items() if key not in drop_storage_keys})
    for path, value in (extra or {}).items():
        set_path(values, path, value)
    return values
