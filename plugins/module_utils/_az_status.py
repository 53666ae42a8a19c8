# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading the az-service ``GET /status`` body: understood, or said not to be, never guessed into success.

Private to the collection. The body of the real service is not public, so the parser reads by rule:

- Shapes: a JSON object (flat or nested, any depth), a ``key=value`` / ``key: value`` text body
  (``state=active progress=100``), a JSON string or a bare word (``active``). Anything else (HTML error pages,
  empty bodies, lists) is not understood.
- The state is the shallowest string under a key named ``state`` (or ending in ``State``/``_state``, such as
  ``azState``) or ``status``; ``mode`` is not a state key. A state word becomes a state only through
  ``STATE_TABLE`` below; any other word leaves the state ``unknown`` (``state_word`` keeps what was said).
- Progress counters are found by rule in any nesting, snake_case or camelCase: in one object, a number under a key
  naming a done-count (a word such as done, rehydrated, completed, restored, processed) paired with a number under a
  key naming a total (total, of, expected, count); a percent is a number under a key naming a percent (percent,
  pct, percentage) or a ``progress`` scalar (``40``, ``"40%"``, ``"12/30"``).
- The source zone is the shallowest string under a key naming a source zone (``sourceZone``, ``source_zone``,
  ``restoredFrom``, ``fromZone``, ``source``); the zone under ``zone``/``zoneId``. Consumption and alert
  silencing are booleans under keys containing consuming/consumption and silenced/muted.
