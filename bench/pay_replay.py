#!/usr/bin/env python3
"""The baseline of bench/pay-ingest-replay.sh: Stripe events replayed from
JSON Lines into a daigou database, as a plain script would do it, with the
checks and the work of pay-ingest --jsonl --no-verify.

Per event, as pay-ingest: the line's SHA-256 (its newline included), no
NUL byte, json.loads refusing a duplicate key at every depth (as jansson's
JSON_REJECT_DUPLICATES does; Python's json keeps the last one silently),
an object at most 32 levels deep; the money facts of the Stripe event
types the bench uses (charge.succeeded and charge.captured,
charge.refunded with the refunds it lists, refund.created /
refund.updated / charge.refund.updated), each field checked as payevent.c
checks it (ids of 1 to 255 bytes without control characters or outer
spaces, a known ISO 4217 currency, Stripe's integer amounts turned into
ISO 4217 minor units, the object kinds and statuses); then per fact the
key lookup, the comparison with a stored payment (duplicate, a later
status, or conflict), the insert, the refund_id check, the order's flags
and its state moved from its totals, with pay-ingest's SQL (paystore.c)
and the same transactions (BEGIN IMMEDIATE, --batch events, default 500,
per commit); and one CSV row per fact on stdout, as pay-ingest prints.

Amounts are JSON integers of minor units: Python's json gives int for
them, and a number with a fraction is refused, never rounded.

usage: pay_replay.py [--batch N] DB EVENTS.jsonl
Prints "N events, R recorded, D duplicate, C conflict, J rejected" on
stderr.
"""
import argparse
import csv
import hashlib
import json
import os
import re
import sqlite3
import sys

CUR_STATUS = ("coalesce((SELECT s.status FROM payment_status s WHERE s.id = "
              "(SELECT max(s2.id) FROM payment_status s2 WHERE "
              "s2.payment_id = {p}.id)), {p}.status)")
FIND = ("SELECT p.id, p.kind, p.order_id, p.amount, p.currency, "
        "p.parent_txn_id, p.refund_id, " + CUR_STATUS.format(p="p") +
        " FROM payments p WHERE p.gateway = ?1 AND p.gateway_txn_id = ?2")
