# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""requests Sessions that keep the TLS verification they were given.

Private to the collection. A Session's ``verify`` loses to E(REQUESTS_CA_BUNDLE)/E(CURL_CA_BUNDLE) whenever a request
does not pass its own (requests issue 3829), and the Google and Azure libraries never do: ``ca_path`` and
``validate_certs=false`` would be ignored on any machine that sets those variables. ``PinnedVerifyMixin`` passes the
session's ``verify`` with every request; ``new_session(verify)`` is a plain Session built with it.
"""

from __future__ import annotations

try:
    import requests
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False


class PinnedVerifyMixin:
    """Put before a requests.Session class (or a subclass such as google-auth's AuthorizedSession)."""

    def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
        if kwargs.get('verify') is None:
            kwargs['verify'] = self.verify
        return super().request(method, url, *args, **kwargs)


if HAS_REQUESTS:
    class PinnedVerifySession(PinnedVerifyMixin, requests.Session):
        """A plain Session whose ``verify`` the environment cannot override."""


def new_session(verify):
    """A Session that uses ``verify`` (False, a CA bundle path or True) for every request."""
    session = PinnedVerifySession()
    session.verify = verify
    return session
