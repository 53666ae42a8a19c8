# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm's release records (Secrets ``sh.helm.release.v1.<release>.v<n>``) on the lab's real API servers, for the
integration suites that need the state a killed helm client leaves."""

import base64
import gzip
import json


def leave_pending_upgrade(api, namespace, release="kfuse"):
    """What a helm client killed mid-upgrade leaves: a newer revision of the release recorded as pending-upgrade.
    ``api`` is a kubernetes CoreV1Api; returns the pending revision's number."""
    records = api.list_namespaced_secret(namespace, label_selector="owner=helm,name=%s" % release).items
    newest = max(records, key=lambda record: int(record.metadata.labels["version"]))
    # the Secret's data is base64 (the API) of helm's own base64 of the gzipped release JSON
    record = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(newest.data["release"]))))
    revision = record["version"] + 1
    record.update(version=revision)
    record["info"]["status"] = "pending-upgrade"
    encoded = base64.b64encode(gzip.compress(json.dumps(record).encode())).decode()
    labels = dict(newest.metadata.labels, status="pending-upgrade", version=str(revision))
    api.create_namespaced_secret(namespace, {
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.%s.v%d" % (release, revision), "labels": labels},
        "data": {"release": base64.b64encode(encoded.encode()).decode()}})
    return revision


def release_statuses(api, namespace, release="kfuse"):
    """The status label of every record of the release (deployed, superseded, pending-upgrade...)."""
    return {record.metadata.labels["status"]
            for record in api.list_namespaced_secret(namespace, label_selector="owner=helm,name=%s" % release).items}
