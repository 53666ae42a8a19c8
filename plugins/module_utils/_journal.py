# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run lock and journal of failover runs, kept in the shared bucket (the journal module's logic).

Layout under ``prefix`` (default ``kfuse-failover/journal/``), one JSON document each (docs/journal.md):

- ``lock.json``: the run lock. Held: ``held`` true, ``run_id``, ``holder``, ``process`` (user, host, pid and start
  of the controller process), ``operation``, ``source``, ``target``, ``mode``, ``started``, ``step``,
  ``step_status``, ``heartbeat``, ``taken_over``, ``stale_after``. Released: ``held`` false, ``released``,
  ``released_by``, ``last_run_id``, ``last_outcome``, ``broken`` (what break_lock discarded). Absent before the
  first run.
- ``runs/<run_id>.json``: the run record: the lock's fields plus ``steps`` (``name``, ``status``, ``started``,
  ``finished``, ``detail``, ``attempts``), ``outcome``, ``finished``, ``active_zone_before``,
  ``active_zone_after``, ``resumes`` and ``broken``.
- ``state.json``: ``active_zone`` (and since when, by which run), the last run's id, outcome and time, and
  ``history``, the last HISTORY_SIZE runs, newest first.

Every write is a compare-and-swap on the version token it read (``ObjectStore.put_if_absent`` /
``put_if_unchanged``), so of two runs that race for the lock exactly one gets it; every lock change starts from
the lock as read, and a checkpoint or finish first proves (by that swap) that the lock is still this run's.
``run_journal(params, ...)`` is the module's one call; ``Journal`` does the actions.
"""

from __future__ import annotations

import copy
import getpass
import json
import os
import re
import socket

from ansible_collections.kfuse.failover.plugins.module_utils._storage_params import open_store_from_params, storage_config
from ansible_collections.kfuse.failover.plugins.module_utils._timeparse import format_time, parse_time, utcnow
from ansible_collections.kfuse.failover.plugins.module_utils.errors import (
    JournalError, KfuseError, OptionError, PreconditionFailed, StorageError)

ACTIONS = ('read', 'begin', 'checkpoint', 'finish', 'break_lock')
OPERATIONS = ('failover', 'failback', 'drill', 'upgrade', 'backup')
MODES = ('planned', 'emergency', 'drill')
STEP_STATUSES = ('done', 'failed', 'skipped')
OUTCOMES = ('succeeded', 'failed', 'aborted')
# Steps a re-run does not do again.
COMPLETED = ('done', 'skipped')
# Operations that move the active zone from source to target when they succeed.
MOVING = ('failover', 'failback')
DEFAULT_PREFIX = 'kfuse-failover/journal/'
DEFAULT_STALE_AFTER = 3600
HISTORY_SIZE = 20
FORMAT = 1
# Compare-and-swap attempts before giving up on a record that keeps changing.
ATTEMPTS = 5
CHECK_MODE_VERSION = 'check-mode'

_RUN_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$')
_ANSIBLE_COMMANDS = ('ansible', 'ansible-playbook', 'ansible-console', 'ansible-pull')
# Options used by one action only: given with another action, they are a mistake, refused before any request.
_ONLY_FOR = {'step': ('checkpoint', 'finish'), 'detail': ('checkpoint', 'finish'), 'outcome': ('finish',),
             'active_zone': ('finish',), 'expected_run_id': ('break_lock',)}

JOURNAL_ARGSPEC = {
    'action': {'type': 'str', 'default': 'read', 'choices': list(ACTIONS)},
    'prefix': {'type': 'str', 'default': DEFAULT_PREFIX},
    'run_id': {'type': 'str'},
    'operation': {'type': 'str', 'choices': list(OPERATIONS)},
    'source': {'type': 'str'},
    'target': {'type': 'str'},
    'mode': {'type': 'str', 'choices': list(MODES)},
    'holder': {'type': 'str'},
    'step': {'type': 'str'},
    'status': {'type': 'str', 'default': 'done', 'choices': list(STEP_STATUSES)},
    'detail': {'type': 'dict'},
    'outcome': {'type': 'str', 'choices': list(OUTCOMES)},
    'active_zone': {'type': 'str'},
    'stale_after': {'type': 'int'},
    'expected_run_id': {'type': 'str'},
    'resume': {'type': 'bool', 'default': True},
}
JOURNAL_REQUIRED_IF = [
    ('action', 'begin', ('operation',)),
    ('action', 'checkpoint', ('run_id',)),
    ('action', 'finish', ('run_id', 'outcome')),
    ('action', 'break_lock', ('expected_run_id',)),
]


# -- who runs ----------------------------------------------------------------------------------------------------

def _proc_stat(pid):
    """(parent pid, start time in clock ticks since boot) of ``pid`` from /proc, or None when it does not exist."""
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after the last ')' do not.
    fields = text.rsplit(')', 1)[-1].split()
    try:
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _proc_argv(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return [part.decode('utf-8', 'replace') for part in handle.read().split(b'\0') if part]
    except OSError:
        return []


def _looks_like_ansible(argv):
    """Whether a command line is ansible, ansible-playbook (and friends), run directly, by an interpreter or -m."""
    head = argv[:3]
    if any(os.path.basename(part) in _ANSIBLE_COMMANDS for part in head):
        return True
    return len(argv) > 2 and '-m' in argv[:2] and argv[argv.index('-m') + 1] == 'ansible'


def controller_process():
    """(pid, start) of the ansible / ansible-playbook process this module runs under, or (None, None).

    A module runs in a short-lived process (under a worker forked from the controller, which dies with the task),
    so the process that identifies a run is the outermost ansible process of the chain of parents. Found through
    /proc (Linux); elsewhere, or outside ansible, it is unknown and the lock checks the run id alone.
    """
    chain = []
    pid = os.getpid()
    while pid and pid > 1 and len(chain) < 64:
        stat = _proc_stat(pid)
        if stat is None:
            break
        chain.append((pid, stat[1], _looks_like_ansible(_proc_argv(pid))))
        pid = stat[0]
    found = None
    for pid, start, is_ansible in chain[1:]:
        if is_ansible:
            found = (pid, start)
        elif found:
            break
    return found or (None, None)


def process_running(pid, start=None):
    """Whether process ``pid`` (started at ``start`` clock ticks, when known) is still running on this host."""
    if os.path.isdir('/proc/self'):
        stat = _proc_stat(pid)
        return stat is not None and (start is None or stat[1] == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def identity(holder=None):
    """Who runs: ``holder`` (default ``user@host pid N``, N the controller process) and ``process``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = 'uid%d' % os.getuid()
    host = socket.gethostname()
    pid, start = controller_process()
    name = holder or ('%s@%s pid %d' % (user, host, pid) if pid else '%s@%s' % (user, host))
    return {'holder': name, 'process': {'user': user, 'host': host, 'pid': pid, 'pid_start': start}}


