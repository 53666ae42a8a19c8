# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover_report callback in a real ansible-playbook run on localhost (no lab), and its HTML page opened in a
real headless browser (Debian chromium, file:// only, every host name unresolvable, no proxy).

The playbook (report.yml) talks to a stand-in az-service on 127.0.0.1 started here, whose rehydration advances by
60 of 300 segments on each GET /status, so the until loop retries and the callback prints progress lines.
"""

import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
COLLECTIONS = os.path.join(REPO, ".build", "collections")
PLAYBOOK = os.path.join(HERE, "report.yml")
TOTAL = 300
STEP = 60
Bar = namedtuple("Bar", "step host result x y width")
FailoverRun = namedtuple("FailoverRun", "proc report page tmp_path")
COLOURS = {"ok": (0x2E, 0x7D, 0x32), "rescued": (0xEF, 0x6C, 0x00)}


class _AzService(BaseHTTPRequestHandler):
    """GET /status: rehydrating, STEP more segments per request, active once all TOTAL are done."""

    done = -STEP
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 (http.server's name)
        with self.lock:
            _AzService.done = min(TOTAL, _AzService.done + STEP)
            done = _AzService.done
        body = {"state": "active" if done >= TOTAL else "rehydrating", "phase": "done" if done >= TOTAL else "rehydrating",
                "zone": "prod-az2", "sourceZone": "prod-az1", "consuming": done >= TOTAL, "alertsSilenced": True,
                "rehydrated": done, "total": TOTAL}
        self._send(200, body)

    def do_POST(self):  # noqa: N802
        self._send(409, {"error": "the stand-in is activated already"})

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def _inventory(tmp_path):
    python = sys.executable
    local = {"ansible_connection": "local", "ansible_python_interpreter": python}
    inventory = {"all": {"hosts": {"localhost": dict(local)},
                         "children": {"kfuse_zones": {"hosts": {"az1": dict(local), "az2": dict(local)}}}}}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory))
    return str(path)


def run_playbook(tmp_path, playbook, extra_vars):
    """ansible-playbook with the callback enabled and the default stdout callback; (process, report dir)."""
    reports = tmp_path / "reports"
    env = dict(os.environ)
    for key in [key for key in env if key.startswith("ANSIBLE_") or key.startswith("KFUSE_REPORT")]:
        del env[key]
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CALLBACKS_ENABLED": "kfuse.failover.failover_report",
        "KFUSE_REPORT_DIR": str(reports),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_ASYNC_DIR": str(tmp_path / "ansible-async"),
        "PATH": os.pathsep.join([VENV_BIN, env.get("PATH", "")]),
    })
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", _inventory(tmp_path), playbook,
           "-e", json.dumps(extra_vars)]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)
    return proc, reports


def _written(reports):
    jsons = sorted(reports.glob("*.json"))
    htmls = sorted(reports.glob("*.html"))
    assert len(jsons) == 1 and len(htmls) == 1, (jsons, htmls)
    assert jsons[0].stem == htmls[0].stem
    return json.loads(jsons[0].read_text()), htmls[0]


# ---- the browser --------------------------------------------------------------------------------------------------

def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed: run hacking/bootstrap.sh as root (Debian package chromium)")
    return None


def chromium(tmp_path, url, *args):
    """Headless chromium on a file:// URL, offline: no proxy, every host name unresolvable, no background traffic."""
    profile = tmp_path / "chromium-profile"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", "--disable-default-apps", "--no-first-run",
           "--user-data-dir=%s" % profile] + list(args) + [url]
    env = dict(os.environ, HOME=str(tmp_path / "chromium-home"))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


