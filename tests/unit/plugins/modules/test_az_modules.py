# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Decision logic of az_pause, az_activate, az_status and az_resume with the HTTP layer faked."""

from __future__ import annotations

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils.az_service import AzResponse, AzServiceError
from ansible_collections.kfuse.failover.plugins.modules import az_activate, az_pause, az_resume, az_status


URL = {'url': 'https://localhost:8082'}
FAST = {'poll_interval': 0.01}
ACTIVE_OWN = {'zone': 'az1', 'state': 'active', 'consuming': True, 'alertsSilenced': False}
PAUSED = {'zone': 'az1', 'state': 'paused', 'consuming': False, 'alertsSilenced': True}
STANDBY = {'zone': 'az2', 'state': 'standby', 'consuming': False, 'alertsSilenced': True}


def activating(done, total=300, zone='az1', phase='rehydrating'):
    return {'zone': 'az2', 'state': 'activating', 'alertsSilenced': True,
            'activation': {'sourceZone': zone, 'phase': phase, 'segments': {'total': total, 'rehydrated': done}}}


def active_from(zone='az1', silenced=True):
    return {'zone': 'az2', 'state': 'active', 'consuming': True, 'alertsSilenced': silenced,
            'activation': {'sourceZone': zone, 'phase': 'done', 'segments': {'total': 300, 'rehydrated': 300}}}


@pytest.fixture(autouse=True, name='fake_client_class')
def fixture_fake_client_class(fake_client):
    global FakeClient  # pylint: disable=global-statement
    FakeClient = fake_client
    return fake_client


FakeClient = None


def failed(error='no backups for zone az1'):
    return {'zone': 'az2', 'state': 'failed', 'activation': {'sourceZone': 'az1', 'phase': 'failed', 'error': error}}


# -- bad input fails before any request ---------------------------------------------------------------------

@pytest.mark.parametrize('module, args, message', [
    (az_activate, dict(URL, zone='  '), 'zone must be a non-empty'),
    (az_activate, dict(URL, zone='az1', batch_size=0), 'batch_size must be a positive integer'),
    (az_activate, dict(URL, zone='az1', batch_size=-3), 'batch_size must be a positive integer'),
    (az_activate, dict(URL, zone='az1', latest_time='yesterday'), 'latest_time: not a recognised date-time'),
    (az_activate, dict(URL, zone='az1', latest_time='2026-02-30 10:00'), 'latest_time: invalid date'),
    (az_activate, dict(URL, zone='az1', latest_time='x', latest_time_format='iso'), 'latest_time_format'),
    (az_activate, dict(URL, zone='az1', source_namespace=' '), 'source_namespace must not be empty'),
    (az_activate, dict(URL), 'missing required arguments: zone'),
    (az_activate, dict(URL, zone='az1', bogus=1), 'Unsupported parameters'),
    (az_pause, dict(URL, context='az1'), 'mutually exclusive: url|context'),
    (az_pause, dict(URL, namespace='kfuse'), 'mutually exclusive: url|namespace'),
    (az_status, {}, 'one of the following is required: url, kubeconfig, context'),
    (az_status, {'url': 'ftp://x'}, 'url must be an http(s) URL'),
    (az_status, {'url': 'localhost:8082'}, 'url must be an http(s) URL'),
    (az_status, {'url': 'https://user:pw@x'}, 'must not carry credentials'),
    (az_status, {'url': 'http://az.example.test', 'token': 'abc'}, 'refusing to send token over plain http'),
    (az_status, dict(URL, timeout=0), 'timeout must be a positive'),
    (az_status, dict(URL, retries=-1), 'retries must be 0 or more'),
    (az_status, dict(URL, poll_interval=0), 'poll_interval must be a positive'),
    (az_status, dict(URL, wait_for=['sleeping']), 'value of wait_for must be one or more of'),
    (az_status, {'context': 'az1', 'service_port': 70000}, 'service_port must be between 1 and 65535'),
    (az_status, {'context': 'az1', 'service': ''}, 'service must not be empty'),
    (az_status, dict(URL, client_key='/k.pem'), 'client_key'),
    (az_resume, dict(URL, extra_params=['a']), 'extra_params'),
    # The bad-input classes of issue 7, section 3 (az modules).
    (az_status, dict(URL, timeout=float('nan')), 'timeout must be a finite number'),
    (az_status, dict(URL, timeout=float('inf')), 'timeout must be a finite number'),
    (az_status, dict(URL, poll_interval=float('inf')), 'poll_interval must be a finite number'),
    (az_status, dict(URL, ca_path='/nonexistent/ca.pem'), 'ca_path: no such file'),
    (az_status, dict(URL, client_cert='/nonexistent/c.pem'), 'client_cert: no such file'),
    (az_status, dict(URL, status_map={'where': 'x'}), 'where'),
    (az_status, dict(URL, status_map={'state': 'a..b'}), 'status_map.state must be a dotted path'),
    (az_status, dict(URL, unreadable_status_limit=0), 'unreadable_status_limit must be 1 or more'),
    (az_activate, dict(URL, zone='az1', batch_size=10 ** 9), 'batch_size must be a positive integer up to 10000'),
    (az_activate, dict(URL, zone='az1', latest_time='2999-01-01T00:00:00Z'), 'latest_time: 2999-01-01T00:00:00Z is in '
                                                                             'the future'),
    (az_activate, dict(URL, zone='az1', extra_params={'zone': 'az9'}), 'extra_params.zone: set it with the zone option'),
    (az_activate, dict(URL, zone='az1', extra_params={'latestTime': 'x'}), 'extra_params.latestTime: set it with the '
                                                                           'latest_time option'),
    (az_activate, dict(URL, zone='az1', extra_params={'batchSize': 10 ** 9}), 'set it with the batch_size option'),
    (az_activate, dict(URL, zone='az1', extra_params={'x': {'a': 1}}), 'extra_params.x: a query parameter takes'),
    (az_pause, dict(URL, extra_params={'x': [1, 2]}), 'extra_params.x: a query parameter takes a string'),
])
def test_bad_input_fails_before_any_request(run_module, module, args, message):
    result, failed_ = run_module(module.main, args, client=None)
    assert failed_
    assert message in result['msg']


