# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Documentation of the cloud storage options shared by the backup modules."""

from __future__ import annotations


class ModuleDocFragment:
    """Where backup sets live (S3, GCS or Azure Blob), with which credentials, TLS and server-side encryption."""

    DOCUMENTATION = r'''
options:
  cloud_storage:
    description:
      - The shared, region-level object storage, in the same shape as the Kloudfuse chart's
        C(global.cloudStorage) value, so the inventory's value can be passed as it is.
      - C(type) is V(s3), V(gcs) or V(azure). C(s3) needs C(region) and C(bucket); C(gcs) needs C(bucket)
        (C(project) optional); C(azure) needs C(container) (C(account_url) optional when the credentials carry it).
      - C(useSecret) and C(secretName) are accepted and kept; credentials are chosen with the C(storage_credentials*)
        options below.
      - C(endpoint_url) points at an S3-compatible store or an emulator (for GCS and Azure as well).
      - Anything else fails before any request, naming the option.
    type: dict
    required: true
  storage_credentials:
    description:
      - Explicit credentials. Never shown in results, messages or logs.
      - Either the collection's names (C(access_key), C(secret_key), C(session_token) for S3;
        C(service_account_info) for GCS; C(connection_string), C(account_key) or C(sas_token) for Azure) or the
        keys of the Kloudfuse cloud storage secret (C(accessKey) and C(secretKey) for S3, C(secretKey) holding the
        service account JSON for GCS, C(connectionString) for Azure), for example the decoded data of that secret.
      - Exactly one of O(storage_credentials), O(storage_credentials_file), O(storage_credentials_secret) and
        O(storage_ambient=true) must be given.
    type: dict
  storage_credentials_file:
    description:
      - File holding the credentials in the format of the Kloudfuse cloud storage secret (a JSON or YAML mapping
        with the keys listed under O(storage_credentials)), or, for GCS, the service account JSON file itself.
    type: path
  storage_credentials_secret:
    description:
      - Read the credentials from the Kloudfuse cloud storage secret through the Kubernetes API.
      - C(kubeconfig) and C(context) default to the module's own Kubernetes options when it has them.
    type: dict
    suboptions:
      kubeconfig:
        description: Path of the kubeconfig file.
        type: path
      context:
        description: Context of the kubeconfig.
        type: str
      namespace:
        description: Namespace of the secret.
        type: str
        default: kfuse
      name:
        description: Name of the secret.
        type: str
        required: true
  storage_ambient:
    description:
      - Use the credentials of the environment instead (instance role, workload identity, the provider's default
        credential chain).
      - Mutually exclusive with the other C(storage_credentials*) options.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the TLS certificate of the storage endpoint. Turn off only for throw-away environments.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA (bundle) that signed the storage endpoint's certificate, instead of the system trust store.
    type: path
  server_side_encryption:
    description:
      - Server-side encryption asked of the store for every object written; only the entry of the
        O(cloud_storage) type is used. Reading needs nothing more.
    type: dict
    suboptions:
      s3:
        description:
          - C(mode) V(AES256) (SSE-S3) or V(aws:kms) (SSE-KMS) and, for SSE-KMS, C(kms_key_id).
        type: dict
      gcs:
        description:
          - C(kms_key_name) of a customer-managed encryption key (CMEK).
        type: dict
      azure:
        description:
          - C(encryption_scope) of the storage account to write with.
        type: dict
  allow_insecure_credentials:
    description:
      - Send O(storage_credentials), O(storage_credentials_file) or O(storage_credentials_secret) credentials to a
        plain C(http://) endpoint that is not this machine. Refused by default; loopback endpoints (emulators) are
        always allowed. Warned about when used.
    type: bool
    default: false
  storage_timeout:
    description:
      - Seconds allowed for each storage request.
    type: float
    default: 60
requirements:
  - boto3 (for S3)
  - google-cloud-storage (for GCS)
  - azure-storage-blob (for Azure Blob)
notes:
  - Storage failures fail the module with C(msg) and C(storage_error) (provider, code, key, container), never a
    stack trace and never a credential.
'''
