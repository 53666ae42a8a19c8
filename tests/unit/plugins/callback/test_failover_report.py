# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""failover_report: steps, lanes, RTO/RPO, progress lines and ETA, the HTML page (escaped, self-contained), and the
callback's event handling with stand-in results."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from ansible_collections.kfuse.failover.plugins.callback import failover_report
from ansible_collections.kfuse.failover.plugins.plugin_utils import _report, _report_html
from ansible_collections.kfuse.failover.plugins.plugin_utils._report import (
    assign_lanes, build_report, compute_rpo, compute_rto, eta_seconds, format_duration, group_steps, parallel_groups,
    progress_count, progress_line, progress_of, step_of, step_result)
from ansible_collections.kfuse.failover.plugins.plugin_utils._report_html import nice_ticks, place_label, render_html

T0 = 1_800_000_000.0


def task(name, start, end, host='az2', status='ok', play='Fail over', play_index=1, **extra):
    record = {'id': extra.pop('id', 0), 'host': host, 'play': play, 'play_index': play_index, 'name': name,
              'step': step_of(name, play), 'action': extra.pop('action', 'ansible.builtin.debug'),
              'start': T0 + start, 'end': T0 + end, 'status': status, 'ignored': False, 'rescued': False}
    record.update(extra)
    return record


# ---- steps and lanes ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, play, step', [
    ('Preflight | Check the inputs', 'Get az2 ready', 'Preflight'),
    ('Node group | Scale | to 3', 'p', 'Node group'),
    ('Show how the activation went', 'Activate the target zone', 'Activate the target zone'),
    (' | no head', 'The play', 'The play'),
    ('', '', 'tasks'),
    ('unnamed', '', 'unnamed'),
    ('Ingress|no spaces', 'Play', 'Play'),
])
def test_step_of(name, play, step):
    assert step_of(name, play) == step


def test_steps_span_first_start_to_last_end_per_play_host_and_name():
    tasks = [task('Preflight | a', 0, 1), task('Preflight | b', 1, 3),
             task('Node group | start', 3, 4), task('Kloudfuse | start', 4, 5),
             task('Node group | wait', 5, 9), task('Kloudfuse | wait', 9, 10),
             task('Preflight | again', 11, 12, play='Readiness', play_index=2)]
    steps = group_steps(tasks)
    assert [(step['name'], step['start'] - T0, step['end'] - T0, len(step['tasks'])) for step in steps] == [
        ('Preflight', 0, 3, 2), ('Node group', 3, 9, 2), ('Kloudfuse', 4, 10, 2), ('Preflight', 11, 12, 1)]
    assert [step['duration'] for step in steps] == [3, 6, 6, 1]


def test_overlapping_steps_of_a_host_and_steps_of_other_hosts_get_their_own_lanes():
    tasks = [task('Preflight | a', 0, 2), task('Node group | start', 2, 3), task('Kloudfuse | start', 3, 4),
             task('Node group | wait', 4, 8), task('Kloudfuse | wait', 8, 9), task('Ingress | switch', 9, 10),
             task('Readiness | look', 10, 11, host='az1', play_index=2),
             task('Readiness | look', 10, 11.5, host='az2', play_index=2)]
    steps = group_steps(tasks)
    lanes = assign_lanes(steps)
    assert lanes == [{'index': 0, 'host': 'az2', 'label': 'az2 (1)'}, {'index': 1, 'host': 'az2', 'label': 'az2 (2)'},
                     {'index': 2, 'host': 'az1', 'label': 'az1'}]
    placed = {(step['name'], step['host']): step['lane'] for step in steps}
    assert placed == {('Preflight', 'az2'): 0, ('Node group', 'az2'): 0, ('Kloudfuse', 'az2'): 1,
                      ('Ingress', 'az2'): 0, ('Readiness', 'az2'): 0, ('Readiness', 'az1'): 2}
    assert parallel_groups(steps) == [['az2: Node group', 'az2: Kloudfuse'], ['az1: Readiness', 'az2: Readiness']]


def test_a_step_that_starts_when_the_last_one_ends_shares_its_lane():
    steps = group_steps([task('A | x', 0, 2), task('B | x', 2, 4), task('C | x', 4, 5)])
    assert len(assign_lanes(steps)) == 1


