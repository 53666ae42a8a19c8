# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Name rules checked before any call: Kubernetes object names and label selectors, environment variable names,
and whether a host name is this machine (loopback).

Private to the collection. Each check raises OptionError naming the option and the rule, so bad input fails before
anything is read or written. (Bucket and container names are checked by ``storage.validate_cloud_storage``.)
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.kfuse.failover.plugins.module_utils.errors import OptionError

_DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
_DNS1123_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_LABEL_KEY = re.compile(r'^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?'
                        r'[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')
_LABEL_VALUE = re.compile(r'^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$')


def check_namespace(value, option):
    """A namespace: a DNS-1123 label (lowercase letters, digits and '-', 63 characters at most)."""
    if not isinstance(value, str) or len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise OptionError('%s must be a Kubernetes namespace name (lowercase letters, digits and "-", at most 63 '
                          'characters, starting and ending with a letter or digit), got %r' % (option, value))
    return value


def check_object_name(value, option, kind='object'):
    """A Secret, Pod or other object name: a DNS-1123 subdomain (253 characters at most)."""
    if not isinstance(value, str) or len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise OptionError('%s must be a Kubernetes %s name (lowercase letters, digits, "-" and ".", at most 253 '
                          'characters, starting and ending with a letter or digit), got %r' % (option, kind, value))
    return value


def _requirement(text):
    """(key, values) of one label-selector requirement, or None when it is not one."""
    match = re.match(r'^!?([^=!\s()]+)$', text)
    if match:
        return match.group(1), []
    match = re.match(r'^([^=!\s()]+)\s*(?:==|=|!=)\s*([^=!\s()]*)$', text)
    if match:
        return match.group(1), [match.group(2)]
    match = re.match(r'^([^=!\s()]+)\s+(?:in|notin)\s+\(([^()]*)\)$', text)
    if match:
        return match.group(1), [item.strip() for item in match.group(2).split(',')]
    return None


def check_label_selector(value, option):
    """An equality-based or set-based label selector (key=value, key!=value, key, !key, key in (a,b))."""
    if not isinstance(value, str) or not value.strip():
        raise OptionError('%s must be a label selector such as app=kfuse,tier!=cache, got %r' % (option, value))
    for text in re.split(r',(?![^()]*\))', value):
        parsed = _requirement(text.strip())
        if parsed is None or not _LABEL_KEY.match(parsed[0]) or not all(_LABEL_VALUE.match(item) for item in parsed[1]):
            raise OptionError('%s must be a label selector such as app=kfuse,tier!=cache or env in (a,b); %r is not '
                              'a valid requirement' % (option, text.strip()))
    return value


def check_env_name(value, option):
    """An environment variable name."""
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise OptionError('%s must be an environment variable name (letters, digits and "_", not starting with a '
                          'digit), got %r' % (option, value))
    return value


def is_loopback(host):
    """Whether ``host`` (a name or an address) is this machine."""
    if host in ('localhost', 'localhost.localdomain'):
        return True
    try:
        return ipaddress.ip_address(host or '').is_loopback
    except ValueError:
        return False
