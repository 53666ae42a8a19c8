# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Glue shared by the az_* modules: connection options, client construction, status reads and waits.

Every az_* module is: argument spec -> ``AzServiceModule`` -> ``with module.connect() as client`` -> a
decision on the current /status -> at most one POST -> optional wait -> ``exit_json``.
"""

from __future__ import annotations

import contextlib
import math
import os
import urllib.parse

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.kfuse.failover.plugins.module_utils import az_service
from ansible_collections.kfuse.failover.plugins.module_utils._az_status import (
    STATES,
    STATUS_MAP_PATHS,
    STATUS_MAP_STATES,
    check_status_map,
)
from ansible_collections.kfuse.failover.plugins.module_utils._az_wire import check_extra_params
from ansible_collections.kfuse.failover.plugins.module_utils._names import is_loopback
from ansible_collections.kfuse.failover.plugins.module_utils._waiter import Waiter
from ansible_collections.kfuse.failover.plugins.module_utils.base import KfuseModule
from ansible_collections.kfuse.failover.plugins.module_utils.errors import AzServiceError, KubeError, OptionError, WaitError

KUBE_DEFAULTS = {'namespace': 'kfuse', 'service': 'az-service', 'service_port': 8080, 'scheme': 'https'}
KUBE_OPTIONS = ('kubeconfig', 'context', 'namespace', 'service', 'service_port', 'scheme')

# Kube options have no argspec default so that "url and a kube option" can be told from "url alone";
# their defaults (KUBE_DEFAULTS) are applied when the module reaches the service through Kubernetes.
AZ_SERVICE_ARGSPEC = {
    'url': {'type': 'str'},
    'kubeconfig': {'type': 'path'},
    'context': {'type': 'str'},
    'namespace': {'type': 'str'},
    'service': {'type': 'str'},
    'service_port': {'type': 'int'},
    'scheme': {'type': 'str', 'choices': ['https', 'http']},
    'validate_certs': {'type': 'bool', 'default': True},
    'ca_path': {'type': 'path'},
    'client_cert': {'type': 'path'},
    'client_key': {'type': 'path'},
    'token': {'type': 'str', 'no_log': True, 'fallback': (env_fallback, ['KFUSE_AZ_SERVICE_TOKEN'])},
    'allow_insecure_token': {'type': 'bool', 'default': False},
    'timeout': {'type': 'float', 'default': 30.0},
    'retries': {'type': 'int', 'default': 5},
    'retry_delay': {'type': 'float', 'default': 1.0},
    'status_map': {'type': 'dict', 'options': dict(
        [(name, {'type': 'str'}) for name in STATUS_MAP_PATHS]
        + [(name, {'type': 'list', 'elements': 'str'}) for name in STATUS_MAP_STATES])},
    'unreadable_status_limit': {'type': 'int', 'default': 3},
}

RAW_LIMIT = 500

MUTUALLY_EXCLUSIVE = [['url', option] for option in KUBE_OPTIONS]
REQUIRED_ONE_OF = [['url'] + list(KUBE_OPTIONS)]
REQUIRED_BY = {'client_key': 'client_cert'}


def wait_argspec(wait_timeout, poll_interval, with_wait=True):
    """Argument spec of the wait options with this module's defaults."""
    spec = {
        'wait_timeout': {'type': 'int', 'default': wait_timeout},
        'poll_interval': {'type': 'float', 'default': poll_interval},
    }
    if with_wait:
        spec['wait'] = {'type': 'bool', 'default': True}
    return spec


def status_summary(status):
    """Flat summary of a normalised status for wait histories and messages."""
    progress = status.get('progress') or {}
    return {
        'state': status.get('state'),
        'phase': status.get('phase'),
        'done': progress.get('done'),
        'total': progress.get('total'),
        'percent': progress.get('percent'),
        'error': status.get('error'),
        'source_zone': status.get('source_zone'),
        'state_word': status.get('state_word'),
    }


def _kube():
    """The Kubernetes helpers, imported only for reach=kube: the kubernetes library takes about half a second to
    import, paid by every az-service call of a failover (and every retry of its status loops) otherwise."""
    from ansible_collections.kfuse.failover.plugins.module_utils import kube  # pylint: disable=import-outside-toplevel
    return kube