def _same_process(one, other):
    """True/False when both processes are known, None when either is not."""
    one, other = one or {}, other or {}
    if not (one.get('host') and one.get('pid') and other.get('host') and other.get('pid')):
        return None
    starts = (one.get('pid_start'), other.get('pid_start'))
    return (one['host'], one['pid']) == (other['host'], other['pid']) and (None in starts or starts[0] == starts[1])


# -- checks --------------------------------------------------------------------------------------------------------

def normalise_journal_prefix(prefix):
    """``prefix`` checked ('/'-separated names) and ending with '/'."""
    text = (prefix or '').strip()
    segments = text.strip('/').split('/') if text.strip('/') else []
    if not segments:
        raise OptionError('prefix must name a folder in the bucket, such as %s, got %r' % (DEFAULT_PREFIX, prefix))
    for segment in segments:
        if segment in ('.', '..') or not segment.strip() or any(ord(char) < 32 for char in segment):
            raise OptionError('prefix: %r is not a valid segment (a prefix is "/"-separated names, no empty, "." or '
                              '".." segments)' % segment)
    return '/'.join(segments) + '/'


def check_run_id(value, option='run_id'):
    if not isinstance(value, str) or not _RUN_ID.match(value):
        raise OptionError('%s must be 1-128 letters, digits, ".", "_" or "-" starting with a letter or digit, got %r'
                          % (option, value))
    return value


def check_params(params):
    """The journal options checked, naming the bad one, before any request. Returns the normalised prefix."""
    action = params.get('action') or 'read'
    for option, actions in _ONLY_FOR.items():
        if params.get(option) not in (None, {}) and action not in actions:
            raise OptionError('%s is only used with action=%s, not action=%s' % (option, ' or '.join(actions), action))
    if action == 'break_lock' and params.get('run_id'):
        raise OptionError('action=break_lock takes the run to discard as expected_run_id, not run_id')
    for option in ('run_id', 'expected_run_id'):
        if params.get(option) is not None:
            check_run_id(params[option], option)
    for option in ('source', 'target', 'active_zone', 'holder', 'step'):
        value = params.get(option)
        if value is not None and (not value.strip() or len(value) > 200):
            raise OptionError('%s must be a non-empty name of at most 200 characters, got %r' % (option, value))
    if (params.get('stale_after') or 0) < 0:
        raise OptionError('stale_after must be 0 or more seconds, got %s' % params['stale_after'])
    if action == 'begin':
        operation = params.get('operation')
        if operation not in OPERATIONS:
            raise OptionError('action=begin needs operation, one of %s' % ', '.join(OPERATIONS))
        if operation in MOVING and not (params.get('source') and params.get('target')):
            raise OptionError('action=begin of a %s needs source and target (the zones it moves from and to)' % operation)
        if params.get('source') and params.get('source') == params.get('target'):
            raise OptionError('source and target must be different zones, got %s twice' % params['source'])
    return normalise_journal_prefix(params.get('prefix'))


