#!/bin/sh
# t0121-refund-calc-property: "returns two of five items". Three thousand
# random five-line orders, charged in 0-, 2- and 3-decimal currencies
# (JPY; EUR, USD; KWD, BHD) and pinned by order-rate-pin, are refunded by
# refund-calc --record in one batch: line by line in every order and in
# random splits of their quantities, or in a random mix of line, amount
# and charge_amount refunds closed by a final refund, the refunds of all
# orders interleaved. Every row must be the one an exact python3
# fractions oracle (tests/refund-oracle.py) computes from the interface's
# money rules, and every order's charge refunds must add up to exactly
# its charge. The plan again prints the stored rows and records nothing;
# one refund more of a fully refunded order is refused with 65. Every
# expected figure comes from the oracle or the pins, never from
# refund-calc.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_DB=$TRASH/p.db
export DAIGOU_DB
D=$TRASH
# The seed of the orders and plans; another one explores other cases.
SEED=${T0121_SEED:-121}
# 3000 orders: 600 charged in each of JPY, EUR, USD, KWD and BHD.
COUNT=3000
# Monday's EUR-based quotes, which the orders are pinned at, and
# Tuesday's (each move under rate-fetch's 2 % valve), the live rates of
# the refunds: a refund at the live rate would show. The ECB publishes no
# KWD or BHD; the test's own documents do.
RATES13="USD 1.1684 JPY 161.29 KWD 0.3561 BHD 0.4389"
RATES14="USD 1.1702 JPY 162.87 KWD 0.3570 BHD 0.4401"
# shellcheck disable=SC2034 # used inside the test bodies
HEADER=order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source

# shellcheck disable=SC2086 # the CODE RATE pairs are split on purpose
test_ecb_xml @2026-04-13 $RATES13 >"$D/d13.xml"
# shellcheck disable=SC2086
test_ecb_xml @2026-04-14 $RATES14 >"$D/d14.xml"

oracle() {
    "$PYTHON3" "$top_srcdir/tests/refund-oracle.py" "$@"
}

# test_cmp_head EXPECT ACTUAL: test_cmp showing only the first 60 lines of
# a difference of files of thousands of rows.
test_cmp_head() {
    if ! test_cmp "$1" "$2" >"$2.diff"; then
        head -n 60 "$2.diff"
        echo "... $(grep -c "^[-+][^-+]" "$2.diff") lines differ" >&2
        return 1
    fi
}

# columns FILE: refund-calc's CSV output cut to the oracle's columns:
# order_id, refund_id, refund_amount, currency, charge_refund,
# charge_currency, refunded_total, refundable_remaining, rate_source.
columns() {
    cut -d, -f1-6,11-13 "$1"
}

# snapshot: every refund, refund line and order state stored.
snapshot() {
    test_sql "$DAIGOU_DB" "SELECT * FROM refunds ORDER BY id;
        SELECT * FROM refund_lines ORDER BY refund_id, line;
        SELECT order_id, state FROM orders ORDER BY order_id"
}

# unit CCY: the currency's smallest amount.
unit() {
    case $1 in
    JPY) echo 1 ;;
    EUR | USD) echo 0.01 ;;
    KWD | BHD) echo 0.001 ;;
    *) return 1 ;;
    esac
}

# ------------------------------------------------------------ setup

test_expect_success 'setup: the quotes of Monday 2026-04-13' '
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --file "$D/d13.xml" &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM rates" >actual &&
    echo 4 >expect &&
    test_cmp expect actual
'

test_expect_success 'setup: 3000 random five-line orders and their refund plans' '
    oracle gen --seed "$SEED" --count "$COUNT" --rates "$RATES13" \
        --orders "$D/orders.jsonl" --refunds "$D/refunds.jsonl" &&
    test_line_count = "$COUNT" "$D/orders.jsonl" &&
    for c in JPY EUR USD KWD BHD; do
        n=$(grep -c "\"charge_currency\":\"$c\"" "$D/orders.jsonl") &&
        test "$n" -eq $((COUNT / 5)) || return 1
    done &&
    n=$(wc -l <"$D/refunds.jsonl") &&
    test "$n" -gt $((3 * COUNT)) &&
    for k in "\"all\":true" "\"lines\":\"" "\"lines\":\\[" "\"amount\":" "\"charge_amount\":"; do
        grep -q "$k" "$D/refunds.jsonl" || return 1
    done
