#!/usr/bin/env python3
"""The time from a sequence PUT's answer to the first call that plays the change, against a running
`callseq serve --store S --http H` (made by put-to-call.sh): ROUNDS times, PUT the account's sequence with new
digits, then at once place a call over raw UDP (INVITE, 200, ACK), press 1 as RFC 4733 events, and read the
telephone-events the server sends until the new code is complete. Prints one line per round: PUT answer → 200 OK,
and PUT answer → the last digit of the new code received; then p50/max.
    put_to_call.py HTTP_BASE KEY SEQUENCE_PATH SIP_PORT NUMBER ROUNDS"""
import json, random, socket, struct, sys, time, urllib.request

base, key, path, sip_port, number, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
EVENTS = "0123456789*#ABCD"

def http(method, url, body=None, headers={}):
    request = urllib.request.Request(url, data=body, method=method, headers={"Authorization": f"Bearer {key}", **headers})
    with urllib.request.urlopen(request) as answer:
        return answer.status, dict(answer.headers), answer.read()

sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sip.bind(("127.0.0.1", 0)); sip.settimeout(10)
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rtp.bind(("127.0.0.1", 0)); rtp.settimeout(10)
local, rtp_port = sip.getsockname()[1], rtp.getsockname()[1]

def send(method, uri, call_id, cseq, to_tag=None, body=""):
    to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
    lines = [f"{method} {uri} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{random.getrandbits(48):x};rport",
             f"From: <sip:bench@127.0.0.1:{local}>;tag=p{call_id}", f"To: {to}", f"Call-ID: {call_id}",
             f"CSeq: {cseq} {method}", f"Contact: <sip:bench@127.0.0.1:{local}>", "Max-Forwards: 70"]
    if body: lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    sip.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), ("127.0.0.1", sip_port))

def header(data, name):
    for line in data.decode(errors="replace").split("\r\n"):
        if line.lower().startswith(name.lower() + ":"): return line.split(":", 1)[1].strip()
    return ""

def media_port(data):
    for line in data.decode(errors="replace").split("\r\n"):
        if line.startswith("m=audio "): return int(line.split()[1])
    return 0

sdp = ("v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       f"m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n")
answers, codes = [], []
for round in range(rounds):
    digits = f"{random.randrange(10000):04d}#"
    status, headers, _ = http("GET", base + path)
    body = json.dumps({"name": "Door", "steps": [{"type": "dtmf", "digits": digits, "toneMs": 80, "gapMs": 60}]}).encode()
    status, _, _ = http("PUT", base + path, body, {"Content-Type": "application/json", "If-Match": headers["ETag"]})
    saved = time.perf_counter()
    call_id = f"{random.getrandbits(64):x}"
    uri = f"sip:{number}@127.0.0.1:{sip_port}"
    send("INVITE", uri, call_id, 1, body=sdp)
    while True:
        data, _ = sip.recvfrom(65536)
        if header(data, "Call-ID") == call_id and data.startswith(b"SIP/2.0 2"): break
    answered = time.perf_counter()
    tag = header(data, "To").split("tag=")[1].split(";")[0]
    send("ACK", uri, call_id, 1, tag)
    target = ("127.0.0.1", media_port(data))
    # Our RTP (silence), then '1' as RFC 4733 events (RFC 4733 §2.5: three end packets).
    seq, ts, ssrc = random.randrange(65536), random.getrandbits(32), random.getrandbits(32)
    def packet(pt, payload, marker=False):
        global seq, ts
        seq = (seq + 1) & 0xFFFF
        return struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0), seq, ts, ssrc) + payload
    # 200 ms of silence first, paced: the media starts on the tick after the ACK.
    for i in range(10):
        rtp.sendto(packet(0, b"\xff" * 160), target); ts = (ts + 160) & 0xFFFFFFFF
        time.sleep(0.02)
    for i in range(8):
        end = i >= 5
        rtp.sendto(packet(101, struct.pack("!BBH", 1, (0x80 if end else 0) | 10, min(160 * (i + 1), 800)), marker=(i == 0)), target)
        time.sleep(0.02)
    ts = (ts + 800) & 0xFFFFFFFF
    received, last_event, done = "", None, None
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline and done is None:
        rtp.sendto(packet(0, b"\xff" * 160), target); ts = (ts + 160) & 0xFFFFFFFF
        try:
            rtp.settimeout(0.02)
            data, _ = rtp.recvfrom(2048)
        except socket.timeout:
            continue
        if len(data) >= 16 and data[1] & 0x7F == 101:
            event_ts = struct.unpack("!I", data[4:8])[0]
            if event_ts != last_event:
                last_event = event_ts
                received += EVENTS[data[12]] if data[12] < 16 else "?"
                if received.endswith(digits): done = time.perf_counter()
    send("BYE", uri, call_id, 2, tag)
    ok = done is not None
    answers.append((answered - saved) * 1000)
    if ok: codes.append((done - saved) * 1000)
    print(f"round {round + 1}: PUT answered → call answered {answers[-1]:.1f} ms; → new code {digits} "
          + (f"complete {codes[-1]:.0f} ms" if ok else f"NOT received (got {received!r})"), flush=True)
    time.sleep(0.3)
answers.sort(); codes.sort()
print(f"PUT answered → first call answered: p50 {answers[len(answers) // 2]:.1f} ms, max {answers[-1]:.1f} ms; "
      f"new code received in {len(codes)} of {rounds} calls")
