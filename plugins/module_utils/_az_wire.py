# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wire format of the az-service: query parameter names and status body normalisation.

This file is the single place that knows how the az-service spells things on the wire. Only ``force``,
``zone`` and ``latestTime`` are confirmed by the vendor documentation; the other parameter names are
best guesses, which is why every module also offers ``extra_params`` (sent verbatim, winning over the
names below).

Status bodies are undocumented. ``normalize_status`` never raises: it accepts JSON objects with
alternative field names, JSON scalars, plain text and empty bodies, and returns ``None`` for anything
it cannot tell.
"""

from __future__ import annotations

import json
import re

# Module option name -> query parameter name of POST /activate.
ACTIVATE_WIRE_NAMES = {
    'zone': 'zone',
    'latest_time': 'latestTime',
    'source_namespace': 'sourceNamespace',
    'source_force': 'sourceForce',
    'batch_size': 'batchSize',
}
PAUSE_FORCE_WIRE_NAME = 'force'

STATES = ('active', 'paused', 'standby', 'activating', 'failed', 'unknown')

# Words seen (or plausibly used) by services for each normalised state, lower case.
_STATE_SYNONYMS = {
    'active': ('active', 'activated', 'running', 'consuming', 'resumed', 'ready', 'primary', 'live', 'done'),
    'paused': ('paused', 'suspended', 'stopped'),
    'standby': ('standby', 'stand-by', 'stand_by', 'idle', 'inactive', 'passive', 'secondary', 'cold'),
    'activating': ('activating', 'restoring', 'rehydrating', 'hydrating', 'resuming', 'in_progress', 'in-progress',
                   'inprogress', 'starting', 'recovering', 'running_activation'),
    'failed': ('failed', 'failure', 'error', 'errored', 'aborted'),
}
_WORD_TO_STATE = {word: state for state, words in _STATE_SYNONYMS.items() for word in words}

_STATE_KEYS = ('state', 'status', 'phase', 'mode', 'azState', 'az_state')
_ZONE_KEYS = ('zone', 'zoneId', 'zone_id', 'zoneID')
_SOURCE_ZONE_KEYS = ('sourceZone', 'source_zone', 'fromZone', 'from_zone', 'restoredZone', 'restored_zone',
                     'restoredFrom', 'restored_from', 'source')
_ACTIVATION_KEYS = ('activation', 'restore', 'rehydration', 'recovery')
_PHASE_KEYS = ('phase', 'stage', 'step')
_CONSUMING_KEYS = ('consuming', 'pinotConsuming', 'pinot_consuming', 'consumption', 'ingesting')
_SILENCED_KEYS = ('alertsSilenced', 'alerts_silenced', 'silenced', 'alertsMuted', 'alerts_muted')
_DONE_KEYS = ('done', 'rehydrated', 'completed', 'complete', 'restored', 'processed', 'current')
_TOTAL_KEYS = ('total', 'count', 'expected', 'of')
_PERCENT_KEYS = ('percent', 'percentage', 'pct')
_PROGRESS_KEYS = ('progress', 'segments', 'rehydrationProgress', 'rehydration_progress')
_ERROR_KEYS = ('error', 'errorMessage', 'error_message', 'failure', 'reason')


def encode_value(value):
    """Query string form of one parameter value (booleans as true/false, the way the vendor docs write them)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return [encode_value(item) for item in value]
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


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


def parse_body(text):
    """JSON value of a body, or None when the body is empty or not JSON."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode('utf-8', errors='replace')
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def state_from_word(word):
    """Normalised state of a free-form state word ('Rehydrating', 'ACTIVE', ...), 'unknown' if not recognised."""
    if not isinstance(word, str):
        return 'unknown'
    key = word.strip().lower().replace(' ', '_')
    return _WORD_TO_STATE.get(key, 'unknown')


def _first(mapping, keys):
    """First value of ``keys`` present (and not None) in ``mapping``."""
    if not isinstance(mapping, dict):
        return None
    for key in keys:
        if mapping.get(key) is not None:
            return mapping[key]
    return None


def _as_bool(value):
    """Boolean of a flag that may be a bool, a number or a word; None when it cannot be told."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ('true', 'yes', 'on', '1', 'running', 'consuming', 'active', 'silenced', 'muted', 'enabled'):
            return True
        if word in ('false', 'no', 'off', '0', 'paused', 'stopped', 'unsilenced', 'unmuted', 'disabled'):
            return False
    return None


def _as_number(value):
    """Float of a number or numeric string, None otherwise (booleans are not numbers here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _as_text(value):
    """Short text of a scalar, None for anything else."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _clean_count(value):
    number = _as_number(value)
    if number is None or number < 0:
        return None
    return int(number) if number == int(number) else number


def _percent_from(value):
    """Percent (0..100) of a fraction (0..1), a percent number or a string such as '40%', '0.4' or '12/30'."""
    if isinstance(value, str):
        text = value.strip()
        match = re.match(r'^(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)$', text)
        if match:
            done, total = float(match.group(1)), float(match.group(2))
            return (done / total * 100.0) if total else None
        if text.endswith('%'):
            number = _as_number(text[:-1])
            return number if number is not None and 0 <= number <= 100 else None
    number = _as_number(value)
    if number is None or number < 0:
        return None
    if number <= 1:
        return number * 100.0
    if number <= 100:
        return number
    return None


