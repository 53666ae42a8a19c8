# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role documents itself: `ansible-doc -t role` shows its entry point and options, every default is an
argument, every argument is prefixed with the role's name, and each role has a README and a molecule scenario."""

import json
import os
import subprocess

import pytest
import yaml

from ansible_run import COLLECTIONS, REPO, VENV_BIN

ROLES = sorted(name for name in os.listdir(os.path.join(REPO, "roles"))
               if os.path.isdir(os.path.join(REPO, "roles", name)))


def test_the_runbook_roles_exist():
    assert {"preflight", "secrets", "node_group", "kloudfuse", "ingress"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_ansible_doc_shows_the_role(role):
    done = subprocess.run([os.path.join(VENV_BIN, "ansible-doc"), "-t", "role", "--json", "kfuse.failover." + role],
                          capture_output=True, text=True, check=False, timeout=120,
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS))
    assert done.returncode == 0, done.stderr
    main = json.loads(done.stdout)["kfuse.failover." + role]["entry_points"]["main"]
    assert main["short_description"] and main["description"]
    options = main["options"]
    with open(os.path.join(REPO, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle) or {}
    assert not set(defaults) - set(options), "defaults without an argument spec: %s" % sorted(set(defaults) - set(options))
    assert all(name.startswith(role + "_") for name in options), sorted(options)
    assert all(spec.get("description") for spec in options.values())


@pytest.mark.parametrize("role", ROLES)
def test_role_has_readme_and_scenario(role):
    assert os.path.exists(os.path.join(REPO, "roles", role, "README.md"))
    assert os.path.exists(os.path.join(REPO, "extensions", "molecule", role, "molecule.yml"))
    assert os.path.exists(os.path.join(REPO, "extensions", "molecule", role, "verify.yml"))
