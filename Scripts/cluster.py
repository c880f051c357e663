#!/usr/bin/env python3
"""A CallSequence cluster on this machine: Kamailio (Deploy/kamailio) in front of two `callseq serve` nodes on
127.0.0.2 and 127.0.0.3 (loopback aliases: no setup on Linux) that share one throw-away PostgreSQL store
(`serve --store postgres://...`, initdb in a temporary folder, a unix socket, stopped at the end); every port is
free at run time, every file in a temporary folder. The account (numbers, IVR, sequences, daily SMS limit) is
made through the management API of the first node (`serve --http`), with an operator key from `callseq keys
create --store`.

  Scripts/cluster.py run  CALLSEQ   `make cluster`: in the foreground, Ctrl-C stops all
  Scripts/cluster.py test CALLSEQ   `make cluster-test`: (a) the split of 200 calls, (b) kill -9 of a node under
                                    load, (c) SIGTERM of a node under load, (d) texts across nodes (daily limit,
                                    at most once, a node killed between reservation and send), (e) a change saved
                                    on one node reaching the other's next call, and a PostgreSQL restart; prints
                                    the figures, exits 1 on a failure
"""
import http.server
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = os.path.join(ROOT, "Deploy", "kamailio", "kamailio.cfg")
SCENARIO = os.path.join(ROOT, "Deploy", "kamailio", "sipp-call.xml")
NUMBER = "5145550100"
SMS_TO = "5145550199"
PROXY_HOST = "127.0.0.1"
NODE_HOSTS = ["127.0.0.2", "127.0.0.3"]


def free_port(host, kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Process:
    """A child whose output lines are kept with the time each arrived (time.time())."""

    def __init__(self, name, argv, folder, env=None):
        self.name = name
        self.argv = argv
        self.lines = []   # (time, text)
        self.lock = threading.Lock()
        self.log = open(os.path.join(folder, name + ".log"), "a")
        self.popen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      text=True, errors="replace", start_new_session=True,
                                      env=env)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.popen.stdout:
            now = time.time()
            with self.lock:
                self.lines.append((now, line.rstrip("\n")))
            self.log.write(f"{now:.3f} {line}")
            self.log.flush()

    def wait_line(self, pattern, timeout, after=0.0):
        """The (time, line) of the first line after `after` matching `pattern`, or None."""
        regex = re.compile(pattern)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for t, line in self.lines:
                    if t >= after and regex.search(line):
                        return t, line
            if self.popen.poll() is not None:
                time.sleep(0.1)
                with self.lock:
                    for t, line in self.lines:
                        if t >= after and regex.search(line):
                            return t, line
                return None
            time.sleep(0.02)
        return None

    def tail(self, n=15):
        with self.lock:
            return "\n".join(f"  {self.name}: {line}" for _, line in self.lines[-n:])

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        return self.popen.returncode


