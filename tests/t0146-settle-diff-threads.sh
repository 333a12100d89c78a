#!/bin/sh
# t0146-settle-diff-threads: what reading on several threads could
# break. A Stripe file over 16 MB is parsed in chunks on every
# processor; the same bytes on stdin through a pipe (not seekable) on one
# thread: the same rows, figures and exit status, and for a bad row near
# the end the same message. The database's ledger is loaded on a thread
# of its own while the files are read: its message comes after the
# files', and not at all when a file is refused.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

MAP=gateway_txn_id=ref,amount=amount,currency=ccy,kind=type,order_id=order,date=at
export MAP

test_expect_success 'setup: a Stripe day of some 120,000 rows, over 16 MB' '
    cd "$TRASH" &&
    "$PYTHON3" "$top_srcdir/tests/gen-settle.py" --seed 146 --format stripe \
        --count 120000 --rate 0.01 --plain --settle big.csv \
        --ledger ledger.csv &&
    test "$(wc -c <big.csv)" -gt 16777216
'

test_expect_success 'several threads on the file, one on a pipe: the same report' '
    cd "$TRASH" &&
    test_expect_code 1 settle-diff --ledger ledger.csv big.csv >file.out 2>file.err &&
    cat big.csv | test_expect_code 1 settle-diff --ledger ledger.csv - \
        >pipe.out 2>pipe.err &&
    sed "s/big\.csv/<stdin>/g" file.out >expect &&
    test_cmp expect pipe.out &&
    test_cmp file.err pipe.err &&
    test "$(grep -c "^amount_mismatch," file.out)" -gt 100
'

test_expect_success 'a bad row near the end: the message of one thread, 65' '
    cd "$TRASH" &&
    n=$(grep -n ",charge," big.csv | tail -n 1 | cut -d: -f1) &&
    test "$n" -gt 100000 &&
    sed "${n}s/,charge,/,ch\"arge,/" big.csv >bad.csv &&
    ! cmp -s big.csv bad.csv &&
    test_expect_code 65 settle-diff --ledger ledger.csv bad.csv >out 2>err &&
    test_must_be_empty out &&
    cat bad.csv | test_expect_code 65 settle-diff --ledger ledger.csv - \
        >out 2>pipe.err &&
    test_must_be_empty out &&
    echo "settle-diff: bad.csv:$n: malformed CSV: a misplaced quote" >expect &&
    test_cmp expect err &&
    sed "s/bad\.csv/<stdin>/" expect >expect.pipe &&
    test_cmp expect.pipe pipe.err
'

cat >"$TRASH/lost.sql" <<'EOF'
INSERT INTO payments (gateway, gateway_txn_id, kind, order_id, amount,
    currency, status, payload_sha256, received_at)
VALUES ('generic', 'T3', 'charge', 'O3', 3000, 'EUR', 'lost',
    printf('%064d', 0), '2026-11-26T09:05:00Z');
EOF

cb() { # TXN ORDER AMOUNT
    printf '{"gateway_txn_id": "%s", "kind": "charge", "order_id": "%s", "amount": "%s", "currency": "EUR"}\n' \
        "$1" "$2" "$3"
}

test_expect_success 'setup: a ledger with a payment of no status settle-diff reads' '
    cd "$TRASH" &&
    { cb T1 O1 10.00; cb T2 O2 20.00; } >events.jsonl &&
    DAIGOU_NOW=2026-11-26T09:05:00Z pay-ingest -q --gateway generic --jsonl \
        --no-verify --db shop.db events.jsonl >/dev/null 2>&1;
    sqlite3 -batch shop.db <"$TRASH/lost.sql" &&
    test_sql shop.db "SELECT count(*) FROM payments" >actual &&
    echo 3 >expect &&
    test_cmp expect actual &&
    cat >settled.csv <<-EOF &&
	ref,type,order,amount,ccy,at
	T1,charge,O1,10.00,EUR,2026-11-26T09:00:00Z
	T2,charge,O2,20.00,EUR,2026-11-26T09:10:00Z
	EOF
    sed "3s/20\.00/20.0.0/" settled.csv >cut.csv
'

test_expect_success 'the ledger thread: its message once the files are read' '
    cd "$TRASH" &&
    test_expect_code 65 settle-diff --db shop.db --map "$MAP" settled.csv \
        >out 2>err &&
    test_must_be_empty out &&
    echo "settle-diff: payment '\''T3'\'' of '\''generic'\'' in the database is not readable as a ledger row" >expect &&
    test_cmp expect err
'

test_expect_success 'the ledger thread: nothing of it when a file is refused' '
    cd "$TRASH" &&
    test_expect_code 65 settle-diff --db shop.db --map "$MAP" cut.csv \
        >out 2>err &&
    test_must_be_empty out &&
    echo "settle-diff: cut.csv:3: amount '\''20.0.0'\'': not an amount of EUR (not a plain decimal)" >expect &&
    test_cmp expect err
'

test_done
