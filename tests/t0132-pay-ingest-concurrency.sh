#!/bin/sh
# t0132-pay-ingest-concurrency: eight pay-ingest processes replay the same
# events, each in its own shuffled order, at the same moment: every
# payment is stored once, every order ends in the state its totals give,
# the file is whole. A replay killed with SIGKILL and run again stores
# each payment once.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_DB=$TRASH/shop.db
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_DB DAIGOU_NOW

# gen_events N SEED: for orders O0..O(N-1) of 102.30 EUR, a pending and a
# completed charge each; a full refund for every third order, a partial
# one of 40.00 for every third + 1; every event three times, shuffled by
# SEED.
gen_events() {
    "$PYTHON3" - "$1" "$2" <<-\EOF
	import json, random, sys
	n, seed = int(sys.argv[1]), int(sys.argv[2])
	ev = []
	for i in range(n):
	    o, ch = "O%d" % i, "CH%d" % i
	    for st in ("pending", "completed"):
	        ev.append({"gateway_txn_id": ch, "kind": "charge", "order_id": o,
	                   "amount": "102.30", "currency": "EUR", "status": st})
	    if i % 3 == 0:
	        ev.append({"gateway_txn_id": "RE%d" % i, "kind": "refund",
	                   "order_id": o, "amount": "102.30", "currency": "EUR",
	                   "parent_txn_id": ch})
	    elif i % 3 == 1:
	        ev.append({"gateway_txn_id": "RE%d" % i, "kind": "refund",
	                   "order_id": o, "amount": "40.00", "currency": "EUR",
	                   "parent_txn_id": ch})
	ev = ev * 3
	random.Random(seed).shuffle(ev)
	for e in ev:
	    print(json.dumps(e, sort_keys=True))
	EOF
}

# expect_states N: the state each order must end in.
expect_states() {
    "$PYTHON3" -c '
import sys
for i in range(int(sys.argv[1])):
    print("O%d|%s" % (i, ["refunded", "partially_refunded", "paid"][i % 3]))
' "$1"
}

# setup_orders N: the rates and N pinned orders of 16500 JPY (102.30 EUR).
setup_orders() {
    "$PYTHON3" -c '
import sys
for i in range(int(sys.argv[1])):
    print("{\"order_id\": \"O%d\", \"amount\": \"16500\", \"currency\": \"JPY\", \"charge_currency\": \"EUR\"}" % i)
' "$1" >orders.jsonl &&
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$TRASH/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q orders.jsonl >/dev/null
}

test_ecb_xml @2026-04-13 JPY 161.29 >"$TRASH/r-13.xml"

test_expect_success 'eight replays of the same shuffled events at once: each payment once' '
    setup_orders 200 &&
    for i in 1 2 3 4 5 6 7 8; do
        gen_events 200 "$i" >"ev.$i.jsonl" || return 1
    done &&
    pids= &&
    for i in 1 2 3 4 5 6 7 8; do
        (
            while ! test -e go; do sleep 0.01; done
            exec pay-ingest -q --gateway generic --jsonl --no-verify \
                --batch 7 "ev.$i.jsonl" >"out.$i" 2>"err.$i"
        ) &
        pids="$pids $!"
    done &&
    : >go &&
    for pid in $pids; do
        wait "$pid" || return 1
    done &&
    test_sql "$DAIGOU_DB" "PRAGMA integrity_check;
        SELECT count(*), count(DISTINCT gateway_txn_id) FROM payments;
        SELECT count(*) <= 200 FROM payment_status;
        SELECT count(*) FROM events WHERE kind <> ${SQ}schema_migrated${SQ}" >actual &&
    printf "ok\n334|334\n1\n0\n" >expect &&
    test_cmp expect actual &&
    recorded=$(cat out.* | grep -c ",recorded,") &&
    test "$recorded" = $((334 + $(test_sql "$DAIGOU_DB" "SELECT count(*) FROM payment_status"))) &&
    cat out.* | grep -c -e ",recorded," -e ",duplicate," >actual &&
    echo $((8 * 3 * 534)) >expect &&
    test_cmp expect actual &&
    cat err.* | grep -v "^pay-ingest: warning: --no-verify" >errors;
    test_must_be_empty errors &&
    test_sql "$DAIGOU_DB" "SELECT order_id, state FROM orders
        ORDER BY CAST(substr(order_id, 2) AS INTEGER)" >actual &&
    expect_states 200 >expect &&
    test_cmp expect actual
'

test_expect_success 'a replay killed with SIGKILL, then run again: each payment once' '
    DAIGOU_DB=$PWD/big.db &&
    setup_orders 3000 &&
    gen_events 3000 1 >big.jsonl || return 1
    pay-ingest -q --gateway generic --jsonl --no-verify --batch 50 \
        big.jsonl >out.1 2>err.1 &
    pid=$! &&
    i=0 &&
    while test "$(test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments" 2>/dev/null || echo 0)" -lt 100 &&
        kill -0 "$pid" 2>/dev/null && test $i -lt 2000; do
        i=$((i + 1))
        sleep 0.01
    done &&
    kill -9 "$pid" 2>/dev/null;
    wait "$pid";
    n=$(test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments") &&
    say "payments stored when killed: $n" &&
    test "$n" -lt 5000 &&
    test_sql "$DAIGOU_DB" "PRAGMA integrity_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual &&
    pay-ingest -q --gateway generic --jsonl --no-verify --batch 50 \
        big.jsonl >out.2 2>err.2 &&
    ! grep -v "^pay-ingest: warning: --no-verify" err.2 &&
    test_sql "$DAIGOU_DB" "PRAGMA integrity_check;
        SELECT count(*), count(DISTINCT gateway_txn_id) FROM payments" >actual &&
    printf "ok\n5000|5000\n" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT order_id, state FROM orders
        ORDER BY CAST(substr(order_id, 2) AS INTEGER)" >actual &&
    expect_states 3000 >expect &&
    test_cmp expect actual
'

test_done
