#!/usr/bin/env python3
"""The sequence editor in a real browser (Debian's chromium driven by PyPI's playwright; nothing downloaded).

Starts `callseq serve --store <temp sqlite> --http 127.0.0.1:0` on a free port, makes the accounts through the
API with an operator key, then does what a customer does, finding everything by role and accessible name (the
names issue 22 fixes): sign in, upload an MP3, build "Garage" (Recording, DTMF 4321#, SMS; move, delete, a bad
dial string refused at its Digits field, a server 422 at its To field), save, preview, compare and restore a
revision, put Garage on option 2 of an IVR and route a number to it; a recording in use cannot be deleted (409);
a second browser saving a stale copy sees the 412 message; a name with markup shows as text; a reseller's client
is offered no SMS step. Each check prints `ok - ...`; the first failure ends the run with exit status 1.

Usage: editor_test.py CALLSEQ [ARTEFACTS]   (ARTEFACTS: where editor.png and a failure's screenshot go)
Environment: CHROMIUM (default /usr/bin/chromium); UPDATE_DOCS_SCREENSHOT=PATH also writes the editor's screenshot
there (docs/editor.png for the README).

Then the issue's last step: baresip (Debian's baresip-core, driven through its ctrl_tcp module) calls the DID,
which answers with Lobby, presses 2 (Garage) and receives the digits saved last as RFC 4733 events.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import wave

from playwright.sync_api import expect, sync_playwright

TIMEOUT_MS = 20_000
DID = "5145550100"
DID2 = "5145550111"


def ok(what):
    print(f"ok - {what}", flush=True)


class Server:
    """`callseq serve --store S --http 127.0.0.1:0`: its first stdout line names the port."""

    def __init__(self, callseq, folder):
        self.callseq = callseq
        self.store = os.path.join(folder, "store.sqlite")
        self.process = None
        self.base = None

    def start(self):
        self.operator_key = subprocess.run(
            [self.callseq, "keys", "create", "--store", self.store, "--operator"],
            check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        self.process = subprocess.Popen(
            [self.callseq, "serve", "--store", self.store, "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Every stdout line is kept (wait_line finds one); stderr is drained so that the server never blocks.
        self.lines = []
        self.changed = threading.Condition()

        def read():
            for line in self.process.stdout:
                with self.changed:
                    self.lines.append(line.rstrip("\n"))
                    self.changed.notify_all()
            with self.changed:
                self.lines.append(None)  # end of output
                self.changed.notify_all()
        threading.Thread(target=read, daemon=True).start()
        self.errors = []
        threading.Thread(target=lambda: self.errors.extend(self.process.stderr), daemon=True).start()
        match = self.wait_line(r"listening on http (\S+):(\d+)", 60)
        if not match or not self.lines or not self.lines[0].startswith("listening on http"):
            self.stop()
            raise SystemExit(f"callseq serve did not start: stdout {self.lines[:3]}; stderr: {''.join(self.errors)[-2000:]}")
        self.base = f"http://{match.group(1)}:{match.group(2)}"

    def wait_line(self, pattern, seconds):
        """The match of the first stdout line matching `pattern` (waiting up to `seconds`), or None. With the
        SIP side of `serve --store`, `wait_line(r"listening on udp (\S+):(\d+)", 60)` gives its port."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while True:
                for line in self.lines:
                    if line is None:
                        return None
                    match = re.match(pattern, line)
                    if match:
                        return match
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def api(self, method, path, key, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read().decode()
                return answer.status, (json.loads(text) if text else None), dict(answer.headers)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, (json.loads(text) if text else None), dict(error.headers)


def must(answer, *statuses):
    status, body, _ = answer
    if status not in statuses:
        raise SystemExit(f"setup: the API answered {status}: {body}")
    return body


def setup_accounts(server):
    """A direct account with SMS and a number; a reseller with a package and a client."""
    op = server.operator_key
    acme = must(server.api("POST", "/accounts", op, {"name": "Acme", "kind": "direct",
                                                    "capabilities": {"sequences": True, "sms": True}}), 201)
    acme_key = must(server.api("POST", f"/accounts/{acme['id']}/keys", op, {"label": "browser test"}), 201)["key"]
    must(server.api("PUT", f"/accounts/{acme['id']}/numbers/{DID}", op, {"route": {"hangup": True}, "sms": True}), 201)
    must(server.api("PUT", f"/accounts/{acme['id']}/numbers/{DID2}", op, {"route": {"hangup": True}}), 201)
    reseller = must(server.api("POST", "/accounts", op, {"name": "Resell", "kind": "reseller",
                                                        "capabilities": {"sequences": True, "sms": True}}), 201)
    reseller_key = must(server.api("POST", f"/accounts/{reseller['id']}/keys", op, {}), 201)["key"]
    must(server.api("PUT", "/accounts/me/packages/Gold", reseller_key, {"sequences": True}), 200, 201)
    client = must(server.api("POST", "/accounts", reseller_key, {"name": "Client Co", "kind": "client",
                                                                "parent": reseller["id"], "package": "Gold"}), 201)
    client_key = must(server.api("POST", f"/accounts/{client['id']}/keys", reseller_key, {}), 201)["key"]
    return {"acme": acme, "acme_key": acme_key, "reseller_key": reseller_key, "client_key": client_key}


def make_mp3(folder):
    path = os.path.join(folder, "welcome.mp3")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", path, "synth", "1.5", "sine", "440", "vol", "0.5"],
                   check=True, capture_output=True, timeout=60)
    return path


