# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every ObjectStore operation against real servers: moto_server (S3), fake-gcs-server (GCS), Azurite (Azure)."""

import base64
import datetime
import hashlib
import json
import os
import threading
import tracemalloc
import zlib

import boto3
import pytest
from azure.core.exceptions import HttpResponseError
from botocore.exceptions import ClientError
from kubernetes import client as k8s_client, config as k8s_config

import labca
import storage_emulators
from ansible_collections.kfuse.failover.plugins.module_utils import _credentials
from ansible_collections.kfuse.failover.plugins.module_utils.errors import CredentialsError
from ansible_collections.kfuse.failover.plugins.module_utils.storage import PreconditionFailed, StorageError, open_store

MIB = 1024 * 1024
# S3's smallest part; the other backends take it too, so a "large" object is three parts here.
PART = 5 * MIB


class TrickleReader:
    """A forward-only binary stream of pseudo-random bytes that returns short reads, like a pipe."""

    def __init__(self, size, seed=b"kfuse", max_read=700 * 1024):
        self.remaining = size
        self.max_read = max_read
        self.digest = hashlib.sha256()
        self._block = hashlib.sha256(seed).digest() * 4096
        self._offset = 0
        self.largest_request = 0

    def read(self, size=-1):
        self.largest_request = max(self.largest_request, size)
        size = self.remaining if size is None or size < 0 else min(size, self.remaining, self.max_read)
        out = bytearray()
        while len(out) < size:
            piece = self._block[self._offset % len(self._block):][:size - len(out)]
            out += piece
            self._offset += len(piece)
        self.remaining -= size
        self.digest.update(out)
        return bytes(out)


def sha256_of(chunks):
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def test_put_small_with_metadata_then_head_and_read(target):
    store = target.store()
    info = store.put("sets/az1/one.json", b'{"a": 1}', metadata={"kind": "manifest", "zone": "az1"},
                     content_type="application/json")
    assert info.key == "sets/az1/one.json"
    assert info.size == 8
    assert info.etag
    assert info.last_modified.tzinfo is not None
    assert abs((datetime.datetime.now(datetime.timezone.utc) - info.last_modified).total_seconds()) < 600
    assert info.metadata == {"kind": "manifest", "zone": "az1"}
    head = store.head("sets/az1/one.json")
    assert (head.size, head.metadata) == (8, {"kind": "manifest", "zone": "az1"})
    assert store.read_bytes("sets/az1/one.json") == b'{"a": 1}'


def test_put_large_streams_in_parts_and_reads_back(target):
    store = target.store()
    source = TrickleReader(2 * PART + 12345)
    info = store.put("big/dump.bin", source, metadata={"sha": "later"}, part_size=PART)
    assert info.size == 2 * PART + 12345
    assert info.metadata == {"sha": "later"}
    assert source.largest_request <= PART, "the store asked the source for more than one part at a time"
    chunks = list(store.iter_read("big/dump.bin", chunk_size=MIB))
    assert max(len(chunk) for chunk in chunks) <= MIB
    assert sha256_of(chunks) == source.digest.hexdigest()


def test_put_exactly_one_part_and_empty_object(target):
    store = target.store()
    data = os.urandom(PART)
    assert store.put("edge/one-part", data, part_size=PART).size == PART
    assert store.read_bytes("edge/one-part") == data
    assert store.put("edge/empty", b"").size == 0
    assert store.read_bytes("edge/empty") == b""


def test_head_of_missing_key_is_none(target):
    assert target.store().head("nothing/here") is None


def test_iter_read_of_missing_key_is_not_found(target):
    with pytest.raises(StorageError) as caught:
        list(target.store().iter_read("nothing/here"))
    assert caught.value.code == "NotFound"
    assert caught.value.provider == target.provider
    assert caught.value.key == "nothing/here"


