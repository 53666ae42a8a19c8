# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wire names, query building and normalisation of odd /status bodies."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _az_wire as wire

LAB_BODY = {
    "zone": "lab-az2", "state": "activating", "consuming": False, "alertsSilenced": True,
    "activation": {"sourceZone": "lab-az1", "phase": "rehydrating", "latestTime": "2026-11-21T10:00:00Z",
                   "databases": {"configdb": "restored", "orchestratordb": "pending"},
                   "segments": {"total": 300, "rehydrated": 120, "failed": 0, "batchSize": 25},
                   "params": {"zone": "lab-az1"}, "startedAt": "x", "finishedAt": None, "error": None},
}


def test_activate_params_use_wire_names_and_encode_booleans():
    params = wire.build_activate_params({'zone': 'az1', 'latest_time': '2026-11-21T10:00:00Z', 'source_namespace': 'kf',
                                         'source_force': True, 'batch_size': 25})
    assert params == {'zone': 'az1', 'latestTime': '2026-11-21T10:00:00Z', 'sourceNamespace': 'kf',
                      'sourceForce': 'true', 'batchSize': '25'}


def test_activate_params_skip_unset_options():
    assert wire.build_activate_params({'zone': 'az1', 'latest_time': None, 'source_force': False}) == {
        'zone': 'az1', 'sourceForce': 'false'}


def test_extra_params_win_over_mapped_names_and_none_removes():
    params = wire.build_activate_params({'zone': 'az1', 'batch_size': 5},
                                        {'batchSize': 50, 'skipResume': True, 'zone': None, 'segmentsPerBatch': 7})
    assert params == {'batchSize': '50', 'skipResume': 'true', 'segmentsPerBatch': '7'}


def test_pause_params():
    assert wire.build_pause_params(False) == {}
    assert wire.build_pause_params(True) == {'force': 'true'}
    assert wire.build_pause_params(False, {'force': 'yes'}) == {'force': 'yes'}


def test_lab_shape():
    status = wire.normalize_status(json.dumps(LAB_BODY))
    assert status == {'state': 'activating', 'zone': 'lab-az2', 'consuming': False, 'alerts_silenced': True,
                      'source_zone': 'lab-az1', 'phase': 'rehydrating',
                      'progress': {'done': 120, 'total': 300, 'percent': 40.0}, 'error': None}


@pytest.mark.parametrize('body', ['', '   ', None, b'', 'not json at all, a long sentence here', '[]', '[1, 2]',
                                  '42', 'null', '{}', '{"state": 7}', '[{"a": 1}, {"b": 2}]', '\x00\xff'])
def test_odd_bodies_never_crash_and_say_unknown(body):
    status = wire.normalize_status(body)
    assert status['state'] == 'unknown'
    assert set(status) == {'state', 'zone', 'consuming', 'alerts_silenced', 'source_zone', 'phase', 'progress', 'error'}
    assert status['progress'] == {'done': None, 'total': None, 'percent': None}


@pytest.mark.parametrize('body, state', [
    ('active', 'active'), ('"Paused"', 'paused'), ('state: standby', 'standby'), (b'ACTIVATING', 'activating'),
    ('{"status": "Rehydrating"}', 'activating'), ('{"phase": "done"}', 'active'), ('{"phase": "failed"}', 'failed'),
    ('{"status": {"state": "paused"}}', 'paused'), ('{"mode": "idle"}', 'standby'),
    ('[{"state": "active"}]', 'active'), ('{"state": "weird-new-state"}', 'unknown'),
    ('{"state": "activating", "activation": {"phase": "failed", "error": "boom"}}', 'failed'),
])
def test_state_names_and_alternatives(body, state):
    assert wire.normalize_status(body)['state'] == state


def test_missing_fields_are_none_and_extra_fields_ignored():
    status = wire.normalize_status('{"state": "paused", "somethingNew": {"x": [1, 2]}, "version": "3.4.2"}')
    assert status['state'] == 'paused'
    assert status['zone'] is None and status['consuming'] is None and status['alerts_silenced'] is None
    assert status['source_zone'] is None and status['phase'] is None and status['error'] is None


@pytest.mark.parametrize('progress, expected', [
    (0.4, {'done': None, 'total': None, 'percent': 40.0}),
    (40, {'done': None, 'total': None, 'percent': 40.0}),
    ('40%', {'done': None, 'total': None, 'percent': 40.0}),
    ('0.25', {'done': None, 'total': None, 'percent': 25.0}),
    ('12/48', {'done': 12, 'total': 48, 'percent': 25.0}),
    ({'done': 1, 'total': 3}, {'done': 1, 'total': 3, 'percent': 33.3}),
    ({'completed': 5, 'total': 10, 'percent': '55%'}, {'done': 5, 'total': 10, 'percent': 55.0}),
    ({'done': 0, 'total': 0}, {'done': 0, 'total': 0, 'percent': None}),
    ('soon', {'done': None, 'total': None, 'percent': None}),
    (250, {'done': None, 'total': None, 'percent': None}),
    (True, {'done': None, 'total': None, 'percent': None}),
    ({'done': -3, 'total': 'many'}, {'done': None, 'total': None, 'percent': None}),
])
def test_progress_shapes(progress, expected):
    status = wire.normalize_status(json.dumps({'state': 'activating', 'progress': progress}))
    assert status['progress'] == expected


def test_top_level_counts_and_alternative_names():
    body = {'status': 'restoring', 'zoneId': 'b', 'sourceZone': 'a', 'consumption': 'paused',
            'alerts': {'silenced': 'yes'}, 'done': 3, 'total': 4, 'stage': 'copy'}
    status = wire.normalize_status(json.dumps(body))
    assert status['state'] == 'activating'
    assert status['zone'] == 'b' and status['source_zone'] == 'a'
    assert status['consuming'] is False and status['alerts_silenced'] is True
    assert status['progress'] == {'done': 3, 'total': 4, 'percent': 75.0}


def test_alerts_enabled_means_not_silenced():
    assert wire.normalize_status('{"alerts": {"enabled": true}}')['alerts_silenced'] is False
    assert wire.normalize_status('{"alerts": "silenced"}')['alerts_silenced'] is True
    assert wire.normalize_status('{"alertsSilenced": "maybe"}')['alerts_silenced'] is None


def test_error_text_from_nested_object():
    body = {'state': 'failed', 'activation': {'error': {'message': 'no backups for zone x'}}}
    assert wire.normalize_status(json.dumps(body))['error'] == 'no backups for zone x'


def test_parsed_value_accepted():
    assert wire.normalize_status({'state': 'active'})['state'] == 'active'