@pytest.mark.parametrize('statuses, result', [
    ([('ok', {}), ('changed', {})], 'changed'),
    ([('ok', {}), ('skipped', {})], 'ok'),
    ([('skipped', {}), ('skipped', {})], 'skipped'),
    ([('failed', {'rescued': True}), ('ok', {})], 'rescued'),
    ([('failed', {'ignored': True}), ('changed', {})], 'rescued'),
    ([('failed', {}), ('failed', {'rescued': True})], 'failed'),
    ([('unreachable', {}), ('changed', {})], 'unreachable'),
    ([], 'skipped'),
])
def test_step_result_is_the_worst_of_its_tasks(statuses, result):
    assert step_result([dict(flags, status=status) for status, flags in statuses]) == result


# ---- RTO and RPO --------------------------------------------------------------------------------------------------

def test_rto_to_traffic_and_to_rehydration():
    tasks = [task('Activate | activate', 5, 40, action='kfuse.failover.az_activate', activation_state='active'),
             task('Ingress | point DNS', 41, 44), task('Ingress | record', 44, 45),
             task('Ingress | only in check mode', 45, 46, status='skipped'),
             task('Ingress | optional', 46, 47, status='failed', ignored=True)]
    rto = compute_rto(tasks, T0)
    assert (rto['traffic_seconds'], rto['traffic_task'], rto['traffic_note']) == (45, 'az2: Ingress | record', None)
    assert (rto['rehydration_seconds'], rto['rehydration_note']) == (40, None)


def test_rehydration_ends_with_the_activate_steps_status_loop_not_with_the_start():
    tasks = [task('Activate | start', 5, 6, action='kfuse.failover.az_activate', activation_state='activating'),
             task('Activate | follow', 6, 50, action='kfuse.failover.az_status', activation_state='active'),
             task('Resume | read the final state', 55, 56, action='kfuse.failover.az_status')]
    rto = compute_rto(tasks, T0)
    assert (rto['rehydration_seconds'], rto['rehydration_task'], rto['rehydration_note']) == \
        (50, 'az2: Activate | follow', None)


def test_predicted_rto_comes_from_the_readiness_fact():
    from ansible_collections.kfuse.failover.plugins.plugin_utils._report import predicted_rto
    assert predicted_rto({'az2': {'kfuse_report_rto_predicted': {'traffic_seconds': 95.5, 'note': 'median of 2 run(s)'}}}) \
        == {'predicted_traffic_seconds': 95.5, 'predicted_note': 'median of 2 run(s)'}
    assert predicted_rto({'az2': {'kfuse_report_rto_predicted': {'traffic_seconds': None}}})['predicted_traffic_seconds'] is None
    assert predicted_rto({}) == {'predicted_traffic_seconds': None, 'predicted_note': None}


def test_rto_without_ingress_or_activation_says_why():
    rto = compute_rto([task('Node group | scale', 0, 3),
                       task('Activate | activate', 3, 4, status='failed', action='az_activate')], T0)
    assert rto['traffic_seconds'] is None and rto['traffic_note'] == 'no step Ingress in this run'
    assert rto['rehydration_seconds'] is None
    assert rto['rehydration_note'].startswith('no activation task')


def test_rto_flags_a_failed_ingress_step_and_an_activation_not_active():
    tasks = [task('Activate | activate', 0, 3, action='kfuse.failover.az_activate', activation_state='activating'),
             task('ingress | scale', 3, 4), task('Ingress | exactly one zone serves', 4, 5, status='failed')]
    rto = compute_rto(tasks, T0)
    assert rto['traffic_seconds'] == 4 and 'failed' in rto['traffic_note']
    assert rto['rehydration_note'] == 'the target was activating at the end of the task'
    only_failed = compute_rto([task('Ingress | switch', 0, 1, status='failed')], T0)
    assert only_failed['traffic_note'] == 'every task of step Ingress failed or was skipped'


def test_rto_traffic_marked_by_a_fact_wins():
    rto = compute_rto([task('Ingress | switch', 0, 10)], T0, traffic_marks=[(T0 + 7, 'az2: DNS | moved')])
    assert (rto['traffic_seconds'], rto['traffic_task']) == (7, 'az2: DNS | moved')


