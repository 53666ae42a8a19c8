# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading /status bodies: every shape understood by rule, status_map, and no guessing into success."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils import _az_status as st
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

LAB_BODY = {
    "zone": "lab-az2", "state": "activating", "consuming": False, "alertsSilenced": True,
    "activation": {"sourceZone": "lab-az1", "phase": "rehydrating", "latestTime": "2026-11-21T10:00:00Z",
                   "databases": {"configdb": "restored", "orchestratordb": "pending"},
                   "segments": {"total": 300, "rehydrated": 120, "failed": 0, "batchSize": 25},
                   "params": {"zone": "lab-az1"}, "startedAt": "x", "finishedAt": None, "error": None},
}
FIELDS = {'state', 'state_word', 'understood', 'zone', 'consuming', 'alerts_silenced', 'source_zone', 'phase',
          'progress', 'error'}


def test_lab_shape_json_nested():
    status = st.normalize_status(json.dumps(LAB_BODY))
    assert status == {'state': 'activating', 'state_word': 'activating', 'understood': True, 'zone': 'lab-az2',
                      'consuming': False, 'alerts_silenced': True, 'source_zone': 'lab-az1', 'phase': 'rehydrating',
                      'progress': {'done': 120, 'total': 300, 'percent': 40.0}, 'error': None}


def test_json_flat():
    status = st.normalize_status('{"state": "active", "zone": "b", "source_zone": "a", "rehydrated": 3, "total": 4}')
    assert (status['state'], status['source_zone'], status['progress']['percent']) == ('active', 'a', 75.0)


def test_key_value_text():
    status = st.normalize_status('state=active zone=lab-az2 source_zone=lab-az1 consuming=true alerts_silenced=false '
                                 'rehydrated=300 total=300')
    assert status['understood'] and status['state'] == 'active'
    assert (status['zone'], status['source_zone'], status['consuming'], status['alerts_silenced']) == (
        'lab-az2', 'lab-az1', True, False)
    assert status['progress'] == {'done': 300, 'total': 300, 'percent': 100.0}
    lines = st.normalize_status('state: activating\nprogress: 40%\nsourceZone: "az 1"\n')
    assert (lines['state'], lines['progress']['percent'], lines['source_zone']) == ('activating', 40.0, 'az 1')


def test_camel_case_nested_counters_in_any_nesting():
    body = {'service': {'azState': 'ACTIVATING', 'zoneId': 'az2'},
            'recovery': {'restoredFrom': 'az1', 'stage': 'rehydrate',
                         'stats': {'segmentsRehydrated': 50, 'totalSegments': 200, 'segmentsFailed': 0}},
            'pinot': {'isConsuming': False}, 'alerting': {'alertsMuted': True}}
    status = st.normalize_status(json.dumps(body))
    assert status['state'] == 'activating' and status['state_word'] == 'ACTIVATING'
    assert (status['zone'], status['source_zone'], status['phase']) == ('az2', 'az1', 'rehydrate')
    assert (status['consuming'], status['alerts_silenced']) == (False, True)
    assert status['progress'] == {'done': 50, 'total': 200, 'percent': 25.0}


@pytest.mark.parametrize('counters, expected', [
    ({'rehydrated': 1, 'total': 4}, (1, 4)),
    ({'segments_rehydrated': 1, 'total_segments': 4}, (1, 4)),
    ({'segmentsRehydrated': 1, 'totalSegments': 4}, (1, 4)),
    ({'done': 1, 'of': 4}, (1, 4)),
    ({'completedCount': 1, 'expectedCount': 4}, (1, 4)),
    ({'restored_segments': 1, 'segment_count': 4}, (1, 4)),
])
def test_counters_by_rule(counters, expected):
    status = st.normalize_status(json.dumps({'state': 'activating', 'deep': {'deeper': counters}}))
    assert (status['progress']['done'], status['progress']['total']) == expected
    assert status['progress']['percent'] == 25.0


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
def test_progress_shapes_and_percent_only(progress, expected):
    status = st.normalize_status(json.dumps({'state': 'activating', 'progress': progress}))
    assert status['progress'] == expected


def test_percent_only_under_a_percent_key():
    assert st.normalize_status('{"state": "activating", "rehydrationPercent": 62.5}')['progress']['percent'] == 62.5


@pytest.mark.parametrize('body', ['', '   ', None, b'', 'not json at all, a long sentence here', '[]', '[1, 2]',
                                  '42', 'null', '{}', '{"state": 7}', '[{"a": 1}, {"b": 2}]', '\x00\xff',
                                  '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
                                  '{"condition": "green", "detail": {"k": 1}}'])
def test_odd_bodies_never_crash_and_are_not_understood(body):
    status = st.normalize_status(body)
    assert status['state'] == 'unknown' and status['understood'] is False
    assert set(status) == FIELDS
    assert status['progress'] == {'done': None, 'total': None, 'percent': None}


