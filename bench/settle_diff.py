#!/usr/bin/env python3
"""settle-diff's comparison as a plain script: python3 csv + sqlite3.

    settle_diff.py DB GATEWAY FILE

Reads a Stripe itemized report or a PayPal STL report (the columns
gen-settle.py --plain writes; told apart by the first row) with the csv
module, the gateway's payments and their current status from the database
with sqlite3, matches them as settle-diff does and prints kind,
gateway_txn_id, ledger amount and settled amount in minor units, and the
currency, of every discrepancy (CSV, no header, unsorted).
"""

import csv
import datetime
import sqlite3
import sys

EXP = {"JPY": 0, "KWD": 3}


def minor(text):
    """A major-unit decimal written with the currency's digits."""
    return int(text.replace(".", ""))


def stripe(f):
    r = csv.reader(f)
    cols = {c: i for i, c in enumerate(next(r))}
    cat, src, chg = (cols[c] for c in ("reporting_category", "source_id",
                                       "charge_id"))
    cur, gross, cfa, cfc, at = (cols[c] for c in (
        "currency", "gross", "customer_facing_amount",
        "customer_facing_currency", "created_utc"))
    for line, row in enumerate(r, 2):
        c = row[cat]
        kind = {"charge": "charge", "refund": "refund",
                "dispute": "reversal"}.get(c, "other")
        txn = (row[chg] or row[src]) if c == "charge" else \
            row[src] if kind != "other" else ""
        ref = row[chg] if kind == "reversal" else ""
        if row[cfc] and row[cfc].upper() != row[cur].upper():
            mag, ccy = abs(minor(row[cfa])), row[cfc].upper()
        else:
            mag, ccy = abs(minor(row[gross])), row[cur].upper()
        yield line, kind, txn, ref, mag, ccy, row[at]


def paypal(f):
    cols = None
    for line, row in enumerate(csv.reader(f), 1):
        if row[0] == "CH":
            cols = {c: i for i, c in enumerate(row)}
            tid, ref, code, done, amt, cur = (cols[c] for c in (
                "Transaction ID", "PayPal Reference ID",
                "Transaction Event Code", "Transaction Completion Date",
                "Gross Transaction Amount", "Gross Transaction Currency"))
        if row[0] != "SB":
            continue
        ev = row[code]
        kind = "charge" if ev.startswith("T00") else "refund" \
            if ev == "T1107" else "reversal" if ev in ("T1106", "T1201") \
            else "other"
        ccy = row[cur]
        mag = int(row[amt]) * 10 ** EXP.get(ccy, 2) // 100
        t = datetime.datetime.strptime(row[done], "%Y/%m/%d %H:%M:%S %z")
        t = t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        yield line, kind, row[tid], row[ref] if kind == "reversal" else "", \
            mag, ccy, t


def main():
    db, gateway, name = sys.argv[1:4]
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    led = {}
    for txn, kind, order, amount, ccy, at, status in con.execute(
            "SELECT gateway_txn_id, kind, order_id, amount, currency, "
            "replace(replace(received_at, 'T', ' '), 'Z', ''), "
            "coalesce((SELECT s.status FROM payment_status s WHERE "
            "s.payment_id = p.id ORDER BY s.id DESC LIMIT 1), p.status) "
            "FROM payments p WHERE gateway = ?", (gateway,)):
        led[txn] = [kind, order, amount, ccy, at, status, False]
    with open(name, newline="", encoding="utf-8") as f:
        rows = list((paypal if f.read(4) == '"RH"' else stripe)(
            (f.seek(0), f)[1]))
    out = csv.writer(sys.stdout, lineterminator="\n")
    first, settled = set(), {}
    times = [r[6] for r in rows if r[1] in ("charge", "refund")]
    lo, hi = min(times), max(times)
    for line, kind, txn, ref, mag, ccy, at in rows:
        if kind == "other":
            continue
        if txn:
            if txn in first:
                out.writerow(["duplicate_in_settlement", txn, "", mag, ccy])
                continue
            first.add(txn)
        if kind == "reversal":
            l = led.get(ref)
            if l is None or l[0] != "charge":
                out.writerow(["missing_in_ledger", ref, "", mag, ccy])
                continue
            l[6] = True
            if l[5] not in ("reversed", "disputed"):
                out.writerow(["status_mismatch", ref, l[2], mag, ccy])
            continue
        l = led.get(txn)
        if l is None:
            out.writerow(["missing_in_ledger", txn, "", mag, ccy])
            continue
        l[6] = True
        if l[0] != kind:
            out.writerow(["amount_mismatch", txn, l[2], mag, ccy])
            continue
        if kind == "charge":
            settled[l[1]] = settled.get(l[1], 0) + 1
        if l[3] != ccy:
            out.writerow(["currency_mismatch", txn, l[2], mag, ccy])
        elif l[5] in ("pending", "failed"):
            out.writerow(["status_mismatch", txn, l[2], mag, ccy])
        elif l[2] != mag:
            out.writerow(["amount_mismatch", txn, l[2], mag, ccy])
    for txn, l in led.items():
        if l[6] or not lo <= l[4] <= hi:
            continue
        kind = "duplicate_in_ledger" if l[0] == "charge" and \
            settled.get(l[1]) else "missing_in_settlement"
        out.writerow([kind, txn, l[2], "", l[3]])


if __name__ == "__main__":
    main()
