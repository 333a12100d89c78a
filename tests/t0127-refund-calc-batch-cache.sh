#!/bin/sh
# t0127-refund-calc-batch-cache: refunds of one order within one batch
# (one transaction) see each other exactly as refunds run one per
# transaction do: line units, amounts and the closing refund of several
# orders interleaved, a repeat, a conflict and over-refunds in the
# middle, fallbacks of an order the batch itself stores, a cancelled
# order. The same requests with --batch 1 on a copy of the database give
# the same output, messages, exit status and stored rows. Refunds that
# another process records between two batches of a running refund-calc
# (with --record or without), and between two runs, are counted by the
# batches after them.
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
        SELECT * FROM order_items ORDER BY order_id, line;
        SELECT * FROM refunds ORDER BY id;
        SELECT * FROM refund_lines ORDER BY refund_id, line;
        SELECT id, at, tool, kind, subject, detail FROM events
        WHERE kind <> ${SQ}schema_migrated${SQ} ORDER BY id"
}

# fresh NAME: a copy of the pinned database as $D/NAME.db.
fresh() {
    rm -f "$D/$1.db" "$D/$1.db-wal" "$D/$1.db-shm" &&
    cp "$D/pinned.db" "$D/$1.db"
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

test_ecb_xml @2026-04-13 JPY 161.29 USD 1.1500 GBP 0.8600 >"$D/r-13.xml"
test_ecb_xml @2026-04-14 JPY 165.25 USD 1.1700 GBP 0.8650 >"$D/r-14.xml"

cat >"$D/orders.jsonl" <<'EOF'
{"order_id": "C1", "amount": "52500", "currency": "JPY", "charge_currency": "USD", "lines": [{"line": 1, "qty": 3, "amount": "5700"}, {"line": 2, "qty": 1, "amount": "31800"}, {"line": 3, "qty": 2, "amount": "1800"}]}
{"order_id": "C2", "amount": "16500", "currency": "JPY", "charge_currency": "EUR", "lines": [{"line": 1, "qty": 2, "amount": "4000"}, {"line": 2, "qty": 1, "amount": "8500"}]}
{"order_id": "C3", "amount": "120.00", "currency": "GBP", "charge_currency": "EUR"}
{"order_id": "C4", "amount": "52500", "currency": "JPY", "charge_currency": "USD", "lines": [{"line": 1, "qty": 3, "amount": "5700"}, {"line": 2, "qty": 1, "amount": "31800"}, {"line": 3, "qty": 2, "amount": "1800"}]}
{"order_id": "S1", "amount": "16500", "currency": "JPY", "charge_currency": "EUR", "lines": [{"line": 1, "qty": 4, "amount": "3000"}, {"line": 2, "qty": 1, "amount": "4500"}]}
EOF

# Several orders interleaved in one batch: C1 by units, an amount in
# each currency, then the closing lines; C2 by amount, a line and all;
# C3 without lines; C4 cancelled (its state stays); F1 not in the
# database until its first fallback refund stores it. R01 again is a
# repeat, R03 again with another request a conflict, R09, R14, R16 ask
# for more than is left.
cat >"$D/batch.csv" <<'EOF'
order_id,refund_id,all,lines,amount,charge_amount,order_amount,currency,charge_currency
C1,R01,,1:1,,,,,
C2,R02,,,5000,,,,
C1,R03,,"1:1,3:1",,,,,
C3,R04,,,,10.00,,,
C1,R05,,,3000,,,,
F1,R06,,,2000,,16500,JPY,EUR
C2,R07,,1:1,,,,,
C1,R01,,1:1,,,,,
C1,R03,,2,,,,,
C4,R08,,1,,,,,
C1,R09,,,,999.00,,,
C1,R10,,2,,,,,
F1,R11,,,3000,,16500,JPY,EUR
C2,R12,true,,,,,,
C1,R13,,"1,3",,,,,
C1,R14,true,,,,,,
C3,R15,true,,,,,,
C2,R16,,,100,,,,
F1,R17,yes,,,,,,
C4,R18,1,,,,,,
C1,R19,,,,0.01,,,
EOF

test_expect_success 'setup: rates of 13 and 14 April, five orders pinned, C4 cancelled' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$D/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q "$D/orders.jsonl" \
        >/dev/null &&
    DAIGOU_NOW=2026-04-14T16:10:00Z rate-fetch -q --max-jump 5 \
        --file "$D/r-14.xml" &&
    test_sql "$DAIGOU_DB" "UPDATE orders SET state = ${SQ}cancelled${SQ}
        WHERE order_id = ${SQ}C4${SQ}" &&
    test_sql "$DAIGOU_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
    cp "$DAIGOU_DB" "$D/pinned.db" &&
    test_sql "$D/pinned.db" "SELECT order_id, state FROM orders
        ORDER BY order_id" >actual &&
    printf "%s\n" C1\|pinned C2\|pinned C3\|pinned C4\|cancelled \
        S1\|pinned >expect &&
    test_cmp expect actual
'

test_expect_success 'one batch records what one refund per transaction records' '
    fresh one && run one --record --allow-fallback --batch 1000 "$D/batch.csv" &&
    fresh each && run each --record --allow-fallback --batch 1 "$D/batch.csv" &&
    same one each &&
    echo 65 >expect &&
    test_cmp expect "$D/one.rc"
'

test_expect_success 'the batch: the repeat, the conflict and the over-refunds, in turn' '
    grep -v WARNING "$D/one.err" >actual &&
    cat >expect <<-EOF &&
	refund-calc: $D/batch.csv:9: refund ${SQ}R01${SQ} is already recorded
	refund-calc: $D/batch.csv:10: refund ${SQ}R03${SQ} is already recorded for order ${SQ}C1${SQ} as ${SQ}lines 1:1,3:1${SQ}: nothing changed
	refund-calc: $D/batch.csv:12: order ${SQ}C1${SQ}: refund of 999.00 USD exceeds the refundable remainder $(grep "^C1,R05," "$D/one.out" | cut -d, -f12) USD
	refund-calc: $D/batch.csv:17: order ${SQ}C1${SQ} is fully refunded: nothing remains to refund
	refund-calc: $D/batch.csv:19: order ${SQ}C2${SQ} is fully refunded: nothing remains to refund
	refund-calc: $D/batch.csv:22: order ${SQ}C1${SQ} is fully refunded: nothing remains to refund
	refund-calc: 21 refunds: 15 recorded, 1 existing, 0 computed, 5 failed
	EOF
    test_cmp expect actual &&
    grep -c WARNING "$D/one.err" >actual &&
    echo 3 >expect &&
    test_cmp expect actual
'

test_expect_success 'the batch: each order refunded in full, exactly its charge; C4 stays cancelled' '
    test_sql "$D/one.db" "SELECT o.order_id, o.state, r.converted,
            (SELECT sum(charge_refund) FROM refunds f
             WHERE f.order_id = o.order_id),
            (SELECT sum(refund_amount) FROM refunds f
             WHERE f.order_id = o.order_id), o.amount
        FROM orders o LEFT JOIN order_rates r ON r.order_id = o.order_id
            AND r.kind = ${SQ}charge${SQ}
        ORDER BY o.order_id" >actual &&
    C1=$(test_sql "$D/pinned.db" "SELECT converted FROM order_rates
        WHERE order_id = ${SQ}C1${SQ}") &&
    C2=$(test_sql "$D/pinned.db" "SELECT converted FROM order_rates
        WHERE order_id = ${SQ}C2${SQ}") &&
    C3=$(test_sql "$D/pinned.db" "SELECT converted FROM order_rates
        WHERE order_id = ${SQ}C3${SQ}") &&
    C4=$(test_sql "$D/pinned.db" "SELECT converted FROM order_rates
        WHERE order_id = ${SQ}C4${SQ}") &&
    F1=$(test_sql "$D/one.db" "SELECT sum(charge_refund) FROM refunds
        WHERE order_id = ${SQ}F1${SQ}") &&
    C4R=$(test_sql "$D/one.db" "SELECT sum(charge_refund) FROM refunds
        WHERE order_id = ${SQ}C4${SQ}") &&
    C4S=$(test_sql "$D/one.db" "SELECT sum(refund_amount) FROM refunds
        WHERE order_id = ${SQ}C4${SQ}") &&
    printf "%s\n" "C1|refunded|$C1|$C1|52500|52500" \
        "C2|refunded|$C2|$C2|16500|16500" \
        "C3|refunded|$C3|$C3|12000|12000" \
        "C4|cancelled|$C4|$C4R|$C4S|52500" \
        "F1|refunded||$F1|16500|16500" \
        "S1|pinned|$(test_sql "$D/pinned.db" "SELECT converted FROM order_rates
            WHERE order_id = ${SQ}S1${SQ}")|||16500" >expect &&
    test_cmp expect actual &&
    test "$C4R" = "$C4" &&
    test_sql "$D/one.db" "SELECT refund_id, request FROM refunds
        WHERE order_id = ${SQ}C1${SQ} ORDER BY id;
        SELECT refund_id, line, qty FROM refund_lines
        WHERE refund_id IN (SELECT refund_id FROM refunds
            WHERE order_id = ${SQ}C1${SQ}) ORDER BY refund_id, line" >actual &&
    cat >expect <<-EOF &&
	R01|lines 1:1
	R03|lines 1:1,3:1
	R05|amount 3000 JPY
	R10|lines 2
	R13|lines 1,3
	R01|1|1
	R03|1|1
	R03|3|1
	R10|2|1
	R13|1|1
	R13|3|1
	EOF
    test_cmp expect actual
'

test_expect_success 'without --record: one read transaction computes what --batch 1 computes' '
    fresh ro1 && run ro1 --allow-fallback --batch 1000 "$D/batch.csv" &&
    fresh roe && run roe --allow-fallback --batch 1 "$D/batch.csv" &&
    same ro1 roe &&
    test_sql "$D/one.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
    cp "$D/one.db" "$D/ro2.db" && cp "$D/one.db" "$D/ro3.db" &&
    run ro2 --allow-fallback --batch 1000 "$D/batch.csv" &&
    run ro3 --allow-fallback --batch 1 "$D/batch.csv" &&
    same ro2 ro3 &&
    test_cmp "$D/one.snap" "$D/ro2.snap"
'

test_expect_success 'the batch in JSON Lines, in batches of 4: the same rows stored' '
    "$PYTHON3" -c "
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(json.dumps({k: v for k, v in r.items() if v}))
" "$D/batch.csv" >"$D/batch.jsonl" &&
    fresh js && run js --record --allow-fallback --batch 4 "$D/batch.jsonl" &&
    snapshot "$D/js.db" >actual &&
    test_cmp "$D/one.snap" actual &&
    test_cmp "$D/one.out" "$D/js.out"
'

# record_from_fifo NAME: refund-calc --record in batches of 2 on
# $D/NAME.db in the background, reading the FIFO $D/in and writing the
# FIFO $D/out; its exit status in $D/NAME.rc.
record_from_fifo() {
    {
        refund-calc --db "$D/$1.db" --record --batch 2 - <"$D/in" \
            >"$D/out" 2>"$D/$1.err"
        echo $? >"$D/$1.rc"
    } &
}

# S1: 12000 JPY of 4 units of line 1 and 4500 of line 2, charged in EUR.
cat >"$D/s-a.csv" <<'EOF'
order_id,refund_id,all,lines,amount
S1,SA1,,1:1,
S1,SA2,,,1000
EOF
cat >"$D/s-b.csv" <<'EOF'
order_id,refund_id,all,lines,amount
S1,SB1,,1:1,
S1,SB2,true,,
EOF

test_expect_success 'two runs and a refund between them: each run sees what came before' '
    fresh seq &&
    refund-calc --db "$D/seq.db" --record "$D/s-a.csv" >"$D/seq.out" &&
    refund-calc --db "$D/seq.db" --record --refund-id SX1 --lines 1:2 S1 \
        >>"$D/seq.out" &&
    refund-calc --db "$D/seq.db" --record --batch 1000 "$D/s-b.csv" \
        >>"$D/seq.out" &&
    fresh seq1 &&
    refund-calc --db "$D/seq1.db" --record --batch 1 "$D/s-a.csv" \
        >"$D/seq1.out" &&
    refund-calc --db "$D/seq1.db" --record --refund-id SX1 --lines 1:2 S1 \
        >>"$D/seq1.out" &&
    refund-calc --db "$D/seq1.db" --record --batch 1 "$D/s-b.csv" \
        >>"$D/seq1.out" &&
    test_cmp "$D/seq1.out" "$D/seq.out" &&
    snapshot "$D/seq.db" >"$D/seq.snap" &&
    snapshot "$D/seq1.db" >actual &&
    test_cmp "$D/seq.snap" actual &&
    test_sql "$D/seq.db" "SELECT refund_id, request FROM refunds
        ORDER BY id;
        SELECT sum(charge_refund) = (SELECT converted FROM order_rates
            WHERE order_id = ${SQ}S1${SQ}), sum(refund_amount)
        FROM refunds; SELECT refund_id, line, qty FROM refund_lines
        ORDER BY refund_id, line; SELECT state FROM orders
        WHERE order_id = ${SQ}S1${SQ}" >actual &&
    cat >expect <<-EOF &&
	SA1|lines 1:1
	SA2|amount 1000 JPY
	SX1|lines 1:2
	SB1|lines 1:1
	SB2|all
	1|16500
	SA1|1|1
	SB1|1|1
	SX1|1|2
	refunded
	EOF
    test_cmp expect actual
'

test_expect_success 'a refund recorded by another process between two batches of a running refund-calc' '
    fresh live &&
    rm -f "$D/in" "$D/out" &&
    mkfifo "$D/in" "$D/out" &&
    record_from_fifo live &&
    exec 3>"$D/in" 4<"$D/out" &&
    sed -n 1,3p "$D/s-a.csv" >&3 &&
    read -r h <&4 && read -r a1 <&4 && read -r a2 <&4 &&
    refund-calc --db "$D/live.db" --record --refund-id SX1 --lines 1:2 S1 \
        >"$D/x.out" &&
    sed -n 2,3p "$D/s-b.csv" >&3 &&
    exec 3>&- &&
    read -r b1 <&4 && read -r b2 <&4 &&
    ! read -r more <&4 &&
    exec 4<&- &&
    wait &&
    echo 0 >expect &&
    test_cmp expect "$D/live.rc" &&
    sed -n 1p "$D/seq.out" >expect &&
    grep -v "^order_id," "$D/seq.out" >>expect &&
    printf "%s\n" "$h" "$a1" "$a2" >actual &&
    tail -n +2 "$D/x.out" >>actual &&
    printf "%s\n" "$b1" "$b2" >>actual &&
    test_cmp expect actual &&
    snapshot "$D/live.db" >actual &&
    test_cmp "$D/seq.snap" actual
'

# compute_from_fifo NAME: refund-calc without --record, in batches of 2,
# on $D/NAME.db in the background, reading the FIFO $D/in and writing
# the FIFO $D/out; its exit status in $D/NAME.rc.
compute_from_fifo() {
    {
        refund-calc --db "$D/$1.db" --batch 2 - <"$D/in" >"$D/out" \
            2>"$D/$1.err"
        echo $? >"$D/$1.rc"
    } &
}

test_expect_success 'without --record: a refund another process records between two batches counts in the next' '
    fresh ro-live &&
    rm -f "$D/in" "$D/out" &&
    mkfifo "$D/in" "$D/out" &&
    compute_from_fifo ro-live &&
    exec 3>"$D/in" 4<"$D/out" &&
    printf "%s\n" order_id,all S1,true S1,true >&3 &&
    read -r h <&4 && read -r a1 <&4 && read -r a2 <&4 &&
    refund-calc --db "$D/ro-live.db" --record --refund-id SX1 --lines 1:2 \
        S1 >/dev/null &&
    printf "%s\n" S1,true S1,true >&3 &&
    exec 3>&- &&
    read -r b1 <&4 && read -r b2 <&4 &&
    ! read -r more <&4 &&
    exec 4<&- &&
    wait &&
    echo 0 >expect &&
    test_cmp expect "$D/ro-live.rc" &&
    refund-calc --db "$D/pinned.db" --all S1 >"$D/before.out" &&
    refund-calc --db "$D/ro-live.db" --all S1 >"$D/after.out" &&
    tail -n +2 "$D/before.out" >expect &&
    tail -n +2 "$D/before.out" >>expect &&
    tail -n +2 "$D/after.out" >>expect &&
    tail -n +2 "$D/after.out" >>expect &&
    printf "%s\n" "$a1" "$a2" "$b1" "$b2" >actual &&
    test_cmp expect actual &&
    ! test_cmp "$D/before.out" "$D/after.out" >/dev/null
'

test_done
