#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: az_activate
short_description: Activate a Kloudfuse availability zone from another zone's backups
version_added: 0.1.0
description:
  - Calls C(POST /activate) on the az-service of the zone you fail over to. The service restores C(configdb) and
    C(orchestratordb) from the cloud-storage backups of zone O(zone), rehydrates the missing Pinot segments and
    resumes consumption. Alerts stay silenced until M(kfuse.failover.az_resume).
  - Reads C(GET /status) first and decides from it.
    Active having restored O(zone) - not changed.
    Activating from O(zone) - not changed, only waits.
    Active or activating from another (or an unnamed) source zone - fails unless O(force=true).
    Otherwise (standby, paused, failed, unknown) - sends C(POST /activate) and, with O(wait=true), waits until the
    service reports V(active) with O(zone) as its source zone, failing with the last status if it reports
    V(failed), if it reports V(active) without naming a source zone (unless O(accept_missing_source_zone=true)),
    if its status cannot be understood (see O(status_map)), or if the wait times out.
  - A lost answer to C(POST /activate) is never blindly re-sent; see O(retries).
author:
  - kfuse.failover contributors (@kfuse)
options:
  zone:
    description:
      - Zone id of the source backup, the C(az-service.config.zone) of the zone you fail away from.
    type: str
    required: true
  latest_time:
    description:
      - Restore C(configdb) and C(orchestratordb) from the newest dumps not newer than this point in time.
      - Accepted forms are ISO-8601/RFC 3339 date-times such as V(2026-11-21T10:00:00Z), V(2026-11-21T12:00:00+02:00)
        or V(2026-11-21 10:00) (no offset means UTC), a date (midnight UTC), or epoch seconds or milliseconds as a
        number or numeric string (values from 1e11 up are milliseconds).
      - Sent in the form chosen by O(latest_time_format). A point more than 5 minutes in the future is refused.
    type: str
  latest_time_format:
    description:
      - Wire form of O(latest_time). V(rfc3339) is C(YYYY-MM-DDTHH:MM:SSZ) in UTC, V(epoch) is seconds, V(epoch_ms)
        milliseconds since 1970.
    type: str
    choices: [rfc3339, epoch, epoch_ms]
    default: rfc3339
  source_namespace:
    description:
      - Kubernetes namespace of the source zone's Kloudfuse. When given, the service pauses the source itself before
        restoring.
    type: str
  source_force:
    description:
      - Passed through to the source zone's pause call when O(source_namespace) is set (skips its Kafka flush check).
    type: bool
  batch_size:
    description:
      - Number of Pinot segments rehydrated per batch, from 1 to 10000. Defaults to the service configuration.
    type: int
  extra_params:
    description:
      - Extra query parameters sent verbatim with C(POST /activate), for flags this collection does not name.
        They win over the parameters built from the options above; a null value removes a parameter.
      - Values are strings, numbers or booleans; nested dicts and lists are refused.
      - C(zone), C(latestTime) and C(batchSize) cannot be set here; use O(zone), O(latest_time) and O(batch_size),
        which are checked before anything is sent.
      - The wire names of O(source_namespace) and O(source_force) (C(sourceNamespace), C(sourceForce)) are not
        confirmed by the vendor; send your service's names here if they differ (a null value removes ours).
    type: dict
  force:
    description:
      - Activate even when the target reports it is already active or activating from another or an unnamed source
        zone. This overwrites the target's databases.
      - Not sent to the service; see O(source_force) and O(extra_params) for the service's own flags.
    type: bool
    default: false
  accept_missing_source_zone:
    description:
      - Count an V(active) status as the requested activation when the status carries no source-zone field at all.
      - Off by default, because such a status cannot show which zone was restored. Prefer pointing
        O(status_map.source_zone) at the field your service uses; set this only for a service that never names it.
    type: bool
    default: false
    version_added: 0.1.0
  wait_timeout:
    default: 1800
  poll_interval:
    default: 5
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
      - Reads C(/status) and reports whether an activation would be sent, with its parameters; sends no C(POST).
  diff_mode:
    support: full
    details:
      - Shows state and source zone before and after (expected, in check mode).
'''

EXAMPLES = r'''
- name: Activate AZ2 from AZ1's backups and wait for rehydration
  kfuse.failover.az_activate:
    context: az2
    zone: prod-az1
    wait_timeout: 3600
  register: activation

