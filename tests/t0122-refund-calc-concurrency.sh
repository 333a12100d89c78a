#!/bin/sh
# t0122-refund-calc-concurrency: recorders running at once on one order
# never refund more than its charge between them, never report a busy
# database, and agree on a refund id recorded by several of them; a run
# killed with SIGKILL in the middle of its batches leaves a sound
# database, and a re-run records the rest without recording anything
# twice.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_DB=$TRASH/race.db
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_DB DAIGOU_NOW
# shellcheck disable=SC2034 # used inside the test bodies
D=$TRASH

# requests K N AMOUNT: N charge-amount refunds of order O1 by runner K.
requests() {
    echo order_id,refund_id,charge_amount
    i=1
    while [ "$i" -le "$2" ]; do
        echo "O1,P$1-$i,$3"
        i=$((i + 1))
    done
}

test_ecb_xml @2026-04-13 JPY 161.29 USD 1.1500 >"$D/r.xml"

test_expect_success 'setup: O1 (16500 JPY, 102.30 EUR), O2 and 300 orders of 3 lines pinned' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$D/r.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --to EUR O1 16500 JPY >/dev/null &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --to EUR O2 16500 JPY >/dev/null &&
    "$PYTHON3" -c "
import json
for i in range(300):
    print(json.dumps({\"order_id\": \"M%03d\" % i, \"amount\": \"%d\" % (9000 + 3 * i),
        \"currency\": \"JPY\", \"charge_currency\": \"USD\", \"created_at\": \"2026-04-13T18:00:00Z\",
        \"lines\": [{\"line\": 1, \"qty\": 2, \"amount\": \"1500\"},
                  {\"line\": 2, \"qty\": 3, \"amount\": \"%d\" % (2000 + i)}]}))
" >"$D/many.jsonl" &&
    order-rate-pin -q "$D/many.jsonl" >/dev/null &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM order_rates" >actual &&
    echo 302 >expect &&
    test_cmp expect actual
'

test_expect_success 'eight recorders of 1.00 EUR refunds at once: exactly 102 pass, 102.00 in all' '
    for k in 1 2 3 4 5 6 7 8; do
        requests $k 20 1.00 >"$D/p$k.csv" || exit 1
    done &&
    for k in 1 2 3 4 5 6 7 8; do
        { refund-calc --record --batch 1 "$D/p$k.csv" >"$D/o$k" 2>"$D/e$k"; echo $? >"$D/rc$k"; } &
    done &&
    wait &&
    cat "$D"/rc? | grep -v "^0$" | sort -u >actual &&
    echo 65 >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT count(*), sum(charge_refund) FROM refunds
        WHERE order_id = ${SQ}O1${SQ}" >actual &&
    echo "102|10200" >expect &&
    test_cmp expect actual &&
    cat "$D"/o? | grep -v ^order_id | wc -l | tr -d " " >actual &&
    echo 102 >expect &&
    test_cmp expect actual &&
    cat "$D"/e? | grep -c "exceeds the refundable remainder 0.30 EUR" >actual &&
    echo 58 >expect &&
    test_cmp expect actual &&
    ! grep -i "busy\|locked" "$D"/e? &&
    cut -d, -f11 "$D"/o? | grep -v refunded_total | sort -u | wc -l | tr -d " " >actual &&
    echo 102 >expect &&
    test_cmp expect actual
'

test_expect_success 'the 0.30 EUR left: --all closes O1 and the order adds up' '
    refund-calc -q --record --refund-id P-close O1 --all >out &&
    cut -d, -f5,11,12 out >actual &&
    printf "%s\n" charge_refund,refunded_total,refundable_remaining 0.30,102.30,0.00 >expect &&
    test_cmp expect actual
'

test_expect_success 'eight recorders of one refund id at once: one refund, eight equal rows' '
    for k in 1 2 3 4 5 6 7 8; do
        { refund-calc -q --record --refund-id SAME O2 --lines 1 >"$D/s$k" 2>"$D/se$k"; echo $? >"$D/src$k"; } &
    done &&
    wait &&
    cat "$D"/src? | sort -u >actual &&
    echo 0 >expect &&
    test_cmp expect actual &&
    cat "$D"/s? | sort -u >actual &&
    test_line_count = 2 actual &&
    cat "$D"/se? >errs &&
    test_must_be_empty errs &&
    test_sql "$DAIGOU_DB" "SELECT count(*), sum(charge_refund) FROM refunds
        WHERE order_id = ${SQ}O2${SQ}" >actual &&
    echo "1|10230" >expect &&
    test_cmp expect actual
'

test_expect_success 'eight recorders of --all on one order with their own ids: one wins' '
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --to USD O3 16500 JPY >/dev/null &&
    for k in 1 2 3 4 5 6 7 8; do
        { refund-calc -q --record --refund-id ALL-$k O3 --all >"$D/a$k" 2>"$D/ae$k"; echo $? >"$D/arc$k"; } &
    done &&
    wait &&
    cat "$D"/arc? | sort | uniq -c | sed "s/^ *//" >actual &&
    printf "%s\n" "1 0" "7 65" >expect &&
    test_cmp expect actual &&
    cat "$D"/ae? | sort | uniq -c | sed "s/^ *//" >actual &&
    echo "7 refund-calc: order ${SQ}O3${SQ} is fully refunded: nothing remains to refund" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM refunds WHERE order_id = ${SQ}O3${SQ}" >actual &&
    echo 1 >expect &&
    test_cmp expect actual
'

# ------------------------------------------------------------ crash

# For each of the 300 orders: a unit of line 2, then all of line 1, then
# --all: 900 refunds, each valid only after the one before it.
test_expect_success 'setup: 900 refunds that depend on each other' '
    {
        echo order_id,refund_id,lines,all
        for step in 1 2 3; do
            i=0
            while [ $i -lt 300 ]; do
                o=$(printf "M%03d" $i)
                case $step in
                1) echo "$o,$o-a,2:1," ;;
                2) echo "$o,$o-b,1," ;;
                3) echo "$o,$o-c,,true" ;;
                esac
                i=$((i + 1))
            done
        done
    } >"$D/crash.csv" &&
    test_line_count = 901 "$D/crash.csv"
'

test_expect_success 'SIGKILL in the middle, three times: a sound database holding what was printed' '
    for round in 1 2 3; do
        refund-calc --record --batch 7 "$D/crash.csv" >"$D/k$round.out" 2>"$D/k$round.err" &
        pid=$!
        n=0
        while [ "$n" -lt $((round * 150)) ] && kill -0 $pid 2>/dev/null; do
            n=$(wc -l <"$D/k$round.out")
        done
        kill -9 $pid 2>/dev/null
        wait $pid
        test_sql "$DAIGOU_DB" "PRAGMA integrity_check; PRAGMA foreign_key_check" >check &&
        echo ok >expect &&
        test_cmp expect check &&
        sed 1d "$D/k$round.out" | cut -d, -f2 | sort -u >printed &&
        test_sql "$DAIGOU_DB" "SELECT refund_id FROM refunds WHERE refund_id LIKE ${SQ}M%${SQ}" | sort >stored &&
        comm -23 printed stored >lost &&
        test_must_be_empty lost || exit 1
    done
'

test_expect_success 'the re-run records the rest; nothing twice; every order adds up' '
    refund-calc -q --record "$D/crash.csv" >"$D/final.out" &&
    test_line_count = 901 "$D/final.out" &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM refunds WHERE refund_id LIKE ${SQ}M%${SQ}" >actual &&
    echo 900 >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT r.order_id FROM refunds r JOIN order_rates p
            ON p.order_id = r.order_id AND p.kind = ${SQ}charge${SQ}
        WHERE r.order_id LIKE ${SQ}M%${SQ}
        GROUP BY r.order_id HAVING sum(r.charge_refund) <> min(p.converted)
            OR sum(r.refund_amount) <> (SELECT amount FROM orders o
                WHERE o.order_id = r.order_id)" >bad &&
    test_must_be_empty bad &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM orders WHERE order_id LIKE ${SQ}M%${SQ}
        AND state = ${SQ}refunded${SQ}" >actual &&
    echo 300 >expect &&
    test_cmp expect actual
'

test_done