class Cluster:
    def __init__(self, callseq, folder, store, drain_timeout=30, provider=None):
        self.callseq = callseq
        self.folder = folder
        self.store = store          # the postgres:// URL the nodes share
        self.provider = provider    # the SMS provider's URL (None: dry run, nothing sent)
        self.drain_timeout = drain_timeout
        self.proxy_port = free_port(PROXY_HOST)
        self.nodes = {}   # host -> dict(port, metrics, http, rtp, process)
        base = 30000 + 1000 * (os.getpid() % 25)
        for i, host in enumerate(NODE_HOSTS):
            self.nodes[host] = {"port": free_port(host), "metrics": free_port(host, socket.SOCK_STREAM),
                                "http": free_port(host, socket.SOCK_STREAM),
                                "rtp": (base + 500 * i, base + 500 * i + 499), "process": None}
        self.kamailio = None
        self.key = None   # the operator's API key

    def uri(self, host):
        return f"sip:{host}:{self.nodes[host]['port']}"

    def start_node(self, host):
        node = self.nodes[host]
        argv = [self.callseq, "serve", "--store", self.store, "--http", f"{host}:{node['http']}",
                "--listen", f"{host}:{node['port']}",
                "--metrics", f"{host}:{node['metrics']}", "--rtp-ports", "%d-%d" % node["rtp"],
                "--trusted-proxy", PROXY_HOST, "--drain-timeout", str(self.drain_timeout), "--rtp-timeout", "120"]
        env = dict(os.environ)
        if self.provider:
            # The fake provider holds a request on demand: 1 s then decides the outcome is unknown, so a
            # reservation older than 4 × 1 s + backoffs + 2 s is one whose node died (SMSReservationExpiry).
            argv += ["--send-sms", "--sms-endpoint", self.provider, "--sms-timeout-ms", "1000"]
            env.update(CALLSEQ_SMS_USER="cluster", CALLSEQ_SMS_PASSWORD="cluster-test")
        process = Process("node-" + host, argv, self.folder, env=env)
        node["process"] = process
        found = process.wait_line(r"^listening on udp ", 120)
        if not found:
            raise RuntimeError(f"node {host} did not start:\n{process.tail()}")
        return found[0]

    def api(self, host, method, path, body=None, etag=None, timeout=15):
        """(status, headers, JSON or None) of a management API request to the node on `host`."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://{host}:{self.nodes[host]['http']}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if etag:
            request.add_header("If-Match", etag)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                text = r.read()
                return r.status, r.headers, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, error.headers, json.loads(text)
            except ValueError:
                return error.code, error.headers, None

    def must(self, host, method, path, body=None, etag=None, expect=(200, 201)):
        status, headers, answer = self.api(host, method, path, body, etag)
        if status not in expect:
            raise RuntimeError(f"{method} {path} on {host}: HTTP {status}: {answer}")
        return headers, answer

    def provision(self):
        """The operator key (callseq keys create), then through the API of the first node: one account with a
        daily limit of 5 texts, its number routed to an IVR whose keys run the sequences the tests use.
        Answers the account id and the ids of the sequences by name."""
        made = subprocess.run([self.callseq, "keys", "create", "--store", self.store, "--operator"],
                              capture_output=True, text=True, timeout=120)
        if made.returncode != 0:
            raise RuntimeError(f"callseq keys create: {made.stderr.strip()}")
        self.key = made.stdout.strip()
        host = NODE_HOSTS[0]
        _, account = self.must(host, "POST", "/api/v1/accounts", {
            "name": "Cluster", "capabilities": {"sequences": True, "sms": True, "smsDailyLimit": 5}})
        base = f"/api/v1/accounts/{account['id']}"
        sequences = {}

        def sequence(name, steps):
            headers, _ = self.must(host, "POST", f"{base}/sequences", {"name": name, "steps": steps})
            sequences[name] = {"id": headers["Location"].rsplit("/", 1)[1], "etag": headers["ETag"]}
        sequence("Digits", [{"type": "dtmf", "digits": "1234", "toneMs": 60, "gapMs": 60}])
        sequence("Long", [{"type": "dtmf", "digits": "1234567890", "toneMs": 200, "gapMs": 300}])
        menu = {"name": "Menu", "timeoutSeconds": 30, "attempts": 3,
                "options": {"2": {"sequence": "Digits"}, "3": {"sequence": "Long"}}}
        headers, _ = self.must(host, "POST", f"{base}/ivrs", menu)
        ivr = headers["Location"].rsplit("/", 1)[1]
        self.must(host, "PUT", f"{base}/numbers/{NUMBER}", {"route": {"ivr": "Menu"}, "sms": True, "dtmf": "rfc4733"})
        # The text's sender must be one of the account's SMS numbers: after the number.
        sequence("Texts", [{"type": "dtmf", "digits": "5", "toneMs": 60, "gapMs": 60},
                           {"type": "sms", "from": NUMBER, "to": SMS_TO, "message": "Front door opened"}])
        menu["options"]["1"] = {"sequence": "Texts"}
        etag = self.api(host, "GET", f"{base}/ivrs/{ivr}")[1]["ETag"]
        self.must(host, "PUT", f"{base}/ivrs/{ivr}", menu, etag=etag)
        return account["id"], sequences

    def start_kamailio(self):
        listing = os.path.join(self.folder, "dispatcher.list")
        with open(listing, "w") as f:
            for i, host in enumerate(NODE_HOSTS):
                f.write(f"1 {self.uri(host)} 0 0 duid=node-{i}\n")
        run = os.path.join(self.folder, "kamailio-run")
        os.makedirs(run, exist_ok=True)
        argv = ["kamailio", "-f", CFG, "-DD", "-E", "-m", "64", "-M", "16",
                "-A", f"LISTEN=udp:{PROXY_HOST}:{self.proxy_port}",
                "-A", f'DISPATCHER_LIST="{listing}"', "-A", f'CTL_SOCKET="unix:{run}/ctl"',
                "-P", os.path.join(run, "kamailio.pid"), "-Y", run, "-w", run]
        self.kamailio = Process("kamailio", argv, self.folder)
        # Up when it answers an OPTIONS of its own.
        deadline = time.time() + 30
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((PROXY_HOST, 0))
            s.settimeout(0.2)
            while time.time() < deadline:
                port = s.getsockname()[1]
                s.sendto((f"OPTIONS sip:{PROXY_HOST}:{self.proxy_port} SIP/2.0\r\n"
                          f"Via: SIP/2.0/UDP {PROXY_HOST}:{port};branch=z9hG4bK{time.time_ns()}\r\n"
                          f"From: <sip:check@{PROXY_HOST}>;tag=1\r\nTo: <sip:{PROXY_HOST}>\r\n"
                          f"Call-ID: check-{time.time_ns()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                          "Content-Length: 0\r\n\r\n").encode(), (PROXY_HOST, self.proxy_port))
                try:
                    if s.recv(65536).startswith(b"SIP/2.0 200"):
                        return
                except socket.timeout:
                    pass
        raise RuntimeError(f"kamailio did not answer:\n{self.kamailio.tail()}")

    def kamailio_cpu(self):
        """CPU seconds (user + system) of Kamailio's processes so far (its process group)."""
        total = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.kamailio.popen.pid:   # pgrp
                total += int(fields[11]) + int(fields[12])   # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def metrics(self, host):
        node = self.nodes[host]
        with urllib.request.urlopen(f"http://{host}:{node['metrics']}/metrics", timeout=5) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def stop(self):
        for node in self.nodes.values():
            if node["process"]:
                node["process"].stop(signal.SIGKILL)
        if self.kamailio:
            self.kamailio.stop()