def normalize_progress(source):
    """``{done, total, percent}`` of whatever progress information ``source`` (a dict or a scalar) carries."""
    progress = {'done': None, 'total': None, 'percent': None}
    if source is None:
        return progress
    if isinstance(source, dict):
        progress['done'] = _clean_count(_first(source, _DONE_KEYS))
        progress['total'] = _clean_count(_first(source, _TOTAL_KEYS))
        percent = _first(source, _PERCENT_KEYS)
        if percent is not None:
            number = _as_number(percent[:-1] if isinstance(percent, str) and percent.endswith('%') else percent)
            progress['percent'] = number if number is not None and 0 <= number <= 100 else None
        elif _first(source, ('fraction', 'ratio')) is not None:
            progress['percent'] = _percent_from(_first(source, ('fraction', 'ratio')))
    else:
        if isinstance(source, str):
            match = re.match(r'^\s*(\d+)\s*/\s*(\d+)\s*$', source)
            if match:
                progress['done'], progress['total'] = int(match.group(1)), int(match.group(2))
        progress['percent'] = _percent_from(source)
    if progress['percent'] is None and progress['done'] is not None and progress['total']:
        progress['percent'] = progress['done'] / progress['total'] * 100.0
    if progress['percent'] is not None:
        progress['percent'] = round(progress['percent'], 1)
    return progress


def _progress_source(*containers):
    """The first progress-like value found in the containers, in order."""
    for container in containers:
        if not isinstance(container, dict):
            continue
        value = _first(container, _PROGRESS_KEYS)
        if value is not None:
            return value
        if _first(container, _DONE_KEYS) is not None and _first(container, _TOTAL_KEYS) is not None:
            return container
        if _first(container, _PERCENT_KEYS) is not None:
            return container
    return None


def _state_value(container):
    """State word of a container, descending into a nested object such as {"status": {"state": ...}}."""
    value = _first(container, _STATE_KEYS)
    if isinstance(value, dict):
        return _first(value, _STATE_KEYS)
    return value


def _error_text(*containers):
    for container in containers:
        value = _first(container, _ERROR_KEYS)
        if isinstance(value, dict):
            value = _first(value, ('message', 'msg', 'detail', 'error', 'reason')) or json.dumps(value, sort_keys=True)
        text = _as_text(value)
        if text:
            return text
    return None


def empty_status():
    """A normalised status in which nothing is known."""
    return {
        'state': 'unknown', 'zone': None, 'consuming': None, 'alerts_silenced': None, 'source_zone': None,
        'phase': None, 'progress': normalize_progress(None), 'error': None,
    }


def normalize_status(body):
    """Normalised status of a /status body (text, bytes or an already parsed JSON value). Never raises.

    Returns ``{state, zone, consuming, alerts_silenced, source_zone, phase, progress: {done, total, percent},
    error}``; ``state`` is one of STATES and every other field is None when the body does not tell it.
    """
    status = empty_status()
    data = parse_body(body) if isinstance(body, (str, bytes)) or body is None else body
    if data is None and isinstance(body, (str, bytes)):
        # A plain-text body such as "active" or "state: paused".
        text = body.decode('utf-8', errors='replace') if isinstance(body, bytes) else body
        words = re.findall(r'[A-Za-z_-]+', text)
        if 0 < len(words) <= 3:
            status['state'] = state_from_word(words[-1])
        return status
    if isinstance(data, str):
        status['state'] = state_from_word(data)
        return status
    if isinstance(data, list):
        # Tolerate a one-element list wrapping the object.
        objects = [item for item in data if isinstance(item, dict)]
        if len(objects) != 1:
            return status
        data = objects[0]
    if not isinstance(data, dict):
        return status

    nested_status = data.get('status') if isinstance(data.get('status'), dict) else {}
    activation = _first(data, _ACTIVATION_KEYS)
    if not isinstance(activation, dict):
        activation = _first(nested_status, _ACTIVATION_KEYS)
    if not isinstance(activation, dict):
        activation = {}

    state_word = _state_value(data)
    status['state'] = state_from_word(state_word) if state_word is not None else 'unknown'

    phase = _as_text(_first(activation, _PHASE_KEYS)) or _as_text(data.get('phase')) or _as_text(nested_status.get('phase'))
    status['phase'] = phase
    if status['state'] == 'unknown' and phase:
        phase_state = state_from_word(phase)
        # A finished activation means active; 'done' is in the active synonyms.
        status['state'] = phase_state

    status['zone'] = _as_text(_first(data, _ZONE_KEYS)) or _as_text(_first(nested_status, _ZONE_KEYS))
    source = _first(activation, _SOURCE_ZONE_KEYS)
    if source is None:
        source = _first(activation, _ZONE_KEYS)
    if source is None:
        source = _first(data, _SOURCE_ZONE_KEYS)
    status['source_zone'] = _as_text(source)

    consuming = _first(data, _CONSUMING_KEYS)
    if consuming is None:
        consuming = _first(nested_status, _CONSUMING_KEYS)
    status['consuming'] = _as_bool(consuming)

    silenced = _first(data, _SILENCED_KEYS)
    if silenced is None:
        silenced = _first(nested_status, _SILENCED_KEYS)
    alerts = data.get('alerts')
    if silenced is None and isinstance(alerts, dict):
        silenced = _first(alerts, ('silenced', 'muted'))
        if silenced is None and _first(alerts, ('enabled', 'active')) is not None:
            enabled = _as_bool(_first(alerts, ('enabled', 'active')))
            silenced = None if enabled is None else not enabled
    elif silenced is None and isinstance(alerts, str):
        silenced = alerts
    status['alerts_silenced'] = _as_bool(silenced)

    status['progress'] = normalize_progress(_progress_source(activation, data, nested_status))
    status['error'] = _error_text(activation, data, nested_status)
    if status['state'] not in ('failed',) and phase and state_from_word(phase) == 'failed':
        status['state'] = 'failed'
    return status