def test_token_over_plain_http_allowed_for_loopback_and_on_request(run_module):
    client = FakeClient([ACTIVE_OWN])
    result, failed_ = run_module(az_status.main, {'url': 'http://127.0.0.1:9', 'token': 'abc'}, client)
    assert not failed_ and result['status']['state'] == 'active'
    result, failed_ = run_module(az_status.main, {'url': 'http://az.example.test', 'token': 'abc',
                                                  'allow_insecure_token': True}, client)
    assert not failed_


# -- az_status ----------------------------------------------------------------------------------------------

def test_status_once_returns_normalised_raw_and_json(run_module):
    client = FakeClient([activating(120)])
    result, failed_ = run_module(az_status.main, URL, client)
    assert not failed_ and result['changed'] is False
    assert result['status']['progress'] == {'done': 120, 'total': 300, 'percent': 40.0}
    assert result['json']['activation']['sourceZone'] == 'az1'
    assert '"rehydrated": 120' in result['raw']
    assert 'progress' not in result and client.closed


def test_status_tolerates_non_json(run_module):
    result, failed_ = run_module(az_status.main, URL, FakeClient(['<html>gateway</html>']))
    assert not failed_
    assert result['status']['state'] == 'unknown' and result['json'] is None and result['raw'] == '<html>gateway</html>'


def test_status_wait_for_records_progress(run_module):
    client = FakeClient([activating(0), activating(0), activating(150), active_from()])
    result, failed_ = run_module(az_status.main, dict(URL, **FAST, wait_for='active'), client)
    assert not failed_ and result['changed'] is False
    assert [sample['done'] for sample in result['progress']] == [0, 150, 300]
    assert result['status']['state'] == 'active' and result['elapsed'] >= 0


def test_status_wait_timeout_fails_with_last_status(run_module):
    client = FakeClient([activating(42)])
    result, failed_ = run_module(az_status.main, dict(URL, **FAST, wait_for=['active', 'paused'], wait_timeout=0), client)
    assert failed_
    assert 'timed out after' in result['msg'] and 'state active or paused' in result['msg']
    assert 'state=activating, phase=rehydrating, done=42, total=300, percent=14.0' in result['msg']
    assert result['status']['state'] == 'activating' and '"rehydrated": 42' in result['raw']
    assert result['timed_out'] is True and len(result['progress']) == 1