class AzServiceModule(KfuseModule):
    """The module base (KfuseModule) with the az-service connection options, their checks and a client factory."""

    def __init__(self, argument_spec, mutually_exclusive=None, required_one_of=None, validated_wire_names=None,
                 **kwargs):
        """``validated_wire_names`` (wire name -> option): what ``extra_params``, when the module has it, must not
        override, because the module checks it through its own option."""
        spec = dict(AZ_SERVICE_ARGSPEC)
        spec.update(argument_spec)
        kwargs.setdefault('supports_check_mode', True)
        super().__init__(
            argument_spec=spec,
            mutually_exclusive=MUTUALLY_EXCLUSIVE + list(mutually_exclusive or []),
            required_one_of=REQUIRED_ONE_OF + list(required_one_of or []),
            required_by=REQUIRED_BY,
            **kwargs
        )
        self._relay = None
        self.status_map = None
        self._validated_wire_names = validated_wire_names
        self.add_cleanup(self.close_relay)
        self._validate_connection_options()

    # -- validation (before any request) -------------------------------------------------------------------

    def _validate_connection_options(self):
        """Fail (through fail_from_exception) on any bad connection option, before any request."""
        try:
            self._check_connection_options()
        except OptionError as exc:
            self.fail_from_exception(exc)

    def _check_connection_options(self):
        """OptionError naming the option; a missing library fails the module with its import traceback."""
        params = self.params
        if not az_service.HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib('requests'), exception=az_service.REQUESTS_IMPORT_ERROR)
        for option in ('timeout', 'retry_delay', 'poll_interval'):
            if params.get(option) is not None and not math.isfinite(params[option]):
                raise OptionError('%s must be a finite number of seconds, got %s' % (option, params[option]))
        if params['timeout'] <= 0:
            raise OptionError('timeout must be a positive number of seconds, got %s' % params['timeout'])
        if params['retries'] < 0:
            raise OptionError('retries must be 0 or more, got %s' % params['retries'])
        if params['retry_delay'] < 0:
            raise OptionError('retry_delay must be 0 or more seconds, got %s' % params['retry_delay'])
        if params.get('wait_timeout') is not None and params['wait_timeout'] < 0:
            raise OptionError('wait_timeout must be 0 or more seconds, got %s' % params['wait_timeout'])
        if params.get('poll_interval') is not None and params['poll_interval'] <= 0:
            raise OptionError('poll_interval must be a positive number of seconds, got %s' % params['poll_interval'])
        if params['unreadable_status_limit'] < 1:
            raise OptionError('unreadable_status_limit must be 1 or more reads, got %s' % params['unreadable_status_limit'])
        for option in ('ca_path', 'client_cert', 'client_key'):
            if params[option] and not os.path.isfile(params[option]):
                raise OptionError('%s: no such file %s' % (option, params[option]))
        self.status_map = check_status_map(params['status_map'])
        if params['url']:
            parsed = urllib.parse.urlparse(params['url'])
            if parsed.username or parsed.password:
                # Masked in everything the module returns (module_args at -vvvv too), and never quoted.
                self.register_secret(parsed.password, params['url'])
                raise OptionError('url must not carry credentials (user:password@host); use the token option')
            if parsed.scheme not in ('https', 'http') or not parsed.hostname:
                raise OptionError('url must be an http(s) URL such as https://localhost:8082, got %r' % params['url'])
            if parsed.scheme == 'http' and params['token'] and not is_loopback(parsed.hostname):
                if not params['allow_insecure_token']:
                    raise OptionError('refusing to send token over plain http to %s; use an https url or set '
                                      'allow_insecure_token=true' % parsed.hostname)
                self.warn('token is sent over plain http to %s (allow_insecure_token=true)' % parsed.hostname)
        else:
            kube = _kube()
            if not kube.HAS_KUBERNETES:
                self.fail_json(msg=missing_required_lib('kubernetes'), exception=kube.KUBERNETES_IMPORT_ERROR)
            port = self.kube_option('service_port')
            if not 0 < port < 65536:
                raise OptionError('service_port must be between 1 and 65535, got %s' % port)
            for option in ('namespace', 'service'):
                if not self.kube_option(option).strip():
                    raise OptionError('%s must not be empty' % option)
        if not params['validate_certs']:
            self.warn('validate_certs=false: the az-service certificate is not verified')
        if 'extra_params' in params:
            check_extra_params(params['extra_params'], self._validated_wire_names)

    def kube_option(self, name):
        """A kube option's value, or its documented default."""
        value = self.params.get(name)
        return KUBE_DEFAULTS.get(name) if value is None else value

    # -- client --------------------------------------------------------------------------------------------

    def _tls_settings(self):
        params = self.params
        if not params['validate_certs']:
            verify = False
        else:
            verify = params['ca_path'] or True
        cert = None
        if params['client_cert']:
            cert = (params['client_cert'], params['client_key']) if params['client_key'] else params['client_cert']
        return verify, cert

    def _open_relay(self):
        """Start a port-forward relay to the az-service pod; returns the local base URL."""
        kube = _kube()
        api_client = kube.new_api_client(self.params['kubeconfig'], self.params['context'])
        core_v1 = kube.k8s_client.CoreV1Api(api_client)
        namespace = self.kube_option('namespace')
        pod, port = kube.resolve_service_target(core_v1, namespace, self.kube_option('service'),
                                                self.kube_option('service_port'))
        self._relay = kube.PortForwardRelay(core_v1, namespace, pod, port)
        local_port = self._relay.start()
        return '%s://localhost:%d' % (self.kube_option('scheme'), local_port)

    def build_client(self, **overrides):
        """An AzServiceClient for the configured target (starting the port-forward relay if needed)."""
        params = self.params
        verify, cert = self._tls_settings()
        if params['url']:
            base_url = params['url']
            parsed = urllib.parse.urlparse(base_url)
            # A plain-http loopback URL is exempt from the token rule because the request stays on this machine:
            # environment proxies (HTTP_PROXY) would send it, token and all, elsewhere, so they are not used.
            trust_env = not (parsed.scheme == 'http' and is_loopback(parsed.hostname))
        else:
            try:
                base_url = self._open_relay()
            except KubeError as exc:
                self.fail_from_exception(exc)
            trust_env = False  # loopback relay: never through an HTTP proxy from the environment
        if verify is False:
            _silence_insecure_warnings()
        options = {
            'token': params['token'], 'verify': verify, 'cert': cert, 'timeout': params['timeout'],
            'retries': params['retries'], 'retry_delay': params['retry_delay'], 'trust_env': trust_env,
            'transport_note': self._relay.describe if self._relay is not None else None,
            'status_map': self.status_map,
        }
        options.update(overrides)
        return az_service.AzServiceClient(base_url, **options)

    def close_relay(self):
        """Stop the port-forward relay, if any."""
        if self._relay is not None:
            self._relay.close()
            self._relay = None

    @contextlib.contextmanager
    def connect(self):
        """Context manager yielding a client; the relay and the session are closed on exit, whatever happens."""
        client = self.build_client()
        try:
            yield client
        finally:
            client.close()
            self.close_relay()

    # -- failures and results ------------------------------------------------------------------------------

    def read_status(self, client):
        """(normalised status, AzResponse) of GET /status, failing the module on error."""
        try:
            return client.get_status()
        except AzServiceError as exc:
            self.fail_from_exception(exc)
        return None, None  # not reached: fail_json exits

    def wait_for(self, client, is_done, what, failure=None):
        """Poll /status until ``is_done(status)``; returns (status, response, progress history, elapsed seconds).

        Fails the module with the last status seen (normalised and raw) on timeout or when ``failure(status)``
        returns a reason.
        """
        latest = {}

        def fetch():
            status, response = client.get_status()
            latest['status'], latest['response'] = status, response
            return status

        def transient(exc):
            return isinstance(exc, AzServiceError) and (
                exc.status is None or exc.status in az_service.NOT_PROCESSED_STATUSES + az_service.MAYBE_PROCESSED_STATUSES)

        limit = self.params['unreadable_status_limit']
        unreadable = {'count': 0}

        def failure_or_unreadable(status):
            reason = failure(status) if failure else None
            if reason:
                return reason
            unreadable['count'] = 0 if status.get('understood') else unreadable['count'] + 1
            if unreadable['count'] >= limit:
                return unreadable_message(status, latest.get('response'), unreadable['count'])
            return None

        interval = self.params['poll_interval']
        waiter = Waiter(fetch, is_done, timeout=self.params['wait_timeout'], interval=interval,
                        max_interval=max(interval, min(interval * 4, 60.0)), summarize=status_summary,
                        failure=failure_or_unreadable, is_transient=transient, what=what)
        try:
            result = waiter.run()
        except WaitError as exc:
            response = latest.get('response')
            self.fail_from_exception(exc, status=latest.get('status'), raw=response.text if response else None,
                                     progress=exc.history, elapsed=round(exc.elapsed, 1), timed_out=exc.timed_out)
        except AzServiceError as exc:
            self.fail_from_exception(exc, progress=waiter.history)
        return latest['status'], latest['response'], result.history, round(result.elapsed, 1)


def trimmed(text, limit=RAW_LIMIT):
    """``text`` on one line, cut to ``limit`` characters."""
    return az_service.truncate(' '.join((text or '').split()), limit)


def unreadable_message(status, response, reads):
    """Why a wait stops on a status it cannot understand, with the body and the way out."""
    said = 'state word %r is not in the state table' % status['state_word'] if status.get('state_word') else \
        'no state field was found'
    return ('the az-service status could not be understood in %d consecutive reads (%s); body: %r. Set status_map '
            'to point at the fields of your service\'s status (see ansible-doc kfuse.failover.az_status)'
            % (reads, said, trimmed(response.text if response is not None else '')))


def status_result(status, response):
    """The status keys every az_* module returns: normalised status, raw body and parsed JSON (or None)."""
    return {'status': status, 'raw': response.text if response is not None else None,
            'json': response.json if response is not None else None}


def state_choices():
    """States a wait can target."""
    return [state for state in STATES if state != 'unknown']


def _silence_insecure_warnings():
    """validate_certs=false was asked for and warned about once; do not repeat urllib3's warning per request."""
    try:
        import urllib3
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    except ImportError:
        pass
