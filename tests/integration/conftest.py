# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the integration suites: one local lab per test session and real ansible runs against it."""

import json
import os
import sys

import pytest
import requests
import yaml
from xdist.scheduler import LoadScopeScheduling

from ansible_run import REPO, VENV_BIN, run_ansible

LAB_DIR = os.path.join(REPO, "tests", "lab")
# Modules whose tests each start a lab of their own (a function-scoped lab fixture) and the longest work units,
# in the order pytest-xdist workers take them first: the longest first, so that the short ones fill the end.
SPREAD_MODULES = ("tests/integration/playbooks/test_failover_playbooks.py", "tests/integration/roles/test_rbac.py")
OWN_LAB_FIXTURES = {"per_zone_lab", "topology_lab", "rbac_lab"}
LONGEST_FIRST = ("tests/integration/playbooks/test_fault_matrix.py",) + SPREAD_MODULES
# record_property(PRINTED, text), through the `show` fixture: text printed after the run (pytest-xdist does not
# show a worker's stdout).
PRINTED = "printed"


class DirectoryScheduling(LoadScopeScheduling):
    """pytest-xdist's unit of work (make integration runs two workers): a directory's tests, which share that
    directory's session and module servers, so none starts twice; or one test of a SPREAD_MODULES module, which any
    worker can take. Units go out in collection order (see pytest_collection_modifyitems)."""

    def _split_scope(self, nodeid):
        path = nodeid.split("::", 1)[0]
        return nodeid if path in SPREAD_MODULES else os.path.dirname(path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    config.option.loadscopereorder = False
    return DirectoryScheduling(config, log)


def pytest_collection_modifyitems(items):
    """The longest modules first (LONGEST_FIRST, then collection order); a SPREAD_MODULES test must start its own
    lab, or two workers would each start the servers it shares."""
    rank = {}
    for item in items:
        path = os.path.relpath(str(item.path), REPO)
        if path in SPREAD_MODULES and OWN_LAB_FIXTURES.isdisjoint(item.fixturenames):
            raise pytest.UsageError("%s is in SPREAD_MODULES but uses none of %s" % (item.nodeid, OWN_LAB_FIXTURES))
        rank[item] = LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank.get)


def pytest_terminal_summary(terminalreporter):
    """What the tests handed to `show`: the fault matrix, the ServiceAccount's effective rules."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        texts = [value for name, value in getattr(report, "user_properties", ()) if name == PRINTED]
        if texts and report.when == "call":
            terminalreporter.write_sep("-", report.nodeid)
            for text in texts:
                terminalreporter.write_line(text)


class Lab:
    """A running lab: its inventory, its zones, and the simulators' lab-only control API."""

    def __init__(self, state_dir, info):
        self.state_dir = str(state_dir)
        self.info = info
        self.inventory = os.path.join(self.state_dir, "inventory.yml")
        self.kubeconfig = os.path.join(self.state_dir, "kubeconfig")
        with open(self.inventory, encoding="utf-8") as handle:
            inventory = yaml.safe_load(handle)
        group = inventory["all"]["children"]["kfuse_zones"]
        self.zones = group["hosts"]
        self.group_vars = group.get("vars", {})

    def az(self, zone):
        """The inventory's kfuse_az_service dict of a zone."""
        return self.zones[zone]["kfuse_az_service"]

    def url_args(self, zone):
        """Module arguments reaching a zone's az-service by URL."""
        az = self.az(zone)
        return {"url": az["url"], "ca_path": az["ca_path"], "token": az["token"]}

    def kube_args(self, zone):
        """Module arguments reaching a zone's az-service through the Kubernetes API (port-forward)."""
        az, kube = self.az(zone), self.zones[zone]["kfuse_kube"]
        return {"kubeconfig": kube["kubeconfig"], "context": kube["context"], "namespace": kube["namespace"],
                "service": az["service"], "service_port": az["port"], "ca_path": az["ca_path"], "token": az["token"]}

    def _control(self, zone, method, path, payload=None):
        az = self.az(zone)
        response = requests.request(method, az["url"] + path, json=payload, verify=az["ca_path"], timeout=10,
                                    headers={"Authorization": "Bearer " + az["token"]})
        response.raise_for_status()
        return response.json()

    def status(self, zone):
        """The simulator's own /status, read directly."""
        return self._control(zone, "GET", "/status")

    def lab_state(self, zone):
        return self._control(zone, "GET", "/_lab/state")

    def faults(self, zone, **faults):
        return self._control(zone, "POST", "/_lab/faults", faults)

    def reset(self, wipe=()):
        """Every zone back to its start; the zones in ``wipe`` also lose their objects in the bucket (a standby
        then lacks every segment of the active zone, whatever earlier tests rehydrated)."""
        for zone in self.zones:
            self._control(zone, "POST", "/_lab/reset" + ("?wipe=true" if zone in wipe else ""))


@pytest.fixture
def show(record_property):
    """show(text): the text is printed after the run under the test's name, also from a pytest-xdist worker."""
    return lambda text: record_property(PRINTED, text)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if LAB_DIR not in sys.path:
        sys.path.insert(0, LAB_DIR)
    import labctl  # pylint: disable=import-outside-toplevel

    state_dir = tmp_path_factory.mktemp("lab")
    with labctl.running_lab(str(state_dir)) as info:
        yield Lab(state_dir, info)


@pytest.fixture
def fresh_lab(lab):
    """The lab back at its start: az1 active, az2 standby, no faults."""
    lab.reset()
    return lab


@pytest.fixture
def run_module(lab, tmp_path):
    """Run one module on one zone host with ad-hoc `ansible`, returning its result."""

    def run(host, module, args, check=False, verbosity=0, timeout=300, extra_vars=None):
        cmd = [os.path.join(VENV_BIN, "ansible"), host, "-i", lab.inventory, "-m", module, "-a", json.dumps(args)]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        return run_ansible(cmd, tmp_path, timeout, check, verbosity)

    return run


@pytest.fixture
def run_playbook(lab, tmp_path):
    """Run a playbook against the lab inventory."""

    def run(playbook, extra_vars=None, check=False, verbosity=0, timeout=600):
        cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", lab.inventory, playbook]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        return run_ansible(cmd, tmp_path, timeout, check, verbosity)

    return run
