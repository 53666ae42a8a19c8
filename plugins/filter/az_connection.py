# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The az_connection filter: the az_service module options of a zone, from its host vars."""

from __future__ import annotations

DOCUMENTATION = r'''
name: az_connection
short_description: Options that reach a zone's az-service, from the zone's host vars
version_added: 0.1.0
author:
  - kfuse.failover contributors (@kfuse)
description:
  - Turns a zone's C(kfuse_az_service) and C(kfuse_kube) host vars (see the README's inventory model) into the
    connection options of the C(kfuse.failover.az_service) action group, for C(module_defaults) or a task.
  - C(reach) (default V(url) when C(url) is set, V(kube) otherwise) chooses between calling C(url) directly and a
    port-forward through the Kubernetes API to the az-service Service (C(kubeconfig), C(context), C(namespace)
    from C(kfuse_kube); C(service), C(port) from C(kfuse_az_service)).
  - C(ca_path), C(validate_certs), C(token) and C(status_map) are passed on when set. Unset options are left out.
options:
  _input:
    description: The zone's C(kfuse_az_service) dict.
    type: dict
    required: true
  kube:
    description: The zone's C(kfuse_kube) dict (C(kubeconfig), C(context), C(namespace)).
    type: dict
'''

EXAMPLES = r'''
- name: Read az2's status with az2's own connection
  kfuse.failover.az_status:
  module_defaults:
    group/kfuse.failover.az_service: "{{ hostvars['az2'].kfuse_az_service | kfuse.failover.az_connection(hostvars['az2'].kfuse_kube) }}"

- name: Every az-service task of a play reaches the play host's zone
  hosts: kfuse_zones
  module_defaults:
    group/kfuse.failover.az_service: "{{ kfuse_az_service | kfuse.failover.az_connection(kfuse_kube) }}"
  tasks:
    - name: Status
      kfuse.failover.az_status:
'''

RETURN = r'''
_value:
  description: The options, only those set.
  type: dict
'''

from ansible.errors import AnsibleFilterError

REACHES = ('url', 'kube')
PASSED_ON = ('ca_path', 'validate_certs', 'token', 'status_map')


def az_connection(az_service, kube=None):
    """The az_service options for ``az_service`` (kfuse_az_service) and ``kube`` (kfuse_kube)."""
    if not isinstance(az_service, dict):
        raise AnsibleFilterError('az_connection: kfuse_az_service must be a dict, got %s' % type(az_service).__name__)
    kube = kube or {}
    reach = az_service.get('reach') or ('url' if az_service.get('url') else 'kube')
    if reach not in REACHES:
        raise AnsibleFilterError('az_connection: reach must be one of %s, got %r' % (', '.join(REACHES), reach))
    if reach == 'url':
        if not az_service.get('url'):
            raise AnsibleFilterError('az_connection: reach url needs kfuse_az_service.url')
        options = {'url': az_service['url']}
    else:
        options = {'kubeconfig': kube.get('kubeconfig'), 'context': kube.get('context'),
                   'namespace': kube.get('namespace'), 'service': az_service.get('service'),
                   'service_port': az_service.get('port')}
    options.update({key: az_service.get(key) for key in PASSED_ON})
    return {key: value for key, value in options.items() if value is not None}


class FilterModule:
    """kfuse.failover filters."""

    def filters(self):
        return {'az_connection': az_connection}
