# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ca_path and validate_certs survive REQUESTS_CA_BUNDLE (requests issue 3829)."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.kfuse.failover.plugins.module_utils import _http


@pytest.fixture
def sent(monkeypatch):
    """The verify value each request reaches the transport with."""
    seen = []

    def send(self, request, **kwargs):  # pylint: disable=unused-argument
        seen.append(kwargs.get('verify'))
        response = requests.Response()
        response.status_code = 200
        response.request = request
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, 'send', send)
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/etc/ssl/some-other-bundle.pem')
    return seen


@pytest.mark.parametrize('verify', [False, '/lab/ca.pem'])
def test_pinned_session_keeps_its_verify(sent, verify):
    _http.new_session(verify).get('https://example.invalid/')
    assert sent == [verify]


def test_default_trust_still_follows_the_environment(sent):
    # verify=True means "the default trust store", which REQUESTS_CA_BUNDLE is allowed to name
    _http.new_session(True).get('https://example.invalid/')
    assert sent == ['/etc/ssl/some-other-bundle.pem']


def test_a_plain_session_loses_it_which_is_why(sent):
    session = requests.Session()
    session.verify = '/lab/ca.pem'
    session.get('https://example.invalid/')
    assert sent == ['/etc/ssl/some-other-bundle.pem']


def test_an_explicit_verify_still_wins(sent):
    _http.new_session('/lab/ca.pem').get('https://example.invalid/', verify=False)
    assert sent == [False]


def test_gcs_store_session_is_pinned():
    from ansible_collections.kfuse.failover.plugins.module_utils import _storage_gcs
    assert issubclass(_storage_gcs._PinnedAuthorizedSession, _http.PinnedVerifyMixin)