class Browser:
    def __init__(self, playwright, base, artefacts):
        self.browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        self.base = base
        self.artefacts = artefacts
        self.errors = []

    def page(self, key=None, width=1000):
        context = self.browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                and "Failed to load resource" not in m.text else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.errors.append(f"unexpected dialog: {d.message}"), d.dismiss()))
        if key:
            sign_in(page, self.base, key)
        return page

    def close(self):
        self.browser.close()


def sign_in(page, base, key):
    page.goto(base + "/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def step(page, n):
    return page.get_by_role("list", name="Steps").get_by_role("listitem").nth(n)


def step_types(page):
    items = page.get_by_role("list", name="Steps").get_by_role("listitem")
    return [items.nth(i).get_by_label("Type").input_value() for i in range(items.count())]


def headers_and_weight(server):
    with urllib.request.urlopen(server.base + "/", timeout=30) as answer:
        html = answer.read().decode()
        csp = answer.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Type"].startswith("text/html")
    assert "<script type=\"module\" src=\"/app.js\">" in html
    ok("/ is served without a key, with a CSP without 'unsafe-inline', nosniff and frame-ancestors 'none'")


def sequence_body(server, key, name):
    listed = must(server.api("GET", "/accounts/me/sequences", key), 200)["sequences"]
    found = [s for s in listed if s["name"] == name]
    if not found:
        return None, None
    status, body, headers = server.api("GET", f"/accounts/me/sequences/{found[0]['id']}", key)
    return body, found[0]


def main():
    callseq = os.path.abspath(sys.argv[1])
    artefacts = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".build/editor-test")
    os.makedirs(artefacts, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="callseq-editor-")
    server = Server(callseq, folder)
    started = time.monotonic()
    page = None
    try:
        server.start()
        ok(f"callseq serve listens on {server.base}")
        headers_and_weight(server)
        keys = setup_accounts(server)
        mp3 = make_mp3(folder)
        with sync_playwright() as p:
            browser = Browser(p, server.base, artefacts)
            try:
                page = browser.page()
                page.goto(server.base + "/")
                page.get_by_label("API key").fill("csk_not_a_key")
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("alert")).to_have_text("That key was not accepted.")
                sign_in(page, server.base, keys["acme_key"])
                assert page.evaluate("() => document.cookie") == "", "the page set a cookie"
                assert page.evaluate("() => sessionStorage.getItem('callseq.key')") == keys["acme_key"]
                ok("a wrong key is refused; signed in with the account's key (sessionStorage, no cookie)")
                run_customer(server, browser, page, keys, mp3)
                run_stale_copy(server, browser, page, keys)
                run_call(server, keys, folder)
                run_markup_name(server, browser, keys)
                run_client(server, browser, keys)
                run_narrow(server, browser, keys)
                run_operator(server, browser)
                assert not browser.errors, f"console errors: {browser.errors}"
                ok("no console error or CSP violation")
            except BaseException:
                if page is not None:
                    try:
                        page.screenshot(path=os.path.join(artefacts, "failure.png"), full_page=True)
                        print(f"# screenshot of the failure: {os.path.join(artefacts, 'failure.png')}")
                    except Exception:
                        pass
                raise
            finally:
                browser.close()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"# the editor's browser test took {time.monotonic() - started:.1f} s")


