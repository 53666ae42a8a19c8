# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running az_* modules in-process with their HTTP layer replaced by a scripted fake client."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kfuse.failover.plugins.module_utils._az_module import AzServiceModule
from ansible_collections.kfuse.failover.plugins.module_utils._az_status import normalize_status
from ansible_collections.kfuse.failover.plugins.module_utils.az_service import AzResponse
from ansible_collections.kfuse.failover.plugins.module_utils.errors import AzServiceError
from ansible_collections.kfuse.failover.tests.unit.module_runner import run_module


class FakeClient:
    """Stands in for AzServiceClient: /status bodies in order (the last repeats) and scripted POST answers."""

    def __init__(self, statuses, answers=None, status_map=None):
        self.statuses = [s if isinstance(s, (str, Exception)) else json.dumps(s) for s in statuses]
        self.answers = answers or {}
        self.posts = []
        self.status_reads = 0
        self.closed = False
        self.status_map = status_map

    def get_status(self):
        self.status_reads += 1
        body = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if isinstance(body, Exception):
            raise body
        return normalize_status(body, self.status_map), AzResponse(200, body)

    def _post(self, path, params):
        self.posts.append((path, dict(params or {})))
        answer = self.answers.get(path, AzResponse(200, '{}'))
        if isinstance(answer, AzServiceError):
            raise answer
        return answer

    def pause(self, params=None):
        return self._post('/pause', params)

    def resume(self, params=None):
        return self._post('/resume', params)

    def activate(self, zone, params):
        assert params.get('zone', zone) == zone
        return self._post('/activate', params)

    def close(self):
        self.closed = True


@pytest.fixture(name='fake_client')
def fixture_fake_client():
    """The FakeClient class (conftest modules are not importable from tests under ansible-test)."""
    return FakeClient


@pytest.fixture(name='run_module')
def fixture_run_module():
    """run_module(main, args, client=None) -> (result dict, failed bool), through the shared module runner.

    The module builds no real client: ``client`` (a FakeClient) stands in for it.
    """

    def run(main, args, client=None):
        def build_client(_module, **_kwargs):
            if client is None:
                raise AssertionError('the module tried to build a client')
            return client

        return run_module(main, args, patches=[(AzServiceModule, 'build_client', build_client)])

    return run