def test_rpo_from_preflight_is_moved_back_to_the_run_start():
    assert compute_rpo(T0, preflight=(120, T0 + 15)) == {
        'seconds': 105, 'source': 'preflight_result', 'backup_age_at_check': 120}
    assert compute_rpo(T0, preflight=('3', T0 + 15))['seconds'] == 0
    assert compute_rpo(T0, preflight=(None, T0 + 1))['seconds'] is None


def test_rpo_from_the_report_fact_is_taken_as_it_is():
    assert compute_rpo(T0, preflight=(120, T0 + 1), report_fact=('42.5', T0 + 99)) == {
        'seconds': 42.5, 'source': 'kfuse_report_rpo_seconds', 'backup_age_at_check': None}
    assert compute_rpo(T0, preflight=(120, T0), report_fact=('soon', T0))['source'] == 'preflight_result'
    assert compute_rpo(T0) == {'seconds': None, 'source': None, 'backup_age_at_check': None}


# ---- progress lines -----------------------------------------------------------------------------------------------

def az_result(done=None, total=None, percent=None, phase='rehydrating', state='activating'):
    progress = {'done': done, 'total': total, 'percent': percent}
    return {'status': {'state': state, 'state_word': state, 'phase': phase, 'progress': progress}, 'attempts': 2}


@pytest.mark.parametrize('seconds, text', [
    (None, '-'), (0, '0 s'), (0.04, '0 s'), (0.44, '0.4 s'), (3, '3 s'), (9.96, '10 s'), (35.4, '35 s'),
    (99.4, '99 s'), (125, '2 min 5 s'), (120, '2 min'), (3600, '1 h'), (3725, '1 h 2 min'), (-3, '0 s')])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_eta_from_the_rate_between_retries():
    assert eta_seconds([], 300) is None
    assert eta_seconds([(0, 60)], 300) is None
    assert eta_seconds([(0, 60), (10, 120)], 300) == pytest.approx(30)
    assert eta_seconds([(0, 120), (5, 120)], 300) is None  # nothing moved
    assert eta_seconds([(5, 120), (5, 130)], 300) is None  # no time passed
    assert eta_seconds([(0, 0), (4, 300)], 300) == 0
    # the newest samples set the rate: slow start, then 10 per second
    samples = [(0, 0), (100, 1)] + [(100 + n, 1 + 10 * n) for n in range(1, 7)]
    assert eta_seconds(samples, 200, window=6) == pytest.approx((200 - 61) / 10)


def test_az_rehydration_line_with_eta():
    info = progress_of(az_result(120, 300, 40.0))
    assert info == {'kind': 'az', 'word': 'rehydrating', 'done': 120, 'total': 300, 'percent': 40.0}
    assert progress_line('az2', info, [(0, 60), (2, 120)]) == 'az2 rehydrating 120/300 (40 %), ETA 6 s'
    assert progress_line('az2', info, [(0, 120)]) == 'az2 rehydrating 120/300 (40 %)'
    assert progress_line('az2', progress_of(az_result(1, 3)), []) == 'az2 rehydrating 1/3 (33 %)'


def test_az_lines_with_a_percent_only_or_no_counters():
    info = progress_of(az_result(percent=40.0))
    assert progress_count(info) == (40.0, 100.0)
    assert progress_line('az2', info, [(0, 20.0), (10, 40.0)]) == 'az2 rehydrating 40 %, ETA 30 s'
    restoring = progress_of(az_result(phase=None, state='restoring'))
    assert progress_line('az2', restoring, []) == 'az2 restoring'
    assert progress_count(restoring) is None


def test_node_counts_line():
    result = {'nodes': {'ready': 2, 'registered': 3}, 'progress': [{'requested': 3}]}
    info = progress_of(result)
    assert info == {'kind': 'nodes', 'ready': 2, 'registered': 3, 'wanted': 3}
    assert progress_line('az2', info) == 'az2 nodes Ready 2/3 (registered 3)'
    assert progress_line('az2', progress_of({'nodes': {'ready': 2, 'registered': 2}}, {'size': 6}),
                         [(0, 0), (20, 2)]) == 'az2 nodes Ready 2/6, ETA 40 s'
    assert progress_line('az2', progress_of({'nodes': {'ready': 1}, 'after': {'desired_size': 4}})) == \
        'az2 nodes Ready 1/4'


