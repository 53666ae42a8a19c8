# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wire format of the az-service requests: query parameter names and values.

This file is the single place that knows how the az-service spells things on the wire. Only ``force``,
``zone`` and ``latestTime`` are confirmed by the vendor documentation; the other parameter names are
best guesses, which is why every module also offers ``extra_params`` (sent verbatim, winning over the
names below).

Status bodies are read by ``_az_status`` (the one documented state table, ``status_map``).
"""

from __future__ import annotations

import json

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

# Module option name -> query parameter name of POST /activate.
ACTIVATE_WIRE_NAMES = {
    'zone': 'zone',
    'latest_time': 'latestTime',
    'source_namespace': 'sourceNamespace',
    'source_force': 'sourceForce',
    'batch_size': 'batchSize',
}
PAUSE_FORCE_WIRE_NAME = 'force'
# Wire names whose values the modules validate: extra_params may not override them (their options are checked).
VALIDATED_ACTIVATE_NAMES = {'zone': 'zone', 'latestTime': 'latest_time', 'batchSize': 'batch_size'}


def encode_value(value):
    """Query string form of one parameter value (booleans as true/false, the way the vendor docs write them)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return [encode_value(item) for item in value]
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def check_extra_params(extra_params, validated=None, option='extra_params'):
    """OptionError before any request for an extra parameter that is nested (a dict or a list is not a query value)
    or that overrides a wire name the module validates through its own option (``validated``: wire -> option)."""
    for name, value in (extra_params or {}).items():
        if isinstance(value, (dict, list, tuple)):
            raise OptionError('%s.%s: a query parameter takes a string, number or boolean, got a %s'
                              % (option, name, 'list' if isinstance(value, (list, tuple)) else 'dict'))
        if not str(name).strip():
            raise OptionError('%s: parameter names must not be empty' % option)
        if name in (validated or {}):
            raise OptionError('%s.%s: set it with the %s option, which is checked before anything is sent'
                              % (option, name, validated[name]))


def merge_extra_params(params, extra_params):
    """Apply ``extra_params`` over mapped parameters: verbatim names win; a None value removes the parameter."""
    merged = dict(params)
    for name, value in (extra_params or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[str(name)] = encode_value(value)
    return merged


def build_pause_params(force=False, extra_params=None):
    """Query parameters of POST /pause."""
    params = {PAUSE_FORCE_WIRE_NAME: 'true'} if force else {}
    return merge_extra_params(params, extra_params)


def build_activate_params(options, extra_params=None):
    """Query parameters of POST /activate from module options (already validated and converted).

    ``options`` maps option names (keys of ACTIVATE_WIRE_NAMES) to values; None means "not sent".
    """
    params = {}
    for option, wire_name in ACTIVATE_WIRE_NAMES.items():
        value = options.get(option)
        if value is not None:
            params[wire_name] = encode_value(value)
    return merge_extra_params(params, extra_params)
