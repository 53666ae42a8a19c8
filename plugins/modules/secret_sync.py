#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: secret_sync
short_description: Make the secrets a Kloudfuse zone needs exist in its namespace, in the right format
version_added: 0.1.0
description:
  - For each secret of O(secrets), the wanted content comes from O(secrets[].value) when given (for example read
    from Vault), otherwise from the O(source) cluster when set (made portable, see the
    P(kfuse.failover.portable_secret#filter) filter). O(selectors) add every secret of the source that matches.
  - Every wanted secret is checked against its O(secrets[].format) before anything is applied; one that does not
    fit fails the task and nothing changes. A secret that differs in the target is only replaced with O(force=true).
  - Without a wanted content (no value, not in the source, or no source) the target's own secret is checked;
    when it is absent the secret is reported V(missing), and the task fails on it only with O(fail_on_missing=true)
    and O(secrets[].required=true) - so a role can first copy, then restore what is missing from a backup set,
    then check.
  - Secret data is never returned, printed or shown in a diff (the diff shows types and key names).
author:
  - kfuse.failover contributors (@kfuse)
options:
  secrets:
    description: The secrets the zone needs.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the secret.
        type: str
        required: true
      format:
        description:
          - What the secret must hold. V(s3) (C(accessKey), C(secretKey)), V(gcs) (C(secretKey), a
            service-account key JSON), V(azure) (C(connectionString)), V(image_pull) (type
            C(kubernetes.io/dockerconfigjson)), V(postgres) (C(postgresql-password) or C(postgres)), V(tls)
            (type C(kubernetes.io/tls)), V(sso_google) (C(client-id), C(client-secret), C(cookie-secret)),
            V(opaque) (anything).
        type: str
        choices: [s3, gcs, azure, image_pull, postgres, tls, sso_google, opaque]
        default: opaque
      required:
        description: A missing secret fails the task (with O(fail_on_missing=true)); optional ones are only reported.
        type: bool
        default: true
      value:
        description:
          - The secret's content, taking precedence over the source. Keys C(type) (default C(Opaque)),
            C(data) (base64 values) and C(string_data) (plain values).
        type: dict
  selectors:
    description:
      - Label selectors (for example C(app.kubernetes.io/part-of=kfuse)); every secret of the source namespace that
        matches one is also copied, with format V(opaque).
    type: list
    elements: str
    default: []
  source:
    description:
      - The cluster and namespace to copy from. No copy when omitted (emergency mode, or values only).
    type: dict
    suboptions:
      kubeconfig:
        description: Kubeconfig of the source cluster.
        type: path
      context:
        description: Context of the source cluster.
        type: str
      namespace:
        description: Namespace of the source.
        type: str
        required: true
  namespace:
    description: Namespace of the target zone.
    type: str
    required: true
  force:
    description: Replace a secret of the target whose type or data differ from the wanted one.
    type: bool
    default: false
  fail_on_missing:
    description: Fail when a required secret is neither wanted nor present in the target.
    type: bool
    default: true
extends_documentation_fragment:
  - kfuse.failover.kube
  - kfuse.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads both clusters and reports what would be created or updated; writes nothing.
  diff_mode:
    support: full
    details:
      - Type and key names of each secret before and after; never values.
'''

EXAMPLES = r'''
- name: Copy the runbook's secrets from AZ1 to AZ2
  kfuse.failover.secret_sync:
    context: az2
    namespace: kfuse
    source:
      context: az1
      namespace: kfuse
    secrets:
      - {name: kfuse-image-pull-credentials, format: image_pull}
      - {name: cloud-storage-secret, format: s3}
      - {name: kfuse-pg-credentials, format: postgres}
      - {name: kfuse-auth-google, format: sso_google, required: false}
    fail_on_missing: false
  register: copied

- name: Create the PostgreSQL secret from Vault
  kfuse.failover.secret_sync:
    context: az2
    namespace: kfuse
    secrets:
      - name: kfuse-pg-credentials
        format: postgres
        value:
          string_data:
            postgresql-password: "{{ lookup('community.hashi_vault.vault_kv2_get', 'kfuse/pg').secret.password }}"
'''

RETURN = r'''
secrets:
  description:
    - One entry per secret - C(name), C(namespace), C(origin) (V(value), V(source), V(target) or V(none)),
      C(format), C(required) and C(action) - V(created), V(unchanged), V(updated), V(kept) (differs, no
      O(force)), V(present) (not wanted from anywhere, found in the target) or V(missing).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "cloud-storage-secret", "namespace": "kfuse", "origin": "source", "format": "s3",
            "required": true, "action": "created"}]
created:
  description: Names of the secrets created (or that would be, in check mode).
  returned: always
  type: list
  elements: str
updated:
  description: Names of the secrets replaced.
  returned: always
  type: list
  elements: str
unchanged:
  description: Names of the secrets already as wanted, or present in the target.
  returned: always
  type: list
  elements: str
kept:
  description: Names of the secrets that differ in the target and were left alone (no O(force)).
  returned: always
  type: list
  elements: str
missing:
  description: Names of the secrets found nowhere.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.kfuse.failover.plugins.module_utils._secret_sync import sync_secrets
from ansible_collections.kfuse.failover.plugins.module_utils.base import KfuseModule


def main():
    source_spec = {'kubeconfig': {'type': 'path'}, 'context': {'type': 'str'},
                   'namespace': {'type': 'str', 'required': True}}
    secret_spec = {
        'name': {'type': 'str', 'required': True},
        'format': {'type': 'str', 'default': 'opaque',
                   'choices': ['s3', 'gcs', 'azure', 'image_pull', 'postgres', 'tls', 'sso_google', 'opaque']},
        'required': {'type': 'bool', 'default': True},
        'value': {'type': 'dict', 'no_log': True},
    }
    module = KfuseModule(
        argument_spec={
            'secrets': {'type': 'list', 'elements': 'dict', 'options': secret_spec, 'default': [], 'no_log': False},
            'selectors': {'type': 'list', 'elements': 'str', 'default': []},
            'source': {'type': 'dict', 'options': source_spec},
            'kubeconfig': {'type': 'path'},
            'context': {'type': 'str'},
            'namespace': {'type': 'str', 'required': True},
            'force': {'type': 'bool', 'default': False},
            'fail_on_missing': {'type': 'bool', 'default': True},
        },
        supports_check_mode=True,
    )
    module.run(sync_secrets, module.params, check_mode=module.check_mode, diff=module._diff,
               register_secret=module.register_secret)


if __name__ == '__main__':
    main()
