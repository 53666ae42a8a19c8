# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The az-service simulator over real HTTPS against a real moto S3 (no Kubernetes emulator).

Run: ``PYTHONPATH=tests/lab .venv/bin/python -m pytest -q tests/integration/lab/test_azservice_sim.py``
"""

import math
import os
import time

import boto3
import pytest
import requests

import labca
import labctl

ZONES = {"az1": "lab-az1", "az2": "lab-az2"}
# Slow enough that progress is observable on /status, fast enough to keep the file quick.
SIM_ARGS = ("--rehydrate-rate", "40", "--segment-interval", "0.3", "--dump-interval", "0.6", "--seed-segments", "30")


class Sim:
    """A running simulator: URL, token, CA, and small request helpers."""

    def __init__(self, name, url, token, ca_path):
        self.name = name
        self.zone_id = ZONES[name]
        self.url = url
        self.token = token
        self.ca_path = ca_path

    def call(self, method, path, token=None, **kwargs):
        headers = {"Authorization": "Bearer " + (token if token is not None else self.token)}
        timeout = kwargs.pop("timeout", 10)
        return requests.request(method, self.url + path, headers=headers, verify=self.ca_path, timeout=timeout, **kwargs)

    def status(self):
        response = self.call("GET", "/status")
        assert response.status_code == 200, response.text
        return response.json()

    def faults(self, **faults):
        response = self.call("POST", "/_lab/faults", json=faults)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_state(self, *states, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if status["state"] in states:
                return status
            assert time.monotonic() < deadline, "%s never reached %s; last status %s" % (self.name, states, status)
            time.sleep(0.05)


@pytest.fixture(scope="module", name="lab")
def lab_fixture(tmp_path_factory):
    """moto S3 with the lab bucket and two simulators (az1 active, az2 standby) that know each other as peers."""
    state_dir = str(tmp_path_factory.mktemp("azsim"))
    os.makedirs(os.path.join(state_dir, "logs"), exist_ok=True)
    pki = labca.create_lab_pki(state_dir)
    started = []
    try:
        moto, endpoint = labctl.start_moto(state_dir)
        started.append(moto)
        labctl.create_bucket(endpoint)
        ports = {name: labctl.free_port() for name in ZONES}
        tokens = {name: "token-" + name for name in ZONES}
        sims = {}
        pending = []
        for zone, peer in zip(labctl.ZONES, reversed(labctl.ZONES)):
            piece, ready = labctl.start_simulator(
                state_dir, zone, ports[zone["name"]], "https://127.0.0.1:%d" % ports[peer["name"]], tokens[peer["name"]],
                pki, endpoint, tokens[zone["name"]], SIM_ARGS)
            started.append(piece)
            pending.append((zone["name"], piece, ready))
        for name, piece, ready in pending:
            info = piece.wait_for(lambda path=ready: labctl.read_json(path), "its ready file")
            sims[name] = Sim(name, info["url"], tokens[name], pki["ca"])
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=labctl.REGION,
                          aws_access_key_id=labctl.ACCESS_KEY, aws_secret_access_key=labctl.SECRET_KEY)
        yield {"sims": sims, "s3": s3, "ca": pki["ca"], "state_dir": state_dir}
    finally:
        alive = labctl.stop_pieces([(piece.name, piece.record()) for piece in started])
        assert not alive
        assert all(piece.proc.wait(timeout=10) is not None for piece in started)


@pytest.fixture(name="az1")
def az1_fixture(lab):
    return lab["sims"]["az1"]


@pytest.fixture(name="az2")
def az2_fixture(lab):
    return lab["sims"]["az2"]


@pytest.fixture(autouse=True)
def fresh_zones(lab):
    """Every test starts from the initial states with no faults and freshly seeded zone prefixes."""
    for sim in lab["sims"].values():
        response = sim.call("POST", "/_lab/reset", params={"wipe": "true"})
        assert response.status_code == 200, response.text


def segments(s3, zone_id):
    prefix = zone_id + "/segments/"
    names = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=labctl.BUCKET, Prefix=prefix):
        names.update(item["Key"][len(prefix):] for item in page.get("Contents", ()))
    return names


def put_dump(s3, zone_id, database, stamp):
    s3.put_object(Bucket=labctl.BUCKET, Key="%s/postgres/%s/%s.dump" % (zone_id, database, stamp), Body=b"{}")


# ---- transport and auth ------------------------------------------------------------------------------


def test_https_is_verified_against_the_lab_ca(az1):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(az1.url + "/status", headers={"Authorization": "Bearer " + az1.token}, timeout=10, verify=True)
    assert az1.status()["zone"] == "lab-az1"


@pytest.mark.parametrize("path,method", [("/status", "GET"), ("/pause", "POST"), ("/activate", "POST"),
                                         ("/resume", "POST"), ("/_lab/state", "GET")])
def test_every_endpoint_requires_the_token(az1, path, method):
    for token in ("", "wrong"):
        response = az1.call(method, path, token=token)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
    assert az1.status()["state"] == "active"


def test_unknown_path_is_a_json_404(az1):
    response = az1.call("GET", "/nope")
    assert response.status_code == 404
    assert "error" in response.json()


# ---- state machine --------------------------------------------------------------------------------------


def test_initial_states(az1, az2):
    first, second = az1.status(), az2.status()
    assert (first["state"], first["consuming"], first["alertsSilenced"]) == ("active", True, False)
    assert (second["state"], second["consuming"], second["alertsSilenced"]) == ("standby", False, True)
    assert first["activation"] is None and second["activation"] is None


def test_failover_then_failback_rehydrates_missing_segments(lab, az1, az2):
    s3 = lab["s3"]
    response = az1.call("POST", "/pause")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["consuming"], body["alertsSilenced"], body["changed"]) == ("paused", False, True, True)
    assert body["flushCheck"] == "passed"
    source = segments(s3, "lab-az1")
    assert len(source) >= 31  # 30 seeded plus the final segment written by pause

    again = az1.call("POST", "/pause")
    assert again.status_code == 200 and again.json()["changed"] is False
    assert az2.call("POST", "/pause").json()["state"] == "standby"

    response = az2.call("POST", "/activate", params={"zone": "lab-az1"})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "activating"
    status = az2.wait_state("active", "failed")
    activation = status["activation"]
    assert status["state"] == "active", status
    assert (status["consuming"], status["alertsSilenced"]) == (True, True)
    assert activation["phase"] == "done" and activation["finishedAt"]
    assert activation["databases"] == {"configdb": "restored", "orchestratordb": "restored"}
    assert activation["segments"]["total"] == len(source)
    assert activation["segments"]["rehydrated"] == len(source)
    assert activation["segments"]["batchSize"] == 25
    assert source <= segments(s3, "lab-az2")
    # A paused zone has stopped consuming: nothing new appears under its prefix.
    assert segments(s3, "lab-az1") == source

    conflict = az2.call("POST", "/activate", params={"zone": "lab-az1"})
    assert conflict.status_code == 409 and conflict.json()["error"] == "already_active"

    for _repeat in range(2):
        resumed = az2.call("POST", "/resume")
        assert resumed.status_code == 200 and resumed.json()["alertsSilenced"] is False

    # Failback: az2 has been consuming; az1 gets back only what it lacks.
    assert az2.call("POST", "/pause", params={"force": "true"}).json()["state"] == "paused"
    missing = segments(s3, "lab-az2") - segments(s3, "lab-az1")
    assert any("lab-az2__" in name for name in missing)
    response = az1.call("POST", "/activate", params={"zone": "lab-az2", "batchSize": "7"})
    assert response.status_code == 200, response.text
    status = az1.wait_state("active", "failed")
    assert status["state"] == "active", status
    assert status["activation"]["segments"]["total"] == len(missing)
    assert status["activation"]["segments"]["batches"] == math.ceil(len(missing) / 7)
    assert segments(s3, "lab-az2") <= segments(s3, "lab-az1")


def test_pause_flush_check_failure_then_force(az1):
    az1.faults(flush_check_fails=True)
    response = az1.call("POST", "/pause")
    assert response.status_code == 409
    assert response.json()["error"] == "flush_check_failed" and response.json()["reason"]
    assert az1.status()["state"] == "active"
    forced = az1.call("POST", "/pause", params={"force": "true"})
    assert forced.status_code == 200
    assert forced.json()["state"] == "paused" and forced.json()["flushCheck"] == "skipped"


def test_pause_rejects_a_malformed_force(az1):
    response = az1.call("POST", "/pause", params={"force": "maybe"})
    assert response.status_code == 400 and "force" in response.json()["reason"]
    assert az1.status()["state"] == "active"


def test_pause_writes_a_final_dump_and_segment(lab, az1):
    before = segments(lab["s3"], "lab-az1")
    assert az1.call("POST", "/pause").status_code == 200
    after = segments(lab["s3"], "lab-az1")
    newest_before = max(int(name.split("__")[1]) for name in before)
    assert max(int(name.split("__")[1]) for name in after) > newest_before


# ---- activation parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize("params,name", [
    ({}, "zone"),
    ({"zone": "lab-az1", "latestTime": "yesterday"}, "latestTime"),
    ({"zone": "lab-az1", "latestTime": "2026-13-01T00:00:00Z"}, "latestTime"),
    ({"zone": "lab-az1", "latestTime": "2026-01-01T00:00:00"}, "latestTime"),
    ({"zone": "lab-az1", "batchSize": "0"}, "batchSize"),
    ({"zone": "lab-az1", "sourceForce": "perhaps"}, "sourceForce"),
    ({"zone": "lab-az1", "sourceNamespace": "elsewhere"}, "sourceNamespace"),
])
def test_activate_rejects_bad_parameters_naming_them(az2, params, name):
    response = az2.call("POST", "/activate", params=params)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_parameter"
    assert response.json()["reason"].startswith(name + ":")
    assert az2.status()["state"] == "standby"


def test_activate_with_a_zone_without_backups_is_404(az2):
    response = az2.call("POST", "/activate", params={"zone": "no-such-zone"})
    assert response.status_code == 404
    assert response.json()["error"] == "no_backups" and "no-such-zone" in response.json()["reason"]
    assert az2.status()["state"] == "standby"


@pytest.mark.parametrize("latest", ["2025-01-15T00:00:00Z", "2025-01-15T01:00:00+01:00", "1736899200", "1736899200000"])
def test_latest_time_selects_the_newest_dump_not_newer(lab, az2, latest):
    for database in ("configdb", "orchestratordb"):
        for stamp in ("20250101T000000Z", "20250115T000000Z", "20250201T000000Z"):
            put_dump(lab["s3"], "lab-old", database, stamp)
    put_dump(lab["s3"], "lab-old", "configdb", "20250115T000001Z")
    response = az2.call("POST", "/activate", params={"zone": "lab-old", "latestTime": latest})
    assert response.status_code == 200, response.text
    status = az2.wait_state("active", "failed")
    assert status["state"] == "active"
    assert status["activation"]["latestTime"].startswith("2025-01-15T00:00:00")
    assert status["activation"]["dumps"] == {"configdb": "lab-old/postgres/configdb/20250115T000000Z.dump",
                                             "orchestratordb": "lab-old/postgres/orchestratordb/20250115T000000Z.dump"}


def test_latest_time_before_every_dump_is_404(lab, az2):
    for database in ("configdb", "orchestratordb"):
        put_dump(lab["s3"], "lab-later", database, "20250601T000000Z")
    response = az2.call("POST", "/activate", params={"zone": "lab-later", "latestTime": "2025-05-01T00:00:00Z"})
    assert response.status_code == 404


def test_unknown_parameters_are_recorded(az1, az2):
    az1.call("POST", "/pause")
    params = {"zone": "lab-az1", "skipResume": "true", "someFutureFlag": "x"}
    assert az2.call("POST", "/activate", params=params).status_code == 200
    assert az2.status()["activation"]["params"] == params
    az2.wait_state("active")


def test_progress_is_visible_while_activating(lab, az1, az2):
    assert az1.call("POST", "/pause").status_code == 200
    total = len(segments(lab["s3"], "lab-az1"))
    assert az2.call("POST", "/activate", params={"zone": "lab-az1", "batchSize": "4"}).status_code == 200
    partial = []
    conflict = None
    while True:
        status = az2.status()
        if status["state"] != "activating":
            break
        progress = status["activation"]["segments"]
        if status["activation"]["phase"] == "rehydrating" and 0 < progress["rehydrated"] < total:
            partial.append(progress["rehydrated"])
            if conflict is None:
                conflict = az2.call("POST", "/activate", params={"zone": "lab-az1"})
                pause = az2.call("POST", "/pause")
                assert pause.status_code == 409 and pause.json()["error"] == "activation_in_progress"
        time.sleep(0.02)
    assert status["state"] == "active"
    assert partial and partial == sorted(partial)
    assert conflict.status_code == 409 and conflict.json()["error"] == "activation_in_progress"
    assert status["activation"]["segments"] == {"total": total, "rehydrated": total, "failed": 0, "batchSize": 4,
                                                "batches": math.ceil(total / 4)}


def test_source_namespace_pauses_the_peer(az1, az2):
    response = az2.call("POST", "/activate", params={"zone": "lab-az1", "sourceNamespace": "kfuse", "sourceForce": "true"})
    assert response.status_code == 200, response.text
    assert az1.status()["state"] == "paused"
    pauses = [r for r in az1.call("GET", "/_lab/state").json()["requests"] if r["path"] == "/pause"]
    assert pauses == [dict(pauses[0], method="POST", query={"force": "true"})]
    status = az2.wait_state("active", "failed")
    assert status["state"] == "active"
    assert status["activation"]["sourcePause"] == {"namespace": "kfuse", "force": True, "status": 200}


def test_failed_source_pause_stops_the_activation(az1, az2):
    az1.faults(flush_check_fails=True)
    response = az2.call("POST", "/activate", params={"zone": "lab-az1", "sourceNamespace": "kfuse"})
    assert response.status_code == 409
    assert response.json()["error"] == "source_pause_failed" and "flush" in response.json()["reason"].lower()
    assert az2.status()["state"] == "standby"
    assert az1.status()["state"] == "active"


# ---- fault knobs ---------------------------------------------------------------------------------------------


def test_fault_canned_response_is_used_count_times_without_acting(az1):
    az1.faults(responses=[{"path": "/pause", "status": 503, "count": 2}])
    for _use in range(2):
        response = az1.call("POST", "/pause")
        assert response.status_code == 503 and response.json()["error"]
        assert az1.status()["state"] == "active"
    assert az1.call("POST", "/pause").status_code == 200
    assert az1.status()["state"] == "paused"


def test_fault_drop_closes_before_acting(az1):
    az1.faults(drop=[{"path": "/pause", "count": 1}])
    with pytest.raises(requests.exceptions.ConnectionError):
        az1.call("POST", "/pause")
    assert az1.status()["state"] == "active"
    assert az1.call("POST", "/pause").status_code == 200


def test_fault_drop_after_action_acts_then_closes(az1):
    az1.faults(drop_after_action=[{"path": "/pause", "count": 1}])
    with pytest.raises(requests.exceptions.ConnectionError):
        az1.call("POST", "/pause")
    assert az1.status()["state"] == "paused"


def test_fault_unreachable_drops_every_api_call_but_not_lab_control(az1):
    az1.faults(unreachable=True)
    for method, path in (("GET", "/status"), ("POST", "/pause"), ("POST", "/resume")):
        with pytest.raises(requests.exceptions.ConnectionError):
            az1.call(method, path)
    assert az1.call("GET", "/_lab/state").json()["status"]["state"] == "active"
    az1.faults(unreachable=False)
    assert az1.status()["state"] == "active"


def test_fault_latency_delays_answers(az1):
    az1.faults(latency=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        az1.call("GET", "/status", timeout=0.3)
    az1.faults(latency=0)
    assert az1.status()["state"] == "active"


def test_fault_activation_fail_after_then_retry(lab, az1, az2):
    az1.call("POST", "/pause")
    az2.faults(activation_fail_after=10)
    assert az2.call("POST", "/activate", params={"zone": "lab-az1", "batchSize": "3"}).status_code == 200
    status = az2.wait_state("failed", "active")
    assert status["state"] == "failed" and status["consuming"] is False
    assert status["activation"]["phase"] == "failed" and status["activation"]["error"]
    assert status["activation"]["segments"]["rehydrated"] == 10
    assert len(segments(lab["s3"], "lab-az2")) == 10
    az2.faults(activation_fail_after=None)
    assert az2.call("POST", "/activate", params={"zone": "lab-az1"}).status_code == 200
    status = az2.wait_state("active", "failed")
    assert status["state"] == "active"
    assert status["activation"]["segments"]["total"] == len(segments(lab["s3"], "lab-az1")) - 10


def test_invalid_fault_documents_are_rejected(az1):
    for bad in ({"nonsense": 1}, {"latency": -1}, {"responses": [{"path": "/pause"}]}, {"drop": "all"}):
        response = az1.call("POST", "/_lab/faults", json=bad)
        assert response.status_code == 400 and response.json()["error"] == "bad_faults"
    assert az1.call("GET", "/_lab/faults").json()["responses"] == []


def test_reset_clears_faults_and_returns_to_the_initial_state(az1, az2):
    az1.faults(flush_check_fails=True, latency=0.01, drop=[{"path": "/status", "count": 5}])
    az1.call("POST", "/pause", params={"force": "true"})
    response = az1.call("POST", "/_lab/reset")
    assert response.status_code == 200 and response.json()["state"] == "active"
    state = az1.call("GET", "/_lab/state").json()
    assert state["faults"]["drop"] == [] and state["faults"]["flush_check_fails"] is False
    assert state["status"]["state"] == "active" and state["status"]["consuming"] is True
    az2.call("POST", "/resume")
    assert az2.call("POST", "/_lab/reset").json()["state"] == "standby"
    assert az2.status()["alertsSilenced"] is True
