#!/usr/bin/env python3
"""Places short calls over raw UDP and prints the INVITE → 200 OK time of each: INVITE (PCMU, telephone-event),
wait for the 200, ACK, BYE, wait for its 200. One call at a time.
    sipcalls.py PORT NUMBER... → one line per call: NUMBER MILLISECONDS (or NUMBER status CODE)"""
import random, socket, sys, time

port, numbers = int(sys.argv[1]), sys.argv[2:]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout(10)
local = sock.getsockname()[1]
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rtp.bind(("127.0.0.1", 0))
rtp_port = rtp.getsockname()[1]

def request(method, uri, call_id, cseq, to_tag=None, body=""):
    branch = "z9hG4bK" + "%x" % random.getrandbits(48)
    to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
    headers = [f"{method} {uri} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch={branch};rport",
               f"From: <sip:bench@127.0.0.1:{local}>;tag=b{call_id}", f"To: {to}", f"Call-ID: {call_id}",
               f"CSeq: {cseq} {method}", f"Contact: <sip:bench@127.0.0.1:{local}>", "Max-Forwards: 70"]
    if body:
        headers.append("Content-Type: application/sdp")
    headers.append(f"Content-Length: {len(body)}")
    sock.sendto(("\r\n".join(headers) + "\r\n\r\n" + body).encode(), ("127.0.0.1", port))

def status_of(data):
    line = data.split(b"\r\n", 1)[0].decode()
    return int(line.split()[1]) if line.startswith("SIP/2.0") else 0

def header(data, name):
    for line in data.decode(errors="replace").split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""

sdp = ("v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       f"m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
       "a=fmtp:101 0-15\r\n")
for n, number in enumerate(numbers):
    call_id = f"{random.getrandbits(64):x}-{n}"
    uri = f"sip:{number}@127.0.0.1:{port}"
    start = time.perf_counter()
    request("INVITE", uri, call_id, 1, body=sdp)
    final = None
    while final is None:
        data, _ = sock.recvfrom(65536)
        if header(data, "Call-ID") != call_id:
            continue
        code = status_of(data)
        if code >= 200:
            final = (code, data)
    elapsed = (time.perf_counter() - start) * 1000
    code, data = final
    to = header(data, "To")
    tag = to.split("tag=")[1].split(";")[0] if "tag=" in to else None
    if code == 200:
        request("ACK", uri, call_id, 1, tag)
        request("BYE", uri, call_id, 2, tag)
        while True:
            data, _ = sock.recvfrom(65536)
            if header(data, "Call-ID") == call_id and "BYE" in header(data, "CSeq") and status_of(data) >= 200:
                break
            if header(data, "Call-ID") == call_id and data.startswith(b"BYE"):
                pass
        print(f"{number} {elapsed:.2f}", flush=True)
    else:
        if code not in (100, 180):
            request("ACK", uri, call_id, 1, tag)
        print(f"{number} status {code}", flush=True)
