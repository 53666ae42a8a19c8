#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: az_status
short_description: Read the state of a Kloudfuse az-service, optionally waiting for a state
version_added: 0.1.0
description:
  - Reads C(GET /status) of the Kloudfuse az-service of one availability zone and returns it normalised
    (state, zone, consumption, alert silencing, source zone, activation phase and progress) together with
    the raw body.
  - With O(wait_for), polls until the service reports one of the given states.
  - Never changes anything.
author:
  - kfuse.failover contributors (@kfuse)
options:
  wait_for:
    description:
      - State or list of states to wait for. Without it the status is read once.
      - While waiting, a V(failed) state that is not in the list ends the wait with a failure at once.
    type: list
    elements: str
    choices: [active, paused, standby, activating, failed]
  wait_timeout:
    default: 1800
  poll_interval:
    default: 5
extends_documentation_fragment:
  - kfuse.failover.az_service
  - kfuse.failover.wait.timing
  - kfuse.failover.attributes
  - kfuse.failover.attributes.info_module
  - kfuse.failover.attributes.az_service_group
'''

EXAMPLES = r'''
- name: Read the status of the az-service of AZ2 through the Kubernetes API
  kfuse.failover.az_status:
    context: az2
    namespace: kfuse
  register: az2

- name: Show rehydration progress
  ansible.builtin.debug:
    msg: "{{ az2.status.state }} {{ az2.status.progress.percent | default('?') }}%"

- name: Wait until AZ2 is active, through an existing port-forward
  kfuse.failover.az_status:
    url: https://localhost:8082
    ca_path: /etc/kfuse/az-ca.pem
    wait_for: active
    wait_timeout: 3600

# Your service answers {"health": {"mode": "PRIMARY", "from": "az1"}, "restore": {"n": 120, "of": 300}}:
# point the modules at its fields once, for every az module of the play.
- name: Fail over with a status shape the built-in rules do not read
  module_defaults:
    group/kfuse.failover.az_service:
      context: az2
      status_map:
        state: health.mode
        active: [PRIMARY]
        standby: [SECONDARY, COLD]
        activating: [CATCHING_UP]
        source_zone: health.from
        done: restore.n
        total: restore.of
  block:
    - name: Activate AZ2 from the backups of AZ1
      kfuse.failover.az_activate:
        zone: az1
'''

RETURN = r'''
status:
  description: Normalised status. Fields the body does not tell are null.
  returned: success, and on wait failures
  type: dict
  contains:
    state:
      description:
        - One of V(active), V(paused), V(standby), V(activating), V(failed), V(unknown), from the state word through
          the built-in table or O(status_map) (see O(status_map)). V(unknown) when the word is in neither.
      type: str
      sample: activating
    state_word:
      description: The state word exactly as the service wrote it; null when no state field was found.
      type: str
      sample: Rehydrating
    understood:
      description: Whether the state was understood (V(state) is not V(unknown)).
      type: bool
    zone:
      description: Zone id of this az-service.
      type: str
      sample: prod-az2
    consuming:
      description: Whether Pinot consumption is running.
      type: bool
    alerts_silenced:
      description: Whether alerts are silenced.
      type: bool
    source_zone:
      description: Zone whose backups were (or are being) restored.
      type: str
      sample: prod-az1
    phase:
      description: Activation phase as reported by the service (for example V(rehydrating)).
      type: str
    progress:
      description: Rehydration progress; C(percent) is derived from done/total when not reported.
      type: dict
      sample: {"done": 120, "total": 300, "percent": 40.0}
    error:
      description: Error reported by the service.
      type: str
  sample:
    state: activating
    state_word: activating
    understood: true
    zone: prod-az2
    consuming: false
    alerts_silenced: true
    source_zone: prod-az1
    phase: rehydrating
    progress: {"done": 120, "total": 300, "percent": 40.0}
    error: null
raw:
  description: Body of the last C(GET /status), as text.
  returned: success, and on wait failures
  type: str
json:
  description: Body of the last C(GET /status) parsed as JSON, null when it is not JSON.
  returned: success
  type: raw
progress:
  description: Samples seen while waiting, one per change (elapsed seconds, state, phase, done, total, percent, error).
  returned: when O(wait_for) is set
  type: list
  elements: dict
  sample: [{"elapsed": 0.0, "state": "activating", "phase": "restoring"}, {"elapsed": 12.5, "state": "active", "phase": "done"}]
elapsed:
  description: Seconds spent waiting.
  returned: when O(wait_for) is set
  type: float
  sample: 12.5
'''

from ansible_collections.kfuse.failover.plugins.module_utils._az_module import (
    AzServiceModule,
    state_choices,
    status_result,
    wait_argspec,
)


def main():
    argument_spec = {'wait_for': {'type': 'list', 'elements': 'str', 'choices': state_choices()}}
    argument_spec.update(wait_argspec(wait_timeout=1800, poll_interval=5.0, with_wait=False))
    module = AzServiceModule(argument_spec=argument_spec)
    wanted = module.params['wait_for']

    with module.connect() as client:
        if not wanted:
            status, response = module.read_status(client)
            module.exit_json(changed=False, **status_result(status, response))

        def failure(status):
            if status['state'] == 'failed' and 'failed' not in wanted:
                return 'the service reports state failed (%s)' % (status['error'] or 'no error detail')
            return None

        status, response, history, elapsed = module.wait_for(
            client, lambda status: status['state'] in wanted, 'state %s' % ' or '.join(wanted), failure=failure)
    module.exit_json(changed=False, progress=history, elapsed=elapsed, **status_result(status, response))


if __name__ == '__main__':
    main()
