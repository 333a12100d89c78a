#!/usr/bin/env python3
"""A reference of settle-diff's matching, for its property test.

    settle-ref.py [--format stripe|paypal] --ledger FILE [--gateway NAME]
                  [--from DATE] [--to DATE] [--threshold PCT] [--summary]
                  [--out PREFIX] FILE...
    settle-ref.py --batch FILE

Reads Stripe itemized balance reports and PayPal STL settlement reports
and a ledger CSV (gateway_txn_id, kind, order_id, amount, currency,
created_at, status) and prints what settle-diff prints on stdout: one CSV
row per discrepancy, or with --summary the per-currency figures; the exit
status is settle-diff's (0 within the threshold, 1 over it, 65 for a file
that is malformed or does not add up, with nothing on stdout).

Written from the interface text (issue "Matching" and "Output"), not from
settle-diff's code. Money is integer minor units throughout; percentages
are exact fractions; no float anywhere.
"""

import argparse
import csv
import datetime
import io
import re
import shlex
import sys
from fractions import Fraction

EXPONENT = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
            "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3}
KINDS = ("amount_mismatch", "currency_mismatch", "duplicate_in_ledger",
         "duplicate_in_settlement", "missing_in_ledger",
         "missing_in_settlement", "status_mismatch")
HEADER = ["kind", "gateway", "gateway_txn_id", "order_id", "ledger_amount",
          "settled_amount", "currency", "delta", "settled_at", "detail"]
SUMMARY = ["currency", "rows", "gross", "fees", "net", "matched_count",
           "matched_value", "mismatched_value", "mismatched_percent"]


class Bad(Exception):
    """A file that is malformed or does not add up: exit 65."""


def exponent(ccy):
    if not re.fullmatch(r"[A-Z]{3}", ccy):
        raise Bad("bad currency %r" % ccy)
    return EXPONENT.get(ccy, 2)


def parse_amount(text, ccy):
    """A major-unit decimal into signed minor units; more digits than the
    currency has is bad input."""
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d+))?", text)
    if not m:
        raise Bad("bad amount %r" % text)
    e = exponent(ccy)
    frac = m.group(3) or ""
    if len(frac) > e:
        raise Bad("too many digits in %r" % text)
    v = int(m.group(2)) * 10 ** e + int((frac + "0" * e)[:e] or "0")
    return -v if m.group(1) else v


