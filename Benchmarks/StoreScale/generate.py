#!/usr/bin/env python3
"""Fills a callseq SQLite store (made by `callseq keys create --store S --operator`, which runs the migrations)
with N accounts, each with one DID (520-2XX-XXXX, SMS-enabled), one IVR ("Lobby", options 1-3) and three
sequences (DTMF and an SMS), as the API would have written them (revision 1, a revision row each).
    generate.py STORE N"""
import json, os, sqlite3, sys, time

store, count = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(store)
now = int(time.time() * 1000)
def canonical(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
def number(i):
    return f"520{200 + i // 10000:03d}{i % 10000:04d}"
accounts, numbers, ivrs, sequences, revisions = [], [], [], [], []
for i in range(count):
    account = f"acc_{i:020x}"
    did = number(i)
    accounts.append((account, f"Account {i}", "direct", None, None, 1, 1, 100, 1, now, now))
    numbers.append((did, account, 1, "Lobby", "auto", 0, 1))
    names = ["Front door", "Parking gate", "Delivery"]
    ivr = {"name": "Lobby", "prompt": "default", "timeoutSeconds": 5, "attempts": 2,
           "options": {str(k + 1): {"sequence": n} for k, n in enumerate(names)}}
    ivrs.append((f"ivr_{i:020x}", account, "Lobby", canonical(ivr), 1, now))
    for k, name in enumerate(names):
        body = canonical({"name": name, "steps": [
            {"type": "dtmf", "digits": f"{(i * 7 + k) % 10000:04d}#"},
            {"type": "sms", "from": did, "to": "5145550199", "message": f"{name} opened"}]})
        sid = f"seq_{i:018x}{k:02x}"
        sequences.append((sid, account, name, body, 1, now))
        revisions.append((sid, 1, now, None, body))
with db:
    db.executemany("INSERT INTO accounts (id, name, kind, parent, package, sequences, sms, sms_daily_limit, revision, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)", accounts)
    db.executemany("INSERT INTO numbers (number, account, sms, route_ivr, dtmf, answer_after_ms, revision) VALUES (?,?,?,?,?,?,?)", numbers)
    db.executemany("INSERT INTO ivrs (id, account, name, body, revision, updated) VALUES (?,?,?,?,?,?)", ivrs)
    db.executemany("INSERT INTO sequences (id, account, name, body, revision, updated) VALUES (?,?,?,?,?,?)", sequences)
    db.executemany("INSERT INTO sequence_revisions (sequence, number, created, key_id, body) VALUES (?,?,?,?,?)", revisions)
print(f"{count} accounts, numbers {number(0)}..{number(count - 1)}; {os.path.getsize(store) >> 20} MiB")
