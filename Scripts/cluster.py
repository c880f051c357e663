#!/usr/bin/env python3
"""A CallSequence cluster on this machine: Kamailio (Deploy/kamailio) in front of two `callseq serve` nodes on
127.0.0.2 and 127.0.0.3 (loopback aliases: no setup on Linux), every port free at run time, every file in a
temporary folder.

  Scripts/cluster.py run  CALLSEQ   `make cluster`: also a throw-away PostgreSQL; in the foreground, Ctrl-C stops all
  Scripts/cluster.py test CALLSEQ   `make cluster-test`: (a) the split of 200 calls, (b) kill -9 of a node under
                                    load, (c) SIGTERM of a node under load; prints the figures, exits 1 on a failure

The nodes answer the accounts of --account files (Examples/account.json); with the store-backed calling of
`serve --store`, they would share the PostgreSQL store instead.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = os.path.join(ROOT, "Deploy", "kamailio", "kamailio.cfg")
SCENARIO = os.path.join(ROOT, "Deploy", "kamailio", "sipp-call.xml")
ACCOUNT = os.path.join(ROOT, "Examples", "account.json")
NUMBER = "5145550100"
PROXY_HOST = "127.0.0.1"
NODE_HOSTS = ["127.0.0.2", "127.0.0.3"]


def free_port(host, kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Process:
    """A child whose output lines are kept with the time each arrived (time.time())."""

    def __init__(self, name, argv, folder):
        self.name = name
        self.argv = argv
        self.lines = []   # (time, text)
        self.lock = threading.Lock()
        self.log = open(os.path.join(folder, name + ".log"), "a")
        self.popen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      text=True, errors="replace", start_new_session=True)
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
    def __init__(self, callseq, folder, drain_timeout=30):
        self.callseq = callseq
        self.folder = folder
        self.drain_timeout = drain_timeout
        self.proxy_port = free_port(PROXY_HOST)
        self.nodes = {}   # host -> dict(port, metrics, rtp, process)
        base = 30000 + 1000 * (os.getpid() % 25)
        for i, host in enumerate(NODE_HOSTS):
            self.nodes[host] = {"port": free_port(host), "metrics": free_port(host, socket.SOCK_STREAM),
                                "rtp": (base + 500 * i, base + 500 * i + 499), "process": None}
        self.kamailio = None

    def uri(self, host):
        return f"sip:{host}:{self.nodes[host]['port']}"

    def start_node(self, host):
        node = self.nodes[host]
        argv = [self.callseq, "serve", "--account", ACCOUNT, "--listen", f"{host}:{node['port']}",
                "--metrics", f"{host}:{node['metrics']}", "--rtp-ports", "%d-%d" % node["rtp"],
                "--trusted-proxy", PROXY_HOST, "--drain-timeout", str(self.drain_timeout), "--rtp-timeout", "120"]
        process = Process("node-" + host, argv, self.folder)
        node["process"] = process
        found = process.wait_line(r"^listening on udp ", 120)
        if not found:
            raise RuntimeError(f"node {host} did not start:\n{process.tail()}")
        return found[0]

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


def check(condition, what, failures):
    print(("  ok    " if condition else "  FAIL  ") + what, flush=True)
    if not condition:
        failures.append(what)


def test(callseq):
    failures = []
    figures = {}
    folder = tempfile.mkdtemp(prefix="callseq-cluster-")
    cluster = Cluster(callseq, folder)
    try:
        for host in NODE_HOSTS:
            cluster.start_node(host)
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
        cluster.stop()
    print("figures: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    if failures:
        print(f"cluster-test: {len(failures)} failures; logs in {folder}", flush=True)
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    print("cluster-test: passed", flush=True)
    return 0


def run(callseq):
    folder = tempfile.mkdtemp(prefix="callseq-cluster-")
    cluster = Cluster(callseq, folder)
    postgres = None
    try:
        postgres = start_postgres(folder)
        for host in NODE_HOSTS:
            cluster.start_node(host)
        cluster.start_kamailio()
        print(f"""
Kamailio   sip:{NUMBER}@{PROXY_HOST}:{cluster.proxy_port}   (call it: sipp -sf {SCENARIO} -s {NUMBER} {PROXY_HOST}:{cluster.proxy_port} -i {PROXY_HOST} -m 10)
nodes      {', '.join(cluster.uri(h) for h in NODE_HOSTS)} ({ACCOUNT})
metrics    {', '.join(f"http://{h}:{cluster.nodes[h]['metrics']}/metrics" for h in NODE_HOSTS)}
PostgreSQL {postgres[1] if postgres else '(not started)'}
logs       {folder}
Ctrl-C stops all.""", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    finally:
        cluster.stop()
        if postgres:
            subprocess.run(postgres[0] + ["stop", "-m", "fast"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def start_postgres(folder):
    """A throw-away PostgreSQL (Debian's postgresql) on a unix socket in `folder`: (pg_ctl argv, URL) or None."""
    versions = sorted((v for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), key=int, reverse=True) \
        if os.path.isdir("/usr/lib/postgresql") else []
    if not versions:
        print("PostgreSQL not found (Debian's postgresql): not started", flush=True)
        return None
    bin_dir = f"/usr/lib/postgresql/{versions[0]}/bin"
    data = os.path.join(folder, "pg")
    os.makedirs(data)
    prefix = []
    if os.getuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port("127.0.0.1", socket.SOCK_STREAM)
    subprocess.run(prefix + [f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL, cwd="/")
    pg_ctl = prefix + [f"{bin_dir}/pg_ctl", "-D", data]
    subprocess.run(pg_ctl + ["-l", os.path.join(data, "server.log"), "-w", "-o", f"-k {data} -h '' -p {port}", "start"],
                   check=True, stdout=subprocess.DEVNULL, cwd="/")
    return pg_ctl, f"postgres://postgres@/postgres?host={data}&port={port}"


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
