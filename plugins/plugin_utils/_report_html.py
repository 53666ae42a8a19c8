# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The HTML page of a run report: one self-contained file (inline CSS and SVG, no script, no external URL).

Private to the collection. ``render_html(report)`` takes the record of ``_report.build_report`` and returns the page:
a header with the outcome, source and target, RTO and RPO; the timeline (an SVG: a time axis in seconds, one lane
per host, more for a host's overlapping steps, one bar per step coloured by its result and labelled with its name and
duration, dashed markers at the RTO points); the steps with their tasks; the preflight checks; the activation's
rehydration samples; what was skipped and why; what failed; and the ``kfuse_report_*`` facts. Every text from the
run is escaped.
"""

from __future__ import annotations

import html
import json
import math

from ansible_collections.kfuse.failover.plugins.plugin_utils._report import format_duration

COLOURS = {'ok': '#2e7d32', 'changed': '#d18b00', 'failed': '#c62828', 'rescued': '#ef6c00',
           'skipped': '#9e9e9e', 'unreachable': '#6a1b9a', 'warn': '#d18b00', 'fail': '#c62828', 'skip': '#9e9e9e'}
WIDTH = 1100
LABEL_WIDTH = 170
RIGHT_PAD = 24
AXIS_HEIGHT = 34
LANE_HEIGHT = 34
BAR_HEIGHT = 22
CHAR_WIDTH = 6.6  # average width of a 12 px sans-serif character, to decide whether a label fits in its bar

CSS = """
body{font:14px/1.4 "DejaVu Sans",Arial,sans-serif;color:#1b1b1b;margin:24px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.outcome{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:bold}
.outcome.succeeded{background:#2e7d32}.outcome.failed{background:#c62828}.outcome.unknown{background:#757575}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:8px;margin:12px 0}
.fact{border:1px solid #ddd;border-radius:4px;padding:6px 10px}.fact b{display:block;font-size:20px}
.fact small{color:#555}
table{border-collapse:collapse;margin:6px 0;width:100%}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}
.r{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}
.r-ok{background:#2e7d32}.r-changed{background:#d18b00}.r-failed,.r-fail{background:#c62828}
.r-rescued{background:#ef6c00}.r-skipped,.r-skip{background:#9e9e9e}.r-unreachable{background:#6a1b9a}
.r-warn{background:#d18b00}
details summary{cursor:pointer}pre{white-space:pre-wrap;margin:0}.muted{color:#666}
svg text{font-family:"DejaVu Sans",Arial,sans-serif}
"""


def esc(value):
    """Text of the run, escaped for HTML text and attribute values."""
    return html.escape('' if value is None else str(value), quote=True)


def nice_ticks(total, wanted=8):
    """Tick positions in seconds for an axis of ``total`` seconds: steps of 1, 2 or 5 times a power of ten."""
    total = max(float(total or 0), 1e-3)
    raw = total / wanted
    power = 10 ** math.floor(math.log10(raw))
    step = next(multiple * power for multiple in (1, 2, 5, 10) if multiple * power >= raw)
    count = int(math.floor(total / step + 1e-9))
    return [round(number * step, 6) for number in range(count + 1)]


def _tick_label(value):
    return ('%g' % value) + ' s'


def _result_badge(result):
    word = esc(result or 'ok')
    return '<span class="r r-%s">%s</span>' % (word, word)


def place_label(text, x, width, left_limit, right_limit):
    """Where a bar's label goes: ``(inside, x, anchor, text, end)``; inside the bar when it fits, else right of it
    up to the next bar, else left of it back to ``left_limit``, else inside cut short with an ellipsis (or nothing
    for a sliver). ``end`` is the rightmost point the label takes, for the next bar's label."""
    needed = len(text) * CHAR_WIDTH
    if needed + 8 <= width:
        return True, x + 4, 'start', text, x + width
    if x + width + 4 + needed + 4 <= right_limit:
        return False, x + width + 4, 'start', text, x + width + 4 + needed
    if x - 4 - needed - 4 >= left_limit:
        return False, x - 4, 'end', text, x + width
    room = int((width - 8) / CHAR_WIDTH)
    if room >= 3:
        return True, x + 4, 'start', text[:room - 1] + '\u2026', x + width
    return True, x, 'start', '', x + width


def _bar(step, x, width, left_limit, right_limit):
    """(SVG of one step's bar and label, rightmost point of its label)."""
    y = AXIS_HEIGHT + step['lane'] * LANE_HEIGHT + (LANE_HEIGHT - BAR_HEIGHT) / 2
    colour = COLOURS.get(step['result'], COLOURS['ok'])
    label = '%s %s' % (step['name'], format_duration(step['duration']))
    title = '%s on %s (%s): %s, %s, %d tasks, %s to %s' % (
        step['name'], step['host'], step['play'], step['result'], format_duration(step['duration']),
        len(step['tasks']), format_duration(step['start']), format_duration(step['end']))
    inside, text_x, anchor, text, end = place_label(label, x, width, left_limit, right_limit)
    parts = ['<g class="step" data-step="%s" data-host="%s" data-result="%s">'
             % (esc(step['name']), esc(step['host']), esc(step['result'])),
             '<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%d" rx="3" fill="%s"><title>%s</title>'
             '</rect>' % (esc(step['result']), x, y, width, BAR_HEIGHT, colour, esc(title))]
    if text:
        parts.append('<text class="bar-label" x="%.1f" y="%.1f" font-size="12" fill="%s" text-anchor="%s">%s</text>'
                     % (text_x, y + BAR_HEIGHT / 2 + 4, '#fff' if inside else '#222', anchor, esc(text)))
    parts.append('</g>')
    return ''.join(parts), end


def timeline_svg(report):
    """The SVG timeline of the report's steps."""
    steps, lanes = report.get('steps', []), report.get('lanes', [])
    total = max([report.get('duration') or 0] + [step['end'] for step in steps] + [1e-3])
    plot = WIDTH - LABEL_WIDTH - RIGHT_PAD
    height = AXIS_HEIGHT + LANE_HEIGHT * max(1, len(lanes)) + 30

    def x_of(seconds):
        return LABEL_WIDTH + plot * (float(seconds) / total)

    parts = ['<svg class="timeline" width="%d" height="%d" viewBox="0 0 %d %d" '
             'role="img" aria-label="steps on a time axis">' % (WIDTH, height, WIDTH, height),
             '<rect class="background" x="0" y="0" width="%d" height="%d" fill="#fff"/>' % (WIDTH, height)]
    for number, lane in enumerate(lanes):
        y = AXIS_HEIGHT + number * LANE_HEIGHT
        if number % 2:
            parts.append('<rect class="lane-band" x="%d" y="%d" width="%d" height="%d" fill="#f6f6f6"/>'
                         % (LABEL_WIDTH, y, plot, LANE_HEIGHT))
        parts.append('<text class="lane" x="%d" y="%.1f" font-size="12" text-anchor="end" fill="#333">%s</text>'
                     % (LABEL_WIDTH - 8, y + LANE_HEIGHT / 2 + 4, esc(lane['label'])))
    bottom = AXIS_HEIGHT + LANE_HEIGHT * max(1, len(lanes))
    for tick in nice_ticks(total):
        x = x_of(tick)
        parts.append('<line class="tick" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc" stroke-width="1"/>'
                     % (x, AXIS_HEIGHT - 6, x, bottom))
        parts.append('<text class="tick-label" x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#555">%s'
                     '</text>' % (x, AXIS_HEIGHT - 10, esc(_tick_label(tick))))
    parts.append('<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
                 % (LABEL_WIDTH, AXIS_HEIGHT - 6, LABEL_WIDTH + plot, AXIS_HEIGHT - 6))

    by_lane = {}
    for step in steps:
        by_lane.setdefault(step['lane'], []).append(step)
    for lane_steps in by_lane.values():
        lane_steps.sort(key=lambda step: (step['start'], step['end']))
        left_limit = LABEL_WIDTH
        for number, step in enumerate(lane_steps):
            x = x_of(step['start'])
            width = max(2.0, x_of(step['end']) - x)
            right_limit = x_of(lane_steps[number + 1]['start']) if number + 1 < len(lane_steps) else WIDTH
            svg, label_end = _bar(step, x, width, left_limit, right_limit)
            parts.append(svg)
            left_limit = max(left_limit, x + width, label_end)

    rto = report.get('rto') or {}
    for key, label in (('traffic_seconds', 'RTO traffic'), ('rehydration_seconds', 'RTO rehydration')):
        if rto.get(key) is None:
            continue
        x = x_of(min(rto[key], total))
        parts.append('<line class="marker" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#1565c0" stroke-width="1.5" '
                     'stroke-dasharray="5,3"/>' % (x, AXIS_HEIGHT - 6, x, bottom + 4))
        anchor = 'end' if x > WIDTH - 160 else 'start'
        parts.append('<text class="marker-label" x="%.1f" y="%d" font-size="11" fill="#1565c0" text-anchor="%s">'
                     '%s %s</text>' % (x + (-3 if anchor == 'end' else 3), bottom + 16 + (12 if key[0] == 'r' else 0),
                                       anchor, esc(label), esc(format_duration(rto[key]))))
    parts.append('</svg>')
    return ''.join(parts)


def _legend():
    items = []
    for word in ('ok', 'changed', 'rescued', 'failed', 'unreachable', 'skipped'):
        items.append('<svg class="legend" width="12" height="12"><rect class="swatch" width="12" height="12" rx="2" '
                     'fill="%s"/></svg> %s' % (COLOURS[word], esc(word)))
    return '<p class="muted">%s &nbsp; dashed: RTO points</p>' % ' &nbsp; '.join(items)


def _fact_box(title, value, note=None):
    return '<div class="fact"><small>%s</small><b>%s</b>%s</div>' % (
        esc(title), esc(value), '<small>%s</small>' % esc(note) if note else '')


def _header(report):
    outcome = report.get('outcome') or 'unknown'
    rto, rpo = report.get('rto') or {}, report.get('rpo') or {}
    route = '%s &rarr; %s' % (esc(report.get('source') or '?'), esc(report.get('target') or '?'))
    parts = ['<h1>Kloudfuse failover run %s</h1>' % esc(report.get('run_id')),
             '<p><span class="outcome %s">%s</span> &nbsp; %s &nbsp; <span class="muted">playbook %s, started %s, '
             'ended %s%s</span></p>' % (esc(outcome if outcome in ('succeeded', 'failed') else 'unknown'),
                                        esc(outcome.upper()), route, esc(', '.join(report.get('playbooks') or [])),
                                        esc(report.get('started')), esc(report.get('ended')),
                                        ', check mode' if report.get('check_mode') else ''),
             '<div class="facts">',
             _fact_box('run duration', format_duration(report.get('duration'))),
             _fact_box('RTO: start to traffic on target', format_duration(rto.get('traffic_seconds')),
                       rto.get('traffic_note') or rto.get('traffic_task')),
             _fact_box('RTO: start to rehydration done', format_duration(rto.get('rehydration_seconds')),
                       rto.get('rehydration_note') or rto.get('rehydration_task')),
             (_fact_box('RTO predicted before the run (preparation to traffic)',
                        format_duration(rto['predicted_traffic_seconds']), rto.get('predicted_note'))
              if rto.get('predicted_traffic_seconds') is not None else ''),
             _fact_box('RPO: newest restored backup vs run start', format_duration(rpo.get('seconds')),
                       ('from %s' % rpo['source']) if rpo.get('source') else 'no RPO was measured in this run'),
             '</div>']
    return ''.join(parts)


def _steps_table(report):
    tasks = {task.get('id'): task for task in report.get('tasks', [])}
    lanes = {lane['index']: lane['label'] for lane in report.get('lanes', [])}
    rows = ['<table class="steps"><tr><th>step</th><th>host (lane)</th><th>play</th><th>start</th><th>duration</th>'
            '<th>result</th><th>tasks</th></tr>']
    for step in report.get('steps', []):
        counts = ', '.join('%d %s' % (number, word) for word, number in sorted(step.get('counts', {}).items()))
        items = []
        for task_id in step.get('tasks', []):
            task = tasks.get(task_id) or {}
            extra = []
            if task.get('attempts'):
                extra.append('%s attempts' % task['attempts'])
            if task.get('async'):
                extra.append('async')
            if task.get('skip_reason'):
                extra.append('skipped: %s' % task['skip_reason'])
            items.append('<li>%s %s <span class="muted">%s%s</span></li>' % (
                _result_badge(task.get('result')), esc(task.get('name')), esc(format_duration(task.get('duration'))),
                esc(' - ' + '; '.join(extra)) if extra else ''))
        rows.append('<tr class="step-row"><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td><td class="num">%s'
                    '</td><td>%s</td><td><details><summary>%s</summary><ul>%s</ul></details></td></tr>' % (
                        esc(step['name']), esc(lanes.get(step['lane'], step['host'])), esc(step['play']),
                        esc(format_duration(step['start'])), esc(format_duration(step['duration'])),
                        _result_badge(step['result']), esc(counts), ''.join(items)))
    rows.append('</table>')
    return ''.join(rows)


def _preflight(report):
    preflight = report.get('preflight') or {}
    if not preflight:
        return '<p class="muted">No preflight ran in this run (no preflight_result fact was set).</p>'
    parts = []
    for host, result in preflight.items():
        verdict = 'ok' if result.get('ok') in (True, 'True', 'true') else 'fail'
        parts.append('<h3>%s %s</h3>' % (esc(host), _result_badge(verdict)))
        if result.get('plan'):
            parts.append('<p>plan: %s</p>' % esc(result['plan']))
        rows = ['<table class="checks"><tr><th>check</th><th>status</th><th>detail</th></tr>']
        for check in result.get('checks') or []:
            if isinstance(check, dict):
                rows.append('<tr><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                    esc(check.get('name')), _result_badge(check.get('status')), esc(check.get('detail'))))
        rows.append('</table>')
        parts.append(''.join(rows))
    return ''.join(parts)


def _activation(report):
    activation = report.get('activation') or {}
    if not activation:
        return '<p class="muted">No az_activate task ran in this run.</p>'
    parts = []
    for host, record in activation.items():
        status = record.get('status') or {}
        progress = status.get('progress') or {} if isinstance(status, dict) else {}
        parts.append('<p><b>%s</b>: %s, state %s%s%s</p>' % (
            esc(host), esc(record.get('task')), esc(status.get('state') if isinstance(status, dict) else status),
            esc(' (%s/%s)' % (progress.get('done'), progress.get('total'))) if progress.get('total') else '',
            esc(', waited %s' % format_duration(record['elapsed'])) if record.get('elapsed') is not None else ''))
        samples = [sample for sample in record.get('progress') or [] if isinstance(sample, dict)]
        if samples:
            rows = ['<table class="samples"><tr><th>elapsed</th><th>state</th><th>phase</th><th>done</th><th>total'
                    '</th><th>percent</th></tr>']
            for sample in samples:
                rows.append('<tr>%s</tr>' % ''.join('<td>%s</td>' % esc('' if sample.get(key) is None else sample[key])
                                                    for key in ('elapsed', 'state', 'phase', 'done', 'total',
                                                                'percent')))
            rows.append('</table>')
            parts.append(''.join(rows))
    return ''.join(parts)


def _rows(title_cells, rows, css_class):
    if not rows:
        return '<p class="muted">None.</p>'
    head = ''.join('<th>%s</th>' % esc(cell) for cell in title_cells)
    body = ''.join('<tr>%s</tr>' % ''.join('<td>%s</td>' % esc(cell) for cell in row) for row in rows)
    return '<table class="%s"><tr>%s</tr>%s</table>' % (css_class, head, body)


def _facts(report):
    rows = []
    for host, values in (report.get('facts') or {}).items():
        for name, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
            rows.append((host, name, text))
    return _rows(('host', 'fact', 'value'), rows, 'report-facts')


def render_html(report):
    """The whole page, as text."""
    skipped = [(item.get('host'), item.get('step'), item.get('task'), item.get('reason'))
               for item in report.get('skipped', [])]
    failures = [(item.get('host'), item.get('step'), item.get('task'), item.get('result'), item.get('msg') or '')
                for item in report.get('failures', [])]
    parallel = report.get('parallel') or []
    body = [
        _header(report),
        '<h2>Timeline</h2>', timeline_svg(report), _legend(),
        ('<p class="muted">Side by side: %s</p>' % esc('; '.join(' | '.join(group) for group in parallel))
         if parallel else ''),
        '<h2>Steps</h2>', _steps_table(report),
        '<h2>Preflight checks</h2>', _preflight(report),
        '<h2>Activation</h2>', _activation(report),
        '<h2>Skipped tasks</h2>', _rows(('host', 'step', 'task', 'reason'), skipped, 'skipped'),
        '<h2>Failed tasks</h2>', _rows(('host', 'step', 'task', 'result', 'message'), failures, 'failures'),
        '<h2>Recorded by the playbook (kfuse_report_* facts)</h2>', _facts(report),
    ]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s</title><style>%s</style></head><body>%s</body></html>\n'
            % (esc('kfuse failover report %s' % (report.get('run_id') or '')), CSS, ''.join(body)))