def sipp(cluster, name, calls, rate, hold_ms, limit=None):
    """Starts SIPp through the proxy; answers the process and its -trace_logs file."""
    folder = os.path.join(cluster.folder, name)
    os.makedirs(folder)
    with open(SCENARIO) as f:
        scenario = f.read().replace('timeout="5000"', f'timeout="{hold_ms}"')
    path = os.path.join(folder, "call.xml")
    with open(path, "w") as f:
        f.write(scenario)
    argv = ["sipp", "-sf", path, "-s", NUMBER, f"{PROXY_HOST}:{cluster.proxy_port}", "-i", PROXY_HOST,
            "-p", str(free_port(PROXY_HOST)), "-mp", str(free_port(PROXY_HOST)), "-m", str(calls), "-r", str(rate),
            "-l", str(limit or calls), "-trace_logs", "-trace_err", "-nostdin", "-timeout_error",
            "-timeout", "120", "-recv_timeout", "30000", "-max_recv_loops", "10000"]
    popen = subprocess.Popen(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return popen, folder


def sipp_events(folder):
    """[(kind, call id, node, time, in-dialog)] from the <log> lines; [timestamp] is
    'YYYY-MM-DD\tHH:MM:SS.ffffff\tEPOCH'; in-dialog: a BYE-RECEIVED whose tags were the dialog's."""
    events = []
    for name in os.listdir(folder):
        if name.endswith("_logs.log"):
            with open(os.path.join(folder, name), errors="replace") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 4 and parts[0] in ("ANSWERED", "BYE-RECEIVED", "HUNG-UP"):
                        tags = next((p for p in parts if p.startswith("tags=")), "")
                        same = _same_dialog(tags[5:].split("/")) if tags else parts[0] != "BYE-RECEIVED"
                        events.append((parts[0], parts[1], parts[2], float(parts[-1]), same))
    return events


def _same_dialog(tags):
    """A BYE's tags=FROM/NODE/TO/OURS: its From tag is the node's (the 200's To tag), its To tag ours (RFC 3261 §12)."""
    return len(tags) == 4 and all(tags) and tags[0] == tags[1] and tags[2] == tags[3]


def finish(popen, timeout=180):
    try:
        _, err = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        _, err = popen.communicate()
    return popen.returncode, err


EVENTS = "0123456789*#ABCD"   # RFC 4733 §3.2: events 0-15 are the DTMF keys


class Call(threading.Thread):
    """One call over UDP (RFC 3261): INVITE with an SDP offer (PCMU and telephone-event, RFC 4566/3264), ACK and
    BYE along the recorded route (§12.2.1.1: Route headers from the 200's Record-Route reversed, Request-URI the
    node's Contact), a key pressed as RFC 4733 events, the digits the node sends collected from its RFC 4733
    events (one digit per event timestamp). Hangs up `hold` seconds after `digits` digits arrived, or answers the
    node's BYE. Results: node (the 200's Contact host), status, digits, first_digit (time), ended ("us"/"them")."""

    def __init__(self, host, port, key, digits, hold=0.3, deadline=30):
        super().__init__(daemon=True)
        self.target = (host, port)
        self.key, self.want, self.hold, self.deadline = key, digits, hold, deadline
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((PROXY_HOST, 0))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((PROXY_HOST, 0))
        self.call_id = f"cluster-{uuid.uuid4().hex}"
        self.tag = uuid.uuid4().hex[:10]
        self.node = self.status = self.ended = self.first_digit = self.answered = None
        self.digits = ""
        self.error = None
        self.done = threading.Event()

    def _message(self, method, uri, cseq, route=(), to=None, body="", branch=None):
        port = self.sip.getsockname()[1]
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {PROXY_HOST}:{port};branch={branch or 'z9hG4bK' + uuid.uuid4().hex[:16]};rport",
                 "Max-Forwards: 70", *[f"Route: {r}" for r in route],
                 f"From: <sip:cluster@{PROXY_HOST}>;tag={self.tag}", f"To: {to or f'<sip:{NUMBER}@{self.target[0]}>'}",
                 f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}", f"Contact: <sip:cluster@{PROXY_HOST}:{port}>"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    @staticmethod
    def _parse(data):
        head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        return lines[0], headers, body

    def _answer(self, headers):
        """200 OK to a request from the node (BYE), copying Via, From, To, Call-ID, CSeq (§8.2.6.2)."""
        keep = [f"{n.title()}: {v}" for n, v in headers if n in ("via", "from", "to", "call-id", "cseq")]
        return ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode()

    def run(self):
        try:
            self._run()
        except Exception as error:   # a failed call is a result, reported by the test
            self.error = str(error)
        finally:
            self.done.set()
            self.sip.close()
            self.rtp.close()

    def _run(self):
        end = time.time() + self.deadline
        rtp_port = self.rtp.getsockname()[1]
        sdp = (f"v=0\r\no=cluster 1 1 IN IP4 {PROXY_HOST}\r\ns=-\r\nc=IN IP4 {PROXY_HOST}\r\nt=0 0\r\n"
               f"m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
               "a=fmtp:101 0-15\r\na=sendrecv\r\n")
        uri = f"sip:{NUMBER}@{self.target[0]}:{self.target[1]}"
        branch = "z9hG4bK" + uuid.uuid4().hex[:16]
        invite = self._message("INVITE", uri, 1, body=sdp, branch=branch)
        self.sip.sendto(invite, self.target)
        resend, interval = time.time() + 0.5, 0.5
        provisional = False
        while True:
            self.sip.settimeout(max(0.01, min(resend, end) - time.time()))
            try:
                data = self.sip.recv(65536)
            except socket.timeout:
                if time.time() >= end:
                    raise RuntimeError("no answer to the INVITE")
                if not provisional:   # §17.1.1.2: retransmitted until a provisional answer
                    self.sip.sendto(invite, self.target)
                interval = min(interval * 2, 4)
                resend = time.time() + interval
                continue
            first, headers, body = self._parse(data)
            if not first.startswith("SIP/2.0 "):
                continue
            code = int(first.split()[1])
            if code < 200:
                provisional = True
                resend = end
                continue
            self.status = code
            break
        value = lambda name: next((v for n, v in headers if n == name), "")
        if self.status != 200:
            to = value("to")
            # §17.1.1.3: the ACK of a failure is the INVITE transaction's (same branch), to the same hop.
            self.sip.sendto(self._message("ACK", uri, 1, to=to, branch=branch), self.target)
            return
        self.answered = time.time()
        contact = re.search(r"<?(sip:[^>;]+)", value("contact")).group(1)
        self.node = re.search(r"@?([0-9.]+)(:\d+)?$", contact.split(";")[0]).group(1)
        records = [r.strip() for n, v in headers if n == "record-route" for r in v.split(",")]
        route = list(reversed(records))
        if route:
            m = re.search(r"sip:([0-9.]+):?(\d+)?", route[0])
            hop = (m.group(1), int(m.group(2) or 5060))
        else:
            m = re.search(r"sip:(?:[^@]+@)?([0-9.]+):?(\d+)?", contact)
            hop = (m.group(1), int(m.group(2) or 5060))
        to = value("to")
        media = (re.search(r"c=IN IP4 ([0-9.]+)", body).group(1), int(re.search(r"m=audio (\d+)", body).group(1)))
        events = re.search(r"a=rtpmap:(\d+) telephone-event", body)
        pt = int(events.group(1)) if events else 101
        ack = self._message("ACK", contact, 1, route=route, to=to)
        self.sip.sendto(ack, hop)
        # The key: RFC 4733 §2.5 — one event, its timestamp fixed, the duration growing every 20 ms, three end
        # packets; PCMU silence before it (the node's media learns nothing from it; its SDP address is ours).
        ssrc, seq, ts = random.getrandbits(32), random.getrandbits(15), random.getrandbits(31)
        packets = []
        for i in range(5):
            packets.append((0, False, bytes([0xFF]) * 160))
        for i, duration in enumerate((160, 320, 480, 640, 640, 640)):
            end_bit = 0x80 if i >= 3 else 0
            packets.append((pt, i == 0, bytes([EVENTS.index(self.key), end_bit | 10, duration >> 8, duration & 0xFF])))
        send_at = time.time()
        last_ts, hangup_at = None, None
        while True:
            now = time.time()
            if packets and now >= send_at:
                kind, marker, payload = packets.pop(0)
                if kind == 0:
                    ts = (ts + 160) & 0xFFFFFFFF
                    event_ts = (ts + 160) & 0xFFFFFFFF
                header = bytes([0x80, (0x80 if marker else 0) | kind, seq >> 8 & 0xFF, seq & 0xFF]) + \
                    (event_ts if kind else ts).to_bytes(4, "big") + ssrc.to_bytes(4, "big")
                self.rtp.sendto(header + payload, media)
                seq = (seq + 1) & 0xFFFF
                send_at = now + 0.02
            if hangup_at is None and len(self.digits) >= self.want:
                hangup_at = now + self.hold
            if hangup_at is not None and now >= hangup_at:
                break
            if now >= end:
                break
            ready = select_ready([self.sip, self.rtp], max(0.001, min(send_at if packets else end,
                                                                        hangup_at or end, end) - now))
            if self.rtp in ready:
                data = self.rtp.recv(2048)
                if len(data) >= 16 and data[1] & 0x7F == pt:
                    stamp = data[4:8]
                    if stamp != last_ts and data[12] < len(EVENTS):
                        last_ts = stamp
                        self.digits += EVENTS[data[12]]
                        if self.first_digit is None:
                            self.first_digit = time.time()
            if self.sip in ready:
                data, source = self.sip.recvfrom(65536)
                first, request_headers, _ = self._parse(data)
                if first.startswith("BYE "):
                    self.sip.sendto(self._answer(request_headers), source)
                    self.ended = "them"
                    return
                if first.startswith("SIP/2.0 200"):   # the 200 again: our ACK was lost (§13.2.2.4)
                    self.sip.sendto(ack, hop)
        bye = self._message("BYE", contact, 2, route=route, to=to)
        self.sip.sendto(bye, hop)
        resend, interval = time.time() + 0.5, 0.5
        final = time.time() + 10
        while time.time() < final:
            self.sip.settimeout(max(0.01, resend - time.time()))
            try:
                data, source = self.sip.recvfrom(65536)
            except socket.timeout:
                self.sip.sendto(bye, hop)
                interval = min(interval * 2, 4)
                resend = time.time() + interval
                continue
            first, request_headers, _ = self._parse(data)
            if first.startswith("BYE "):   # crossed: the node hung up too
                self.sip.sendto(self._answer(request_headers), source)
                self.ended = "them"
                return
            if first.startswith("SIP/2.0 ") and "BYE" in next((v for n, v in request_headers if n == "cseq"), ""):
                if int(first.split()[1]) >= 200:
                    self.ended = "us"
                    return
        raise RuntimeError("no answer to the BYE")