def test_k8s_info_nodes_line():
    def node(ready):
        return {'kind': 'Node', 'status': {'conditions': [{'type': 'Ready', 'status': 'True' if ready else 'False'}]}}
    info = progress_of({'resources': [node(True), node(False), {'kind': 'Node'}]})
    assert progress_line('az2', info) == 'az2 nodes Ready 1/? (registered 3)'


def workload(name, replicas, ready, kind='Deployment'):
    return {'kind': kind, 'metadata': {'name': name, 'generation': 1},
            'spec': {'replicas': replicas},
            'status': {'observedGeneration': 1, 'readyReplicas': ready, 'updatedReplicas': replicas,
                       'replicas': replicas}}


def test_workloads_line():
    resources = [workload('az-service', 1, 1), workload('kfuse-configdb', 1, 0, 'StatefulSet'),
                 workload('pinot-server', 3, 2, 'StatefulSet'), workload('ui', 2, 2), workload('query', 2, 0),
                 workload('ingester', 2, 1)]
    info = progress_of({'resources': resources, 'api_found': True})
    assert (info['ready'], info['total'], info['replicas_ready'], info['replicas_wanted']) == (2, 6, 6, 11)
    assert progress_line('kfuse', info, [(0, 4), (10, 6)]) == (
        'kfuse workloads ready 2/6 (replicas 6/11), waiting kfuse-configdb, pinot-server, query and 1 more, ETA 25 s')
    none_yet = progress_of({'resources': [], 'api_found': True})
    assert progress_line('az2', none_yet) == 'az2 workloads ready 0/0 (replicas 0/0)'


@pytest.mark.parametrize('result', [None, {}, {'status': 200}, {'status': 'ok'}, {'resources': 'x'},
                                    {'resources': [{'kind': 'ConfigMap'}]}, {'finished': 0, 'started': 1}])
def test_results_without_progress_print_nothing(result):
    assert progress_of(result) is None
    assert progress_line('az2', progress_of(result)) is None


# ---- the page -----------------------------------------------------------------------------------------------------

def sample_report(evil='<script>alert("x")</script> & co'):
    tasks = [task('Preflight | Check ' + evil, 0, 2, id=0), task('Preflight | Sum up', 2, 3, id=1),
             task('Preflight | Emergency only', 3, 3.1, status='skipped', id=2, skip_reason='condition false: a < b'),
             task(evil + ' | odd step', 3, 4, id=3),
             task('Activate | activate', 4, 30, action='kfuse.failover.az_activate', activation_state='active', id=4),
             task('Ingress | fails', 30, 31, status='failed', rescued=True, msg='<b>no</b>', id=5),
             task('Ingress | switch', 31, 33, status='changed', id=6)]
    facts = [('az2', 'preflight_result', {'ok': False, 'rpo_seconds': 90, 'plan': 'plan ' + evil,
                                          'checks': [{'name': 'rpo', 'status': 'warn', 'detail': evil}]}, T0 + 3),
             ('az2', 'kfuse_report_note', {'said': evil}, T0 + 33), ('az2', 'kfuse_report_target', 'az2', T0 + 33)]
    activation = {'status': {'state': 'active', 'progress': {'done': 3, 'total': 3}}, 'elapsed': 25.0,
                  'progress': [{'elapsed': 1.5, 'state': 'activating', 'phase': evil, 'done': 1, 'total': 3}]}
    activations = [('az2', 'Activate | activate', activation, T0 + 30)]
    run = {'run_id': '20270115T031500Z-failover', 'playbooks': ['failover'], 'start': T0, 'end': T0 + 34,
           'started': '2027-01-15T03:15:00Z', 'ended': '2027-01-15T03:15:34Z', 'outcome': 'succeeded',
           'source': evil, 'target': None, 'check_mode': False, 'hosts': {'az2': {'ok': 6}}}
    return build_report(run, tasks, facts, activations)


