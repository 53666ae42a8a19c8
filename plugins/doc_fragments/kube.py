# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Documentation of the Kubernetes connection options (kubeconfig and context)."""

from __future__ import annotations


class ModuleDocFragment:
    """How a module reaches a Kubernetes API server."""

    DOCUMENTATION = r'''
options:
  kubeconfig:
    description:
      - Path of the kubeconfig file.
      - Defaults to E(KUBECONFIG) or C(~/.kube/config); without either, the in-cluster service account is used.
    type: path
  context:
    description:
      - Context of O(kubeconfig) to use. Defaults to the current context.
    type: str
requirements:
  - kubernetes (the Python client)
'''
