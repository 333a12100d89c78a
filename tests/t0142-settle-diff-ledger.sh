#!/bin/sh
# t0142-settle-diff-ledger: the seeds' incident replayed (120 orders
# whose callbacks a ledger from another system holds twice under two
# ids: duplicate_in_ledger, 1980.00 USD named, exit 1); the database
# ledger that pay-ingest records, read-only and left unchanged, with the
# current status of each payment; --ledger creates no database; a
# missing database or file; usage errors.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

HEADER=kind,gateway,gateway_txn_id,order_id,ledger_amount,settled_amount,currency,delta,settled_at,detail
MAP=gateway_txn_id=ref,amount=amount,currency=ccy,kind=type,order_id=order,date=at
export HEADER MAP

# The day's Stripe file: 1000 charges of 16.50 USD, orders S1..S1000.
awk 'BEGIN {
    print "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,charge_id,payment_metadata[order_id]"
    for (i = 1; i <= 1000; i++)
        printf "txn_%d,2026-11-26 %02d:%02d:00,usd,16.50,0.78,15.72,charge,ch_%d,ch_%d,S%d\n",
            i, 8 + int(i / 60) % 12, i % 60, i, i, i
}' >"$TRASH/day.csv"
# Its ledger from the other system: every charge, and the callbacks of
# orders S1, S9, S17 ... (120 of them) recorded again under dup_ ids.
awk 'BEGIN {
    print "gateway_txn_id,kind,order_id,amount,currency,created_at"
    for (i = 1; i <= 1000; i++) {
        t = sprintf("2026-11-26T%02d:%02d:00Z", 8 + int(i / 60) % 12, i % 60)
        printf "ch_%d,charge,S%d,16.50,USD,%s\n", i, i, t
        if (i % 8 == 1 && i < 960)
            printf "dup_%d,charge,S%d,16.50,USD,%s\n", i, i, t
    }
}' >"$TRASH/ledger.csv"

test_expect_success 'the incident: 120 duplicate_in_ledger rows, 1980.00 USD, exit 1' '
    test "$(grep -c ^dup_ "$TRASH/ledger.csv")" = 120 &&
    test_expect_code 1 settle-diff --ledger "$TRASH/ledger.csv" \
        "$TRASH/day.csv" >out 2>err &&
    test_line_count = 121 out &&
    grep -c "^duplicate_in_ledger,stripe,dup_[0-9]*,S[0-9]*,16.50,,USD,-16.50,,\"order S[0-9]* has 2 charges in the ledger, 1 settled\"\$" out >count &&
    echo 120 >expect &&
    test_cmp expect count &&
    sed -n 2p out >actual &&
    echo "duplicate_in_ledger,stripe,dup_1,S1,16.50,,USD,-16.50,,\"order S1 has 2 charges in the ledger, 1 settled\"" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	settle-diff: USD: 1000 rows, gross 16500.00, fees 780.00, net 15720.00; matched 1000 (16500.00); mismatched 1980.00 of 16500.00 settled (12.00 %)
	settle-diff: USD: mismatched 1980.00 USD is over the threshold of 0.5 % of 16500.00 settled
	EOF
    test_cmp expect err
'

test_expect_success 'the incident: no database was opened or created' '
    settle-diff -q --threshold 20 --ledger "$TRASH/ledger.csv" \
        "$TRASH/day.csv" >out &&
    ! test -e daigou.db &&
    ! test -e daigou.db-wal
'

# The database ledger: generic callbacks recorded by pay-ingest.
cb() { # TXN KIND ORDER AMOUNT [STATUS]
    printf '{"gateway_txn_id": "%s", "kind": "%s", "order_id": "%s", "amount": "%s", "currency": "EUR"%s}\n' \
        "$1" "$2" "$3" "$4" "${5:+, \"status\": \"$5\"}"
}
{
    cb T1 charge O1 10.00
    cb T2 charge O2 20.00
    cb T3 charge O3 30.00
    cb T4 charge O4 40.00 pending
    cb T5 charge O5 50.00
    cb R1 refund O1 4.00
} >"$TRASH/events.jsonl"
cb T4 charge O4 40.00 completed >"$TRASH/later.jsonl"
cb T5 charge O5 50.00 reversed >>"$TRASH/later.jsonl"

cat >"$TRASH/settled.csv" <<'EOF'
ref,type,order,amount,ccy,at
T1,charge,O1,10.00,EUR,2026-11-26T09:00:00Z
T2,charge,O2,20.50,EUR,2026-11-26T09:10:00Z
T4,charge,O4,40.00,EUR,2026-11-26T09:20:00Z
R1,refund,O1,-4.00,EUR,2026-11-26T11:00:00Z
T9,charge,O9,9.00,EUR,2026-11-26T12:00:00Z
EOF

