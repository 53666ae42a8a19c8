# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Constants and helpers shared by the backup suite's fixtures and tests (importable, unlike a conftest)."""

PROVIDERS = ("s3", "gcs", "azure")
PASSPHRASE = "integration passphrase 7d1f"


def result_of(run):
    """The module result of a one-task ad-hoc run (with rc and a readable failure message on assert)."""
    assert run.parsed is not None, run.stdout[-3000:] + run.stderr[-3000:]
    return run.result("localhost")
