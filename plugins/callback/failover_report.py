# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The failover_report callback: live progress lines for long waits, and a JSON and HTML report of every run."""

from __future__ import annotations

DOCUMENTATION = r'''
name: failover_report
type: aggregate
short_description: Live progress of long waits, and a JSON and HTML report of each failover run
version_added: 0.1.0
author:
  - kfuse.failover contributors (@kfuse)
description:
  - Prints one line for each retry of an C(until) loop whose result shows how far a wait has got, next to the
    default output. An az-service status (M(kfuse.failover.az_status)) gives "az2 rehydrating 120/300 (40 %), ETA
    35 s"; node counts (M(kfuse.failover.node_group), or Nodes read with M(kubernetes.core.k8s_info)) give
    "az2 nodes Ready 2/3"; Deployments or StatefulSets read with M(kubernetes.core.k8s_info) give "az2 workloads
    ready 3/5 (replicas 7/9), waiting kfuse-configdb". The ETA comes from the rate seen over the latest retries.
  - At the end of each C(ansible-playbook) run, writes C(<report_dir>/<run id>.json) and C(<run id>.html), where the
    run id is the UTC start time and the playbook name (C(20261202T031500Z-failover)), and says where.
  - The record holds the run's start, end and outcome; every task of every host (name, step, start, end, result
    ok/changed/failed/skipped/unreachable, the condition that skipped it, retries, attempts, async job and polls,
    the message of a failure unless C(no_log)); the steps; RTO and RPO; the preflight checks; the activation's
    rehydration samples; and the C(kfuse_report_*) facts.
  - A task's step is its name up to C( | ) (C(Preflight | Check the inputs) belongs to C(Preflight)), or its play's
    name when its name has no C( | ). A step is the tasks of one host with the same step name in one play, from the
    start of the first to the end of the last, so a job started in the background and collected later in the step
    covers the whole wait. Steps of different hosts, and steps of one host that overlap in time, are drawn in
    separate lanes.
  - RTO is measured from the run start to the end of the last task of step C(Ingress) that neither failed nor was
    skipped (traffic on the target; a C(kfuse_report_traffic_on_target) fact overrides it), and to the end of the
    last M(kfuse.failover.az_activate) task that neither failed nor was skipped (rehydration done).
  - RPO is the C(kfuse_report_rpo_seconds) fact when a play sets it, else the C(rpo_seconds) of the
    C(preflight_result) fact of the preflight role (the age of the source's newest backup at the check) moved back
    to the run start.
  - 'Facts hook: a play may set facts named C(kfuse_report_<anything>) with M(ansible.builtin.set_fact); each shows in
    the report by host. These are also read: C(kfuse_report_rpo_seconds) (the RPO in seconds),
    C(kfuse_report_source) and C(kfuse_report_target) (zones shown when the extra vars C(kfuse_source) and
    C(kfuse_target) are not set), and C(kfuse_report_traffic_on_target) (any value: the end of the task that sets it
    is when traffic reached the target).'
  - The HTML page is one file with inline CSS and an inline SVG timeline; it needs no script and loads nothing.
  - Nothing is recorded from a task's result except the facts above, the az_activate status, progress and elapsed
    time, and a failure's message; results of C(no_log) tasks reach callbacks censored.
  - Enable it in C(ansible.cfg) (C(callbacks_enabled = kfuse.failover.failover_report) in C([defaults])) or with
    C(ANSIBLE_CALLBACKS_ENABLED=kfuse.failover.failover_report).
requirements:
  - enable in configuration (C(callbacks_enabled))
options:
  report_dir:
    description:
      - Folder the reports are written to, created when missing. A relative path set in C(ansible.cfg) is taken
        from that file's folder; the default from the current working directory.
    type: path
    default: ./kfuse-reports
    env:
      - name: KFUSE_REPORT_DIR
    ini:
      - section: kfuse_failover_report
        key: report_dir
  progress:
    description:
      - Print a progress line for each retry of a wait. The lines go to standard output, or to standard error when
        the stdout callback writes JSON.
    type: bool
    default: true
    env:
      - name: KFUSE_REPORT_PROGRESS
    ini:
      - section: kfuse_failover_report
        key: progress
'''

import json
import os
import re
import time

from ansible import constants as C
from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.kfuse.failover.plugins.plugin_utils._report import (
    REPORT_FACT_PREFIX,
    build_report,
    is_activation,
    progress_count,
    progress_line,
    progress_of,
    step_of,
)
from ansible_collections.kfuse.failover.plugins.plugin_utils._report_html import render_html