def select_ready(sockets, timeout):
    ready, _, _ = select.select(sockets, [], [], timeout)
    return ready


def place_calls(count, host, port, key, digits, hold=0.3, deadline=30):
    calls = [Call(host, port, key, digits, hold, deadline) for _ in range(count)]
    for call in calls:
        call.start()
    return calls


class Provider:
    """A fake SMS provider (VoIP.ms's REST answer): counts the requests, answers success with a new id, or holds
    a request unanswered while `hold` is set (the node's request then waits; its node can be killed meanwhile)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []   # (time, form, id or None)
        self.hold = threading.Event()
        self.release = threading.Event()
        self.arrived = threading.Condition(self.lock)
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = min(int(self.headers.get("Content-Length") or 0), 65536)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
                held = provider.hold.is_set()
                with provider.lock:
                    ident = None if held else 1000 + len(provider.requests)
                    provider.requests.append((time.time(), form, ident))
                    provider.arrived.notify_all()
                if held:
                    provider.release.wait(120)
                    return
                answer = json.dumps({"status": "success", "sms": ident}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((PROXY_HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{PROXY_HOST}:{self.server.server_address[1]}/api/v1/rest.php"

    def wait_count(self, count, timeout):
        with self.lock:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def count(self):
        with self.lock:
            return len(self.requests)

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def check(condition, what, failures):
    print(("  ok    " if condition else "  FAIL  ") + what, flush=True)
    if not condition:
        failures.append(what)


def ledger(cluster, host, account):
    """The account's SMS ledger (GET .../sms, newest first), through the API of the node on `host`."""
    status, _, answer = cluster.api(host, "GET", f"/api/v1/accounts/{account}/sms?limit=200")
    return answer["texts"] if status == 200 else None


