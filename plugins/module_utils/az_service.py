# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP client of the Kloudfuse az-service: TLS, bearer token, retries and one error type.

Retry rule (also stated in the module documentation):

- A request that never reached the server (connection refused, DNS failure, connect timeout, TLS handshake
  cut short) is always retried.
- 429 and 503 mean "not processed" and are retried for every endpoint, honouring Retry-After.
- GET /status, POST /pause and POST /resume are idempotent: they are also retried after failures that may
  have reached the server (read timeout, connection dropped after the request was sent, 502, 504).
- POST /activate is never blindly re-sent after such a failure. The client first reads /status; when the
  service reports activation started or done for the requested zone, the activation is taken as accepted;
  otherwise the POST is retried. A 409 answer to /activate is checked the same way (another run may
  already have started the same activation).
- Every other HTTP error (4xx, 500, ...) and certificate verification failures fail at once.

Retries use exponential backoff with full jitter: before retry ``n`` (0-based) the client sleeps a uniform
random time in ``[0, min(30, retry_delay * 2**n)]``, or the Retry-After time when the server sent one.
"""

from __future__ import annotations

import random
import time
import traceback

from ansible_collections.kfuse.failover.plugins.module_utils._az_status import normalize_status, parse_body
from ansible_collections.kfuse.failover.plugins.module_utils.errors import AzServiceError  # noqa: F401 (re-exported)
from ansible_collections.kfuse.failover.plugins.module_utils._retry import (
    DEFAULT_MAX_DELAY,
    full_jitter_delay,
    parse_retry_after,
)

try:
    import requests
    from requests import exceptions as requests_exceptions
    from urllib3 import exceptions as urllib3_exceptions
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

NOT_PROCESSED_STATUSES = (429, 503)
MAYBE_PROCESSED_STATUSES = (502, 504)
BODY_LIMIT = 2000

# How a failed attempt relates to the server.
NOT_SENT = 'not_sent'          # never reached the server: safe to retry anything
MAYBE_SENT = 'maybe_sent'      # may have been processed: only idempotent calls are re-sent
FATAL = 'fatal'                # retrying cannot help


class AzResponse:
    """One answer of the az-service (or the status that stood in for a lost /activate answer)."""

    def __init__(self, status_code, text, headers=None, attempts=1, accepted_by_status=False, status_snapshot=None):
        self.status_code = status_code
        self.text = text
        self.headers = headers or {}
        self.attempts = attempts
        self.accepted_by_status = accepted_by_status
        self.status_snapshot = status_snapshot

    @property
    def json(self):
        """Parsed JSON body, None when the body is empty or not JSON."""
        return parse_body(self.text)

    def as_dict(self):
        """Summary returned by modules as ``response``."""
        return {'status': self.status_code, 'body': self.text, 'attempts': self.attempts,
                'accepted_by_status': self.accepted_by_status}


def truncate(text, limit=BODY_LIMIT):
    """``text`` cut to ``limit`` characters, saying so."""
    if text is None:
        return None
    if len(text) <= limit:
        return text
    return text[:limit] + '... (%d more characters)' % (len(text) - limit)


def _exception_chain(exc):
    """``exc`` and every exception it wraps (args, __cause__, __context__, urllib3 ``reason``)."""
    seen = []
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is item for item in seen) or len(seen) > 20:
            continue
        seen.append(current)
        linked = [current.__cause__, current.__context__, getattr(current, 'reason', None)] + list(getattr(current, 'args', ()))
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return seen


def classify_exception(exc):
    """NOT_SENT, MAYBE_SENT or FATAL for an exception raised by requests."""
    chain = _exception_chain(exc)
    text = ' '.join(str(item) for item in chain).lower()
    if isinstance(exc, requests_exceptions.SSLError):
        if 'certificate' in text or 'hostname' in text or 'wrong version number' in text:
            return FATAL
        return NOT_SENT  # handshake cut short (e.g. a port-forward whose pod end is gone): nothing was sent
    if isinstance(exc, (requests_exceptions.ConnectTimeout,)):
        return NOT_SENT
    if any(isinstance(item, (urllib3_exceptions.NewConnectionError, urllib3_exceptions.ConnectTimeoutError,
                             ConnectionRefusedError)) for item in chain):
        return NOT_SENT
    if isinstance(exc, (requests_exceptions.ReadTimeout, requests_exceptions.ConnectionError,
                        requests_exceptions.ChunkedEncodingError)):
        return MAYBE_SENT
    return FATAL


class AzServiceClient:
    """Client of one az-service at ``base_url``.

    ``session`` may be injected (tests); otherwise one is made with the TLS and token settings.
    ``transport_note`` is an optional callable whose text is appended to connection errors (the port-forward
    relay uses it to tell what went wrong on its side). ``status_map`` is the modules' option of that name
    (see ``_az_status``).
    """

    def __init__(self, base_url, token=None, verify=True, cert=None, timeout=30.0, retries=5, retry_delay=1.0,
                 max_delay=DEFAULT_MAX_DELAY, session=None, trust_env=True, transport_note=None,
                 sleep=time.sleep, rand=random.random, status_map=None):
        if not HAS_REQUESTS:
            raise AzServiceError('the requests Python library is required')
        self.base_url = base_url.rstrip('/')
        self.token = token or None
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.retry_delay = max(0.0, float(retry_delay))
        self.max_delay = max_delay
        self.transport_note = transport_note
        self.status_map = status_map
        self.sleep = sleep
        self.rand = rand
        self.session = session if session is not None else requests.Session()
        # Passed with every request as well: with trust_env, requests lets REQUESTS_CA_BUNDLE override session.verify.
        self.verify = verify
        self.cert = cert or None
        self.session.verify = verify
        if cert:
            self.session.cert = cert
        self.session.trust_env = trust_env
        self.session.headers['Accept'] = 'application/json, text/plain;q=0.9, */*;q=0.5'
        self.session.headers['User-Agent'] = 'kfuse.failover az-service client'
        if self.token:
            self.session.headers['Authorization'] = 'Bearer %s' % self.token

    # -- helpers -------------------------------------------------------------------------------------------

    def _url(self, path):
        return self.base_url + path

    def _error(self, message, method, url, status=None, body=None, attempts=None):
        if status is None and self.transport_note is not None:
            note = self.transport_note()
            if note:
                message = '%s; via %s' % (message, note)
        return AzServiceError(message, method=method, url=url, status=status, body=truncate(body), attempts=attempts)

    def _http_error(self, method, url, response, attempts):
        body = response.text
        detail = ''
        parsed = parse_body(body)
        if isinstance(parsed, dict):
            parts = [str(parsed[key]) for key in ('error', 'reason', 'message', 'detail') if parsed.get(key)]
            detail = ': ' + '; '.join(parts) if parts else ''
        elif body and body.strip():
            detail = ': ' + truncate(body.strip(), 200)
        message = '%s %s failed with HTTP %s %s%s' % (method, url, response.status_code, response.reason or '', detail)
        if attempts > 1:
            message += ' (after %d attempts)' % attempts
        return self._error(message, method, url, status=response.status_code, body=body, attempts=attempts)

    def _delay(self, retry_number, response=None):
        if response is not None:
            retry_after = parse_retry_after(response.headers.get('Retry-After'))
            if retry_after is not None:
                return retry_after
        return full_jitter_delay(retry_number, self.retry_delay, self.max_delay, self.rand)

    def _send_once(self, method, url, params):
        """(response, None, None) or (None, exception, NOT_SENT|MAYBE_SENT|FATAL)."""
        try:
            response = self.session.request(method, url, params=params or None, timeout=self.timeout,
                                            verify=self.verify, cert=self.cert)
        except requests_exceptions.RequestException as exc:
            return None, exc, classify_exception(exc)
        return response, None, None

    # -- the request loop ----------------------------------------------------------------------------------

    def request(self, method, path, params=None, idempotent=True, accepted_check=None):
        """Send one logical request with the retry rule of this module; returns an AzResponse.

        ``accepted_check`` (for non-idempotent calls) is called after a failure that may have reached the
        server; it returns an AzResponse when the server state shows the request took effect, else None.
        """
        url = self._url(path)
        shown_url = url
        if params:
            shown_url = requests.Request(method, url, params=params).prepare().url
        attempt = 0
        while True:
            attempt += 1
            response, exc, kind = self._send_once(method, url, params)
            retry_after_response = None
            if response is not None:
                code = response.status_code
                if 200 <= code < 300:
                    return AzResponse(code, response.text, dict(response.headers), attempts=attempt)
                if code in NOT_PROCESSED_STATUSES:
                    retry_after_response = response
                elif code in MAYBE_PROCESSED_STATUSES or (code == 409 and accepted_check is not None):
                    if not idempotent:
                        accepted = self._check_accepted(accepted_check, method, shown_url, 'HTTP %s' % code, attempt)
                        if accepted is not None:
                            return accepted
                    if code == 409:
                        raise self._http_error(method, shown_url, response, attempt)
                else:
                    raise self._http_error(method, shown_url, response, attempt)
                failure = self._http_error(method, shown_url, response, attempt)
            else:
                reason = exc
                if kind == FATAL:
                    raise self._error('%s %s failed: %s' % (method, shown_url, reason), method, shown_url, attempts=attempt)
                if kind == MAYBE_SENT and not idempotent:
                    accepted = self._check_accepted(accepted_check, method, shown_url, type(exc).__name__, attempt)
                    if accepted is not None:
                        return accepted
                failure = self._error('%s %s failed after %d attempt(s): %s' % (method, shown_url, attempt, reason),
                                      method, shown_url, attempts=attempt)
            if attempt > self.retries:
                raise failure
            self.sleep(self._delay(attempt - 1, retry_after_response))

    def _check_accepted(self, accepted_check, method, url, what, attempt):
        """Run the accepted check; a failure to read the state means we cannot know, which is fatal here."""
        if accepted_check is None:
            return None
        try:
            return accepted_check()
        except AzServiceError as exc:
            raise self._error(
                '%s %s may have reached the service (%s, attempt %d) and its outcome could not be checked on /status (%s); '
                'not re-sending it blindly' % (method, url, what, attempt, exc.message),
                method, url, status=exc.status, body=exc.body, attempts=attempt) from None

    # -- endpoints -----------------------------------------------------------------------------------------

    def get_status(self):
        """GET /status: (normalised status dict, AzResponse)."""
        response = self.request('GET', '/status')
        return normalize_status(response.text, self.status_map), response

    def pause(self, params=None):
        """POST /pause (params from _az_wire.build_pause_params)."""
        return self.request('POST', '/pause', params=params)

    def resume(self, params=None):
        """POST /resume."""
        return self.request('POST', '/resume', params=params)

    def activate(self, zone, params):
        """POST /activate for source ``zone`` with the full query ``params``; see the retry rule above."""

        def accepted_check():
            status, response = self.get_status()
            if activation_matches(status, zone):
                return AzResponse(response.status_code, response.text, response.headers,
                                  accepted_by_status=True, status_snapshot=status)
            return None

        return self.request('POST', '/activate', params=params, idempotent=False, accepted_check=accepted_check)

    def close(self):
        """Close the HTTP session."""
        self.session.close()


def activation_matches(status, zone):
    """True when a normalised status shows activation from ``zone`` started or done.

    When the body does not name the source zone, only an 'activating' state counts: an 'active' target
    with no source zone may be active on its own data, which says nothing about our request.
    """
    if status['state'] not in ('activating', 'active'):
        return False
    if status['source_zone'] is not None:
        return status['source_zone'] == zone
    return status['state'] == 'activating'