'

if [ -s "$D/refunds.jsonl" ]; then
    say "seed $SEED: $(wc -l <"$D/refunds.jsonl") refunds of $COUNT orders"
fi

test_expect_success 'setup: the orders pinned on Tuesday morning, then Tuesday'"'"'s quotes' '
    DAIGOU_NOW=2026-04-14T09:00:00Z order-rate-pin "$D/orders.jsonl" \
        >"$D/pins.csv" 2>err &&
    echo "order-rate-pin: $COUNT orders: $COUNT pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    DAIGOU_NOW=2026-04-14T16:10:02Z rate-fetch -q --file "$D/d14.xml" &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM order_items" >actual &&
    echo $((5 * COUNT)) >expect &&
    test_cmp expect actual
'

test_expect_success 'the oracle agrees with every pin and refunds every order in full' '
    oracle expect --rates "$RATES13" --orders "$D/orders.jsonl" \
        --pins "$D/pins.csv" --refunds "$D/refunds.jsonl" \
        --closed "$D/closed" >"$D/expect.csv" &&
    n=$(wc -l <"$D/refunds.jsonl") &&
    test_line_count = $((n + 1)) "$D/expect.csv" &&
    test -s "$D/closed"
'

# ------------------------------------------------------------ the property

test_expect_success 'refund-calc --record: every refund of the plan, to the minor unit' '
    DAIGOU_NOW=2026-04-15T10:00:00Z refund-calc --record "$D/refunds.jsonl" \
        >"$D/out1.csv" 2>err &&
    sed -n 1p "$D/out1.csv" >actual &&
    echo "$HEADER" >expect &&
    test_cmp expect actual &&
    columns "$D/out1.csv" >actual &&
    test_cmp_head "$D/expect.csv" actual &&
    n=$(wc -l <"$D/refunds.jsonl") &&
    grep "$n refunds: $n recorded, 0 existing, 0 computed, 0 failed\$" err
'

test_expect_success 'every order'"'"'s charge refunds add up to its pinned charge' '
    oracle sums --pins "$D/pins.csv" --out "$D/out1.csv" &&
    test_sql "$DAIGOU_DB" "SELECT p.order_id, p.converted, r.total
        FROM order_rates p LEFT JOIN (SELECT order_id,
            sum(charge_refund) AS total FROM refunds GROUP BY order_id) r
            USING (order_id)
        WHERE p.kind = ${SQ}charge${SQ} AND r.total IS NOT p.converted" >actual &&
    test_must_be_empty actual &&
    test_sql "$DAIGOU_DB" "SELECT count(DISTINCT order_id) FROM refunds" >actual &&
    echo "$COUNT" >expect &&
    test_cmp expect actual
'

