# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running az_* modules in-process with their HTTP layer replaced by a scripted fake client."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.kfuse.failover.plugins.module_utils._az_module import AzServiceModule
from ansible_collections.kfuse.failover.plugins.module_utils._az_wire import normalize_status
from ansible_collections.kfuse.failover.plugins.module_utils.az_service import AzResponse, AzServiceError
from ansible_collections.kfuse.failover.tests.unit.module_args import patch_module_args


class ModuleExit(Exception):
    """exit_json / fail_json, captured."""

    def __init__(self, result, failed):
        super().__init__(result.get('msg', ''))
        self.result = result
        self.failed = failed


class FakeClient:
    """Stands in for AzServiceClient: /status bodies in order (the last repeats) and scripted POST answers."""

    def __init__(self, statuses, answers=None):
        self.statuses = [s if isinstance(s, (str, Exception)) else json.dumps(s) for s in statuses]
        self.answers = answers or {}
        self.posts = []
        self.status_reads = 0
        self.closed = False

    def get_status(self):
        self.status_reads += 1
        body = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if isinstance(body, Exception):
            raise body
        return normalize_status(body), AzResponse(200, body)

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
    """run_module(main, args, client=None) -> (result dict, failed bool). Builds no real client."""

    def run(main, args, client=None):
        warnings = []

        def exit_json(_module, **kwargs):
            raise ModuleExit(dict(kwargs, warnings=warnings), failed=False)

        def fail_json(_module, **kwargs):
            raise ModuleExit(dict(kwargs, warnings=warnings), failed=True)

        def build_client(_module, **_kwargs):
            if client is None:
                raise AssertionError('the module tried to build a client')
            return client

        with patch_module_args(args), \
                mock.patch.object(basic.AnsibleModule, 'exit_json', exit_json), \
                mock.patch.object(basic.AnsibleModule, 'fail_json', fail_json), \
                mock.patch.object(basic.AnsibleModule, 'warn', lambda _module, text: warnings.append(text)), \
                mock.patch.object(AzServiceModule, 'build_client', build_client):
            try:
                main()
            except ModuleExit as done:
                return done.result, done.failed
        raise AssertionError('module returned without exit_json or fail_json')

    return run
