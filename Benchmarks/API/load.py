#!/usr/bin/env python3
"""Fixed-rate (open-loop) load on the management API: latency percentiles at a given request rate.

Each request has a due time (start + i / rate); its latency runs from that due time to the last byte of the
answer, so a slow answer delays the requests behind it and they count as slow too (no coordinated
omission). HTTP/1.1 keep-alive connections; every answer must have the expected status.

  load.py get  BASE KEY PATH RATE SECONDS [CONNECTIONS]     GET PATH, expect 200
  load.py put  BASE KEY PATH RATE SECONDS                   PUT PATH with If-Match (one connection, in order:
                                                             each change is a new revision), expect 200
Prints one line: kind, rate asked, rate done, requests, errors, p50, p90, p99, p99.9, max (ms).
"""

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


async def request(reader, writer, method, host, path, key, body=b"", headers=()):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Authorization: Bearer {key}"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += list(headers)
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    answer_headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    length = int(answer_headers.get("content-length", "0"))
    data = await reader.readexactly(length) if length else b""
    return status, answer_headers, data


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


async def run_get(base, key, path, rate, seconds, connections):
    url = urlsplit(base)
    total = int(rate * seconds)
    latencies, errors = [], 0
    start = time.perf_counter() + 0.2
    queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(start + i / rate)

    async def worker():
        nonlocal errors
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        while not queue.empty():
            due = queue.get_nowait()
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            status, _, _ = await request(reader, writer, "GET", url.netloc, path, key)
            latencies.append((time.perf_counter() - due) * 1000)
            if status != 200:
                errors += 1
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, errors, time.perf_counter() - began


async def run_put(base, key, path, rate, seconds):
    url = urlsplit(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    status, headers, data = await request(reader, writer, "GET", url.netloc, path, key)
    if status != 200:
        raise SystemExit(f"GET {path}: {status}")
    etag = headers["etag"]
    sequence = json.loads(data)
    total = int(rate * seconds)
    latencies, errors = [], 0
    start = time.perf_counter() + 0.2
    began = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sequence["steps"][-1]["digits"] = f"{i % 10000:04d}#"
        body = json.dumps(sequence).encode()
        status, headers, _ = await request(reader, writer, "PUT", url.netloc, path, key, body, [f"If-Match: {etag}"])
        latencies.append((time.perf_counter() - due) * 1000)
        if status == 200:
            etag = headers["etag"]
        else:
            errors += 1
    writer.close()
    return latencies, errors, time.perf_counter() - began


def main():
    kind, base, key, path, rate, seconds = sys.argv[1:7]
    rate, seconds = float(rate), float(seconds)
    if kind == "get":
        connections = int(sys.argv[7]) if len(sys.argv) > 7 else 8
        latencies, errors, elapsed = asyncio.run(run_get(base, key, path, rate, seconds, connections))
    else:
        latencies, errors, elapsed = asyncio.run(run_put(base, key, path, rate, seconds))
    latencies.sort()
    done = len(latencies) / elapsed if elapsed > 0 else 0
    print(f"{kind.upper()} at {rate:.0f}/s: {done:.0f}/s done, {len(latencies)} requests, {errors} errors, "
          f"p50 {percentile(latencies, 50):.2f} ms, p90 {percentile(latencies, 90):.2f} ms, "
          f"p99 {percentile(latencies, 99):.2f} ms, p99.9 {percentile(latencies, 99.9):.2f} ms, "
          f"max {latencies[-1]:.2f} ms")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