def texts(cluster, provider, account, postgres, failures, figures):
    a, b = NODE_HOSTS
    print("(d) texts across nodes: 40 simultaneous calls, daily limit 5; a node killed between reservation and send",
          flush=True)
    calls = place_calls(40, PROXY_HOST, cluster.proxy_port, "1", 1, hold=2.0)
    for call in calls:
        call.join(60)
    on = {h: sum(1 for c in calls if c.node == h) for h in NODE_HOSTS}
    broken = [c.error or f"status {c.status}, digits {c.digits!r}" for c in calls if c.status != 200 or c.digits != "5"]
    check(not broken and on[a] > 0 and on[b] > 0, f"40 calls answered and ran the sequence ({on[a]} on {a}, {on[b]} on {b})"
          + (f": {broken[:3]}" if broken else ""), failures)
    # Every call's text has its outcome in the ledger (none left reserved).
    deadline, rows = time.time() + 30, []
    while time.time() < deadline:
        rows = ledger(cluster, a, account) or []
        if len(rows) >= 40 and all(r["state"] != "reserved" for r in rows):
            break
        time.sleep(0.2)
    ours = {c.call_id for c in calls}
    keys = [(r["callID"], r["step"]) for r in rows]
    sent = [r for r in rows if r["state"] == "sent"]
    given = {str(ident) for _, _, ident in provider.requests if ident is not None}
    figures["texts"] = f"{provider.count()}/40"
    check(provider.count() == 5, f"exactly 5 requests reached the provider: {provider.count()}", failures)
    check(len(keys) == 40 and len(set(keys)) == 40 and {k[0] for k in keys} == ours,
          f"one ledger row per (call, step): {len(set(keys))} distinct of {len(keys)} rows", failures)
    check(len(sent) == 5 and {r["providerID"] for r in sent} == given
          and sum(1 for r in rows if r["state"] == "failed") == 35,
          f"ledger: {len(sent)} sent (the provider's ids), {sum(1 for r in rows if r['state'] == 'failed')} failed "
          "at the daily limit", failures)

    # Each node's /metrics counts the texts it attempted (callseq_sms_total by outcome).
    deadline, counted = time.time() + 10, {}
    while time.time() < deadline:
        values = [cluster.metrics(h) for h in NODE_HOSTS]
        counted = {o: sum(int(v.get(f'callseq_sms_total{{outcome="{o}"}}', 0)) for v in values) for o in ("sent", "failed")}
        if counted == {"sent": 5, "failed": 35}:
            break
        time.sleep(0.2)
    check(counted == {"sent": 5, "failed": 35}, f"/metrics agrees: {counted}", failures)

    # One more text allowed today; the node whose call reaches the provider is killed while the provider holds
    # the request (reserved, maybe sent: its outcome is unknown).
    base = f"/api/v1/accounts/{account}"
    _, headers, _ = cluster.api(a, "GET", base)
    changed = time.time()
    cluster.must(a, "PATCH", base, {"capabilities": {"sequences": True, "sms": True, "smsDailyLimit": 6}},
                 etag=headers["ETag"])
    for host in NODE_HOSTS:
        if not cluster.nodes[host]["process"].wait_line(r"store changed \(version", 10, after=changed):
            failures.append(f"the limit's change did not reach {host}")
    provider.hold.set()
    call = Call(PROXY_HOST, cluster.proxy_port, "1", 1, hold=30, deadline=40)
    call.start()
    held = provider.wait_count(6, 30)
    victim = call.node
    check(held and victim in NODE_HOSTS, f"the provider holds the text of a call on {victim}", failures)
    if not (held and victim in NODE_HOSTS):
        return
    # The reservation is committed before the send: no callseq session sits in a transaction meanwhile.
    idle = postgres.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'callseq%' "
                         "AND state LIKE 'idle in transaction%'")
    check(idle == [["0"]], f"no transaction open during the send (idle in transaction: {idle[0][0]})", failures)
    process = cluster.nodes[victim]["process"]
    killed = time.time()
    os.kill(process.popen.pid, signal.SIGKILL)
    process.popen.wait()
    survivor = b if victim == a else a
    deadline, row = time.time() + 40, None
    while time.time() < deadline:
        row = next((r for r in ledger(cluster, survivor, account) or [] if r["callID"] == call.call_id), None)
        if row and row["state"] == "unknown":
            break
        time.sleep(0.25)
    marked = time.time() - killed
    check(row is not None and row["state"] == "unknown",
          f"its ledger row is unknown {marked:.1f} s after the kill (state {row and row['state']})", failures)
    figures["unknown"] = f"{marked:.1f} s after the kill"
    call.join(30)
    # The survivor expires rows every ~2 s: a second request for it would come within two more rounds.
    again = provider.wait_count(7, 5)
    check(not again and provider.count() == 6, f"no second text for it: {provider.count() - 5} request in all",
          failures)
    provider.hold.clear()
    provider.release.set()
    started = cluster.start_node(victim)
    if not cluster.kamailio.wait_line(rf"node {re.escape(cluster.uri(victim))} is up", 15, after=started - 0.5):
        raise RuntimeError(f"{victim} not back in rotation after its restart")


