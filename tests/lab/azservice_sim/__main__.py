# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point: ``PYTHONPATH=tests/lab python -m azservice_sim --help``."""

import sys

from azservice_sim.cli import main

sys.exit(main())
