#!/usr/bin/env python3
"""The baseline of bench/pay-ingest-replay.sh: Stripe events replayed from
JSON Lines into a daigou database, as a plain script would do it.

Per event: json.loads, the money facts of the Stripe event types the bench
uses (charge.succeeded and charge.captured, charge.refunded with the
refunds it lists, refund.created / refund.updated / charge.refund.updated),
then per fact the key lookup, the comparison with a stored payment
(duplicate or conflict), the insert, and the order's state moved from its
totals, with the same SQL as pay-ingest and the same transactions
(BEGIN IMMEDIATE, --batch events, default 500, per commit). The rows it
stores are pay-ingest's, payload_sha256 included (SHA-256 of the event's
line, its newline included), so the bench can compare the two.

Amounts are JSON integers of minor units: Python's json gives int for
them, and a number with a fraction is refused, never rounded.

usage: pay_replay.py [--batch N] DB EVENTS.jsonl
Prints "N events, R recorded, D duplicate, C conflict" on stderr.
"""
import argparse
import hashlib
import json
import os
import sqlite3
import sys

STATE_RANK = {"pinned": 0, "paid": 1, "partially_refunded": 2, "refunded": 3}
STATE_NAME = ["pinned", "paid", "partially_refunded", "refunded"]
CUR_STATUS = ("coalesce((SELECT s.status FROM payment_status s WHERE "
              "s.payment_id = {p}.id ORDER BY s.id DESC LIMIT 1), {p}.status)")
FIND = ("SELECT p.id, p.kind, p.order_id, p.amount, p.currency, "
        "p.parent_txn_id, p.refund_id, " + CUR_STATUS.format(p="p") +
        " FROM payments p WHERE p.gateway = ?1 AND p.gateway_txn_id = ?2")
