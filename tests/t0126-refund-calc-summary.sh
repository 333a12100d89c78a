#!/bin/sh
# t0126-refund-calc-summary: refund-calc --summary over sums that 64 bits
# cannot hold (refunds stored straight into a database the tools made)
# prints every currency exactly, and the default period is every
# recorded refund, whatever the clock says. Expected figures come from
# python3's integers and fractions, never from the tool.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

D=$TRASH
# shellcheck disable=SC2034 # used inside the test bodies
SUMMARY=charge_currency,refunds,fallback_refunds,refunded,fx_difference,buffer_pct,buffer,buffer_left,status
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_NOW

test_ecb_xml @2026-04-13 JPY 161.29 USD 1.1500 >"$D/d13.xml"

# setup_db PATH: a database made by the tools, with orders A1 (JPY in
# EUR) and A2 (JPY in USD) pinned and no refund.
setup_db() {
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --db "$1" \
        --file "$D/d13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --db "$1" \
        --to EUR A1 16500 JPY >/dev/null &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --db "$1" \
        --to USD A2 16500 JPY >/dev/null
}

# add DB ID CHARGE_REFUND CCY FX SOURCE CREATED_AT: a refund row stored
# directly, as a long history of refunds would have left it (FX may be
# NULL).
add() {
    test_sql "$1" "INSERT INTO refunds (refund_id, order_id,
            refund_amount, currency, charge_refund, charge_currency,
            pinned_rate, live_rate, charge_refund_at_live, fx_difference,
            rate_source, request, created_at)
        VALUES ('$2', 'A1', 16500, 'JPY', $3, '$4', '0.0062', NULL, NULL,
            $5, '$6', 'all', '$7')"
}

# oracle DB PCT [FROM TO]: the summary rows from the stored refunds,
# summed in python3's unbounded integers; the buffer is PCT percent of
# the refunded sum, rounded half-up; FROM and TO (YYYY-MM-DD) bound
# the days of created_at when given.
oracle() {
    test_sql "$1" "SELECT charge_currency, rate_source, charge_refund,
            coalesce(fx_difference, 0), substr(created_at, 1, 10)
        FROM refunds" >"$D/rows" &&
    "$PYTHON3" -c '
import sys
from fractions import Fraction as F
exp = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
pct, lo, hi = sys.argv[2], sys.argv[3], sys.argv[4]
tot = {}
for line in open(sys.argv[1]):
    ccy, src, ref, fx, day = line.rstrip("\n").split("|")
    if (lo and day < lo) or (hi and day > hi):
        continue
    t = tot.setdefault(ccy, [0, 0, 0, 0])
    t[0] += 1
    t[1] += src == "fallback"
    t[2] += int(ref)
    t[3] += int(fx)
def fmt(n, e):
    s = str(abs(n)).rjust(e + 1, "0")
    return ("-" if n < 0 else "") + (s[:len(s) - e] + "." + s[len(s) - e:] if e else s)
def half_up(x):
    q, r = divmod(abs(x.numerator), x.denominator)
    q += 2 * r >= x.denominator
    return q if x >= 0 else -q
for ccy in sorted(tot):
    n, nf, ref, fx = tot[ccy]
    e = exp[ccy]
    buf = half_up(F(ref) * F(pct) / 100)
    print(",".join([ccy, str(n), str(nf), fmt(ref, e), fmt(fx, e), pct,
                    fmt(buf, e), fmt(buf - fx, e),
                    "shortfall" if fx > buf else "ok"]))
' "$D/rows" "$2" "${3:-}" "${4:-}"
}

MAX=9223372036854775807
MIN=-9223372036854775808

test_expect_success 'setup: refunds whose sums overflow 64 bits' '
    setup_db "$D/big.db" &&
    add "$D/big.db" E1 $MAX EUR $MAX pinned 2026-04-14T10:00:00Z &&
    add "$D/big.db" E2 $MAX EUR $MAX pinned 2026-04-14T10:00:01Z &&
    add "$D/big.db" E3 $MAX EUR NULL fallback 2026-04-14T10:00:02Z &&
    add "$D/big.db" J1 $MAX JPY $MIN pinned 2026-04-14T10:00:03Z &&
    add "$D/big.db" J2 $MAX JPY $MIN pinned 2026-04-14T10:00:04Z &&
    add "$D/big.db" U1 100000 USD 100 pinned 2026-04-14T10:00:05Z &&
    test_must_fail test_sql "$D/big.db" \
        "SELECT sum(charge_refund) FROM refunds" 2>err &&
    grep -q "integer overflow" err
'

test_expect_success 'every currency is totalled exactly, exit 1 for the shortfall' '
    cat >expect <<-EOF &&
	$SUMMARY
	EUR,3,1,276701161105643274.21,184467440737095516.14,0.6,1660206966633859.65,-182807233770461656.49,shortfall
	JPY,2,0,18446744073709551614,-18446744073709551616,0.6,110680464442257310,18557424538151808926,ok
	USD,1,0,1000.00,1.00,0.6,6.00,5.00,ok
	EOF
    test_expect_code 1 refund-calc --db "$D/big.db" --summary \
        >actual 2>err &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    { echo "$SUMMARY" && oracle "$D/big.db" 0.6; } >expect &&
    test_cmp expect actual
