#!/usr/bin/env python3
"""Baseline for bench/refund-calc-1m.sh: what a user would write by hand.

Computes refund-calc's rows for a CSV of refund requests (order_id,
refund_id and one of all, lines, amount, charge_amount) against the pinned
orders of a daigou database, recording nothing: each row against the
refunds recorded in the database, not against the rows before it. Pinned
orders only (no fallback). Reads with sqlite3, computes with fractions, in
one read transaction; the live rate is the newest quotes on or before
today (DAIGOU_NOW), looked up once per pair.

usage: refund_calc.py DB FILE
"""
import csv
import datetime
import os
import re
import sqlite3
import sys
from fractions import Fraction

EXPONENTS = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3,
    "ISK": 0, "JOD": 3, "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3,
    "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "TRL": 0, "UGX": 0, "UYI": 0,
    "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}
COLUMNS = ["order_id", "refund_id", "refund_amount", "currency",
           "charge_refund", "charge_currency", "pinned_rate", "live_rate",
           "charge_refund_at_live", "fx_difference", "refunded_total",
           "refundable_remaining", "rate_source"]
BOOL = {"true": True, "1": True, "yes": True,
        "false": False, "0": False, "no": False}
AMOUNT = re.compile(r"[0-9]+(?:\.([0-9]+))?\Z")
LINE = re.compile(r"([0-9]+)(?::([0-9]+))?\Z")
HALF = Fraction(1, 2)


class Refused(Exception):
    pass


def parse_amount(field, s, e):
    m = AMOUNT.match(s)
    if not m:
        raise Refused("%s: '%s' is not an amount" % (field, s))
    frac = m.group(1) or ""
    if len(frac) > e:
        raise Refused("%s: '%s' has more than %d decimals" % (field, s, e))
    v = int(s.partition(".")[0]) * 10 ** e + int(frac.ljust(e, "0") or "0")
    if v <= 0:
        raise Refused("%s: must be greater than zero" % field)
    return v


def fmt(v, e):
    s = str(abs(v)).rjust(e + 1, "0")
    if e:
        s = s[:-e] + "." + s[-e:]
    return "-" + s if v < 0 else s


def rnd(x, mode):
    q, r = divmod(x.numerator, x.denominator)
    r = Fraction(r, x.denominator)
    if r > HALF or (r == HALF and (mode == "half-up" or q % 2)):
        q += 1
    return q


def convert(v, rate, fe, te, mode):
    return rnd(v * rate * Fraction(10) ** (te - fe), mode)


def decimal(n, k):
    """n * 10^-k as text, for n >= 0."""
    if k <= 0:
        return str(n) + "0" * -k
    return fmt(n, k)


def effective(v):
    """A rate as text: exact within 18 digits, else 15 (half-up)."""
    d = v.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        k = 0
        while (v * 10 ** k).denominator != 1:
            k += 1
        n = int(v * 10 ** k)
        while n % 10 == 0:
            n //= 10
            k -= 1
        if len(str(n)) <= 18:
            return decimal(n, k)
    e10 = len(str(v.numerator)) - len(str(v.denominator))
    while Fraction(10) ** e10 > v:
        e10 -= 1
    while Fraction(10) ** (e10 + 1) <= v:
        e10 += 1
    s = v / Fraction(10) ** (e10 - 14)
    n = s.numerator // s.denominator
    if s - n >= HALF:
        n += 1
    if n == 10 ** 15:
        n //= 10
        e10 += 1
    return decimal(n, 14 - e10)


def allocate(total, weights):
    """Largest remainder; ties to the lowest index."""
    s = sum(weights)
    q = [total * w // s for w in weights]
    rem = [total * w % s for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-rem[i], i))[
            :total - sum(q)]:
        q[i] += 1
    return q


class Live:
    """The newest quotes on or before today, as order-rate-pin chooses
    them: direct, inverse, or a cross through the provider's bases."""

    def __init__(self, db, today):
        self.db, self.today, self.legs, self.pairs = db, today, {}, {}
        self.bases = {}

    def leg(self, prov, base, quote):
        key = (prov, base, quote)
        if key not in self.legs:
            self.legs[key] = self.db.execute(
                "SELECT rate, as_of FROM rates WHERE provider = ? AND "
                "base = ? AND quote = ? AND as_of <= ? "
                "ORDER BY as_of DESC LIMIT 1",
                (prov, base, quote, self.today)).fetchone()
        return self.legs[key]

    def find(self, prov, frm, to):
        key = (prov, frm, to)
        if key in self.pairs:
            return self.pairs[key]
        best = None  # (as_of, rate)
        if frm == to:
            best = ("", Fraction(1))
        else:
            a = self.leg(prov, frm, to)
            if a:
                best = (a[1], Fraction(a[0]))
            a = self.leg(prov, to, frm)
            if a and (best is None or a[1] > best[0]):
                best = (a[1], 1 / Fraction(a[0]))
            if prov not in self.bases:
                self.bases[prov] = [r[0] for r in self.db.execute(
                    "SELECT DISTINCT base FROM rates WHERE provider = ? "
                    "ORDER BY base", (prov,))]
            for base in self.bases[prov]:
                if base in (frm, to):
                    continue
                a, b = self.leg(prov, base, to), self.leg(prov, base, frm)
                if not a or not b:
                    continue
                day = min(a[1], b[1])
                if best is None or day > best[0]:
                    best = (day, Fraction(a[0]) / Fraction(b[0]))
        r = None
        if best:
            r = (best[1], "1" if frm == to else effective(best[1]))
        self.pairs[key] = r
        return r


