#!/usr/bin/env python3
"""Baseline for bench/order-rate-pin-1m.sh: what a user would write by hand.

Pins the orders of a CSV (order_id, amount, currency, charge_currency,
created_at, as bench/gen-orders.py writes them; no lines, no base
currency) into a daigou database that holds the provider's quotes, the
way order-rate-pin does: for each order the newest quotes on or before
its day, direct, inverse or cross through the provider's bases, whichever
is newest (direct first on a tie); the amount converted with exact
fractions and one half-up rounding; the effective rate as text, exact
within 18 digits, else 15 significant digits; the order, its one line
(qty 1, the whole amount) and its charge pin stored in the schema as it
is, one transaction per 1,000 orders. Orders are inserted, not looked up
first: the database is fresh. Quotes older than 5 days are refused, as
order-rate-pin's default --max-age.

usage: pin.py DB ORDERS.csv
"""
import csv
import datetime
import hashlib
import os
import sqlite3
import sys
from fractions import Fraction

PROVIDER = "ecb"
MAX_AGE = 5
BATCH = 1000
EXPONENTS = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3,
    "ISK": 0, "JOD": 3, "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3,
    "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "TRL": 0, "UGX": 0, "UYI": 0,
    "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}
HALF = Fraction(1, 2)


def parse_amount(s, e):
    whole, _, frac = s.partition(".")
    if len(frac) > e:
        raise ValueError("'%s' has more than %d decimals" % (s, e))
    return int(whole) * 10 ** e + int(frac.ljust(e, "0") or "0")


def half_up(x):
    q, r = divmod(x.numerator, x.denominator)
    return q + 1 if 2 * r >= x.denominator else q


def decimal(n, k):
    """n * 10^-k as text, for n >= 0."""
    if k <= 0:
        return str(n) + "0" * -k
    s = str(n).rjust(k + 1, "0")
    return s[:-k] + "." + s[-k:]


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
        while n % 10 == 0 and k > 0:
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


class Quotes:
    """The newest quotes on or before a day, looked up once per pair and
    day, and the conversion they make."""

    def __init__(self, db):
        self.db, self.legs, self.pins = db, {}, {}
        self.bases = [r[0] for r in db.execute(
            "SELECT DISTINCT base FROM rates WHERE provider = ? ORDER BY base",
            (PROVIDER,))]

    def leg(self, base, quote, day):
        key = (base, quote, day)
        if key not in self.legs:
            r = self.db.execute(
                "SELECT id, rate, as_of FROM rates WHERE provider = ? AND "
                "base = ? AND quote = ? AND as_of <= ? "
                "ORDER BY as_of DESC LIMIT 1",
                (PROVIDER, base, quote, day)).fetchone()
            self.legs[key] = r and (r[0], r[1], r[2], Fraction(r[1]))
        return self.legs[key]

    def pin(self, frm, to, day):
        """(method, mul leg, div leg, as_of, rate, effective text)."""
        key = (frm, to, day)
        if key in self.pins:
            return self.pins[key]
        if frm == to:
            p = ("identity", None, None, None, Fraction(1), "1")
            self.pins[key] = p
            return p
        best = None  # (as_of, method, mul, div)
        a = self.leg(frm, to, day)
        if a:
            best = (a[2], "direct", a, None)
        a = self.leg(to, frm, day)
        if a and (best is None or a[2] > best[0]):
            best = (a[2], "inverse", None, a)
        for base in self.bases:
            if base in (frm, to):
                continue
            a, b = self.leg(base, to, day), self.leg(base, frm, day)
            if not a or not b:
                continue
            as_of = min(a[2], b[2])
            if best is None or as_of > best[0]:
                best = (as_of, "cross", a, b)
        p = None
        if best:
            as_of, method, mul, div = best
            age = (datetime.date.fromisoformat(day) -
                   datetime.date.fromisoformat(as_of)).days
            if age <= MAX_AGE:
                rate = (mul[3] if mul else 1) / (div[3] if div else 1)
                p = (method, mul, div, as_of, rate, effective(rate))
        self.pins[key] = p
        return p


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: pin.py DB ORDERS.csv")
    now = os.environ.get("DAIGOU_NOW") or \
        datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    # The hash is stored as the schema declares it: hex text or 32 bytes.
    binary = any(r[1] == "content_sha256" and r[2].upper() == "BLOB"
                 for r in db.execute("PRAGMA table_info(orders)"))
    quotes = Quotes(db)
    orders, items, rates = [], [], []
    failed = 0

    def flush():
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO orders (order_id, amount, currency, "
            "charge_currency, base_currency, created_at, content_sha256) "
            "VALUES (?, ?, ?, ?, NULL, ?, ?)", orders)
        db.executemany(
            "INSERT INTO order_items (order_id, line, sku, qty, amount) "
            "VALUES (?, 1, NULL, 1, ?)", items)
        db.executemany(
            "INSERT INTO order_rates (order_id, kind, from_currency, "
            "to_currency, amount, converted, method, provider, "
            "mul_rate_id, div_rate_id, mul_rate, div_rate, "
            "effective_rate, rounding, rate_as_of, pinned_at) VALUES "
            "(?, 'charge', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'half-up', ?, ?)",
            rates)
        db.execute("COMMIT")
        orders.clear()
        items.clear()
        rates.clear()

    with open(sys.argv[2], newline="") as f:
        for row in csv.DictReader(f):
            oid, ccy, to = row["order_id"], row["currency"], \
                row["charge_currency"]
            created = row["created_at"]
            fe, te = EXPONENTS.get(ccy, 2), EXPONENTS.get(to, 2)
            amount = parse_amount(row["amount"], fe)
            p = quotes.pin(ccy, to, created[:10])
            converted = p and half_up(amount * p[4] * Fraction(10) **
                                      (te - fe))
            if not converted:
                failed += 1
                print("pin.py: order '%s': no rate or converts to zero"
                      % oid, file=sys.stderr)
                continue
            method, mul, div, as_of, _, eff = p
            h = hashlib.sha256(("order v1\n%d\n%s\n%s\n\n1\t1\t%d\t\x01\n"
                                % (amount, ccy, to, amount)).encode())
            orders.append((oid, amount, ccy, to, created,
                           h.digest() if binary else h.hexdigest()))
            items.append((oid, amount))
            rates.append((oid, ccy, to, amount, converted, method,
                          None if method == "identity" else PROVIDER,
                          mul and mul[0], div and div[0], mul and mul[1],
                          div and div[1], eff, as_of, now))
            if len(orders) == BATCH:
                flush()
    if orders:
        flush()
    return 65 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
