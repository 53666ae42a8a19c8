# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every exception the collection raises, under one root ``KfuseError``; modules fail from them through
``base.KfuseModule.fail_from_exception`` (message, ``code`` and the keys of ``fail_result()``, traceback).

::

    KfuseError                 message, code (provider code, HTTP status or exit code), result keys, fail_result()
    +-- OptionError            a module option refused before any change; the message names the option
    |   +-- TimeParseError     a point in time that cannot be understood (latest_time, manifest times)
    +-- CredentialsError       storage credentials that are missing, ambiguous or unreadable (never quoted)
    +-- AzServiceError         a failed az-service call: method, url, status (= code), body
    +-- WaitError              a wait that timed out, saw a failure, or could not read the status
    +-- KubeError              a Kubernetes configuration, lookup or port-forward problem
    +-- NodeGroupError         a node-group provider call or state (EKS, Auto Scaling, GKE, AKS): provider, code, group
    +-- StorageError           an object-storage call: provider, provider code, container, key
    |   +-- PreconditionFailed a conditional write that lost its race (the object exists, or is not the version read)
    +-- BackupSetError         a backup set that cannot be written, read or used as asked
    |   +-- ManifestError      a manifest that is not a valid backup-set manifest
    |   +-- IntegrityError     stored bytes that do not match the manifest
    +-- CryptoError            encryption that cannot be done (library, parameters)
    |   +-- DecryptionError    wrong passphrase, or damaged/truncated/swapped data
    +-- PostgresError          a pg_dump/pg_restore failure (exit code = code, stderr tail)
    +-- SourceError            a backup source that cannot be read or applied (secrets, Helm values, files, databases)
    +-- TaskFailed             a backup task that failed with result keys to report (changed, what was done)
    +-- JournalError           a journal action refused: the run lock is held by another run or was taken from this
                               one, a run that is unknown or finished, a journal record that cannot be read

Messages keep the provider's own words; secrets are not removed here but masked by Ansible: the module base
registers every secret it learns in ``no_log_values``. ``ValueError`` is never part of the collection's API.
"""

from __future__ import annotations


class KfuseError(Exception):
    """Root of the collection's errors: a message fit for an operator, an optional code and result keys."""

    def __init__(self, message, code=None, **result):
        super().__init__(message)
        self.message = message
        self.code = code
        self.result = result

    def __str__(self):
        return str(self.message)

    def fail_result(self):
        """Extra keys for the module result (besides ``msg`` and ``exception``)."""
        result = dict(self.result)
        if self.code is not None:
            result.setdefault('code', self.code)
        return result


class OptionError(KfuseError):
    """A module option the module refuses; the message names the option and what is accepted."""


class TimeParseError(OptionError):
    """A point in time that cannot be understood; the message names the option and the accepted forms."""

    def __init__(self, value, reason, option='latest_time', accepted=None):
        self.value = value
        self.option = option
        text = '%s: %s (got %r)' % (option, reason, value)
        super().__init__(text + ('; accepted: %s' % accepted if accepted else ''))


class CredentialsError(KfuseError):
    """Bad or unreadable credentials; the message names the option, never a secret value."""


class AzServiceError(KfuseError):
    """A failed az-service call: method, URL, HTTP status (None without a response), body (truncated) and message."""

    def __init__(self, message, method=None, url=None, status=None, body=None, attempts=None):
        super().__init__(message, code=status)
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.attempts = attempts

    def fail_result(self):
        result = dict(self.result)
        result.update({'method': self.method, 'url': self.url, 'status': self.status, 'code': self.status,
                       'body': self.body})
        return result


class WaitError(KfuseError):
    """A wait that ended without its condition: timed out, or the observed object reported failure."""

    def __init__(self, message, last=None, last_summary=None, history=None, elapsed=0.0, timed_out=False):
        super().__init__(message)
        self.last = last
        self.last_summary = last_summary or {}
        self.history = history or []
        self.elapsed = elapsed
        self.timed_out = timed_out


class KubeError(KfuseError):
    """A Kubernetes lookup or port-forward problem, with a message fit for an operator."""


class NodeGroupError(KfuseError):
    """A node-group provider call that failed, or a group in a state that cannot be resized.

    ``provider`` (eks, asg, gke, aks), ``code`` (the provider's error code or HTTP status), ``group`` (what was
    asked about); ``transient`` marks errors worth retrying (throttling, 429/5xx, connection errors) and ``busy``
    the ones that mean "another operation on this group is running" (EKS ResourceInUseException, a GKE operation
    in progress, AKS 409), retried once the group is free; ``retry_after`` is the provider's own hint in seconds.
    """

    def __init__(self, message, provider=None, code=None, group=None, transient=False, busy=False, retry_after=None):
        super().__init__(message, code=code)
        self.provider = provider
        self.group = group
        self.transient = transient or busy
        self.busy = busy
        self.retry_after = retry_after

    def fail_result(self):
        result = dict(self.result)
        result.update({'code': self.code, 'provider_error': {'provider': self.provider, 'code': self.code,
                                                             'group': self.group, 'message': self.message}})
        return result


class StorageError(KfuseError):
    """One error type for every storage backend: provider, provider code, container and key."""

    def __init__(self, message, provider=None, code=None, key=None, container=None):
        super().__init__(message, code=code)
        self.provider = provider
        self.key = key
        self.container = container

    def __str__(self):
        where = self.container or ''
        if self.key:
            where = '%s/%s' % (where, self.key) if where else self.key
        parts = []
        if self.provider:
            parts.append(self.provider)
        if where:
            parts.append(where)
        prefix = ' '.join(parts)
        code = ' [%s]' % self.code if self.code else ''
        return '%s%s: %s' % (prefix, code, self.message) if prefix else '%s%s' % (self.message, code)

    def to_dict(self):
        """The error as a plain dict for a module result."""
        return {'message': self.message, 'provider': self.provider, 'code': self.code, 'key': self.key,
                'container': self.container}

    def fail_result(self):
        return {'code': self.code, 'storage_error': self.to_dict()}


class PreconditionFailed(StorageError):
    """A conditional write that lost its race: ``code`` AlreadyExists (create-if-absent found the object) or
    PreconditionFailed (replace-if-unchanged found another version, or no object); the message names the key."""


class BackupSetError(KfuseError):
    """A backup set cannot be written, read or used as asked."""


class ManifestError(BackupSetError):
    """A manifest that is not a valid kfuse.failover backup-set manifest."""


class IntegrityError(BackupSetError):
    """Stored bytes do not match the manifest's size or checksums."""


class CryptoError(KfuseError):
    """Encryption cannot be done (missing library, malformed parameters)."""


class DecryptionError(CryptoError):
    """Wrong key or passphrase, or data that was damaged, truncated, reordered or swapped."""


class PostgresError(KfuseError):
    """A dump or restore failure with the tool's exit code and the tail of its stderr."""

    def __init__(self, message, exit_code=None, stderr=None):
        super().__init__(message, code=exit_code)
        self.exit_code = exit_code
        self.stderr = stderr

    def fail_result(self):
        return {'exit_code': self.exit_code} if self.exit_code is not None else {}


class SourceError(KfuseError):
    """A source that cannot be read or applied, with a message fit for an operator."""


class TaskFailed(KfuseError):
    """A module task that failed: the message plus the result keys the failure carries (``changed`` among them)."""


class JournalError(KfuseError):
    """A journal action refused (lock held by another run, lock taken from this run, run unknown or finished, a record
    that is not the journal's); the message names the run, the holder and what to do, the result keys carry the lock."""