class _Bars(html.parser.HTMLParser):
    """The bars of the rendered timeline: (step, host, result, x, y, width) of each rect.bar in its g.step."""

    def __init__(self):
        super().__init__()
        self.bars, self.group, self.texts, self.svg_depth = [], None, [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "svg":
            self.svg_depth += 1
        if tag == "g" and "step" in classes:
            self.group = attrs
        if tag == "rect" and "bar" in classes:
            group = self.group or {}
            self.bars.append(Bar(group.get("data-step"), group.get("data-host"), group.get("data-result"),
                                 float(attrs["x"]), float(attrs["y"]), float(attrs["width"])))

    def handle_endtag(self, tag):
        if tag == "g":
            self.group = None
        if tag == "svg":
            self.svg_depth -= 1

    def handle_data(self, data):
        if self.svg_depth:
            self.texts.append(data)


def png_pixels(data):
    """(width, height, set of RGB colours) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks, header = 8, [], None
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    width, height, depth, colour_type, interlace = header[0], header[1], header[2], header[3], header[6]
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    channels = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * channels
    previous, colours = bytearray(stride), set()
    for row in range(height):
        position = row * (1 + stride)
        kind, line = raw[position], bytearray(raw[position + 1:position + 1 + stride])
        for index in range(stride):
            left = line[index - channels] if index >= channels else 0
            up = previous[index]
            corner = previous[index - channels] if index >= channels else 0
            if kind == 1:
                line[index] = (line[index] + left) & 0xFF
            elif kind == 2:
                line[index] = (line[index] + up) & 0xFF
            elif kind == 3:
                line[index] = (line[index] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[index] = (line[index] + predictor) & 0xFF
        colours.update(bytes(line[index:index + 3]) for index in range(0, stride, channels))
        previous = line
    return width, height, {tuple(colour) for colour in colours}


# ---- the tests ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def failover_run(tmp_path_factory):
    """One run of report.yml, shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("report")
    _AzService.done = -STEP
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AzService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc, reports = run_playbook(tmp_path, PLAYBOOK, {
            "kfuse_source": "az1", "kfuse_target": "az2",
            "report_az_url": "http://127.0.0.1:%d" % server.server_address[1]})
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report, page = _written(reports)
    return FailoverRun(proc, report, page, tmp_path)


def _steps(report, name, host=None):
    return [step for step in report["steps"] if step["name"] == name and host in (None, step["host"])]


def test_progress_lines_and_where_the_report_is(failover_run):
    proc, page = failover_run.proc, failover_run.page
    lines = re.findall(r"^az2 rehydrating (\d+)/300 \((\d+) %\)(, ETA (\d+(\.\d)?) s)?$", proc.stdout, re.M)
    assert len(lines) >= 3, proc.stdout
    done = [int(line[0]) for line in lines]
    assert done == sorted(done)
    assert any(line[3] for line in lines), "no ETA once the rate is known: %s" % lines
    assert ("Run report: %s" % page) in proc.stdout


def test_json_record(failover_run):
    report = failover_run.report
    assert report["outcome"] == "succeeded"
    assert (report["source"], report["target"]) == ("az1", "az2")
    assert report["playbooks"] == ["report"] and report["run_id"].endswith("-report")
    names = [step["name"] for step in report["steps"]]
    for name in ("Check the request before anything changes", "Preflight", "Node group", "Kloudfuse", "Activate",
                 "Ingress", "Readiness"):
        assert name in names, names
    assert all(step["duration"] > 0 for step in report["steps"]), report["steps"]
    assert _steps(report, "Preflight")[0]["duration"] >= 1

    # parallel: the two background jobs overlap on az2 and get lanes of their own; both zones' readiness too
    nodes, release = _steps(report, "Node group", "az2")[0], _steps(report, "Kloudfuse", "az2")[0]
    assert nodes["start"] < release["end"] and release["start"] < nodes["end"]
    assert nodes["lane"] != release["lane"]
    readiness = _steps(report, "Readiness")
    assert sorted(step["host"] for step in readiness) == ["az1", "az2"]
    assert readiness[0]["lane"] != readiness[1]["lane"]
    assert any({"az2: Node group", "az2: Kloudfuse"} <= set(group) for group in report["parallel"])

    tasks = {task["name"]: task for task in report["tasks"]}
    background = tasks["Node group | Scale up in the background"]
    assert background["async"]["job_id"] and background["async"]["poll"] == 0
    follow = tasks["Activate | Follow the rehydration"]
    assert (follow["attempts"], follow["retries_seen"]) == (TOTAL // STEP + 1, TOTAL // STEP)
    failed = tasks["Ingress | Point the DNS record at the target"]
    assert failed["status"] == "failed" and failed["rescued"] and failed["result"] == "rescued"
    assert "<kfuse.example.internal>" in failed["msg"]
    assert _steps(report, "Ingress")[0]["result"] == "rescued"

    assert report["skipped"] == [{"host": "az2", "step": "Preflight", "task": "Preflight | Only in an emergency",
                                  "reason": "condition false: kfuse_emergency | default(false) | bool"}]

    rto, rpo = report["rto"], report["rpo"]
    assert 0 < rto["rehydration_seconds"] < rto["traffic_seconds"] <= report["duration"]
    assert rto["traffic_task"] == "az2: Ingress | Record what was done"
    assert rpo["source"] == "preflight_result" and rpo["backup_age_at_check"] == 120
    assert 110 < rpo["seconds"] < 120

    assert [check["name"] for check in report["preflight"]["az2"]["checks"]] == ["inputs", "rpo", "node_group"]
    activation = report["activation"]["az2"]
    assert activation["status"]["state"] == "active" and activation["status"]["progress"]["done"] == TOTAL
    assert report["facts"] == {"az2": {"kfuse_report_ingress": "az2 serves <all> traffic"}}
    assert report["hosts"]["az2"]["rescued"] == 1


def test_html_is_self_contained(failover_run):
    page = failover_run.page
    text = page.read_text()
    assert "<script" not in text.lower()
    assert not re.search(r"(src|href)\s*=", text, re.I)
    assert "http://" not in text and "https://" not in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in text and "<b>bold</b>" not in text


def test_headless_chromium_renders_the_steps(failover_run):
    report, page, tmp_path = failover_run.report, failover_run.page, failover_run.tmp_path
    dom = chromium(tmp_path, page.as_uri(), "--dump-dom")
    bars = _Bars()
    bars.feed(dom)
    assert len(bars.bars) == len(report["steps"])
    assert sorted((drawn.step, drawn.host) for drawn in bars.bars) == \
        sorted((step["name"], step["host"]) for step in report["steps"])
    assert all(drawn.width > 0 for drawn in bars.bars)
    lanes = {(drawn.step, drawn.host): drawn.y for drawn in bars.bars}
    assert lanes[("Node group", "az2")] != lanes[("Kloudfuse", "az2")]
    assert lanes[("Readiness", "az1")] != lanes[("Readiness", "az2")]
    labels = " ".join(bars.texts)
    for step in report["steps"]:
        assert step["name"] in labels
    # the rendered page shows the escaped task name as text, not as markup
    assert "Names are escaped &lt;b&gt;bold&lt;/b&gt;" in dom

    shot = tmp_path / "report.png"
    chromium(tmp_path, page.as_uri(), "--screenshot=%s" % shot, "--window-size=1280,1600", "--hide-scrollbars")
    data = shot.read_bytes()
    assert len(data) > 1000
    width, height, colours = png_pixels(data)
    assert (width, height) == (1280, 1600)
    for result in ("ok", "rescued"):
        assert COLOURS[result] in colours, "no %s bar drawn in the screenshot" % result


def test_failed_run_is_reported(tmp_path):
    playbook = tmp_path / "failing.yml"
    playbook.write_text(
        "- name: Fail over\n  hosts: az2\n  gather_facts: false\n  tasks:\n"
        "    - name: Node group | Scale up\n      ansible.builtin.fail:\n        msg: no capacity in az2\n"
        "    - name: Kloudfuse | Never reached\n      ansible.builtin.debug:\n        msg: unreachable\n")
    proc, reports = run_playbook(tmp_path, str(playbook), {})
    assert proc.returncode != 0
    report, page = _written(reports)
    assert report["outcome"] == "failed" and report["playbooks"] == ["failing"]
    assert [(step["name"], step["result"]) for step in report["steps"]] == [("Node group", "failed")]
    assert report["failures"][0]["msg"] == "no capacity in az2"
    assert report["rto"]["traffic_seconds"] is None and report["rto"]["traffic_note"] == "no step Ingress in this run"
    assert "FAILED" in page.read_text()
