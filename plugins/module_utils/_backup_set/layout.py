# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup-set layout: names, keys, set ids and the checks that keep every name one safe path segment.

Private to the collection (``_backup_set`` package; the public face is ``backup_set``). Layout (docs/backup-design.md)::

    <prefix>/<zone>/<set_id>/.writer                       conditional create first; guards against two writers
    <prefix>/<zone>/<set_id>/secrets/<namespace>/<name>.json[.enc]
    <prefix>/<zone>/<set_id>/helm/<release>/values.yaml[.enc]
    <prefix>/<zone>/<set_id>/files/<name>[.enc]
    <prefix>/<zone>/<set_id>/postgres/<database>.dump[.enc]
    <prefix>/<zone>/<set_id>/manifest.json                 conditional create last; a set without it is incomplete
"""

from __future__ import annotations

import datetime
import re
import secrets

from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import as_utc
from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

FORMAT = 'kfuse.failover/backup-set'
VERSION = 1
MANIFEST_NAME = 'manifest.json'
WRITER_NAME = '.writer'
ENCRYPTED_SUFFIX = '.enc'
KINDS = ('secret', 'helm_values', 'file', 'postgres')
DEFAULT_INCOMPLETE_AFTER = '24h'
STATUS_COMPLETE = 'complete'
STATUS_INCOMPLETE = 'incomplete'
STATUS_INVALID = 'invalid'

_SET_ID = re.compile(r'^(\d{8}T\d{6}Z)(-[0-9a-f]{6})?$')
_SET_ID_TIME = '%Y%m%dT%H%M%SZ'
_SEGMENT_BAD = re.compile(r'[\x00-\x1f\x7f\\]')


def check_segment(value, what):
    if not isinstance(value, str) or not value.strip() or value in ('.', '..') or '/' in value or _SEGMENT_BAD.search(value):
        raise OptionError('%s must be a non-empty name without "/", control characters or dot segments, got %r'
                          % (what, value))
    return value


def check_relative_path(value, what):
    if not isinstance(value, str) or not value or value.startswith('/'):
        raise OptionError('%s must be a relative path, got %r' % (what, value))
    for segment in value.split('/'):
        check_segment(segment, what + ' segment')
    return value


def new_set_id(now=None, unique=False):
    """UTC ``yyyymmddTHHMMSSZ`` of ``now`` (default: the current time), plus ``-`` and 6 hex digits when unique."""
    set_id = as_utc(now).strftime(_SET_ID_TIME)
    return set_id + '-' + secrets.token_hex(3) if unique else set_id


def set_id_time(set_id):
    """The aware UTC datetime a set id names, or None when it is not a set id."""
    match = _SET_ID.match(set_id or '')
    if not match:
        return None
    return as_utc(datetime.datetime.strptime(match.group(1), _SET_ID_TIME))


def zone_prefix(prefix, zone):
    base = (prefix or '').strip('/')
    check_segment(zone, 'zone')
    return '%s/%s/' % (base, zone) if base else zone + '/'


def set_prefix(prefix, zone, set_id):
    """``<prefix>/<zone>/<set_id>/`` (an empty prefix puts zones at the top of the bucket)."""
    check_segment(set_id, 'set_id')
    return zone_prefix(prefix, zone) + set_id + '/'


def object_key(kind, name, encrypted=False):
    """Key of an object relative to its set, from its kind and name (``namespace/name`` for secrets)."""
    if kind == 'secret':
        namespace, _sep, secret = name.partition('/') if isinstance(name, str) else ('', '', '')
        check_segment(namespace, 'secret namespace (name must be "namespace/name")')
        check_segment(secret, 'secret name (name must be "namespace/name")')
        key = 'secrets/%s/%s.json' % (namespace, secret)
    elif kind == 'helm_values':
        key = 'helm/%s/values.yaml' % check_segment(name, 'helm release name')
    elif kind == 'file':
        key = 'files/' + check_relative_path(name, 'file name')
    elif kind == 'postgres':
        key = 'postgres/%s.dump' % check_segment(name, 'database name')
    else:
        raise OptionError('kind must be one of %s, got %r' % (', '.join(KINDS), kind))
    return key + ENCRYPTED_SUFFIX if encrypted else key
