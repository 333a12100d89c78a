#!/bin/sh
# t0128-refund-calc-prefetch: a batch's orders, their recorded refunds
# and its recorded refund ids are read at the start of its transaction;
# what a request sees in its turn is still what one refund per
# transaction sees: a refund id that an earlier request of the same
# batch records for another order is a conflict, an order id with a
# backslash is found, refunds recorded by an earlier run count. The same
# requests with --batch 1 on a copy of the database give the same
# output, messages, exit status and stored rows.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_DB=$TRASH/shop.db
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_DB DAIGOU_NOW
# shellcheck disable=SC2034 # used inside the test bodies
D=$TRASH

# snapshot DB: every row a refund can write.
snapshot() {
    test_sql "$1" "SELECT * FROM orders ORDER BY order_id;
        SELECT * FROM refunds ORDER BY id;
        SELECT * FROM refund_lines ORDER BY refund_id, line;
        SELECT id, at, tool, kind, subject, detail FROM events
        WHERE kind <> 'schema_migrated' ORDER BY id"
}

# run NAME ARGS...: refund-calc on $D/NAME.db; stdout, stderr and the
# exit status in $D/NAME.out, .err and .rc.
run() {
    rn_db=$1
    shift
    test_run_saved "$D/$rn_db" refund-calc --db "$D/$rn_db.db" "$@"
}

# same A B: runs A and B printed, said and stored the same.
same() {
    test_same_runs "$D/$1" "$D/$2" snapshot
}

test_ecb_xml @2026-04-13 JPY 161.29 USD 1.1500 >"$D/r-13.xml"

cat >"$D/orders.csv" <<'EOF'
order_id,amount,currency,charge_currency
P1,52500,JPY,USD
P2,16500,JPY,EUR
A\1,9000,JPY,EUR
EOF
cat >"$D/lines.csv" <<'EOF'
order_id,line,qty,amount
P1,1,3,5700
P1,2,1,31800
P1,3,2,1800
P2,1,2,4000
P2,2,1,8500
A\1,1,3,3000
EOF

# X1 is recorded for P1, then asked for P2 (a conflict, though P2 was
# read before X1 was stored), then for P1 again (existing).
cat >"$D/first.csv" <<'EOF'
order_id,refund_id,all,lines,amount
P1,X1,,1:1,
P2,X1,,1,
P2,X2,,1:1,
A\1,X3,,,3000
P1,X1,,1:1,
A\1,X4,,1:1,
EOF
cat >"$D/second.csv" <<'EOF'
order_id,refund_id,all,lines,amount
P2,Y1,,1,
P1,Y2,,1,
A\1,Y3,true,,
P2,X2,,1:1,
P1,Y4,true,,
P2,Y5,true,,
EOF

test_expect_success 'setup: two orders with lines and one whose id has a backslash' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$D/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --lines "$D/lines.csv" \
        "$D/orders.csv" >/dev/null &&
    test_sql "$DAIGOU_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
    cp "$DAIGOU_DB" "$D/one.db" &&
    cp "$DAIGOU_DB" "$D/each.db" &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM orders" >actual &&
    echo 3 >expect &&
    test_cmp expect actual
'

test_expect_success 'a refund id recorded earlier in the batch for another order is a conflict' '
    run one --record "$D/first.csv"
    run each --record --batch 1 "$D/first.csv"
    same one each &&
    grep X1 "$D/one.err" >actual &&
    cat >expect <<-EOF &&
	refund-calc: $D/first.csv:3: refund ${SQ}X1${SQ} is already recorded for order ${SQ}P1${SQ} as ${SQ}lines 1:1${SQ}: nothing changed
	refund-calc: $D/first.csv:6: refund ${SQ}X1${SQ} is already recorded
	EOF
    test_cmp expect actual &&
    echo 65 >expect &&
    test_cmp expect "$D/one.rc"
'

test_expect_success 'the refunds of an earlier run count: the next batch closes each order' '
    run one --record "$D/second.csv"
    run each --record --batch 1 "$D/second.csv"
    same one each &&
    test_sql "$D/one.db" "SELECT order_id, state FROM orders
        ORDER BY order_id" >actual &&
    printf "%s\n" "A\\1|refunded" "P1|refunded" "P2|refunded" >expect &&
    test_cmp expect actual
'

test_expect_success 'computing the same requests again: the stored rows, as --batch 1 prints them' '
    run one "$D/first.csv"
    run each --batch 1 "$D/first.csv"
    same one each &&
    run one "$D/second.csv"
    run each --batch 1 "$D/second.csv"
    same one each
'

test_done