@pytest.mark.parametrize('body, state', [
    ('active', 'active'), ('"Paused"', 'paused'), ('state: standby', 'standby'), (b'ACTIVATING', 'activating'),
    ('{"status": "Rehydrating"}', 'activating'), ('{"phase": "failed"}', 'failed'),
    ('{"status": {"state": "paused"}}', 'paused'), ('[{"state": "active"}]', 'active'),
    ('{"state": "activating", "activation": {"phase": "failed", "error": "boom"}}', 'failed'),
    ('{"state": "stand-by"}', 'standby'), ('{"state": "In Progress"}', 'activating'),
])
def test_state_table(body, state):
    assert st.normalize_status(body)['state'] == state


@pytest.mark.parametrize('body', ['{"phase": "done"}', '{"mode": "primary"}', '{"state": "primary"}',
                                  '{"state": "running"}', '{"state": "ready"}', '{"state": "done"}',
                                  '{"state": "weird-new-state"}', '{"mode": "idle"}', 'live'])
def test_words_not_clearly_active_are_never_active(body):
    status = st.normalize_status(body)
    assert status['state'] == 'unknown' and not status['understood']


def test_unknown_word_is_kept_for_messages():
    status = st.normalize_status('{"state": "Primary"}')
    assert status['state_word'] == 'Primary' and status['state'] == 'unknown'


def test_status_map_dotted_paths_and_words():
    status_map = st.check_status_map({'state': 'health.mode', 'active': ['PRIMARY'], 'standby': 'SECONDARY',
                                      'source_zone': 'health.from', 'done': 'restore.n', 'total': 'restore.of',
                                      'zone': 'items.0.id'})
    body = {'health': {'mode': 'primary', 'from': 'az1'}, 'restore': {'n': 30, 'of': 120}, 'items': [{'id': 'az2'}]}
    status = st.normalize_status(json.dumps(body), status_map)
    assert (status['state'], status['source_zone'], status['zone']) == ('active', 'az1', 'az2')
    assert status['progress'] == {'done': 30, 'total': 120, 'percent': 25.0}
    assert st.normalize_status('{"health": {"mode": "SECONDARY"}}', status_map)['state'] == 'standby'
    # A mapped path that is missing means unknown: the rules are not used behind the operator's back.
    assert st.normalize_status('{"state": "active"}', status_map)['state'] == 'unknown'


def test_status_map_on_key_value_text_and_percent():
    status_map = st.check_status_map({'state': 'svc.phase', 'percent': 'svc.pct'})
    status = st.normalize_status('svc.phase=activating svc.pct=12.5', status_map)
    assert (status['state'], status['progress']['percent']) == ('activating', 12.5)


@pytest.mark.parametrize('status_map, message', [
    ('state', 'status_map must be a dict'),
    ({'where': 'x'}, "status_map: unknown key 'where'"),
    ({'state': ''}, 'status_map.state must be a dotted path'),
    ({'state': 'a..b'}, 'status_map.state must be a dotted path'),
    ({'active': []}, 'status_map.active must be a list of the words'),
    ({'active': [{'x': 1}]}, 'status_map.active must be a list of the words'),
])
def test_bad_status_map_names_the_key(status_map, message):
    with pytest.raises(OptionError, match=message):
        st.check_status_map(status_map)


def test_missing_fields_are_none_and_extra_fields_ignored():
    status = st.normalize_status('{"state": "paused", "somethingNew": {"x": [1, 2]}, "version": "3.4.2"}')
    assert status['state'] == 'paused'
    assert status['zone'] is None and status['consuming'] is None and status['alerts_silenced'] is None
    assert status['source_zone'] is None and status['phase'] is None and status['error'] is None


def test_alternative_names():
    body = {'status': 'restoring', 'zoneId': 'b', 'sourceZone': 'a', 'consumption': 'paused',
            'alerts': {'silenced': 'yes'}, 'done': 3, 'total': 4, 'stage': 'copy'}
    status = st.normalize_status(json.dumps(body))
    assert status['state'] == 'activating'
    assert status['zone'] == 'b' and status['source_zone'] == 'a'
    assert status['consuming'] is False and status['alerts_silenced'] is True
    assert status['progress'] == {'done': 3, 'total': 4, 'percent': 75.0}


def test_alerts_enabled_means_not_silenced():
    assert st.normalize_status('{"alerts": {"enabled": true}}')['alerts_silenced'] is False
    assert st.normalize_status('{"alerts": "silenced"}')['alerts_silenced'] is True
    assert st.normalize_status('{"alertsSilenced": "maybe"}')['alerts_silenced'] is None


def test_error_text_from_nested_object():
    body = {'state': 'failed', 'activation': {'error': {'message': 'no backups for zone x'}}}
    assert st.normalize_status(json.dumps(body))['error'] == 'no backups for zone x'


def test_parsed_value_accepted():
    assert st.normalize_status({'state': 'active'})['state'] == 'active'