def test_status_wait_stops_on_failed(run_module):
    result, failed_ = run_module(az_status.main, dict(URL, **FAST, wait_for='active'), FakeClient([activating(1), failed()]))
    assert failed_ and 'reports state failed (no backups for zone az1)' in result['msg']
    assert result['timed_out'] is False


def test_status_wait_for_failed_is_allowed(run_module):
    result, failed_ = run_module(az_status.main, dict(URL, **FAST, wait_for='failed'), FakeClient([failed()]))
    assert not failed_ and result['status']['state'] == 'failed'


def test_status_http_error_shape(run_module):
    error = AzServiceError('GET https://localhost:8082/status failed with HTTP 401 Unauthorized', method='GET',
                           url='https://localhost:8082/status', status=401, body='{"error": "token"}')
    result, failed_ = run_module(az_status.main, URL, FakeClient([error]))
    assert failed_
    assert (result['method'], result['url'], result['status'], result['body']) == (
        'GET', 'https://localhost:8082/status', 401, '{"error": "token"}')


# -- az_pause -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('state', [PAUSED, STANDBY, {'consuming': False}])
def test_pause_not_changed_when_already_paused(run_module, state):
    client = FakeClient([state])
    result, failed_ = run_module(az_pause.main, URL, client)
    assert not failed_ and result['changed'] is False and client.posts == []


def test_pause_posts_and_waits(run_module):
    client = FakeClient([ACTIVE_OWN, ACTIVE_OWN, PAUSED])
    result, failed_ = run_module(az_pause.main, dict(URL, **FAST, force=True), client)
    assert not failed_ and result['changed'] is True
    assert client.posts == [('/pause', {'force': 'true'})]
    assert result['status']['state'] == 'paused'
    assert [s['state'] for s in result['progress']] == ['active', 'paused']
    assert result['response']['status'] == 200


def test_pause_without_wait_reads_status_once_more(run_module):
    client = FakeClient([ACTIVE_OWN, ACTIVE_OWN])
    result, failed_ = run_module(az_pause.main, dict(URL, wait=False), client)
    assert not failed_ and result['changed'] and client.posts == [('/pause', {})]
    assert client.status_reads == 2 and 'progress' not in result


def test_pause_check_mode_sends_nothing_and_diffs(run_module):
    client = FakeClient([ACTIVE_OWN])
    result, failed_ = run_module(az_pause.main, dict(URL, _ansible_check_mode=True, _ansible_diff=True), client)
    assert not failed_ and result['changed'] is True and client.posts == []
    assert result['params'] == {}
    assert result['diff'] == {'before': {'state': 'active', 'alerts_silenced': False},
                              'after': {'state': 'paused', 'alerts_silenced': True}}


def test_pause_flush_check_409_tells_about_force(run_module):
    error = AzServiceError('POST https://localhost:8082/pause failed with HTTP 409 Conflict: flush check failed',
                           method='POST', url='https://localhost:8082/pause', status=409, body='{"error": "flush"}')
    result, failed_ = run_module(az_pause.main, URL, FakeClient([ACTIVE_OWN], {'/pause': error}))
    assert failed_ and 'set force=true' in result['msg'] and result['status'] == 409
    assert result['body'] == '{"error": "flush"}'


@pytest.mark.parametrize('status', [500, 503, 409, 412, 400])
def test_pause_refused_by_the_flush_check_names_force_whatever_the_status(run_module, status):
    body = '{"error": "flush_check_failed", "reason": "Kafka flush check failed: in-flight data not yet flushed"}'
    error = AzServiceError('POST https://localhost:8082/pause failed with HTTP %d: flush_check_failed; Kafka flush '
                           'check failed: in-flight data not yet flushed' % status, method='POST',
                           url='https://localhost:8082/pause', status=status, body=body)
    result, failed_ = run_module(az_pause.main, URL, FakeClient([ACTIVE_OWN], {'/pause': error}))
    assert failed_ and 'set force=true' in result['msg'] and 'Kafka flush check did not pass' in result['msg']
    assert 'in-flight data not yet flushed' in result['msg']  # the service's own words
    assert result['status'] == status and result['code'] == status