# -- the journal ---------------------------------------------------------------------------------------------------

class Record:
    """One journal document as read: ``doc`` (None when the object does not exist) and its ``version`` token."""

    def __init__(self, doc=None, version=None):
        self.doc = doc
        self.version = version


def _held(lock):
    return bool(lock) and lock.get('held') is True


def _finished(run):
    return bool(run) and run.get('outcome') is not None


def _public(doc):
    """A document as returned to the playbook: without the write bookkeeping."""
    if not doc:
        return doc
    return {key: value for key, value in doc.items() if key != 'write_id'}


def _completed_steps(run):
    return [step['name'] for step in (run or {}).get('steps') or [] if step.get('status') in COMPLETED]


def _record_step(run, step, status, detail, started, finished):
    """Put ``step`` in the run record: a step ran between the previous heartbeat (begin or checkpoint) and now;
    recording it again replaces its entry and counts the attempts."""
    entry = {'name': step, 'status': status, 'started': started, 'finished': finished, 'detail': detail or {},
             'attempts': 1}
    for index, known in enumerate(run.setdefault('steps', [])):
        if known.get('name') == step:
            entry['attempts'] = int(known.get('attempts') or 1) + 1
            run['steps'][index] = entry
            return
    run['steps'].append(entry)


def _what(doc):
    """'planned failover az1 -> az2' of a lock or run."""
    route = ' -> '.join(zone for zone in (doc.get('source'), doc.get('target')) if zone)
    return ' '.join(part for part in (doc.get('mode'), doc.get('operation'), route) if part)


def new_run_id(now, operation):
    return '%s-%s-%s' % (now.strftime('%Y%m%dT%H%M%SZ'), operation, os.urandom(3).hex())