MESSAGE_LIMIT = 2000
_META_ACTIONS = frozenset(('meta', 'ansible.builtin.meta', 'ansible.legacy.meta'))
# The argument check Ansible runs at the start of a role: it belongs to the step of the role's first task.
_ROLE_CHECK_ACTIONS = frozenset(('validate_argument_spec', 'ansible.builtin.validate_argument_spec'))
_JSON_STDOUT = re.compile(r'(^|\.)(json|jsonl)$')


def _result_of(result):
    return getattr(result, 'result', None) if hasattr(type(result), 'result') else result._result


def _task_of(result):
    return getattr(result, 'task', None) if hasattr(type(result), 'task') else result._task


def _host_of(result):
    return getattr(result, 'host', None) if hasattr(type(result), 'host') else result._host


def _task_fields(result):
    fields = getattr(result, 'task_fields', None) if hasattr(type(result), 'task_fields') else result._task_fields
    return fields or {}


def _task_name(result):
    name = getattr(result, 'task_name', None) if hasattr(type(result), 'task_name') else None
    if not name:
        name = _task_fields(result).get('name') or _task_of(result).get_name()
    return str(name)


def _in_rescued_block(task):
    """Whether a failure of this task is taken over by a rescue section around it (the block part of a block that
    has a rescue, at any depth)."""
    child, parent = task, getattr(task, '_parent', None)
    while parent is not None:
        rescue, body = getattr(parent, 'rescue', None), getattr(parent, 'block', None)
        if rescue and isinstance(body, list) and any(getattr(item, '_uuid', None) == child._uuid for item in body):
            return True
        child, parent = parent, getattr(parent, '_parent', None)
    return False


def _skip_reason(result):
    candidates = [result] + [item for item in result.get('results') or [] if isinstance(item, dict)]
    for item in candidates:
        if item.get('false_condition'):
            return 'condition false: %s' % item['false_condition']
    for item in candidates:
        for key in ('skip_reason', 'skipped_reason', 'msg'):
            if item.get(key):
                return str(item[key])
    return 'skipped'


def _facts_of(result):
    """(name, value) of the facts a result sets that the report keeps."""
    found = []
    for item in [result] + [item for item in result.get('results') or [] if isinstance(item, dict)]:
        facts = item.get('ansible_facts')
        if not isinstance(facts, dict):
            continue
        for name, value in facts.items():
            if name == 'preflight_result' or name.startswith(REPORT_FACT_PREFIX):
                found.append((name, value))
    return found


