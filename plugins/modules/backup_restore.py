#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: backup_restore
short_description: Restore Kloudfuse secrets, databases, Helm values and files from a backup set
version_added: 0.1.0
description:
  - Restores from one complete backup set written by M(kfuse.failover.backup) (O(set_id), or the newest complete
    set of O(zone)); sets without a manifest are never used.
  - Secrets are applied to the target cluster (O(kubeconfig), O(context)) and namespace, made portable, without
    replacing an existing secret that differs unless O(overwrite=true). Each secret is reported as V(created),
    V(unchanged), V(kept) or V(updated).
  - Databases are restored with C(pg_restore) (single transaction) into a DSN or inside a pod.
  - Helm values and files are written under O(dest) when it is set.
  - All or nothing on a wrong passphrase - the key is checked against the set's key check first, and every secret is
    downloaded, checked and decrypted before the first one is applied, so a wrong key or a corrupted object
    restores nothing.
author:
  - kfuse.failover contributors (@kfuse)
options:
  zone:
    description:
      - Zone the set belongs to (the zone that was backed up).
    type: str
    required: true
  set_id:
    description:
      - Set to restore, or V(latest) for the newest complete set of O(zone).
    type: str
    default: latest
  encryption_passphrase:
    description:
      - Passphrase the set was encrypted with. Required for encrypted sets.
    type: str
  restore_secrets:
    description:
      - Restore the set's secrets.
    type: bool
    default: true
  secrets:
    description:
      - Restore only these secrets (C(name) or C(namespace/name)). All of the set's secrets when omitted.
      - A name the set does not hold fails the task before anything is restored.
    type: list
    elements: str
  namespace:
    description:
      - Namespace to restore secrets into. Each secret's original namespace when omitted.
    type: str
  overwrite:
    description:
      - Replace an existing secret whose type or data differ. Without it such a secret is V(kept) as it is.
    type: bool
    default: false
  databases:
    description:
      - Databases to restore. None unless listed.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the database in the set.
        type: str
        required: true
      target_database:
        description: Database to restore into. Defaults to O(databases[].name).
        type: str
      dsn:
        description:
          - libpq connection string or URI of the target server. Exactly one of O(databases[].dsn) and
            O(databases[].pod).
        type: str
      pod:
        description: Pod to run C(pg_restore) in.
        type: str
      namespace:
        description: Namespace of the pod.
        type: str
        default: kfuse
      container:
        description: Container of the pod.
        type: str
      username:
        description: Database user in the pod.
        type: str
      password:
        description: Password in the pod, sent on the exec's stdin.
        type: str
      password_env:
        description: Environment variable of the container holding the password.
        type: str
      host:
        description: Database host as seen from the pod.
        type: str
      port:
        description: Database port as seen from the pod.
        type: int
      clean:
        description: Drop database objects before recreating them (C(pg_restore --clean --if-exists)).
        type: bool
        default: false
  dest:
    description:
      - Directory to write the set's Helm values (C(helm/<release>/values.yaml)) and files (C(files/<name>)) into,
        mode 0600. Not written when omitted. An existing path that is not a directory fails the task before anything
        is restored.
      - When the task fails after restoring something, its result says C(changed=true) and lists what was done in
        RV(secrets), RV(databases) and RV(files).
    type: path
extends_documentation_fragment:
  - kfuse.failover.backup_set
  - kfuse.failover.cloud_storage
  - kfuse.failover.kube
  - kfuse.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Downloads and decrypts the secrets and reports what would happen to each; restores nothing.
  diff_mode:
    support: none
seealso:
  - module: kfuse.failover.backup
  - module: kfuse.failover.backup_info
'''

EXAMPLES = r'''
- name: Restore AZ1's newest secrets into AZ2 without clobbering (S3)
  kfuse.failover.backup_restore:
    cloud_storage:
      type: s3
      s3: {region: us-west-2, bucket: kfuse-shared}
    storage_ambient: true
    zone: az1
    context: az2
    namespace: kfuse
    encryption_passphrase: "{{ vault_kfuse_backup_passphrase }}"
    dest: /var/lib/kfuse/restore/az1

- name: Restore configdb into the AZ2 configdb pod from a chosen set (GCS)
  kfuse.failover.backup_restore:
    cloud_storage:
      type: gcs
      gcs: {bucket: kfuse-shared}
    storage_credentials_file: /etc/kfuse/gcs-sa.json
    zone: az1
    set_id: 20261121T100000Z
    context: az2
    restore_secrets: false
    databases:
      - name: configdb
        pod: kfuse-configdb-0
        username: postgres
        password_env: POSTGRES_PASSWORD
        clean: true
    encryption_passphrase: "{{ vault_kfuse_backup_passphrase }}"

- name: Replace one secret in a standby namespace (Azure Blob)
  kfuse.failover.backup_restore:
    cloud_storage:
      type: azure
      azure: {container: kfuse-shared}
    storage_credentials:
      connection_string: "{{ vault_azure_connection_string }}"
    zone: az1
    context: az2
    secrets: [kfuse/kfuse-cloud-storage]
    overwrite: true
    encryption_passphrase: "{{ vault_kfuse_backup_passphrase }}"
'''

RETURN = r'''
set_id:
  description: Id of the set restored from.
  returned: success
  type: str
  sample: 20261121T100000Z
prefix:
  description: Key prefix of that set.
  returned: success
  type: str
secrets:
  description: One entry per secret - C(name), C(namespace), C(action) (V(created), V(unchanged), V(kept),
    V(updated); what would happen in check mode).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "kfuse-pg", "namespace": "kfuse", "action": "created"}]
databases:
  description: One entry per database - C(name), C(target_database), C(size), C(clean), C(action)
    (V(restored), or V(would restore) in check mode) and C(warnings) of C(pg_restore).
  returned: success
  type: list
  elements: dict
files:
  description: Helm values and files written under O(dest) - C(kind), C(name), C(path), C(changed).
  returned: success
  type: list
  elements: dict
storage_error:
  description: Provider, code, key and container of a storage failure.
  returned: on storage failures
  type: dict
'''

from ansible_collections.kfuse.failover.plugins.module_utils import _backup_read, _backup_tasks as tasks
from ansible_collections.kfuse.failover.plugins.module_utils._storage_params import KUBE_ARGSPEC, STORAGE_ARGSPEC, storage_warnings
from ansible_collections.kfuse.failover.plugins.module_utils.base import KfuseModule


def main():
    argument_spec = dict(STORAGE_ARGSPEC)
    argument_spec.update(KUBE_ARGSPEC)
    argument_spec.update(tasks.BACKUP_SET_ARGSPEC)
    argument_spec.update({
        'zone': {'type': 'str', 'required': True},
        'set_id': {'type': 'str', 'default': 'latest'},
        'encryption_passphrase': {'type': 'str', 'no_log': True},
        'restore_secrets': {'type': 'bool', 'default': True},
        'secrets': {'type': 'list', 'elements': 'str', 'no_log': False},
        'namespace': {'type': 'str'},
        'overwrite': {'type': 'bool', 'default': False},
        'databases': {'type': 'list', 'elements': 'dict', 'options': dict(
            tasks.DATABASE_CONNECTION_ARGSPEC, target_database={'type': 'str'}, clean={'type': 'bool', 'default': False})},
        'dest': {'type': 'path'},
    })
    module = KfuseModule(argument_spec=argument_spec, supports_check_mode=True)
    for warning in storage_warnings(module.params):
        module.warn(warning)
    module.run(_backup_read.run_restore, module.params, check_mode=module.check_mode, register_secret=module.register_secret)


if __name__ == '__main__':
    main()
