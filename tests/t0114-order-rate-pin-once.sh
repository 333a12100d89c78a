#!/bin/sh
# t0114-order-rate-pin-once: exactly once inside one batch. New orders,
# orders pinned by an earlier run, an order twice in the batch, conflicts,
# and stored orders whose conversion would now be refused or fail, all in
# one transaction: a stored order's pin or conflict always wins, the rest
# is pinned, refused or failed in its turn, and every --batch size gives
# the same output, messages, exit status and stored rows.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_NOW=2026-04-14T08:00:00Z
export DAIGOU_NOW
D=$TRASH

# shellcheck disable=SC2034 # used inside the test bodies
HDR=order_id,amount,currency,charge_amount,charge_currency,rate,base_amount,base_currency,base_rate,rate_as_of,pinned_at,status

test_ecb_xml @2026-04-13 USD 1.2495 JPY 161.29 GBP 0.86250 KRW 1600.00 \
    >"$D/d13.xml"

# Every test pins into its own ./daigou.db (DAIGOU_DB is unset).
# prior: Monday's quotes, and S1 to S5 pinned by an earlier run.
prior() {
    DAIGOU_NOW=2026-04-13T16:00:00Z rate-fetch -q --db daigou.db \
        --file "$D/d13.xml" &&
    DAIGOU_NOW=2026-04-14T07:00:00Z order-rate-pin -q "$D/prior.csv" \
        >/dev/null
}

# dump: every stored order, item and pin, and the events but the
# migration.
dump() {
    test_sql daigou.db "SELECT * FROM orders ORDER BY order_id; SELECT * FROM order_items ORDER BY order_id, line; SELECT * FROM order_rates ORDER BY id; SELECT tool, kind, subject, detail FROM events WHERE kind <> 'schema_migrated' ORDER BY id"
}

cat >"$D/prior.csv" <<\EOF
order_id,amount,currency,charge_currency,base_currency
S1,16500,JPY,EUR,
S2,16500,JPY,EUR,
S3,102.30,EUR,USD,
S4,250.00,USD,JPY,
S5,30.00,EUR,GBP,USD
EOF

# One batch: N1 new, then again, then with other contents; S1 and S5 as
# stored; S2 with other contents; S3 and S4 as stored, with a preview
# rate 12 % off and a day 17 days after the quotes, which would refuse
# or fail them were they new; N2 and N3 the same, new; N4 rounds to
# nothing.
cat >"$D/batch.csv" <<\EOF
order_id,amount,currency,charge_currency,base_currency,preview_rate,created_at
N1,16500,JPY,EUR,,,
S1,16500,JPY,EUR,,,
N1,16500,JPY,EUR,,,2026-04-14T07:59:59Z
S2,16600,JPY,EUR,,,
S3,102.30,EUR,USD,,1.1000,
S4,250.00,USD,JPY,,,2026-04-30T00:00:00Z
N2,102.30,EUR,USD,,1.1000,
N3,250.00,USD,JPY,,,2026-04-30T00:00:00Z
N1,16600,JPY,EUR,,,
N4,1,KRW,EUR,,,
S5,30.00,EUR,GBP,USD,,
N5,30.00,EUR,GBP,USD,,
EOF

cat >"$D/batch.out" <<EOF
$HDR
N1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
S1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T07:00:00Z,existing
N1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,existing
S3,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T07:00:00Z,existing
S4,250.00,USD,32271,JPY,129.083633453381,,,,2026-04-13,2026-04-14T07:00:00Z,existing
N2,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
S5,30.00,EUR,25.88,GBP,0.8625,37.49,USD,1.2495,2026-04-13,2026-04-14T07:00:00Z,existing
N5,30.00,EUR,25.88,GBP,0.8625,37.49,USD,1.2495,2026-04-13,2026-04-14T08:00:00Z,pinned
EOF

