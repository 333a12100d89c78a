#!/usr/bin/env python3
"""Deterministic order generator for benchmarks and stress tests.

Writes N orders as CSV with a header (order_id,amount,currency,
charge_currency[,created_at]) or, with --json, as JSON Lines with the same
fields, every value a string. The same --count, --seed and options always
give the same bytes, on any Python 3 version: the generator is a
SplitMix64 of its own, not the random module.

A shop's mix: orders in JPY, CNY, KRW, USD and GBP, charged in EUR, USD or
GBP. Amounts are integers of minor units turned into text with exactly the
currency's decimals (16500 JPY, 59.90 CNY, 129000 KRW, 24.99 USD), at
price points a shop would use. No binary floating point touches an amount.

Order ids are PREFIX plus the zero-padded index (ORD-0000000 ...), so two
runs with the same prefix and count name the same orders; use another
--prefix for orders that must not collide.

usage: gen-orders.py --count N --seed S [--json] [--prefix P]
                     [--since YYYY-MM-DD [--days D]]

--since adds created_at, spread evenly (and in order) over D days
(default 1) from midnight UTC of that date.
"""
import argparse
import datetime
import json
import sys

MASK = (1 << 64) - 1

# currency: (decimals, weight, [(low, high, step, weight), ...]) where a
# price is drawn uniformly from [low, high) in minor units, then rounded
# down to a multiple of step and ended like a shop's price.
CURRENCIES = {
    "JPY": (0, 30, [(300, 3000, 10, 3), (3000, 30000, 100, 5),
                    (30000, 200000, 1000, 2)]),
    "CNY": (2, 35, [(990, 10000, 10, 4), (10000, 100000, 100, 4),
                    (100000, 500000, 100, 2)]),
    "KRW": (0, 15, [(5000, 50000, 100, 4), (50000, 500000, 1000, 4),
                    (500000, 3000000, 10000, 2)]),
    "USD": (2, 12, [(499, 5000, 1, 4), (5000, 50000, 100, 4),
                    (50000, 150000, 100, 2)]),
    "GBP": (2, 8, [(350, 5000, 1, 4), (5000, 40000, 50, 4),
                   (40000, 120000, 100, 2)]),
}
CHARGE = [("EUR", 55), ("USD", 30), ("GBP", 15)]


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n), without modulo bias."""
        limit = (1 << 64) - (1 << 64) % n
        while True:
            v = self.next()
            if v < limit:
                return v % n

    def weighted(self, items):
        """items: [(value, weight), ...]"""
        total = sum(w for _, w in items)
        r = self.below(total)
        for value, w in items:
            if r < w:
                return value
            r -= w
        raise AssertionError("unreachable")


def price(rng, ranges):
    low, high, step, _ = rng.weighted(ranges)
    units = low + rng.below(high - low)
    units -= units % step
    if step >= 100 and rng.below(3) == 0:
        # 3990, 59.90, 129900: just under a round number
        units -= step // 10
    elif step == 1 and rng.below(2) == 0:
        units = units - units % 100 + 99  # 24.99
    return max(units, low)


def text(units, decimals):
    if decimals == 0:
        return str(units)
    scale = 10 ** decimals
    return "%d.%0*d" % (units // scale, decimals, units % scale)


def main():
    p = argparse.ArgumentParser(
        description="Write deterministic test orders as CSV or JSON Lines.")
    p.add_argument("--count", type=int, required=True, help="orders to write")
    p.add_argument("--seed", type=int, required=True, help="generator seed")
    p.add_argument("--json", action="store_true", help="JSON Lines, not CSV")
    p.add_argument("--prefix", default="ORD-", help="order id prefix")
    p.add_argument("--since", help="add created_at from this UTC date on")
    p.add_argument("--days", type=int, default=1,
                   help="days created_at spans (with --since)")
    a = p.parse_args()
    if a.count < 0:
        p.error("--count must be 0 or more")
    if a.days < 1:
        p.error("--days must be 1 or more")
    start = None
    if a.since is not None:
        try:
            d = datetime.date.fromisoformat(a.since)
        except ValueError:
            p.error("--since needs YYYY-MM-DD, not '%s'" % a.since)
        start = datetime.datetime(d.year, d.month, d.day,
                                  tzinfo=datetime.timezone.utc)
    span = a.days * 86400

    rng = SplitMix64(a.seed)
    ccys = [(c, v[1]) for c, v in CURRENCIES.items()]
    tables = {c: (v[0], [(r, r[3]) for r in v[2]])
              for c, v in CURRENCIES.items()}
    width = max(7, len(str(max(a.count - 1, 0))))
    out = sys.stdout
    fields = ["order_id", "amount", "currency", "charge_currency"]
    if start is not None:
        fields.append("created_at")
    if not a.json:
        out.write(",".join(fields) + "\n")
    chunk = []
    for i in range(a.count):
        ccy = rng.weighted(ccys)
        decimals, ranges = tables[ccy]
        row = ["%s%0*d" % (a.prefix, width, i),
               text(price(rng, ranges), decimals), ccy,
               rng.weighted(CHARGE)]
        if start is not None:
            t = start + datetime.timedelta(seconds=i * span // a.count)
            row.append(t.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if a.json:
            chunk.append(json.dumps(dict(zip(fields, row))))
        else:
            chunk.append(",".join(row))
        if len(chunk) >= 10000:
            out.write("\n".join(chunk) + "\n")
            chunk = []
    if chunk:
        out.write("\n".join(chunk) + "\n")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(141)
