#!/usr/bin/env python3
"""Deterministic order lines and refund requests for benchmarks.

Two commands, both seeded, both writing CSV with a header on stdout; the
same arguments and input always give the same bytes, on any Python 3
version (a SplitMix64 of its own, as in gen-orders.py, not the random
module).

  gen-refunds.py lines --seed S ORDERS.csv
      The lines of the orders that gen-orders.py wrote, as the --lines
      file of order-rate-pin: order_id,line,sku,qty,amount. An order gets
      no lines (order-rate-pin then stores one line of qty 1), or 1 to 4
      lines, numbered 1, 2, 3 ... or sometimes 10, 20, 30 ..., with
      quantities from 1 to 12 and now and then a free line (amount 0). A
      line's amount is ONE UNIT's price in the order's currency, with the
      currency's decimals, and qty x amount over the lines adds up to the
      order's amount exactly.

  gen-refunds.py refunds --db DB --count N --seed S [--record]
                         [--prefix P]
      N refund requests in refund-calc's batch CSV
      (order_id,refund_id,all,lines,amount,charge_amount) over the pinned
      orders of DB, a database written by order-rate-pin; it is only read.
      Refund ids are P plus the zero-padded row index (RF-0000000 ...).

      Without --record, each row is valid on its own against the order as
      pinned, with nothing refunded yet (refund-calc without --record
      computes every row against what is recorded, and rows do not see
      each other), so rows may refund the same order many times over. A
      shop's mix, orders drawn at random: line refunds ("2", "2:1,5:3"),
      refunds of a seller amount, of a charge amount, and of everything
      (all). Amounts are kept large enough that they never convert to
      zero.

      With --record, the rows are valid cumulatively, in file order, as
      refund-calc --record applies them: each order gets about N / orders
      rows, interleaved round-robin over the orders, and ends fully
      refunded. An order's rows either refund one unit of a line each
      ("2:1") and then every unit left ("2,5", the closing refund), or
      refund equal seller amounts and then all of the rest (all). Fails
      when the orders cannot take N such rows.
"""
import argparse
import csv
import sqlite3
import sys

MASK = (1 << 64) - 1

# ISO 4217 minor-unit digits that are not 2 (as src/lib/currency.c).
EXPONENTS = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3,
    "ISK": 0, "JOD": 3, "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3,
    "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "TRL": 0, "UGX": 0, "UYI": 0,
    "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}

# Lines per order (0: none given) and a line's quantity.
NLINES = [(0, 20), (1, 30), (2, 25), (3, 15), (4, 10)]
QTY = [(1, 50), (2, 25), (3, 10), (4, 4), (5, 3), (6, 3), (10, 3), (12, 2)]
# Compute-only refunds: what is asked for.
KINDS = [("lines", 50), ("amount", 20), ("charge_amount", 12), ("all", 18)]
ALL_TRUE = [("true", 8), ("1", 1), ("yes", 1)]


class SplitMix64:
    """The generator of gen-orders.py."""

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

    def between(self, lo, hi):
        """Uniform integer in [lo, hi]."""
        return lo + self.below(hi - lo + 1)

    def weighted(self, items):
        """items: [(value, weight), ...]"""
        total = sum(w for _, w in items)
        r = self.below(total)
        for value, w in items:
            if r < w:
                return value
            r -= w
        raise AssertionError("unreachable")

    def shuffle(self, xs):
        for i in range(len(xs) - 1, 0, -1):
            j = self.below(i + 1)
            xs[i], xs[j] = xs[j], xs[i]


