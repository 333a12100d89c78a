#!/bin/sh
# t0115-order-rate-pin-clock: a malformed DAIGOU_NOW is a usage error in
# every mode of order-rate-pin (one order, --preview, batch, batch
# --preview): exit 64, the one message on standard error, nothing on
# standard output, nothing stored, and no database created.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

D=$TRASH
DAIGOU_DB=$D/pin.db
export DAIGOU_DB
# shellcheck disable=SC2034 # used inside the test bodies
BAD='2026-06-10 09:09'
# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"

test_ecb_xml @2026-04-13 USD 1.1684 JPY 161.29 >"$D/d13.xml"
printf '%s\n' order_id,amount,currency,charge_currency B1,16500,JPY,EUR \
    >"$D/orders.csv"

# expect_refused: the message a malformed DAIGOU_NOW gives.
expect_refused() {
    printf '%s\n' "order-rate-pin: malformed DAIGOU_NOW '$BAD': want RFC 3339 such as 2026-06-10T09:09:24Z"
}

# snapshot: every row order-rate-pin may write, events included.
snapshot() {
    test_sql "$DAIGOU_DB" "SELECT * FROM orders ORDER BY order_id;
        SELECT * FROM order_items ORDER BY order_id, line;
        SELECT * FROM order_rates ORDER BY id;
        SELECT * FROM events ORDER BY id"
}

test_expect_success 'setup: quotes of 2026-04-13 and one pinned order' '
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --file "$D/d13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --to EUR A1 16500 JPY \
        >out &&
    test_line_count = 2 out
'

test_expect_success 'one order: 64, the message, no row, nothing stored' '
    snapshot >before &&
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        order-rate-pin --to EUR A2 16500 JPY >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success 'one order already pinned: 64 too, not its stored row' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        order-rate-pin --to EUR A1 16500 JPY >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'one order --preview: 64, the message, no row' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        order-rate-pin --preview --to EUR A2 16500 JPY >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'batch: 64, the message alone, no header, nothing stored' '
    snapshot >before &&
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        order-rate-pin "$D/orders.csv" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        order-rate-pin --json <"$D/orders.csv" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success 'batch --preview: 64, the message alone, no header' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        order-rate-pin --preview "$D/orders.csv" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'an empty DAIGOU_NOW is malformed too' '
    printf "%s\n" "order-rate-pin: malformed DAIGOU_NOW ${SQ}${SQ}: want RFC 3339 such as 2026-06-10T09:09:24Z" >expect &&
    test_expect_code 64 env DAIGOU_NOW= \
        order-rate-pin --to EUR A2 16500 JPY >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'a new database path: 64 before the database is created' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" order-rate-pin --db new.db \
        --to EUR A2 16500 JPY >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" order-rate-pin --db new.db \
        "$D/orders.csv" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    ! test -e new.db
'

test_expect_success 'a good DAIGOU_NOW still pins' '
    DAIGOU_NOW=2026-04-13T18:05:00Z order-rate-pin -q "$D/orders.csv" >out &&
    test_line_count = 2 out &&
    test_sql "$DAIGOU_DB" "SELECT order_id, created_at FROM orders
        ORDER BY order_id" >actual &&
    printf "%s\n" "A1|2026-04-13T18:00:00Z" "B1|2026-04-13T18:05:00Z" \
        >expect &&
    test_cmp expect actual
'

test_done