- name: Restore to a point in time, with a flag the collection does not name
  kfuse.failover.az_activate:
    url: https://localhost:8082
    ca_path: /etc/kfuse/az-ca.pem
    zone: prod-az1
    latest_time: "2026-11-21 10:00"
    batch_size: 25
    extra_params:
      skipResume: true

- name: Start the activation and return at once
  kfuse.failover.az_activate:
    context: az2
    zone: prod-az1
    wait: false
'''

RETURN = r'''
status:
  description: Normalised status after the call (see M(kfuse.failover.az_status) for the fields).
  returned: always
  type: dict
  sample: {"state": "active", "zone": "prod-az2", "consuming": true, "alerts_silenced": true, "source_zone": "prod-az1",
           "phase": "done", "progress": {"done": 300, "total": 300, "percent": 100.0}, "error": null}
raw:
  description: Body of the last C(GET /status), as text.
  returned: always
  type: str
json:
  description: Body of the last C(GET /status) parsed as JSON, null when it is not JSON.
  returned: always
  type: raw
params:
  description: Query parameters of C(POST /activate) (sent, or that would be sent in check mode).
  returned: changed
  type: dict
  sample: {"zone": "prod-az1", "latestTime": "2026-11-21T10:00:00Z", "batchSize": "25"}
response:
  description:
    - Answer to C(POST /activate) (HTTP status, body, attempts).
    - C(accepted_by_status) is true when the answer was lost and the activation was confirmed on C(/status) instead.
  returned: when the POST was sent
  type: dict
  sample: {"status": 202, "body": "{\"state\": \"activating\"}", "attempts": 1, "accepted_by_status": false}
progress:
  description: Status samples seen while waiting, one per change (elapsed seconds, state, phase, done, total, percent).
  returned: when the module waited
  type: list
  elements: dict
  sample: [{"elapsed": 0.0, "state": "activating", "phase": "restoring", "done": null, "total": null, "percent": null},
           {"elapsed": 4.2, "state": "activating", "phase": "rehydrating", "done": 100, "total": 300, "percent": 33.3}]
elapsed:
  description: Seconds spent waiting.
  returned: when the module waited
  type: float
  sample: 42.0