def count_list_requests(store):
    """A list that grows by one per listing request the store sends (hooks of each SDK; the server is real)."""
    calls = []
    if store.provider == "s3":
        store._client.meta.events.register(  # pylint: disable=protected-access
            "before-call.s3.ListObjectsV2", lambda **kwargs: calls.append(1))
    elif store.provider == "gcs":
        store._client._http.hooks["response"].append(  # pylint: disable=protected-access
            lambda response, *args, **kwargs: calls.append(1) if response.request.url.split("?")[0].endswith("/o")
            and response.request.method == "GET" else None)
    else:
        operations = store._container._client.container  # pylint: disable=protected-access
        original = operations.list_blob_flat_segment

        def counting(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)
        operations.list_blob_flat_segment = counting
    return calls


def test_list_walks_every_page_in_key_order(target):
    store = target.store()
    keys = ["p/%02d" % number for number in range(7)] + ["p/sub/x", "q/other"]
    for key in reversed(keys):
        store.put(key, key.encode())
    store.page_size = 2
    requests_sent = count_list_requests(store)
    listed = list(store.list("p/"))
    assert len(requests_sent) == 4, "8 keys in pages of 2 should take 4 listing requests"
    assert [item.key for item in listed] == sorted(key for key in keys if key.startswith("p/"))
    assert all(item.size == len(item.key) for item in listed)
    assert [item.key for item in store.list()] == sorted(keys)
    assert not list(store.list("none/"))


def test_list_prefixes_returns_directories_directly_under(target):
    store = target.store()
    for key in ("backups/az1/20260101T000000Z/manifest.json", "backups/az1/20260102T000000Z/manifest.json",
                "backups/az1/20260102T000000Z/secrets/ns/a.json", "backups/az1/loose.txt",
                "backups/az2/20260103T000000Z/manifest.json"):
        store.put(key, b"x")
    store.page_size = 1
    expected = ["backups/az1/20260101T000000Z/", "backups/az1/20260102T000000Z/"]
    assert store.list_prefixes("backups/az1/") == expected
    assert store.list_prefixes("backups/az1") == expected
    assert store.list_prefixes("backups") == ["backups/az1/", "backups/az2/"]
    assert store.list_prefixes("") == ["backups/"]
    assert store.list_prefixes("nothing/") == []


def test_delete_and_delete_many(target):
    store = target.store()
    for key in ("d/1", "d/2", "d/3", "d/4"):
        store.put(key, b"x")
    assert store.delete("d/1") is True
    assert store.delete("d/1") is False
    assert store.head("d/1") is None
    assert store.delete_many(["d/2", "d/3", "d/missing"]) == 2
    assert [item.key for item in store.list("d/")] == ["d/4"]
    assert store.delete_many([]) == 0


@pytest.mark.parametrize("size", [100, 2 * PART + 1], ids=["small", "multipart"])
def test_conditional_create_twice_fails_and_keeps_the_first(target, size):
    store = target.store()
    first = os.urandom(size)
    store.put("sets/az1/.writer", first, if_absent=True, part_size=PART)
    with pytest.raises(StorageError) as caught:
        store.put("sets/az1/.writer", os.urandom(size), if_absent=True, part_size=PART)
    assert caught.value.code == "AlreadyExists"
    assert caught.value.key == "sets/az1/.writer"
    assert sha256_of(store.iter_read("sets/az1/.writer")) == hashlib.sha256(first).hexdigest()
    # A plain put still overwrites.
    store.put("sets/az1/.writer", b"over")
    assert store.read_bytes("sets/az1/.writer") == b"over"


def test_conditional_multipart_commit_is_atomic_even_without_the_precheck(target, monkeypatch):
    """Two writers racing past the existence check: the server-side precondition of the commit decides."""
    store = target.store()
    store.put("race/manifest.json", b"winner")
    monkeypatch.setattr(store, "head", lambda key: None)
    if target.provider == "gcs":
        # fake-gcs-server ignores preconditions on compose (and on resumable uploads); real GCS honours them.
        # So check on the wire that the compose carries ifGenerationMatch=0, and that no staging object is left.
        sent = []
        store._client._http.hooks["response"].append(  # pylint: disable=protected-access
            lambda response, *args, **kwargs: sent.append(response.request.url))
        store.put("race/manifest.json", os.urandom(PART + 10), if_absent=True, part_size=PART)
        composes = [url for url in sent if "/compose" in url]
        assert len(composes) == 1 and "ifGenerationMatch=0" in composes[0], composes
    else:
        with pytest.raises(StorageError) as caught:
            store.put("race/manifest.json", os.urandom(PART + 10), if_absent=True, part_size=PART)
        assert caught.value.code == "AlreadyExists"
        monkeypatch.undo()
        assert store.read_bytes("race/manifest.json") == b"winner"
    # No temporary or partial object is left behind.
    assert [item.key for item in store.list("race/")] == ["race/manifest.json"]


