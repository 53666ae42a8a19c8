# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PostgreSQL connection strings: libpq URIs and keyword/value strings parsed, rebuilt and described.

Private to the collection (``_postgres`` package). Nothing here runs a tool or opens a connection.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from ansible_collections.kfuse.failover.plugins.module_utils.errors import PostgresError

DEFAULT_CONNECT_TIMEOUT = '10'
_PLAIN_VALUE = re.compile(r"^[^\s'\\]+$")


def _parse_uri(dsn):
    rest = dsn.split('://', 1)[1]
    rest, _hash, query = rest.partition('?')
    netloc, _slash, path = rest.partition('/')
    params = {}
    userinfo, at_sign, hostspec = netloc.rpartition('@')
    if not at_sign:
        userinfo, hostspec = '', netloc
    if userinfo:
        user, colon, password = userinfo.partition(':')
        if user:
            params['user'] = unquote(user)
        if colon:
            params['password'] = unquote(password)
    hosts, ports = [], []
    for item in hostspec.split(','):
        if item.startswith('['):
            host, _bracket, tail = item[1:].partition(']')
            port = tail[1:] if tail.startswith(':') else ''
        else:
            host, colon, port = item.rpartition(':')
            if not colon:
                host, port = item, ''
        hosts.append(unquote(host))
        ports.append(port)
    if any(hosts):
        params['host'] = ','.join(hosts)
    if any(ports):
        params['port'] = ','.join(ports)
    if path:
        params['dbname'] = unquote(path)
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = value
    return params


def _parse_keywords(dsn):
    params = {}
    position, length = 0, len(dsn)
    while position < length:
        while position < length and dsn[position].isspace():
            position += 1
        if position >= length:
            break
        equals = dsn.find('=', position)
        if equals < 0:
            raise PostgresError('invalid connection string: missing "=" after %r' % dsn[position:position + 20].split()[0])
        key = dsn[position:equals].strip()
        position = equals + 1
        while position < length and dsn[position].isspace():
            position += 1
        value = []
        if position < length and dsn[position] == "'":
            position += 1
            while position < length and dsn[position] != "'":
                if dsn[position] == '\\' and position + 1 < length:
                    position += 1
                value.append(dsn[position])
                position += 1
            if position >= length:
                raise PostgresError('invalid connection string: unterminated quoted value for %s' % key)
            position += 1
        else:
            while position < length and not dsn[position].isspace():
                if dsn[position] == '\\' and position + 1 < length:
                    position += 1
                value.append(dsn[position])
                position += 1
        params[key] = ''.join(value)
    return params


def parse_dsn(dsn):
    """Connection parameters of a libpq URI (postgresql://...) or keyword/value string, as a dict."""
    dsn = (dsn or '').strip()
    if dsn.startswith(('postgresql://', 'postgres://')):
        return _parse_uri(dsn)
    return _parse_keywords(dsn)


def _quote(value):
    value = str(value)
    if _PLAIN_VALUE.match(value):
        return value
    return "'%s'" % value.replace('\\', '\\\\').replace("'", "\\'")


def build_conninfo(params):
    """A keyword/value connection string from ``params`` (values quoted as libpq expects)."""
    return ' '.join('%s=%s' % (key, _quote(value)) for key, value in params.items())


def split_dsn(dsn, database=None):
    """(params without the password, password or None); ``database`` overrides the DSN's dbname."""
    params = parse_dsn(dsn)
    password = params.pop('password', None)
    if database:
        params['dbname'] = database
    params.setdefault('connect_timeout', DEFAULT_CONNECT_TIMEOUT)
    return params, password


def describe_target(params):
    """'database "x" on host:port as user' without any secret, for messages."""
    where = params.get('host') or 'the default host'
    if params.get('port'):
        where += ':%s' % params['port']
    text = 'database "%s" on %s' % (params.get('dbname') or params.get('user') or 'default', where)
    if params.get('user'):
        text += ' as %s' % params['user']
    return text