test_expect_success 'pinned_rate is the pin'"'"'s rate; the rows say pinned' '
    awk -F, "NR == FNR { rate[\$1] = \$6; next }
        FNR > 1 && (\$7 != rate[\$1] || \$13 != \"pinned\") { print; bad = 1 }
        END { exit bad }" "$D/pins.csv" "$D/out1.csv" >bad &&
    test_must_be_empty bad
'

test_expect_success 'the database: one refund a row, orders refunded in full are refunded' '
    n=$(wc -l <"$D/refunds.jsonl") &&
    test_sql "$DAIGOU_DB" "SELECT count(*), count(DISTINCT refund_id) FROM refunds" >actual &&
    echo "$n|$n" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT order_id FROM orders WHERE state = ${SQ}refunded${SQ} ORDER BY order_id" >refunded &&
    comm -23 "$D/closed" refunded >not_refunded &&
    test_must_be_empty not_refunded &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM orders WHERE state NOT IN (${SQ}partially_refunded${SQ}, ${SQ}refunded${SQ})" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

# ------------------------------------------------------------ idempotence

test_expect_success 'the plan again prints the stored rows and records nothing' '
    snapshot >before &&
    DAIGOU_NOW=2026-04-16T10:00:00Z refund-calc --record "$D/refunds.jsonl" \
        >"$D/out2.csv" 2>err &&
    test_cmp_head "$D/out1.csv" "$D/out2.csv" &&
    n=$(wc -l <"$D/refunds.jsonl") &&
    grep "$n refunds: 0 recorded, $n existing, 0 computed, 0 failed\$" err &&
    snapshot >after &&
    test_cmp_head before after &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM refunds" >actual &&
    echo "$n" >expect &&
    test_cmp expect actual
'

# ------------------------------------------------------------ one more

test_expect_success 'one refund more of every refunded order: 65 each, nothing recorded' '
    oracle extra --seed "$SEED" --rates "$RATES13" --orders "$D/orders.jsonl" \
        --refunds "$D/refunds.jsonl" >extra.jsonl &&
    test_line_count = "$COUNT" extra.jsonl &&
    snapshot >before &&
    DAIGOU_NOW=2026-04-16T10:00:00Z &&
    export DAIGOU_NOW &&
    test_expect_code 65 refund-calc --record extra.jsonl >out 2>err &&
    sed "/^order_id,refund_id,/d" out >rows &&
    test_must_be_empty rows &&
    grep -c "extra.jsonl:[0-9][0-9]*: " err >actual &&
    echo "$COUNT" >expect &&
    test_cmp expect actual &&
    grep "$COUNT refunds: 0 recorded, 0 existing, 0 computed, $COUNT failed\$" err &&
    test_expect_code 65 refund-calc extra.jsonl >out 2>err &&
    sed "/^order_id,refund_id,/d" out >rows &&
    test_must_be_empty rows &&
    grep "$COUNT refunds: 0 recorded, 0 existing, 0 computed, $COUNT failed\$" err &&
    snapshot >after &&
    test_cmp_head before after
'

test_expect_success 'one refund more of a refunded order, one at a time: 65' '
    snapshot >before &&
    DAIGOU_NOW=2026-04-16T10:00:00Z &&
    export DAIGOU_NOW &&
    for c in JPY EUR USD KWD BHD; do
        id=$(awk -F, -v c="$c" "NR == FNR { closed[\$1] = 1; next }
            FNR > 1 && \$5 == c && closed[\$1] { print \$1; exit }" \
            "$D/closed" "$D/pins.csv") &&
        test -n "$id" &&
        ccy=$(awk -F, -v id="$id" "\$1 == id { print \$3 }" "$D/pins.csv") &&
        whole=$(awk -F, -v id="$id" "\$1 == id { print \$2 }" "$D/pins.csv") &&
        charge=$(awk -F, -v id="$id" "\$1 == id { print \$4 }" "$D/pins.csv") &&
        echo "refund-calc: order ${SQ}$id${SQ} is fully refunded: nothing remains to refund" >expect &&
        test_expect_code 65 refund-calc --all "$id" >out 2>err &&
        test_cmp expect err &&
        ! grep "^$id," out &&
        test_expect_code 65 refund-calc --record --refund-id "$id-Y1" \
            --all "$id" >out 2>err &&
        test_cmp expect err &&
        ! grep "^$id," out &&
        for a in "$(unit "$ccy")" "$whole"; do
            test_expect_code 65 refund-calc --record --refund-id "$id-Y2" \
                --amount "$a" "$id" >out 2>err &&
            grep "order ${SQ}$id${SQ}" err &&
            ! grep "^$id," out || return 1
        done &&
        for b in "$(unit "$c")" "$charge"; do
            test_expect_code 65 refund-calc --record --refund-id "$id-Y3" \
                --charge-amount "$b" "$id" >out 2>err &&
            grep "order ${SQ}$id${SQ}" err &&
            ! grep "^$id," out || return 1
        done || return 1
    done &&
    snapshot >after &&
    test_cmp_head before after
'

test_done