def test_report_record():
    report = sample_report()
    assert [step['name'] for step in report['steps']] == [
        'Preflight', '<script>alert("x")</script> & co', 'Activate', 'Ingress']
    assert report['target'] == 'az2'  # from kfuse_report_target
    assert report['rpo'] == {'seconds': 87, 'source': 'preflight_result', 'backup_age_at_check': 90}
    assert report['rto']['traffic_seconds'] == 33 and report['rto']['rehydration_seconds'] == 30
    assert report['skipped'] == [{'host': 'az2', 'step': 'Preflight', 'task': 'Preflight | Emergency only',
                                  'reason': 'condition false: a < b'}]
    assert report['failures'][0]['result'] == 'rescued'
    assert report['activation']['az2']['elapsed'] == 25.0
    assert report['steps'][3]['counts'] == {'rescued': 1, 'changed': 1}
    assert report['tasks'][0]['start'] == 0 and report['tasks'][0]['duration'] == 2
    json.dumps(report)


def test_html_escapes_everything_and_is_self_contained():
    page = render_html(sample_report())
    assert '<script' not in page and 'alert("x")' not in page
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co' in page
    assert '<b>no</b>' not in page and '&lt;b&gt;no&lt;/b&gt;' in page
    assert not re.search(r'(src|href)\s*=|https?://|url\(|@import', page)
    assert page.count('<rect class="bar ') == 4
    assert 'data-step="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"' in page


def test_html_sections():
    page = render_html(sample_report())
    for text in ('SUCCEEDED', 'RTO: start to traffic on target', '33 s', 'RPO: newest restored backup vs run start',
                 '87 s', 'Preflight checks', 'condition false: a &lt; b', 'kfuse_report_note',
                 '<rect class="bar rescued"', 'RTO rehydration 30 s', 'waited 25 s'):
        assert text in page, text


def test_empty_run_renders():
    report = build_report({'run_id': 'x', 'start': T0, 'end': T0, 'outcome': 'succeeded'}, [])
    page = render_html(report)
    assert report['steps'] == [] and '<svg class="timeline"' in page
    assert 'No preflight ran in this run' in page


@pytest.mark.parametrize('total, ticks', [
    (34, [0, 5, 10, 15, 20, 25, 30]), (0.5, [0, 0.1, 0.2, 0.3, 0.4, 0.5]), (1800, [0, 500, 1000, 1500]),
    (0, [0, 0.0002, 0.0004, 0.0006, 0.0008, 0.001]), (7, [0, 1, 2, 3, 4, 5, 6, 7])])
def test_nice_ticks(total, ticks):
    assert nice_ticks(total) == pytest.approx(ticks)


def test_label_placement():
    assert place_label('Preflight 2 s', 200, 300, 170, 1100)[:4] == (True, 204, 'start', 'Preflight 2 s')
    # too narrow: right of the bar when the next bar leaves room, else left, else cut short
    assert place_label('Preflight 2 s', 200, 20, 170, 1100)[:3] == (False, 224, 'start')
    assert place_label('Preflight 2 s', 400, 20, 170, 430)[:3] == (False, 396, 'end')
    cut = place_label('Preflight and more 2 s', 200, 60, 190, 265)
    assert cut[0] and cut[3] == 'Prefli\u2026'  # (60 - 8) / 6.6 characters
    assert place_label('Preflight 2 s', 200, 5, 190, 210)[3] == ''


# ---- the callback -------------------------------------------------------------------------------------------------

class Host:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class Result:
    """The callback's view of a task result (ansible-core 2.19 ``CallbackTaskResult`` attributes)."""

    def __init__(self, host, task_obj, data, fields=None):
        self._data, self._host_obj, self._task_obj, self._fields = data, host, task_obj, fields or {}

    @property
    def result(self):
        return self._data

    @property
    def host(self):
        return self._host_obj

    @property
    def task(self):
        return self._task_obj

    @property
    def task_fields(self):
        return self._fields

    @property
    def task_name(self):
        return self._fields.get('name', '')