cat >"$D/batch.err" <<EOF
order-rate-pin: batch.csv:5: order ${SQ}S2${SQ} is already stored with other contents: nothing changed
order-rate-pin: batch.csv:8: order ${SQ}N2${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.1000 to 1.2495: not pinned
order-rate-pin: batch.csv:9: order ${SQ}N3${SQ}: the newest ecb rate for USD/JPY is of 2026-04-13, 17 days before 2026-04-30 (--max-age 5d)
order-rate-pin: batch.csv:10: order ${SQ}N1${SQ} is already stored with other contents: nothing changed
order-rate-pin: batch.csv:11: amount: 1 KRW converts to 0.00 EUR
order-rate-pin: 12 orders: 2 pinned, 5 existing, 1 refused, 4 failed
EOF

test_expect_success 'setup: an earlier run pinned S1 to S5' '
    prior &&
    test_sql daigou.db "SELECT order_id FROM orders ORDER BY order_id" >actual &&
    printf "S1\nS2\nS3\nS4\nS5\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'one batch: stored pins and conflicts win, new orders in turn' '
    prior &&
    dump >before &&
    cp "$D/batch.csv" batch.csv &&
    test_expect_code 69 order-rate-pin batch.csv >actual 2>err &&
    test_cmp "$D/batch.out" actual &&
    test_cmp "$D/batch.err" err &&
    dump >after &&
    test_sql daigou.db "SELECT order_id, created_at FROM orders WHERE order_id LIKE ${SQ}N%${SQ} ORDER BY order_id" >actual &&
    cat >expect <<-\EOF &&
	N1|2026-04-14T08:00:00Z
	N5|2026-04-14T08:00:00Z
	EOF
    test_cmp expect actual &&
    test_sql daigou.db "SELECT kind, subject FROM events WHERE kind LIKE ${SQ}pin_%${SQ} ORDER BY id" >actual &&
    cat >expect <<-\EOF &&
	pin_conflict|S2
	pin_refused|N2
	pin_conflict|N1
	EOF
    test_cmp expect actual &&
    test_sql daigou.db "SELECT count(*) FROM order_rates WHERE order_id IN (${SQ}S1${SQ}, ${SQ}S2${SQ}, ${SQ}S3${SQ}, ${SQ}S4${SQ}, ${SQ}S5${SQ}) AND pinned_at <> ${SQ}2026-04-14T07:00:00Z${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'the same batch at --batch 1, 2, 5 and 1000: the same everything' '
    for b in 1 2 5 1000; do
        mkdir "b$b" && (
            cd "b$b" && prior &&
            cp "$D/batch.csv" batch.csv &&
            order-rate-pin --batch "$b" batch.csv >out 2>err
            echo $? >rc
            dump >dump
        ) || return 1
    done &&
    echo 69 >expect &&
    test_cmp expect b1/rc &&
    test_cmp "$D/batch.out" b1/out &&
    test_cmp "$D/batch.err" b1/err &&
    for b in 2 5 1000; do
        test_cmp b1/out "b$b/out" &&
        test_cmp b1/err "b$b/err" &&
        test_cmp b1/rc "b$b/rc" &&
        test_cmp b1/dump "b$b/dump" || return 1
    done
'

# many.jsonl: 120 orders with 3 lines each, every third with a base
# currency (two pins), so that new orders and their rows of order_items
# and order_rates wait for their insert and are inserted many at a
# time; among them S1 as stored, orders seen earlier in the batch (the
# same, and with other contents, converted or not) while they or their
# rows may still wait, bad rows and a refusal.
many() {
    i=1
    while [ $i -le 120 ]; do
        case $((i % 3)) in
        0) base=',"base_currency":"USD"' ;;
        *) base= ;;
        esac
        printf '{"order_id":"M%d","amount":"%d","currency":"JPY","charge_currency":"EUR"%s,"lines":[{"line":1,"sku":"A%d","qty":2,"amount":"5000"},{"line":2,"qty":1,"amount":"%d"},{"line":3,"sku":"GIFT","qty":1,"amount":"0"}]}\n' \
            $i $((10000 + i)) "$base" $i $((i - 0))
        case $i in
        7) echo '{"order_id":"S1","amount":"16500","currency":"JPY","charge_currency":"EUR"}' ;;
        12) printf '{"order_id":"M%d","amount":"%d","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"sku":"A%d","qty":2,"amount":"5000"},{"line":2,"qty":1,"amount":"%d"},{"line":3,"sku":"GIFT","qty":1,"amount":"0"}]}\n' 11 10011 11 11 ;;
        20) echo '{"order_id":"M19","amount":"1","currency":"JPY","charge_currency":"EUR"}' ;;
        25) echo '{"order_id":"X1","amount":"zero","currency":"JPY","charge_currency":"EUR"}' ;;
        30) echo '{"order_id":"X2","amount":"102.30","currency":"EUR","charge_currency":"USD","preview_rate":"1.1000"}' ;;
        33) echo 'not json' ;;
        40) echo '{"order_id":"M35","amount":"20035","currency":"JPY","charge_currency":"EUR"}' ;;
        90) printf '{"order_id":"M%d","amount":"%d","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"sku":"A%d","qty":2,"amount":"5000"},{"line":2,"qty":1,"amount":"%d"},{"line":3,"sku":"GIFT","qty":1,"amount":"0"}]}\n' 70 10070 70 70 ;;
        100) echo '{"order_id":"M95","amount":"20095","currency":"JPY","charge_currency":"EUR"}' ;;
        esac
        i=$((i + 1))
    done
}

