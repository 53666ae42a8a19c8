# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rto_prediction filter on hand-made journal run records."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kfuse.failover.plugins.filter.rto_prediction import rto_prediction


def step(name, start, seconds, status='done', detail=None):
    return {'name': name, 'status': status, 'started': '2026-12-01T10:%02d:%02dZ' % divmod(start, 60),
            'finished': '2026-12-01T10:%02d:%02dZ' % divmod(start + seconds, 60), 'detail': detail or {}}


def run(run_id, activate=20, total=100, outcome='succeeded', operation='failover', started='2026-12-01T10:00:00Z'):
    return {'run_id': run_id, 'operation': operation, 'outcome': outcome, 'started': started,
            'steps': [step('secrets', 0, 5), step('backup', 5, 1), step('node_group', 6, 59), step('kloudfuse', 65, 30),
                      step('pause', 95, 3),
                      step('activate', 98, activate, detail={'progress': {'done': total, 'total': total}}),
                      step('ingress', 98 + activate, 8), step('resume', 106 + activate, 1)]}


def test_medians_of_the_steps_and_the_sum_to_traffic():
    found = rto_prediction([run('a', activate=20), run('b', activate=40), run('c', activate=30)])
    assert found['steps'] == {'secrets': 5, 'backup': 1, 'node_group': 59, 'kloudfuse': 30, 'pause': 3,
                              'activate': 30, 'ingress': 8}
    assert found['traffic_seconds'] == 136
    assert 'no time seen' not in found['note']
    assert found['rehydration_rate'] == 3.33  # 100 segments in 30 s (median of 5, 2.5, 3.33)
    assert found['based_on'] == ['a', 'b', 'c']


def test_the_activation_scales_with_the_segments_the_target_lacks():
    found = rto_prediction([run('a', activate=20, total=100)], segments_missing=400)
    assert found['steps']['activate'] == 80  # 400 segments at 5/s
    assert '400 missing segments' in found['note']


def test_a_run_without_a_backup_step_predicts_without_it():
    emergency = run('e')
    emergency['steps'] = [entry for entry in emergency['steps'] if entry['name'] != 'backup']
    found = rto_prediction([emergency])
    assert 'backup' not in found['steps'] and 'no time seen' not in found['note']


def test_failed_runs_drills_and_old_runs_are_left_out():
    records = [run('failed', outcome='failed'), run('drill', operation='drill')]
    records += [run('r%d' % n, started='2026-12-0%dT00:00:00Z' % n) for n in range(1, 8)]
    found = rto_prediction(records, runs=2)
    assert found['based_on'] == ['r7', 'r6']


def test_without_a_usable_run_everything_is_null_and_the_note_says_why():
    found = rto_prediction([run('drill', operation='drill')])
    assert found['traffic_seconds'] is None and found['steps'] == {}
    assert 'no succeeded failover' in found['note']


def test_bad_input_is_refused():
    with pytest.raises(AnsibleFilterError, match='list of journal run records'):
        rto_prediction('runs')
