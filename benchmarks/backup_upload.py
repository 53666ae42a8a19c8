#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upload benchmark: a backup-set object through BackupSetWriter + the S3 ObjectStore vs plain boto3 upload_file.

Usage: ``.venv/bin/python benchmarks/backup_upload.py [--size 1G] [--repeat 1] [--work-dir DIR]``

Starts moto_server on a free loopback port (the lab's way), writes a file of random bytes, then uploads it in
separate child processes, one at a time: (a) plain boto3 ``upload_file`` (default TransferConfig), (b) one
``postgres`` object of a backup set, unencrypted, and (c) the same, encrypted. Each child times its own upload
(from opening the store to the committed manifest) and the parent reads the child's peak RSS from ``os.wait4``.
moto is reset between runs. Prints throughputs, ratios to boto3 and peak RSS next to the targets
(ratio >= 0.9 unencrypted, >= 0.75 encrypted, peak RSS <= 200 MB). Exit status 0 whatever the figures:
this is a measurement, not a test.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO_ROOT, '.build', 'collections')
LAB_DIR = os.path.join(REPO_ROOT, 'tests', 'lab')
BUCKET = 'kfuse-bench'
REGION = 'us-east-1'
ACCESS_KEY = 'bench'
SECRET_KEY = 'bench-secret'
PASSPHRASE = 'benchmark passphrase'
MIB = 1024 * 1024
TARGET_RATIO_PLAIN = 0.9
TARGET_RATIO_ENCRYPTED = 0.75
TARGET_RSS_MB = 200
RUNS = (('boto3', False), ('backup_set', False), ('backup_set', True))


def parse_size(text):
    match = re.match(r'^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$', text.lower())
    if not match:
        raise argparse.ArgumentTypeError('size must look like 1G, 256M, 4096K or a number of bytes, got %r' % text)
    factor = {'': 1, 'k': 1024, 'm': MIB, 'g': 1024 * MIB}[match.group(2)]
    size = int(float(match.group(1)) * factor)
    if size <= 0:
        raise argparse.ArgumentTypeError('size must be positive')
    return size


# ---- child side: one upload, timed ---------------------------------------------------------------------


def child_upload(mode, encrypt, endpoint, path, key):
    if mode == 'boto3':
        import boto3  # pylint: disable=import-outside-toplevel
        client = boto3.client('s3', endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                              aws_secret_access_key=SECRET_KEY)
        started = time.monotonic()
        client.upload_file(path, BUCKET, key)
        elapsed = time.monotonic() - started
        stored = client.head_object(Bucket=BUCKET, Key=key)['ContentLength']
        return {'seconds': elapsed, 'stored_bytes': stored}

    sys.path.insert(0, COLLECTIONS)
    # pylint: disable=import-outside-toplevel
    from ansible_collections.kfuse.failover.plugins.module_utils import backup_set, storage
    cloud_storage = {'type': 's3', 'endpoint_url': endpoint, 's3': {'region': REGION, 'bucket': BUCKET}}
    # Client creation is outside the timed part, as for boto3 above; the KDF and the marker are inside.
    store = storage.open_store(cloud_storage, credentials={'access_key': ACCESS_KEY, 'secret_key': SECRET_KEY})
    started = time.monotonic()
    writer = backup_set.BackupSetWriter(store, key, 'az1', set_id=backup_set.new_set_id(unique=True),
                                        encrypt=encrypt, passphrase=PASSPHRASE if encrypt else None,
                                        tools={'benchmark': '1'})
    with writer, open(path, 'rb') as source:
        entry = writer.add('postgres', 'bench', source)
        writer.commit()
    elapsed = time.monotonic() - started
    return {'seconds': elapsed, 'stored_bytes': entry['size'], 'plain_bytes': entry['plain_size']}


# ---- parent side -------------------------------------------------------------------------------------------


def run_child(mode, encrypt, endpoint, path):
    argv = [sys.executable, os.path.abspath(__file__), '--child', mode, '--endpoint', endpoint, '--file', path,
            '--key', 'bench-%s-%s' % (mode, 'enc' if encrypt else 'plain')]
    if encrypt:
        argv.append('--encrypt')
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    for name in ('AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_CA_BUNDLE'):
        env.pop(name, None)
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        out, err = proc.stdout.read(), proc.stderr.read()
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in every earlier child).
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError('%s upload (encrypt=%s) failed with status %d:\n%s'
                           % (mode, encrypt, proc.returncode, err.decode(errors='replace')[-3000:]))
    result = json.loads(out.decode().strip().splitlines()[-1])
    result['peak_rss_mb'] = usage.ru_maxrss / 1024.0   # Linux reports KiB
    result['cpu_seconds'] = usage.ru_utime + usage.ru_stime   # whole child, start-up included
    return result


