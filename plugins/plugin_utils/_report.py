# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run report of the failover_report callback, as pure functions: no Ansible objects, no clock, no files.

Private to the collection. The callback turns Ansible's events into plain task records (dicts) and calls these:

- ``step_of``: the step of a task (``"Preflight | Check the inputs"`` -> ``Preflight``; a name without `` | ``
  belongs to its play).
- ``group_steps`` and ``assign_lanes``: tasks -> steps (per play, host and step name; a step spans its first task's
  start to its last task's end) -> lanes (one or more per host; steps of one host that overlap in time, such as a
  background node-group scale and a Helm rollout, get lanes of their own).
- ``compute_rto`` and ``compute_rpo``: the recovery time (run start -> traffic on the target, and -> rehydration
  done) and the recovery point (newest restored backup vs the run start).
- ``progress_of``, ``eta_seconds`` and ``progress_line``: the live line printed for each retry of an ``until`` loop
  (``az2 rehydrating 120/300 (40 %), ETA 35 s``).
- ``build_report``: the JSON record (``_report_html.render_html`` draws it).

Task records are dicts with ``id``, ``host``, ``play``, ``play_index``, ``name``, ``step``, ``action``, ``start``
and ``end`` (epoch seconds), ``status`` (ok, changed, failed, skipped, unreachable), ``ignored`` and ``rescued``
(a failure that ``ignore_errors`` or a block's ``rescue`` took care of), ``skip_reason``, ``attempts``,
``retries_seen``, ``async`` and ``msg``.
"""

from __future__ import annotations

import math

from ansible_collections.kfuse.failover.plugins.filter.workload_readiness import workload_readiness

SCHEMA_VERSION = 1
RESULTS = ('failed', 'unreachable', 'rescued', 'changed', 'ok', 'skipped')  # worst first
INGRESS_STEP = 'ingress'
ACTIVATE_ACTIONS = ('kfuse.failover.az_activate', 'az_activate')
ACTIVATE_STEP = 'activate'
STATUS_ACTIONS = ('kfuse.failover.az_status', 'az_status')


REPORT_FACT_PREFIX = 'kfuse_report_'
ETA_WINDOW = 6  # progress samples the rate is taken over (the newest ones)
_EPSILON = 1e-6


def is_activation(action, step):
    """An az_activate task, or an az_status task of step Activate (the playbooks start the activation and follow
    the rehydration with an az_status until loop, so that each look is a retry with a progress line)."""
    return action in ACTIVATE_ACTIONS or (action in STATUS_ACTIONS and str(step or '').lower() == ACTIVATE_STEP)


# ---- tasks and steps ----------------------------------------------------------------------------------------------

def step_of(task_name, play_name=''):
    """The step a task belongs to: its name up to `` | ``, or the play's name when the task name has none."""
    name = str(task_name or '').strip()
    if ' | ' in name:
        head = name.split(' | ', 1)[0].strip()
        if head:
            return head
    return str(play_name or '').strip() or name or 'tasks'


def is_failure(task):
    """A failed or unreachable task that nothing took care of (not ignored, not rescued)."""
    if task.get('status') == 'unreachable':
        return not task.get('ignored')
    return task.get('status') == 'failed' and not task.get('ignored') and not task.get('rescued')


def task_result(task):
    """The result word of one task as the report colours it."""
    status = task.get('status') or 'ok'
    if status == 'failed' and (task.get('ignored') or task.get('rescued')):
        return 'rescued'
    if status == 'unreachable' and task.get('ignored'):
        return 'rescued'
    return status if status in RESULTS else 'ok'


def step_result(tasks):
    """The result of a step: the worst of its tasks (failed > unreachable > rescued > changed > ok); skipped only
    when every task was skipped."""
    results = [task_result(task) for task in tasks]
    if not results:
        return 'skipped'
    for word in ('failed', 'unreachable', 'rescued', 'changed'):
        if word in results:
            return word
    if all(result == 'skipped' for result in results):
        return 'skipped'
    return 'ok'


def group_steps(tasks):
    """Steps of finished task records: one per (play, host, step name), in the order they started.

    A step spans the start of its first task to the end of its last one, so a job started in the background
    (``async`` with ``poll: 0``) and collected later in the same step covers the whole wait.
    """
    steps, index = [], {}
    for task in tasks:
        key = (task.get('play_index', 0), task.get('host', ''), task.get('step', ''))
        step = index.get(key)
        if step is None:
            step = index[key] = {'name': task.get('step', ''), 'host': task.get('host', ''),
                                 'play': task.get('play', ''), 'play_index': task.get('play_index', 0),
                                 'start': task['start'], 'end': task['end'], 'tasks': []}
            steps.append(step)
        step['start'] = min(step['start'], task['start'])
        step['end'] = max(step['end'], task['end'])
        step['tasks'].append(task)
    for step in steps:
        step['duration'] = max(0.0, step['end'] - step['start'])
        step['result'] = step_result(step['tasks'])
        counts = {}
        for task in step['tasks']:
            word = task_result(task)
            counts[word] = counts.get(word, 0) + 1
        step['counts'] = counts
    steps.sort(key=lambda step: (step['start'], step['end']))
    return steps


def assign_lanes(steps):
    """Put each step in a lane and return the lanes, ``[{index, host, label}]``.

    Every host has its own lanes (steps of different hosts run side by side); within a host a step goes to the first
    lane whose last step has ended by the time it starts, so overlapping steps of one host are drawn one above the
    other. Sets ``lane`` on each step.
    """
    hosts, per_host = [], {}
    for step in sorted(steps, key=lambda step: (step['start'], step['end'])):
        host = step.get('host', '')
        if host not in per_host:
            per_host[host] = []
            hosts.append(host)
        lanes = per_host[host]
        for number, last_end in enumerate(lanes):
            if last_end <= step['start'] + _EPSILON:
                lanes[number] = step['end']
                step['_sub'] = number
                break
        else:
            lanes.append(step['end'])
            step['_sub'] = len(lanes) - 1
    result, first = [], {}
    for host in hosts:
        first[host] = len(result)
        count = len(per_host[host])
        for number in range(count):
            label = host if count == 1 else '%s (%d)' % (host, number + 1)
            result.append({'index': len(result), 'host': host, 'label': label})
    for step in steps:
        step['lane'] = first[step.get('host', '')] + step.pop('_sub')
    return result


def parallel_groups(steps):
    """Names of steps that ran at the same time as another step (of any host), as sorted lists of step keys."""
    groups = []
    ordered = sorted(steps, key=lambda step: step['start'])
    current, current_end = [], None
    for step in ordered:
        if current and step['start'] < current_end - _EPSILON:
            current.append(step)
            current_end = max(current_end, step['end'])
            continue
        if len(current) > 1:
            groups.append(current)
        current, current_end = [step], step['end']
    if len(current) > 1:
        groups.append(current)
    return [['%s: %s' % (step['host'], step['name']) for step in group] for group in groups]


# ---- RTO and RPO --------------------------------------------------------------------------------------------------

def _as_number(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compute_rto(tasks, run_start, traffic_marks=None):
    """Recovery times in seconds from the run start.

    ``traffic``: to the end of the last task of step ``Ingress`` (any case) that neither failed nor was skipped; a
    ``kfuse_report_traffic_on_target`` fact (its task's end, given in ``traffic_marks`` as epoch seconds) takes
    precedence. ``rehydration``: to the end of the last activation task (``is_activation``: ``az_activate``, or
    ``az_status`` of step Activate) that neither failed nor was skipped.
    Each is null when the run has no such task, with a note saying why.
    """
    rto = {'traffic_seconds': None, 'traffic_task': None, 'traffic_note': None,
           'rehydration_seconds': None, 'rehydration_task': None, 'rehydration_note': None}
    done = [task for task in tasks if task.get('status') not in ('failed', 'unreachable', 'skipped')]
    ingress = [task for task in done if str(task.get('step', '')).lower() == INGRESS_STEP]
    ingress_failed = any(is_failure(task) for task in tasks if str(task.get('step', '')).lower() == INGRESS_STEP)
    if traffic_marks:
        moment, label = max(traffic_marks, key=lambda mark: mark[0])
        rto['traffic_seconds'] = max(0.0, moment - run_start)
        rto['traffic_task'] = label
        rto['traffic_note'] = 'marked by the fact kfuse_report_traffic_on_target'
    elif ingress:
        last = max(ingress, key=lambda task: task['end'])
        rto['traffic_seconds'] = max(0.0, last['end'] - run_start)
        rto['traffic_task'] = '%s: %s' % (last.get('host', ''), last.get('name', ''))
        if ingress_failed:
            rto['traffic_note'] = 'a task of step Ingress failed: traffic may not be on the target'
    else:
        rto['traffic_note'] = ('every task of step Ingress failed or was skipped' if ingress_failed
                               else 'no step Ingress in this run')
    activations = [task for task in done if is_activation(task.get('action'), task.get('step'))]
    if activations:
        last = max(activations, key=lambda task: task['end'])
        rto['rehydration_seconds'] = max(0.0, last['end'] - run_start)
        rto['rehydration_task'] = '%s: %s' % (last.get('host', ''), last.get('name', ''))
        state = last.get('activation_state')
        if state and state != 'active':
            rto['rehydration_note'] = 'the target was %s at the end of the task' % state
    else:
        rto['rehydration_note'] = 'no activation task (az_activate, or az_status of step Activate) completed in this run'
    return rto


def predicted_rto(report_facts):
    """``predicted_traffic_seconds`` and ``predicted_note`` from a ``kfuse_report_rto_predicted`` fact (the
    rto_prediction filter's result, set by the playbooks' Readiness tasks), null without one."""
    for facts in (report_facts or {}).values():
        predicted = facts.get(REPORT_FACT_PREFIX + 'rto_predicted')
        if isinstance(predicted, dict) and _as_number(predicted.get('traffic_seconds')) is not None:
            return {'predicted_traffic_seconds': _as_number(predicted['traffic_seconds']),
                    'predicted_note': _text_or_none(predicted.get('note'))}
    return {'predicted_traffic_seconds': None, 'predicted_note': None}


def compute_rpo(run_start, preflight=None, report_fact=None):
    """The recovery point: seconds between the newest restored backup and the run start.

    ``report_fact``: ``(value, epoch)`` of a ``kfuse_report_rpo_seconds`` fact, taken as it is. Otherwise
    ``preflight``: ``(rpo_seconds, epoch)`` of a ``preflight_result`` fact, the age of the source's newest backup when
    the preflight measured it, moved back to the run start (``age - (epoch - run_start)``, never below zero).
    """
    if report_fact is not None and _as_number(report_fact[0]) is not None:
        return {'seconds': _as_number(report_fact[0]), 'source': 'kfuse_report_rpo_seconds',
                'backup_age_at_check': None}
    if preflight is not None and _as_number(preflight[0]) is not None:
        age = _as_number(preflight[0])
        return {'seconds': max(0.0, age - max(0.0, preflight[1] - run_start)), 'source': 'preflight_result',
                'backup_age_at_check': age}
    return {'seconds': None, 'source': None, 'backup_age_at_check': None}


# ---- live progress ------------------------------------------------------------------------------------------------

def _int_or_none(value):
    number = _as_number(value)
    return None if number is None else int(number)


def progress_of(result, module_args=None):
    """What a status-like result says about a wait, or None.

    - an az-service status (``status`` with ``state``/``phase`` and ``progress.done/total/percent``):
      ``{kind: az, word, done, total, percent}``
    - node counts (``nodes.ready``/``registered`` and a requested size from the module's ``size`` or the last
      progress sample): ``{kind: nodes, ready, registered, wanted}``
    - k8s_info resources: Deployments/StatefulSets ``{kind: workloads, ready, total, replicas_ready,
      replicas_wanted, waiting}``; Nodes ``{kind: nodes, ready, registered, wanted: None}``
    """
    if not isinstance(result, dict):
        return None
    module_args = module_args or {}
    status = result.get('status')
    if isinstance(status, dict) and ('state' in status or 'progress' in status):
        progress = status.get('progress') if isinstance(status.get('progress'), dict) else {}
        word = status.get('phase') or status.get('state_word') or status.get('state') or 'unknown'
        return {'kind': 'az', 'word': str(word), 'done': _as_number(progress.get('done')),
                'total': _as_number(progress.get('total')), 'percent': _as_number(progress.get('percent'))}
    nodes = result.get('nodes')
    if isinstance(nodes, dict) and ('ready' in nodes or 'registered' in nodes):
        samples = result.get('progress') if isinstance(result.get('progress'), list) else []
        wanted = module_args.get('size')
        if wanted is None and samples and isinstance(samples[-1], dict):
            wanted = samples[-1].get('requested')
        if wanted is None and isinstance(result.get('after'), dict):
            wanted = result['after'].get('desired_size')
        return {'kind': 'nodes', 'ready': _int_or_none(nodes.get('ready')) or 0,
                'registered': _int_or_none(nodes.get('registered')), 'wanted': _int_or_none(wanted)}
    resources = result.get('resources')
    if isinstance(resources, list):
        items = [item for item in resources if isinstance(item, dict)]
        kinds = {item.get('kind') for item in items}
        if kinds == {'Node'}:
            ready = sum(1 for item in items if _node_ready(item))
            return {'kind': 'nodes', 'ready': ready, 'registered': len(items), 'wanted': None}
        if items and kinds <= {'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'}:
            seen = workload_readiness(items)
            replicas_ready = sum(_int_or_none((item.get('status') or {}).get('readyReplicas')) or 0 for item in items)
            replicas_wanted = sum(_int_or_none((item.get('spec') or {}).get('replicas', 1)) or 0 for item in items)
            return {'kind': 'workloads', 'ready': seen['ready_count'], 'total': seen['total'],
                    'replicas_ready': replicas_ready, 'replicas_wanted': replicas_wanted, 'waiting': seen['waiting']}
        if not items and 'api_found' in result:
            return {'kind': 'workloads', 'ready': 0, 'total': 0, 'replicas_ready': 0, 'replicas_wanted': 0,
                    'waiting': []}
    return None


def _node_ready(node):
    for condition in (node.get('status') or {}).get('conditions') or []:
        if isinstance(condition, dict) and condition.get('type') == 'Ready':
            return str(condition.get('status')) == 'True'
    return False


def progress_count(info):
    """(done, total) of a progress reading for the rate, or None: counters, else a percent out of 100."""
    if not info:
        return None
    if info['kind'] == 'az':
        if info.get('done') is not None and info.get('total'):
            return info['done'], info['total']
        if info.get('percent') is not None:
            return info['percent'], 100.0
        return None
    if info['kind'] == 'nodes' and info.get('wanted'):
        return float(info['ready']), float(info['wanted'])
    if info['kind'] == 'workloads' and info.get('replicas_wanted'):
        return float(info['replicas_ready']), float(info['replicas_wanted'])
    return None


def eta_seconds(samples, total, window=ETA_WINDOW):
    """Seconds left at the rate seen over the newest ``window`` samples ``[(epoch, done), ...]``, or None.

    None while fewer than two samples exist, when no time passed, or when nothing moved forward (no rate, no ETA).
    """
    if total is None or len(samples) < 2:
        return None
    recent = samples[-window:]
    (first_time, first_done), (last_time, last_done) = recent[0], recent[-1]
    elapsed = last_time - first_time
    if elapsed <= 0 or last_done <= first_done:
        return None
    if last_done >= total:
        return 0.0
    return (total - last_done) / ((last_done - first_done) / elapsed)


def format_duration(seconds):
    """``35 s``, ``2 min 5 s``, ``1 h 2 min``; ``0.4 s`` under ten seconds keeps one decimal."""
    if seconds is None:
        return '-'
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        text = ('%.1f' % seconds).rstrip('0').rstrip('.')
        return '%s s' % (text or '0')
    whole = int(round(seconds))
    if whole < 100:
        return '%d s' % whole
    if whole < 3600:
        return '%d min %d s' % (whole // 60, whole % 60) if whole % 60 else '%d min' % (whole // 60)
    hours, minutes = whole // 3600, (whole % 3600) // 60
    return '%d h %d min' % (hours, minutes) if minutes else '%d h' % hours


def _number(value):
    return '%d' % value if float(value).is_integer() else ('%.1f' % value)


def progress_line(host, info, samples=None):
    """One line for a retry: ``az2 rehydrating 120/300 (40 %), ETA 35 s``, ``az2 nodes Ready 2/3``,
    ``az2 workloads ready 3/5 (replicas 7/9), waiting kfuse-configdb``; None for an unknown reading."""
    if not info:
        return None
    samples = samples or []
    if info['kind'] == 'az':
        line = '%s %s' % (host, info['word'])
        if info.get('done') is not None and info.get('total'):
            percent = info['percent'] if info.get('percent') is not None else 100.0 * info['done'] / info['total']
            line += ' %s/%s (%d %%)' % (_number(info['done']), _number(info['total']), int(math.floor(percent)))
        elif info.get('percent') is not None:
            line += ' %d %%' % int(math.floor(info['percent']))
    elif info['kind'] == 'nodes':
        wanted = info.get('wanted')
        line = '%s nodes Ready %d/%s' % (host, info['ready'], '?' if wanted is None else wanted)
        if info.get('registered') is not None and info['registered'] != info['ready']:
            line += ' (registered %d)' % info['registered']
    elif info['kind'] == 'workloads':
        line = '%s workloads ready %d/%d (replicas %d/%d)' % (
            host, info['ready'], info['total'], info['replicas_ready'], info['replicas_wanted'])
        if info.get('waiting'):
            waiting = list(info['waiting'])
            more = ' and %d more' % (len(waiting) - 3) if len(waiting) > 3 else ''
            line += ', waiting ' + ', '.join(waiting[:3]) + more
    else:
        return None
    count = progress_count(info)
    if count is not None:
        eta = eta_seconds(samples, count[1])
        if eta is not None and count[0] < count[1]:
            line += ', ETA %s' % format_duration(eta)
    return line


# ---- the record ---------------------------------------------------------------------------------------------------

def _offset(moment, run_start):
    return round(max(0.0, moment - run_start), 3)


def build_report(run, tasks, facts=None, activations=None, traffic_marks=None):
    """The JSON-ready record of a run.

    ``run``: ``{run_id, playbooks, start, end, outcome, source, target, check_mode, hosts}``; ``tasks``: finished
    task records; ``facts``: ``[(host, name, value, epoch)]`` of ``preflight_result`` and ``kfuse_report_*`` facts in
    the order they were set; ``activations``: ``[(host, task name, {status, progress, elapsed}, epoch)]``;
    ``traffic_marks``: ``[(epoch, label)]``. Times in the record are seconds from the run start, except
    ``started``/``ended`` (ISO 8601, set by the caller in ``run``).
    """
    facts = facts or []
    start = run['start']
    tasks = sorted(tasks, key=lambda task: (task['start'], task.get('id', 0)))
    steps = group_steps(tasks)
    lanes = assign_lanes(steps)

    preflight, report_facts = {}, {}
    preflight_rpo = report_rpo = None
    for host, name, value, moment in facts:
        if name == 'preflight_result' and isinstance(value, dict):
            preflight[host] = value
            if _as_number(value.get('rpo_seconds')) is not None:
                preflight_rpo = (value.get('rpo_seconds'), moment)
        elif name.startswith(REPORT_FACT_PREFIX):
            report_facts.setdefault(host, {})[name] = value
            if name == REPORT_FACT_PREFIX + 'rpo_seconds' and _as_number(value) is not None:
                report_rpo = (value, moment)

    source, target = run.get('source'), run.get('target')
    for values in list(report_facts.values()) + list(preflight.values()):
        source = source or _text_or_none(values.get(REPORT_FACT_PREFIX + 'source') or values.get('source'))
        target = target or _text_or_none(values.get(REPORT_FACT_PREFIX + 'target') or values.get('target'))

    task_records = []
    for task in tasks:
        record = {key: value for key, value in task.items() if key not in ('start', 'end', 'activation_state')}
        record['start'], record['end'] = _offset(task['start'], start), _offset(task['end'], start)
        record['duration'] = round(max(0.0, task['end'] - task['start']), 3)
        record['result'] = task_result(task)
        task_records.append(record)

    step_records = []
    for number, step in enumerate(steps):
        step_records.append({
            'id': number, 'name': step['name'], 'host': step['host'], 'play': step['play'], 'lane': step['lane'],
            'start': _offset(step['start'], start), 'end': _offset(step['end'], start),
            'duration': round(step['duration'], 3), 'result': step['result'], 'counts': step['counts'],
            'tasks': [task.get('id') for task in step['tasks']]})

    skipped = [{'host': task.get('host'), 'step': task.get('step'), 'task': task.get('name'),
                'reason': task.get('skip_reason') or 'skipped'}
               for task in tasks if task.get('status') == 'skipped']
    failures = [{'host': task.get('host'), 'step': task.get('step'), 'task': task.get('name'),
                 'result': task_result(task), 'msg': task.get('msg')}
                for task in tasks if task.get('status') in ('failed', 'unreachable')]

    activation_records = {}
    for host, name, value, moment in activations or []:
        activation_records[host] = {'task': name, 'end': _offset(moment, start), 'status': value.get('status'),
                                    'progress': value.get('progress') or [], 'elapsed': value.get('elapsed')}

    end = max([run.get('end', start)] + [task['end'] for task in tasks])
    rto = _rounded(compute_rto(tasks, start, traffic_marks))
    rto.update(predicted_rto(report_facts))
    return {
        'schema': SCHEMA_VERSION,
        'run_id': run.get('run_id'),
        'playbooks': run.get('playbooks', []),
        'started': run.get('started'),
        'ended': run.get('ended'),
        'duration': round(max(0.0, end - start), 3),
        'outcome': run.get('outcome', 'unknown'),
        'check_mode': bool(run.get('check_mode')),
        'source': source,
        'target': target,
        'hosts': run.get('hosts', {}),
        'rto': rto,
        'rpo': _rounded(compute_rpo(start, preflight_rpo, report_rpo)),
        'lanes': lanes,
        'steps': step_records,
        'parallel': parallel_groups(steps),
        'tasks': task_records,
        'skipped': skipped,
        'failures': failures,
        'preflight': preflight,
        'activation': activation_records,
        'facts': report_facts,
    }


def _text_or_none(value):
    return str(value) if value not in (None, '') else None


def _rounded(values):
    return {key: round(value, 3) if isinstance(value, float) else value for key, value in values.items()}