class CallbackModule(CallbackBase):
    """Records the run, prints progress lines for retries, writes the JSON and HTML report at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'kfuse.failover.failover_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._start = None
        self._playbooks = []
        self._play = ''
        self._play_index = 0
        self._extra = {}
        self._starts = {}
        self._retries = {}
        self._polls = {}
        self._samples = {}
        self._tasks = []
        self._step_pending = {}
        self._facts = []
        self._activations = []
        self._traffic_marks = []

    # ---- the run ----------------------------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        if self._start is None:
            self._start = time.time()
        name = os.path.splitext(os.path.basename(getattr(playbook, '_file_name', '') or 'playbook'))[0]
        self._playbooks.append(name)

    def v2_playbook_on_play_start(self, play):
        self._play = str(play.get_name() or '').strip()
        self._play_index += 1
        manager = getattr(play, '_variable_manager', None)
        try:
            extra = manager.extra_vars if manager is not None else {}
        except Exception:  # pylint: disable=broad-exception-caught  # no extra vars is not a reason to break a run
            extra = {}
        for key in ('kfuse_source', 'kfuse_target'):
            value = extra.get(key) if isinstance(extra, dict) else None
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) and '{{' not in str(value):
                self._extra[key] = str(value)

    def v2_runner_on_start(self, host, task):
        self._starts[(host.get_name(), task._uuid)] = time.time()

    # ---- task ends --------------------------------------------------------------------------------------------

    def v2_runner_on_ok(self, result):
        self._finish(result, 'changed' if _result_of(result).get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, 'failed', ignored=bool(ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._finish(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._finish(result, 'unreachable', ignored=bool(_task_fields(result).get('ignore_unreachable')))

    def v2_runner_on_async_poll(self, result):
        key = (_host_of(result).get_name(), _task_of(result)._uuid)
        self._polls[key] = self._polls.get(key, 0) + 1

    def _finish(self, result, status, ignored=False):
        task, host = _task_of(result), _host_of(result).get_name()
        action = str(getattr(task, 'action', '') or '')
        if action in _META_ACTIONS:
            return
        now = time.time()
        if self._start is None:
            self._start = now
        data = _result_of(result) or {}
        name = _task_name(result)
        key = (host, task._uuid)
        record = {
            'id': len(self._tasks), 'host': host, 'play': self._play, 'play_index': self._play_index,
            'name': name, 'step': step_of(name, self._play), 'action': action,
            'start': self._starts.pop(key, now), 'end': now, 'status': status,
            'ignored': ignored, 'rescued': status == 'failed' and not ignored and _in_rescued_block(task),
        }
        if status == 'skipped':
            record['skip_reason'] = _skip_reason(data)
        if data.get('attempts'):
            record['attempts'] = data['attempts']
        retries = self._retries.pop(key, 0)
        if retries:
            record['retries_seen'] = retries
        self._samples.pop(key, None)
        fields = _task_fields(result)
        if fields.get('async_val'):
            record['async'] = {'async': fields.get('async_val'), 'poll': fields.get('poll'),
                               'job_id': data.get('ansible_job_id'), 'polls': self._polls.pop(key, 0)}
        if status in ('failed', 'unreachable'):
            message = data.get('msg') or data.get('censored') or ''
            record['msg'] = str(message)[:MESSAGE_LIMIT]
        if is_activation(action, record['step']) and status != 'skipped' and isinstance(data.get('status'), dict):
            record['activation_state'] = data['status'].get('state')
            if status != 'failed':
                self._activations.append((host, name, {'status': data.get('status'), 'progress': data.get('progress'),
                                                       'elapsed': data.get('elapsed')}, now))
        if status in ('ok', 'changed'):
            for fact, value in _facts_of(data):
                self._facts.append((host, fact, value, now))
                if fact == REPORT_FACT_PREFIX + 'traffic_on_target':
                    self._traffic_marks.append((now, '%s: %s' % (host, name)))
        # A role's argument check takes the step of the role's next task on the host (or keeps its play's).
        if action in _ROLE_CHECK_ACTIONS and ' | ' not in name:
            self._step_pending.setdefault(host, []).append(record)
        else:
            for pending in self._step_pending.pop(host, []):
                if pending['play_index'] == record['play_index']:
                    pending['step'] = record['step']
        self._tasks.append(record)

    # ---- live progress ----------------------------------------------------------------------------------------

    def v2_runner_retry(self, result):
        host, task = _host_of(result).get_name(), _task_of(result)
        key = (host, task._uuid)
        self._retries[key] = self._retries.get(key, 0) + 1
        if not self.get_option('progress'):
            return
        data = _result_of(result) or {}
        module_args = (data.get('invocation') or {}).get('module_args') or {}
        info = progress_of(data, module_args if isinstance(module_args, dict) else {})
        count = progress_count(info)
        samples = self._samples.setdefault(key, [])
        if count is not None:
            samples.append((time.time(), count[0]))
        line = progress_line(host, info, samples)
        if line:
            self._display.display(line, stderr=self._stderr())

    def _stderr(self):
        return bool(_JSON_STDOUT.search(str(C.DEFAULT_STDOUT_CALLBACK or '')))

    # ---- the end ------------------------------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats):
        end = time.time()
        start = self._start if self._start is not None else end
        hosts, outcome = {}, 'succeeded'
        for host in sorted(getattr(stats, 'processed', {}) or {}):
            summary = stats.summarize(host)
            hosts[host] = summary
            if summary.get('failures') or summary.get('unreachable'):
                outcome = 'failed'
        playbook = self._playbooks[0] if self._playbooks else 'run'
        run = {'run_id': None, 'playbooks': self._playbooks, 'start': start, 'end': end,
               'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(start)),
               'ended': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(end)), 'outcome': outcome,
               'source': self._extra.get('kfuse_source'), 'target': self._extra.get('kfuse_target'),
               'check_mode': bool((context.CLIARGS or {}).get('check')), 'hosts': hosts}
        try:
            folder = self.get_option('report_dir')
            os.makedirs(folder, exist_ok=True)
            run['run_id'] = self._run_id(folder, start, playbook)
            report = build_report(run, self._tasks, self._facts, self._activations, self._traffic_marks)
            json_path = os.path.join(folder, run['run_id'] + '.json')
            html_path = os.path.join(folder, run['run_id'] + '.html')
            _write(json_path, json.dumps(report, indent=1, default=str) + '\n')
            _write(html_path, render_html(report))
        except Exception as error:  # pylint: disable=broad-exception-caught  # a report must never fail the run
            self._display.warning('kfuse.failover.failover_report: could not write the run report: %s' % error)
            return
        self._display.display('Run report: %s (JSON: %s)' % (html_path, json_path), stderr=self._stderr())

    @staticmethod
    def _run_id(folder, start, playbook):
        base = '%s-%s' % (time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(start)),
                          re.sub(r'[^A-Za-z0-9_.-]+', '-', playbook).strip('-.') or 'run')
        run_id, number = base, 1
        while os.path.exists(os.path.join(folder, run_id + '.json')):
            number += 1
            run_id = '%s-%d' % (base, number)
        return run_id


def _write(path, text):
    """Write a file whole or not at all."""
    partial = path + '.part'
    with open(partial, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.replace(partial, path)
