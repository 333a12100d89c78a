#!/usr/bin/env python3
"""Deterministic Stripe webhook events for the pay-ingest tests and benchmarks.

Reads the pins order-rate-pin printed (CSV with a header holding at least
order_id, charge_amount and charge_currency) and writes, for each order,
a charge and the refunds of a shop's mix, as Stripe sends them: whole
event objects (evt_...) with the full charge or refund inside, about 3 KB
each, amounts in integer minor units, currency in lower case.

Order i (in the file's order) gets, by i % 4:
  0  a charge (charge.succeeded), no refund           -> paid
  1  a charge and a partial refund (refund.created,
     the refund object itself)                        -> partially_refunded
  2  a charge and a full refund (charge.refunded,
     the refund in refunds.data)                      -> refunded
  3  a charge and two refunds adding up to the charge
     (two charge.refunded events, the second listing
     both refunds)                                    -> refunded
so that N orders give 2N events. A refund carries metadata.order_id for
even orders only: the others are linked through their charge.

Writes into --out DIR:
  events.jsonl     every event, one compact line each, in order
  payments.expect  the payments expected, sorted, one per line:
                   gateway_txn_id kind order_id amount currency parent
                   (order_id of an unlinked refund is its charge's order;
                   parent "-" for a charge)
  orders.expect    order_id state, sorted
With --bodies, also bodies/NNNNNN.json, each event as Stripe sends it
(pretty-printed, two spaces), and with --url, --secret and --now, the
deliveries: every event --copies times, shuffled, dealt round-robin into
--procs curl configuration files curl-P.cfg, each transfer a POST of one
body with its Stripe-Signature header (t=NOW, v1 = HMAC-SHA256 of
"{t}.{body}" under the secret), answered into resp/D and written out as
"STATUS D" (D the delivery's number, also in the URL's query), each
transfer silent but for errors.

The same arguments always give the same bytes: the generator is a
SplitMix64 of its own, not the random module.

usage: gen-pay-events.py --pins FILE --seed S --out DIR [--bodies]
                         [--url URL --secret-file F --now EPOCH
                          [--copies 3] [--procs 8]]
"""
import argparse
import csv
import hashlib
import hmac
import json
import os
import sys

MASK = (1 << 64) - 1
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
DECIMALS = {"JPY": 0, "KRW": 0, "ISK": 0}


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
        return self.next() % n

    def ident(self, prefix, n=24):
        return prefix + "".join(ALNUM[self.below(len(ALNUM))]
                                for _ in range(n))

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def minor_units(text, currency):
    """A decimal string with the currency's digits as integer minor units,
    without floating point."""
    digits = DECIMALS.get(currency, 2)
    whole, _, frac = text.partition(".")
    if len(frac) != digits:
        sys.exit("gen-pay-events: %r has not %d decimals" % (text, digits))
    return int(whole + frac)


def billing(rng):
    return {
        "address": {
            "city": "Osaka", "country": "JP", "line1": "1-2-%d Namba"
            % (1 + rng.below(40)), "line2": None,
            "postal_code": "542-00%02d" % rng.below(100), "state": "Osaka"},
        "email": "buyer%d@example.com" % rng.below(100000),
        "name": "Test Buyer", "phone": None}


