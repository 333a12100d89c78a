#!/usr/bin/env python3
"""The baseline of bench/pay-ingest-cgi.sh: a webhook endpoint as a plain
python3 server would be written, http.server's ThreadingHTTPServer with
a sqlite3 handler.

POST /webhook/stripe: the body read whole (Content-Length, capped at
1 MiB), the Stripe-Signature header verified as pay-ingest does (t=...,
any v1 = HMAC-SHA256 of "{t}.{body}" under the secret, compared in
constant time, t within --tolerance seconds of the clock, DAIGOU_NOW
when set), then the event parsed and its facts recorded exactly as
bench/pay_replay.py records them (same SQL, one BEGIN IMMEDIATE
transaction per request, a connection of its own per request, as each
CGI run has). Answers 200, 400, 401, 405, 409, 413 or 503 with a line of
JSON.

usage: pay_server.py --db DB --secret-file F [--tolerance S] --port-file F
Listens on 127.0.0.1, a free port written to --port-file.
"""
import argparse
import calendar
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pay_replay  # noqa: E402

MAX_BODY = 1 << 20


def now_epoch():
    env = os.environ.get("DAIGOU_NOW")
    if env:
        return calendar.timegm(time.strptime(env, "%Y-%m-%dT%H:%M:%SZ"))
    return int(time.time())


def verify(header, secret, body, tolerance):
    if not header:
        return "signature missing"
    t, v1 = None, []
    for part in header.split(","):
        k, _, v = part.partition("=")
        if k == "t":
            t = v
        elif k == "v1":
            v1.append(v)
    if t is None or not t.isdigit() or not v1:
        return "signature malformed"
    if abs(now_epoch() - int(t)) > tolerance:
        return "signature stale"
    want = hmac.new(secret, t.encode() + b"." + body,
                    hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(want, v) for v in v1):
        return "signature mismatch"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, obj):
        data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 503:
            self.send_header("Retry-After", "5")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(405, {"status": 405, "result": "error"})

    def do_POST(self):
        cfg = self.server.cfg
        n = self.headers.get("Content-Length")
        if n is None or not n.isdigit():
            return self.reply(411, {"status": 411, "result": "error"})
        if int(n) > MAX_BODY:
            self.close_connection = True
            return self.reply(413, {"status": 413, "result": "error"})
        body = self.rfile.read(int(n))
        why = verify(self.headers.get("Stripe-Signature"), cfg.secret, body,
                     cfg.tolerance)
        if why:
            return self.reply(401, {"status": 401, "result": "rejected",
                                    "reason": why})
        try:
            eid, etype, facts = pay_replay.parse(body)
        except pay_replay.Bad as e:
            return self.reply(400, {"status": 400, "result": "rejected",
                                    "reason": str(e)})
        if facts is None:
            return self.reply(200, {"status": 200, "result": "ignored"})
        sha = hashlib.sha256(body).hexdigest()
        counts = {"recorded": 0, "duplicate": 0, "conflict": 0}
        db = sqlite3.connect(cfg.db, isolation_level=None, timeout=10)
        try:
            db.execute("PRAGMA synchronous = FULL")
            db.execute("BEGIN IMMEDIATE")
            store = pay_replay.Store(db, cfg.now_text)
            for f in facts:
                result, _ = store.record(eid, etype, f, sha)
                counts[result] += 1
            db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            return self.reply(503, {"status": 503, "result": "error",
                                    "reason": str(e)})
        finally:
            db.close()
        if counts["conflict"]:
            return self.reply(409, {"status": 409, "result": "conflict"})
        result = "recorded" if counts["recorded"] else "duplicate"
        self.reply(200, {"status": 200, "result": result})

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--tolerance", type=int, default=300)
    ap.add_argument("--port-file", required=True)
    cfg = ap.parse_args()
    with open(cfg.secret_file, "rb") as f:
        cfg.secret = f.read()
    if cfg.secret.endswith(b"\n"):
        cfg.secret = cfg.secret[:-1]
    cfg.now_text = os.environ.get("DAIGOU_NOW") or time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    db = sqlite3.connect(cfg.db)
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 64
    srv.cfg = cfg
    with open(cfg.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(cfg.port_file + ".tmp", cfg.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
