# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The az-service client: retry rule per endpoint, backoff, Retry-After, activate status check, TLS, errors."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest
import requests
from requests import exceptions as rex
from requests.structures import CaseInsensitiveDict
from urllib3 import exceptions as u3

from ansible_collections.kfuse.failover.plugins.module_utils import az_service
from ansible_collections.kfuse.failover.plugins.module_utils.az_service import (
    FATAL,
    MAYBE_SENT,
    NOT_SENT,
    AzServiceClient,
    AzServiceError,
    activation_matches,
    classify_exception,
)

BASE = 'https://az.example.test:8443'
TOKEN = 's3cr3t-t0ken-value'
ACTIVATING_AZ1 = json.dumps({'state': 'activating', 'activation': {'sourceZone': 'az1', 'phase': 'restoring'}})
STANDBY = json.dumps({'state': 'standby'})


def response(status=200, body='{}', headers=None, reason=None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = body.encode() if isinstance(body, str) else body
    resp.headers = CaseInsensitiveDict(headers or {})
    resp.reason = reason or http.client.responses.get(status, '')
    resp.encoding = 'utf-8'
    return resp


def connect_refused():
    reason = u3.NewConnectionError(None, 'Failed to establish a new connection: [Errno 111] Connection refused')
    return rex.ConnectionError(u3.MaxRetryError(None, '/x', reason))


def dropped_after_send():
    return rex.ConnectionError(u3.ProtocolError('Connection aborted.', http.client.RemoteDisconnected('closed')))


def read_timeout():
    return rex.ReadTimeout(u3.ReadTimeoutError(None, '/x', 'Read timed out. (read timeout=30)'))


def ssl_verify_failed():
    return rex.SSLError(u3.MaxRetryError(None, '/x', u3.SSLError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))


def ssl_eof():
    return rex.SSLError(u3.MaxRetryError(None, '/x', u3.SSLError('EOF occurred in violation of protocol (_ssl.c:992)')))


class ScriptedSession(requests.Session):
    """Session answering from per-path scripts; the last entry of a script repeats."""

    def __init__(self, scripts):
        super().__init__()
        self.scripts = {path: list(items) for path, items in scripts.items()}
        self.calls = []

    def request(self, method, url, params=None, timeout=None, **kwargs):  # pylint: disable=arguments-differ
        path = url.split(':8443', 1)[1]
        self.calls.append((method, path, dict(params or {}), timeout))
        script = self.scripts[path]
        item = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(item, Exception):
            raise item
        return item


def make_client(scripts, **kwargs):
    session = ScriptedSession(scripts)
    sleeps = []
    options = {'session': session, 'sleep': sleeps.append, 'rand': lambda: 0.5, 'retries': 3, 'retry_delay': 1.0}
    options.update(kwargs)
    return AzServiceClient(BASE, **options), session, sleeps


def posts(session, path):
    return [call for call in session.calls if call[0] == 'POST' and call[1] == path]


# -- classification ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('exc, kind', [
    (connect_refused(), NOT_SENT), (rex.ConnectTimeout('connect timed out'), NOT_SENT), (ssl_eof(), NOT_SENT),
    (read_timeout(), MAYBE_SENT), (dropped_after_send(), MAYBE_SENT), (rex.ChunkedEncodingError('cut'), MAYBE_SENT),
    (ssl_verify_failed(), FATAL), (rex.InvalidURL('bad'), FATAL), (rex.MissingSchema('no scheme'), FATAL),
])
def test_classification(exc, kind):
    assert classify_exception(exc) == kind


def test_real_connection_refused_is_not_sent():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(rex.RequestException) as info:
        requests.get('http://127.0.0.1:%d/status' % port, timeout=2)
    assert classify_exception(info.value) == NOT_SENT


def test_real_drop_after_request_is_maybe_sent():
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1)

    def serve():
        conn, _peer = server.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(rex.RequestException) as info:
            requests.post('http://127.0.0.1:%d/activate' % server.getsockname()[1], timeout=5)
    finally:
        thread.join(5)
        server.close()
    assert classify_exception(info.value) == MAYBE_SENT


# -- retry rule ----------------------------------------------------------------------------------------------

ENDPOINT_CALLS = {
    '/status': lambda c: c.get_status(),
    '/pause': lambda c: c.pause({'force': 'true'}),
    '/resume': lambda c: c.resume(),
    '/activate': lambda c: c.activate('az1', {'zone': 'az1'}),
}


@pytest.mark.parametrize('path', sorted(ENDPOINT_CALLS))
@pytest.mark.parametrize('failure', [connect_refused, lambda: rex.ConnectTimeout('t'), ssl_eof,
                                     lambda: response(429), lambda: response(503)])