def test_pause_refused_for_another_reason_does_not_suggest_force(run_module):
    error = AzServiceError('POST https://localhost:8082/pause failed with HTTP 500: database is down', method='POST',
                           url='https://localhost:8082/pause', status=500, body='{"error": "database is down"}')
    result, failed_ = run_module(az_pause.main, URL, FakeClient([ACTIVE_OWN], {'/pause': error}))
    assert failed_ and 'force' not in result['msg']


def test_wait_fails_fast_on_an_unreadable_status(run_module):
    html = '<html><body><h1>502 Bad Gateway</h1></body></html>'
    client = FakeClient([ACTIVE_OWN, html])
    result, failed_ = run_module(az_pause.main, dict(URL, **FAST, wait_timeout=600, unreadable_status_limit=2), client)
    assert failed_ and result['timed_out'] is False and result['elapsed'] < 5
    assert 'could not be understood in 2 consecutive reads' in result['msg'] and 'Set status_map' in result['msg']
    assert '502 Bad Gateway' in result['msg'] and client.status_reads == 3


def test_wait_names_an_unknown_state_word(run_module):
    client = FakeClient([{'state': 'standby'}, {'state': 'Primary', 'sourceZone': 'az1'}])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1'), client)
    assert failed_ and "state word 'Primary' is not in the state table" in result['msg']


def test_status_map_lets_the_wait_read_a_custom_shape(run_module):
    status_map = {'state': 'health.mode', 'active': ['PRIMARY'], 'standby': ['SECONDARY'],
                  'activating': ['CATCHING_UP'], 'source_zone': 'health.from', 'done': 'restore.n', 'total': 'restore.of'}
    client = FakeClient([{'health': {'mode': 'SECONDARY'}},
                         {'health': {'mode': 'CATCHING_UP', 'from': 'az1'}, 'restore': {'n': 1, 'of': 4}},
                         {'health': {'mode': 'PRIMARY', 'from': 'az1'}, 'restore': {'n': 4, 'of': 4}}],
                        status_map=status_map)
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1', status_map=status_map), client)
    assert not failed_ and result['changed'] is True and result['status']['state'] == 'active'
    assert any(sample.get('done') == 1 and sample.get('total') == 4 for sample in result['progress'])


def test_activation_success_needs_the_source_zone(run_module):
    client = FakeClient([STANDBY, {'zone': 'az2', 'state': 'active'}])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1'), client)
    assert failed_ and 'names no source zone' in result['msg'] and 'accept_missing_source_zone=true' in result['msg']
    client = FakeClient([STANDBY, {'zone': 'az2', 'state': 'active'}])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1', accept_missing_source_zone=True),
                                 client)
    assert not failed_ and result['changed'] is True


@pytest.mark.parametrize('body', [{'phase': 'done'}, {'mode': 'primary'}, {'state': 'done', 'sourceZone': 'az1'}])
def test_guessed_words_never_end_an_activation_as_success(run_module, body):
    client = FakeClient([STANDBY, body])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1', unreadable_status_limit=2), client)
    assert failed_ and 'could not be understood' in result['msg']


def test_already_active_refusal_names_what_the_status_said(run_module):
    client = FakeClient([{'zone': 'az2', 'state': 'ACTIVE'}])
    result, failed_ = run_module(az_activate.main, dict(URL, zone='az1'), client)
    assert failed_ and client.posts == []
    assert "the service said 'ACTIVE'" in result['msg'] and 'zone az2' in result['msg']
    assert '(no source-zone field)' in result['msg'] and 'an unnamed source' not in result['msg']


def test_url_with_credentials_is_never_echoed(run_module):
    url = 'https://operator:Sup3r-Secret@az.example'
    result, failed_ = run_module(az_status.main, {'url': url}, client=None)
    assert failed_ and 'must not carry credentials' in result['msg']
    assert 'Sup3r-Secret' not in str(result) and url not in str(result)