'

test_expect_success 'with a buffer past the losses: exit 0, every row ok' '
    { echo "$SUMMARY" && oracle "$D/big.db" 100; } >expect &&
    refund-calc --db "$D/big.db" --summary --buffer-pct 100 >actual 2>err &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    ! grep shortfall actual
'

test_expect_success 'an odd --buffer-pct rounds exactly on 128-bit sums' '
    { echo "$SUMMARY" && oracle "$D/big.db" 33.333333; } >expect &&
    test_expect_code 1 refund-calc --db "$D/big.db" --summary \
        --buffer-pct 33.333333 >actual &&
    test_cmp expect actual
'

test_expect_success '--json carries the wide sums as strings' '
    cat >expect <<-\EOF &&
	{"charge_currency":"EUR","refunds":"3","fallback_refunds":"1","refunded":"276701161105643274.21","fx_difference":"184467440737095516.14","buffer_pct":"0.6","buffer":"1660206966633859.65","buffer_left":"-182807233770461656.49","status":"shortfall"}
	{"charge_currency":"JPY","refunds":"2","fallback_refunds":"0","refunded":"18446744073709551614","fx_difference":"-18446744073709551616","buffer_pct":"0.6","buffer":"110680464442257310","buffer_left":"18557424538151808926","status":"ok"}
	{"charge_currency":"USD","refunds":"1","fallback_refunds":"0","refunded":"1000.00","fx_difference":"1.00","buffer_pct":"0.6","buffer":"6.00","buffer_left":"5.00","status":"ok"}
	EOF
    test_expect_code 1 refund-calc --db "$D/big.db" --summary --json \
        >actual &&
    test_cmp expect actual
'

# ------------------------------------------------ the default period

test_expect_success 'setup: refunds from year 0000 to 9999' '
    setup_db "$D/period.db" &&
    add "$D/period.db" P0 100 EUR 1 pinned 0000-00-00T00:00:00Z &&
    add "$D/period.db" P1 200 EUR 2 pinned 1999-01-04T00:00:00Z &&
    add "$D/period.db" P2 400 EUR 4 fallback 2026-04-14T23:59:59Z &&
    add "$D/period.db" P3 800 EUR 8 pinned 2026-04-15T00:00:00Z &&
    add "$D/period.db" P4 1600 EUR 16 pinned 2026-04-16T00:00:00Z &&
    add "$D/period.db" P5 3200 EUR 32 pinned 9999-12-31T23:59:59Z
'

test_expect_success 'no --from and no --to: every refund, before and after the clock' '
    printf "%s\n" "$SUMMARY" "EUR,6,1,63.00,0.63,0.6,0.38,-0.25,shortfall" \
        >expect &&
    for now in 2026-04-15T09:00:00Z 1970-01-01T00:00:00Z; do
        test_expect_code 1 env DAIGOU_NOW=$now \
            refund-calc --db "$D/period.db" --summary >actual &&
        test_cmp expect actual || return 1
    done
'

test_expect_success '--from alone: from that day on, with no end' '
    printf "%s\n" "$SUMMARY" "EUR,3,0,56.00,0.56,0.6,0.34,-0.22,shortfall" \
        >expect &&
    test_expect_code 1 refund-calc --db "$D/period.db" --summary \
        --from 2026-04-15 >actual &&
    test_cmp expect actual
'

test_expect_success '--to alone: up to the end of that day, with no start' '
    printf "%s\n" "$SUMMARY" "EUR,3,1,7.00,0.07,0.6,0.04,-0.03,shortfall" \
        >expect &&
    test_expect_code 1 refund-calc --db "$D/period.db" --summary \
        --to 2026-04-14 >actual &&
    test_cmp expect actual
'

test_expect_success '--from and --to are inclusive UTC days, 9999-12-31 too' '
    printf "%s\n" "$SUMMARY" "EUR,2,1,12.00,0.12,0.6,0.07,-0.05,shortfall" \
        >expect &&
    test_expect_code 1 refund-calc --db "$D/period.db" --summary \
        --from 2026-04-14 --to 2026-04-15 >actual &&
    test_cmp expect actual &&
    printf "%s\n" "$SUMMARY" "EUR,1,0,32.00,0.32,0.6,0.19,-0.13,shortfall" \
        >expect &&
    test_expect_code 1 refund-calc --db "$D/period.db" --summary \
        --from 2026-04-17 --to 9999-12-31 >actual &&
    test_cmp expect actual &&
    { echo "$SUMMARY" && oracle "$D/period.db" 0.6 2026-04-17 9999-12-31; } \
        >expect &&
    test_cmp expect actual
'

test_expect_success 'a period without refunds: the header alone, exit 0' '
    echo "$SUMMARY" >expect &&
    refund-calc --db "$D/period.db" --summary --from 2026-04-17 \
        --to 2026-04-30 >actual &&
    test_cmp expect actual
'

test_done