def test_not_processed_failures_are_retried_for_every_endpoint(path, failure):
    client, session, sleeps = make_client({path: [failure(), failure(), response(200, '{"ok": true}')],
                                           '/status': [failure(), failure(), response(200, STANDBY)]})
    ENDPOINT_CALLS[path](client)
    assert len([c for c in session.calls if c[1] == path]) == 3
    assert [c for c in session.calls if c[1] != path] == []  # activate never needed a status check here
    assert sleeps == [0.5, 1.0]  # full jitter with rand=0.5: half of 1, 2


@pytest.mark.parametrize('path', ['/status', '/pause', '/resume'])
@pytest.mark.parametrize('failure', [read_timeout, dropped_after_send, lambda: response(502), lambda: response(504)])
def test_idempotent_endpoints_retry_after_maybe_processed_failures(path, failure):
    client, session, _sleeps = make_client({path: [failure(), response(200, STANDBY)]})
    ENDPOINT_CALLS[path](client)
    assert len(session.calls) == 2


@pytest.mark.parametrize('failure', [read_timeout, dropped_after_send, lambda: response(502), lambda: response(504)])
def test_activate_not_resent_when_status_shows_it_started(failure):
    client, session, _sleeps = make_client({'/activate': [failure(), response(202)],
                                            '/status': [response(200, ACTIVATING_AZ1)]})
    answer = client.activate('az1', {'zone': 'az1'})
    assert answer.accepted_by_status
    assert answer.status_snapshot['state'] == 'activating'
    assert len(posts(session, '/activate')) == 1
    assert [c[1] for c in session.calls] == ['/activate', '/status']


@pytest.mark.parametrize('failure', [read_timeout, dropped_after_send, lambda: response(502), lambda: response(504)])
def test_activate_resent_when_status_shows_nothing_started(failure):
    client, session, sleeps = make_client({'/activate': [failure(), response(202, '{"accepted": true}')],
                                           '/status': [response(200, STANDBY)]})
    answer = client.activate('az1', {'zone': 'az1'})
    assert not answer.accepted_by_status and answer.status_code == 202
    assert [c[1] for c in session.calls] == ['/activate', '/status', '/activate']
    assert len(sleeps) == 1


def test_activate_for_another_zone_is_not_taken_as_ours():
    other = json.dumps({'state': 'activating', 'activation': {'sourceZone': 'az9'}})
    client, session, _sleeps = make_client({'/activate': [read_timeout(), response(202)], '/status': [response(200, other)]})
    assert not client.activate('az1', {'zone': 'az1'}).accepted_by_status
    assert len(posts(session, '/activate')) == 2


def test_activate_409_checked_on_status():
    client, session, _sleeps = make_client({'/activate': [response(409, '{"error": "activation in progress"}')],
                                            '/status': [response(200, ACTIVATING_AZ1)]})
    assert client.activate('az1', {'zone': 'az1'}).accepted_by_status
    assert len(posts(session, '/activate')) == 1


def test_activate_409_without_matching_status_fails_without_retry():
    client, session, sleeps = make_client({'/activate': [response(409, '{"error": "already active", "reason": "x"}')],
                                           '/status': [response(200, json.dumps({'state': 'active'}))]})
    with pytest.raises(AzServiceError) as info:
        client.activate('az1', {'zone': 'az1'})
    assert info.value.status == 409
    assert 'already active; x' in info.value.message
    assert len(posts(session, '/activate')) == 1 and sleeps == []


def test_activate_not_resent_when_status_cannot_be_read():
    client, session, _sleeps = make_client({'/activate': [read_timeout(), response(202)],
                                            '/status': [response(401, '{"error": "unauthorized"}')]})
    with pytest.raises(AzServiceError) as info:
        client.activate('az1', {'zone': 'az1'})
    assert 'not re-sending it blindly' in info.value.message
    assert info.value.method == 'POST' and info.value.url == BASE + '/activate?zone=az1'
    assert len(posts(session, '/activate')) == 1


@pytest.mark.parametrize('status', [400, 401, 403, 404, 409, 500])
def test_other_http_errors_fail_at_once(status):
    client, session, sleeps = make_client({'/pause': [response(status, '{"error": "nope", "reason": "flush check failed"}')]})
    with pytest.raises(AzServiceError) as info:
        client.pause({'force': 'true'})
    error = info.value
    assert (error.method, error.url, error.status) == ('POST', BASE + '/pause?force=true', status)
    assert error.body == '{"error": "nope", "reason": "flush check failed"}'
    assert 'HTTP %d' % status in error.message and 'nope; flush check failed' in error.message
    assert error.fail_result() == {'method': 'POST', 'url': BASE + '/pause?force=true', 'status': status,
                                   'code': status, 'body': error.body}
    assert len(session.calls) == 1 and sleeps == []