test_expect_success 'setup: pay-ingest records the ledger, later statuses too' '
    DAIGOU_NOW=2026-11-26T09:05:00Z pay-ingest -q --gateway generic --jsonl \
        --no-verify --db "$TRASH/shop.db" "$TRASH/events.jsonl" >/dev/null 2>&1;
    DAIGOU_NOW=2026-11-26T09:30:00Z pay-ingest -q --gateway generic --jsonl \
        --no-verify --db "$TRASH/shop.db" "$TRASH/later.jsonl" >/dev/null 2>&1;
    test_sql "$TRASH/shop.db" "SELECT count(*) FROM payments; SELECT count(*) FROM payment_status" >actual &&
    printf "6\n2\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'the database ledger: current statuses, read-only, unchanged' '
    cp "$TRASH/shop.db" shop.db &&
    md5sum shop.db >before &&
    test_expect_code 1 settle-diff -q --db shop.db --map "$MAP" \
        "$TRASH/settled.csv" >out &&
    cat >expect <<-EOF &&
	$HEADER
	amount_mismatch,generic,T2,O2,20.00,20.50,EUR,0.50,2026-11-26T09:10:00Z,charge at $TRASH/settled.csv:3
	missing_in_ledger,generic,T9,O9,,9.00,EUR,9.00,2026-11-26T12:00:00Z,charge at $TRASH/settled.csv:6
	missing_in_settlement,generic,T3,O3,30.00,,EUR,-30.00,,"charge of 2026-11-26T09:05:00Z, completed in the ledger"
	missing_in_settlement,generic,T5,O5,50.00,,EUR,-50.00,,"charge of 2026-11-26T09:05:00Z, reversed in the ledger"
	EOF
    test_cmp expect out &&
    md5sum shop.db >after &&
    test_cmp before after &&
    test_dump_rows shop.db >after.rows &&
    test_dump_rows "$TRASH/shop.db" >before.rows &&
    test_cmp before.rows after.rows
'

test_expect_success 'the period leaves out what was received before the file' '
    cp "$TRASH/shop.db" shop.db &&
    test_expect_code 1 settle-diff -q --db shop.db --map "$MAP" \
        --from 2026-11-27 "$TRASH/settled.csv" >out &&
    ! grep ^missing_in_settlement out
'

test_expect_success 'another gateway in the database: every settled row missing' '
    test_expect_code 1 settle-diff -q --db "$TRASH/shop.db" --gateway adyen \
        --map "$MAP" "$TRASH/settled.csv" >out &&
    cut -d, -f1,2,3 out >actual &&
    cat >expect <<-EOF &&
	kind,gateway,gateway_txn_id
	missing_in_ledger,adyen,R1
	missing_in_ledger,adyen,T1
	missing_in_ledger,adyen,T2
	missing_in_ledger,adyen,T4
	missing_in_ledger,adyen,T9
	EOF
    test_cmp expect actual
'

test_expect_success 'a missing database: 66, the path named, nothing created' '
    test_expect_code 66 settle-diff --db none.db --map "$MAP" \
        "$TRASH/settled.csv" >out 2>err &&
    test_must_be_empty out &&
    grep "none.db" err &&
    ! test -e none.db &&
    DAIGOU_DB=gone.db test_expect_code 66 settle-diff --map "$MAP" \
        "$TRASH/settled.csv" >out 2>err &&
    ! test -e gone.db
'

test_expect_success 'a missing settlement file: 66' '
    test_expect_code 66 settle-diff --ledger "$TRASH/ledger.csv" nosuch.csv >out 2>err &&
    test_must_be_empty out &&
    echo "settle-diff: cannot open ${SQ:-}'"'"'nosuch.csv'"'"': No such file or directory" >expect &&
    test_cmp expect err
'

test_expect_success 'a bad ledger file: 65 naming the line, nothing on stdout' '
    printf "%s\n" "gateway_txn_id,kind,order_id,amount,currency,created_at" \
        "ch_1,charge,S1,16.505,USD,2026-11-26T08:01:00Z" >bad.csv &&
    test_expect_code 65 settle-diff --ledger bad.csv "$TRASH/day.csv" >out 2>err &&
    test_must_be_empty out &&
    grep "^settle-diff: bad.csv:2: amount: " err
'

for args in "--threshold -1" "--threshold 0.00001" "--threshold x" \
    "--format csv" "--from 2026-13-01" "--from 2026-11-27 --to 2026-11-26" \
    "--ledger x.csv --db y.db" "--minor-units" "--format generic" \
    "--map amount=a" "--summary --all-rows" "--gateway a,b" "--frob"; do
    test_expect_success "usage: $args is 64" '
        test_expect_code 64 settle-diff '"$args"' "$TRASH/day.csv" >out 2>err &&
        test_must_be_empty out &&
        grep "^usage: settle-diff" err
    '
done

test_done
