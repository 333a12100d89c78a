#!/usr/bin/env python3
"""Money oracle: random cases checked against exact rational arithmetic.

    oracle.py TEST_TOOL

Generates random cases (conversions, effective rates, allocations, amount
parsing and formatting, rate comparison and the drift check), feeds them to
`TEST_TOOL money batch` in one process, computes every answer with
fractions.Fraction, and counts the differences. The seed comes from
DG_ORACLE_SEED (default fixed), the number of cases from DG_ORACLE_CASES.
Prints one summary line on stdout; differences go to stderr; exits 1 when
there is any.
"""

import os
import random
import subprocess
import sys
import time
from fractions import Fraction

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1
EXPONENTS = (0, 2, 3, 4)
MODES = ("half-up", "half-even")
# Rates that make exact ties (x.5 minor units) common.
TIE_RATES = ("2", "0.5", "1.5", "0.25", "1.25", "2.5", "4", "5", "8",
             "0.2", "0.125", "1.6", "0.04", "12.5", "0.0625", "3.2")
MAX_DIFFS_SHOWN = 10


def fmt_decimal(n, k):
    """Text of n * 10^-k for n >= 0: k fraction digits, or zeros added."""
    if k <= 0:
        return str(n) + "0" * -k
    p = 10 ** k
    return "%d.%s" % (n // p, str(n % p).zfill(k))


def fmt_amount(v, e):
    text = fmt_decimal(abs(v), e)
    return "-" + text if v < 0 else text


def round_frac(x, mode):
    neg = x < 0
    y = -x if neg else x
    q = y.numerator // y.denominator
    r = y - q
    half = Fraction(1, 2)
    if r > half or (r == half and (mode == "half-up" or q % 2 == 1)):
        q += 1
    return -q if neg else q


def fits(v):
    return INT64_MIN <= v <= INT64_MAX


class Gen:
    def __init__(self, rng):
        self.r = rng

    def rate(self):
        """A rate text from 0.0001 to 100000 with up to 10 significant
        digits, sometimes with published trailing zeros."""
        r = self.r
        k = r.randint(1, 10)
        c = r.randint(10 ** (k - 1), 10 ** k - 1)
        lead = r.randint(-4, 4)  # decimal exponent of the leading digit
        scale = k - 1 - lead
        if scale > 0 and r.random() < 0.1:
            z = r.randint(1, 3)
            c *= 10 ** z
            scale += z
        return fmt_decimal(c, scale)

    def rate_extreme(self):
        """Any rate dg_rate_parse takes: up to 18 significant digits, up
        to 18 integer digits, up to 45 decimals."""
        r = self.r
        k = r.randint(1, 18)
        c = r.randint(10 ** (k - 1), 10 ** k - 1)
        lead = r.randint(max(k - 46, -30), 17)
        return fmt_decimal(c, k - 1 - lead)

    def any_rate(self):
        return self.rate_extreme() if self.r.random() < 0.05 else self.rate()

    def amount(self):
        r = self.r
        u = r.random()
        if u < 0.35:
            v = r.randint(0, 10 ** 15)
        elif u < 0.65:
            v = r.randint(0, 10 ** r.randint(0, 15))
        elif u < 0.75:
            v = r.randint(0, 1000)
        elif u < 0.80:
            v = INT64_MAX - r.randint(0, 10 ** r.randint(0, 18))
        else:
            v = r.randint(0, 10 ** r.randint(0, 18))
        if r.random() < 0.5:
            v = -v
        if r.random() < 0.002:
            v = INT64_MIN
        return v


def case_convert(g):
    r = g.r
    a = g.amount()
    fe, te = r.choice(EXPONENTS), r.choice(EXPONENTS)
    mode = r.choice(MODES)
    kind = r.random()
    pick = (lambda: r.choice(TIE_RATES)) if r.random() < 0.3 else g.any_rate
    mul = div = "-"
    if kind < 0.3:
        mul = pick()
    elif kind < 0.6:
        div = pick()
    elif kind < 0.95:
        mul, div = pick(), pick()
    x = Fraction(a) * Fraction(10) ** (te - fe)
    if mul != "-":
        x *= Fraction(mul)
    if div != "-":
        x /= Fraction(div)
    v = round_frac(x, mode)
    want = str(v) if fits(v) else "error overflow"
    return "convert %d %d %d %s %s %s" % (a, fe, te, mul, div, mode), want


def effective_text(v):
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
            return fmt_decimal(n, k)
    e10 = len(str(v.numerator)) - len(str(v.denominator))
    while Fraction(10) ** e10 > v:
        e10 -= 1
    while Fraction(10) ** (e10 + 1) <= v:
        e10 += 1
    scaled = v / Fraction(10) ** (e10 - 14)
    n = scaled.numerator // scaled.denominator
    if scaled - n >= Fraction(1, 2):
        n += 1
    if n == 10 ** 15:
        n //= 10
        e10 += 1
    return fmt_decimal(n, 14 - e10)


def case_effective(g):
    r = g.r
    kind = r.random()
    mul = div = "-"
    if kind < 0.2:
        mul = g.any_rate()
    elif kind < 0.4:
        div = g.any_rate()
    elif kind < 0.98:
        mul, div = g.any_rate(), g.any_rate()
    v = Fraction(1)
    if mul != "-":
        v *= Fraction(mul)
    if div != "-":
        v /= Fraction(div)
    return "effective %s %s" % (mul, div), effective_text(v)


def case_allocate(g):
    r = g.r
    n = r.randint(1, 50)
    u = r.random()
    if u < 0.3:
        w = [r.randint(0, 10 ** 6) for _ in range(n)]
    elif u < 0.45:
        w = [r.choice((0, 0, 1, 2, 3)) for _ in range(n)]
    elif u < 0.6:
        w = [r.randint(1, 5)] * n
    elif u < 0.8:
        w = [r.randint(0, 10 ** r.randint(0, 12)) for _ in range(n)]
    elif u < 0.99:
        w = [r.randint(1, 10 ** 4) * r.choice((1, 10, 100)) for _ in range(n)]
    else:
        w = [r.randint(2 ** 61, 2 ** 62) for _ in range(n)]
    total = g.amount()
    s = sum(w)
    if s > INT64_MAX:
        want = "error overflow"
    elif s == 0:
        want = "error invalid argument"
    else:
        t = abs(total)
        q = [t * x // s for x in w]
        rem = [t * x % s for x in w]
        left = t - sum(q)
        for i in sorted(range(n), key=lambda i: (-rem[i], i))[:left]:
            q[i] += 1
        if total < 0:
            q = [-x for x in q]
        want = " ".join(str(x) for x in q)
    return "allocate %d %s" % (total, " ".join(str(x) for x in w)), want


def case_parse(g):
    r = g.r
    e = r.choice(EXPONENTS)
    neg = r.random() < 0.5
    ip = "".join(r.choice("0123456789") for _ in range(r.randint(1, 20)))
    nf = r.randint(0, 5)
    fp = "".join(r.choice("0123456789") for _ in range(nf))
    text = ("-" if neg else "") + ip + ("." + fp if nf else "")
    if nf > e:
        want = "error too many decimal places"
    else:
        v = int(ip) * 10 ** e + int((fp + "0" * e)[:e] or "0")
        v = -v if neg else v
        want = str(v) if fits(v) else "error overflow"
    return "parse %s %d" % (text, e), want


def case_format(g):
    v = g.amount()
    e = g.r.choice(EXPONENTS)
    return "format %d %d" % (v, e), fmt_amount(v, e)


def case_cmp(g):
    a = g.any_rate()
    b = a if g.r.random() < 0.1 else g.any_rate()
    fa, fb = Fraction(a), Fraction(b)
    return "cmp %s %s" % (a, b), str((fa > fb) - (fa < fb))


def case_moved(g):
    r = g.r
    b = g.any_rate()
    pct = r.choice(("2", "0.5", "2.25", "0", "1", "10", "0.01", "3.125"))
    fb = Fraction(b)
    u = r.random()
    a = None
    if u < 0.3:
        # exactly on the boundary, when that is a short enough decimal
        fa = fb * (1 + (1 if r.random() < 0.5 else -1) * Fraction(pct) / 100)
        for k in range(31):
            if (fa * 10 ** k).denominator == 1:
                n = int(fa * 10 ** k)
                if len(str(n)) <= 18:
                    a = fmt_decimal(n, k)
                break
    elif u < 0.8:
        # near b: b * (1 +- up to 5 %), cut to at most 18 digits
        f = fb * (1 + Fraction(r.randint(-5000, 5000), 100000))
        k = max(0, min(10, 18 - len(str(int(f)))))
        n = int(f * 10 ** k)
        if n > 0:
            a = fmt_decimal(n, k)
    if a is None or len(a.replace(".", "").lstrip("0")) > 18:
        a = g.any_rate()
    fa = Fraction(a)
    want = "1" if abs(fa - fb) * 100 > Fraction(pct) * fb else "0"
    return "moved %s %s %s" % (a, b, pct), want


# (generator, share of the cases)
CASES = (
    (case_convert, 0.55),
    (case_effective, 0.12),
    (case_allocate, 0.12),
    (case_parse, 0.07),
    (case_format, 0.05),
    (case_cmp, 0.03),
    (case_moved, 0.06),
)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: oracle.py TEST_TOOL\n")
        return 64
    tool = sys.argv[1]
    seed = int(os.environ.get("DG_ORACLE_SEED", "20260413"))
    total = int(os.environ.get("DG_ORACLE_CASES", "120000"))
    g = Gen(random.Random(seed))
    cases = []
    for fn, share in CASES:
        for _ in range(int(total * share)):
            cases.append(fn(g))
    g.r.shuffle(cases)

    start = time.monotonic()
    stdin = "".join(c[0] + "\n" for c in cases).encode()
    proc = subprocess.run([tool, "money", "batch"], input=stdin,
                          stdout=subprocess.PIPE)
    elapsed = time.monotonic() - start
    got = proc.stdout.decode().split("\n")
    if got and got[-1] == "":
        got.pop()
    if proc.returncode != 0 or len(got) != len(cases):
        sys.stderr.write("oracle: %s exited %d with %d answers for %d cases\n"
                         % (tool, proc.returncode, len(got), len(cases)))
        return 1

    diffs = [(c[0], c[1], a) for c, a in zip(cases, got) if c[1] != a]
    for line, want, have in diffs[:MAX_DIFFS_SHOWN]:
        sys.stderr.write("oracle: %s\n  want %s\n  got  %s\n"
                         % (line, want, have))
    kinds = {}
    for c in cases:
        op = c[0].split(" ", 1)[0]
        kinds[op] = kinds.get(op, 0) + 1
    print("%d cases (%s), seed %d, tool %.1f s, %d differences"
          % (len(cases), ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
             seed, elapsed, len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