def run_customer(server, browser, page, keys, mp3):
    key = keys["acme_key"]
    # Recordings: upload an MP3 through the file input; the progress bar and the list show it.
    page.get_by_role("link", name="Recordings").click()
    page.get_by_label("Upload recording").set_input_files(mp3)
    expect(page.get_by_text(re.compile(r"Uploaded welcome: "))).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "100")
    expect(page.get_by_role("button", name="Play welcome")).to_be_visible()
    recording = must(server.api("GET", "/accounts/me/recordings/welcome", key), 200)
    assert recording["contentType"] == "audio/mpeg", recording
    ok(f"uploaded welcome.mp3 with a progress bar ({recording['durationMs']} ms, {recording['contentType']})")

    # The editor: Garage = Recording welcome, DTMF 4321#, SMS.
    page.get_by_role("link", name="Sequences").click()
    page.get_by_role("button", name="Add sequence").click()
    page.get_by_label("Name").fill("Garage")
    page.get_by_role("button", name="Add step").click()
    step(page, 0).get_by_label("Type").select_option(label="Recording")
    expect(step(page, 0).get_by_label("Recording")).to_be_visible()
    options = step(page, 0).get_by_label("Recording").locator("option").all_text_contents()
    assert options[:2] == ["No recording", "System default"] and "welcome" in options, options
    step(page, 0).get_by_label("Recording").select_option(label="welcome")
    page.get_by_role("button", name="Add step").click()
    step(page, 1).get_by_label("Type").select_option(label="DTMF")
    digits = step(page, 1).get_by_label("Digits")
    digits.fill("4321#")
    expect(digits).to_have_accessible_description(re.compile("w waits half a second, W waits one second"))
    page.get_by_role("button", name="Add step").click()
    step(page, 2).get_by_label("Type").select_option(label="SMS")
    sms = step(page, 2)
    expect(sms.get_by_label("From")).to_have_value(DID)
    sms.get_by_label("To").fill("5145550199")
    sms.get_by_label("Message").fill("Garage opened")
    expect(sms.get_by_text("GSM-7: 13 of 160 septets")).to_be_visible()
    sms.get_by_label("Message").fill("Garage ouverte à 9 h – merci")
    expect(sms.get_by_text(re.compile(r"UCS-2: 28 of 70 UCS-2 units \(UCS-2 because '–' at position 22"))).to_be_visible()
    sms.get_by_label("Message").fill("x" * 150 + "{}[]€")
    expect(sms.get_by_label("Message")).not_to_have_attribute("aria-invalid", "true")
    expect(sms.get_by_label("Message")).to_have_accessible_description(re.compile(r"^GSM-7: 160 of 160 septets \(€"))
    sms.get_by_label("Message").fill("x" * 150 + "{}[]€[")
    expect(sms.get_by_label("Message")).to_have_attribute("aria-invalid", "true")
    expect(sms.get_by_label("Message")).to_have_accessible_description(re.compile(r"GSM-7: 162 of 160 septets.*2 too many"))
    sms.get_by_label("Message").fill("Garage opened")
    expect(sms.get_by_label("Message")).not_to_have_attribute("aria-invalid", "true")
    ok("SMS length live: GSM-7 septets, UCS-2 with the character that forced it, extension characters count 2")
    expected_ms = recording["durationMs"] + 5 * 200
    expect(page.get_by_text(re.compile(r"^Total duration: "))).to_have_text(
        f"Total duration: {round(expected_ms / 100) / 10:g} s")
    ok(f"total duration shown before saving ({expected_ms} ms)")
    docs = os.environ.get("UPDATE_DOCS_SCREENSHOT")
    if docs:
        # The README's picture: the three steps, the SMS length and the total duration (a small PNG).
        page.set_viewport_size({"width": 820, "height": 1000})
        page.evaluate("() => { document.getElementById('status').textContent = ''; document.activeElement.blur(); }")
        page.screenshot(path=docs, full_page=True, scale="css")
        page.set_viewport_size({"width": 1000, "height": 900})
        print(f"# wrote {docs}")

    # Move the SMS step up, then delete it.
    assert step_types(page) == ["recording", "dtmf", "sms"]
    step(page, 2).get_by_role("button", name="Move up").click()
    assert step_types(page) == ["recording", "sms", "dtmf"], step_types(page)
    expect(step(page, 1).get_by_role("button", name="Move up")).to_be_focused()
    step(page, 1).get_by_role("button", name="Delete").click()
    assert step_types(page) == ["recording", "dtmf"], step_types(page)
    ok("moved the SMS step up (focus stays on it), then deleted it")

    # A bad dial string is shown at its Digits field and Save is refused.
    digits = step(page, 1).get_by_label("Digits")
    digits.fill("12x4")
    expect(digits).to_have_attribute("aria-invalid", "true")
    expect(digits).to_have_accessible_description(re.compile(r"'x' at position 3 is not a DTMF digit"))
    page.get_by_role("button", name="Save").click()
    expect(digits).to_be_focused()
    expect(page.get_by_role("alert").first).to_contain_text("Not saved")
    assert sequence_body(server, key, "Garage")[0] is None, "a refused save reached the store"
    ok("DTMF 12x4: the problem at that step's Digits field, focused, and nothing saved")
    digits.fill("4321#")
    expect(digits).not_to_have_attribute("aria-invalid", "true")

    # A problem only the server knows (a To that is not a number): its 422 pointer lands on the To field.
    page.get_by_role("button", name="Add step").click()
    step(page, 2).get_by_label("Type").select_option(label="SMS")
    step(page, 2).get_by_label("To").fill("12")
    step(page, 2).get_by_label("Message").fill("hello")
    page.get_by_role("button", name="Save").click()
    to = step(page, 2).get_by_label("To")
    expect(to).to_have_attribute("aria-invalid", "true")
    expect(to).to_be_focused()
    description = to.evaluate("e => document.getElementById(e.getAttribute('aria-describedby')).textContent")
    assert description, "no description on the To field"
    ok(f"the API's 422 shown at the field its pointer names: {description!r}")
    step(page, 2).get_by_role("button", name="Delete").click()

    # Preview before anything is saved: the WAV in an <audio>, the plot with a text alternative.
    page.get_by_role("button", name="Preview").click()
    audio = page.locator("audio")
    expect(audio).to_have_attribute("src", re.compile("^blob:"))
    # (wait_for_function would need 'unsafe-eval', which the page's CSP refuses: evaluate a promise instead.)
    seconds = page.evaluate("""() => new Promise((resolve) => {
        const a = document.querySelector('audio');
        if (a.readyState >= 1) resolve(a.duration);
        else a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true });
    })""")
    assert abs(seconds * 1000 - expected_ms) < 100, (seconds, expected_ms)
    plot = page.get_by_role("img", name=re.compile(r"^Waveform and spectrogram of Garage"))
    expect(plot).to_be_visible()
    assert plot.evaluate("i => i.complete && i.naturalWidth > 0"), "the plot did not load"
    expect(page.get_by_text(re.compile(r"4321#|digit 4"))).not_to_have_count(0)
    expect(page.get_by_text(re.compile(r"What a caller hears, as it is in the editor \(not saved yet\)"))).to_be_visible()
    assert sequence_body(server, key, "Garage")[0] is None, "the preview saved the sequence"
    ok(f"Preview (before saving) plays {seconds:.2f} s of WAV and shows the plot with a text alternative")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved Garage (revision 1).")
    body, summary = sequence_body(server, key, "Garage")
    assert body == {"name": "Garage", "steps": [{"type": "recording", "recording": "welcome"},
                                                {"type": "dtmf", "digits": "4321#"}]}, body
    ok("saved Garage: the store has exactly Recording welcome, DTMF 4321#")

    os.makedirs(browser.artefacts, exist_ok=True)
    shot = os.path.join(browser.artefacts, "editor.png")
    page.screenshot(path=shot, full_page=False)
    ok(f"screenshot of the editor: {shot}")

    # Revisions: change, save (revision 2), compare revision 1 with the editor, restore it (revision 3).
    step(page, 1).get_by_label("Digits").fill("4321#9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved Garage (revision 2).")
    page.get_by_role("button", name="Show revisions").click()
    page.get_by_role("button", name="Compare revision 1 with the editor").click()
    diff = page.locator("pre.diff").text_content()
    assert '-       "digits": "4321#"' in diff and '+       "digits": "4321#9"' in diff, diff
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.get_by_role("status")).to_have_text("Restored revision 1 as revision 3.")
    expect(step(page, 1).get_by_label("Digits")).to_have_value("4321#")
    body, _ = sequence_body(server, key, "Garage")
    assert body["steps"][1]["digits"] == "4321#", body
    ok("revisions listed, compared (line diff) and restored")

    ivr_and_number(server, page, key)

    # The recording is in use: deleting it shows the API's 409 with the user.
    page.get_by_role("link", name="Recordings").click()
    page.get_by_role("button", name="Delete welcome").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("Garage")
    must(server.api("GET", "/accounts/me/recordings/welcome", key), 200)
    ok("deleting a recording in use shows the 409 naming Garage, and it stays")


