# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wire names and query building of the az-service requests."""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.module_utils import _az_wire as wire


def test_activate_params_use_wire_names_and_encode_booleans():
    params = wire.build_activate_params({'zone': 'az1', 'latest_time': '2026-11-21T10:00:00Z', 'source_namespace': 'kf',
                                         'source_force': True, 'batch_size': 25})
    assert params == {'zone': 'az1', 'latestTime': '2026-11-21T10:00:00Z', 'sourceNamespace': 'kf',
                      'sourceForce': 'true', 'batchSize': '25'}


def test_activate_params_skip_unset_options():
    assert wire.build_activate_params({'zone': 'az1', 'latest_time': None, 'source_force': False}) == {
        'zone': 'az1', 'sourceForce': 'false'}


def test_extra_params_win_over_mapped_names_and_none_removes():
    params = wire.build_activate_params({'zone': 'az1', 'batch_size': 5},
                                        {'batchSize': 50, 'skipResume': True, 'zone': None, 'segmentsPerBatch': 7})
    assert params == {'batchSize': '50', 'skipResume': 'true', 'segmentsPerBatch': '7'}


def test_pause_params():
    assert wire.build_pause_params(False) == {}
    assert wire.build_pause_params(True) == {'force': 'true'}
    assert wire.build_pause_params(False, {'force': 'yes'}) == {'force': 'yes'}