class Display:
    verbosity = 0

    def __init__(self):
        self.lines, self.warnings = [], []

    def display(self, msg, stderr=False, **_):
        self.lines.append((msg, stderr))

    def warning(self, msg, **_):
        self.warnings.append(msg)


def new_task(uuid, action='ansible.builtin.debug', parent=None):
    return SimpleNamespace(_uuid=uuid, action=action, _parent=parent, get_name=lambda: action)


@pytest.fixture
def callback(tmp_path, monkeypatch):
    clock = {'now': T0}
    monkeypatch.setattr(failover_report.time, 'time', lambda: clock['now'])
    display = Display()
    plugin = failover_report.CallbackModule(display=display)
    # the options as Ansible's set_options() leaves them (the plugin is not loaded through the plugin loader here)
    plugin._plugin_options = {'report_dir': str(tmp_path / 'reports'), 'progress': True}
    plugin.clock, plugin.display_stub = clock, display
    return plugin


class Stats:
    def __init__(self, summaries):
        self.processed = {host: 1 for host in summaries}
        self.summaries = summaries

    def summarize(self, host):
        return self.summaries[host]


def play(name, extra=None):
    return SimpleNamespace(get_name=lambda: name, _variable_manager=SimpleNamespace(extra_vars=extra or {}))


def test_callback_records_a_run_and_writes_both_files(callback, tmp_path):
    host = Host('az2')
    callback.v2_playbook_on_start(SimpleNamespace(_file_name='/x/playbooks/failover.yml'))
    callback.v2_playbook_on_play_start(play('Activate the target zone', {'kfuse_source': 'az1', 'kfuse_target': 'az2'}))

    rescue_body = new_task('t-dns')
    block = SimpleNamespace(_uuid='b', block=[rescue_body], rescue=[new_task('t-rescue')], _parent=None)
    rescue_body._parent = block
    steps = [
        (new_task('t-pre', 'ansible.builtin.set_fact'), 'Preflight | Sum up', 'ok',
         {'ansible_facts': {'preflight_result': {'ok': True, 'rpo_seconds': 60, 'checks': []}, 'other': 1}}),
        (new_task('t-skip'), 'Preflight | Emergency only', 'skipped',
         {'skipped': True, 'false_condition': 'kfuse_emergency | bool'}),
        (new_task('t-act', 'kfuse.failover.az_activate'), 'Restore and rehydrate', 'changed',
         {'changed': True, 'status': {'state': 'active', 'progress': {'done': 3, 'total': 3}},
          'progress': [{'elapsed': 1.0}], 'elapsed': 8.0, 'raw': 'secret-ish body'}),
        (rescue_body, 'Ingress | Point the DNS record', 'failed', {'msg': 'route53 said no'}),
        (new_task('t-rec', 'ansible.builtin.set_fact'), 'Ingress | Record', 'ok',
         {'ansible_facts': {'kfuse_report_traffic_on_target': True}}),
    ]
    for task_obj, name, status, data in steps:
        callback.v2_runner_on_start(host, task_obj)
        callback.clock['now'] += 2
        result = Result(host, task_obj, data, {'name': name})
        {'ok': callback.v2_runner_on_ok, 'changed': callback.v2_runner_on_ok, 'skipped': callback.v2_runner_on_skipped,
         'failed': callback.v2_runner_on_failed}[status](result)
    callback.v2_playbook_on_stats(Stats({'az2': {'ok': 4, 'failures': 0, 'unreachable': 0, 'rescued': 1}}))

    written = sorted(path.name for path in (tmp_path / 'reports').iterdir())
    assert written == ['20270115T080000Z-failover.html', '20270115T080000Z-failover.json']
    report = json.loads((tmp_path / 'reports' / written[1]).read_text())
    assert report['outcome'] == 'succeeded' and (report['source'], report['target']) == ('az1', 'az2')
    assert [(step['name'], step['result']) for step in report['steps']] == [
        ('Preflight', 'ok'), ('Activate the target zone', 'changed'), ('Ingress', 'rescued')]
    assert report['tasks'][3]['rescued'] and report['tasks'][3]['msg'] == 'route53 said no'
    assert report['skipped'][0]['reason'] == 'condition false: kfuse_emergency | bool'
    assert report['rto']['rehydration_seconds'] == 6 and report['rto']['traffic_seconds'] == 10
    assert report['rpo'] == {'seconds': 58, 'source': 'preflight_result', 'backup_age_at_check': 60}
    assert report['activation']['az2']['elapsed'] == 8.0 and 'raw' not in json.dumps(report['activation'])
    assert report['facts'] == {'az2': {'kfuse_report_traffic_on_target': True}}
    assert callback.display_stub.lines[-1][0].startswith('Run report: ')