INSERT = ("INSERT INTO payments (gateway, gateway_txn_id, kind, order_id, "
          "amount, currency, status, parent_txn_id, event_type, "
          "payload_sha256, received_at, refund_id, event_id) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
STATUS = ("INSERT INTO payment_status (payment_id, status, event_type, "
          "event_id, payload_sha256, received_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
ORDER = ("SELECT o.state, r.converted, r.to_currency FROM orders o "
         "LEFT JOIN order_rates r ON r.order_id = o.order_id "
         "AND r.kind = 'charge' WHERE o.order_id = ?1")
PARENT = ("SELECT order_id FROM payments WHERE gateway = ?1 "
          "AND gateway_txn_id = ?2 AND kind = 'charge'")
CS = CUR_STATUS.format(p="p")
TOTALS = (
    "SELECT (SELECT coalesce(sum(p.amount), 0) FROM payments p "
    "    WHERE p.order_id = ?1 AND p.kind = 'charge' "
    "    AND p.currency = ?2 AND " + CS + " IN "
    "    ('completed', 'reversed')), "
    "  (SELECT coalesce(sum(p.amount), 0) FROM payments p "
    "    WHERE p.order_id = ?1 AND p.kind = 'charge' "
    "    AND p.currency = ?2 AND " + CS + " = 'reversed') + "
    "  (SELECT coalesce(sum(amount), 0) FROM ("
    "    SELECT p.amount FROM payments p WHERE p.order_id = ?1 "
    "      AND p.kind = 'refund' AND p.currency = ?2 "
    "      AND " + CS + " IN ('completed', 'reversed') "
    "    UNION ALL SELECT p.amount FROM payments c "
    "      JOIN payments p ON p.gateway = c.gateway "
    "      AND p.parent_txn_id = c.gateway_txn_id "
    "      WHERE c.order_id = ?1 AND c.kind = 'charge' "
    "      AND p.kind = 'refund' AND p.order_id IS NOT ?1 "
    "      AND p.currency = ?2 "
    "      AND " + CS + " IN ('completed', 'reversed')))")
SET_STATE = "UPDATE orders SET state = ?2 WHERE order_id = ?1"
REFUND = ("SELECT charge_refund, charge_currency FROM refunds "
          "WHERE refund_id = ?1")
EVENT = ("INSERT INTO events (at, tool, kind, subject, detail) "
         "VALUES (?1, 'pay-ingest', ?2, ?3, ?4)")

STATE_NAME = ["pinned", "paid", "partially_refunded", "refunded"]
STATE_RANK = {s: i for i, s in enumerate(STATE_NAME)}
STRIPE_ZERO = set("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF "
                  "XOF XPF".split())
STRIPE_THREE = set("BHD JOD KWD OMR TND".split())
REFUND_STATUS = {"succeeded": "completed", "pending": "pending",
                 "requires_action": "pending", "failed": "failed",
                 "canceled": "failed"}
CHARGES = ("charge.succeeded", "charge.captured", "charge.pending",
           "charge.failed")
REFUNDS = ("refund.created", "refund.updated", "refund.failed",
           "charge.refund.updated")
DEPTH_MAX = 32
BAD_ID = re.compile("[\x00-\x1f\x7f-\x9f]")


def iso_exponents():
    """ISO 4217 codes and exponents, read from currency.c."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "src", "lib", "currency.c")
    with open(src) as f:
        return {m.group(1): int(m.group(2)) for m in
                re.finditer(r'\{"([A-Z]{3})", (\d),', f.read())}


ISO = iso_exponents()


class Bad(Exception):
    pass


def no_dups(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise Bad("duplicate object key '%s'" % k)
            seen.add(k)
    return d


def too_deep(v, depth):
    if isinstance(v, dict):
        if depth > DEPTH_MAX:
            return True
        return any(too_deep(x, depth + 1) for x in v.values())
    if isinstance(v, list):
        if depth > DEPTH_MAX:
            return True
        return any(too_deep(x, depth + 1) for x in v)
    return False


def member(obj, key):
    return obj.get(key)


def get_str(obj, path, key, required=True):
    v = obj.get(key)
    if v is None:
        if required:
            raise Bad("%s.%s: missing" % (path, key))
        return None
    if type(v) is not str:
        raise Bad("%s.%s: not a string" % (path, key))
    return v


def check_id(s, path, key):
    n = len(s) if s.isascii() else len(s.encode())
    if n == 0 or n > 255 or BAD_ID.search(s) or s[0] == " " or s[-1] == " ":
        raise Bad("%s.%s: not an id" % (path, key))
    return s


def get_id(obj, path, key, required=True, empty_absent=False):
    s = get_str(obj, path, key, required)
    if s is None or (s == "" and empty_absent and not required):
        return None
    return check_id(s, path, key)


def get_object(obj, path, key):
    v = obj.get(key)
    if v is None:
        raise Bad("%s.%s: missing" % (path, key))
    if type(v) is not dict:
        raise Bad("%s.%s: not an object" % (path, key))
    return v


def currency(obj, path):
    s = get_str(obj, path, "currency")
    c = s.upper()
    if len(s) != 3 or not c.isascii() or not c.isalpha() or c not in ISO:
        raise Bad("%s.currency: not a currency code" % path)
    return c


def stripe_amount(obj, path, key, ccy):
    a = obj.get(key)
    if a is None:
        raise Bad("%s.%s: missing" % (path, key))
    if type(a) is not int:
        raise Bad("%s.%s: not an integer" % (path, key))
    if a < 0:
        raise Bad("%s.%s: negative" % (path, key))
    sexp = 0 if ccy in STRIPE_ZERO else 3 if ccy in STRIPE_THREE else 2
    iexp = ISO[ccy]
    while sexp > iexp:
        if a % 10:
            raise Bad("%s.%s: a fraction of the smallest unit" % (path, key))
        a //= 10
        sexp -= 1
    while sexp < iexp:
        a *= 10
        sexp += 1
    if a > 2**63 - 1:
        raise Bad("%s.%s: too large" % (path, key))
    return a


def object_kind(obj, path, want):
    s = get_str(obj, path, "object", False)
    if s is not None and s != want:
        raise Bad("%s.object: not a %s" % (path, want))


def meta(obj, path, key):
    md = obj.get("metadata")
    if md is None:
        return None
    if type(md) is not dict:
        raise Bad("%s.metadata: not an object" % path)
    return get_id(md, path + ".metadata", key, False, True)


def ref(obj, path, key):
    v = obj.get(key)
    if v is None:
        return None
    if type(v) is str:
        return check_id(v, path, key)
    if type(v) is not dict:
        raise Bad("%s.%s: not an id or an object" % (path, key))
    return get_id(v, path + "." + key, "id")


# A fact: [kind, txn, order_id, amount, currency, parent, status, refund_id]
def charge_fact(ch, path):
    object_kind(ch, path, "charge")
    txn = get_id(ch, path, "id")
    ccy = currency(ch, path)
    st = get_str(ch, path, "status")
    key = "amount"
    if st == "succeeded":
        cap = ch.get("captured")
        if cap is None:
            raise Bad("%s.captured: missing" % path)
        if type(cap) is not bool:
            raise Bad("%s.captured: not a boolean" % path)
        status = "completed" if cap else "pending"
        if cap and ch.get("amount_captured") is not None:
            key = "amount_captured"
    elif st in ("pending", "failed"):
        status = st
    else:
        raise Bad("%s.status: unknown charge status" % path)
    amt = stripe_amount(ch, path, key, ccy)
    return ["charge", txn, meta(ch, path, "order_id"), amt, ccy, None,
            status, None]


def refund_fact(re_, path, charge_id):
    object_kind(re_, path, "refund")
    txn = get_id(re_, path, "id")
    ccy = currency(re_, path)
    amt = stripe_amount(re_, path, "amount", ccy)
    st = get_str(re_, path, "status")
    if st not in REFUND_STATUS:
        raise Bad("%s.status: unknown refund status" % path)
    parent = ref(re_, path, "charge")
    if charge_id and not parent:
        parent = charge_id
    elif charge_id and parent != charge_id:
        raise Bad("%s.charge: not the charge it is listed under" % path)
    return ["refund", txn, meta(re_, path, "order_id"), amt, ccy, parent,
            REFUND_STATUS[st], meta(re_, path, "refund_id")]


def parse(line):
    """(event id, type, facts) of one line, or raises Bad."""
    if b"\0" in line:
        raise Bad("a NUL byte")
    try:
        ev = json.loads(line, object_pairs_hook=no_dups)
    except ValueError as e:
        raise Bad("invalid JSON: %s" % e)
    if type(ev) is not dict:
        raise Bad("not a JSON object")
    if too_deep(ev, 1):
        raise Bad("nesting deeper than %d levels" % DEPTH_MAX)
    eid = get_id(ev, "", "id", False)
    t = get_id(ev, "", "type")
    data = get_object(ev, "", "data")
    obj = get_object(data, "data", "object")
    p = "data.object"
    if t in CHARGES:
        return eid, t, [charge_fact(obj, p)]
    if t in REFUNDS:
        return eid, t, [refund_fact(obj, p, None)]
    if t == "charge.refunded":
        out = [None]
        refunds = obj.get("refunds")
        data = None
        if refunds is not None:
            if type(refunds) is not dict:
                raise Bad("%s.refunds: not an object" % p)
            data = refunds.get("data")
            if data is not None and type(data) is not list:
                raise Bad("%s.refunds.data: not an array" % p)
            if data and len(data) > 100:
                raise Bad("%s.refunds.data: more than 100 refunds" % p)
        out[0] = charge_fact(obj, p)
        for i, r in enumerate(data or []):
            rp = "%s.refunds.data[%d]" % (p, i)
            if type(r) is not dict:
                raise Bad("%s: not an object" % rp)
            out.append(refund_fact(r, rp, out[0][1]))
        return eid, t, out
    return eid, t, None  # ignored: moves no money


def quoted(s):
    b = s.encode()
    out = "".join(chr(c) if 0x20 <= c < 0x7f and c not in (0x27, 0x5c)
                  else "\\" + chr(c) if c in (0x27, 0x5c)
                  else "\\x%02x" % c for c in b[:64])
    if len(b) > 64:
        return "'%s'... (%d bytes)" % (out, len(b))
    return "'%s'" % out


def money(amount, ccy):
    e = ISO[ccy]
    if e == 0:
        return str(amount)
    return "%d.%0*d" % (amount // 10**e, e, amount % 10**e)


def moves(kind, a, b):
    if a == "pending":
        return b in ("completed", "failed")
    if a == "completed":
        return b == "reversed" or (kind == "refund" and b == "failed")
    return False


def reaches(kind, a, b):
    return a == b or moves(kind, a, b) or any(
        moves(kind, a, m) and moves(kind, m, b)
        for m in ("pending", "completed", "failed", "reversed"))


class Store:
    def __init__(self, db, now):
        self.db = db
        self.now = now

    def flag(self, kind, txn, why, out):
        self.db.execute(EVENT, (self.now, kind, txn,
                                "stripe %s: %s" % (txn, why)))
        out["status"] = max(out["status"], 1)
        out["reason"].append(why)

    def move_state(self, oid, state, charge, ccy, out):
        cur = STATE_RANK.get(state)
        if cur is None or ccy is None:
            return
        charged, refunded = self.db.execute(TOTALS, (oid, ccy)).fetchone()
        want = cur
        if charged > 0 and charged >= charge and want < 1:
            want = 1
        if want >= 1 and refunded > 0:
            want = 3 if refunded >= charged else max(want, 2)
        if want != cur:
            self.db.execute(SET_STATE, (oid, STATE_NAME[want]))
            out["reason"].append("order %s %s -> %s" % (
                quoted(oid), STATE_NAME[cur], STATE_NAME[want]))

    def consequences(self, f, stored, fresh, out):
        kind, txn, order_id, amt, ccy, parent, status, refund_id = f
        named = stored[2] if stored and stored[2] else order_id
        rid = stored[6] if stored and stored[6] else refund_id
        via = None
        if not named and kind == "refund":
            p = stored[5] if stored and stored[5] else parent
            if p:
                r = self.db.execute(PARENT, ("stripe", p)).fetchone()
                via = r[0] if r else None
        o = self.db.execute(ORDER, (named or via,)).fetchone()
        if named and o is None:
            if fresh:
                self.flag("payment_unknown_order", txn,
                          "order %s is unknown" % quoted(named), out)
            return
        if (o is not None and status == "completed" and kind == "charge"
                and o[1] is not None and (o[1] != amt or o[2] != ccy)):
            self.flag("payment_mismatch", txn,
                      "charge %s %s differs from the pinned charge %s %s "
                      "of order %s" % (money(amt, ccy), ccy,
                                       money(o[1], o[2]), o[2],
                                       quoted(named)), out)
        if status == "completed" and kind == "refund" and rid:
            r = self.db.execute(REFUND, (rid,)).fetchone()
            if r is not None and (r[0] != amt or r[1] != ccy):
                self.flag("refund_mismatch", txn,
                          "refund %s paid %s %s where %s %s was owed" % (
                              quoted(rid), money(amt, ccy), ccy,
                              money(r[0], r[1]), r[1]), out)
        if o is not None:
            self.move_state(named or via, o[0], o[1], o[2], out)

    def record(self, eid, etype, f, sha):
        kind, txn, order_id, amt, ccy, parent, status, refund_id = f
        out = {"status": 0, "reason": []}
        row = self.db.execute(FIND, ("stripe", txn)).fetchone()
        if row is None:
            self.db.execute(INSERT, (
                "stripe", txn, kind, order_id, amt, ccy, status,
                parent if kind == "refund" else None, etype, sha, self.now,
                refund_id if kind == "refund" else None, eid))
            self.consequences(f, None, True, out)
            return "recorded", out
        pid, skind, sorder, samt, sccy, sparent, srefund, sstatus = row
        why = None
        if skind != kind:
            why = "stored as a %s, not a %s" % (skind, kind)
        elif samt != amt or sccy != ccy:
            why = "stored with amount %s %s, not %s %s" % (
                money(samt, sccy), sccy, money(amt, ccy), ccy)
        elif sorder and order_id and sorder != order_id:
            why = "stored for order %s, not %s" % (quoted(sorder),
                                                   quoted(order_id))
        elif sparent and parent and sparent != parent:
            why = "stored as a refund of %s, not of %s" % (quoted(sparent),
                                                           quoted(parent))
        elif srefund and refund_id and srefund != refund_id:
            why = "stored with refund_id %s, not %s" % (quoted(srefund),
                                                        quoted(refund_id))
        if why is None and sstatus == status:
            out["reason"].append("already recorded")
            return "duplicate", out
        if why is None and moves(kind, sstatus, status):
            out["reason"].append("status %s -> %s" % (sstatus, status))
            self.db.execute(STATUS, (pid, status, etype, eid, sha,
                                     self.now))
            self.consequences(f, row, False, out)
            return "recorded", out
        if why is None and reaches(kind, status, sstatus):
            out["reason"].append("status %s kept: %s is older" % (sstatus,
                                                                 status))
            return "duplicate", out
        if why is None:
            why = "status %s cannot follow %s" % (status, sstatus)
        self.db.execute(EVENT, (self.now, "payment_conflict", txn,
                                "stripe %s: %s" % (txn, why)))
        out["status"] = 65
        out["reason"].append(why)
        return "conflict", out


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
    store = Store(db, now)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["gateway", "gateway_txn_id", "kind", "order_id", "amount",
                  "currency", "result", "reason"])
    counts = {"recorded": 0, "duplicate": 0, "conflict": 0, "rejected": 0}
    n = worst = 0
    with open(a.events, "rb") as f:
        pending = []
        lineno = 0
        for line in f:
            lineno += 1
            if not line.strip(b" \t\r\n"):
                continue
            sha = hashlib.sha256(line).hexdigest()  # newline included
            try:
                pending.append((sha, parse(line)))
            except Bad as e:
                pending.append((sha, "%s:%d: %s" % (a.events, lineno, e)))
            n += 1
            if len(pending) == a.batch:
                worst = max(worst, run_batch(db, store, pending, out, counts))
                pending = []
        if pending:
            worst = max(worst, run_batch(db, store, pending, out, counts))
    db.close()
    print("%d events, %d recorded, %d duplicate, %d conflict, %d rejected" % (
        n, counts["recorded"], counts["duplicate"], counts["conflict"],
        counts["rejected"]), file=sys.stderr)
    return worst


def run_batch(db, store, pending, out, counts):
    """One transaction; then the messages and rows, in input order."""
    worst = 0
    rows = []
    db.execute("BEGIN IMMEDIATE")
    for sha, ev in pending:
        if isinstance(ev, str):
            rows.append((ev, None))
            continue
        eid, etype, facts = ev
        if facts is None:
            rows.append((None, [["stripe", None, None, None, None, None,
                                 "ignored", "event type %s moves no money"
                                 % quoted(etype)]]))
            continue
        got = []
        for f in facts:
            result, o = store.record(eid, etype, f, sha)
            counts[result] += 1
            worst = max(worst, o["status"])
            got.append(["stripe", f[1], f[0], f[2], money(f[3], f[4]),
                        f[4], result, "; ".join(o["reason"])])
        rows.append((None, got))
    db.execute("COMMIT")
    for msg, got in rows:
        if msg is not None:
            print(msg, file=sys.stderr)
            counts["rejected"] += 1
            worst = max(worst, 65)
            out.writerow(["stripe", None, None, None, None, None, "rejected",
                          msg.split(": ", 1)[1]])
        else:
            out.writerows(got)
    return worst


if __name__ == "__main__":
    sys.exit(main())
