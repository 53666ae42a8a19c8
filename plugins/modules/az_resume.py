#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: az_resume
short_description: Resume (unsilence) alerts of a Kloudfuse availability zone
version_added: 0.1.0
description:
  - Calls C(POST /resume) on the az-service of a zone, which unsilences its alerts. Use it on the zone you failed
    over to, once activation is complete and you have checked that the cluster is healthy.
  - Reads C(GET /status) first. When the status says alerts are not silenced, nothing is sent (not changed).
    When the status body does not tell whether alerts are silenced, the module resumes anyway and reports changed.
  - With O(wait=true) the module then polls C(/status) until it reports alerts not silenced (when the status body
    does not tell, it returns right after the call).
  - The module does not check the zone's state; pair it with M(kfuse.failover.az_status) and O(kfuse.failover.az_status#module:wait_for=active)
    if you want that.
author:
  - kfuse.failover contributors (@kfuse)
options:
  extra_params:
    description:
      - Extra query parameters sent verbatim with C(POST /resume). A null value removes a parameter.
      - Values are strings, numbers or booleans; nested dicts and lists are refused.
    type: dict
  wait_timeout:
    default: 300
  poll_interval:
    default: 2
extends_documentation_fragment:
  - kfuse.failover.az_service
  - kfuse.failover.wait
  - kfuse.failover.wait.timing
  - kfuse.failover.attributes
  - kfuse.failover.attributes.az_service_group
attributes:
  check_mode:
    support: full
    details:
      - Reads C(/status) and reports whether a resume would be sent; sends no C(POST).
  diff_mode:
    support: full
    details:
      - Shows alert silencing before and after (expected, in check mode).
'''

EXAMPLES = r'''
- name: Make sure AZ2 is active, then unsilence its alerts
  kfuse.failover.az_status:
    context: az2
    wait_for: active

- name: Resume alerts on AZ2
  kfuse.failover.az_resume:
    context: az2
'''

RETURN = r'''
status:
  description: Normalised status after the call (see M(kfuse.failover.az_status) for the fields).
  returned: always
  type: dict
  sample: {"state": "active", "zone": "prod-az2", "consuming": true, "alerts_silenced": false, "source_zone": "prod-az1",
           "phase": "done", "progress": {"done": 300, "total": 300, "percent": 100.0}, "error": null}
raw:
  description: Body of the last C(GET /status), as text.
  returned: always
  type: str
json:
  description: Body of the last C(GET /status) parsed as JSON, null when it is not JSON.
  returned: always
  type: raw
response:
  description: Answer to C(POST /resume) (HTTP status, body, attempts).
  returned: changed and not check mode
  type: dict
  sample: {"status": 200, "body": "{}", "attempts": 1, "accepted_by_status": false}
progress:
  description: Status samples seen while waiting, one per change.
  returned: when the module waited
  type: list
  elements: dict
elapsed:
  description: Seconds spent waiting.
  returned: when the module waited
  type: float
alerts_state_known:
  description: Whether the status body told if alerts were silenced before the call.
  returned: always
  type: bool
'''

from ansible_collections.kfuse.failover.plugins.module_utils._az_module import AzServiceModule, status_result, wait_argspec
from ansible_collections.kfuse.failover.plugins.module_utils._az_wire import merge_extra_params
from ansible_collections.kfuse.failover.plugins.module_utils.errors import AzServiceError


def main():
    argument_spec = {'extra_params': {'type': 'dict'}}
    argument_spec.update(wait_argspec(wait_timeout=300, poll_interval=2.0))
    module = AzServiceModule(argument_spec=argument_spec)
    params = merge_extra_params({}, module.params['extra_params'])

    with module.connect() as client:
        status, response = module.read_status(client)
        silenced = status['alerts_silenced']
        result = {'alerts_state_known': silenced is not None}
        if silenced is False:
            module.exit_json(changed=False, **dict(result, **status_result(status, response)))

        result['changed'] = True
        if silenced is None:
            module.warn('the az-service status does not say whether alerts are silenced; resuming anyway')
        if module._diff:
            result['diff'] = {'before': {'alerts_silenced': silenced}, 'after': {'alerts_silenced': False}}
        if module.check_mode:
            module.exit_json(**dict(result, **status_result(status, response)))
        try:
            result['response'] = client.resume(params).as_dict()
        except AzServiceError as exc:
            module.fail_from_exception(exc)
        status, response = module.read_status(client)
        if module.params['wait'] and status['alerts_silenced'] is True:
            status, response, result['progress'], result['elapsed'] = module.wait_for(
                client, lambda st: st['alerts_silenced'] is not True, 'alerts to be unsilenced')
    module.exit_json(**dict(result, **status_result(status, response)))


if __name__ == '__main__':
    main()