def test_conditional_create_and_replace_are_a_compare_and_swap(target):
    """put_if_absent / put_if_unchanged / read_versioned on the real servers: each emulator enforces
    If-None-Match: * and If-Match (S3, Azure) or ifGenerationMatch (GCS) on single-request writes."""
    store = target.store()
    key = "journal/lock.json"
    first = store.put_if_absent(key, b'{"v": 1}', content_type="application/json")
    assert store.read_versioned(key) == (b'{"v": 1}', first)
    assert store.head(key).metadata == {}
    with pytest.raises(PreconditionFailed) as caught:
        store.put_if_absent(key, b"second")
    assert (caught.value.code, caught.value.key, caught.value.provider) == ("AlreadyExists", key, target.provider)
    assert isinstance(caught.value, StorageError)
    second = store.put_if_unchanged(key, b'{"v": 2}', first, metadata={"writer": "a"})
    assert second != first
    with pytest.raises(PreconditionFailed) as caught:
        store.put_if_unchanged(key, b'{"v": 3}', first)
    assert caught.value.code == "PreconditionFailed" and key in str(caught.value) and "\n" not in str(caught.value)
    assert store.read_versioned(key) == (b'{"v": 2}', second)
    assert store.head(key).metadata == {"writer": "a"}
    # The same bytes written again: a new GCS generation and Azure ETag, but the same S3 ETag (the MD5 of the
    # content, as on AWS without SSE-KMS), so on S3 "unchanged" means "same content". The journal's documents
    # carry a fresh write_id each time, so their contents never repeat.
    third = store.put_if_unchanged(key, b'{"v": 2}', second)
    if target.provider == "s3":
        assert third == second
    else:
        assert third != second
        with pytest.raises(PreconditionFailed):
            store.put_if_unchanged(key, b'{"v": 4}', second)
    # A replace of an object that was deleted loses as well, and creates nothing.
    store.delete(key)
    with pytest.raises(PreconditionFailed):
        store.put_if_unchanged(key, b"gone", third)
    assert store.head(key) is None
    with pytest.raises(StorageError) as caught:
        store.read_versioned(key)
    assert caught.value.code == "NotFound"
    with pytest.raises(StorageError) as caught:
        store.put_if_absent(key, os.urandom(5 * MIB + 1))
    assert caught.value.code == "InvalidConfig"


def _conditional_writer(store, key, phase, version, number, barrier, outcomes):
    """One racing writer: waits for the others, then sends its conditional write; records won/lost/other."""
    data = ("%s by %d" % (phase, number)).encode()
    barrier.wait()
    try:
        if phase == "create":
            store.put_if_absent(key, data)
        else:
            store.put_if_unchanged(key, data, version)
        outcomes["won"].append(number)
    except PreconditionFailed:
        outcomes["lost"].append(number)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        outcomes["other"].append(exc)


