#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: backup_info
short_description: List and verify Kloudfuse backup sets, and check the freshness of the az-service's own backups
version_added: 0.1.0
description:
  - Lists the backup sets written by M(kfuse.failover.backup) under C(<prefix>/<zone>/), complete ones with their
    manifests, incomplete ones (no manifest yet, or a writer that died) and invalid ones (a manifest that does not
    validate). Incomplete and invalid sets are never taken as the latest.
  - Reports the newest complete set and its age in seconds.
  - With O(verify), downloads every object of one set and checks its size and SHA-256 checksums, and decrypts it
    with O(encryption_passphrase). Fails naming each object that does not match.
  - With O(az_backups), reports the newest object the az-service wrote under a prefix of a zone (by default
    C(<zone>/postgres/)) and its age, and fails when it is older than O(az_backups.max_age), so a playbook can stop
    when the recovery point is too old (for example 2 x C(backupIntervalMinutes)).
  - Never changes anything.
author:
  - kfuse.failover contributors (@kfuse)
options:
  zone:
    description:
      - Zone whose sets are listed. All zones when omitted.
    type: str
  manifests:
    description:
      - Include each complete set's manifest in RV(sets).
    type: bool
    default: true
  verify:
    description:
      - Set id to verify, or V(latest) for the newest complete set of O(zone).
    type: str
  encryption_passphrase:
    description:
      - Passphrase of an encrypted set, to decrypt it during O(verify). Without it an encrypted set is checked on
        its stored bytes only (C(full) is false in RV(verification)). A wrong passphrase fails before any object is read.
    type: str
  az_backups:
    description:
      - Check the freshness of the backups the az-service writes itself.
    type: dict
    suboptions:
      zone:
        description:
          - Zone id the az-service writes under (its C(az-service.config.zone)). Defaults to O(zone).
        type: str
      prefix:
        description:
          - Prefix pattern of its database backups; C({zone}) is replaced by O(az_backups.zone).
        type: str
        default: '{zone}/postgres/'
      max_age:
        description:
          - Fail when the newest object is older than this duration (V(30m), V(2h), seconds), or when there is none.
        type: str
extends_documentation_fragment:
  - kfuse.failover.backup_set
  - kfuse.failover.cloud_storage
  - kfuse.failover.attributes
  - kfuse.failover.attributes.info_module
seealso:
  - module: kfuse.failover.backup
  - module: kfuse.failover.backup_restore
'''

EXAMPLES = r'''
- name: Newest backup set of AZ1 in S3, verified and decrypted
  kfuse.failover.backup_info:
    cloud_storage: "{{ kfuse_cloud_storage }}"
    storage_ambient: true
    zone: az1
    verify: latest
    encryption_passphrase: "{{ vault_kfuse_backup_passphrase }}"
  register: info

- name: Fail when the az-service's database backups of AZ1 are older than twice the interval (GCS)
  kfuse.failover.backup_info:
    cloud_storage:
      type: gcs
      gcs: {bucket: kfuse-shared}
    storage_credentials_file: /etc/kfuse/gcs-sa.json
    zone: az1
    manifests: false
    az_backups:
      zone: prod-az1
      max_age: "{{ 2 * backup_interval_minutes }}m"

- name: List the sets of every zone in Azure Blob
  kfuse.failover.backup_info:
    cloud_storage:
      type: azure
      azure: {container: kfuse-shared}
    storage_credentials:
      connection_string: "{{ vault_azure_connection_string }}"
'''

RETURN = r'''
sets:
  description: Every set found, oldest first; C(status) is V(complete), V(incomplete) or V(invalid).
  returned: success
  type: list
  elements: dict
  sample: [{"zone": "az1", "set_id": "20261121T100000Z", "status": "complete", "complete": true,
            "created": "2026-11-21T10:00:00Z", "object_count": 5, "stored_bytes": 20480, "encrypted": true,
            "error": null, "prefix": "kfuse-failover/backups/az1/20261121T100000Z/", "manifest": {}}]
complete:
  description: Ids of the complete sets, oldest first.
  returned: success
  type: list
  elements: str
incomplete:
  description: Ids of the sets without a manifest.
  returned: success
  type: list
  elements: str
invalid:
  description: Ids of the sets whose manifest does not validate.
  returned: success
  type: list
  elements: str
latest:
  description: The newest complete set (without manifest), null when there is none.
  returned: success
  type: dict
latest_age_seconds:
  description: Age of the newest complete set in seconds, null when there is none.
  returned: success
  type: float
  sample: 3600.5
verification:
  description:
    - Outcome of O(verify) - C(ok), C(full) (every object decrypted or not encrypted), C(checked), C(failed) (keys)
      and C(objects) (per object C(key), C(ok), C(decrypted), C(error)).
  returned: when O(verify) is set
  type: dict
az_backups:
  description:
    - Freshness of the az-service's backups - C(zone), C(prefix), C(objects) (count), C(newest_key), C(newest_time),
      C(age_seconds), C(max_age), C(stale).
  returned: when O(az_backups) is set
  type: dict
storage_error:
  description: Provider, code, key and container of a storage failure.
  returned: on storage failures
  type: dict
'''

from ansible_collections.kfuse.failover.plugins.module_utils import _backup_read, _backup_tasks as tasks
from ansible_collections.kfuse.failover.plugins.module_utils._storage_params import STORAGE_ARGSPEC, storage_warnings
from ansible_collections.kfuse.failover.plugins.module_utils.base import KfuseModule


def main():
    argument_spec = dict(STORAGE_ARGSPEC)
    argument_spec.update(tasks.BACKUP_SET_ARGSPEC)
    argument_spec.update({
        'zone': {'type': 'str'},
        'manifests': {'type': 'bool', 'default': True},
        'verify': {'type': 'str'},
        'encryption_passphrase': {'type': 'str', 'no_log': True},
        'az_backups': {'type': 'dict', 'options': {
            'zone': {'type': 'str'},
            'prefix': {'type': 'str', 'default': '{zone}/postgres/'},
            'max_age': {'type': 'str'},
        }},
    })
    module = KfuseModule(argument_spec=argument_spec, supports_check_mode=True)
    for warning in storage_warnings(module.params):
        module.warn(warning)
    module.run(_backup_read.run_info, module.params, register_secret=module.register_secret)


if __name__ == '__main__':
    main()