def test_pause_timeout_reports_last_state(run_module):
    result, failed_ = run_module(az_pause.main, dict(URL, **FAST, wait_timeout=0), FakeClient([ACTIVE_OWN]))
    assert failed_ and 'waiting for state paused' in result['msg'] and 'state=active' in result['msg']


def test_pause_extra_params_verbatim(run_module):
    client = FakeClient([ACTIVE_OWN])
    run_module(az_pause.main, dict(URL, wait=False, force=True, extra_params={'force': None, 'drain': True}), client)
    assert client.posts == [('/pause', {'drain': 'true'})]


# -- az_activate --------------------------------------------------------------------------------------------

def test_activate_already_done_not_changed(run_module):
    client = FakeClient([active_from('az1')])
    result, failed_ = run_module(az_activate.main, dict(URL, zone='az1'), client)
    assert not failed_ and result['changed'] is False and client.posts == []


def test_activate_in_progress_only_waits(run_module):
    client = FakeClient([activating(10), activating(200), active_from('az1')])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1'), client)
    assert not failed_ and result['changed'] is False and client.posts == []
    assert [s['done'] for s in result['progress']] == [200, 300]


def test_activate_in_progress_check_mode_does_not_wait(run_module):
    client = FakeClient([activating(10), active_from('az1')])
    result, failed_ = run_module(az_activate.main, dict(URL, zone='az1', _ansible_check_mode=True), client)
    assert not failed_ and result['changed'] is False and client.status_reads == 1


@pytest.mark.parametrize('status', [active_from('az9'), activating(3, zone='az9'), ACTIVE_OWN, {'state': 'activating'}])
def test_activate_refuses_other_source_without_force(run_module, status):
    client = FakeClient([status])
    result, failed_ = run_module(az_activate.main, dict(URL, zone='az1'), client)
    assert failed_ and 'set force=true' in result['msg'] and 'not from zone az1' in result['msg']
    assert client.posts == [] and result['status']['state'] in ('active', 'activating')


def test_activate_force_overrides_other_source(run_module):
    client = FakeClient([active_from('az9'), activating(0), active_from('az1')])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1', force=True), client)
    assert not failed_ and result['changed'] is True
    assert client.posts == [('/activate', {'zone': 'az1'})]


def test_activate_posts_all_params_and_waits(run_module):
    client = FakeClient([STANDBY, activating(0, phase='restoring'), activating(100), activating(300, phase='resuming'),
                         active_from('az1')], {'/activate': AzResponse(202, '{"accepted": true}')})
    args = dict(URL, **FAST, zone='az1', latest_time='2026-11-21 12:00+02:00', source_namespace='kfuse-az1',
                source_force=True, batch_size=50, extra_params={'skipResume': True})
    result, failed_ = run_module(az_activate.main, args, client)
    assert not failed_ and result['changed'] is True
    expected = {'zone': 'az1', 'latestTime': '2026-11-21T10:00:00Z', 'sourceNamespace': 'kfuse-az1',
                'sourceForce': 'true', 'batchSize': '50', 'skipResume': 'true'}
    assert client.posts == [('/activate', expected)] and result['params'] == expected
    assert result['response'] == {'status': 202, 'body': '{"accepted": true}', 'attempts': 1, 'accepted_by_status': False}
    assert [(s['phase'], s['done']) for s in result['progress']] == [
        ('restoring', 0), ('rehydrating', 100), ('resuming', 300), ('done', 300)]
    assert result['status']['state'] == 'active' and result['status']['source_zone'] == 'az1'


@pytest.mark.parametrize('time_format, wire', [('epoch', '1795255200'), ('epoch_ms', '1795255200000')])
def test_activate_latest_time_formats(run_module, time_format, wire):
    client = FakeClient([STANDBY])
    run_module(az_activate.main, dict(URL, zone='az1', latest_time='2026-11-21T10:00:00Z', latest_time_format=time_format,
                                      wait=False), client)
    assert client.posts[0][1]['latestTime'] == wire


def test_activate_check_mode(run_module):
    client = FakeClient([PAUSED])
    result, failed_ = run_module(az_activate.main, dict(URL, zone='az1', _ansible_check_mode=True, _ansible_diff=True), client)
    assert not failed_ and result['changed'] is True and client.posts == []
    assert result['params'] == {'zone': 'az1'}
    assert result['diff']['after'] == {'state': 'active', 'source_zone': 'az1'}