def text(units, decimals):
    if decimals == 0:
        return str(units)
    scale = 10 ** decimals
    return "%d.%0*d" % (units // scale, decimals, units % scale)


def parse_amount(s):
    """'59.90' -> (5990, 2): gen-orders.py writes the currency's decimals."""
    whole, _, frac = s.partition(".")
    return int(whole + frac), len(frac)


def ceil_div(a, b):
    return -(-a // b)


# ------------------------------------------------------------------ lines

def split_order(rng, amount):
    """[(qty, unit_amount), ...] adding up to amount, or [] for none."""
    k = rng.weighted(NLINES)
    if k == 0:
        return []
    lines = []
    left = amount
    for _ in range(k - 1):
        if rng.below(20) == 0:
            lines.append((1, 0))  # a free gift
            continue
        q = rng.weighted(QTY)
        v = left * rng.between(20, 79) // 100  # leaves left >= 1
        a = v // q
        if a >= 100:
            a -= a % 10  # a shop's price: 1980, 12.90
        lines.append((q, a))
        left -= q * a
    q = rng.weighted(QTY)
    if left % q:
        q = 1
    lines.append((q, left // q))
    return lines


def cmd_lines(a):
    rng = SplitMix64(a.seed)
    out = sys.stdout
    out.write("order_id,line,sku,qty,amount\n")
    chunk = []
    with open(a.orders, newline="") as f:
        for row in csv.DictReader(f):
            amount, decimals = parse_amount(row["amount"])
            lines = split_order(rng, amount)
            step = 10 if lines and rng.below(10) == 0 else 1
            for i, (q, unit) in enumerate(lines):
                sku = "" if rng.below(10) == 0 else \
                    "SKU-%05d" % rng.below(100000)
                chunk.append("%s,%d,%s,%d,%s" % (
                    row["order_id"], (i + 1) * step, sku, q,
                    text(unit, decimals)))
            if len(chunk) >= 10000:
                out.write("\n".join(chunk) + "\n")
                chunk = []
    if chunk:
        out.write("\n".join(chunk) + "\n")


# ---------------------------------------------------------------- refunds

class Order:
    __slots__ = ("id", "amount", "cexp", "charge", "kexp", "lines", "units")

    def __init__(self, oid, amount, ccy, charge, ccy2):
        self.id = oid
        self.amount = amount  # O, seller minor units
        self.cexp = EXPONENTS.get(ccy, 2)
        self.charge = charge  # T, charge minor units
        self.kexp = EXPONENTS.get(ccy2, 2)
        self.lines = []  # [(line, qty, unit amount)]
        self.units = 0


def load_orders(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    orders, by_id = [], {}
    for oid, amount, ccy, charge, ccy2 in db.execute(
            "SELECT o.order_id, o.amount, o.currency, r.converted, "
            "o.charge_currency FROM orders o JOIN order_rates r "
            "ON r.order_id = o.order_id AND r.kind = 'charge' "
            "ORDER BY o.order_id"):
        o = Order(oid, amount, ccy, charge, ccy2)
        orders.append(o)
        by_id[oid] = o
    for oid, line, qty, unit in db.execute(
            "SELECT order_id, line, qty, amount FROM order_items "
            "ORDER BY order_id, line"):
        o = by_id.get(oid)
        if o is not None:
            o.lines.append((line, qty, unit))
            o.units += qty
    db.close()
    return [o for o in orders if o.charge > 0 and o.lines]


def nice(rng, v, lo, exp):
    """v, sometimes rounded down to whole currency units (not below lo)."""
    if exp > 0 and rng.below(2) == 0:
        w = v - v % 10 ** exp
        if w >= lo:
            return w
    return v


def compute_row(rng, o):
    """(all, lines, amount, charge_amount) valid against the unrefunded
    order."""
    O, T = o.amount, o.charge
    kind = rng.weighted(KINDS)
    if kind == "lines":
        n = len(o.lines)
        idx = list(range(n))
        rng.shuffle(idx)
        parts = []
        for i in sorted(idx[:1 + rng.below(min(n, 3))]):
            line, q, _ = o.lines[i]
            if q == 1 or rng.below(2) == 0:
                parts.append("%d" % line)
            else:
                parts.append("%d:%d" % (line, rng.between(1, q)))
        return "", ",".join(parts), "", ""
    if kind == "amount":
        # At least a tenth of the order, and enough to be 2 minor units
        # of the charge currency: never converts to zero.
        lo = max(ceil_div(O, 10), ceil_div(2 * O, T), 1)
        if lo <= O:
            v = O if rng.below(10) == 0 else rng.between(lo, O)
            return "", "", text(nice(rng, v, lo, o.cexp), o.cexp), ""
    if kind == "charge_amount":
        lo = max(ceil_div(T, 10), ceil_div(2 * T, O), 1)
        if lo <= T:
            v = T if rng.below(10) == 0 else rng.between(lo, T)
            return "", "", "", text(nice(rng, v, lo, o.kexp), o.kexp)
    return rng.weighted(ALL_TRUE), "", "", ""


def amount_pieces_ok(O, T, r):
    """Can r - 1 equal seller amounts of O // (r + 1) and then all be
    recorded in turn, each paying at least one minor unit? The rate is
    within 0.5 / O of T / O, as T is O converted and rounded once."""
    if r <= 1:
        return True
    p = O // (r + 1)
    return p >= 1 and p * (2 * T - 1) >= O and \
        (r - 1) * (p * (2 * T + 1) + O) < 2 * T * O


def record_capacity(o, limit):
    """The most rows an order can take in a record plan, up to limit."""
    r = 1
    while r < limit and amount_pieces_ok(o.amount, o.charge, r + 1):
        r += 1
    return max(r, min(o.units, limit))


def record_rows(rng, o, r):
    """r rows, valid in turn, leaving the order fully refunded."""
    if r == 0:
        return []
    by_units = r <= o.units
    if by_units and amount_pieces_ok(o.amount, o.charge, r):
        by_units = rng.below(2) == 0
    if by_units:
        units = [(line, unit) for line, q, unit in o.lines
                 for _ in range(q)]
        rng.shuffle(units)
        # The closing row must have something left to pay: a unit of the
        # dearest line (never a free one) stays for it.
        paid = max(range(len(units)), key=lambda i: units[i][1])
        units[paid], units[-1] = units[-1], units[paid]
        units = [line for line, _ in units]
        rows = [("", "%d:1" % line, "", "") for line in units[:r - 1]]
        done = {}
        for line in units[:r - 1]:
            done[line] = done.get(line, 0) + 1
        rest = [line for line, q, _ in o.lines if done.get(line, 0) < q]
        rows.append(("", ",".join("%d" % line for line in rest), "", ""))
        return rows
    p = text(o.amount // (r + 1), o.cexp)
    return [("", "", p, "")] * (r - 1) + [(rng.weighted(ALL_TRUE), "", "", "")]


def cmd_refunds(a):
    orders = load_orders(a.db)
    if a.count and not orders:
        sys.exit("gen-refunds.py: no pinned orders in %s" % a.db)
    rng = SplitMix64(a.seed)
    width = max(7, len(str(max(a.count - 1, 0))))
    out = sys.stdout
    out.write("order_id,refund_id,all,lines,amount,charge_amount\n")

    def fmt(k, oid, cols):
        lines = cols[1]
        if "," in lines:
            lines = '"%s"' % lines
        return "%s,%s%0*d,%s,%s,%s,%s" % (oid, a.prefix, width, k, cols[0],
                                          lines, cols[2], cols[3])

    chunk = []
    if not a.record:
        n = len(orders)
        for k in range(a.count):
            o = orders[rng.below(n)]
            chunk.append(fmt(k, o.id, compute_row(rng, o)))
            if len(chunk) >= 10000:
                out.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            out.write("\n".join(chunk) + "\n")
        return

    # Rows per order: count / orders each, then what some cannot take
    # goes to those that can take more.
    n = len(orders)
    target = ceil_div(a.count, n) if n else 0
    caps = [record_capacity(o, 4 * target + 4) for o in orders]
    rows = [0] * n
    left = a.count
    for i in range(n):
        rows[i] = min(a.count // n + (i < a.count % n), caps[i])
        left -= rows[i]
    while left > 0:
        gave = 0
        for i in range(n):
            if left and rows[i] < caps[i]:
                rows[i] += 1
                left -= 1
                gave += 1
        if not gave:
            sys.exit("gen-refunds.py: %d orders cannot take %d recorded "
                     "refunds (%d short): use more orders"
                     % (n, a.count, left))
    plans = [record_rows(rng, o, r) for o, r in zip(orders, rows)]
    k = 0
    for j in range(max(rows, default=0)):
        for i in range(n):
            if j < rows[i]:
                chunk.append(fmt(k, orders[i].id, plans[i][j]))
                k += 1
        if len(chunk) >= 10000:
            out.write("\n".join(chunk) + "\n")
            chunk = []
    if chunk:
        out.write("\n".join(chunk) + "\n")


def main():
    p = argparse.ArgumentParser(
        description="Write deterministic order lines or refund requests.")
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("lines", help="order lines for order-rate-pin --lines")
    pl.add_argument("--seed", type=int, required=True, help="generator seed")
    pl.add_argument("orders", help="orders CSV from gen-orders.py")
    pr = sub.add_parser("refunds", help="refund requests for refund-calc")
    pr.add_argument("--db", required=True, help="database of pinned orders")
    pr.add_argument("--count", type=int, required=True, help="rows to write")
    pr.add_argument("--seed", type=int, required=True, help="generator seed")
    pr.add_argument("--record", action="store_true",
                    help="rows valid in turn, for refund-calc --record")
    pr.add_argument("--prefix", default="RF-", help="refund id prefix")
    a = p.parse_args()
    if a.cmd == "lines":
        cmd_lines(a)
    else:
        if a.count < 0:
            p.error("--count must be 0 or more")
        cmd_refunds(a)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(141)