INSERT = ("INSERT INTO payments (gateway, gateway_txn_id, kind, order_id, "
          "amount, currency, status, parent_txn_id, event_type, "
          "payload_sha256, received_at, refund_id, event_id) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
ORDER = ("SELECT o.state, r.converted, r.to_currency FROM orders o "
         "LEFT JOIN order_rates r ON r.order_id = o.order_id "
         "AND r.kind = 'charge' WHERE o.order_id = ?1")
PARENT = ("SELECT order_id FROM payments WHERE gateway = ?1 "
          "AND gateway_txn_id = ?2 AND kind = 'charge'")
TOTALS = (
    "WITH c AS (SELECT p.gateway, p.gateway_txn_id, p.amount, "
    "    p.currency, " + CUR_STATUS.format(p="p") + " AS st FROM payments p "
    "    WHERE p.order_id = ?1 AND p.kind = 'charge'), "
    "r AS (SELECT p.id, p.amount, p.currency, "
    "    " + CUR_STATUS.format(p="p") + " AS st FROM payments p "
    "    WHERE p.order_id = ?1 AND p.kind = 'refund' "
    "  UNION SELECT p.id, p.amount, p.currency, "
    "    " + CUR_STATUS.format(p="p") + " AS st FROM c JOIN payments p "
    "    ON p.gateway = c.gateway AND p.parent_txn_id = c.gateway_txn_id "
    "    WHERE p.kind = 'refund') "
    "SELECT (SELECT coalesce(sum(amount), 0) FROM c WHERE "
    "    currency = ?2 AND (st = 'completed' OR st = 'reversed')), "
    "  (SELECT coalesce(sum(amount), 0) FROM c WHERE "
    "    currency = ?2 AND st = 'reversed') + "
    "  (SELECT coalesce(sum(amount), 0) FROM r WHERE "
    "    currency = ?2 AND (st = 'completed' OR st = 'reversed'))")
EVENT = ("INSERT INTO events (at, tool, kind, subject, detail) "
         "VALUES (?1, 'pay-ingest', ?2, ?3, ?4)")

CHARGE_STATUS = {"pending": "pending", "failed": "failed"}
REFUND_STATUS = {"succeeded": "completed", "pending": "pending",
                 "requires_action": "pending", "failed": "failed",
                 "canceled": "failed"}


def amount(obj):
    a = obj["amount"]
    if type(a) is not int or a < 0:
        raise ValueError("amount: not a non-negative integer")
    return a


def meta_order(obj):
    m = obj.get("metadata") or {}
    return m.get("order_id")


def charge_fact(ch):
    st = ch["status"]
    if st == "succeeded":
        status = "completed" if ch.get("captured", True) else "pending"
    else:
        status = CHARGE_STATUS[st]
    return ("charge", ch["id"], meta_order(ch), amount(ch),
            ch["currency"].upper(), None, status, None)


def refund_fact(re):
    refund_id = (re.get("metadata") or {}).get("refund_id")
    return ("refund", re["id"], meta_order(re), amount(re),
            re["currency"].upper(), re["charge"],
            REFUND_STATUS[re["status"]], refund_id)


def facts(ev):
    t = ev["type"]
    obj = ev["data"]["object"]
    if t in ("charge.succeeded", "charge.captured"):
        return [charge_fact(obj)]
    if t == "charge.refunded":
        out = [charge_fact(obj)]
        for re in (obj.get("refunds") or {}).get("data", []):
            out.append(refund_fact(re))
        return out
    if t in ("refund.created", "refund.updated", "charge.refund.updated"):
        return [refund_fact(obj)]
    return []


def move_state(db, order_id, state, charge, ccy):
    cur = STATE_RANK.get(state)
    if cur is None or ccy is None:
        return
    charged, refunded = db.execute(TOTALS, (order_id, ccy)).fetchone()
    want = cur
    if charged > 0 and charged >= charge and want < 1:
        want = 1
    if want >= 1 and refunded > 0:
        want = 3 if refunded >= charged else max(want, 2)
    if want != cur:
        db.execute("UPDATE orders SET state = ?2 WHERE order_id = ?1",
                   (order_id, STATE_NAME[want]))


def record(db, ev, f, sha, now, counts):
    kind, txn, order_id, amt, ccy, parent, status, refund_id = f
    row = db.execute(FIND, ("stripe", txn)).fetchone()
    if row is not None:
        _, skind, sorder, samt, sccy, sparent, srefund, sstatus = row
        same = (skind == kind and samt == amt and sccy == ccy and
                (sorder is None or order_id is None or sorder == order_id)
                and (sparent is None or parent is None or sparent == parent)
                and (srefund is None or refund_id is None
                     or srefund == refund_id) and sstatus == status)
        if same:
            counts["duplicate"] += 1
        else:
            counts["conflict"] += 1
            db.execute(EVENT, (now, "payment_conflict", txn,
                               "stripe %s: other facts" % txn))
        return
    db.execute(INSERT, ("stripe", txn, kind, order_id, amt, ccy, status,
                        parent if kind == "refund" else None, ev["type"],
                        sha, now, refund_id if kind == "refund" else None,
                        ev.get("id")))
    counts["recorded"] += 1
    named = order_id
    if named is None and kind == "refund" and parent:
        r = db.execute(PARENT, ("stripe", parent)).fetchone()
        named = r[0] if r else None
    if named is None:
        return
    o = db.execute(ORDER, (named,)).fetchone()
    if o is None:
        if order_id is not None:
            db.execute(EVENT, (now, "payment_unknown_order", txn,
                               "order '%s' is unknown" % order_id))
        return
    state, charge, pinned_ccy = o
    if (status == "completed" and kind == "charge" and charge is not None
            and (charge != amt or pinned_ccy != ccy)):
        db.execute(EVENT, (now, "payment_mismatch", txn,
                           "charge differs from the pinned charge"))
    move_state(db, named, state, charge, pinned_ccy)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("db")
    ap.add_argument("events")
    a = ap.parse_args()
    now = os.environ.get("DAIGOU_NOW", "2026-04-14T06:00:00Z")
    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA busy_timeout = 10000")
    counts = {"recorded": 0, "duplicate": 0, "conflict": 0}
    n = 0
    with open(a.events, "rb") as f:
        pending = 0
        for line in f:
            if pending == 0:
                db.execute("BEGIN IMMEDIATE")
            sha = hashlib.sha256(line).hexdigest()  # newline included
            ev = json.loads(line)
            for fact in facts(ev):
                record(db, ev, fact, sha, now, counts)
            n += 1
            pending += 1
            if pending == a.batch:
                db.execute("COMMIT")
                pending = 0
        if pending:
            db.execute("COMMIT")
    db.close()
    print("%d events, %d recorded, %d duplicate, %d conflict" % (
        n, counts["recorded"], counts["duplicate"], counts["conflict"]),
        file=sys.stderr)


if __name__ == "__main__":
    main()
