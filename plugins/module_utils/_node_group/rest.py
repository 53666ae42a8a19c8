# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""JSON over HTTPS with a bearer token: what the GKE and AKS providers share.

The provider gives the token source (google-auth or azure-identity) and translates answers >= 400 in its own
error shape; here are the session (TLS from ``ca_path``/``validate_certs``), the one place a token is attached,
the hosts a token may be sent to, and connection errors turned into transient NodeGroupErrors.
"""

from __future__ import annotations

import json
import urllib.parse

from ansible_collections.kfuse.failover.plugins.module_utils._http import HAS_REQUESTS, new_session  # noqa: F401 (re-exported)
from ansible_collections.kfuse.failover.plugins.module_utils._names import is_loopback
from ansible_collections.kfuse.failover.plugins.module_utils._retry import parse_retry_after
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

if HAS_REQUESTS:
    import requests

BODY_LIMIT = 500
TRANSIENT_STATUS = frozenset((429, 500, 502, 503, 504))


def check_api_url(value, option='api_url'):
    """An https:// base URL (http:// only to this machine), without a trailing slash."""
    parsed = urllib.parse.urlsplit(value or '')
    if parsed.scheme not in ('https', 'http') or not parsed.hostname or parsed.query or parsed.fragment:
        raise OptionError('%s must be an https:// URL such as https://container.googleapis.com, got %r'
                          % (option, value))
    if parsed.scheme == 'http' and not is_loopback(parsed.hostname):
        raise OptionError('%s: refusing to send credentials over plain http:// to %s; use https://'
                          % (option, parsed.hostname))
    return value.rstrip('/')


def verify_setting(params):
    """What requests and azure-core take as ``verify``: False, a CA bundle path, or True."""
    if not params.get('validate_certs', True):
        return False
    return params.get('ca_path') or True


class Answer:
    """One HTTP answer: status, parsed JSON body (None when not JSON), headers, text (trimmed)."""

    def __init__(self, status, body, headers, text):
        self.status = status
        self.body = body
        self.headers = headers
        self.text = text

    @property
    def retry_after(self):
        return parse_retry_after(self.headers.get('Retry-After'))


class RestClient:
    """Bearer-token JSON client. ``token()`` returns a current access token; ``error(message, code=, transient=)``
    builds the provider's NodeGroupError; tokens go only to ``base_url``'s host and to ``trusted_suffixes``."""

    def __init__(self, base_url, token, error, verify=True, timeout=60.0, trusted_suffixes=()):
        self.base_url = base_url
        self.token = token
        self.error = error
        self.timeout = timeout
        self.trusted_suffixes = tuple(trusted_suffixes)
        self.session = new_session(verify)

    def trusted(self, url):
        parsed = urllib.parse.urlsplit(url)
        base = urllib.parse.urlsplit(self.base_url)
        if parsed.scheme not in ('https', 'http') or (parsed.scheme == 'http' and not is_loopback(parsed.hostname)):
            return False
        if (parsed.hostname, parsed.port) == (base.hostname, base.port):
            return True
        host = parsed.hostname or ''
        return any(host == suffix.lstrip('.') or host.endswith(suffix) for suffix in self.trusted_suffixes)

    def call(self, method, url, body=None, params=None, headers=None):
        """Send one request; returns an Answer whatever its status, raises on connection problems."""
        if not self.trusted(url):
            raise self.error('refusing to send the access token to %s (not the API host of api_url)' % url,
                             code='UntrustedUrl')
        sent = {'Authorization': 'Bearer ' + self.token(), 'Accept': 'application/json'}
        sent.update(headers or {})
        try:
            response = self.session.request(method, url, json=body, params=params, headers=sent,
                                            timeout=self.timeout)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise self.error('%s %s failed: %s' % (method, url.split('?')[0], exc), code=type(exc).__name__,
                             transient=True) from None
        except requests.exceptions.RequestException as exc:
            raise self.error('%s %s failed: %s' % (method, url.split('?')[0], exc), code=type(exc).__name__) from None
        text = response.text or ''
        try:
            parsed = json.loads(text) if text.strip() else {}
        except ValueError:
            parsed = None
        return Answer(response.status_code, parsed, response.headers, text[:BODY_LIMIT])
