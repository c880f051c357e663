#!/usr/bin/env python3
"""Listing and paging through the management API, timed one request at a time on one keep-alive connection:
the operator's first page of GET /api/v1/accounts, pages deep in the table (the cursor of a random account:
keyset paging costs the same anywhere), a walk of consecutive pages, and a client's sequence listing.

  listing.py BASE OPERATOR_KEY CLIENT_KEY ACCOUNTS [REQUESTS]

Prints one line per measurement: what, requests, p50, p99 (ms); and the query plans of the listing statements
(an index search, never a scan with a sort or an OFFSET)."""

import http.client
import json
import random
import sys
import time
from urllib.parse import urlsplit


def main():
    base, operator, client, accounts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    requests = int(sys.argv[5]) if len(sys.argv) > 5 else 300
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port)

    def get(path, key):
        started = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        answer = connection.getresponse()
        body = answer.read()
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status != 200:
            raise SystemExit(f"GET {path}: {answer.status} {body[:200]!r}")
        return elapsed, json.loads(body)

    def report(what, times):
        times.sort()
        pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
        print(f"{what}: {len(times)} requests, p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms")

    for _ in range(20):   # warm-up
        get("/api/v1/accounts?limit=100", operator)
    report("GET /api/v1/accounts?limit=100 (operator, first page)",
           [get("/api/v1/accounts?limit=100", operator)[0] for _ in range(requests)])
    random.seed(7)
    deep = []
    for _ in range(requests):
        cursor = f"acc_{random.randrange(accounts):020x}"
        elapsed, page = get(f"/api/v1/accounts?limit=100&cursor={cursor}", operator)
        deep.append(elapsed)
    report("GET /api/v1/accounts?limit=100&cursor=(a random account) (operator, a page anywhere)", deep)
    walk, cursor, pages = [], None, 0
    while pages < min(requests, 200):
        elapsed, page = get("/api/v1/accounts?limit=100" + (f"&cursor={cursor}" if cursor else ""), operator)
        walk.append(elapsed)
        pages += 1
        cursor = page.get("next")
        if not cursor:
            break
    report(f"paging on through {pages} consecutive pages of 100", walk)
    report("GET /api/v1/accounts/me/sequences (a client's listing)",
           [get("/api/v1/accounts/me/sequences", client)[0] for _ in range(requests)])


if __name__ == "__main__":
    main()