def test_certificate_failure_is_not_retried():
    client, session, _sleeps = make_client({'/status': [ssl_verify_failed()]})
    with pytest.raises(AzServiceError) as info:
        client.get_status()
    assert 'certificate verify failed' in info.value.message and info.value.status is None
    assert len(session.calls) == 1


def test_retries_exhausted_reports_attempts_and_backoff_bounds():
    client, session, sleeps = make_client({'/status': [connect_refused()]}, retries=6, retry_delay=2.0, rand=lambda: 1.0)
    with pytest.raises(AzServiceError) as info:
        client.get_status()
    assert len(session.calls) == 7
    assert sleeps == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]  # capped at 30 s
    assert info.value.status is None and info.value.attempts == 7
    assert 'after 7 attempt(s)' in info.value.message and 'Connection refused' in info.value.message


def test_retries_zero_means_one_attempt():
    client, session, sleeps = make_client({'/status': [response(503)]}, retries=0)
    with pytest.raises(AzServiceError) as info:
        client.get_status()
    assert info.value.status == 503 and len(session.calls) == 1 and sleeps == []


@pytest.mark.parametrize('header, delay', [('7', 7.0), ('0', 0.0), ('99999', 120.0)])
def test_retry_after_is_honoured(header, delay):
    client, _session, sleeps = make_client({'/resume': [response(429, headers={'Retry-After': header}), response(200)]})
    client.resume()
    assert sleeps == [delay]


def test_transport_note_added_to_connection_errors_only():
    client, _session, _sleeps = make_client({'/status': [connect_refused()], '/pause': [response(400)]}, retries=0,
                                            transport_note=lambda: 'port-forward to pod kfuse/az-0 port 8080')
    with pytest.raises(AzServiceError) as info:
        client.get_status()
    assert info.value.message.endswith('; via port-forward to pod kfuse/az-0 port 8080')
    with pytest.raises(AzServiceError) as info:
        client.pause()
    assert 'port-forward' not in info.value.message


# -- token, body, TLS ----------------------------------------------------------------------------------------

def test_token_sent_in_the_header():
    # Masking the token in results is the module base's job (no_log option): see test_base.py.
    client, session, _sleeps = make_client({'/status': [response(200, '{}')]}, token=TOKEN)
    client.get_status()
    assert session.headers['Authorization'] == 'Bearer ' + TOKEN


def test_long_body_is_truncated():
    client, _session, _sleeps = make_client({'/status': [response(500, 'x' * 10000)]})
    with pytest.raises(AzServiceError) as info:
        client.get_status()
    assert len(info.value.body) < 2100 and info.value.body.endswith('(8000 more characters)')


def test_timeout_passed_per_request():
    client, session, _sleeps = make_client({'/status': [response(200, STANDBY)]}, timeout=4.5)
    client.get_status()
    assert session.calls[0][3] == 4.5


@pytest.mark.parametrize('verify, cert', [(True, None), (False, None), ('/etc/kfuse/ca.pem', None),
                                          (True, ('/tmp/c.pem', '/tmp/k.pem')), (True, '/tmp/both.pem')])
def test_tls_options_reach_requests(monkeypatch, verify, cert):
    seen = {}

    def fake_send(_adapter, request, **kwargs):
        seen.update(kwargs)
        seen['headers'] = dict(request.headers)
        resp = response(200, STANDBY)
        resp.request = request
        return resp

    monkeypatch.setattr(requests.adapters.HTTPAdapter, 'send', fake_send)
    # The options must win over the environment (requests lets this variable override session.verify).
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/elsewhere/bundle.pem')
    client = AzServiceClient(BASE, verify=verify, cert=cert, token=TOKEN, timeout=9, sleep=lambda s: None)
    status, answer = client.get_status()
    assert status['state'] == 'standby' and answer.status_code == 200
    # validate_certs=true without ca_path means "the default trust store", which the environment may name.
    assert seen['verify'] == ('/elsewhere/bundle.pem' if verify is True else verify)
    assert seen['cert'] == cert and seen['timeout'] == 9
    assert seen['headers']['Authorization'] == 'Bearer ' + TOKEN


@pytest.mark.parametrize('body, zone, expected', [
    (ACTIVATING_AZ1, 'az1', True), (ACTIVATING_AZ1, 'az2', False),
    (json.dumps({'state': 'active', 'activation': {'sourceZone': 'az1'}}), 'az1', True),
    (json.dumps({'state': 'activating'}), 'az1', True),
    (json.dumps({'state': 'active'}), 'az1', False),
    (STANDBY, 'az1', False), ('garbage', 'az1', False),
])
def test_activation_matches(body, zone, expected):
    assert activation_matches(az_service.normalize_status(body), zone) is expected
