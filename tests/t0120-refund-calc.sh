#!/bin/sh
# t0120-refund-calc: refunds at the pinned rate: the seed case end to end,
# line and unit refunds, amount refunds in either currency, the closing
# refund, over-refunds, recording exactly once and conflicts, the
# fallback without a pin, the buffer summary, batches, and usage errors.
# Expected amounts come from python3's fractions (expect_convert,
# expect_shares), never from the tool or its library.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
HEADER=order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source
SUMMARY=charge_currency,refunds,fallback_refunds,refunded,fx_difference,buffer_pct,buffer,buffer_left,status

DAIGOU_DB=$TRASH/shop.db
export DAIGOU_DB
# Refunds are asked for on Wednesday 15 April 2026; the orders were
# pinned on Monday the 13th at 161.29, and 165.25 came on the 14th.
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_NOW

# expect_shares TOTAL WEIGHT...: TOTAL split over the weights by the
# largest remainder method (ties to the first), one share a line.
expect_shares() {
    "$PYTHON3" -c '
import sys
from fractions import Fraction as F
t, w = int(sys.argv[1]), [int(x) for x in sys.argv[2:]]
ex = [F(t * x, sum(w)) for x in w]
s = [e.numerator // e.denominator for e in ex]
order = sorted(range(len(w)), key=lambda i: (-(ex[i] - s[i]), i))
for i in order[:t - sum(s)]:
    s[i] += 1
print("\n".join(map(str, s)))
' "$@"
}

# cents N: N minor units of a 2-decimal currency as text.
cents() {
    "$PYTHON3" -c 'import sys; n = int(sys.argv[1]); print("%s%d.%02d" % ("-" if n < 0 else "", abs(n) // 100, abs(n) % 100))' "$1"
}

expect_csv() {
    printf '%s\n' "$HEADER" "$@"
}

# refunds DB: every recorded refund and its lines.
refunds() {
    test_sql "$1" "SELECT refund_id, order_id, refund_amount, currency,
            charge_refund, charge_currency, coalesce(live_rate, '-'),
            coalesce(charge_refund_at_live, '-'),
            coalesce(fx_difference, '-'), rate_source, request
        FROM refunds ORDER BY id;
        SELECT 'line', refund_id, line, qty, charge_amount
        FROM refund_lines ORDER BY refund_id, line"
}

events() {
    test_sql "$1" "SELECT tool, kind, subject FROM events
        WHERE kind NOT IN ('schema_migrated', 'rate_jump') ORDER BY id"
}

snapshot() {
    test_sql "$1" "SELECT * FROM orders ORDER BY order_id;
        SELECT * FROM refunds ORDER BY id;
        SELECT * FROM refund_lines ORDER BY refund_id, line;
        SELECT * FROM events ORDER BY id"
}

test_ecb_xml @2026-04-13 JPY 161.29 USD 1.1500 >"$TRASH/r-13.xml"
test_ecb_xml @2026-04-14 JPY 165.25 USD 1.1700 >"$TRASH/r-14.xml"

# A2: three lines of JPY charged in USD: 3 x 5700, 1 x 31800, 2 x 1800.
cat >"$TRASH/orders.jsonl" <<'EOF'
{"order_id": "A2", "amount": "52500", "currency": "JPY", "charge_currency": "USD", "lines": [{"line": 1, "qty": 3, "amount": "5700"}, {"line": 2, "qty": 1, "amount": "31800"}, {"line": 3, "qty": 2, "amount": "1800"}]}
{"order_id": "A3", "amount": "52500", "currency": "JPY", "charge_currency": "USD", "lines": [{"line": 1, "qty": 3, "amount": "5700"}, {"line": 2, "qty": 1, "amount": "31800"}, {"line": 3, "qty": 2, "amount": "1800"}]}
{"order_id": "A4", "amount": "52500", "currency": "JPY", "charge_currency": "USD", "lines": [{"line": 1, "qty": 3, "amount": "5700"}, {"line": 2, "qty": 1, "amount": "31800"}, {"line": 3, "qty": 2, "amount": "1800"}]}
{"order_id": "E1", "amount": "80.00", "currency": "EUR", "charge_currency": "EUR", "lines": [{"line": 1, "qty": 2, "amount": "40.00"}]}
EOF

test_expect_success 'setup: rates of 13 and 14 April, orders pinned on the 13th' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$TRASH/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --to EUR A1 16500 JPY \
        >out &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q "$TRASH/orders.jsonl" \
        >>out &&
    DAIGOU_NOW=2026-04-14T16:10:00Z rate-fetch -q --max-jump 5 \
        --file "$TRASH/r-14.xml" &&
    test "$(expect_convert 52500 0 2 1.15 161.29 half-up)" = 374.33 &&
    test_sql "$DAIGOU_DB" "SELECT group_concat(converted, \" \")
        FROM order_rates ORDER BY order_id" >actual &&
    echo "10230 37433 37433 37433 8000" >expect &&
    test_cmp expect actual
'

test_expect_success 'the seed: --all gives 102.30 EUR back, 99.85 at 165.25, 2.45 of FX cost' '
    test "$(expect_convert 16500 0 2 1 161.29 half-up)" = 102.30 &&
    test "$(expect_convert 16500 0 2 1 165.25 half-up)" = 99.85 &&
    snapshot "$DAIGOU_DB" >before &&
    refund-calc A1 --all >actual 2>err &&
    expect_csv "A1,,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),$(expect_rate 1 165.25),99.85,2.45,102.30,0.00,pinned" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success 'the seed in JSON: every amount a string' '
    refund-calc --json A1 --all >actual &&
    printf "%s\n" "{\"order_id\":\"A1\",\"refund_id\":null,\"refund_amount\":\"16500\",\"currency\":\"JPY\",\"charge_refund\":\"102.30\",\"charge_currency\":\"EUR\",\"pinned_rate\":\"$(expect_rate 1 161.29)\",\"live_rate\":\"$(expect_rate 1 165.25)\",\"charge_refund_at_live\":\"99.85\",\"fx_difference\":\"2.45\",\"refunded_total\":\"102.30\",\"refundable_remaining\":\"0.00\",\"rate_source\":\"pinned\"}" >expect &&
    test_cmp expect actual
'

test_expect_success 'the seed recorded: stored once, the order refunded' '
    refund-calc --record --refund-id RF-A1 A1 --all >actual 2>err &&
    expect_csv "A1,RF-A1,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),$(expect_rate 1 165.25),99.85,2.45,102.30,0.00,pinned" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    refunds "$DAIGOU_DB" >actual &&
    echo "RF-A1|A1|16500|JPY|10230|EUR|$(expect_rate 1 165.25)|9985|245|pinned|all" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT state FROM orders WHERE order_id = ${SQ}A1${SQ}" >actual &&
    echo refunded >expect &&
    test_cmp expect actual
'

test_expect_success 'the same refund id and request again: the stored row, nothing new' '
    snapshot "$DAIGOU_DB" >before &&
    DAIGOU_NOW=2026-04-20T09:00:00Z refund-calc --record --refund-id RF-A1 A1 --all \
        >actual 2>err &&
    expect_csv "A1,RF-A1,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),$(expect_rate 1 165.25),99.85,2.45,102.30,0.00,pinned" >expect &&
    test_cmp expect actual &&
    echo "refund-calc: refund ${SQ}RF-A1${SQ} is already recorded" >expect &&
    test_cmp expect err &&
    refund-calc -q --record --refund-id RF-A1 A1 --all >actual 2>err &&
    test_must_be_empty err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success 'a fully refunded order: any further refund is 65' '
    snapshot "$DAIGOU_DB" >before &&
    echo "refund-calc: order ${SQ}A1${SQ} is fully refunded: nothing remains to refund" >expect &&
    test_expect_code 65 refund-calc --record --refund-id RF-A1b A1 --amount 1 \
        >out 2>err &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A1 --all 2>err &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A1 --lines 1 2>err &&
    test_cmp expect err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

# A2's charge 374.33 USD over the line values 17100, 31800, 3600.
test_expect_success 'line shares add up to the charge' '
    expect_shares 37433 17100 31800 3600 >actual &&
    printf "%s\n" 12192 22674 2567 >expect &&
    test_cmp expect actual
'

test_expect_success 'a unit of line 1 and all of line 3: their shares, 9300 JPY' '
    # line 1: 12192 over 3 units, 4064 each; line 3: 2567 over 2 units.
    test "$(expect_convert 9300 0 2 1.17 165.25 half-up)" = 65.85 &&
    refund-calc --record --refund-id R2-1 A2 --lines 1:1,3 >actual &&
    expect_csv "A2,R2-1,9300,JPY,$(cents 6631),USD,$(expect_rate 1.15 161.29),$(expect_rate 1.17 165.25),65.85,0.46,66.31,$(cents $((37433 - 6631))),pinned" >expect &&
    test_cmp expect actual &&
    refunds "$DAIGOU_DB" | grep R2-1 >actual &&
    cat >expect <<-EOF &&
	R2-1|A2|9300|JPY|6631|USD|$(expect_rate 1.17 165.25)|6585|46|pinned|lines 1:1,3
	line|R2-1|1|1|4064
	line|R2-1|3|2|2567
	EOF
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT state FROM orders WHERE order_id = ${SQ}A2${SQ}" >actual &&
    echo partially_refunded >expect &&
    test_cmp expect actual
'

test_expect_success 'the units left: more than remain is 65, a named line twice is 65' '
    snapshot "$DAIGOU_DB" >before &&
    test_expect_code 65 refund-calc A2 --lines 1:3 2>err &&
    echo "refund-calc: order ${SQ}A2${SQ}: line 1 has 2 units left to refund, not 3" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A2 --lines 3:1 2>err &&
    echo "refund-calc: order ${SQ}A2${SQ}: line 3 is already refunded" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A2 --lines 4 2>err &&
    echo "refund-calc: order ${SQ}A2${SQ} has no line 4" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A2 --lines 1,2,1:1 2>err &&
    echo "refund-calc: lines: line 1 is named twice" >expect &&
    test_cmp expect err &&
    for bad in "" "0" "1:" "1:0" "a" "1;2" "1,,2" " 1" "1:2:3" "-1"; do
        test_expect_code 65 refund-calc A2 --lines "$bad" 2>err &&
        echo "refund-calc: lines: ${SQ}$bad${SQ} is not a list of lines such as 2,5 or 2:1,5:3 (line:quantity)" >expect &&
        test_cmp expect err || return 1
    done &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success 'the remaining units of line 1, one at a time, then line 2 closes' '
    test "$(expect_convert 31800 0 2 1.17 165.25 half-up)" = 225.15 &&
    refund-calc -q --record --refund-id R2-2 A2 --lines 1:1 >a2 &&
    refund-calc -q --record --refund-id R2-3 A2 --lines 1 >a3 &&
    refund-calc -q --record --refund-id R2-4 A2 --lines 2 >a4 &&
    expect_csv "A2,R2-2,5700,JPY,$(cents 4064),USD,$(expect_rate 1.15 161.29),$(expect_rate 1.17 165.25),$(expect_convert 5700 0 2 1.17 165.25 half-up),$(cents $((4064 - 4036))),$(cents $((6631 + 4064))),$(cents $((37433 - 6631 - 4064))),pinned" >expect &&
    test_cmp expect a2 &&
    sed -n 2p a3 >actual &&
    echo "A2,R2-3,5700,JPY,$(cents 4064),USD,$(expect_rate 1.15 161.29),$(expect_rate 1.17 165.25),$(expect_convert 5700 0 2 1.17 165.25 half-up),0.28,$(cents $((6631 + 8128))),$(cents 22674),pinned" >expect &&
    test_cmp expect actual &&
    sed -n 2p a4 >actual &&
    echo "A2,R2-4,31800,JPY,$(cents 22674),USD,$(expect_rate 1.15 161.29),$(expect_rate 1.17 165.25),$(expect_convert 31800 0 2 1.17 165.25 half-up),$(cents $((22674 - 22515))),374.33,0.00,pinned" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT sum(charge_refund), sum(refund_amount)
        FROM refunds WHERE order_id = ${SQ}A2${SQ};
        SELECT state FROM orders WHERE order_id = ${SQ}A2${SQ}" >actual &&
    printf "%s\n" "37433|52500" refunded >expect &&
    test_cmp expect actual
'

test_expect_success 'an amount in JPY converts at the pinned rate; over the remainder is 65' '
    test "$(expect_convert 40000 0 2 1.15 161.29 half-up)" = 285.20 &&
    refund-calc -q --record --refund-id R3-1 A3 --amount 40000 >actual &&
    expect_csv "A3,R3-1,40000,JPY,285.20,USD,$(expect_rate 1.15 161.29),$(expect_rate 1.17 165.25),$(expect_convert 40000 0 2 1.17 165.25 half-up),1.99,285.20,89.13,pinned" >expect &&
    test_cmp expect actual &&
    snapshot "$DAIGOU_DB" >before &&
    test_expect_code 65 refund-calc --record --refund-id R3-2 A3 --amount 12501 \
        >out 2>err &&
    echo "refund-calc: order ${SQ}A3${SQ}: refund of 12501 JPY exceeds the refundable remainder 12500 JPY" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A3 --charge-amount 89.14 2>err &&
    echo "refund-calc: order ${SQ}A3${SQ}: refund of 89.14 USD exceeds the refundable remainder 89.13 USD" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A3 --amount 100.5 2>err &&
    echo "refund-calc: amount: ${SQ}100.5${SQ} has more decimals than JPY${SQ}s 0" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A3 --charge-amount 0.001 2>err &&
    echo "refund-calc: charge_amount: ${SQ}0.001${SQ} has more decimals than USD${SQ}s 2" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc A3 --amount 0 2>err &&
    echo "refund-calc: amount: ${SQ}0${SQ} must be greater than zero" >expect &&
    test_cmp expect err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success 'a charge amount converts back; the rest of the JPY closes with the rest of the USD' '
    # 50.00 USD back at 161.29 / 1.15: 7012.69... JPY, 7013
    test "$(expect_convert 5000 2 0 161.29 1.15 half-up)" = 7013 &&
    refund-calc -q --record --refund-id R3-2 A3 --charge-amount 50.00 >a &&
    sed -n 2p a >actual &&
    echo "A3,R3-2,7013,JPY,50.00,USD,$(expect_rate 1.15 161.29),$(expect_rate 1.17 165.25),$(expect_convert 7013 0 2 1.17 165.25 half-up),0.35,335.20,39.13,pinned" >expect &&
    test_cmp expect actual &&
    refund-calc -q --record --refund-id R3-3 A3 --amount $((12500 - 7013)) >a &&
    sed -n 2p a >actual &&
    echo "A3,R3-3,5487,JPY,39.13,USD,$(expect_rate 1.15 161.29),$(expect_rate 1.17 165.25),$(expect_convert 5487 0 2 1.17 165.25 half-up),0.28,374.33,0.00,pinned" >expect &&
    test_cmp expect actual
'

test_expect_success 'lines after an amount: the closing line refund pays the remainder' '
    refund-calc -q --record --refund-id R4-1 A4 --amount 10000 >/dev/null &&
    refund-calc -q --record --refund-id R4-2 A4 --lines 2,3 >a &&
    refund-calc -q --record --refund-id R4-3 A4 --lines 1 >b &&
    sed -n 2p b | cut -d, -f1-6,11-13 >actual &&
    left=$((37433 - 7130 - 22674 - 2567)) &&
    echo "A4,R4-3,$((52500 - 10000 - 31800 - 3600)),JPY,$(cents $left),USD,374.33,0.00,pinned" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT sum(charge_amount) FROM refund_lines
        WHERE refund_id = ${SQ}R4-3${SQ}" >actual &&
    echo $left >expect &&
    test_cmp expect actual
'

test_expect_success 'a refund id asked again with another request: 65, a refund_conflict event' '
    snapshot "$DAIGOU_DB" >before &&
    test_expect_code 65 refund-calc --record --refund-id R2-1 A2 --lines 1:2 \
        >out 2>err &&
    echo "refund-calc: refund ${SQ}R2-1${SQ} is already recorded for order ${SQ}A2${SQ} as ${SQ}lines 1:1,3${SQ}: nothing changed" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc --record --refund-id R2-1 A3 --lines 1:1,3 \
        >out 2>err &&
    echo "refund-calc: refund ${SQ}R2-1${SQ} is already recorded for order ${SQ}A2${SQ} as ${SQ}lines 1:1,3${SQ}: nothing changed" >expect &&
    test_cmp expect err &&
    events "$DAIGOU_DB" >actual &&
    printf "%s\n" "refund-calc|refund_conflict|R2-1" "refund-calc|refund_conflict|R2-1" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM refunds" >actual &&
    echo 11 >expect &&
    test_cmp expect actual
'

test_expect_success 'same currency: the rate is 1 and there is no FX difference' '
    refund-calc E1 --lines 1:1 >actual &&
    expect_csv "E1,,40.00,EUR,40.00,EUR,1,1,40.00,0.00,40.00,40.00,pinned" >expect &&
    test_cmp expect actual
'

# ------------------------------------------------------------ fallback

test_expect_success 'no pin: 69 naming the order, nothing written' '
    snapshot "$DAIGOU_DB" >before &&
    test_expect_code 69 refund-calc --record --refund-id F-1 B9 --all >out 2>err &&
    echo "refund-calc: order ${SQ}B9${SQ} has no pinned rate (use --allow-fallback to refund at the latest rate)" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc --allow-fallback B9 --all 2>err &&
    echo "refund-calc: order ${SQ}B9${SQ} is not in the database: a fallback refund needs its order_amount, currency and charge_currency" >expect &&
    test_cmp expect err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success '--allow-fallback without --record: a loud warning, nothing written' '
    snapshot "$DAIGOU_DB" >before &&
    refund-calc -q --allow-fallback --order-amount 8000 --currency JPY \
        --charge-currency USD B9 --amount 3000 >actual 2>err &&
    r=$(expect_rate 1.17 165.25) &&
    expect_csv "B9,,3000,JPY,$(expect_convert 3000 0 2 1.17 165.25 half-up),USD,$r,$r,21.24,0.00,21.24,$(expect_convert 5000 0 2 1.17 165.25 half-up),fallback" >expect &&
    test_cmp expect actual &&
    echo "refund-calc: WARNING: order ${SQ}B9${SQ} has no pinned rate: refunded at the latest ecb rate of 2026-04-14 (JPY/USD $r), not the rate the customer paid" >expect &&
    test_cmp expect err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success '--allow-fallback --record: stored as fallback, an event, later refunds capped' '
    refund-calc -q --record --refund-id F-1 --allow-fallback --order-amount 8000 \
        --currency JPY --charge-currency USD B9 --amount 3000 >out 2>err &&
    test_line_count = 1 err &&
    events "$DAIGOU_DB" | tail -n 1 >actual &&
    echo "refund-calc|refund_fallback|B9" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT amount, currency, charge_currency, state
        FROM orders WHERE order_id = ${SQ}B9${SQ}" >actual &&
    echo "8000|JPY|USD|partially_refunded" >expect &&
    test_cmp expect actual &&
    test_expect_code 69 refund-calc B9 --all 2>err &&
    test_expect_code 65 refund-calc --allow-fallback B9 --amount 5001 2>err &&
    echo "refund-calc: order ${SQ}B9${SQ}: refund of 5001 JPY exceeds the refundable remainder 5000 JPY" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc --allow-fallback --currency CNY B9 --all 2>err &&
    echo "refund-calc: currency: ${SQ}CNY${SQ} is not the currency of order ${SQ}B9${SQ} (JPY)" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc --allow-fallback --order-amount 8001 B9 --all 2>err &&
    echo "refund-calc: order_amount: ${SQ}8001${SQ} is not the amount of order ${SQ}B9${SQ} (8000 JPY)" >expect &&
    test_cmp expect err &&
    test_expect_code 65 refund-calc --allow-fallback B9 --lines 1 2>err &&
    echo "refund-calc: order ${SQ}B9${SQ} has no pinned rate and so no charge to allocate over lines: refund --all or an amount" >expect &&
    test_cmp expect err &&
    refund-calc -q --record --refund-id F-2 --allow-fallback B9 --all >actual 2>/dev/null &&
    r=$(expect_rate 1.17 165.25) &&
    expect_csv "B9,F-2,5000,JPY,35.40,USD,$r,$r,35.40,0.00,56.64,0.00,fallback" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT group_concat(rate_source || \" \" || request, \";\")
        FROM refunds WHERE order_id = ${SQ}B9${SQ}; SELECT state FROM orders
        WHERE order_id = ${SQ}B9${SQ}" >actual &&
    printf "%s\n" "fallback amount 3000 JPY;fallback all" refunded >expect &&
    test_cmp expect actual
'

# ------------------------------------------------------------ summary

test_expect_success '--summary: the seed alone overruns the 0.6 % buffer (exit 1)' '
    # 0.6 % of 102.30 is 0.6138: a buffer of 0.61 against 2.45; of
    # 1179.63 USD it is 7.07778, 7.08
    refund-calc --summary --from 2026-04-15 --to 2026-04-15 >actual 2>err ||
        test $? = 1 &&
    cat >expect <<-EOF &&
	$SUMMARY
	EUR,1,0,102.30,2.45,0.6,0.61,-1.84,shortfall
	USD,$(test_sql "$DAIGOU_DB" "SELECT count(*) FROM refunds WHERE charge_currency = ${SQ}USD${SQ}"),2,$(cents $((3 * 37433 + 2124 + 3540))),$(cents "$(test_sql "$DAIGOU_DB" "SELECT sum(fx_difference) FROM refunds WHERE charge_currency = ${SQ}USD${SQ}")"),0.6,7.08,-0.77,shortfall
	EOF
    test_cmp expect actual &&
    test_must_be_empty err &&
    test_expect_code 1 refund-calc --summary >/dev/null
'

test_expect_success '--summary with a larger buffer, and an empty period, exit 0' '
    refund-calc --summary --buffer-pct 3 >actual &&
    sed -n 2p actual >eur &&
    echo "EUR,1,0,102.30,2.45,3,3.07,0.62,ok" >expect &&
    test_cmp expect eur &&
    refund-calc --summary --from 2026-04-16 >actual &&
    echo "$SUMMARY" >expect &&
    test_cmp expect actual &&
    refund-calc --summary --to 2026-04-14 >actual &&
    test_cmp expect actual
'

test_expect_success '--summary is read-only: a missing database is 66 and is not created' '
    test_expect_code 66 refund-calc --db nowhere.db --summary 2>err &&
    ! test -e nowhere.db
'

# ------------------------------------------------------------ batches

test_expect_success 'a batch: CSV, one row per request, messages with file:line, worst exit' '
    cat >req.csv <<-\EOF &&
	order_id,refund_id,lines,amount,charge_amount,all
	A1,,,,,true
	A2,,1:1,,,
	Z9,,,,,1
	A1,,1,100,,
	A1,,,,,maybe
	EOF
    test_expect_code 69 refund-calc req.csv >actual 2>err &&
    expect_csv "A1,,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),$(expect_rate 1 165.25),99.85,2.45,102.30,0.00,pinned" >expect &&
    cat >expect.err <<-EOF &&
	refund-calc: req.csv:2: order ${SQ}A1${SQ} is fully refunded: nothing remains to refund
	refund-calc: req.csv:3: order ${SQ}A2${SQ} is fully refunded: nothing remains to refund
	refund-calc: req.csv:4: order ${SQ}Z9${SQ} has no pinned rate (use --allow-fallback to refund at the latest rate)
	refund-calc: req.csv:5: order ${SQ}A1${SQ}: give only one of all, lines, amount and charge_amount
	refund-calc: req.csv:6: all: ${SQ}maybe${SQ} is not true or false
	refund-calc: 5 refunds: 0 recorded, 0 existing, 0 computed, 5 failed
	EOF
    test_cmp expect.err err &&
    test_must_be_empty actual
'

test_expect_success 'a JSON Lines batch with --record: lines as arrays, a repeat is existing' '
    printf "%s\n" "{\"order_id\": \"A5\", \"amount\": \"52500\", \"currency\": \"JPY\", \"charge_currency\": \"USD\", \"lines\": [{\"line\": 1, \"qty\": 3, \"amount\": \"5700\"}, {\"line\": 2, \"qty\": 1, \"amount\": \"31800\"}, {\"line\": 3, \"qty\": 2, \"amount\": \"1800\"}]}" |
        DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q >/dev/null &&
    cat >req.jsonl <<-\EOF &&
	{"order_id": "A5", "refund_id": "R5-1", "lines": [1, {"line": 3, "qty": 1}]}
	{"order_id": "A5", "refund_id": "R5-1", "lines": "1,3:1"}
	{"order_id": "A5", "refund_id": "R5-2", "amount": "100"}
	{"order_id": "A5", "lines": "2"}
	{"order_id": "A5", "refund_id": "R5-3", "charge_amount": 1}
	{"order_id": "A5", "refund_id": "R5-4", "all": true}
	EOF
    test_expect_code 65 refund-calc --record --batch 2 req.jsonl >actual 2>err &&
    cut -d, -f2,3,5,11,12 actual >cols &&
    cat >expect <<-EOF &&
	refund_id,refund_amount,charge_refund,refunded_total,refundable_remaining
	R5-1,18900,$(cents $((12192 + 1284))),$(cents 13476),$(cents $((37433 - 13476)))
	R5-1,18900,$(cents 13476),$(cents 13476),$(cents $((37433 - 13476)))
	R5-2,100,$(expect_convert 100 0 2 1.15 161.29 half-up),$(cents $((13476 + 71))),$(cents $((37433 - 13476 - 71)))
	R5-3,$(expect_convert 100 2 0 161.29 1.15 half-up),1.00,$(cents $((13476 + 71 + 100))),$(cents $((37433 - 13476 - 171)))
	R5-4,$((52500 - 18900 - 100 - 140)),$(cents $((37433 - 13647))),374.33,0.00
	EOF
    test_cmp expect cols &&
    cat >expect.err <<-EOF &&
	refund-calc: req.jsonl:2: refund ${SQ}R5-1${SQ} is already recorded
	refund-calc: req.jsonl:4: refund_id: missing: --record needs an id for every refund
	refund-calc: 6 refunds: 4 recorded, 1 existing, 0 computed, 1 failed
	EOF
    test_cmp expect.err err
'

test_expect_success '--strict stops at the first failed row; the rows before it stand' '
    printf "%s\n" order_id,refund_id,amount A2,X1,1 E1,X2,10.00 E1,X3,10.00 >s.csv &&
    test_expect_code 65 refund-calc --strict --record s.csv >actual 2>err &&
    test_must_be_empty actual &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM refunds WHERE refund_id LIKE ${SQ}X%${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual &&
    printf "%s\n" order_id,refund_id,amount E1,X2,10.00 A2,X1,1 E1,X3,10.00 >s.csv &&
    test_expect_code 65 refund-calc -q --strict --record s.csv >actual 2>err &&
    test_line_count = 2 actual &&
    test_sql "$DAIGOU_DB" "SELECT group_concat(refund_id) FROM refunds WHERE refund_id LIKE ${SQ}X%${SQ}" >actual &&
    echo X2 >expect &&
    test_cmp expect actual
'

test_expect_success 'batch input: a missing order_id column, a missing file' '
    printf "%s\n" id,all A1,true >bad.csv &&
    test_expect_code 65 refund-calc bad.csv >actual 2>err &&
    printf "%s\n" "refund-calc: bad.csv: missing required column ${SQ}order_id${SQ}" \
        "refund-calc: 0 refunds: 0 recorded, 0 existing, 0 computed, 0 failed; 1 file failed" >expect &&
    test_cmp expect err &&
    test_must_be_empty actual &&
    test_expect_code 66 refund-calc no-such.csv >actual 2>err &&
    test_must_be_empty actual
'

# ------------------------------------------------------------ usage

test_expect_success 'usage errors are 64 and write nothing' '
    snapshot "$DAIGOU_DB" >before &&
    test_expect_code 64 refund-calc --all --amount 1 A1 2>err &&
    test_expect_code 64 refund-calc --all 2>err &&
    test_expect_code 64 refund-calc --all A1 A2 2>err &&
    test_expect_code 64 refund-calc --record --all A1 2>err &&
    head -n 1 err >actual &&
    echo "refund-calc: --record needs --refund-id: the id makes recording it again harmless" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 refund-calc --refund-id R A1 2>err &&
    test_expect_code 64 refund-calc --summary --all 2>err &&
    test_expect_code 64 refund-calc --summary A1 2>err &&
    test_expect_code 64 refund-calc --summary --from 2026-04-31 2>err &&
    test_expect_code 64 refund-calc --summary --from 2026-04-16 --to 2026-04-15 2>err &&
    test_expect_code 64 refund-calc --summary --buffer-pct 101 2>err &&
    test_expect_code 64 refund-calc --summary --buffer-pct -1 2>err &&
    test_expect_code 64 refund-calc --from 2026-04-15 2>err &&
    test_expect_code 64 refund-calc --currency XXY --all A1 2>err &&
    test_expect_code 64 refund-calc --rounding up --all A1 2>err &&
    test_expect_code 64 refund-calc --batch 0 2>err &&
    test_expect_code 64 refund-calc --strict --all A1 2>err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after &&
    refund-calc --help >out &&
    head -n 1 out | grep "^usage: refund-calc " &&
    refund-calc --version >out &&
    grep "^refund-calc " out
'

test_done
