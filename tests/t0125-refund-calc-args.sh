#!/bin/sh
# t0125-refund-calc-args: what refund-calc refuses before it reads a
# refund: a malformed DAIGOU_NOW in every mode (one refund, --record,
# batch, --summary) is exit 64 with nothing on standard output and
# nothing stored; an order id given without --all, --lines, --amount or
# --charge-amount says what is missing, while a batch FILE stays a file.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

D=$TRASH
DAIGOU_DB=$D/shop.db
export DAIGOU_DB
# The clock of the good runs; the bad one is set per command.
DAIGOU_NOW=2026-04-14T09:00:00Z
export DAIGOU_NOW
# shellcheck disable=SC2034 # used inside the test bodies
BAD='2026-06-10 09:09'
# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
# shellcheck disable=SC2034 # used inside the test bodies
HEADER=order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source

test_ecb_xml @2026-04-13 JPY 161.29 >"$D/d13.xml"
printf '%s\n' order_id,refund_id,all A1001,R1,true >"$D/refunds.csv"

expect_refused() {
    printf '%s\n' "refund-calc: malformed DAIGOU_NOW '$BAD': want RFC 3339 such as 2026-06-10T09:09:24Z"
}

# snapshot: every row refund-calc may write.
snapshot() {
    test_sql "$DAIGOU_DB" "SELECT * FROM orders ORDER BY order_id;
        SELECT * FROM refunds ORDER BY id;
        SELECT * FROM refund_lines ORDER BY refund_id, line;
        SELECT * FROM events ORDER BY id"
}

# no_kind ID: the usage error for an order id without a refund kind.
no_kind() {
    printf '%s\n' "refund-calc: no refund asked for order $SQ$1$SQ: give --all, --lines, --amount or --charge-amount" &&
    refund-calc --help
}

test_expect_success 'setup: EUR/JPY 161.29, A1001 pinned at 102.30 EUR' '
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --file "$D/d13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q \
        --to EUR A1001 16500 JPY >out &&
    test_line_count = 2 out
'

# ------------------------------------------------- a malformed DAIGOU_NOW

test_expect_success 'one refund: 64, the message, no row' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        refund-calc --all A1001 >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'one refund --record: 64, the message, no row, nothing stored' '
    snapshot >before &&
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        refund-calc --record --refund-id R1 --all A1001 >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success 'batch: 64, the message alone, no header, no summary' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        refund-calc "$D/refunds.csv" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'batch --record: 64, nothing stored' '
    snapshot >before &&
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        refund-calc --record <"$D/refunds.csv" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success '--summary: 64 too, though it reads no clock' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        refund-calc --summary >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" \
        refund-calc --summary --json --from 2026-04-01 >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'a new database path: 64 before the database is created' '
    expect_refused >expect &&
    test_expect_code 64 env DAIGOU_NOW="$BAD" refund-calc --db new.db \
        --record --refund-id R1 --all A1001 >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    ! test -e new.db
'

test_expect_success 'a good DAIGOU_NOW computes the refund' '
    refund-calc -q "$D/refunds.csv" >actual &&
    printf "%s\n" "$HEADER" \
        "A1001,R1,16500,JPY,102.30,EUR,0.00620001240002480,0.00620001240002480,102.30,0.00,102.30,0.00,pinned" \
        >expect &&
    test_cmp expect actual
'

# ------------------------------------------- an order id without a kind

test_expect_success 'an order id alone: 64, says what is missing' '
    snapshot >before &&
    no_kind A1001 >expect &&
    test_expect_code 64 refund-calc A1001 >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 64 refund-calc --record A1001 >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 64 refund-calc --json --strict A1001 >out 2>err &&
    test_cmp expect err &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success 'an order id alone: 64 before the database is opened' '
    no_kind A1001 >expect &&
    test_expect_code 64 refund-calc --db missing.db A1001 >out 2>err &&
    test_cmp expect err &&
    ! test -e missing.db
'

test_expect_success 'an existing file of that name is a batch file' '
    cp "$D/refunds.csv" A1001 &&
    refund-calc -q A1001 >actual &&
    printf "%s\n" "$HEADER" \
        "A1001,R1,16500,JPY,102.30,EUR,0.00620001240002480,0.00620001240002480,102.30,0.00,102.30,0.00,pinned" \
        >expect &&
    test_cmp expect actual
'

test_expect_success 'a missing FILE with a dot or a slash stays a file: 66' '
    echo "refund-calc: cannot open ${SQ}returns.csv${SQ}: No such file or directory" >expect &&
    test_expect_code 66 refund-calc returns.csv >out 2>err &&
    head -n 1 err >actual &&
    test_cmp expect actual &&
    echo "refund-calc: cannot open ${SQ}in/A1001${SQ}: No such file or directory" >expect &&
    test_expect_code 66 refund-calc in/A1001 >out 2>err &&
    head -n 1 err >actual &&
    test_cmp expect actual &&
    echo "refund-calc: cannot open ${SQ}./A1001${SQ}: No such file or directory" >expect &&
    test_expect_code 66 refund-calc ./A1001 >out 2>err &&
    head -n 1 err >actual &&
    test_cmp expect actual
'

test_expect_success 'two operands are batch files: 66 for the missing one' '
    echo "refund-calc: cannot open ${SQ}A1002${SQ}: No such file or directory" >expect &&
    cp "$D/refunds.csv" A1001 &&
    test_expect_code 66 refund-calc -q A1001 A1002 >out 2>err &&
    test_cmp expect err
'

test_expect_success '- is standard input, not an order id' '
    refund-calc -q - <"$D/refunds.csv" >out &&
    test_line_count = 2 out
'

test_expect_success 'an order id with a refund kind is one refund, as before' '
    refund-calc --all A1001 >out 2>err &&
    test_line_count = 2 out &&
    test_must_be_empty err
'

test_done