class Journal:
    """The journal under ``prefix`` in ``store``; ``who`` is ``identity()``; ``now`` a callable (tests)."""

    def __init__(self, store, prefix=DEFAULT_PREFIX, who=None, now=None, check_mode=False, stale_after=None):
        self.store = store
        self.prefix = normalise_journal_prefix(prefix)
        self.who = who or identity()
        self._clock = now or utcnow
        self.check_mode = check_mode
        # Given (even 0) or not: break_lock takes a given stale_after as it is.
        self.stale_after_given = stale_after is not None
        self.stale_after = DEFAULT_STALE_AFTER if stale_after is None else stale_after
        self.writes = []
        self.warnings = []
        self.now = None

    # -- keys and documents ------------------------------------------------------------------------------------

    @property
    def lock_key(self):
        return self.prefix + 'lock.json'

    @property
    def state_key(self):
        return self.prefix + 'state.json'

    def run_key(self, run_id):
        return '%sruns/%s.json' % (self.prefix, run_id)

    def _tick(self):
        self.now = self._clock()
        return format_time(self.now)

    def load(self, key):
        """The Record at ``key`` (doc None when absent); JournalError for a document the journal did not write."""
        try:
            data, version = self.store.read_versioned(key)
        except StorageError as exc:
            if exc.code == 'NotFound':
                return Record()
            raise
        try:
            doc = json.loads(data.decode('utf-8'))
        except ValueError as exc:
            raise JournalError('%s is not a journal record (not JSON: %s); move it away or use another prefix'
                               % (key, exc)) from None
        if not isinstance(doc, dict) or not isinstance(doc.get('format'), int) or doc['format'] > FORMAT:
            raise JournalError('%s is not a journal record of format %d; move it away or use another prefix'
                               % (key, FORMAT))
        return Record(doc, version)

    def save(self, key, doc, version):
        """Write ``doc`` at ``key`` if it is still at ``version`` (None: if it does not exist); the new version.

        PreconditionFailed when another writer was first. In check mode nothing is written, only listed.
        """
        doc['format'] = FORMAT
        doc['write_id'] = os.urandom(8).hex()
        data = (json.dumps(doc, indent=1, sort_keys=True) + '\n').encode('utf-8')
        entry = {'key': key, 'operation': 'create' if version is None else 'replace'}
        if self.check_mode:
            self.writes.append(entry)
            return CHECK_MODE_VERSION
        try:
            if version is None:
                new_version = self.store.put_if_absent(key, data, content_type='application/json')
            else:
                new_version = self.store.put_if_unchanged(key, data, version, content_type='application/json')
        except PreconditionFailed:
            # A request retried after a lost answer can fail its own condition: then the object is this write.
            current = self.load(key)
            if not current.doc or current.doc.get('write_id') != doc['write_id']:
                raise
            new_version = current.version
        self.writes.append(entry)
        return new_version

    def _update(self, key, change, record=None):
        """Read-modify-write ``key`` with ``change(doc or None) -> doc``, again on a lost race; (doc, version)."""
        for _attempt in range(ATTEMPTS):
            record = record or self.load(key)
            doc = change(copy.deepcopy(record.doc))
            try:
                return doc, self.save(key, doc, record.version)
            except PreconditionFailed:
                record = None
        raise JournalError('%s changed %d times while this run tried to update it; try again' % (key, ATTEMPTS))

    # -- lock status -------------------------------------------------------------------------------------------

    def heartbeat_age(self, lock):
        if not _held(lock) or not lock.get('heartbeat'):
            return None
        try:
            beat = parse_time(lock['heartbeat'], 'heartbeat')
        except KfuseError:
            return None
        return max(0, int((self.now - beat).total_seconds()))

    def lock_status(self, lock, holder_run=None, stale_after=None):
        """free, held or held-stale; a lock still naming a finished run (its release did not complete) is free, a
        lock without a readable heartbeat is stale."""
        if not _held(lock) or _finished(holder_run):
            return 'free'
        age = self.heartbeat_age(lock)
        limit = self.stale_limit(lock) if stale_after is None else stale_after
        return 'held-stale' if age is None or age >= limit else 'held'

    def stale_limit(self, lock):
        """Seconds after which ``lock`` is stale: stale_after, and not sooner than the one its holder began with."""
        return max(self.stale_after, int((lock or {}).get('stale_after') or 0))

    def describe_lock(self, lock, age, limit=None):
        step = lock.get('step')
        at_step = ("at step '%s' (%s)" % (step, lock.get('step_status'))) if step else 'before its first step'
        beat = ('last heartbeat %d s ago' % age) if age is not None else 'no readable heartbeat'
        return ('run %s (%s) of %s, started %s, %s, %s (stale after %d s)'
                % (lock.get('run_id'), _what(lock), lock.get('holder'), lock.get('started'), at_step, beat,
                   self.stale_limit(lock) if limit is None else limit))

    def _result(self, changed, lock, run, state, resumed=False, holder_run=None):
        status = self.lock_status(lock, holder_run)
        return {
            'changed': changed,
            'lock': _public(lock) if status != 'free' else None,
            'lock_status': status,
            'stale': status == 'held-stale',
            'heartbeat_age': self.heartbeat_age(lock) if status != 'free' else None,
            'run': _public(run),
            'run_id': (run or {}).get('run_id'),
            'completed_steps': _completed_steps(run),
            'resumed': resumed,
            'active_zone': (state or {}).get('active_zone'),
            'state': _public(state),
            'writes': list(self.writes),
        }

    def _holder_run(self, lock):
        return self.load(self.run_key(lock['run_id'])) if _held(lock) else Record()

    def _skeleton(self, lock, state=None):
        """The run record of a lock whose run record is missing (the run stopped right after taking the lock)."""
        run = {key: lock.get(key) for key in ('run_id', 'holder', 'process', 'operation', 'source', 'target', 'mode',
                                              'started', 'step', 'heartbeat')}
        run.update({'steps': [], 'outcome': None, 'finished': None, 'active_zone_before': (state or {}).get('active_zone'),
                    'active_zone_after': None, 'resumes': [], 'broken': None})
        return run

    # -- read --------------------------------------------------------------------------------------------------

    def read(self, run_id=None):
        self._tick()
        lock = self.load(self.lock_key).doc
        state = self.load(self.state_key).doc
        holder_run = self._holder_run(lock).doc
        if _held(lock) and _finished(holder_run):
            self.warnings.append('lock.json still names run %s, which finished (%s) without releasing it; the next '
                                 'begin replaces it' % (lock['run_id'], holder_run['outcome']))
        if run_id is None:
            run_id = lock['run_id'] if _held(lock) else (state or {}).get('last_run_id')
        if run_id is None:
            run = None
        elif _held(lock) and run_id == lock['run_id']:
            run = holder_run or self._skeleton(lock, state)
        else:
            run = self.load(self.run_key(run_id)).doc
            if run is None:
                raise JournalError('no run %s in the journal (%s)' % (run_id, self.run_key(run_id)))
        return self._result(False, lock, run, state, holder_run=holder_run)

    # -- begin -------------------------------------------------------------------------------------------------

    def begin(self, operation, source=None, target=None, mode=None, run_id=None, resume=True):
        wanted = {'operation': operation, 'source': source, 'target': target}
        mode = mode or ('drill' if operation == 'drill' else 'planned')
        for _attempt in range(ATTEMPTS):
            now = self._tick()
            lock = self.load(self.lock_key)
            holder_run = self._holder_run(lock.doc)
            if _held(lock.doc) and not _finished(holder_run.doc):
                reason = self._takeover_reason(lock.doc, holder_run.doc, wanted, run_id, resume)
                result = self._take_over(lock, holder_run, reason, mode, now)
            else:
                result = self._start(lock, holder_run, wanted, mode, run_id, resume, now)
            if result is not None:
                return result
        raise JournalError('the journal lock %s changed %d times while this run tried to take it; another run is '
                           'starting: read the journal and try again' % (self.lock_key, ATTEMPTS))

    def _claim(self, lock, doc):
        """Swap the lock from the Record ``lock`` to ``doc``: its new version, or None when another run was first."""
        try:
            return self.save(self.lock_key, doc, lock.version)
        except PreconditionFailed:
            return None

    def _start(self, lock, holder_run, wanted, mode, run_id, resume, now):
        existing = Record()
        if run_id:
            existing = self.load(self.run_key(run_id))
            if existing.doc is not None:
                self._check_resumable(existing.doc, wanted, resume)
        else:
            run_id = new_run_id(self.now, wanted['operation'])
        state = self.load(self.state_key).doc
        process = self.who['process']
        lock_doc = dict(wanted, held=True, run_id=run_id, holder=self.who['holder'], process=process, mode=mode,
                        started=now, step=None, step_status=None, heartbeat=now, taken_over=0,
                        stale_after=self.stale_after)
        if existing.doc is not None:
            lock_doc.update(started=existing.doc.get('started'), mode=existing.doc.get('mode'),
                            step=existing.doc.get('step'), taken_over=len(existing.doc.get('resumes') or []) + 1)
        if self._claim(lock, lock_doc) is None:
            return None
        if _held(lock.doc):
            self.warnings.append('lock.json still named run %s, which finished (%s) without releasing it; replaced'
                                 % (lock.doc['run_id'], holder_run.doc['outcome']))
        self._warn_active_zone(state, wanted)
        if existing.doc is not None:
            run, _version = self._update(self.run_key(run_id), lambda run: self._resumed(run, 'lock-free', mode, now),
                                         record=existing)
            return self._result(True, lock_doc, run, state, resumed=True)
        run = dict(lock_doc, steps=[], outcome=None, finished=None, active_zone_before=(state or {}).get('active_zone'),
                   active_zone_after=None, resumes=[], broken=None)
        for key in ('held', 'step_status', 'taken_over', 'stale_after'):
            run.pop(key)
        self.save(self.run_key(run_id), run, None)
        return self._result(True, lock_doc, run, state)

    def _check_resumable(self, run, wanted, resume):
        if _finished(run):
            raise JournalError('run %s already finished (%s at %s); begin a new run (omit run_id)'
                               % (run['run_id'], run['outcome'], run.get('finished')), run=_public(run))
        if not resume:
            raise JournalError('run %s exists and is not finished; resume=false refuses to continue it' % run['run_id'],
                               run=_public(run))
        if any(run.get(key) != value for key, value in wanted.items()):
            raise JournalError('run %s is a %s, not a %s; it cannot be continued as another operation'
                               % (run['run_id'], _what(run), _what(wanted)), run=_public(run))

    def _takeover_reason(self, lock, holder_run, wanted, run_id, resume):
        """Why this begin may continue the unfinished run holding the lock, or a JournalError naming the holder."""
        age = self.heartbeat_age(lock)
        stale = self.lock_status(lock, holder_run) == 'held-stale'
        same_run = all(lock.get(key) == value for key, value in wanted.items()) and run_id in (None, lock['run_id'])
        mine = self.who['process']
        theirs = lock.get('process') or {}
        if not same_run:
            why = ('this begin is for run %s' % run_id) if run_id and run_id != lock['run_id'] else \
                ('this begin is a %s, so it cannot continue that run' % _what(wanted))
        elif not resume:
            why = 'resume=false does not continue it'
        elif _same_process(theirs, mine):
            return 'same-process'
        elif stale:
            return 'stale'
        elif theirs.get('host') == mine.get('host') and theirs.get('pid') and \
                not process_running(theirs['pid'], theirs.get('pid_start')):
            return 'holder-gone'
        elif theirs.get('host') == mine.get('host') and theirs.get('pid'):
            why = 'its controller process %s on %s is still running' % (theirs['pid'], theirs['host'])
        else:
            why = 'it runs on %s and its heartbeat is fresh' % (theirs.get('host') or 'another host')
        raise JournalError(
            'the journal lock is held by %s; %s. Wait for it to finish%s, or, once its heartbeat is older than '
            'stale_after, discard it with action=break_lock expected_run_id=%s'
            % (self.describe_lock(lock, age), why,
               ' (a re-run of the same operation continues it once it is stale or its process is gone)' if same_run
               and resume else '', lock['run_id']),
            lock=_public(lock), lock_status='held-stale' if stale else 'held', stale=stale, heartbeat_age=age,
            run_id=lock['run_id'], completed_steps=_completed_steps(holder_run))

    def _take_over(self, lock, holder_run, reason, mode, now):
        lock_doc = dict(lock.doc, holder=self.who['holder'], process=self.who['process'], heartbeat=now,
                        taken_over=int(lock.doc.get('taken_over') or 0) + 1,
                        stale_after=self.stale_limit(lock.doc))
        if self._claim(lock, lock_doc) is None:
            return None
        state = self.load(self.state_key).doc
        if reason != 'same-process':
            self.warnings.append('continuing run %s (%s) of %s: %s; completed steps: %s'
                                 % (lock.doc['run_id'], _what(lock.doc), lock.doc.get('holder'),
                                    {'stale': 'its lock was stale',
                                     'holder-gone': 'its controller process is no longer running'}[reason],
                                    ', '.join(_completed_steps(holder_run.doc)) or 'none'))
        if mode != lock.doc.get('mode'):
            self.warnings.append('run %s keeps its mode %s (this begin asked for %s)'
                                 % (lock.doc['run_id'], lock.doc.get('mode'), mode))
        run, _version = self._update(self.run_key(lock.doc['run_id']),
                                     lambda run: self._resumed(run or self._skeleton(lock.doc, state), reason, mode, now),
                                     record=holder_run)
        return self._result(True, lock_doc, run, state, resumed=True)

    def _resumed(self, run, reason, mode, now):
        if _finished(run):
            raise JournalError('run %s finished (%s) while this begin continued it' % (run['run_id'], run['outcome']))
        run.setdefault('resumes', []).append({'at': now, 'holder': self.who['holder'], 'process': self.who['process'],
                                              'reason': reason, 'mode': mode})
        run.update(holder=self.who['holder'], process=self.who['process'], heartbeat=now)
        return run

    def _warn_active_zone(self, state, wanted):
        active = (state or {}).get('active_zone')
        if active and wanted['operation'] in MOVING and wanted.get('source') != active:
            self.warnings.append('state.json says the active zone is %s (since run %s), but this %s starts from %s'
                                 % (active, state.get('active_zone_run_id'), wanted['operation'], wanted['source']))

    # -- checkpoint --------------------------------------------------------------------------------------------

    def _own_lock(self, run_id, action, checks=None):
        """The lock Record when ``run_id`` holds it and this process drives that run; JournalError otherwise."""
        lock = self.load(self.lock_key)
        doc = lock.doc
        if not _held(doc):
            run = self.load(self.run_key(run_id)).doc
            if run is None:
                raise JournalError('no run %s in the journal (%s); begin it first' % (run_id, self.run_key(run_id)))
            broken = (doc or {}).get('broken') or {}
            if broken.get('run_id') == run_id:
                raise JournalError('the lock of run %s was broken by %s at %s (action=break_lock); this run must stop, '
                                   'it no longer holds the journal lock' % (run_id, broken.get('by'), broken.get('at')),
                                   run=_public(run), lock_status='free')
            if _finished(run):
                raise JournalError('run %s already finished (%s at %s); %s is refused'
                                   % (run_id, run['outcome'], run.get('finished'), action), run=_public(run))
            raise JournalError('run %s does not hold the journal lock (it is free); begin it again to continue it'
                               % run_id, run=_public(run), lock_status='free')
        if doc['run_id'] != run_id:
            raise JournalError('run %s does not hold the journal lock: it is held by %s'
                               % (run_id, self.describe_lock(doc, self.heartbeat_age(doc))), lock=_public(doc))
        if _same_process(doc.get('process'), self.who['process']) is False:
            raise JournalError('run %s is now driven by %s, which took its lock over (%d time(s)); this process no '
                               'longer holds the lock and must stop. To drive the run from here, begin it again once '
                               'that holder is gone' % (run_id, doc.get('holder'), int(doc.get('taken_over') or 0)),
                               lock=_public(doc))
        for key, value in (checks or {}).items():
            if value is not None and doc.get(key) != value:
                raise JournalError('run %s is a %s; %s=%s does not match it' % (run_id, _what(doc), key, value),
                                   lock=_public(doc))
        return lock

    def _beat(self, run_id, action, checks, change):
        """Swap the lock to ``change(lock doc)`` after proving it is this run's; (old doc, new doc, new version)."""
        for _attempt in range(ATTEMPTS):
            now = self._tick()
            lock = self._own_lock(run_id, action, checks)
            doc = change(dict(lock.doc, heartbeat=now))
            version = self._claim(lock, doc)
            if version is not None:
                return lock.doc, doc, version
        raise JournalError('the journal lock %s changed %d times during %s of run %s; read the journal'
                           % (self.lock_key, ATTEMPTS, action, run_id))

    def checkpoint(self, run_id, step=None, status='done', detail=None, checks=None):
        def change(doc):
            if step:
                doc.update(step=step, step_status=status)
            return doc

        previous, lock_doc, _version = self._beat(run_id, 'checkpoint', checks, change)
        state = self.load(self.state_key).doc
        record = self.load(self.run_key(run_id))
        run = record.doc or self._skeleton(lock_doc, state)
        if step:
            def record_step(run):
                run = run or self._skeleton(lock_doc, state)
                if _finished(run):
                    raise JournalError('run %s finished (%s) or was broken; step %s not recorded'
                                       % (run_id, run['outcome'], step), run=_public(run))
                _record_step(run, step, status, detail, previous.get('heartbeat'), lock_doc['heartbeat'])
                run.update(step=step, heartbeat=lock_doc['heartbeat'])
                return run

            run, _version = self._update(self.run_key(run_id), record_step, record=record)
        return self._result(True, lock_doc, run, state)

    # -- finish ------------------------------------------------------------------------------------------------

    def finish(self, run_id, outcome, active_zone=None, checks=None, step=None, status='done', detail=None):
        """Close the run as ``outcome``, recording ``step`` (its last one) first when given, and free the lock."""
        lock = self.load(self.lock_key).doc
        if not _held(lock) or lock.get('run_id') != run_id:
            run = self.load(self.run_key(run_id)).doc
            broken = ((lock or {}).get('broken') or {}).get('run_id') == run_id
            if _finished(run) and run['outcome'] == outcome and not broken:
                # Finished before: a second finish changes nothing.
                self._tick()
                return self._result(False, lock, run, self.load(self.state_key).doc)
        previous, lock_doc, lock_version = self._beat(run_id, 'finish', checks, lambda doc: doc)
        now = lock_doc['heartbeat']
        state = self.load(self.state_key).doc
        before = (state or {}).get('active_zone')
        if active_zone:
            after = active_zone
        elif outcome == 'succeeded' and lock_doc.get('operation') in MOVING:
            after = lock_doc.get('target')
        else:
            after = before
            if lock_doc.get('operation') in MOVING:
                self.warnings.append('active_zone not given for a %s that %s: state.json keeps %s as the active zone; '
                                     'set active_zone if %s already serves' % (lock_doc['operation'], outcome, before,
                                                                               lock_doc.get('target')))

        def close(run):
            run = run or self._skeleton(lock_doc, state)
            if _finished(run):
                return run  # a finish that stopped before releasing the lock: the record already says it
            if step:
                _record_step(run, step, status, detail, previous.get('heartbeat'), now)
            run.update(outcome=outcome, finished=now, active_zone_after=after, heartbeat=now)
            return run

        run, _version = self._update(self.run_key(run_id), close)
        state, _version = self._update(self.state_key, lambda state: self._record_in_state(state, run, after, now))
        free = {'held': False, 'released': now, 'released_by': self.who['holder'], 'last_run_id': run_id,
                'last_outcome': run['outcome'], 'broken': None}
        try:
            self.save(self.lock_key, free, lock_version)
        except PreconditionFailed:
            current = self.load(self.lock_key).doc or {}
            raise JournalError('run %s was recorded as %s in %s and %s, but the lock changed before it was released '
                               '(now: %s); read the journal' % (run_id, outcome, self.run_key(run_id), self.state_key,
                                                                self.describe_lock(current, self.heartbeat_age(current))
                                                                if _held(current) else 'free'),
                               changed=True, run=_public(run), state=_public(state)) from None
        return self._result(True, free, run, state)

    def _record_in_state(self, state, run, after, now):
        state = state or {'active_zone': None, 'active_zone_since': None, 'active_zone_run_id': None, 'history': []}
        if after != state.get('active_zone'):
            state.update(active_zone=after, active_zone_since=now, active_zone_run_id=run['run_id'])
        entry = {key: run.get(key) for key in ('run_id', 'operation', 'source', 'target', 'mode', 'holder', 'started',
                                               'finished', 'outcome')}
        entry['active_zone'] = after
        history = [item for item in state.get('history') or [] if item.get('run_id') != run['run_id']]
        state.update(last_run_id=run['run_id'], last_outcome=run['outcome'], last_finished=run.get('finished'),
                     history=([entry] + history)[:HISTORY_SIZE], updated=now)
        return state

    # -- break_lock --------------------------------------------------------------------------------------------

    def break_lock(self, expected_run_id):
        for _attempt in range(ATTEMPTS):
            now = self._tick()
            lock = self.load(self.lock_key)
            doc = lock.doc
            if not _held(doc):
                self.warnings.append('the journal lock is free; nothing to break')
                return self._result(False, doc, None, self.load(self.state_key).doc)
            age = self.heartbeat_age(doc)
            if doc['run_id'] != expected_run_id:
                raise JournalError('the journal lock is held by %s, not by expected_run_id %s; nothing was broken'
                                   % (self.describe_lock(doc, age), expected_run_id), lock=_public(doc), heartbeat_age=age)
            holder_run = self._holder_run(doc)
            finished = _finished(holder_run.doc)
            # A stale_after given here counts alone: a lower one than the holder began with breaks its lock on purpose.
            limit = self.stale_after if self.stale_after_given else self.stale_limit(doc)
            if not finished and self.lock_status(doc, holder_run.doc, limit) != 'held-stale':
                raise JournalError('the journal lock of %s is not stale; nothing was broken. Wait, or, if its '
                                   'controller is known to be dead, set a lower stale_after'
                                   % self.describe_lock(doc, age, limit), lock=_public(doc),
                                   heartbeat_age=age, stale=False)
            broken = {'at': now, 'by': self.who['holder'], 'run_id': doc['run_id'], 'holder': doc.get('holder'),
                      'process': doc.get('process'), 'heartbeat': doc.get('heartbeat'), 'heartbeat_age': age,
                      'step': doc.get('step')}
            free = {'held': False, 'released': now, 'released_by': self.who['holder'], 'last_run_id': doc['run_id'],
                    'last_outcome': holder_run.doc['outcome'] if finished else 'aborted',
                    'broken': None if finished else broken}
            if self._claim(lock, free) is None:
                continue
            state = self.load(self.state_key).doc
            if finished:
                return self._result(True, free, holder_run.doc, state)

            def abort(run):
                run = run or self._skeleton(doc, state)
                run.update(outcome='aborted', finished=now, active_zone_after=(state or {}).get('active_zone'),
                           broken=broken)
                return run

            run, _version = self._update(self.run_key(doc['run_id']), abort)
            state, _version = self._update(self.state_key, lambda state: self._record_in_state(
                state, run, (state or {}).get('active_zone'), now))
            self.warnings.append('run %s (%s) was discarded at step %s; the active zone in state.json stays %s: check '
                                 'both zones before the next run' % (doc['run_id'], _what(doc), doc.get('step'),
                                                                     (state or {}).get('active_zone')))
            return self._result(True, free, run, state)
        raise JournalError('the journal lock %s changed %d times while breaking it; read the journal'
                           % (self.lock_key, ATTEMPTS))


