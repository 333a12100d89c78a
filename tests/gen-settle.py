#!/usr/bin/env python3
"""Random ledgers and settlement files that add up, with planted differences.

    gen-settle.py --seed S --format stripe|paypal --count N --rate R
                  --settle FILE [--files K] --ledger FILE [--jsonl DIR]
                  [--day YYYY-MM-DD] [--plain]
    gen-settle.py --seeds FROM-TO --dir DIR --format F --count N --rate R

Writes N payments (charges, some refunded in part, some disputed or
reversed, the ledger holding each as the gateway would have called it
back) as a settlement file of --format (Stripe itemized balance report or
PayPal STL report, with fee, payout and withdrawal rows besides), and the
ledger as a --ledger CSV (gateway_txn_id, kind, order_id, amount,
currency, created_at, status) and, with --jsonl, as pay-ingest --jsonl
generic events in DIR, one file per ledger time named after it (load each
with DAIGOU_NOW set to its name: pay-ingest records that time).

With probability R a payment carries one planted difference, of a kind
drawn evenly from: missing_in_ledger, missing_in_settlement,
amount_mismatch (amount, or the kind the ledger holds), currency_mismatch,
duplicate_in_settlement, duplicate_in_ledger, status_mismatch (a dispute or
reversal of a completed charge, or a pending ledger payment), and a ledger
payment outside the file's period (no difference). The first and last
charges of the day are never planted on: they fix the period.

--files K splits the rows into K files, SETTLE.1 ... SETTLE.K, each a whole
report. Without --plain, files get shuffled columns, extra columns, quoted
fields with commas, and now and then a BOM and CRLF line ends. The same
seed gives the same bytes.
"""

import argparse
import csv
import datetime
import json
import os
import random

EXP = {"JPY": 0, "KWD": 3}
STRIPE_CCYS = ["USD", "USD", "USD", "EUR", "JPY", "KWD"]
PAYPAL_CCYS = ["USD", "USD", "EUR", "JPY", "KWD"]
PLANTS = ["missing_in_ledger", "missing_in_settlement", "amount",
          "kind", "currency_mismatch", "duplicate_in_settlement",
          "duplicate_in_ledger", "reversal", "pending", "out_of_period"]


def exp(ccy):
    return EXP.get(ccy, 2)