def put_digits(cluster, host, account, sequence, digits):
    """PUT the Digits sequence with `digits` on `host`: the time its 200 arrived (retried on 5xx: the store may be
    restarting)."""
    path = f"/api/v1/accounts/{account}/sequences/{sequence['id']}"
    body = {"name": "Digits", "steps": [{"type": "dtmf", "digits": digits, "toneMs": 60, "gapMs": 60}]}
    for attempt in range(20):
        status, headers, answer = cluster.api(host, "PUT", path, body, etag=sequence["etag"])
        if status == 200:
            sequence["etag"] = headers["ETag"]
            return time.time(), attempt
        if status < 500:
            raise RuntimeError(f"PUT {path}: HTTP {status}: {answer}")
        time.sleep(0.5)
    raise RuntimeError(f"PUT {path}: HTTP {status} 20 times")


def direct_call(cluster, host, key, digits, deadline=20):
    call = Call(host, cluster.nodes[host]["port"], key, digits, hold=0.1, deadline=deadline)
    call.start()
    call.join(deadline + 15)
    return call


def changes(cluster, postgres, account, sequences, failures, figures):
    a, b = NODE_HOSTS
    print("(e) a sequence changed through the API on one node, played by the other's next call", flush=True)
    sequence = sequences["Digits"]
    latencies, wrong = [], []
    rng = random.Random(23)
    for round in range(20):
        writer, player = (a, b) if round % 2 == 0 else (b, a)
        digits = "".join(rng.choice("0123456789") for _ in range(4))
        before = time.time()
        saved, _ = put_digits(cluster, writer, account, sequence, digits)
        # The player's feed took the change (its log line: the account dropped, the next call reads it again).
        seen = cluster.nodes[player]["process"].wait_line(r"store changed \(version", 5, after=before)
        if not seen:
            wrong.append(f"round {round}: no change on {player}")
            continue
        latencies.append(max(0.0, seen[0] - saved))
        call = direct_call(cluster, player, "2", 4)
        if call.digits != digits:
            wrong.append(f"round {round}: {player} played {call.digits!r}, saved {digits!r} ({call.error or call.status})")
    latencies.sort()
    if latencies:
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        figures["change latency"] = f"p50 {1000 * p50:.0f} ms, p99 {1000 * p99:.0f} ms"
        check(len(latencies) == 20 and p99 <= 1.0,
              f"20 changes reached the other node within 1 s: p50 {1000 * p50:.0f} ms, p99 {1000 * p99:.0f} ms",
              failures)
    check(not wrong, f"each next call on the other node played the new digits" + (f": {wrong[:3]}" if wrong else ""),
          failures)

    print("(e) PostgreSQL restarted (fast) while calls are in progress", flush=True)
    calls = place_calls(10, PROXY_HOST, cluster.proxy_port, "3", 10, hold=0.1, deadline=40)
    deadline = time.time() + 20
    while time.time() < deadline and not all(c.first_digit or c.done.is_set() for c in calls):
        time.sleep(0.05)
    restarted = time.time()
    postgres.pg_ctl("restart", "-m", "fast", "-l", os.path.join(postgres.data, "server.log"))
    back = time.time()
    for call in calls:
        call.join(60)
    broken = [c.error or f"status {c.status}, digits {c.digits!r}" for c in calls
              if c.status != 200 or c.digits != "1234567890" or c.ended is None]
    check(not broken, f"10 calls in progress through the restart ({back - restarted:.1f} s) played all 10 digits "
          "and hung up normally" + (f": {broken[:3]}" if broken else ""), failures)
    for host in NODE_HOSTS:
        found = cluster.nodes[host]["process"].wait_line(r"store feed: listening", 30, after=restarted)
        check(found is not None, f"{host}'s change feed reconnected"
              + (f" {found[0] - restarted:.1f} s after the restart began" if found else ""), failures)
    digits = "9081"
    before = time.time()
    saved, attempts = put_digits(cluster, a, account, sequence, digits)
    for host in NODE_HOSTS:
        seen = cluster.nodes[host]["process"].wait_line(r"store changed \(version", 5, after=before)
        call = direct_call(cluster, host, "2", 4)
        check(seen is not None and call.digits == digits,
              f"after the restart, a change reaches {host} ({(seen[0] - saved) * 1000 if seen else float('nan'):.0f} ms; "
              f"the PUT answered after {attempts + 1} attempts) and its next call plays {call.digits!r}", failures)