- ``status_map`` (the modules' option) points at the fields of a shape the rules do not read: dotted paths
  (``health.mode``, ``items.0.state``) for ``state``, ``done``, ``total``, ``percent``, ``source_zone``,
  ``zone``, ``consuming``, ``alerts_silenced``, ``phase`` and ``error``, and lists of the service's words for
  each state (``active: [PRIMARY]``), checked before the table.

STATE_TABLE (case-insensitive, spaces and hyphens read as underscores):

=============  ==========================================================================================
state          words
=============  ==========================================================================================
active         active, activated
paused         paused, suspended
standby        standby, stand_by, inactive, passive
activating     activating, restoring, rehydrating, hydrating, recovering, in_progress, inprogress
failed         failed, failure, error, errored, aborted
=============  ==========================================================================================

Words such as ``done``, ``primary``, ``running`` or ``ready`` are not in the table: they do not clearly mean
"active", so they never end a wait as success. Add them for your service with ``status_map``.
"""

from __future__ import annotations

import json
import math
import re

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

STATES = ('active', 'paused', 'standby', 'activating', 'failed', 'unknown')
STATE_TABLE = {
    'active': ('active', 'activated'),
    'paused': ('paused', 'suspended'),
    'standby': ('standby', 'stand_by', 'inactive', 'passive'),
    'activating': ('activating', 'restoring', 'rehydrating', 'hydrating', 'recovering', 'in_progress', 'inprogress'),
    'failed': ('failed', 'failure', 'error', 'errored', 'aborted'),
}
_WORD_TO_STATE = {word: state for state, words in STATE_TABLE.items() for word in words}

# status_map: where each field is (dotted paths), and the service's words for each state.
STATUS_MAP_PATHS = ('state', 'done', 'total', 'percent', 'source_zone', 'zone', 'consuming', 'alerts_silenced',
                    'phase', 'error')
STATUS_MAP_STATES = ('active', 'paused', 'standby', 'activating', 'failed')

_DONE_WORDS = frozenset(('done', 'rehydrated', 'hydrated', 'completed', 'complete', 'restored', 'processed',
                         'finished', 'loaded', 'copied', 'current'))
_TOTAL_WORDS = frozenset(('total', 'of', 'expected', 'count', 'all'))
_PERCENT_WORDS = frozenset(('percent', 'pct', 'percentage'))
_PAIR = re.compile(r'''([A-Za-z_][\w.-]*)\s*[=:]\s*("[^"]*"|'[^']*'|[^\s,;]+)''')
_TRUE_WORDS = ('true', 'yes', 'on', '1', 'running', 'consuming', 'active', 'silenced', 'muted', 'enabled')
_FALSE_WORDS = ('false', 'no', 'off', '0', 'paused', 'stopped', 'unsilenced', 'unmuted', 'disabled')


def key_words(key):
    """Lower-case words of a key in snake_case, camelCase, kebab-case or dotted form."""
    spaced = re.sub(r'([a-z0-9])([A-Z])', r'\1 \2', str(key))
    spaced = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1 \2', spaced)
    return [word for word in re.split(r'[^a-z0-9]+', spaced.lower()) if word]


def state_from_word(word, status_map=None):
    """State of a state word through status_map's words, then STATE_TABLE; 'unknown' for any other word."""
    if not isinstance(word, str) or not word.strip():
        return 'unknown'
    key = re.sub(r'[\s-]+', '_', word.strip().lower())
    for state in STATUS_MAP_STATES:
        if key in [re.sub(r'[\s-]+', '_', str(item).strip().lower()) for item in (status_map or {}).get(state) or ()]:
            return state
    return _WORD_TO_STATE.get(key, 'unknown')


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


def _scalar(text):
    """A key=value text value as a JSON-like scalar."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '"\'':
        return text[1:-1]
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number == int(number) and 'e' not in text.lower() and '.' not in text else number


def parse_pairs(text):
    """``{key: value}`` of a ``key=value`` / ``key: value`` text body (dotted keys nest), or None without pairs."""
    if not isinstance(text, str) or text.lstrip().startswith('<'):
        return None
    pairs = _PAIR.findall(text)
    if not pairs:
        return None
    data = {}
    for key, value in pairs:
        target = data
        parts = key.split('.')
        for part in parts[:-1]:
            target = target.setdefault(part, {}) if isinstance(target.get(part, {}), dict) else {}
        target[parts[-1]] = _scalar(value)
    return data


def body_data(body):
    """The structured data of a body: a dict (JSON object or key=value text), a word, or None."""
    data = parse_body(body) if isinstance(body, (str, bytes)) or body is None else body
    if data is None and isinstance(body, (str, bytes)):
        text = body.decode('utf-8', errors='replace') if isinstance(body, bytes) else body
        pairs = parse_pairs(text)
        if pairs is not None:
            return pairs
        words = text.split()
        return words[0] if len(words) == 1 and re.match(r'^[A-Za-z_-]+$', words[0]) else None
    if isinstance(data, list):
        objects = [item for item in data if isinstance(item, dict)]
        return objects[0] if len(objects) == 1 else None
    return data if isinstance(data, (dict, str)) else None


def _walk(data):
    """(depth, path, key words, value, parent) of every key of nested dicts (and lists), shallowest first."""
    found = []
    pending = [(0, (), data)]
    while pending:
        depth, path, node = pending.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            entry = (depth, path + (str(key),), key_words(key) if isinstance(node, dict) else [], value, node)
            found.append(entry)
            if isinstance(value, (dict, list)):
                pending.append((depth + 1, path + (str(key),), value))
    return found


def lookup(data, path):
    """Value at a dotted ``path`` (list indexes as numbers), or None when any step is missing."""
    node = data
    for part in path.split('.'):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _as_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return None


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().rstrip('%').strip()
        try:
            return _as_number(float(text))
        except ValueError:
            return None
    return None


def _as_text(value):
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _count(value):
    number = _as_number(value)
    if number is None or number < 0 or (isinstance(value, str) and value.strip().endswith('%')):
        return None
    return int(number) if number == int(number) else number


def _percent(value):
    """Percent 0..100 of '40%', 40, 0.4 (a fraction) or '12/30'; None otherwise."""
    if isinstance(value, str):
        match = re.match(r'^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$', value)
        if match:
            total = float(match.group(2))
            return float(match.group(1)) / total * 100.0 if total else None
    number = _as_number(value)
    if number is None or number < 0 or number > 100:
        return None
    fraction = isinstance(value, float) or (isinstance(value, str) and '.' in value and not value.strip().endswith('%'))
    if number <= 1 and fraction:
        return number * 100.0
    return number


def _is_state_key(words):
    return bool(words) and (words == ['status'] or words[-1] == 'state')


def _is_source_key(words):
    return ('source' in words and (len(words) == 1 or 'zone' in words)) or words in (
        ['restored', 'from'], ['from', 'zone'], ['restored', 'zone'], ['restored', 'from', 'zone'])


def _first(entries, predicate, convert):
    for _depth, _path, words, value, _parent in entries:
        if words and predicate(words):
            converted = convert(value)
            if converted is not None:
                return converted
    return None


def _progress(entries):
    progress = {'done': None, 'total': None, 'percent': None}
    containers = []
    seen = []
    for _depth, _path, _words, _value, parent in entries:
        if isinstance(parent, dict) and not any(parent is item for item in seen):
            seen.append(parent)
            containers.append(parent)
    for container in containers:
        done = total = None
        for key, value in container.items():
            words = set(key_words(key))
            if _count(value) is None:
                continue
            if words & _DONE_WORDS and done is None:
                done = _count(value)
            elif words & _TOTAL_WORDS and not words & _PERCENT_WORDS and total is None:
                total = _count(value)
        if done is not None and total is not None:
            progress['done'], progress['total'] = done, total
            break
    progress['percent'] = _first(entries, lambda words: bool(set(words) & _PERCENT_WORDS), _percent)
    if progress['percent'] is None:
        progress['percent'] = _first(entries, lambda words: words == ['progress'], _percent)
    if progress['done'] is None:
        text = _first(entries, lambda words: words == ['progress'],
                      lambda value: value if isinstance(value, str) and '/' in value else None)
        match = re.match(r'^\s*(\d+)\s*/\s*(\d+)\s*$', text or '')
        if match:
            progress['done'], progress['total'] = int(match.group(1)), int(match.group(2))
    if progress['percent'] is None and progress['done'] is not None and progress['total']:
        progress['percent'] = progress['done'] / progress['total'] * 100.0
    if progress['percent'] is not None:
        progress['percent'] = round(progress['percent'], 1)
    return progress


def empty_status():
    """A normalised status in which nothing is known."""
    return {'state': 'unknown', 'state_word': None, 'understood': False, 'zone': None, 'consuming': None,
            'alerts_silenced': None, 'source_zone': None, 'phase': None,
            'progress': {'done': None, 'total': None, 'percent': None}, 'error': None}


def _alerts_silenced(entries):
    silenced = _first(entries, lambda words: 'silenced' in words or 'muted' in words, _as_bool)
    if silenced is None:
        silenced = _first(entries, lambda words: words == ['alerts'],
                          lambda value: _as_bool(value) if isinstance(value, str) else None)
    if silenced is None:
        enabled = _first(entries, lambda words: words in (['alerts', 'enabled'], ['alerting', 'enabled']), _as_bool)
        if enabled is None:
            enabled = _first(entries, lambda words: words == ['alerts'],
                             lambda value: _as_bool(value.get('enabled')) if isinstance(value, dict) else None)
        silenced = None if enabled is None else not enabled
    return silenced


def _mapped(data, status_map, name, convert):
    path = (status_map or {}).get(name)
    if not path:
        return None, False
    return convert(lookup(data, path)), True


def normalize_status(body, status_map=None):
    """Normalised status of a /status body (text, bytes or parsed JSON); never raises.

    Returns ``{state, state_word, understood, zone, consuming, alerts_silenced, source_zone, phase,
    progress: {done, total, percent}, error}``. ``state`` is one of STATES; ``understood`` is true when a state
    word of the table (or of ``status_map``) was found; every other field is None when the body does not tell it.
    """
    status = empty_status()
    data = body_data(body)
    if isinstance(data, str):
        status['state_word'] = data
        status['state'] = state_from_word(data, status_map)
        status['understood'] = status['state'] != 'unknown'
        return status
    if not isinstance(data, dict):
        return status
    entries = _walk(data)

    word, mapped = _mapped(data, status_map, 'state', _as_text)
    if not mapped:
        word = _first(entries, _is_state_key, _as_text)
    status['state_word'] = word
    status['state'] = state_from_word(word, status_map)

    fields = (
        ('zone', lambda words: words in (['zone'], ['zone', 'id']), _as_text),
        ('source_zone', _is_source_key, _as_text),
        ('consuming', lambda words: bool({'consuming', 'consumption', 'ingesting'} & set(words)), _as_bool),
        ('phase', lambda words: words in (['phase'], ['stage'], ['step']), _as_text),
        ('error', lambda words: words in (['error'], ['error', 'message'], ['failure'], ['failure', 'reason']),
         lambda value: _as_text(value) or (_as_text(value.get('message')) if isinstance(value, dict) else None)),
    )
    for name, predicate, convert in fields:
        value, mapped = _mapped(data, status_map, name, convert)
        status[name] = value if mapped else _first(entries, predicate, convert)
    value, mapped = _mapped(data, status_map, 'alerts_silenced', _as_bool)
    status['alerts_silenced'] = value if mapped else _alerts_silenced(entries)

    progress = _progress(entries)
    for name, convert in (('done', _count), ('total', _count), ('percent', _percent)):
        value, mapped = _mapped(data, status_map, name, convert)
        if mapped:
            progress[name] = value
    if any((status_map or {}).get(name) for name in ('done', 'total', 'percent')):
        if progress['done'] is not None and progress['total'] and not (status_map or {}).get('percent'):
            progress['percent'] = round(progress['done'] / progress['total'] * 100.0, 1)
    status['progress'] = progress

    if status['phase'] and state_from_word(status['phase'], status_map) == 'failed':
        status['state'] = 'failed'  # a failed phase wins over any state word: it is never taken for success
    status['understood'] = status['state'] != 'unknown'
    return status


def check_status_map(status_map, option='status_map'):
    """The validated ``status_map`` option (or None); OptionError naming the bad key before any request."""
    if status_map is None:
        return None
    if not isinstance(status_map, dict):
        raise OptionError('%s must be a dict, got %s' % (option, type(status_map).__name__))
    known = STATUS_MAP_PATHS + STATUS_MAP_STATES
    clean = {}
    for key, value in status_map.items():
        if key not in known:
            raise OptionError('%s: unknown key %r; accepted: %s' % (option, key, ', '.join(known)))
        if value is None:
            continue
        if key in STATUS_MAP_PATHS:
            if not isinstance(value, str) or not value.strip() or any(not part for part in value.split('.')):
                raise OptionError('%s.%s must be a dotted path such as status.state or items.0.state, got %r'
                                  % (option, key, value))
            clean[key] = value.strip()
        else:
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(item, (str, int)) and str(item).strip() for item in values):
                raise OptionError('%s.%s must be a list of the words your service uses for %s, got %r'
                                  % (option, key, key, value))
            clean[key] = [str(item) for item in values]
    return clean
