#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upload benchmark: a 1 GiB backup through the kfuse.failover.backup module vs plain boto3 upload_file.

Usage: ``.venv/bin/python benchmarks/backup_upload.py [--size 1G] [--repeat 3] [--no-direct] [--work-dir DIR]``

Starts moto_server on a free loopback port (the lab's way), writes a file of random bytes, then, one at a time and
with moto reset in between:

* plain boto3 ``upload_file`` of the file (default TransferConfig: 8 MiB parts, 10 threads), in a child process,
  timed from before ``import boto3`` to the end of the upload (the module imports boto3 lazily, inside its
  ``elapsed``, so both sides pay for the import and the client);
* the real ``kfuse.failover.backup`` module, run by ``ansible localhost -m kfuse.failover.backup`` with the file as
  its only source (``sources.files``), ``verify: false`` (the read-back would double the traffic), encryption
  ``never`` and ``always``. The module runs under a small interpreter wrapper that waits for it with ``wait4`` and
  records the module process's own peak RSS; its throughput uses the module's own ``elapsed`` (boto3 import,
  client, marker, upload, manifest), and the wall time of the whole ``ansible`` command (start-up included) is shown next to it;
* unless ``--no-direct``: the same object written straight through BackupSetWriter + the S3 ObjectStore in a
  child process (no Ansible), as a second line.

The kinds take turns (boto3, module, module encrypted, ... then again), so a burst of load on the machine hits
every kind alike. Prints throughputs, ratios to boto3 and peak RSS next to the targets (ratio >= 0.9 unencrypted,
>= 0.75 encrypted, peak RSS <= 200 MB), from the fastest run of each kind, and the ratio of the medians next to it.
Exit status 0 whatever the figures: this is a measurement, not a test.
"""


import argparse
import statistics
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
ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible')
BUCKET = 'kfuse-bench'
REGION = 'us-east-1'
ACCESS_KEY = 'bench'
SECRET_KEY = 'bench-secret'
PASSPHRASE = 'benchmark passphrase'
MIB = 1024 * 1024
TARGET_RATIO_PLAIN = 0.9
TARGET_RATIO_ENCRYPTED = 0.75
TARGET_RSS_MB = 200
MODULE_RUNS = (('boto3', False), ('module', False), ('module', True))
DIRECT_RUNS = (('backup_set', False), ('backup_set', True))
NAMES = {'boto3': 'boto3 upload_file', 'module': 'module', 'backup_set': 'BackupSetWriter direct'}

# The interpreter Ansible runs the module with: runs the real python on the same arguments (and stdin), waits for
# it with wait4 and appends its own peak RSS and CPU time to a file, one JSON line per module run.
INTERPRETER_WRAPPER = """#!%(python)s
import json, os, subprocess, sys
child = subprocess.Popen([%(python)r] + sys.argv[1:])
_pid, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(%(record)r, 'a') as record:
    record.write(json.dumps({'argv': sys.argv[1:], 'maxrss_kib': usage.ru_maxrss,
                             'cpu_seconds': usage.ru_utime + usage.ru_stime}) + '\\n')
sys.exit(child.returncode)
"""


def parse_size(text):
    match = re.match(r'^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$', text.lower())
    if not match:
        raise argparse.ArgumentTypeError('size must look like 1G, 256M, 4096K or a number of bytes, got %r' % text)
    factor = {'': 1, 'k': 1024, 'm': MIB, 'g': 1024 * MIB}[match.group(2)]
    size = int(float(match.group(1)) * factor)
    if size <= 0:
        raise argparse.ArgumentTypeError('size must be positive')
    return size


def clean_environment():
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    for name in ('AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_CA_BUNDLE'):
        env.pop(name, None)
    return env


# ---- child side: one upload, timed ---------------------------------------------------------------------


def child_upload(mode, encrypt, endpoint, path, key):
    # Timed like the module's own "elapsed": from before the first import of boto3 (the module imports it
    # lazily, inside its timing), through client creation, to the end of the upload.
    started = time.monotonic()
    if mode == 'boto3':
        import boto3  # pylint: disable=import-outside-toplevel
        client = boto3.client('s3', endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                              aws_secret_access_key=SECRET_KEY)
        client.upload_file(path, BUCKET, key)
        elapsed = time.monotonic() - started
        stored = client.head_object(Bucket=BUCKET, Key=key)['ContentLength']
        return {'seconds': elapsed, 'stored_bytes': stored}

    sys.path.insert(0, COLLECTIONS)
    # pylint: disable=import-outside-toplevel
    from ansible_collections.kfuse.failover.plugins.module_utils import backup_set, storage
    cloud_storage = {'type': 's3', 'endpoint_url': endpoint, 's3': {'region': REGION, 'bucket': BUCKET}}
    store = storage.open_store(cloud_storage, credentials={'access_key': ACCESS_KEY, 'secret_key': SECRET_KEY})
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
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_environment()) as proc:
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


def write_interpreter(work_dir):
    """The measuring interpreter wrapper and the file it records to."""
    record = os.path.join(work_dir, 'module-rusage.jsonl')
    wrapper = os.path.join(work_dir, 'measured-python')
    with open(wrapper, 'w', encoding='utf-8') as handle:
        handle.write(INTERPRETER_WRAPPER % {'python': sys.executable, 'record': record})
    os.chmod(wrapper, 0o755)
    return wrapper, record


def module_arguments(endpoint, path, encrypt):
    arguments = {'cloud_storage': {'type': 's3', 'endpoint_url': endpoint, 's3': {'region': REGION, 'bucket': BUCKET}},
                 'storage_credentials': {'access_key': ACCESS_KEY, 'secret_key': SECRET_KEY},
                 'prefix': 'bench-module-%s' % ('enc' if encrypt else 'plain'), 'zone': 'az1',
                 'unique_set_id': True, 'sources': {'files': [{'path': path, 'name': 'payload.bin'}]},
                 'encrypt': 'always' if encrypt else 'never', 'verify': False}
    if encrypt:
        arguments['encryption_passphrase'] = PASSPHRASE
    return arguments


def run_module(encrypt, endpoint, path, work_dir, interpreter, record):
    """One ``ansible localhost -m kfuse.failover.backup`` run; the module's result plus its measured process."""
    if os.path.exists(record):
        os.unlink(record)
    # Ad-hoc -a takes the arguments as one JSON object (the lab's throwaway credentials only).
    argv = [ANSIBLE, 'localhost', '-i', 'localhost,', '-c', 'local', '-m', 'kfuse.failover.backup',
            '-a', json.dumps(module_arguments(endpoint, path, encrypt)), '-e', 'ansible_python_interpreter=' + interpreter]
    tmp = os.path.join(work_dir, 'ansible-tmp')
    env = clean_environment()
    env.update({'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS, 'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1',
                'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json', 'ANSIBLE_LOCAL_TEMP': tmp, 'ANSIBLE_REMOTE_TMP': tmp,
                'ANSIBLE_HOST_KEY_CHECKING': 'False', 'ANSIBLE_NOCOLOR': '1'})
    started = time.monotonic()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=work_dir) as proc:
        out, err = proc.stdout.read(), proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    try:
        task = json.loads(out.decode())['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError):
        task = None
    if proc.returncode != 0 or not task or task.get('failed'):
        raise RuntimeError('the backup module (encrypt=%s) failed with status %d:\n%s\n%s'
                           % (encrypt, proc.returncode, json.dumps(task, indent=1)[-3000:] if task else out.decode()[-3000:],
                              err.decode(errors='replace')[-2000:]))
    with open(record, encoding='utf-8') as handle:
        runs = [json.loads(line) for line in handle if line.strip()]
    if len(runs) != 1:
        raise RuntimeError('expected one module process, the interpreter wrapper saw %d' % len(runs))
    stored = task['objects'][0]
    return {'seconds': task['elapsed'], 'wall_seconds': wall, 'stored_bytes': stored['size'],
            'peak_rss_mb': runs[0]['maxrss_kib'] / 1024.0, 'cpu_seconds': runs[0]['cpu_seconds'],
            # wait4 on the ansible command: the largest peak RSS in its whole process tree.
            'tree_peak_rss_mb': usage.ru_maxrss / 1024.0}


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


def process_cpu_seconds(pid):
    """User + system CPU seconds of a running process (here: moto_server, to show how busy the server was)."""
    with open('/proc/%d/stat' % pid, encoding='ascii') as handle:
        fields = handle.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def stop(piece):
    piece.proc.terminate()
    try:
        piece.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        piece.proc.kill()
        piece.proc.wait()


def report(size, results, runs, medians):
    baseline = results[('boto3', False)]['seconds']
    print()
    print('payload: %d bytes (%.0f MiB) of random data, moto_server on loopback' % (size, size / MIB))
    columns = ('run', 'seconds', 'MiB/s', 'ratio', 'ratio target', 'RSS MB', 'RSS target', 'CPU s', 'moto s', 'wall s',
               'median ratio')
    print('%-36s %8s %8s %7s %14s %8s %13s %7s %7s %7s %13s' % columns)
    for mode, encrypt in runs:
        result = results[(mode, encrypt)]
        name = NAMES[mode] if mode == 'boto3' else '%s, %s' % (NAMES[mode], 'encrypted' if encrypt else 'unencrypted')
        ratio = baseline / result['seconds']
        if mode == 'boto3':
            ratio_target = rss_target = '(baseline)'
        else:
            wanted = TARGET_RATIO_ENCRYPTED if encrypt else TARGET_RATIO_PLAIN
            ratio_target = '>= %.2f %s' % (wanted, 'ok' if ratio >= wanted else 'MISS')
            rss_target = '<= %d %s' % (TARGET_RSS_MB, 'ok' if result['peak_rss_mb'] <= TARGET_RSS_MB else 'MISS')
        wall = '%7.2f' % result['wall_seconds'] if 'wall_seconds' in result else '%7s' % '-'
        print('%-36s %8.2f %8.1f %7.2f %14s %8.1f %13s %7.2f %7.2f %s %13.2f' % (
            name, result['seconds'], size / MIB / result['seconds'], ratio, ratio_target, result['peak_rss_mb'],
            rss_target, result['cpu_seconds'], result['server_cpu_seconds'], wall,
            medians[('boto3', False)] / medians[(mode, encrypt)]))
    print('ratio = boto3 seconds / run seconds (throughput relative to boto3). seconds: boto3 and direct = timed in')
    print('the child from before boto3 is imported (import, client, upload); module = the "elapsed" the module returns')
    print('(which also spans the lazy boto3 import and the client, then marker, upload, manifest; verify off).')
    print('wall s = the whole "ansible" command, start-up included (ratio on wall time: %s).' % ', '.join(
        '%s %.2f' % ('encrypted' if encrypt else 'unencrypted', baseline / results[(mode, encrypt)]['wall_seconds'])
        for mode, encrypt in runs if mode == 'module'))
    print('RSS MB = peak RSS (VmHWM via wait4) of the uploading process: for the module, the python process running')
    print('the AnsiballZ payload (not the ansible controller; the largest peak in the ansible command\'s whole tree')
    print('was %s MB). CPU s = user + system time of that process; moto s = CPU time moto_server spent meanwhile.' % ', '.join(
        '%.1f' % results[(mode, encrypt)]['tree_peak_rss_mb'] for mode, encrypt in runs if mode == 'module'))
    print('With --repeat, the fastest run of each kind counts (its RSS is that run\'s); median ratio = median boto3')
    print('seconds / median seconds of the kind. moto_server shares the machine with the uploader, so other load on')
    print('it moves the figures.')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--size', type=parse_size, default=1024 * MIB, help='payload size, e.g. 1G (default), 64M')
    parser.add_argument('--repeat', type=int, default=3, help='runs of each kind (default 3); the fastest counts')
    parser.add_argument('--no-direct', action='store_true', help='skip the BackupSetWriter-without-Ansible runs')
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
    if not os.path.exists(ANSIBLE):
        parser.error('%s is missing: run this with the venv python (.venv/bin/python)' % ANSIBLE)
    runs = MODULE_RUNS + (() if args.no_direct else DIRECT_RUNS)
    work_dir = tempfile.mkdtemp(prefix='kfuse-bench-', dir=args.work_dir)
    moto = None
    try:
        path = os.path.join(work_dir, 'payload.bin')
        print('writing %d bytes of random data to %s' % (args.size, path), flush=True)
        write_random_file(path, args.size)
        interpreter, record = write_interpreter(work_dir)
        moto, endpoint = start_moto(work_dir)
        print('moto_server pid %d at %s' % (moto.proc.pid, endpoint), flush=True)
        results = {}
        seconds = {}
        for _round in range(max(1, args.repeat)):
            for mode, encrypt in runs:
                reset_moto(endpoint)
                create_bucket(endpoint)
                server_cpu = process_cpu_seconds(moto.proc.pid)
                if mode == 'module':
                    result = run_module(encrypt, endpoint, path, work_dir, interpreter, record)
                else:
                    result = run_child(mode, encrypt, endpoint, path)
                result['server_cpu_seconds'] = process_cpu_seconds(moto.proc.pid) - server_cpu
                print('  %-10s encrypt=%-5s %7.2f s  cpu %6.2f s  moto cpu %6.2f s  peak RSS %6.1f MB  stored %d bytes%s'
                      % (mode, encrypt, result['seconds'], result['cpu_seconds'], result['server_cpu_seconds'],
                         result['peak_rss_mb'], result['stored_bytes'],
                         '  (ansible wall %.2f s)' % result['wall_seconds'] if 'wall_seconds' in result else ''),
                      flush=True)
                seconds.setdefault((mode, encrypt), []).append(result['seconds'])
                best = results.get((mode, encrypt))
                if best is None or result['seconds'] < best['seconds']:
                    results[(mode, encrypt)] = result
        report(args.size, results, runs, {kind: statistics.median(values) for kind, values in seconds.items()})
    finally:
        if moto is not None:
            stop(moto)
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
