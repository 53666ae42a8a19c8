# kfuse.failover: one entry point for set-up, checks and the local lab. `make test` runs every suite.
# Every target sets itself up through `bootstrap` (idempotent; see hacking/bootstrap.sh).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV_BIN := .venv/bin
COLLECTIONS := $(CURDIR)/.build/collections
LAB_STATE ?= lab-state
LABCTL := $(VENV_BIN)/python tests/lab/labctl.py
PYTEST_ARGS ?=

.PHONY: help bootstrap controlplane sanity lint units units-ansible-test integration molecule test lab-up lab-down demo clean distclean

help:
	@echo "make bootstrap           create .venv, .tools and .build/collections (idempotent)"
	@echo "make controlplane        build the lab's Kubernetes from source once per machine (cached outside the clone)"
	@echo "make sanity              ansible-test sanity on a staged copy of the collection"
	@echo "make lint                ansible-lint --profile production (offline)"
	@echo "make units               pytest tests/unit (fast loop)"
	@echo "make units-ansible-test  ansible-test units on a staged copy"
	@echo "make integration         pytest tests/integration on INTEGRATION_WORKERS=2 workers (starts its own labs)"
	@echo "make molecule            every role's molecule scenario on both lab topologies, MOLECULE_JOBS=2 at once (MOLECULE_ARGS to narrow)"
	@echo "make test                sanity lint units integration molecule, summary at the end"
	@echo "make lab-up / lab-down   start / stop the local lab (state in $(LAB_STATE)/)"
	@echo "make demo                lab-up, failover az1->az2, failback az2->az1, lab-down"
	@echo "make clean / distclean   remove test output / also .venv, .tools, .build/collections"

bootstrap:
	bash hacking/bootstrap.sh

# The lab's Kubernetes (kube-apiserver, controller-manager, scheduler, etcd, kwok); minutes the first time on a
# machine, then reused from the cache. Targets that start a lab export its bin folder so the lab skips the check.
controlplane:
	bash hacking/build_controlplane.sh >/dev/null
CONTROLPLANE_BIN = KFUSE_CONTROLPLANE_BIN="$$(bash hacking/build_controlplane.sh)"

sanity: bootstrap
	bash hacking/sanity.sh

lint: bootstrap
	bash hacking/lint.sh

units: bootstrap
	PYTHONPATH=.build/collections $(VENV_BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

units-ansible-test: bootstrap
	bash hacking/units.sh

# INTEGRATION_WORKERS pytest-xdist workers (1: none). An end-to-end test keeps about one core busy, so two workers
# on two cores finish about 1.4x sooner. A directory's tests share a worker (its servers start once); a test with a
# lab of its own goes to any worker (DirectoryScheduling in tests/integration/conftest.py).
INTEGRATION_WORKERS ?= 2
INTEGRATION_XDIST = $(if $(filter-out 0 1,$(INTEGRATION_WORKERS)),-n $(INTEGRATION_WORKERS),)
integration: bootstrap controlplane
	export $(CONTROLPLANE_BIN); PYTHONPATH=tests/lab:.build/collections ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) \
	  $(VENV_BIN)/python -m pytest -q $(INTEGRATION_XDIST) --durations=30 tests/integration $(PYTEST_ARGS)

# Each role's scenario in extensions/molecule, on the per-zone and the shared lab (hacking/molecule.sh).
MOLECULE_ARGS ?=
molecule: bootstrap controlplane
	export $(CONTROLPLANE_BIN); bash hacking/molecule.sh $(MOLECULE_ARGS)

# Runs every suite even after a failure; the last line is "suites: N passed, N failed".
test: bootstrap
	bash hacking/test_all.sh sanity lint units units-ansible-test integration molecule

lab-up: bootstrap controlplane
	$(LABCTL) up --state-dir $(LAB_STATE)

lab-down: bootstrap
	$(LABCTL) down --state-dir $(LAB_STATE)

# The full procedure both ways (secrets, node group, Helm release, az-service, ingress, journal), as the ServiceAccount
# of extensions/rbac, each run reported in $(REPORT_DIR). The lab always comes down, whether the playbooks pass,
# fail or are interrupted.
REPORT_DIR ?= kfuse-reports
demo: bootstrap controlplane
	trap '$(LABCTL) down --state-dir $(LAB_STATE)' EXIT; trap 'exit 130' INT TERM; \
	$(LABCTL) up --state-dir $(LAB_STATE) --rehydrate-rate 15 --rbac; \
	export ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PATH="$(CURDIR)/$(VENV_BIN):$(CURDIR)/.tools/bin:$$PATH" \
	  ANSIBLE_CALLBACKS_ENABLED=kfuse.failover.failover_report KFUSE_REPORT_DIR="$(CURDIR)/$(REPORT_DIR)"; \
	$(VENV_BIN)/ansible-playbook -i $(LAB_STATE)/inventory.yml kfuse.failover.failover -e kfuse_source=az1 -e kfuse_target=az2 -e kfuse_poll_interval=1; \
	$(VENV_BIN)/ansible-playbook -i $(LAB_STATE)/inventory.yml kfuse.failover.failback -e kfuse_poll_interval=1 -e kfuse_cold_standby=true; \
	echo; echo "demo: failover az1 -> az2 and failback az2 -> az1 done; run reports (open the .html in a browser):"; \
	ls -1t "$(REPORT_DIR)"/*.html | head -2

clean:
	if [ -f $(LAB_STATE)/lab.json ] && [ -x $(VENV_BIN)/python ]; then $(LABCTL) down --state-dir $(LAB_STATE) || true; fi
	rm -rf .build/sanity .build/units .build/sanity-output .build/units-output .build/test-logs tests/output .pytest_cache .ansible
	find . \( -path ./.venv -o -path ./.tools -o -path ./.git \) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf .venv .tools .build/collections
