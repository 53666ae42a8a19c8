# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The workload_readiness filter: are these Deployments / StatefulSets rolled out and ready, and what is seen."""

from __future__ import annotations

DOCUMENTATION = r'''
name: workload_readiness
short_description: Whether Deployments and StatefulSets are rolled out and ready, with a one-line summary
version_added: 0.1.0
author:
  - kfuse.failover contributors (@kfuse)
description:
  - Reads the C(resources) of M(kubernetes.core.k8s_info) for Deployments or StatefulSets.
  - A workload is ready when the controller has seen its latest spec (C(status.observedGeneration) >=
    C(metadata.generation)), and its ready, updated and current replicas all equal C(spec.replicas) (so an old
    replica still running counts as not rolled out).
  - Made for C(until) loops that wait for a release, and for the message that says what was last seen.
options:
  _input:
    description: Deployments or StatefulSets as dicts (the C(resources) list of M(kubernetes.core.k8s_info)).
    type: list
    elements: dict
    required: true
'''

EXAMPLES = r'''
- name: Wait for the Deployments of release kfuse
  kubernetes.core.k8s_info:
    kind: Deployment
    namespace: kfuse
    label_selector: app.kubernetes.io/instance=kfuse
  register: deployments
  until: (deployments.resources | kfuse.failover.workload_readiness).ready
  retries: 60
  delay: 5
'''

RETURN = r'''
_value:
  description:
    - C(ready) (bool; true for an empty list), C(total) and C(ready_count) (workloads), C(waiting) (names not ready)
      and C(summary), for example C(az-service 1/1, kfuse-configdb 0/1).
  type: dict
'''


def _ready(workload):
    spec, status, metadata = workload.get('spec') or {}, workload.get('status') or {}, workload.get('metadata') or {}
    wanted = spec.get('replicas', 1)
    observed = status.get('observedGeneration', 0) >= metadata.get('generation', 0)
    counts = [status.get(key) or 0 for key in ('readyReplicas', 'updatedReplicas', 'replicas')]
    return observed and all(count == wanted for count in counts)


def workload_readiness(workloads):
    """{ready, total, ready_count, waiting, summary} for a list of Deployments/StatefulSets."""
    workloads = workloads or []
    parts, waiting, replicas = [], [], 0
    for workload in workloads:
        name = (workload.get('metadata') or {}).get('name', '?')
        ready_replicas = (workload.get('status') or {}).get('readyReplicas') or 0
        replicas += ready_replicas
        parts.append('%s %s/%s' % (name, ready_replicas, (workload.get('spec') or {}).get('replicas', 1)))
        if not _ready(workload):
            waiting.append(name)
    return {'ready': not waiting, 'total': len(workloads), 'ready_count': len(workloads) - len(waiting),
            'ready_replicas': replicas, 'waiting': waiting, 'summary': ', '.join(parts) if parts else 'none found'}


class FilterModule:
    """kfuse.failover filters."""

    def filters(self):
        return {'workload_readiness': workload_readiness}