def major(v, ccy):
    e = exp(ccy)
    s = "-" if v < 0 else ""
    v = abs(v)
    if e == 0:
        return s + str(v)
    return "%s%d.%0*d" % (s, v // 10 ** e, e, v % 10 ** e)


def hundredths(v, ccy):
    """PayPal's amounts: hundredths of the unit for every currency."""
    v = abs(v) * 100
    assert v % 10 ** exp(ccy) == 0
    return v // 10 ** exp(ccy)


class Gen:
    def __init__(self, a):
        self.a = a
        self.rnd = random.Random(a.seed)
        self.day = datetime.datetime.strptime(a.day, "%Y-%m-%d")
        self.n = 0
        self.rows = []      # file rows: dicts, each with "t" and "seq"
        self.ledger = []    # [txn, kind, order, amount, ccy, time, status]

    def uid(self):
        self.n += 1
        return self.n

    def txn(self, kind):
        n = self.uid()
        if self.a.format == "paypal":
            return "%d%016X" % (self.a.seed % 10, n * 7919)
        return "%s_%dQf%010d" % (kind, self.a.seed, n)

    def amount(self, ccy):
        r = self.rnd
        if ccy == "JPY":
            return r.randrange(100, 60000)
        if ccy == "KWD":
            return r.randrange(100, 6000) * 10
        return r.randrange(100, 60000)

    def at(self, lo=1, hi=86398):
        return self.day + datetime.timedelta(seconds=self.rnd.randint(lo, hi))

    def led_time(self, inside=True):
        if inside:
            h = self.rnd.choice((6, 12, 18))
            return self.day + datetime.timedelta(hours=h)
        return self.day + datetime.timedelta(
            hours=self.rnd.choice((-12, 36)))

    def add_row(self, **kw):
        kw["seq"] = len(self.rows)
        self.rows.append(kw)
        return kw

    def payment(self, i, anchor=None):
        r = self.rnd
        a = self.a
        order = "DG-%d%06d" % (a.seed % 100, i)
        plant = None
        if anchor is None and r.random() < a.rate:
            plant = r.choice(PLANTS)
        ccys = PAYPAL_CCYS if a.format == "paypal" else STRIPE_CCYS
        ccy = r.choice(ccys)
        amt = self.amount(ccy)
        cf_ccy, cf_amt = "", 0
        if a.format == "stripe" and ccy == "USD" and r.random() < 0.15:
            cf_ccy = r.choice(("JPY", "EUR"))
            cf_amt = self.amount(cf_ccy)
        t = anchor if anchor is not None else self.at()
        led_ccy, led_amt = (cf_ccy, cf_amt) if cf_ccy else (ccy, amt)
        ch = self.txn("ch")
        if plant == "out_of_period":
            self.ledger.append([ch, "charge", order, led_amt, led_ccy,
                                self.led_time(False), "completed"])
            return
        charge = self.add_row(kind="charge", txn=ch, order=order, ccy=ccy,
                              gross=amt, cf_ccy=cf_ccy, cf_amt=cf_amt, t=t)
        lch = [ch, "charge", order, led_amt, led_ccy, self.led_time(),
               "completed"]
        self.ledger.append(lch)
        refund = lref = None
        reversed_ = anchor is None and plant is None and r.random() < 0.04
        if reversed_ or plant == "reversal":
            self.add_row(kind="reversal", txn=self.txn("du"), ref=ch,
                              order=order, ccy=ccy, gross=-amt,
                              cf_ccy=cf_ccy, cf_amt=-cf_amt,
                              t=self.at(t.hour * 3600 + t.minute * 60
                                        + t.second, 86398))
            if reversed_:
                lch[6] = "reversed"
            return
        if anchor is None and r.random() < 0.2:
            ra = r.randint(1, amt)
            if ccy == "KWD":
                ra = max(10, ra - ra % 10)
            rcf = r.randint(1, cf_amt) if cf_ccy else 0
            re_ = self.txn("re")
            refund = self.add_row(kind="refund", txn=re_, order=order,
                                  ccy=ccy, gross=-ra, cf_ccy=cf_ccy,
                                  cf_amt=-rcf,
                                  t=self.at(t.hour * 3600 + t.minute * 60
                                            + t.second, 86398))
            lref = [re_, "refund", order, rcf if cf_ccy else ra, led_ccy,
                    self.led_time(), "completed"]
            self.ledger.append(lref)
        if plant is None:
            return
        # the payment's charge, or its refund, carries the difference
        row, led = charge, lch
        if refund is not None and r.random() < 0.4:
            row, led = refund, lref
        if plant == "missing_in_ledger":
            self.ledger.remove(led)
        elif plant == "missing_in_settlement":
            self.rows.remove(row)
        elif plant == "amount":
            d = r.randint(1, 500)
            led[3] = led[3] + d if led[3] <= d or r.random() < 0.5 \
                else led[3] - d
        elif plant == "kind":
            led[1] = "refund" if led[1] == "charge" else "charge"
        elif plant == "currency_mismatch":
            led[4] = r.choice([c for c in ("USD", "EUR", "JPY", "KWD")
                               if c != led[4]])
        elif plant == "duplicate_in_settlement":
            dup = dict(row)
            dup["t"] = self.at(row["t"].hour * 3600 + row["t"].minute * 60
                               + row["t"].second, 86398)
            self.add_row(**{k: v for k, v in dup.items() if k != "seq"})
        elif plant == "duplicate_in_ledger":
            self.ledger.append([self.txn("ch"), "charge", order, lch[3],
                                lch[4], self.led_time(), "completed"])
        elif plant == "pending":
            led[6] = "pending"

    def others(self):
        """Rows that count in the totals only."""
        r = self.rnd
        for _ in range(max(1, self.a.count // 20)):
            ccys = PAYPAL_CCYS if self.a.format == "paypal" else STRIPE_CCYS
            ccy = r.choice(ccys)
            kind = r.choice(("fee", "payout")) if self.a.format == "stripe" \
                else "T0400"
            self.add_row(kind="other", what=kind, txn=self.txn("po"),
                         order="", ccy=ccy, gross=-self.amount(ccy),
                         cf_ccy="", cf_amt=0, t=self.at(0, 86399))

    def run(self):
        a = self.a
        self.payment(0, anchor=self.day)
        for i in range(1, a.count - 1):
            self.payment(i)
        self.payment(a.count - 1,
                     anchor=self.day + datetime.timedelta(seconds=86399))
        self.others()
        self.rows.sort(key=lambda x: (x["t"], x["seq"]))
        for row in self.rows:
            row["fee"] = self.fee(row)
        k = a.files
        cuts = sorted(self.rnd.randint(0, len(self.rows))
                      for _ in range(k - 1))
        bounds = [0] + cuts + [len(self.rows)]
        for f in range(k):
            name = a.settle if k == 1 else "%s.%d" % (a.settle, f + 1)
            part = self.rows[bounds[f]:bounds[f + 1]]
            if a.format == "stripe":
                self.write_stripe(name, part)
            else:
                self.write_paypal(name, part)
        self.write_ledger()

    def fee(self, row):
        """The gateway's fee, in hundredths of the unit at the finest (as
        PayPal writes them)."""
        g = row["gross"]
        fee = 0
        if row["kind"] == "charge":
            fee = g * 29 // 1000 + 10 ** exp(row["ccy"]) // 4
        elif row["kind"] == "reversal":
            fee = 15 * 10 ** exp(row["ccy"])
        elif row["kind"] == "refund" and self.a.format == "paypal":
            fee = -(abs(g) * 29 // 1000)
        q = 10 ** max(0, exp(row["ccy"]) - 2)
        return fee - fee % q if fee >= 0 else -(-fee - -fee % q)

    def newline(self):
        if self.a.plain or self.rnd.random() < 0.7:
            return "\n", ""
        return "\r\n", "\ufeff"

    def write_stripe(self, name, rows):
        r = self.rnd
        cols = ["balance_transaction_id", "created_utc", "currency", "gross",
                "fee", "net", "reporting_category", "source_id",
                "charge_id", "customer_facing_amount",
                "customer_facing_currency", "payment_metadata[order_id]"]
        if not self.a.plain:
            cols += ["available_on_utc", "description", "customer_id",
                     "payment_metadata[shop]"]
            r.shuffle(cols)
        nl, bom = self.newline()
        with open(name, "w", newline="") as f:
            f.write(bom)
            w = csv.writer(f, lineterminator=nl)
            w.writerow(cols)
            for x in rows:
                ccy = x["ccy"]
                cat = {"reversal": "dispute"}.get(x["kind"], x["kind"])
                if x["kind"] == "other":
                    cat = x["what"]
                v = {"balance_transaction_id": "txn_%d" % x["seq"],
                     "created_utc": x["t"].strftime("%Y-%m-%d %H:%M:%S"),
                     "available_on_utc": x["t"].strftime("%Y-%m-%d 00:00:00"),
                     "currency": ccy.lower(),
                     "gross": major(x["gross"], ccy),
                     "fee": major(x["fee"], ccy),
                     "net": major(x["gross"] - x["fee"], ccy),
                     "reporting_category": cat,
                     "source_id": x["txn"],
                     "charge_id": "",
                     "customer_facing_amount": "",
                     "customer_facing_currency": "",
                     "payment_metadata[order_id]": x["order"],
                     "description": "Order %s, shop floor 2" % x["order"],
                     "customer_id": "cus_%d" % (x["seq"] % 97),
                     "payment_metadata[shop]": 'tokyo "annex"'}
                if x["kind"] == "charge":
                    v["charge_id"] = x["txn"]
                elif x["kind"] in ("refund", "reversal"):
                    v["charge_id"] = x.get("ref", "")
                if x["kind"] != "other":
                    if x["cf_ccy"]:
                        v["customer_facing_amount"] = major(x["cf_amt"],
                                                            x["cf_ccy"])
                        v["customer_facing_currency"] = x["cf_ccy"].lower()
                    else:
                        v["customer_facing_amount"] = v["gross"]
                        v["customer_facing_currency"] = v["currency"]
                w.writerow([v[c] for c in cols])

    def write_paypal(self, name, rows):
        r = self.rnd
        nl, bom = self.newline()
        cols = ["Transaction ID", "Invoice ID", "PayPal Reference ID",
                "PayPal Reference ID Type", "Transaction Event Code",
                "Transaction Initiation Date", "Transaction Completion Date",
                "Transaction Debit or Credit", "Gross Transaction Amount",
                "Gross Transaction Currency", "Fee Debit or Credit",
                "Fee Amount", "Fee Currency", "Custom Field", "Consumer ID"]
        if not self.a.plain:
            r.shuffle(cols)
        pst = datetime.timedelta(hours=-8)
        nsec = 1 if self.a.plain else r.randint(1, 3)
        cuts = sorted(r.randint(0, len(rows)) for _ in range(nsec - 1))
        bounds = [0] + cuts + [len(rows)]
        out = []

        def q(s):
            return '"%s"' % s

        def when(t):
            return (t + pst).strftime("%Y/%m/%d %H:%M:%S -0800")

        report = {}
        out.append('"RH",%s,"A","DGSHOP8K3X2LQ",011,' % when(
            self.day + datetime.timedelta(days=1)))
        out.append('"FH",01')
        for s in range(nsec):
            part = rows[bounds[s]:bounds[s + 1]]
            out.append('"SH",%s,%s,"DGSHOP8K3X2LQ",""' % (
                when(self.day), when(self.day + datetime.timedelta(
                    seconds=86399))))
            out.append(",".join(['"CH"'] + [q(c) for c in cols]))
            sect = {}
            for x in part:
                ccy = x["ccy"]
                code = {"charge": "T0006", "refund": "T1107"}.get(
                    x["kind"], "")
                if x["kind"] == "reversal":
                    code = "T1201" if x["seq"] % 2 else "T1106"
                elif x["kind"] == "other":
                    code = x["what"]
                dc = "CR" if x["gross"] > 0 else "DR"
                fee = x["fee"]
                v = {"Transaction ID": x["txn"],
                     "Invoice ID": x["order"],
                     "PayPal Reference ID": x.get("ref", ""),
                     "PayPal Reference ID Type": "TXN" if x.get("ref")
                     else "",
                     "Transaction Event Code": code,
                     "Transaction Initiation Date": when(x["t"]),
                     "Transaction Completion Date": when(x["t"]),
                     "Transaction Debit or Credit": dc,
                     "Gross Transaction Amount": hundredths(x["gross"],
                                                            ccy),
                     "Gross Transaction Currency": ccy,
                     "Fee Debit or Credit": "" if fee == 0 else
                     ("DR" if fee > 0 else "CR"),
                     "Fee Amount": "" if fee == 0 else hundredths(fee, ccy),
                     "Fee Currency": ccy if fee else "",
                     "Custom Field": "",
                     "Consumer ID": "buyer%d@example.com" % (x["seq"] % 89)}
                fields = ['"SB"']
                for c in cols:
                    val = v[c]
                    fields.append(str(val) if isinstance(val, int) or
                                  c.endswith("Date") else q(val))
                out.append(",".join(fields))
                for tot in (sect, report):
                    t = tot.setdefault(ccy, [0, 0, 0, 0])
                    t[0 if dc == "CR" else 1] += hundredths(x["gross"], ccy)
                    if fee:
                        t[2 if fee < 0 else 3] += hundredths(fee, ccy)
            for ccy in sorted(sect):
                t = sect[ccy]
                out.append('"SF","%s",%d,%d,%d,%d,"CR",0,"CR",0,"CR",0,'
                           '"CR",0' % (ccy, t[0], t[1], t[2], t[3]))
            out.append('"SC",%d' % len(part))
        for ccy in sorted(report):
            t = report[ccy]
            out.append('"RF","%s",%d,%d,%d,%d,"CR",0,"CR",0,"CR",0,'
                       '"CR",0' % (ccy, t[0], t[1], t[2], t[3]))
        out.append('"RC",%d' % len(rows))
        out.append('"FF",%d' % len(rows))
        with open(name, "w", newline="") as f:
            f.write(bom + nl.join(out) + nl)

    def write_ledger(self):
        a = self.a
        led = list(self.ledger)
        self.rnd.shuffle(led)
        with open(a.ledger, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["gateway_txn_id", "kind", "order_id", "amount",
                        "currency", "created_at", "status"])
            for x in led:
                w.writerow([x[0], x[1], x[2], major(x[3], x[4]), x[4],
                            x[5].strftime("%Y-%m-%dT%H:%M:%SZ"), x[6]])
        if not a.jsonl:
            return
        os.makedirs(a.jsonl, exist_ok=True)
        files = {}
        try:
            for x in led:
                t = x[5].strftime("%Y-%m-%dT%H:%M:%SZ")
                if t not in files:
                    files[t] = open(os.path.join(a.jsonl, t + ".jsonl"),
                                    "w")
                ev = {"gateway_txn_id": x[0], "kind": x[1],
                      "order_id": x[2], "amount": major(x[3], x[4]),
                      "currency": x[4], "status": x[6]}
                files[t].write(json.dumps(ev) + "\n")
        finally:
            for f in files.values():
                f.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int)
    ap.add_argument("--format", choices=("stripe", "paypal"), required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=float, default=0.01)
    ap.add_argument("--settle")
    ap.add_argument("--files", type=int, default=1)
    ap.add_argument("--ledger")
    ap.add_argument("--seeds")
    ap.add_argument("--dir")
    ap.add_argument("--jsonl")
    ap.add_argument("--day", default="2026-11-26")
    ap.add_argument("--plain", action="store_true")
    a = ap.parse_args()
    if a.count < 2 or a.files < 1:
        ap.error("--count must be at least 2, --files at least 1")
    if a.seeds is None:
        if a.seed is None or not a.settle or not a.ledger:
            ap.error("--seed, --settle and --ledger, or --seeds and --dir")
        Gen(a).run()
        return
    # Many small cases in one run: DIR/SEED/ holds settle.csv (or
    # settle.csv.1 and .2 for odd seeds), ledger.csv and jsonl/; every
    # fifth seed plants nothing.
    lo, hi = (int(x) for x in a.seeds.split("-"))
    rate = a.rate
    for seed in range(lo, hi + 1):
        d = os.path.join(a.dir, str(seed))
        os.makedirs(d, exist_ok=True)
        a.seed = seed
        a.files = 1 + seed % 2
        a.rate = 0 if seed % 5 == 0 else rate
        a.settle = os.path.join(d, "settle.csv")
        a.ledger = os.path.join(d, "ledger.csv")
        a.jsonl = os.path.join(d, "jsonl")
        Gen(a).run()


if __name__ == "__main__":
    main()
