# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Kubernetes API server emulator for the lab: enough of the API for helm, kubectl,
the kubernetes Python client and kubernetes.core, several clusters in one process."""