def test_conditional_writes_racing_from_threads_have_exactly_one_winner(target):
    """Eight writers send the same conditional request at once, five rounds each for create and for replace."""
    store = target.store()
    writers = 8
    for round_number in range(5):
        key = "race/lock-%d.json" % round_number
        for phase in ("create", "replace"):
            version = store.read_versioned(key).version if phase == "replace" else None
            barrier = threading.Barrier(writers)
            outcomes = {"won": [], "lost": [], "other": []}
            threads = [threading.Thread(target=_conditional_writer, args=(store, key, phase, version, number, barrier,
                                                                          outcomes)) for number in range(writers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            won, lost = outcomes["won"], outcomes["lost"]
            assert not outcomes["other"], outcomes["other"]
            assert len(won) == 1 and len(lost) == writers - 1, (phase, won, lost)
            assert store.read_bytes(key) == ("%s by %d" % (phase, won[0])).encode()


def test_conditional_writes_to_a_missing_bucket_are_not_lost_races(missing_target):
    store = missing_target.store()
    for operation in (lambda: store.put_if_absent("k", b"x"), lambda: store.put_if_unchanged("k", b"x", "1"),
                      lambda: store.read_versioned("k")):
        with pytest.raises(StorageError) as caught:
            operation()
        assert not isinstance(caught.value, PreconditionFailed)
        assert caught.value.code == EXPECTED_MISSING_BUCKET_CODES[missing_target.provider], str(caught.value)


EXPECTED_MISSING_BUCKET_CODES = {"s3": "NoSuchBucket", "gcs": "NotFound", "azure": "ContainerNotFound"}


def test_missing_bucket_is_a_storage_error_with_the_provider_code(missing_target):
    store = missing_target.store()
    operations = [lambda: store.put("k", b"x"), lambda: store.head("k"), lambda: list(store.list()),
                  lambda: list(store.iter_read("k")), lambda: store.list_prefixes(""), lambda: store.delete("k")]
    for operation in operations:
        with pytest.raises(StorageError) as caught:
            operation()
        error = caught.value
        assert error.provider == missing_target.provider
        assert error.code == EXPECTED_MISSING_BUCKET_CODES[missing_target.provider], str(error)
        assert error.container == missing_target.name
        text = str(error)
        assert "\n" not in text and "Traceback" not in text
        assert missing_target.name in text
        for secret in missing_target.secret_values:
            assert secret not in text
            assert secret not in repr(error.to_dict())
        assert error.__cause__ is None and error.__suppress_context__


def test_wrong_credentials_fail_without_leaking_them(target, storage_servers):
    if target.provider == "s3":
        pytest.skip("moto_server accepts any S3 signature unless IAM enforcement is configured")
    if target.provider == "azure":
        wrong_key = base64.b64encode(b"not the account key, 32 bytes..").decode()
        connection_string = storage_servers.azurite.credentials["connection_string"].replace(
            storage_servers.azurite.credentials["account_key"], wrong_key)
        credentials, secret = {"connection_string": connection_string}, wrong_key
    else:
        # A key the token endpoint has never issued: the JWT grant is refused.
        other = json.loads(json.dumps(storage_servers.gcs_service_account))
        other["private_key_id"] = "0" * 40
        credentials, secret = {"service_account_info": other}, other["private_key"]
    with pytest.raises(StorageError) as caught:
        target.store(credentials=credentials).put("k", b"x")
    text = str(caught.value)
    assert caught.value.code in ("AuthenticationFailed", "AuthorizationFailure", "AuthError"), text
    assert secret not in text
    assert "\n" not in text


def test_server_side_encryption_is_passed_to_s3(storage_servers, new_target):
    target = new_target("s3")
    store = target.store(server_side_encryption={"s3": {"mode": "AES256"}, "gcs": {"kms_key_name": "ignored"}})
    store.put("sse/small", b"x")
    store.put("sse/large", os.urandom(PART + 1), part_size=PART)
    moto = storage_servers.moto
    client = boto3.client("s3", endpoint_url=moto.endpoint, region_name=moto.credentials["region"],
                          aws_access_key_id=moto.credentials["access_key"],
                          aws_secret_access_key=moto.credentials["secret_key"])
    for key in ("sse/small", "sse/large"):
        assert client.head_object(Bucket=target.name, Key=key)["ServerSideEncryption"] == "AES256"


@pytest.mark.parametrize("calculation", ["when_supported", "when_required"])
def test_s3_multipart_declares_the_parts_checksum(storage_servers, new_target, monkeypatch, calculation):
    """With botocore's default checksums, the upload declares CRC32 and completes with each part's CRC32, so the
    store keeps a composite checksum instead of re-reading the object; when_required declares nothing."""
    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", calculation)
    target = new_target("s3")
    data = os.urandom(2 * PART + 7)
    target.store().put("checksum/large", data, part_size=PART)
    moto = storage_servers.moto
    client = boto3.client("s3", endpoint_url=moto.endpoint, region_name=moto.credentials["region"],
                          aws_access_key_id=moto.credentials["access_key"],
                          aws_secret_access_key=moto.credentials["secret_key"])
    head = client.head_object(Bucket=target.name, Key="checksum/large", ChecksumMode="ENABLED")
    if calculation == "when_supported":
        # A composite checksum: the CRC32 of the parts' CRC32s (S3 appends "-<parts>", moto does not).
        part_crcs = b"".join(zlib.crc32(data[start:start + PART]).to_bytes(4, "big") for start in range(0, len(data), PART))
        composite = base64.b64encode(zlib.crc32(part_crcs).to_bytes(4, "big")).decode()
        assert head["ChecksumCRC32"].split("-")[0] == composite
    else:
        assert "ChecksumCRC32" not in head
    assert b"".join(target.store().iter_read("checksum/large")) == data


# ---- credentials in the seed's formats, through the real servers -------------------------------------------


@pytest.mark.parametrize("file_format", ["json", "yaml"])
def test_credentials_from_a_file_in_the_seed_format(target, tmp_path, file_format):
    path = tmp_path / ("cloud-storage-secret." + file_format)
    if file_format == "json":
        path.write_text(json.dumps(target.seed_secret))
    else:
        path.write_text("".join("%s: %s\n" % (key, json.dumps(value)) for key, value in target.seed_secret.items()))
    credentials = _credentials.resolve(target.provider, secret_file=str(path))
    store = target.store(credentials=credentials)
    store.put("creds/file", b"from a file")
    assert store.read_bytes("creds/file") == b"from a file"


def test_gcs_credentials_from_the_service_account_json_file_itself(storage_servers, new_target, tmp_path):
    target = new_target("gcs")
    path = tmp_path / "secretKey"
    path.write_text(json.dumps(storage_servers.gcs_service_account))
    issued = storage_servers.oauth.issued
    store = target.store(credentials=_credentials.resolve("gcs", secret_file=str(path)))
    store.put("creds/sa", b"sa")
    assert store.read_bytes("creds/sa") == b"sa"
    assert storage_servers.oauth.issued > issued, "google-auth did not fetch a token from the lab endpoint"


def test_credentials_from_a_kubernetes_secret(target, kube_api):
    name = "cloud-storage-secret-%s" % target.provider
    api = k8s_config.new_client_from_config(config_file=kube_api["kubeconfig"], context=kube_api["context"])
    try:
        k8s_client.CoreV1Api(api).create_namespaced_secret("default", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in target.seed_secret.items()}})
    finally:
        api.close()
    credentials = _credentials.resolve(target.provider, kubernetes_secret={
        "kubeconfig": kube_api["kubeconfig"], "context": kube_api["context"], "namespace": "default", "name": name})
    store = target.store(credentials=credentials)
    store.put("creds/kube", b"from kubernetes")
    assert store.read_bytes("creds/kube") == b"from kubernetes"


