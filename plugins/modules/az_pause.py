#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: az_pause
short_description: Pause a Kloudfuse availability zone through its az-service
version_added: 0.1.0
description:
  - Silences alerts and pauses Pinot consumption of the Kloudfuse deployment of one availability zone by calling
    C(POST /pause) on its az-service. Use it on the zone you fail away from.
  - Reads C(GET /status) first; a zone that is already V(paused) or V(standby) is left alone (not changed).
  - The service first checks that in-flight data has been flushed to Kafka. When it refuses the pause because of
    that check (recognised by its own words, Kafka, flush or consumption, whatever HTTP status it answers with,
    or a bare HTTP 409) the module fails, quotes the service and names O(force=true).
author:
  - kfuse.failover contributors (@kfuse)
options:
  force:
    description:
      - Skip the Kafka flush check (C(force=true) on the wire), for example when the zone is unreachable or broken.
      - Data not yet flushed may be lost.
    type: bool
    default: false
  extra_params:
    description:
      - Extra query parameters sent verbatim with C(POST /pause); they win over O(force). A null value removes
        a parameter.
      - Values are strings, numbers or booleans; nested dicts and lists are refused.
    type: dict
  wait_timeout:
    default: 600
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
      - Reads C(/status) and reports whether a pause would be sent; sends no C(POST).
  diff_mode:
    support: full
    details:
      - Shows the state and alert silencing before and after (expected, in check mode).
'''

EXAMPLES = r'''
- name: Pause AZ1 through the Kubernetes API (no port-forward terminal needed)
  kfuse.failover.az_pause:
    context: az1
    namespace: kfuse

- name: Pause AZ1 even though Kafka cannot be flushed (zone is broken)
  kfuse.failover.az_pause:
    url: https://localhost:8081
    ca_path: /etc/kfuse/az-ca.pem
    force: true
    wait_timeout: 120
'''

RETURN = r'''
status:
  description: Normalised status after the call (see M(kfuse.failover.az_status) for the fields).
  returned: always
  type: dict
  sample: {"state": "paused", "zone": "prod-az1", "consuming": false, "alerts_silenced": true, "source_zone": null,
           "phase": null, "progress": {"done": null, "total": null, "percent": null}, "error": null}
raw:
  description: Body of the last C(GET /status), as text.
  returned: always
  type: str
json:
  description: Body of the last C(GET /status) parsed as JSON, null when it is not JSON.
  returned: always
  type: raw
response:
  description: Answer to C(POST /pause) (HTTP status, body, attempts).
  returned: changed and not check mode
  type: dict
  sample: {"status": 200, "body": "{\"state\": \"paused\"}", "attempts": 1, "accepted_by_status": false}
params:
  description: Query parameters of C(POST /pause) (sent, or that would be sent in check mode).
  returned: changed
  type: dict
  sample: {"force": "true"}
progress:
  description: Status samples seen while waiting, one per change.
  returned: when the module waited
  type: list
  elements: dict
elapsed:
  description: Seconds spent waiting.
  returned: when the module waited
  type: float
'''

import re

from ansible_collections.kfuse.failover.plugins.module_utils._az_module import AzServiceModule, status_result, wait_argspec
from ansible_collections.kfuse.failover.plugins.module_utils._az_wire import build_pause_params
from ansible_collections.kfuse.failover.plugins.module_utils.errors import AzServiceError

PAUSED_STATES = ('paused', 'standby')
FLUSH_CHECK_WORDS = re.compile(r'kafka|flush|consum', re.IGNORECASE)


def flush_check_refusal(error, force):
    """The operator's message when the service refused to pause because of its Kafka flush check, else None.

    Recognised by the service's own words (Kafka, flush, consumption), whatever status code it uses (4xx or 5xx);
    a bare 409 counts too, as the documented answer of the check.
    """
    if force or error.status is None or error.status < 400:
        return None
    words = ' '.join(str(part) for part in (error.body, error.message) if part)
    if not FLUSH_CHECK_WORDS.search(words) and error.status != 409:
        return None
    return ('the az-service refused to pause because its Kafka flush check did not pass (HTTP %s); fix the zone, or '
            'set force=true to pause without the check (data not yet flushed may be lost). The service said'
            % error.status)


def is_paused(status):
    """Paused or standby; a shape without a state but with consumption stopped counts too."""
    return status['state'] in PAUSED_STATES or (status['state'] == 'unknown' and status['consuming'] is False)


def main():
    argument_spec = {
        'force': {'type': 'bool', 'default': False},
        'extra_params': {'type': 'dict'},
    }
    argument_spec.update(wait_argspec(wait_timeout=600, poll_interval=2.0))
    module = AzServiceModule(argument_spec=argument_spec)
    params = build_pause_params(module.params['force'], module.params['extra_params'])

    with module.connect() as client:
        status, response = module.read_status(client)
        if is_paused(status):
            module.exit_json(changed=False, **status_result(status, response))

        result = {'changed': True, 'params': params}
        if module._diff:
            result['diff'] = {'before': {'state': status['state'], 'alerts_silenced': status['alerts_silenced']},
                              'after': {'state': 'paused', 'alerts_silenced': True}}
        if module.check_mode:
            module.exit_json(**dict(result, **status_result(status, response)))

        try:
            result['response'] = client.pause(params).as_dict()
        except AzServiceError as exc:
            refusal = flush_check_refusal(exc, module.params['force'])
            if refusal:
                module.fail_from_exception(exc, msg=refusal)
            module.fail_from_exception(exc)

        if module.params['wait']:
            status, response, result['progress'], result['elapsed'] = module.wait_for(
                client, is_paused, 'state paused',
                failure=lambda st: 'the service reports state failed' if st['state'] == 'failed' else None)
        else:
            status, response = module.read_status(client)
    module.exit_json(**dict(result, **status_result(status, response)))


if __name__ == '__main__':
    main()