def write_random_file(path, size):
    block = 8 * MIB
    with open(path, 'wb') as handle:
        remaining = size
        while remaining > 0:
            handle.write(os.urandom(min(block, remaining)))
            remaining -= block


def reset_moto(endpoint):
    request = urllib.request.Request(endpoint + '/moto-api/reset', data=b'', method='POST')
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def create_bucket(endpoint):
    import boto3  # pylint: disable=import-outside-toplevel
    boto3.client('s3', endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                 aws_secret_access_key=SECRET_KEY).create_bucket(Bucket=BUCKET)


def start_moto(state_dir):
    sys.path.insert(0, LAB_DIR)
    import labctl  # pylint: disable=import-outside-toplevel
    os.makedirs(os.path.join(state_dir, 'logs'), exist_ok=True)
    return labctl.start_moto(state_dir)


def stop(piece):
    piece.proc.terminate()
    try:
        piece.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        piece.proc.kill()
        piece.proc.wait()


def report(size, results):
    baseline = results[('boto3', False)]['seconds']
    print()
    print('payload: %d bytes (%.0f MiB) of random data, moto_server on loopback' % (size, size / MIB))
    columns = ('run', 'seconds', 'MiB/s', 'ratio', 'ratio target', 'RSS MB', 'RSS target', 'CPU s')
    print('%-28s %9s %10s %8s %14s %10s %14s %8s' % columns)
    for mode, encrypt in RUNS:
        result = results[(mode, encrypt)]
        name = 'boto3 upload_file' if mode == 'boto3' else 'backup set, %s' % ('encrypted' if encrypt else 'unencrypted')
        ratio = baseline / result['seconds']
        if mode == 'boto3':
            ratio_target = rss_target = '(baseline)'
        else:
            wanted = TARGET_RATIO_ENCRYPTED if encrypt else TARGET_RATIO_PLAIN
            ratio_target = '>= %.2f %s' % (wanted, 'ok' if ratio >= wanted else 'MISS')
            rss_target = '<= %d %s' % (TARGET_RSS_MB, 'ok' if result['peak_rss_mb'] <= TARGET_RSS_MB else 'MISS')
        print('%-28s %9.2f %10.1f %8.2f %14s %10.1f %14s %8.2f' % (
            name, result['seconds'], size / MIB / result['seconds'], ratio, ratio_target, result['peak_rss_mb'],
            rss_target, result['cpu_seconds']))
    print('ratio = boto3 seconds / run seconds (throughput relative to boto3); RSS = peak of the uploading process;')
    print('CPU s = user + system time of the uploading process. With --repeat, the fastest run of each kind counts.')
    print('moto_server shares the machine with the uploader, so other load on it moves the figures.')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--size', type=parse_size, default=1024 * MIB, help='payload size, e.g. 1G (default), 64M')
    parser.add_argument('--repeat', type=int, default=1, help='runs of each kind; the fastest counts')
    parser.add_argument('--work-dir', help='where the payload file goes (default: a temporary directory)')
    parser.add_argument('--child', choices=('boto3', 'backup_set'), help=argparse.SUPPRESS)
    parser.add_argument('--endpoint', help=argparse.SUPPRESS)
    parser.add_argument('--file', help=argparse.SUPPRESS)
    parser.add_argument('--key', help=argparse.SUPPRESS)
    parser.add_argument('--encrypt', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child_upload(args.child, args.encrypt, args.endpoint, args.file, args.key)))
        return 0

    if not os.path.isdir(COLLECTIONS):
        parser.error('%s is missing: run hacking/bootstrap.sh first' % COLLECTIONS)
    work_dir = tempfile.mkdtemp(prefix='kfuse-bench-', dir=args.work_dir)
    moto = None
    try:
        path = os.path.join(work_dir, 'payload.bin')
        print('writing %d bytes of random data to %s' % (args.size, path), flush=True)
        write_random_file(path, args.size)
        moto, endpoint = start_moto(work_dir)
        print('moto_server pid %d at %s' % (moto.proc.pid, endpoint), flush=True)
        results = {}
        for _round in range(max(1, args.repeat)):
            for mode, encrypt in RUNS:
                reset_moto(endpoint)
                create_bucket(endpoint)
                result = run_child(mode, encrypt, endpoint, path)
                print('  %-10s encrypt=%-5s %7.2f s  cpu %6.2f s  peak RSS %6.1f MB  stored %d bytes'
                      % (mode, encrypt, result['seconds'], result['cpu_seconds'], result['peak_rss_mb'],
                         result['stored_bytes']), flush=True)
                best = results.get((mode, encrypt))
                if best is None or result['seconds'] < best['seconds']:
                    results[(mode, encrypt)] = result
        report(args.size, results)
    finally:
        if moto is not None:
            stop(moto)
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