def test_activate_fails_with_last_status_when_activation_fails(run_module):
    client = FakeClient([STANDBY, activating(5), failed('segment copy failed')])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1'), client)
    assert failed_ and 'activation failed: segment copy failed' in result['msg']
    assert result['status']['state'] == 'failed' and 'segment copy failed' in result['raw']
    assert [s['state'] for s in result['progress']] == ['activating', 'failed']


def test_activate_retry_after_failed_ignores_stale_failed_state(run_module):
    client = FakeClient([failed('old'), failed('old'), activating(3), active_from('az1')])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1'), client)
    assert not failed_ and result['changed'] is True and len(client.posts) == 1


def test_activate_timeout(run_module):
    client = FakeClient([STANDBY, activating(7)])
    result, failed_ = run_module(az_activate.main, dict(URL, **FAST, zone='az1', wait_timeout=0), client)
    assert failed_ and 'timed out' in result['msg'] and 'done=7' in result['msg'] and result['timed_out']


def test_activate_no_wait_returns_after_post(run_module):
    client = FakeClient([STANDBY, activating(0)])
    result, failed_ = run_module(az_activate.main, dict(URL, zone='az1', wait=False), client)
    assert not failed_ and result['changed'] and result['status']['state'] == 'activating' and 'progress' not in result


def test_activate_post_error_is_reported_with_params(run_module):
    error = AzServiceError('POST https://localhost:8082/activate?zone=az1 failed with HTTP 404 Not Found: no backups',
                           method='POST', url='https://localhost:8082/activate?zone=az1', status=404, body='{}')
    result, failed_ = run_module(az_activate.main, dict(URL, zone='az1'), FakeClient([STANDBY], {'/activate': error}))
    assert failed_ and result['status'] == 404 and result['params'] == {'zone': 'az1'}


# -- az_resume ----------------------------------------------------------------------------------------------

def test_resume_not_changed_when_alerts_not_silenced(run_module):
    client = FakeClient([active_from(silenced=False)])
    result, failed_ = run_module(az_resume.main, URL, client)
    assert not failed_ and result['changed'] is False and client.posts == [] and result['alerts_state_known']


def test_resume_posts_when_silenced(run_module):
    client = FakeClient([active_from(silenced=True), active_from(silenced=False)])
    result, failed_ = run_module(az_resume.main, dict(URL, _ansible_diff=True), client)
    assert not failed_ and result['changed'] is True and client.posts == [('/resume', {})]
    assert result['status']['alerts_silenced'] is False
    assert result['diff'] == {'before': {'alerts_silenced': True}, 'after': {'alerts_silenced': False}}


def test_resume_when_shape_has_no_alerts_field(run_module):
    client = FakeClient([{'state': 'active'}])
    result, failed_ = run_module(az_resume.main, URL, client)
    assert not failed_ and result['changed'] is True and len(client.posts) == 1
    assert result['alerts_state_known'] is False
    assert any('does not say whether alerts are silenced' in w for w in result.get('warnings', [])), result.get('warnings')


def test_resume_check_mode(run_module):
    client = FakeClient([active_from(silenced=True)])
    result, failed_ = run_module(az_resume.main, dict(URL, _ansible_check_mode=True), client)
    assert not failed_ and result['changed'] is True and client.posts == []


def test_resume_waits_until_unsilenced(run_module):
    client = FakeClient([active_from(silenced=True), active_from(silenced=True), active_from(silenced=False)])
    result, failed_ = run_module(az_resume.main, dict(URL, **FAST), client)
    assert not failed_ and result['changed'] is True and len(client.posts) == 1
    assert [s['state'] for s in result['progress']] == ['active']
    assert result['status']['alerts_silenced'] is False


def test_resume_wait_timeout_when_alerts_stay_silenced(run_module):
    client = FakeClient([active_from(silenced=True)])
    result, failed_ = run_module(az_resume.main, dict(URL, **FAST, wait_timeout=0), client)
    assert failed_ and 'waiting for alerts to be unsilenced' in result['msg']
