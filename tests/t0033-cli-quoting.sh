#!/bin/sh
# t0033-cli-quoting: untrusted text in the messages of every tool (option
# values, operands, file names, document contents) is quoted with its
# control characters escaped, and long text is cut with its length shown,
# so that nothing reaches the terminal raw and the reason always shows.
# The file name of a FILE:LINE: prefix is escaped but not quoted.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

DAIGOU_DB=$TRASH/shop.db
export DAIGOU_DB
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_NOW

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
# An ESC sequence that clears the screen, and a newline.
# shellcheck disable=SC2034 # used inside the test bodies
HOSTILE=$(printf 'x\033[2J\ny')
# shellcheck disable=SC2034 # used inside the test bodies
HOSTILE_SHOWN='x\x1b[2J\ny'
# 10,000 bytes, and the 64 a message shows of them.
# shellcheck disable=SC2034 # used inside the test bodies
LONG=$(printf '%010000d' 0 | tr 0 9)
# shellcheck disable=SC2034 # used inside the test bodies
LONG_SHOWN="$SQ$(printf '%064d' 0 | tr 0 9)$SQ... (10000 bytes)"
# A path of 10,000 bytes, shown up to 4096.
# shellcheck disable=SC2034 # used inside the test bodies
LONG_PATH=$(printf '%010000d' 0 | tr 0 a)
# shellcheck disable=SC2034 # used inside the test bodies
LONG_PATH_SHOWN="$SQ$(printf '%04096d' 0 | tr 0 a)$SQ... (10000 bytes)"
# A file name with the same ESC sequence and newline.
# shellcheck disable=SC2034 # used inside the test bodies
HOSTILE_FILE=$(printf 'o\033[2J\nx.csv')
# shellcheck disable=SC2034 # used inside the test bodies
HOSTILE_FILE_SHOWN='o\x1b[2J\nx.csv'

# usage_error TOOL MESSAGE ARGS...: TOOL ARGS exits 64 with "TOOL:
# MESSAGE" and the usage on stderr, and nothing on stdout.
usage_error() {
    ue_tool=$1
    ue_message=$2
    shift 2
    "$ue_tool" --help >usage &&
    { printf '%s: %s\n' "$ue_tool" "$ue_message" && cat usage; } >expect &&
    test_expect_code 64 "$ue_tool" "$@" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
}

# one_error STATUS TOOL MESSAGE ARGS...: TOOL ARGS exits STATUS with
# exactly "TOOL: MESSAGE" on stderr.
one_error() {
    oe_status=$1
    oe_tool=$2
    oe_message=$3
    shift 3
    printf '%s: %s\n' "$oe_tool" "$oe_message" >expect &&
    test_expect_code "$oe_status" "$oe_tool" "$@" >out 2>err &&
    test_cmp expect err
}

test_expect_success 'rate-fetch: an option value with an ESC sequence and a newline' '
    usage_error rate-fetch \
        "--format is ecb-xml, ecb-csv or json, not $SQ$HOSTILE_SHOWN$SQ" \
        --format "$HOSTILE"
'

test_expect_success 'rate-fetch: an operand with an ESC sequence and a newline' '
    usage_error rate-fetch "unexpected argument $SQ$HOSTILE_SHOWN$SQ" \
        "$HOSTILE"
'

test_expect_success 'rate-fetch: an option value of 10,000 bytes' '
    usage_error rate-fetch "--max-size needs a size such as 50M, 512k or 20000, not $LONG_SHOWN" \
        --max-size "$LONG" &&
    usage_error rate-fetch \
        "--pair is BASE/QUOTE, not $LONG_SHOWN" --print --pair "$LONG"
'

test_expect_success 'rate-fetch: a --file path of 10,000 bytes' '
    one_error 66 rate-fetch \
        "cannot open $LONG_PATH_SHOWN: File name too long" \
        --file "$LONG_PATH" &&
    test_must_be_empty out
'

test_expect_success 'rate-fetch: document text with an ESC sequence and a newline, and of 10,000 bytes' '
    printf "{\"base\":\"EUR\",\"date\":\"\\\\u001b[2J\\\\n\",\"rates\":{\"USD\":1}}" \
        >"$HOSTILE_FILE" &&
    one_error 65 rate-fetch \
        "$HOSTILE_FILE_SHOWN: bad date $SQ\\x1b[2J\\n$SQ" \
        --provider json --file "$HOSTILE_FILE" &&
    printf "{\"base\":\"EUR\",\"date\":\"2026-04-10\",\"rates\":{\"%s\":1}}" \
        "$LONG" >long.json &&
    one_error 65 rate-fetch \
        "long.json: unknown currency $LONG_SHOWN on 2026-04-10" \
        --provider json --file long.json
'

test_expect_success 'order-rate-pin: an option value with an ESC sequence and a newline' '
    usage_error order-rate-pin \
        "--rounding is half-up or half-even, not $SQ$HOSTILE_SHOWN$SQ" \
        --rounding "$HOSTILE"
'

test_expect_success 'order-rate-pin: an option value of 10,000 bytes' '
    usage_error order-rate-pin \
        "--max-age needs a number of days from 0 to 3650 such as 5 or 5d, not $LONG_SHOWN" \
        --max-age "$LONG"
'

test_expect_success 'order-rate-pin: an input file name with an ESC sequence and a newline' '
    printf "%s\n" order_id,amount,currency,charge_currency A1,abc,EUR,USD \
        >"$HOSTILE_FILE" &&
    one_error 65 order-rate-pin \
        "$HOSTILE_FILE_SHOWN:2: amount: ${SQ}abc${SQ} is not an amount" \
        -q "$HOSTILE_FILE" &&
    test_must_be_empty out
'

test_expect_success 'order-rate-pin: an input path of 10,000 bytes' '
    one_error 66 order-rate-pin \
        "cannot open $LONG_PATH_SHOWN: File name too long" \
        -q "$LONG_PATH" &&
    test_must_be_empty out
'

test_expect_success 'refund-calc: an option value with an ESC sequence and a newline' '
    usage_error refund-calc \
        "--from needs a date YYYY-MM-DD, not $SQ$HOSTILE_SHOWN$SQ" \
        --summary --from "$HOSTILE"
'

test_expect_success 'refund-calc: an option value of 10,000 bytes' '
    usage_error refund-calc \
        "--buffer-pct needs a percentage from 0 to 100 such as 0.6, not $LONG_SHOWN" \
        --summary --buffer-pct "$LONG"
'

test_expect_success 'refund-calc: an input file name with an ESC sequence and a newline' '
    printf "%s\n" order_id,all E1,maybe >"$HOSTILE_FILE" &&
    one_error 65 refund-calc \
        "$HOSTILE_FILE_SHOWN:2: all: ${SQ}maybe${SQ} is not true or false" \
        -q "$HOSTILE_FILE" &&
    test_must_be_empty out
'

test_expect_success 'refund-calc: an input path of 10,000 bytes' '
    one_error 66 refund-calc \
        "cannot open $LONG_PATH_SHOWN: File name too long" \
        -q "$LONG_PATH" &&
    test_must_be_empty out
'

test_done
