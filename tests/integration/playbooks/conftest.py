# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the end-to-end suite: a fresh lab per test (a failover changes Kubernetes objects, node groups and
the bucket, which the az-service reset of the session lab cannot undo) and the collection's playbooks run on it.
The labs start with rbac=True: the playbooks reach Kubernetes as the ServiceAccount bound to exactly the shipped
RBAC (extensions/rbac), so a missing permission fails a test; the tests read the lab with the admin kubeconfig."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from e2e_support import LabView, lab_running  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def per_zone_lab(tmp_path_factory):
    with lab_running(tmp_path_factory.mktemp("e2e-per-zone"), topology="per-zone", rbac=True) as info:
        yield LabView(info)


@pytest.fixture(params=["per-zone", "shared"])
def topology_lab(request, tmp_path_factory):
    with lab_running(tmp_path_factory.mktemp("e2e-" + request.param), topology=request.param, rbac=True) as info:
        yield LabView(info)
