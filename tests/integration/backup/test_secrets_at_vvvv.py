# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every backup module at -vvvv with every secret option set, succeeding and failing: no secret in any output."""

import postgres_lab  # pylint: disable=import-error
import pytest
from backup_support import PASSPHRASE, PROVIDERS  # pylint: disable=import-error

ZONE = "az1"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_secret_value_in_any_output_at_vvvv(provider, make_bucket, run_module, kube, pg):
    bucket = make_bucket(provider)
    dsn = postgres_lab.dsn_for(pg, "configdb")
    wrong_password = "Wr0ng-db-Passw0rd-%s" % provider
    bad_dsn = dsn.replace(pg["password"], wrong_password) if pg["password"] in dsn else dsn + " password=" + wrong_password
    common = dict(kubeconfig=kube["kubeconfig"], context="az1")
    runs = [
        run_module("backup", bucket.args(zone=ZONE, encryption_passphrase=PASSPHRASE, sources={
            "databases": [{"name": "configdb", "dsn": dsn}]}, **common), verbosity=4),
        # fails in pg_dump, whose stderr is quoted: the password inside the DSN is registered and masked
        run_module("backup", bucket.args(zone=ZONE, encryption_passphrase=PASSPHRASE, sources={
            "databases": [{"name": "configdb", "dsn": bad_dsn}]}, **common), verbosity=4),
        run_module("backup_info", bucket.args(zone=ZONE, verify="latest", encryption_passphrase=PASSPHRASE),
                   verbosity=4),
        run_module("backup_restore", bucket.args(zone=ZONE, encryption_passphrase=PASSPHRASE, restore_secrets=False,
                                                 databases=[{"name": "configdb", "dsn": dsn,
                                                             "target_database": "no_such_database_x"}]),
                   verbosity=4),
    ]
    secrets = list(bucket.secret_values) + [PASSPHRASE, pg["password"], wrong_password]
    for run in runs:
        for output in (run.stdout, run.stderr):
            for secret in secrets:
                assert secret not in output, (secret[:4], output[-2000:])