def refund(db, live, row):
    oid = row.get("order_id") or ""
    if not oid:
        raise Refused("order_id: missing")
    asked = {}
    for k in ("lines", "amount", "charge_amount"):
        if row.get(k):
            asked[k] = row[k]
    if row.get("all"):
        if row["all"].lower() not in BOOL:
            raise Refused("all: '%s' is not true or false" % row["all"])
        if BOOL[row["all"].lower()]:
            asked["all"] = True
    if len(asked) != 1:
        raise Refused("give exactly one of all, lines, amount, "
                      "charge_amount")
    (kind, spec), = asked.items()
    o = db.execute(
        "SELECT o.amount, o.currency, o.charge_currency, r.converted, "
        "r.provider, r.mul_rate, r.div_rate, r.effective_rate, r.rounding "
        "FROM orders o JOIN order_rates r ON r.order_id = o.order_id "
        "AND r.kind = 'charge' WHERE o.order_id = ?", (oid,)).fetchone()
    if not o:
        raise Refused("order '%s' has no pinned rate" % oid)
    O, ccy, kcy, T, prov, mul, div, eff, mode = o
    fe, te = EXPONENTS.get(ccy, 2), EXPONENTS.get(kcy, 2)
    rate = Fraction(mul or 1) / Fraction(div or 1)
    rc, rs = db.execute(
        "SELECT ifnull(sum(charge_refund), 0), ifnull(sum(refund_amount), 0) "
        "FROM refunds WHERE order_id = ?", (oid,)).fetchone()
    left_t, left_o = T - rc, O - rs
    where = "order '%s': " % oid
    if left_t <= 0 and (kind != "lines" or left_o <= 0):
        raise Refused(where + "is fully refunded: nothing remains to refund")

    def over(v, left, e, c):
        raise Refused(where + "refund of %s %s exceeds the refundable "
                      "remainder %s %s" % (fmt(v, e), c, fmt(left, e), c))

    if kind == "all":
        seller, charge = left_o, left_t
    elif kind == "lines":
        items = db.execute(
            "SELECT line, qty, amount FROM order_items WHERE order_id = ? "
            "ORDER BY line", (oid,)).fetchall()
        used = dict(db.execute(
            "SELECT l.line, sum(l.qty) FROM refund_lines l JOIN refunds r "
            "ON r.refund_id = l.refund_id WHERE r.order_id = ? "
            "GROUP BY l.line", (oid,)).fetchall())
        shares = allocate(T, [q * a for _, q, a in items])
        index = {line: i for i, (line, _, _) in enumerate(items)}
        take = {}
        for part in spec.split(","):
            m = LINE.match(part)
            if not m:
                raise Refused("lines: '%s' is not LINE or LINE:QTY" % part)
            line = int(m.group(1))
            if line not in index:
                raise Refused(where + "has no line %d" % line)
            if line in take:
                raise Refused("lines: line %d named twice" % line)
            q = items[index[line]][1]
            u = used.get(line, 0)
            if u >= q:
                raise Refused(where + "line %d is fully refunded" % line)
            k = q - u if m.group(2) is None else int(m.group(2))
            if k <= 0 or k > q - u:
                raise Refused(where + "line %d has %d units left, not %d"
                              % (line, q - u, k))
            take[line] = k
        seller = charge = 0
        closing = True
        for i, (line, q, a) in enumerate(items):
            u, k = used.get(line, 0), take.get(line, 0)
            if u + k < q:
                closing = False
            if k:
                base, extra = divmod(shares[i], q)
                charge += (k * base + min(u + k, extra) - min(u, extra))
                seller += k * a
        if closing:
            seller, charge = left_o, left_t
        elif charge > left_t:
            over(charge, left_t, te, kcy)
        elif seller > left_o:
            over(seller, left_o, fe, ccy)
    elif kind == "amount":
        seller = parse_amount("amount", spec, fe)
        if seller > left_o:
            over(seller, left_o, fe, ccy)
        if seller == left_o:
            charge = left_t
        else:
            charge = min(convert(seller, rate, fe, te, mode), left_t)
            if charge == 0:
                raise Refused(where + "%s %s converts to %s %s" % (
                    fmt(seller, fe), ccy, fmt(0, te), kcy))
    else:
        charge = parse_amount("charge_amount", spec, te)
        if charge > left_t:
            over(charge, left_t, te, kcy)
        if charge == left_t:
            seller = left_o
        else:
            seller = min(convert(charge, 1 / rate, te, fe, mode), left_o)
    lv = live.find(prov, ccy, kcy)
    at_live = lrate = diff = ""
    if lv:
        v = convert(seller, lv[0], fe, te, mode)
        lrate, at_live, diff = lv[1], fmt(v, te), fmt(charge - v, te)
    return [oid, row.get("refund_id") or "", fmt(seller, fe), ccy,
            fmt(charge, te), kcy, eff, lrate, at_live, diff,
            fmt(rc + charge, te), fmt(left_t - charge, te), "pinned"]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: refund_calc.py DB FILE")
    now = os.environ.get("DAIGOU_NOW")
    today = now[:10] if now else \
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True,
                         isolation_level=None)
    db.execute("BEGIN")
    live = Live(db, today)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    failed = 0
    with open(sys.argv[2], newline="") as f:
        rows = csv.DictReader(f)
        for row in rows:
            try:
                out.writerow(refund(db, live, row))
            except Refused as e:
                failed += 1
                sys.stderr.write("refund_calc.py: %s:%d: %s\n"
                                 % (sys.argv[2], rows.line_num, e))
    db.execute("COMMIT")
    return 65 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