test_expect_success 'orders and rows inserted many at a time: the same at --batch 1, 4, 17, 50 and 1000' '
    many >many.jsonl &&
    test_line_count = 129 many.jsonl &&
    for b in 1 4 17 50 1000; do
        mkdir "m$b" && (
            cd "m$b" && prior &&
            order-rate-pin --batch "$b" ../many.jsonl >out 2>err
            echo $? >rc
            dump >dump
        ) || return 1
    done &&
    echo 65 >expect &&
    test_cmp expect m1/rc &&
    grep -c ",pinned\$" m1/out >actual &&
    echo 120 >expect &&
    test_cmp expect actual &&
    grep -c ",existing\$" m1/out >actual &&
    echo 3 >expect &&
    test_cmp expect actual &&
    tail -n 1 m1/err >actual &&
    echo "order-rate-pin: 129 orders: 120 pinned, 3 existing, 1 refused, 5 failed" >expect &&
    test_cmp expect actual &&
    test_sql m1/daigou.db "SELECT count(*) FROM order_items WHERE order_id LIKE ${SQ}M%${SQ}; SELECT count(*) FROM order_rates WHERE order_id LIKE ${SQ}M%${SQ}; SELECT count(*) FROM order_rates WHERE id <> (SELECT count(*) FROM order_rates r WHERE r.id <= order_rates.id)" >actual &&
    printf "360\n160\n0\n" >expect &&
    test_cmp expect actual &&
    for b in 4 17 50 1000; do
        test_cmp m1/out "m$b/out" &&
        test_cmp m1/err "m$b/err" &&
        test_cmp m1/rc "m$b/rc" &&
        test_cmp m1/dump "m$b/dump" || return 1
    done
'

