# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rto_prediction filter: how long a failover would take now, from the step times the journal recorded."""

from __future__ import annotations

DOCUMENTATION = r'''
name: rto_prediction
short_description: Predict a failover's RTO from the journal's earlier runs and the segments the target lacks
version_added: 0.1.0
author:
  - kfuse.failover contributors (@kfuse)
description:
  - Input - run records of the journal (M(kfuse.failover.journal) C(action=read) with C(run_id), its RV(kfuse.failover.journal#module:run)).
    Runs that did not succeed, and operations other than V(failover) and V(failback), are left out.
  - Each step's time is its C(finished) less its C(started) (the previous checkpoint). The prediction takes, per step,
    the median over the runs - C(secrets), C(backup) (the source's config backup, collected while the nodes boot;
    absent from emergency runs), C(node_group) and C(kloudfuse) (preparing the target), C(pause), C(activate),
    C(ingress). The checkpoints follow each other, so their sum is the time from the run lock to the traffic switch.
  - The activation is predicted from the rehydration rate seen in those runs (segments rehydrated, the C(activate)
    checkpoint's C(progress.total), over its time) times the segments the target lacks now, when both are known;
    else it is the median of the activations seen.
  - Without any usable run, every number is null and C(note) says why.
options:
  _input:
    description: Run records of the journal, newest first or in any order.
    type: list
    elements: dict
    required: true
  segments_missing:
    description: Pinot segments the target lacks now (the source's count less the target's); null when unknown.
    type: int
  runs:
    description: How many of the newest succeeded runs to use.
    type: int
    default: 5
'''

EXAMPLES = r'''
- name: Predict the RTO from the journal's last runs
  ansible.builtin.set_fact:
    rto: "{{ journal_runs | kfuse.failover.rto_prediction(segments_missing=source_count - target_count) }}"
'''

RETURN = r'''
_value:
  description:
    - C(traffic_seconds) (start of the preparation to traffic on the target, the checkpointed steps only; the
      preflight adds its own seconds), C(steps) (step -> predicted seconds), C(rehydration_rate) (segments per
      second, or null), C(segments_missing), C(based_on) (run ids) and C(note).
  type: dict
'''

import statistics
from datetime import datetime

from ansible.errors import AnsibleFilterError

PREDICTED_STEPS = ('secrets', 'backup', 'node_group', 'kloudfuse', 'pause', 'activate', 'ingress')
# Not in every run (emergency runs take no backup of the source): no note when never seen.
OPTIONAL_STEPS = ('backup',)
OPERATIONS = ('failover', 'failback')


def _moment(text):
    return datetime.fromisoformat(str(text).replace('Z', '+00:00'))


def _step_seconds(step):
    try:
        return max(0.0, (_moment(step['finished']) - _moment(step['started'])).total_seconds())
    except (KeyError, TypeError, ValueError):
        return None


def _rate(step, seconds):
    """Segments per second of one activation: the segments it rehydrated over its time."""
    progress = ((step.get('detail') or {}).get('progress') or {})
    total = progress.get('total') or progress.get('done')
    try:
        total = float(total)
    except (TypeError, ValueError):
        return None
    return total / seconds if total > 0 and seconds else None


def rto_prediction(records, segments_missing=None, runs=5):
    """The predicted RTO (see DOCUMENTATION)."""
    if not isinstance(records, list) or not all(isinstance(run, dict) for run in records):
        raise AnsibleFilterError('rto_prediction expects a list of journal run records (dicts)')
    usable = [run for run in records if run.get('outcome') == 'succeeded' and run.get('operation') in OPERATIONS]
    usable.sort(key=lambda run: str(run.get('started') or ''), reverse=True)
    usable = usable[:max(1, int(runs))]
    seen, rates = {}, []
    for run in usable:
        for step in run.get('steps') or []:
            seconds = _step_seconds(step)
            if step.get('name') not in PREDICTED_STEPS or step.get('status') != 'done' or seconds is None:
                continue
            seen.setdefault(step['name'], []).append(seconds)
            if step['name'] == 'activate':
                rate = _rate(step, seconds)
                if rate:
                    rates.append(rate)
    result = {'traffic_seconds': None, 'steps': {}, 'rehydration_rate': None,
              'segments_missing': segments_missing, 'based_on': [run.get('run_id') for run in usable], 'note': None}
    if not seen:
        result['note'] = ('no succeeded failover or failback in the journal yet: run a drill or a failover to '
                          'measure the steps' if not usable else 'the runs in the journal recorded no step times')
        return result
    steps = {name: round(statistics.median(values), 1) for name, values in seen.items()}
    if rates:
        result['rehydration_rate'] = round(statistics.median(rates), 2)
    if rates and segments_missing is not None:
        steps['activate'] = round(max(0, int(segments_missing)) / result['rehydration_rate'], 1)
    result['steps'] = steps
    result['traffic_seconds'] = round(sum(steps.values()), 1)
    missing = [name for name in PREDICTED_STEPS if name not in steps and name not in OPTIONAL_STEPS]
    result['note'] = 'median of %d run(s)%s%s' % (
        len(usable),
        '; activation from %s missing segments at %s segments/s' % (segments_missing, result['rehydration_rate'])
        if rates and segments_missing is not None else '',
        '; no time seen for ' + ', '.join(missing) if missing else '')
    return result


class FilterModule:
    def filters(self):
        return {'rto_prediction': rto_prediction}
