#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: backup
short_description: Write a backup set of Kloudfuse secrets, Helm values, files and databases to cloud storage
version_added: 0.1.0
description:
  - Writes one backup set under C(<prefix>/<zone>/<set_id>/) in the shared S3, GCS or Azure Blob storage, holding
    what a standby zone needs when the source zone is gone and that the az-service does not back up itself.
  - Sources are Kubernetes secrets (by name or label selector, made portable), the user-supplied values of Helm
    releases (read from Helm's storage secret through the Kubernetes API, no C(helm) binary needed), local files,
    and PostgreSQL databases (C(pg_dump) custom format, by DSN or inside a pod through the Kubernetes exec API).
  - Everything streams; a dump is never held whole in memory. A C(.writer) marker is created first with a
    conditional write, so two writers never share a set, and C(manifest.json) (what, sizes, SHA-256 checksums, tool
    versions, source cluster, encryption parameters) is written last, so a partial set is never taken for a complete
    one. When anything fails before the manifest, the objects written so far are deleted.
  - Client-side envelope encryption (AES-256-GCM in 1 MiB chunks, key derived from O(encryption_passphrase) with
    scrypt) is on when the set holds secrets, see O(encrypt).
  - After writing, the set is read back and every checksum checked (and decrypted); retention (O(keep_last),
    O(max_age)) runs only after that verification succeeded.
  - Bad input (an unknown C(cloud_storage.type), a missing bucket, two credential sources, secrets without a
    passphrase, ...) fails before anything is written, naming the option.
author:
  - kfuse.failover contributors (@kfuse)
options:
  zone:
    description:
      - Zone the backup belongs to (the source zone, for example V(az1)); sets live under C(<prefix>/<zone>/).
    type: str
    required: true
  set_id:
    description:
      - Id of the new set. Defaults to the current UTC time as C(yyyymmddTHHMMSSZ).
      - An existing set id fails (its C(.writer) marker exists) and nothing is written.
    type: str
  unique_set_id:
    description:
      - Append C(-) and six random hex digits to the generated set id, so that two runs in the same second never
        collide.
    type: bool
    default: false
  namespace:
    description:
      - Default Kubernetes namespace of secrets and Helm releases that do not name their own.
    type: str
    default: kfuse
  sources:
    description:
      - What goes into the set. At least one source is required.
    type: dict
    required: true
    suboptions:
      secrets:
        description:
          - Kubernetes secrets, each selection by O(sources.secrets[].name) and/or O(sources.secrets[].label_selector).
          - Secrets are stored as JSON without cluster-bound fields (uid, resourceVersion, ownerReferences,
            managedFields, ...), see the P(kfuse.failover.portable_secret#filter) filter.
        type: list
        elements: dict
        suboptions:
          name:
            description: Name of one secret. A missing secret fails unless O(sources.secrets[].optional=true).
            type: str
          label_selector:
            description:
              - Label selector (for example V(app.kubernetes.io/part-of=kfuse)). With O(sources.secrets[].name),
                the named secret is taken only if its labels match.
            type: str
          namespace:
            description: Namespace of the secrets. Defaults to O(namespace).
            type: str
          optional:
            description: A named secret that does not exist is skipped instead of failing.
            type: bool
            default: false
      helm_releases:
        description:
          - Helm releases whose user-supplied values (what C(helm get values) shows) are stored as YAML, from the
            newest deployed revision.
        type: list
        elements: dict
        suboptions:
          name:
            description: Release name.
            type: str
            required: true
          namespace:
            description: Namespace of the release. Defaults to O(namespace).
            type: str
      files:
        description:
          - Local files on the host running the module, streamed as they are.
        type: list
        elements: dict
        suboptions:
          path:
            description: Path of the file.
            type: path
            required: true
          name:
            description: Name in the set (a relative path). Defaults to the file's base name.
            type: str
      databases:
        description:
          - PostgreSQL databases, dumped with C(pg_dump --format=custom), by O(sources.databases[].dsn) with the
            local C(pg_dump), or inside O(sources.databases[].pod) through the Kubernetes exec API.
        type: list
        elements: dict
        suboptions:
          name:
            description: Database name (also its name in the set).
            type: str
            required: true
          dsn:
            description:
              - libpq connection string or URI. A password in it is passed to C(pg_dump) through its environment
                and never shown.
              - Exactly one of O(sources.databases[].dsn) and O(sources.databases[].pod).
            type: str
          pod:
            description: Pod to run C(pg_dump) in (for example the Kloudfuse configdb pod).
            type: str
          namespace:
            description: Namespace of the pod.
            type: str
            default: kfuse
          container:
            description: Container of the pod. Defaults to the pod's first container.
            type: str
          username:
            description: Database user for the dump in the pod.
            type: str
          password:
            description: Password for the dump in the pod, sent on the exec's stdin, never on a command line.
            type: str
          password_env:
            description: Name of an environment variable of the container holding the password.
            type: str
          host:
            description: Database host as seen from the pod. Defaults to the local socket.
            type: str
          port:
            description: Database port as seen from the pod.
            type: int
          exclude_tables:
            description: Tables (patterns as C(pg_dump --exclude-table) takes them) left out of the dump.
            type: list
            elements: str
            default: []
  encryption_passphrase:
    description:
      - Passphrase the set's encryption key is derived from (scrypt, per-set salt). Keep it in Ansible Vault; the
        same passphrase is needed to restore.
      - At least 12 characters. It is the only key to the set; scrypt slows down guessing but cannot make a short
        passphrase strong.
    type: str
  encrypt:
    description:
      - V(auto) encrypts when the set holds Kubernetes secrets, Helm values or files (all may carry credentials) or
        when O(encryption_passphrase) is given; such a set without a passphrase fails before anything is written.
      - V(always) requires O(encryption_passphrase). V(never) stores everything as it is (server-side encryption
        still applies).
    type: str
    choices: [auto, always, never]
    default: auto
  verify:
    description:
      - Read the new set back and check every checksum (and decrypt) after writing. Always done when
        O(keep_last) or O(max_age) is set.
    type: bool
    default: true
  keep_last:
    description:
      - Retention. Keep the N newest complete sets of O(zone).
      - A set is kept when O(keep_last) or O(max_age) keeps it. The newest complete set is never pruned, and
        nothing is pruned unless the new set verified.
    type: int
  max_age:
    description:
      - Retention. Keep complete sets younger than this duration (V(30d), V(12h), V(90m), V(2w) or seconds).
    type: str
  incomplete_after:
    description:
      - Sets without a manifest that are older than this are reported as stale in RV(retention) (C(stale_incomplete)).
    type: str
    default: 24h
  prune_incomplete:
    description:
      - Also delete the stale incomplete sets (only when retention runs).
    type: bool
    default: false
extends_documentation_fragment:
  - kfuse.failover.backup_set
  - kfuse.failover.cloud_storage
  - kfuse.failover.kube
  - kfuse.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the sources and lists the objects that would be written; writes nothing.
  diff_mode:
    support: none
seealso:
  - module: kfuse.failover.backup_info
  - module: kfuse.failover.backup_restore
'''

EXAMPLES = r'''
- name: Back up Kloudfuse secrets, Helm values and a fresh configdb dump of AZ1 to S3
  kfuse.failover.backup:
    cloud_storage:
      type: s3
      s3: {region: us-west-2, bucket: kfuse-shared}
    storage_ambient: true
    context: az1
    zone: az1
    sources:
      secrets:
        - label_selector: app.kubernetes.io/part-of=kfuse
        - name: kfuse-image-pull
      helm_releases:
        - name: kfuse
      databases:
        - name: configdb
          pod: kfuse-configdb-0
          username: postgres
          password_env: POSTGRES_PASSWORD
          exclude_tables: [audit_log]
    encryption_passphrase: "{{ vault_kfuse_backup_passphrase }}"
    keep_last: 14
    max_age: 30d
  register: backup

- name: Back up values files to GCS with the chart's cloud storage secret
  kfuse.failover.backup:
    cloud_storage:
      type: gcs
      gcs: {bucket: kfuse-shared}
    storage_credentials_secret:
      context: az1
      namespace: kfuse
      name: kfuse-cloud-storage
    zone: az1
    sources:
      files:
        - path: /etc/kfuse/values-az1.yaml
    encrypt: never

- name: Back up a database by DSN to Azure Blob
  kfuse.failover.backup:
    cloud_storage:
      type: azure
      azure: {container: kfuse-shared}
    storage_credentials:
      connection_string: "{{ vault_azure_connection_string }}"
    zone: az2
    sources:
      databases:
        - name: orchestratordb
          dsn: "postgresql://kfuse@db.internal:5432/orchestratordb"
    encryption_passphrase: "{{ vault_kfuse_backup_passphrase }}"
'''

RETURN = r'''
set_id:
  description: Id of the set written (or that would be written in check mode).
  returned: success
  type: str
  sample: 20261121T100000Z
prefix:
  description: Key prefix of the set in the bucket or container.
  returned: success
  type: str
  sample: kfuse-failover/backups/az1/20261121T100000Z/
encrypted:
  description: Whether the objects are encrypted client-side.
  returned: success
  type: bool
objects:
  description:
    - Objects of the set. In check mode C(size) is the expected plaintext size when known and there is no C(sha256).
  returned: success
  type: list
  elements: dict
  sample: [{"kind": "secret", "name": "kfuse/kfuse-pg", "key": "secrets/kfuse/kfuse-pg.json.enc", "size": 412,
            "plain_size": 340, "sha256": "9f2c..."}]
manifest:
  description: The manifest written last (see docs/backup-design.md).
  returned: success, not in check mode
  type: dict
verified:
  description: Whether the new set verified (null when not verified).
  returned: success, not in check mode
  type: bool
pruned:
  description: Set ids deleted by retention.
  returned: success
  type: list
  elements: str
retention:
  description: Retention outcome; C(kept) set ids, C(blocked) reason nothing was pruned, C(stale_incomplete) set ids,
    C(deleted_objects) count. Null when no retention was asked.
  returned: success, not in check mode
  type: dict
elapsed:
  description: Seconds the module took.
  returned: success
  type: float
storage_error:
  description: Provider, code, key and container of a storage failure.
  returned: on storage failures
  type: dict
'''

from ansible_collections.kfuse.failover.plugins.module_utils import _backup_tasks as tasks
from ansible_collections.kfuse.failover.plugins.module_utils._storage_params import KUBE_ARGSPEC, STORAGE_ARGSPEC, storage_warnings
from ansible_collections.kfuse.failover.plugins.module_utils.base import KfuseModule

DATABASE_OPTIONS = dict(tasks.DATABASE_CONNECTION_ARGSPEC, exclude_tables={'type': 'list', 'elements': 'str', 'default': []})


def main():
    argument_spec = dict(STORAGE_ARGSPEC)
    argument_spec.update(KUBE_ARGSPEC)
    argument_spec.update(tasks.BACKUP_SET_ARGSPEC)
    argument_spec.update({
        'zone': {'type': 'str', 'required': True},
        'set_id': {'type': 'str'},
        'unique_set_id': {'type': 'bool', 'default': False},
        'namespace': {'type': 'str', 'default': 'kfuse'},
        'sources': {'type': 'dict', 'required': True, 'options': {
            'secrets': {'type': 'list', 'elements': 'dict', 'no_log': False, 'options': {
                'name': {'type': 'str'},
                'label_selector': {'type': 'str'},
                'namespace': {'type': 'str'},
                'optional': {'type': 'bool', 'default': False},
            }},
            'helm_releases': {'type': 'list', 'elements': 'dict', 'options': {
                'name': {'type': 'str', 'required': True},
                'namespace': {'type': 'str'},
            }},
            'files': {'type': 'list', 'elements': 'dict', 'options': {
                'path': {'type': 'path', 'required': True},
                'name': {'type': 'str'},
            }},
            'databases': {'type': 'list', 'elements': 'dict', 'options': DATABASE_OPTIONS},
        }},
        'encryption_passphrase': {'type': 'str', 'no_log': True},
        'encrypt': {'type': 'str', 'choices': list(tasks.ENCRYPT_CHOICES), 'default': 'auto'},
        'verify': {'type': 'bool', 'default': True},
        'keep_last': {'type': 'int'},
        'max_age': {'type': 'str'},
        'incomplete_after': {'type': 'str', 'default': '24h'},
        'prune_incomplete': {'type': 'bool', 'default': False},
    })
    module = KfuseModule(argument_spec=argument_spec, supports_check_mode=True)
    for warning in storage_warnings(module.params):
        module.warn(warning)
    module.run(tasks.run_backup, module.params, check_mode=module.check_mode, register_secret=module.register_secret)


if __name__ == '__main__':
    main()