def test(callseq):
    failures = []
    figures = {}
    folder = tempfile.mkdtemp(prefix="callseq-cluster-")
    provider = Provider()
    postgres = None
    cluster = None
    try:
        postgres = Postgres(folder)
        cluster = Cluster(callseq, folder, postgres.url, provider=provider.url)
        for host in NODE_HOSTS:
            cluster.start_node(host)
        account, sequences = cluster.provision()
        cluster.start_kamailio()
        a, b = NODE_HOSTS

        print("(a) 200 calls through Kamailio, round-robin over two nodes", flush=True)
        cpu = cluster.kamailio_cpu()
        popen, out = sipp(cluster, "split", calls=200, rate=50, hold_ms=1000)
        code, err = finish(popen)
        cpu = cluster.kamailio_cpu() - cpu
        events = sipp_events(out)
        answered = [e for e in events if e[0] == "ANSWERED"]
        split = {h: sum(1 for e in answered if e[2] == h) for h in NODE_HOSTS}
        figures["split"] = f"{split[a]}/{split[b]}"
        # Kamailio's cost per call (INVITE, ACK, BYE and their answers through it, with the probes meanwhile).
        figures["kamailio CPU per call"] = f"{1000 * cpu / 200:.2f} ms"
        print(f"  split: {split[a]} on {a}, {split[b]} on {b}; SIPp exit {code}", flush=True)
        check(code == 0, "every call succeeded (SIPp exit 0)" + ("" if code == 0 else f": {err[-500:]}"), failures)
        check(all(98 <= split[h] <= 102 for h in NODE_HOSTS), "split 100/100 within ±2", failures)
        seen = {h: cluster.metrics(h).get('callseq_calls_total{outcome="caller_hung_up"}', 0) for h in NODE_HOSTS}
        check(seen[a] == split[a] and seen[b] == split[b], f"/metrics agrees: {seen[a]:.0f}/{seen[b]:.0f}", failures)

        print(f"(b) kill -9 of {a} under load", flush=True)
        popen, out = sipp(cluster, "kill", calls=100, rate=10, hold_ms=15000)
        node_a = cluster.nodes[a]["process"]
        if not node_a.wait_line(r"media started", 30):
            failures.append("no call reached node a")
        time.sleep(4)
        killed = time.time()
        os.kill(node_a.popen.pid, signal.SIGKILL)
        node_a.popen.wait()
        down = cluster.kamailio.wait_line(rf"node {re.escape(cluster.uri(a))} is down \(", 15, after=killed - 0.5)
        code, err = finish(popen)
        events = sipp_events(out)
        detection = (down[0] - killed) if down else None
        # The calls that were up on a at the kill: answered before, not hung up before.
        ended = {e[1]: e for e in events if e[0] in ("BYE-RECEIVED", "HUNG-UP")}
        stranded = [e for e in events if e[0] == "ANSWERED" and e[2] == a and e[3] < killed
                    and not (e[1] in ended and ended[e[1]][3] < killed)]
        delays = sorted(ended[e[1]][3] - killed for e in stranded if e[1] in ended and ended[e[1]][0] == "BYE-RECEIVED")
        after_kill = [e for e in events if e[0] == "ANSWERED" and e[3] > killed]
        check(code == 0, f"0 failed calls (SIPp exit {code})" + ("" if code == 0 else f": {err[-500:]}"), failures)
        check(detection is not None and detection <= 4.0,
              f"{a} marked down {detection:.2f} s after the kill (≤ 4 s)" if detection is not None else "never marked down",
              failures)
        check(len(stranded) > 0 and len(delays) == len(stranded),
              f"every call on {a} got a BYE: {len(delays)} of {len(stranded)}", failures)
        in_dialog = sum(1 for e in stranded if e[1] in ended and ended[e[1]][0] == "BYE-RECEIVED" and ended[e[1]][4])
        check(in_dialog == len(delays), f"each BYE in the call's dialog (tags): {in_dialog} of {len(delays)}", failures)
        if delays:
            figures["bye"] = f"{delays[0]:.2f}–{delays[-1]:.2f} s"
            check(delays[-1] <= 5.0, f"BYE {delays[0]:.2f} … {delays[-1]:.2f} s after the kill (≤ 5 s)", failures)
        check(all(e[2] == b for e in after_kill), f"the {len(after_kill)} calls answered after the kill were on {b}",
              failures)
        if detection is not None:
            figures["detection"] = f"{detection:.2f} s"
        started = cluster.start_node(a)
        up = cluster.kamailio.wait_line(rf"node {re.escape(cluster.uri(a))} is up", 15, after=started - 0.5)
        back = (up[0] - started) if up else None
        check(back is not None and back <= 2.0,
              f"restarted, back in rotation {back:.2f} s after it listened (≤ 2 s)" if back is not None else "never back up",
              failures)
        if back is not None:
            figures["back"] = f"{back:.2f} s"

        print(f"(c) SIGTERM of {b} under load", flush=True)
        popen, out = sipp(cluster, "drain", calls=60, rate=10, hold_ms=6000)
        node_b = cluster.nodes[b]["process"]
        time.sleep(3)
        termed = time.time()
        os.kill(node_b.popen.pid, signal.SIGTERM)
        try:
            status = node_b.popen.wait(cluster.drain_timeout + 30)
        except subprocess.TimeoutExpired:
            status = None
        exited = time.time()
        code, err = finish(popen)
        events = sipp_events(out)
        late = [e for e in events if e[0] == "ANSWERED" and e[2] == b and e[3] > termed + 2]
        on_b = {e[1] for e in events if e[0] == "ANSWERED" and e[2] == b}
        hung_up = {e[1] for e in events if e[0] == "HUNG-UP"}
        check(code == 0, f"0 failed calls (SIPp exit {code})" + ("" if code == 0 else f": {err[-500:]}"), failures)
        check(not late, f"no new call reached {b} later than 2 s after SIGTERM ({len(late)})", failures)
        check(on_b and on_b <= hung_up, f"its {len(on_b)} calls finished normally (the caller hung up)", failures)
        check(status == 0, f"{b} exited {status} after {exited - termed:.2f} s of draining", failures)
        figures["drain"] = f"{exited - termed:.2f} s"

        restarted = cluster.start_node(b)
        if not cluster.kamailio.wait_line(rf"node {re.escape(cluster.uri(b))} is up", 15, after=restarted - 0.5):
            raise RuntimeError(f"{b} not back in rotation after its restart")

        texts(cluster, provider, account, postgres, failures, figures)
        changes(cluster, postgres, account, sequences, failures, figures)

        # Kamailio survived it all: its main process logs a child that died by a signal (a crash), and a core
        # file would land in its working folder (-w kamailio-run).
        with cluster.kamailio.lock:
            crashed = [text for _, text in cluster.kamailio.lines if "exited by a signal" in text]
        run = os.path.join(folder, "kamailio-run")
        cores = [name for name in os.listdir(run) if name.startswith("core")]
        check(cluster.kamailio.popen.poll() is None and not crashed and not cores,
              "Kamailio ran throughout: no child crashed, no core file" + (f": {crashed[:1]} {cores}" if crashed or cores else ""),
              failures)
    except Exception as error:   # a step that could not run is a failure, with the logs' ends
        failures.append(str(error))
        print(f"  FAIL  {error}", flush=True)
    finally:
        if cluster:
            cluster.stop()
        provider.stop()
        if postgres:
            postgres.stop()
    print("figures: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    if failures:
        print(f"cluster-test: {len(failures)} failures; logs in {folder}", flush=True)
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    print("cluster-test: passed", flush=True)
    return 0


def run(callseq):
    folder = tempfile.mkdtemp(prefix="callseq-cluster-")
    postgres = None
    cluster = None
    try:
        postgres = Postgres(folder)
        cluster = Cluster(callseq, folder, postgres.url)
        for host in NODE_HOSTS:
            cluster.start_node(host)
        account, _ = cluster.provision()
        cluster.start_kamailio()
        a = NODE_HOSTS[0]
        print(f"""
Kamailio   sip:{NUMBER}@{PROXY_HOST}:{cluster.proxy_port}   (call it: sipp -sf {SCENARIO} -s {NUMBER} {PROXY_HOST}:{cluster.proxy_port} -i {PROXY_HOST} -m 10)
nodes      {', '.join(cluster.uri(h) for h in NODE_HOSTS)}, texts in dry run (logged, not sent)
store      {postgres.url}
API        {', '.join(f"http://{h}:{cluster.nodes[h]['http']}/" for h in NODE_HOSTS)} (the editor; operator key {cluster.key})
account    {account}: {NUMBER} → IVR "Menu": 1 Texts, 2 Digits, 3 Long
           curl -H 'Authorization: Bearer {cluster.key}' http://{a}:{cluster.nodes[a]['http']}/api/v1/accounts/{account}/sequences
metrics    {', '.join(f"http://{h}:{cluster.nodes[h]['metrics']}/metrics" for h in NODE_HOSTS)}
logs       {folder}
Ctrl-C stops all.""", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    finally:
        if cluster:
            cluster.stop()
        if postgres:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


class Postgres:
    """A throw-away PostgreSQL (Debian's postgresql): initdb in `folder`/pg, listening on a unix socket there
    only (no TCP), on a free port number; as root, run as the `postgres` user (it refuses root)."""

    def __init__(self, folder):
        versions = sorted((v for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), key=int, reverse=True) \
            if os.path.isdir("/usr/lib/postgresql") else []
        if not versions:
            raise RuntimeError("PostgreSQL not found: install Debian's postgresql (Scripts/debian-packages.txt)")
        self.bin = f"/usr/lib/postgresql/{versions[0]}/bin"
        self.data = os.path.join(folder, "pg")
        os.makedirs(self.data)
        self.prefix = []
        if os.getuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
            shutil.chown(self.data, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.port = free_port("127.0.0.1", socket.SOCK_STREAM)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self.pg_ctl("start", "-l", os.path.join(self.data, "server.log"),
                    "-o", f"-k {self.data} -h '' -p {self.port} -c fsync=off -c max_connections=200")
        self.url = f"postgres://postgres@/postgres?host={self.data}&port={self.port}"

    def _run(self, program, *args):
        # Output to a file, not a pipe: the server pg_ctl starts would hold a pipe open.
        with open(os.path.join(os.path.dirname(self.data), "pg_ctl.log"), "a") as log:
            subprocess.run(self.prefix + [f"{self.bin}/{program}", *args], check=True, stdout=log,
                           stderr=subprocess.STDOUT, cwd="/", timeout=180)

    def pg_ctl(self, *args):
        self._run("pg_ctl", "-D", self.data, "-w", "-t", "120", *args)

    def psql(self, sql):
        """The rows of `sql` (psql -At: one line a row, | between columns)."""
        out = subprocess.run(self.prefix + ["psql", "-X", "-At", "-h", self.data, "-p", str(self.port), "-U",
                                            "postgres", "-d", "postgres", "-c", sql],
                             capture_output=True, text=True, cwd="/", timeout=60, check=True)
        return [line.split("|") for line in out.stdout.splitlines() if line]

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self.pg_ctl("stop", "-m", "fast")
            except subprocess.SubprocessError:
                pass


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("run", "test"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    callseq = os.path.abspath(sys.argv[2])
    if sys.argv[1] == "run":
        def interrupt(*_):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, interrupt)
        sys.exit(run(callseq))
    sys.exit(test(callseq))