def test_callback_names_a_second_run_of_the_same_second_apart(callback, tmp_path):
    callback.v2_playbook_on_start(SimpleNamespace(_file_name='failover.yml'))
    callback.v2_playbook_on_stats(Stats({}))
    callback.v2_playbook_on_stats(Stats({}))
    assert sorted(path.name for path in (tmp_path / 'reports').glob('*.json')) == [
        '20270115T080000Z-failover-2.json', '20270115T080000Z-failover.json']


def test_callback_failed_run_and_unwritable_folder(callback, tmp_path):
    (tmp_path / 'reports').write_text('a file where the folder should be')
    callback.v2_playbook_on_stats(Stats({'az2': {'failures': 1}}))
    assert callback.display_stub.warnings and 'could not write the run report' in callback.display_stub.warnings[0]


def test_retry_prints_progress_with_eta(callback, monkeypatch):
    monkeypatch.setattr(failover_report.C, 'DEFAULT_STDOUT_CALLBACK', 'default')
    host, task_obj = Host('az2'), new_task('t-wait', 'kfuse.failover.az_status')
    callback.v2_runner_on_start(host, task_obj)
    for done in (0, 60, 120):
        callback.clock['now'] += 5
        callback.v2_runner_retry(Result(host, task_obj, az_result(done, 300), {'name': 'Activate | Follow'}))
    assert callback.display_stub.lines == [('az2 rehydrating 0/300 (0 %)', False),
                                           ('az2 rehydrating 60/300 (20 %), ETA 20 s', False),
                                           ('az2 rehydrating 120/300 (40 %), ETA 15 s', False)]
    callback.clock['now'] += 5
    callback.v2_runner_on_ok(Result(host, task_obj, az_result(300, 300, state='active'), {'name': 'Activate | Follow'}))
    assert callback._tasks[-1]['retries_seen'] == 3


def test_retry_lines_go_to_stderr_beside_a_json_stdout_and_can_be_off(callback, monkeypatch):
    monkeypatch.setattr(failover_report.C, 'DEFAULT_STDOUT_CALLBACK', 'ansible.builtin.json')
    host, task_obj = Host('az2'), new_task('t-nodes', 'kfuse.failover.node_group')
    result = Result(host, task_obj, {'nodes': {'ready': 1, 'registered': 1}, 'invocation': {'module_args': {'size': 3}}})
    callback.v2_runner_retry(result)
    assert callback.display_stub.lines == [('az2 nodes Ready 1/3', True)]
    callback._plugin_options['progress'] = False
    callback.v2_runner_retry(result)
    assert len(callback.display_stub.lines) == 1


def test_rescue_detection_walks_the_blocks():
    inner, outer_body = new_task('t1'), new_task('t2')
    inner_block = SimpleNamespace(_uuid='b1', block=[inner], rescue=[], _parent=None)
    outer = SimpleNamespace(_uuid='b0', block=[inner_block], rescue=[new_task('r')], _parent=None)
    inner._parent, inner_block._parent = inner_block, outer
    assert failover_report._in_rescued_block(inner)
    in_rescue = new_task('t3')
    plain = SimpleNamespace(_uuid='b2', block=[], rescue=[new_task('x')], always=[in_rescue], _parent=None)
    in_rescue._parent = plain
    assert not failover_report._in_rescued_block(in_rescue)
    assert not failover_report._in_rescued_block(outer_body)


def test_module_constants():
    assert failover_report.CallbackModule.CALLBACK_NEEDS_ENABLED is True
    assert failover_report.CallbackModule.CALLBACK_TYPE == 'aggregate'
    assert _report.SCHEMA_VERSION == 1 and 'ok' in _report_html.COLOURS