def charge_object(rng, o, created, refunds=None):
    ch = {
        "id": o["charge"], "object": "charge", "amount": o["amount"],
        "amount_captured": o["amount"],
        "amount_refunded": sum(r["amount"] for r in refunds or []),
        "application": None, "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": rng.ident("txn_"),
        "billing_details": billing(rng), "calculated_statement_descriptor":
        "DAIGOU SHOP", "captured": True, "created": created,
        "currency": o["currency"].lower(), "customer": rng.ident("cus_", 14),
        "description": "Order " + o["order_id"], "disputed": False,
        "failure_balance_transaction": None, "failure_code": None,
        "failure_message": None, "fraud_details": {}, "invoice": None,
        "livemode": False, "metadata": {"order_id": o["order_id"]},
        "on_behalf_of": None, "outcome": {
            "network_status": "approved_by_network", "reason": None,
            "risk_level": "normal", "risk_score": rng.below(60),
            "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True, "payment_intent": o["intent"],
        "payment_method": rng.ident("pm_"),
        "payment_method_details": {"card": {
            "amount_authorized": o["amount"], "brand": "visa",
            "checks": {"address_line1_check": "pass",
                       "address_postal_code_check": "pass",
                       "cvc_check": "pass"},
            "country": "JP", "exp_month": 1 + rng.below(12),
            "exp_year": 2027 + rng.below(5), "extended_authorization": {
                "status": "disabled"},
            "fingerprint": rng.ident("", 16), "funding": "credit",
            "incremental_authorization": {"status": "unavailable"},
            "installments": None, "last4": "%04d" % rng.below(10000),
            "mandate": None, "multicapture": {"status": "unavailable"},
            "network": "visa", "network_token": {"used": False},
            "overcapture": {"maximum_amount_capturable": o["amount"],
                            "status": "unavailable"},
            "three_d_secure": None, "wallet": None}, "type": "card"},
        "radar_options": {}, "receipt_email": None, "receipt_number": None,
        "receipt_url": "https://pay.stripe.com/receipts/payment/"
        + rng.ident("", 60), "refunded": bool(refunds) and sum(
            r["amount"] for r in refunds) == o["amount"],
        "review": None, "shipping": None, "source": None,
        "source_transfer": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None, "status": "succeeded",
        "transfer_data": None, "transfer_group": None}
    if refunds is not None:
        ch["refunds"] = {"object": "list", "data": [
            refund_object(rng, o, r, created) for r in refunds],
            "has_more": False, "total_count": len(refunds),
            "url": "/v1/charges/%s/refunds" % o["charge"]}
    return ch


def refund_object(rng, o, r, created):
    meta = {"order_id": o["order_id"]} if r["with_order"] else {}
    return {
        "id": r["id"], "object": "refund", "amount": r["amount"],
        "balance_transaction": rng.ident("txn_"), "charge": o["charge"],
        "created": created, "currency": o["currency"].lower(),
        "destination_details": {"card": {"reference": rng.ident("", 12),
                                         "reference_status": "available",
                                         "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": meta, "payment_intent": o["intent"],
        "reason": "requested_by_customer", "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded",
        "transfer_reversal": None}


def event(rng, etype, obj, created, previous=None):
    ev = {
        "id": rng.ident("evt_"), "object": "event",
        "api_version": "2024-06-20", "created": created,
        "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": rng.ident("req_", 14),
                    "idempotency_key": "%08x-%04x-4%03x-a%03x-%012x" % (
                        rng.next() & 0xFFFFFFFF, rng.below(65536),
                        rng.below(4096), rng.below(4096),
                        rng.next() & 0xFFFFFFFFFFFF)},
        "type": etype}
    if previous is not None:
        ev["data"]["previous_attributes"] = previous
    return ev


def read_pins(path):
    orders = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            cur = row["charge_currency"]
            orders.append({"order_id": row["order_id"], "currency": cur,
                           "amount": minor_units(row["charge_amount"], cur)})
    return orders


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pins", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bodies", action="store_true")
    ap.add_argument("--url")
    ap.add_argument("--secret-file")
    ap.add_argument("--now", type=int, default=1776153600)
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--procs", type=int, default=8)
    a = ap.parse_args()
    rng = SplitMix64(a.seed)
    orders = read_pins(a.pins)
    events, payments, states = [], [], []
    t = a.now - 86400
    for i, o in enumerate(orders):
        o["charge"] = rng.ident("ch_")
        o["intent"] = rng.ident("pi_")
        t += 7
        events.append(event(rng, "charge.succeeded",
                            charge_object(rng, o, t), t))
        payments.append((o["charge"], "charge", o["order_id"], o["amount"],
                         o["currency"], "-"))
        kind = i % 4
        if kind == 0 or o["amount"] < 2:
            states.append((o["order_id"], "paid"))
            continue
        if kind == 1:
            part = 1 + rng.below(o["amount"] - 1)
            refunds = [part]
        elif kind == 2:
            refunds = [o["amount"]]
        else:
            part = 1 + rng.below(o["amount"] - 1)
            refunds = [part, o["amount"] - part]
        rs = [{"id": rng.ident("re_"), "amount": amt,
               "with_order": (i + j) % 2 == 0}
              for j, amt in enumerate(refunds)]
        for r in rs:
            payments.append((r["id"], "refund", o["order_id"], r["amount"],
                             o["currency"], o["charge"]))
        t += 60
        if kind == 1:
            events.append(event(rng, "refund.created",
                                refund_object(rng, o, rs[0], t), t))
        else:
            # charge.refunded lists every refund of the charge so far
            for j in range(len(rs)):
                prev = sum(r["amount"] for r in rs[:j])
                events.append(event(
                    rng, "charge.refunded",
                    charge_object(rng, o, t - 60, rs[:j + 1]), t + j,
                    {"amount_refunded": prev, "refunded": False}))
        states.append((o["order_id"], "partially_refunded" if kind == 1
                       else "refunded"))

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "events.jsonl"), "w") as f:
        for ev in events:
            f.write(json.dumps(ev, separators=(",", ":")) + "\n")
    with open(os.path.join(a.out, "payments.expect"), "w") as f:
        for p in sorted(payments):
            f.write("%s %s %s %d %s %s\n" % p)
    with open(os.path.join(a.out, "orders.expect"), "w") as f:
        for s in sorted(states):
            f.write("%s %s\n" % s)
    if not a.bodies:
        return
    bodies = os.path.join(a.out, "bodies")
    os.makedirs(bodies, exist_ok=True)
    paths, sigs = [], []
    secret = None
    if a.secret_file:
        with open(a.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\n")
    for n, ev in enumerate(events):
        body = (json.dumps(ev, indent=2) + "\n").encode()
        path = os.path.join(bodies, "%06d.json" % n)
        with open(path, "wb") as f:
            f.write(body)
        paths.append(path)
        if secret is not None:
            mac = hmac.new(secret, b"%d." % a.now + body, hashlib.sha256)
            sigs.append("t=%d,v1=%s" % (a.now, mac.hexdigest()))
    if not a.url or secret is None:
        return
    deliveries = [n for n in range(len(events)) for _ in range(a.copies)]
    rng.shuffle(deliveries)
    resp = os.path.join(a.out, "resp")
    os.makedirs(resp, exist_ok=True)
    cfgs = [open(os.path.join(a.out, "curl-%d.cfg" % p), "w")
            for p in range(a.procs)]
    for d, n in enumerate(deliveries):
        f = cfgs[d % a.procs]
        if d >= a.procs:
            f.write("next\n")
        f.write('url = "%s?d=%d"\n' % (a.url, d))
        # per transfer: "next" resets every option that is not global
        f.write("silent\nshow-error\n")
        f.write('data-binary = "@%s"\n' % paths[n])
        f.write('header = "Content-Type: application/json"\n')
        f.write('header = "Stripe-Signature: %s"\n' % sigs[n])
        f.write('output = "%s/%d"\n' % (resp, d))
        f.write('write-out = "%%{http_code} %d\\n"\n' % d)
    for f in cfgs:
        f.close()


if __name__ == "__main__":
    main()