def ivr_and_number(server, page, key):
    page.get_by_role("link", name="IVRs").click()  # no IVR yet: the page is the form of the first
    expect(page.get_by_role("heading", name="New IVR")).to_be_visible()
    page.get_by_label("Name").fill("Lobby")
    page.get_by_label("Option 2", exact=True).select_option(label="Garage")
    page.get_by_label("Option 0", exact=True).select_option(label="Hang up")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved Lobby.")
    ivrs = must(server.api("GET", "/accounts/me/ivrs", key), 200)["ivrs"]
    ivr = must(server.api("GET", f"/accounts/me/ivrs/{ivrs[0]['id']}", key), 200)
    assert ivr["options"] == {"2": {"sequence": "Garage"}, "0": {"hangup": True}}, ivr
    page.get_by_role("link", name="IVRs").click()  # the account's one IVR: the page is its editor
    expect(page.get_by_role("heading", name="Edit IVR: Lobby")).to_be_visible()
    expect(page.get_by_label("Option 2", exact=True).locator("option:checked")).to_have_text("Garage")
    ok("Garage is on option 2 of the IVR Lobby (saved, and shown again)")
    page.get_by_role("link", name="Numbers").click()
    route = page.get_by_label("Route for (514) 555-0100")
    expect(route).to_be_visible()
    labels = route.locator("option").all_text_contents()
    assert labels == ["Hang up", "Lobby"], labels
    route.select_option(label="Lobby")
    expect(page.get_by_role("status")).to_have_text("(514) 555-0100 now answers with Lobby.")
    numbers = must(server.api("GET", "/accounts/me/numbers", key), 200)["numbers"]
    assert [n["route"] for n in numbers if n["number"] == DID] == [{"ivr": "Lobby"}], numbers
    ok("the number routes to Lobby (sequences are not offered for numbers)")