'''

from ansible_collections.kfuse.failover.plugins.module_utils._az_module import AzServiceModule, status_result, wait_argspec
from ansible_collections.kfuse.failover.plugins.module_utils._az_wire import VALIDATED_ACTIVATE_NAMES, build_activate_params
from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import TIME_FORMATS, format_time, parse_time, utcnow
from ansible_collections.kfuse.failover.plugins.module_utils.errors import AzServiceError, KfuseError, OptionError


MAX_BATCH_SIZE = 10000
CLOCK_SKEW = 300  # seconds a latest_time may be ahead of this machine's clock


def said(status):
    """What the status said about the target, for messages: its state word, zone and source zone fields."""
    return 'state %s (the service said %r), zone %s, source zone %s' % (
        status['state'], status.get('state_word'), status['zone'] or '(no zone field)',
        status['source_zone'] or '(no source-zone field)')


def activated_from(status, zone, accept_missing_source_zone):
    """True when the status shows the target active on the data of ``zone``.

    A status without a source-zone field proves nothing about which zone was restored; it only counts when the
    operator set accept_missing_source_zone.
    """
    if status['state'] != 'active':
        return False
    if status['source_zone'] is None:
        return accept_missing_source_zone
    return status['source_zone'] == zone


def decide(status, zone, force, accept_missing_source_zone=False):
    """'done', 'wait' or 'activate' for the current status, or ('refuse', reason)."""
    state, source = status['state'], status['source_zone']
    if activated_from(status, zone, accept_missing_source_zone):
        return 'done', None
    if state == 'activating' and source == zone:
        return 'wait', None
    if state in ('active', 'activating') and not force:
        return 'refuse', ('the target az-service is already %s and not from zone %s: its status says %s; set '
                          'force=true to activate anyway (this overwrites its databases)%s'
                          % (state, zone, said(status), '' if source else
                             ', or accept_missing_source_zone=true when your service never names the source zone'))
    return 'activate', None


def failure_check(previous_state, zone=None, accept_missing_source_zone=False):
    """Failure predicate for the wait. After re-activating a failed target, its old 'failed' state may still be
    reported for a moment, so 'failed' only counts once another state has been seen. An 'active' status that names
    no source zone fails at once (unless accepted): it can never prove the activation asked for."""
    seen = {'moved': previous_state != 'failed'}

    def failure(status):
        if status['state'] == 'active' and status['source_zone'] is None and not accept_missing_source_zone:
            return ('the az-service reports active but its status names no source zone (%s), so it cannot show that '
                    'zone %s was restored; set status_map.source_zone to the field that names it, or '
                    'accept_missing_source_zone=true' % (said(status), zone))
        if status['state'] != 'failed':
            seen['moved'] = True
            return None
        if not seen['moved']:
            return None
        return 'activation failed: %s' % (status['error'] or 'the service reports state failed without detail')
    return failure


def check_options(p):
    """(zone, latest_time on the wire) of the module's options; OptionError naming the option before any request."""
    zone = (p['zone'] or '').strip()
    if not zone:
        raise OptionError('zone must be a non-empty zone id (the az-service.config.zone of the source zone)')
    if p['batch_size'] is not None and not 0 < p['batch_size'] <= MAX_BATCH_SIZE:
        raise OptionError('batch_size must be a positive integer up to %d, got %s' % (MAX_BATCH_SIZE, p['batch_size']))
    if p['source_namespace'] is not None and not p['source_namespace'].strip():
        raise OptionError('source_namespace must not be empty when given')
    latest_time = None
    if p['latest_time'] is not None:
        moment = parse_time(p['latest_time'], 'latest_time')
        if (moment - utcnow()).total_seconds() > CLOCK_SKEW:
            raise OptionError('latest_time: %s is in the future; give a past point in time (the newest dumps not '
                              'newer than it are restored)' % format_time(moment))
        latest_time = format_time(moment, p['latest_time_format'])
    return zone, latest_time


def main():
    argument_spec = {
        'zone': {'type': 'str', 'required': True},
        'latest_time': {'type': 'str'},
        'latest_time_format': {'type': 'str', 'choices': list(TIME_FORMATS), 'default': 'rfc3339'},
        'source_namespace': {'type': 'str'},
        'source_force': {'type': 'bool'},
        'batch_size': {'type': 'int'},
        'extra_params': {'type': 'dict'},
        'force': {'type': 'bool', 'default': False},
        'accept_missing_source_zone': {'type': 'bool', 'default': False},
    }
    argument_spec.update(wait_argspec(wait_timeout=1800, poll_interval=5.0))
    module = AzServiceModule(argument_spec=argument_spec, validated_wire_names=VALIDATED_ACTIVATE_NAMES)
    p = module.params

    try:
        zone, latest_time = check_options(p)
    except KfuseError as exc:
        module.fail_from_exception(exc)
    params = build_activate_params({'zone': zone, 'latest_time': latest_time, 'source_namespace': p['source_namespace'],
                                    'source_force': p['source_force'], 'batch_size': p['batch_size']}, p['extra_params'])

    with module.connect() as client:
        status, response = module.read_status(client)
        action, reason = decide(status, zone, p['force'], p['accept_missing_source_zone'])
        if action == 'refuse':
            module.fail_from_exception(OptionError(reason, **status_result(status, response)))
        result = {'changed': action == 'activate'}
        # Check mode does not sit through a running activation.
        if action == 'done' or (action == 'wait' and (not p['wait'] or module.check_mode)):
            module.exit_json(**dict(result, **status_result(status, response)))
        if action == 'activate':
            result['params'] = params
            if module._diff:
                result['diff'] = {'before': {'state': status['state'], 'source_zone': status['source_zone']},
                                  'after': {'state': 'active', 'source_zone': zone}}
            if module.check_mode:
                module.exit_json(**dict(result, **status_result(status, response)))
            try:
                answer = client.activate(zone, params)
            except AzServiceError as exc:
                module.fail_from_exception(exc, params=params)
            result['response'] = answer.as_dict()
        if p['wait']:
            accept = p['accept_missing_source_zone']
            status, response, result['progress'], result['elapsed'] = module.wait_for(
                client, lambda st: activated_from(st, zone, accept), 'activation from zone %s' % zone,
                failure=failure_check(status['state'], zone, accept))
        else:
            status, response = module.read_status(client)
    module.exit_json(**dict(result, **status_result(status, response)))


if __name__ == '__main__':
    main()