def fmt(v, ccy):
    e = exponent(ccy)
    s = "-" if v < 0 else ""
    v = abs(v)
    if e == 0:
        return s + str(v)
    return "%s%d.%0*d" % (s, v // 10 ** e, e, v % 10 ** e)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Row:
    """One body row of a settlement file."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def ccy(self):
        """The currency compared with the ledger."""
        return self.cf_currency or self.currency

    @property
    def mag(self):
        """The magnitude compared with the ledger."""
        return abs(self.cf_amount if self.cf_currency else self.gross)


def read_text(name):
    if name == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(name, "rb") as f:
            data = f.read()
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def csv_rows(text):
    """(line, fields) for each record, line the 1-based line it starts on."""
    lines = text.splitlines(keepends=True)
    out = []
    i = 0
    while i < len(lines):
        start = i + 1
        buf = lines[i]
        i += 1
        while buf.count('"') % 2:
            if i >= len(lines):
                raise Bad("unterminated quote at line %d" % start)
            buf += lines[i]
            i += 1
        if buf.strip("\r\n") == "":
            continue
        out.append((start, next(csv.reader(io.StringIO(buf)))))
    return out


def read_stripe(name, text):
    rows = csv_rows(text)
    if not rows:
        raise Bad("empty file")
    cols = {c: i for i, c in enumerate(rows[0][1])}
    for need in ("created_utc", "currency", "gross", "fee", "net",
                 "reporting_category"):
        if need not in cols:
            raise Bad("no column %s" % need)

    def get(f, c):
        i = cols.get(c)
        return f[i] if i is not None and i < len(f) else ""

    out = []
    for line, f in rows[1:]:
        if len(f) != len(rows[0][1]):
            raise Bad("%s:%d: field count" % (name, line))
        ccy = get(f, "currency").upper()
        gross = parse_amount(get(f, "gross"), ccy)
        fee = parse_amount(get(f, "fee"), ccy)
        net = parse_amount(get(f, "net"), ccy)
        if gross - fee != net:
            raise Bad("%s:%d: gross - fee != net" % (name, line))
        cat = get(f, "reporting_category")
        cfc = get(f, "customer_facing_currency").upper()
        cfa = 0
        if cfc and cfc != ccy:
            cfa = parse_amount(get(f, "customer_facing_amount"), cfc)
        else:
            cfc = ""
        at = datetime.datetime.strptime(get(f, "created_utc"),
                                        "%Y-%m-%d %H:%M:%S")
        charge_id = get(f, "charge_id")
        source_id = get(f, "source_id")
        kind, txn, ref = "other", "", ""
        if cat == "charge":
            kind, txn = "charge", charge_id or source_id
        elif cat == "refund":
            kind, txn = "refund", source_id
        elif cat == "dispute":
            kind, txn, ref = "reversal", source_id, charge_id
        out.append(Row(kind=kind, what=cat, txn=txn, ref=ref,
                       order=get(f, "payment_metadata[order_id]"),
                       gross=gross, fee=fee, currency=ccy, cf_currency=cfc,
                       cf_amount=cfa, at=at, file=name, line=line))
    return out


def paypal_amount(text, ccy):
    """Hundredths of the currency's unit for every currency."""
    if not re.fullmatch(r"\d+", text):
        raise Bad("bad PayPal amount %r" % text)
    v = int(text) * 10 ** exponent(ccy)
    if v % 100:
        raise Bad("%s amount %s is not whole" % (ccy, text))
    return v // 100


def paypal_time(text):
    return datetime.datetime.strptime(text, "%Y/%m/%d %H:%M:%S %z") \
        .astimezone(datetime.timezone.utc).replace(tzinfo=None)


def read_paypal(name, text):
    out = []
    cols = None
    section = None      # {ccy: [credit, debit]} of the open section
    report = {}
    ended = False
    for line, f in csv_rows(text):
        t = f[0]
        if ended:
            raise Bad("%s:%d: after FF" % (name, line))
        if t == "SH":
            section = {}
        elif t == "CH":
            cols = {c: i for i, c in enumerate(f[1:], 1)}
        elif t == "SB":
            if section is None or cols is None:
                raise Bad("%s:%d: body outside a section" % (name, line))

            def get(c):
                i = cols.get(c)
                return f[i] if i is not None and i < len(f) else ""
            ccy = get("Gross Transaction Currency")
            amt = paypal_amount(get("Gross Transaction Amount"), ccy)
            dc = get("Transaction Debit or Credit")
            gross = amt if dc == "CR" else -amt
            fee = 0
            if get("Fee Amount"):
                fee = paypal_amount(get("Fee Amount"), ccy)
                if get("Fee Debit or Credit") == "CR":
                    fee = -fee
            s = section.setdefault(ccy, [0, 0])
            r = report.setdefault(ccy, [0, 0])
            s[0 if dc == "CR" else 1] += amt
            r[0 if dc == "CR" else 1] += amt
            code = get("Transaction Event Code")
            kind, txn, ref = "other", "", ""
            if code.startswith("T00"):
                kind, txn = "charge", get("Transaction ID")
            elif code == "T1107":
                kind, txn = "refund", get("Transaction ID")
            elif code in ("T1106", "T1201"):
                kind, txn = "reversal", get("Transaction ID")
                ref = get("PayPal Reference ID")
            out.append(Row(kind=kind, what=code, txn=txn, ref=ref,
                           order=get("Custom Field") or get("Invoice ID"),
                           gross=gross, fee=fee,
                           currency=ccy, cf_currency="", cf_amount=0,
                           at=paypal_time(get("Transaction Completion Date")),
                           file=name, line=line))
        elif t in ("SF", "RF"):
            tot = section if t == "SF" else report
            if tot is None:
                raise Bad("%s:%d: footer outside a section" % (name, line))
            ccy = f[1]
            want = tot.get(ccy, [0, 0])
            if [paypal_amount(f[2], ccy), paypal_amount(f[3], ccy)] != want:
                raise Bad("%s:%d: footer disagrees" % (name, line))
            tot.pop(ccy, None)
        elif t == "SC":
            if section:
                raise Bad("%s:%d: section not closed by SF" % (name, line))
            section = None
        elif t == "FF":
            ended = True
    if not ended or section is not None:
        raise Bad("%s: no FF" % name)
    return out


def read_ledger(path):
    led = {}
    rows = csv_rows(read_text(path))
    cols = {c: i for i, c in enumerate(rows[0][1])}
    for seq, (line, f) in enumerate(rows[1:]):
        def get(c):
            i = cols.get(c)
            return f[i] if i is not None and i < len(f) else ""
        ccy = get("currency")
        led[get("gateway_txn_id")] = Row(
            txn=get("gateway_txn_id"), kind=get("kind"),
            order=get("order_id"), amount=parse_amount(get("amount"), ccy),
            currency=ccy, status=get("status") or "completed",
            at=datetime.datetime.strptime(get("created_at"),
                                          "%Y-%m-%dT%H:%M:%SZ"),
            seq=seq, used=False)
    return led


def day(text, end):
    d = datetime.datetime.strptime(text, "%Y-%m-%d")
    return d + datetime.timedelta(seconds=86399) if end else d


def where(r):
    return "%s:%d" % (r.file, r.line)


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format")
    ap.add_argument("--ledger", required=True)
    ap.add_argument("--gateway")
    ap.add_argument("--from", dest="from_")
    ap.add_argument("--to")
    ap.add_argument("--threshold", default="0.5")
    ap.add_argument("--summary", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("files", nargs="+")
    return ap


def compare(a):
    """(report rows, summary rows, exit status): nothing but 65 for a file
    that is malformed or does not add up."""
    rows = []
    gateway = a.gateway
    try:
        for name in a.files:
            text = read_text(name)
            fmt_ = a.format
            if not fmt_:
                fmt_ = "paypal" if text.startswith('"RH"') or \
                    text.startswith("RH") else "stripe"
            gateway = gateway or fmt_
            rows += (read_paypal if fmt_ == "paypal" else read_stripe)(
                name, text)
    except Bad:
        return [], [], 65
    led = read_ledger(a.ledger)

    ts = [r.at for r in rows if r.kind in ("charge", "refund")]
    lo = day(a.from_, False) if a.from_ else (min(ts) if ts else None)
    hi = day(a.to, True) if a.to else (max(ts) if ts else None)

    discs = []          # (kind, txn, order, led, set, ccy, lccy, at, detail)
    tot = {}

    def total(ccy):
        return tot.setdefault(ccy, dict(rows=0, gross=0, fees=0, net=0,
                                        matched_count=0, matched_value=0,
                                        mismatched=0, settled=0))

    def disc(kind, txn, order, lamt, samt, ccy, at, detail, lccy=None,
             cost=0):
        discs.append(dict(kind=kind, txn=txn, order=order, lamt=lamt,
                          samt=samt, ccy=ccy, lccy=lccy or ccy, at=at,
                          detail=detail, seq=len(discs)))
        total(ccy)["mismatched"] += cost

    first = {}
    settled_charges = {}    # order -> ledger charges settled by file charges
    for r in rows:
        t = total(r.currency)
        t["rows"] += 1
        t["gross"] += r.gross
        t["fees"] += r.fee
        t["net"] += r.gross - r.fee
        if r.kind in ("charge", "refund"):
            total(r.ccy)["settled"] += r.mag
        suffix = ""
        if r.cf_currency:
            suffix = ", customer-facing; settled in %s" % r.currency
        if r.kind in ("charge", "refund", "reversal") and r.txn:
            if r.txn in first:
                f = first[r.txn]
                what = r.what if r.kind == "reversal" else r.kind
                disc("duplicate_in_settlement", r.txn, r.order, None, r.mag,
                     r.ccy, r.at, "%s again at %s, first at %s"
                     % (what, where(r), where(f)), cost=r.mag)
                continue
            first[r.txn] = r
        if r.kind == "reversal":
            l = led.get(r.ref)
            order = r.order or (l.order if l else "")
            if l is None or l.kind != "charge":
                disc("missing_in_ledger", r.ref, order, None, r.mag, r.ccy,
                     r.at, "%s at %s of a charge the ledger does not hold"
                     % (r.what, where(r)), cost=r.mag)
                continue
            l.used = True
            if l.status in ("reversed", "disputed"):
                continue
            disc("status_mismatch", r.ref, order, l.amount, r.mag, r.ccy,
                 r.at, "%s at %s, the ledger holds the charge as %s"
                 % (r.what, where(r), l.status), cost=r.mag)
            continue
        if r.kind != "charge" and r.kind != "refund":
            continue
        l = led.get(r.txn)
        if l is None:
            disc("missing_in_ledger", r.txn, r.order, None, r.mag, r.ccy,
                 r.at, "%s at %s" % (r.kind, where(r)), cost=r.mag)
            continue
        l.used = True
        order = r.order or l.order
        if l.kind != r.kind:
            disc("amount_mismatch", r.txn, order, l.amount, r.mag, r.ccy,
                 r.at, "settled as a %s at %s, the ledger holds a %s"
                 % (r.kind, where(r), l.kind),
                 cost=abs(r.mag - l.amount))
            continue
        if r.kind == "charge":
            settled_charges[l.order] = settled_charges.get(l.order, 0) + 1
        if l.currency != r.ccy:
            disc("currency_mismatch", r.txn, order, l.amount, r.mag, r.ccy,
                 r.at, "%s at %s settled in %s%s, the ledger holds %s"
                 % (r.kind, where(r), r.ccy,
                    " (customer-facing)" if r.cf_currency else "",
                    l.currency),
                 lccy=l.currency, cost=r.mag)
        elif l.status in ("pending", "failed"):
            disc("status_mismatch", r.txn, order, l.amount, r.mag, r.ccy,
                 r.at, "%s at %s, the ledger holds it as %s"
                 % (r.kind, where(r), l.status), cost=r.mag)
        elif l.amount != r.mag:
            disc("amount_mismatch", r.txn, order, l.amount, r.mag, r.ccy,
                 r.at, "%s at %s%s" % (r.kind, where(r), suffix),
                 cost=abs(r.mag - l.amount))
        else:
            t = total(r.ccy)
            t["matched_count"] += 1
            t["matched_value"] += r.mag

    def inside(l):
        return lo is not None and lo <= l.at <= hi

    # An order's charges: those settled by the file's charges, and those
    # of the period that nothing settled.
    in_period = dict(settled_charges)
    for l in led.values():
        if l.kind == "charge" and not l.used and inside(l):
            in_period[l.order] = in_period.get(l.order, 0) + 1
    for l in sorted(led.values(), key=lambda l: l.seq):
        if l.used or not inside(l):
            continue
        n = settled_charges.get(l.order, 0)
        if l.kind == "charge" and n:
            disc("duplicate_in_ledger", l.txn, l.order, l.amount, None,
                 l.currency, None,
                 "order %s has %d charges in the ledger, %d settled"
                 % (l.order, in_period[l.order], n), cost=l.amount)
        else:
            disc("missing_in_settlement", l.txn, l.order, l.amount, None,
                 l.currency, None, "%s of %s, %s in the ledger"
                 % (l.kind, iso(l.at), l.status), cost=l.amount)

    m = re.fullmatch(r"(\d+)(?:\.(\d{1,4}))?", a.threshold)
    threshold = Fraction(int(m.group(1))) + \
        (Fraction(int(m.group(2)), 10 ** len(m.group(2))) if m.group(2)
         else 0)
    over = False
    summary = []
    for ccy in sorted(tot):
        t = tot[ccy]
        if t["settled"]:
            p = Fraction(t["mismatched"] * 100, t["settled"])
            if p > threshold:
                over = True
            c = (p * 100 * 2 + 1) // 2      # half up, two decimals
            pct = "%d.%02d" % (c // 100, c % 100)
        elif t["mismatched"]:
            over = True
            pct = ""
        else:
            pct = "0.00"
        summary.append([ccy, str(t["rows"]), fmt(t["gross"], ccy),
                        fmt(t["fees"], ccy), fmt(t["gross"] - t["fees"], ccy),
                        str(t["matched_count"]),
                        fmt(t["matched_value"], ccy),
                        fmt(t["mismatched"], ccy), pct])

    report = [HEADER]
    discs.sort(key=lambda d: (d["kind"].encode(), d["txn"].encode(),
                              d["samt"] is not None, d["seq"]))
    for d in discs:
        delta = ""
        if d["kind"] != "currency_mismatch":
            delta = fmt((d["samt"] or 0) - (d["lamt"] or 0), d["ccy"])
        report.append([d["kind"], gateway, d["txn"], d["order"],
                    "" if d["lamt"] is None else fmt(d["lamt"], d["lccy"]),
                    "" if d["samt"] is None else fmt(d["samt"], d["ccy"]),
                    d["ccy"], delta,
                    "" if d["at"] is None else iso(d["at"]), d["detail"]])
    return report, [SUMMARY] + summary, 1 if over else 0


def run(argv, stdout):
    """One run: with --out PREFIX, the report, the summary and the exit
    status go to PREFIX.csv, PREFIX.summary and PREFIX.rc."""
    a = parser().parse_args(argv)
    report, summary, rc = compare(a)
    if a.out:
        for ext, rows in (("csv", report), ("summary", summary)):
            with open(a.out + "." + ext, "w", newline="") as f:
                if rc != 65:
                    csv.writer(f, lineterminator="\n").writerows(rows)
        with open(a.out + ".rc", "w") as f:
            f.write("%d\n" % rc)
    elif rc != 65:
        csv.writer(stdout, lineterminator="\n").writerows(
            summary if a.summary else report)
    return rc


def main():
    """--batch FILE: one run per line of FILE (its arguments, split as the
    shell would), each with its own --out; exit 0."""
    if len(sys.argv) == 3 and sys.argv[1] == "--batch":
        with open(sys.argv[2]) as f:
            for line in f:
                if line.strip():
                    run(shlex.split(line), sys.stdout)
        return 0
    return run(sys.argv[1:], sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