def test_missing_kubernetes_secret_names_it(kube_api):
    with pytest.raises(CredentialsError) as caught:
        _credentials.resolve("s3", kubernetes_secret={"kubeconfig": kube_api["kubeconfig"],
                                                      "context": kube_api["context"], "namespace": "default",
                                                      "name": "does-not-exist"})
    assert "default/does-not-exist" in str(caught.value)
    assert "not found" in str(caught.value)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_put_and_read_hold_a_bounded_number_of_parts_in_memory(target, concurrency):
    """tracemalloc counts Python allocations: a whole-object buffer would show up as 12 parts.

    S3 and Azure upload ``max_concurrency`` parts at once plus one read ahead; GCS streams one part at a time.
    """
    store = target.store()
    if hasattr(store, "max_concurrency"):
        store.max_concurrency = concurrency
    elif concurrency > 1:
        pytest.skip("%s uploads one part at a time" % target.provider)
    source = TrickleReader(12 * PART)
    digest = hashlib.sha256()
    retained = 0
    tracemalloc.start()
    try:
        store.put("memory/twelve-parts", source, part_size=PART)
        _current, put_peak = tracemalloc.get_traced_memory()
        # Reads: what stays allocated between chunks (SDKs have short-lived copies inside one request).
        for chunk in store.iter_read("memory/twelve-parts"):
            digest.update(chunk)
            retained = max(retained, tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == source.digest.hexdigest()
    # Held: one part per upload in flight and one read ahead; the part being read is assembled from short reads
    # (two copies for a moment); SDKs add short-lived copies, more of them with several requests in flight.
    limit = (concurrency + 2.5 + (0.5 if concurrency > 1 else 0)) * PART
    assert put_peak < limit, "put peaked at %.1f MiB (limit %.1f MiB)" % (put_peak / MIB, limit / MIB)
    assert retained < 3.5 * PART, "read retained %.1f MiB" % (retained / MIB)


@pytest.mark.parametrize("provider", ["s3", "azure"])
def test_failed_part_stops_the_upload_early_and_leaves_nothing(storage_servers, new_target, provider, monkeypatch):
    """One part failing (with several in flight) fails put() with a StorageError, stops reading the source and
    leaves neither an object nor (S3) an open multipart upload."""
    target = new_target(provider)
    store = target.store()
    if provider == "s3":
        client, method = store._client, "upload_part"  # pylint: disable=protected-access
    else:
        client, method = type(store._container.get_blob_client("x")), "stage_block"  # pylint: disable=protected-access
    original = getattr(client, method)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            if provider == "s3":
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "injected failure of one part"}},
                                  "UploadPart")
            raise HttpResponseError(message="injected failure of one block")
        return original(*args, **kwargs)

    monkeypatch.setattr(client, method, flaky)
    source = TrickleReader(40 * PART)
    with pytest.raises(StorageError) as caught:
        store.put("failing/large.bin", source, part_size=PART)
    monkeypatch.undo()
    assert caught.value.provider == provider and caught.value.key == "failing/large.bin"
    assert "injected failure" in str(caught.value)
    assert source.remaining > 20 * PART, "the source was read on after the failure"
    assert store.head("failing/large.bin") is None
    if provider == "s3":
        boto = boto3.client("s3", endpoint_url=storage_servers.moto.endpoint,
                            region_name=storage_servers.moto.credentials["region"],
                            aws_access_key_id=storage_servers.moto.credentials["access_key"],
                            aws_secret_access_key=storage_servers.moto.credentials["secret_key"])
        assert boto.list_multipart_uploads(Bucket=target.name).get("Uploads", []) == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_by_default_and_ca_path_trusts_a_private_ca(tmp_path):
    pki = labca.create_lab_pki(str(tmp_path / "pki"))
    moto = storage_emulators.start_moto(str(tmp_path), tls_cert=pki["server_cert"], tls_key=pki["server_key"],
                                        ca_path=pki["ca"], name="moto-tls")
    try:
        assert moto.endpoint.startswith("https://")
        cloud_storage = {"type": "s3", "s3": {"region": "us-east-1", "bucket": "tls-bucket"}, "endpoint_url": moto.endpoint}
        credentials = {"access_key": moto.credentials["access_key"], "secret_key": moto.credentials["secret_key"]}
        boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1", verify=pki["ca"],
                     aws_access_key_id=credentials["access_key"],
                     aws_secret_access_key=credentials["secret_key"]).create_bucket(Bucket="tls-bucket")
        with pytest.raises(StorageError) as caught:
            open_store(cloud_storage, credentials, timeout=5).head("k")
        assert "certificate" in str(caught.value).lower() or "ssl" in str(caught.value).lower(), str(caught.value)
        trusted = open_store(cloud_storage, credentials, ca_path=pki["ca"])
        trusted.put("k", b"over tls")
        assert trusted.read_bytes("k") == b"over tls"
        unverified = open_store(cloud_storage, credentials, validate_certs=False)
        assert unverified.read_bytes("k") == b"over tls"
    finally:
        moto.stop()
