# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulator of Kloudfuse's az-service for the local lab (contract: tests/lab/README.md).

Modules: ``params`` (query parsing), ``storage`` (bucket layout), ``faults`` (lab fault knobs),
``machine`` (the zone state machine), ``peers`` (calls to other zones), ``server`` (aiohttp handlers),
``cli`` (command line).
"""
