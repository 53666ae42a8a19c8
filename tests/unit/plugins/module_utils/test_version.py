# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The version in code is galaxy.yml's, and no plugin claims to be added in a later version."""

from __future__ import annotations

import os
import re

from ansible_collections.kfuse.failover.plugins.module_utils._version import COLLECTION_VERSION

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def _version_tuple(text):
    return tuple(int(part) for part in text.split('.'))


def test_code_version_is_galaxy_version():
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        match = re.search(r'^version:\s*(\S+)\s*$', handle.read(), re.MULTILINE)
    assert match and match.group(1) == COLLECTION_VERSION


def test_version_added_is_not_newer_than_the_collection():
    for folder in ('modules', 'filter'):
        directory = os.path.join(ROOT, 'plugins', folder)
        for name in os.listdir(directory):
            if not name.endswith('.py'):
                continue
            with open(os.path.join(directory, name), encoding='utf-8') as handle:
                for added in re.findall(r'^version_added:\s*(\S+)\s*$', handle.read(), re.MULTILINE):
                    assert _version_tuple(added) <= _version_tuple(COLLECTION_VERSION), (name, added)