test_expect_success 'the batch again: the new pins are existing, nothing else changes' '
    prior &&
    cp "$D/batch.csv" batch.csv &&
    test_expect_code 69 order-rate-pin -q batch.csv >/dev/null 2>&1 &&
    test_sql daigou.db "SELECT * FROM orders ORDER BY order_id; SELECT * FROM order_items ORDER BY order_id, line; SELECT * FROM order_rates ORDER BY id" >before &&
    DAIGOU_NOW=2026-04-14T09:00:00Z test_expect_code 69 order-rate-pin batch.csv >actual 2>err &&
    sed "s/,pinned\$/,existing/" "$D/batch.out" >expect &&
    test_cmp expect actual &&
    sed "\$s/.*/order-rate-pin: 12 orders: 0 pinned, 7 existing, 1 refused, 4 failed/" "$D/batch.err" >expect &&
    test_cmp expect err &&
    test_sql daigou.db "SELECT * FROM orders ORDER BY order_id; SELECT * FROM order_items ORDER BY order_id, line; SELECT * FROM order_rates ORDER BY id" >after &&
    test_cmp before after
'

test_expect_success '--preview of the batch: the same rows but the status, nothing stored' '
    prior &&
    dump >before &&
    cp "$D/batch.csv" batch.csv &&
    test_expect_code 69 order-rate-pin --preview batch.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	N1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,,preview
	S1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T07:00:00Z,existing
	N1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,,preview
	S3,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T07:00:00Z,existing
	S4,250.00,USD,32271,JPY,129.083633453381,,,,2026-04-13,2026-04-14T07:00:00Z,existing
	N2,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	N1,16600,JPY,102.92,EUR,0.00620001240002480,,,,2026-04-13,,preview
	S5,30.00,EUR,25.88,GBP,0.8625,37.49,USD,1.2495,2026-04-13,2026-04-14T07:00:00Z,existing
	N5,30.00,EUR,25.88,GBP,0.8625,37.49,USD,1.2495,2026-04-13,,preview
	EOF
    test_cmp expect actual &&
    dump >after &&
    test_cmp before after
'

test_expect_success 'a stored quote that is not a rate: stored orders still read back, a new one is 70' '
    prior &&
    test_sql daigou.db "PRAGMA ignore_check_constraints = ON; UPDATE rates SET rate = ${SQ}8e-1${SQ} WHERE quote = ${SQ}GBP${SQ}" &&
    printf "order_id,amount,currency,charge_currency,base_currency\nS5,30.00,EUR,GBP,USD\n" >s5.csv &&
    order-rate-pin -q s5.csv >actual 2>err &&
    echo "S5,30.00,EUR,25.88,GBP,0.8625,37.49,USD,1.2495,2026-04-13,2026-04-14T07:00:00Z,existing" >expect &&
    tail -n 1 actual >last &&
    test_cmp expect last &&
    test_must_be_empty err &&
    printf "order_id,amount,currency,charge_currency\nG1,30.00,EUR,GBP\n" >g1.csv &&
    test_expect_code 70 order-rate-pin -q g1.csv >actual 2>err &&
    test_must_be_empty actual &&
    echo "order-rate-pin: stored ecb rate EUR/GBP of 2026-04-13 is not a rate: ${SQ}8e-1${SQ}" >expect &&
    test_cmp expect err &&
    test_sql daigou.db "SELECT count(*) FROM orders WHERE order_id = ${SQ}G1${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'created_at with a fraction, an offset or a lower-case t and z is stored as UTC' '
    prior &&
    cat >created.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,created_at
	C1,16500,JPY,EUR,2026-04-13T10:00:00.75Z
	C2,16500,JPY,EUR,2026-04-14T01:30:00+02:00
	C3,16500,JPY,EUR,2026-04-13t23:59:59z
	C4,16500,JPY,EUR,2026-04-13T23:59:59Z
	EOF
    order-rate-pin -q created.csv >/dev/null &&
    test_sql daigou.db "SELECT order_id, created_at FROM orders WHERE order_id LIKE ${SQ}C%${SQ} ORDER BY order_id" >actual &&
    cat >expect <<-\EOF &&
	C1|2026-04-13T10:00:00Z
	C2|2026-04-13T23:30:00Z
	C3|2026-04-13T23:59:59Z
	C4|2026-04-13T23:59:59Z
	EOF
    test_cmp expect actual
'

test_done