class Baresip:
    """A baresip phone in its own folder, driven through ctrl_tcp (netstring JSON), its microphone silent."""

    def __init__(self, folder):
        self.folder = tempfile.mkdtemp(prefix="baresip-", dir=folder)
        silence = os.path.join(self.folder, "silence.wav")
        with wave.open(silence, "wb") as w:   # 60 s: aufile ends the call at the file's end
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(bytes(2 * 8000 * 60))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            control_port = probe.getsockname()[1]
        with open(os.path.join(self.folder, "config"), "w") as f:
            f.write(f"""sip_listen 127.0.0.1:0
net_interface 127.0.0.1
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{control_port}
audio_source aufile,{silence}
""")
        with open(os.path.join(self.folder, "accounts"), "w") as f:
            f.write("<sip:tester@127.0.0.1>;regint=0\n")
        # baresip quits at the end of its standard input: it is kept open for the call's length.
        self.process = subprocess.Popen(["/usr/bin/baresip", "-f", self.folder, "-t", "120"],
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.events = []
        self.pending = b""
        deadline = time.monotonic() + 30
        while True:
            try:
                self.control = socket.create_connection(("127.0.0.1", control_port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("baresip's ctrl_tcp did not open")
                time.sleep(0.05)

    def command(self, name, params=""):
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self.control.sendall(str(len(body)).encode() + b":" + body + b",")

    def wait_event(self, kind, seconds):
        """The first event of type `kind` (already received or arriving within `seconds`), or None."""
        deadline = time.monotonic() + seconds
        scanned = 0
        while True:
            for event in self.events[scanned:]:
                if event.get("type") == kind:
                    return event
            scanned = len(self.events)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.control.settimeout(min(left, 1))
            try:
                chunk = self.control.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return None
            self.pending += chunk
            while True:   # netstrings: LENGTH ":" BODY ","
                colon = self.pending.find(b":")
                if colon < 0 or not self.pending[:colon].isdigit():
                    break
                length = int(self.pending[:colon])
                if len(self.pending) < colon + 1 + length + 1:
                    break
                body = self.pending[colon + 1:colon + 1 + length]
                self.pending = self.pending[colon + 1 + length + 1:]
                try:
                    message = json.loads(body)
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("event"):
                    self.events.append(message)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_call(server, keys, folder):
    """A call to the DID, routed in the browser to Lobby: option 2 plays Garage's digits as saved last."""
    key = keys["acme_key"]
    body, _ = sequence_body(server, key, "Garage")
    saved = "".join(s["digits"] for s in body["steps"] if s["type"] == "dtmf")
    match = server.wait_line(r"listening on udp (\S+):(\d+)", 60)
    assert match, "no SIP line from callseq serve"
    phone = Baresip(folder)
    try:
        phone.command("dial", f"sip:{DID}@127.0.0.1:{match.group(2)}")
        assert phone.wait_event("CALL_ESTABLISHED", 60), "the call to the DID was not established"
        phone.command("sndcode", "2")
        assert phone.wait_event("CALL_CLOSED", 120), "the server did not end the call after the sequence"
        received = "".join(e.get("param", "") for e in phone.events if e.get("type") == "CALL_DTMF_START")
    finally:
        phone.stop()
    assert received == saved, f"the call received {received!r}, the editor saved {saved!r}"
    ok(f"baresip calls (514) 555-0100, presses 2 and receives {received} as RFC 4733 events: Garage as saved")


def run_stale_copy(server, browser, first, keys):
    """Two browsers edit Garage; the second to save sees the 412 and may overwrite."""
    key = keys["acme_key"]
    _, summary = sequence_body(server, key, "Garage")
    url = f"{server.base}/#/sequences/{summary['id']}"
    first.goto(url)
    second = browser.page(key)
    second.goto(url)
    expect(second.get_by_role("heading", name="Edit sequence: Garage")).to_be_visible()
    expect(first.get_by_role("heading", name="Edit sequence: Garage")).to_be_visible()
    second.get_by_label("Name").fill("Garage door")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("status")).to_have_text(re.compile(r"^Saved Garage door \(revision \d+\)\.$"))
    step(first, 1).get_by_label("Digits").fill("4321#7")
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("alert")).to_contain_text("changed elsewhere since you opened it")
    expect(first.get_by_role("button", name="Reload")).to_be_focused()
    ok("a stale copy's save shows the 412 message with Reload and Overwrite")
    first.get_by_role("button", name="Overwrite").click()
    expect(first.get_by_role("status")).to_have_text(re.compile(r"^Saved Garage \(revision \d+\)\.$"))
    body, _ = sequence_body(server, key, "Garage")
    assert body["steps"][1]["digits"] == "4321#7", body
    ok("Overwrite saves this copy over the other")
    second.context.close()


def run_markup_name(server, browser, keys):
    key = keys["acme_key"]
    name = '<img src=x onerror="document.title=\'pwned\'"><b>bold</b>'
    must(server.api("POST", "/accounts/me/sequences", key, {"name": name, "steps": [{"type": "dtmf", "digits": "1"}]}), 201)
    page = browser.page(key)
    page.goto(server.base + "/#/sequences")
    link = page.get_by_role("link", name=name)
    expect(link).to_have_text(name)
    assert page.locator("main img").count() == 0 and page.locator("main b").count() == 0
    link.click()
    expect(page.get_by_label("Name")).to_have_value(name)
    assert page.title() != "pwned" and page.locator("main img").count() == 0
    ok("a name with markup is shown as its characters")
    page.context.close()


def run_client(server, browser, keys):
    page = browser.page(keys["client_key"])
    page.get_by_role("link", name="Sequences").click()
    page.get_by_role("button", name="Add sequence").click()
    page.get_by_role("button", name="Add step").click()
    expect(step(page, 0).get_by_label("Type")).to_be_visible()
    types = step(page, 0).get_by_label("Type").locator("option").all_text_contents()
    assert types == ["DTMF", "Recording"], types
    ok("a reseller's client is offered no SMS step")
    page.context.close()
    reseller = browser.page(keys["reseller_key"])
    reseller.get_by_role("link", name="Packages").click()
    switch = reseller.get_by_label("Sequence")
    expect(switch).to_be_checked()
    switch.uncheck()
    expect(reseller.get_by_role("status")).to_have_text("Gold: sequences off.")
    packages = must(server.api("GET", "/accounts/me/packages", keys["reseller_key"]), 200)["packages"]
    assert packages == [{"name": "Gold", "sequences": False}], packages
    switch.check()
    expect(reseller.get_by_role("status")).to_have_text("Gold: sequences on.")
    reseller.get_by_role("link", name="Clients").click()
    expect(reseller.get_by_text("Client Co")).to_be_visible()
    ok("the reseller switches its package's Sequence feature off and on, and sees its client")
    reseller.context.close()


def run_operator(server, browser):
    """The operator's key chooses an account, then sees its pages; Texts shows the (empty) SMS ledger."""
    page = browser.page(server.operator_key)
    page.get_by_role("button", name="Manage Acme").click()
    page.get_by_role("link", name="Sequences").click()
    expect(page.get_by_role("link", name="Garage", exact=True)).to_be_visible()
    page.get_by_role("link", name="Texts").click()
    expect(page.get_by_text("No texts sent yet.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0, "sign out left something in sessionStorage"
    ok("the operator manages an account; Texts; Sign out forgets the key")
    page.context.close()


def run_narrow(server, browser, keys):
    page = browser.page(keys["acme_key"], width=360)
    page.get_by_role("link", name="Sequences").click()
    page.get_by_role("link", name="Garage", exact=True).click()
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the editor is {width} px wide at 360"
    # Keyboard alone: Tab reaches the first step's Type select from the Name field.
    page.get_by_label("Name").focus()
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id.endsWith('-type')"):
            break
    assert page.evaluate("document.activeElement.id.endsWith('-type')"), "Tab did not reach the step's Type"
    page.keyboard.press("Shift+Tab")
    ok("usable at 360 px wide (no horizontal scrolling); reachable with the keyboard")
    page.context.close()


if __name__ == "__main__":
    main()