# -- the module's one call -------------------------------------------------------------------------------------------

def run_journal(params, check_mode=False, register_secret=None, warn=None, store=None, who=None, now=None):
    """Check the options, open the store, do ``params['action']``; the module result, or a KfuseError."""
    prefix = check_params(params)
    if store is None:
        config = storage_config(params)
        store, _credentials = open_store_from_params(params, config, register_secret=register_secret)
    journal = Journal(store, prefix, who=who or identity(params.get('holder')), now=now, check_mode=check_mode,
                      stale_after=params.get('stale_after'))
    action = params.get('action') or 'read'
    try:
        result = _do(journal, action, params)
    except StorageError as exc:
        exc.message = '%s: %s' % (_unwritten(action, params), exc.message)
        raise
    for text in journal.warnings:
        if warn is not None:
            warn(text)
    result['holder'] = journal.who['holder']
    return result


# What a storage failure left undone, and what the operator does about it (put before the storage error).
_UNWRITTEN = {
    'begin': 'the run did not begin (no step was done); re-run when the bucket answers',
    'checkpoint': 'the journal did not record step %(step)s of run %(run_id)s - the step itself is done. When the '
                  'bucket answers, re-run to continue the run: it goes on from its last recorded step and does the '
                  'steps after it again (each checks before it changes)',
    'heartbeat': 'the heartbeat of run %(run_id)s was not refreshed; re-run when the bucket answers to continue the run',
    'finish': 'the journal did not record the end of run %(run_id)s (%(outcome)s) and its lock is still held; when '
              'the bucket answers, re-run to finish it',
    'break_lock': 'the lock of run %(expected_run_id)s was not broken',
}


def _unwritten(action, params):
    if action == 'checkpoint' and not params.get('step'):
        action = 'heartbeat'
    text = _UNWRITTEN.get(action, 'the journal could not be read')
    return text % {key: params.get(key) or '-' for key in ('step', 'run_id', 'outcome', 'expected_run_id')}


def _do(journal, action, params):
    checks = {key: params.get(key) for key in ('operation', 'source', 'target')}
    if action == 'begin':
        return journal.begin(params['operation'], params.get('source'), params.get('target'), params.get('mode'),
                             params.get('run_id'), params.get('resume', True))
    if action == 'checkpoint':
        return journal.checkpoint(params['run_id'], params.get('step'), params.get('status') or 'done',
                                  params.get('detail'), checks)
    if action == 'finish':
        return journal.finish(params['run_id'], params['outcome'], params.get('active_zone'), checks,
                              step=params.get('step'), status=params.get('status') or 'done', detail=params.get('detail'))
    if action == 'break_lock':
        return journal.break_lock(params['expected_run_id'])
    return journal.read(params.get('run_id'))
