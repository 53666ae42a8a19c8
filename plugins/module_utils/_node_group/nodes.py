# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Counting a node group's Nodes in Kubernetes: registered (every Node with the labels) and Ready."""

from __future__ import annotations

from ansible_collections.kfuse.failover.plugins.module_utils._names import check_label_selector
from ansible_collections.kfuse.failover.plugins.module_utils.errors import KubeError, OptionError


class TransientKubeError(KubeError):
    """A Kubernetes read that may well work on the next poll (connection problem, 429, 5xx)."""

    transient = True


def selector_text(labels):
    """``key=value,...`` (sorted) from a dict of node labels; OptionError naming node_selector when not valid."""
    if not isinstance(labels, dict) or not labels:
        raise OptionError('node_selector must be a non-empty dict of node labels, such as '
                          '{"topology.kubernetes.io/zone": "us-east-1a", "eks.amazonaws.com/nodegroup": "kfuse"}')
    parts = []
    for key, value in sorted(labels.items()):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise OptionError('node_selector: the value of %s must be a string, got %r' % (key, value))
        parts.append('%s=%s' % (key, value))
    text = ','.join(parts)
    check_label_selector(text, 'node_selector')
    return text


def _kube():
    """The Kubernetes helpers, imported at the first count: the kubernetes library takes about half a second to
    import, and a module run that only asks the provider for a size never counts nodes."""
    from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
    return kube


def node_is_ready(node):
    for condition in (node.status.conditions if node.status else None) or []:
        if condition.type == 'Ready':
            return condition.status == 'True'
    return False


class NodeCounter:
    """Counts Nodes matching ``selector`` (``key=value,...``) through kubeconfig/context; the client is made at
    the first count, so nothing touches Kubernetes unless the module waits."""

    def __init__(self, selector, kubeconfig=None, context=None, api_client_factory=None):
        self.selector = selector
        self.kubeconfig = kubeconfig
        self.context = context
        self._factory = api_client_factory
        self._core = None

    def _api(self):
        if self._core is None:
            kube = _kube()
            kube.require_kubernetes('counting nodes')
            factory = self._factory or kube.new_api_client
            self._core = kube.k8s_client.CoreV1Api(factory(self.kubeconfig, self.context))
        return self._core

    def count(self):
        """{'selector', 'registered', 'ready', 'names'} of the Nodes now."""
        core = self._api()
        kube = _kube()
        try:
            items = core.list_node(label_selector=self.selector).items
        except kube.ApiException as exc:
            error_class = TransientKubeError if exc.status in (429, 500, 502, 503, 504) else KubeError
            raise error_class('cannot list nodes %s: %s %s' % (self.selector, exc.status, exc.reason)) from None
        except (kube.Urllib3HTTPError, OSError) as exc:
            raise TransientKubeError('cannot reach the Kubernetes API server to list nodes %s: %s'
                                     % (self.selector, exc)) from None
        names = sorted(node.metadata.name for node in items)
        ready = sum(1 for node in items if node_is_ready(node))
        return {'selector': self.selector, 'registered': len(items), 'ready': ready, 'names': names}

    def close(self):
        if self._core is not None:
            try:
                self._core.api_client.close()
            except Exception:  # pylint: disable=broad-exception-caught
                pass
            self._core = None
