#!/usr/bin/env python3
"""The management API against its own contract, with two tenants (run by `make test`).

Starts `callseq serve --store <temporary SQLite> --http 127.0.0.1:0` on free ports, makes two accounts (alice
and bob) with a key each through the API, gives each a recording, a sequence, an IVR and a number, then:

1. tenancy, by hand: every resource of alice's, read, changed and deleted with bob's key (by alice's account
   id and through `me`), is 404 and stays unchanged; alice's own key reads each one (200);
2. schemathesis (PyPI) against the served /openapi.yaml for a bounded time, as alice with bob as her peer:
   no 5xx, no status, header, content type or body outside the document, requests that break the document
   refused, missing required headers refused, undeclared methods 405, no key ignored, no object of one
   tenant readable by the other (object_level_authorization). Not run: positive_data_acceptance, since a
   body can fit the schema and still break a rule the schema cannot state (an IVR option naming a
   sequence that does not exist is 422, by design).

Exit status 0 when every check passes; the schemathesis report is kept in the temporary folder on failure.
Usage: check-api-schema.py CALLSEQ [--max-time SECONDS]
"""

import argparse
import io
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import wave


def die(message):
    print(f"check-api-schema: {message}", file=sys.stderr)
    sys.exit(1)


class API:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, key=None, body=None, content_type="application/json", headers=None):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method, path, key, body=None, expect=(200, 201), headers=None):
        status, answer_headers, data = self.call(method, path, key, body, headers=headers)
        if status not in expect:
            die(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else {}, answer_headers


def a_wav(seconds=0.5, rate=8000):
    """A 440 Hz tone as WAV bytes, so the check needs no audio tool."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(n)))
    return buffer.getvalue()


def start_server(callseq, folder):
    store = os.path.join(folder, "store.sqlite")
    operator = subprocess.run([callseq, "keys", "create", "--store", store, "--operator"], check=True,
                              capture_output=True, text=True, timeout=120).stdout.strip()
    log = open(os.path.join(folder, "serve.log"), "w")
    # A high request rate: the fuzzer's requests must reach the routes, not the per-key limiter (its 429
    # has its own tests).
    server = subprocess.Popen([callseq, "serve", "--store", store, "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0",
                               "--rtp-ports", "40000-40099", "--api-rate", "100000"],
                              stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    line = [None]

    def first_line():
        line[0] = server.stdout.readline()

    reader = threading.Thread(target=first_line, daemon=True)
    reader.start()
    reader.join(120)
    if not line[0] or not line[0].startswith("listening on http "):
        server.kill()
        die(f"the server did not start: {line[0]!r} (log: {folder}/serve.log)")
    address = line[0].split()[-1]
    # Drain stdout so the server never blocks on a full pipe.
    threading.Thread(target=lambda: server.stdout.read(), daemon=True).start()
    return server, f"http://{address}", operator


def make_tenant(api, operator, name, number):
    account, _ = api.json("POST", "/api/v1/accounts", operator, {"name": name})
    key, _ = api.json("POST", f"/api/v1/accounts/{account['id']}/keys", operator)
    me = f"/api/v1/accounts/{account['id']}"
    status, _, data = api.call("PUT", f"{me}/recordings/welcome", key["key"], a_wav(), content_type="audio/wav")
    if status != 201:
        die(f"upload for {name}: {status} {data[:300]!r}")
    # A create answers the body as saved; the new id is the last segment of its Location.
    _, sequence = api.json("POST", f"{me}/sequences", key["key"], {
        "name": "Front door",
        "steps": [{"type": "recording", "recording": "welcome"}, {"type": "dtmf", "digits": "1234#"}]})
    _, ivr = api.json("POST", f"{me}/ivrs", key["key"], {
        "name": "Lobby", "prompt": "none", "options": {"1": {"sequence": "Front door"}, "0": {"hangup": True}}})
    api.json("PUT", f"{me}/numbers/{number}", operator, {"sms": False, "route": {"ivr": "Lobby"}})
    return {"id": account["id"], "key": key["key"], "sequence": sequence["Location"].rsplit("/", 1)[-1],
            "ivr": ivr["Location"].rsplit("/", 1)[-1], "number": number}


def check_tenancy(api, alice, bob):
    """Alice's resources through bob's key: 404 every time, nothing changed; through alice's: 200."""
    a = f"/api/v1/accounts/{alice['id']}"
    reads = [a, f"{a}/numbers", f"{a}/recordings", f"{a}/recordings/welcome", f"{a}/recordings/welcome/audio",
             f"{a}/sequences", f"{a}/sequences/{alice['sequence']}", f"{a}/sequences/{alice['sequence']}/revisions",
             f"{a}/sequences/{alice['sequence']}/revisions/1", f"{a}/sequences/{alice['sequence']}/preview.wav",
             f"{a}/sequences/{alice['sequence']}/plot.png", f"{a}/sequences/{alice['sequence']}/timeline",
             f"{a}/ivrs", f"{a}/ivrs/{alice['ivr']}", f"{a}/sms", f"{a}/audit", f"{a}/calls", f"{a}/export"]
    # Alice's ids under bob's own account ("me"): still not found.
    mine = ["/api/v1/accounts/me/sequences/" + alice["sequence"], "/api/v1/accounts/me/ivrs/" + alice["ivr"],
            "/api/v1/accounts/me/numbers/" + alice["number"]]
    checked = 0
    for path in reads:
        status, _, _ = api.call("GET", path, alice["key"])
        if status != 200:
            die(f"alice reading her own {path}: {status}")
        status, _, data = api.call("GET", path, bob["key"])
        if status != 404:
            die(f"bob reading alice's {path}: {status}, not 404: {data[:200]!r}")
        checked += 2
    for path in mine:
        status, _, _ = api.call("GET", path, bob["key"])
        if status not in (404, 405):
            die(f"bob reading alice's id through me: {path}: {status}")
        checked += 1
    writes = [("PUT", f"{a}/sequences/{alice['sequence']}", {"name": "Stolen", "steps": [{"type": "dtmf", "digits": "0"}]}),
              ("DELETE", f"{a}/sequences/{alice['sequence']}", None),
              ("PUT", f"{a}/ivrs/{alice['ivr']}", {"name": "Stolen", "prompt": "none", "options": {}}),
              ("DELETE", f"{a}/ivrs/{alice['ivr']}", None),
              ("DELETE", f"{a}/recordings/welcome", None),
              ("PATCH", a, {"name": "Stolen"}),
              ("POST", f"{a}/keys", None),
              ("POST", f"{a}/sequences", {"name": "Planted", "steps": [{"type": "dtmf", "digits": "0"}]}),
              ("PUT", f"{a}/numbers/{alice['number']}", {"route": {"hangup": True}}),
              ("DELETE", f"/api/v1/accounts/me/sequences/{alice['sequence']}", None)]
    for method, path, body in writes:
        status, _, data = api.call(method, path, bob["key"], body, headers={"If-Match": '"1"'})
        if status != 404:
            die(f"bob's {method} {path}: {status}, not 404: {data[:200]!r}")
        checked += 1
    sequence, _ = api.json("GET", f"{a}/sequences/{alice['sequence']}", alice["key"])
    sequences, _ = api.json("GET", f"{a}/sequences", alice["key"])
    if sequence.get("name") != "Front door" or len(sequences.get("sequences", [])) != 1:
        die(f"alice's sequences changed: {sequence} {sequences}")
    print(f"tenancy: {checked} requests across tenants, every one 404 (and 200 for the owner); nothing changed")


def run_schemathesis(base, alice, bob, folder, max_time):
    auth = {"auth": [
        {"name": "alice", "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {alice['key']}"}]},
        {"name": "bob", "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {bob['key']}"}]}]}
    with open(os.path.join(folder, "auth.json"), "w") as f:
        json.dump(auth, f)
    with open(os.path.join(folder, "schemathesis.toml"), "w") as f:
        f.write('[auth.wfc]\npath = "auth.json"\nuser = "alice"\npeers = ["alice", "bob"]\n')
    # The schemathesis of this python3 (Scripts/test-python.sh picks one that has it).
    command = [sys.executable, "-m", "schemathesis.cli"]
    command += ["run", f"{base}/openapi.yaml", "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--max-time", str(max_time), "--workers", "1", "--request-timeout", "30", "--seed", "20261204",
                "--phases", "examples,coverage,fuzzing,stateful"]
    report = os.path.join(folder, "schemathesis.log")
    with open(report, "w") as out:
        code = subprocess.run(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                              timeout=max_time * 4 + 300).returncode
    text = open(report).read()
    summary = [l for l in text.splitlines() if "generated" in l or " passed" in l or "failures" in l or "❌" in l]
    for line in summary[-8:]:
        print("schemathesis: " + line.strip())
    if code != 0:
        print(text[-6000:], file=sys.stderr)
        die(f"schemathesis found failures (report: {report})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("callseq")
    parser.add_argument("--max-time", type=int, default=int(os.environ.get("API_FUZZ_SECONDS", "150")))
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="callseq-api-check-")
    server, base, operator = start_server(os.path.abspath(args.callseq), folder)
    ok = False
    try:
        api = API(base)
        alice = make_tenant(api, operator, "Alice", "5145550101")
        bob = make_tenant(api, operator, "Bob", "5145550102")
        check_tenancy(api, alice, bob)
        run_schemathesis(base, alice, bob, folder, args.max_time)
        ok = True
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if ok:
            shutil.rmtree(folder, ignore_errors=True)
    print("check-api-schema: passed")


if __name__ == "__main__":
    main()
