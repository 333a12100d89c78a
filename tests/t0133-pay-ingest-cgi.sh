#!/bin/sh
# t0133-pay-ingest-cgi: pay-ingest --cgi driven straight from the shell,
# as a web server runs it (the environment and the body on stdin): the
# exact reply of each status: 200 recorded and duplicate, 400 malformed,
# 405, 411, 413 without reading the body, 409 conflict, 503 with
# Retry-After while another writer holds the database past the busy
# timeout; usage errors of --cgi.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
CR=$(printf '\r')
DAIGOU_DB=$TRASH/shop.db
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_DB DAIGOU_NOW
unset REQUEST_METHOD CONTENT_LENGTH

# post FILE [ARGS]: POST FILE to the endpoint; the reply in reply (CRs
# shown as \r), the status in rc.
post() {
    po_file=$1
    shift
    REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <"$po_file") \
        pay-ingest --cgi --gateway generic --no-verify "$@" <"$po_file" \
        >reply.raw 2>err
    rc=$?
    sed "s/$CR\$/\\\\r/" reply.raw >reply
}

# expect_reply STATUS JSON [HEADER]: the reply a status gives.
expect_reply() {
    printf "Status: %s\\\\r\nContent-Type: application/json\\\\r\n" "$1"
    [ -z "${3:-}" ] || printf "%s\\\\r\n" "$3"
    printf "\\\\r\n%s\n" "$2"
}

charge() {
    printf '{"gateway_txn_id": "%s", "kind": "charge", "order_id": "%s", "amount": "%s", "currency": "EUR"}' "$1" "$2" "$3"
}

test_ecb_xml @2026-04-13 JPY 161.29 >"$TRASH/r-13.xml"

test_expect_success 'setup: an order of 102.30 EUR' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$TRASH/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z \
        order-rate-pin -q --to EUR A1 16500 JPY >/dev/null
'

test_expect_success '200: recorded, then duplicate' '
    charge T1 A1 102.30 >t1.json &&
    post t1.json &&
    test "$rc" = 0 &&
    expect_reply "200 OK" "{\"status\":200,\"result\":\"recorded\",\"facts\":[{\"gateway\":\"generic\",\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"A1\",\"amount\":\"102.30\",\"currency\":\"EUR\",\"result\":\"recorded\",\"reason\":\"order ${SQ}A1${SQ} pinned -> paid\"}]}" >expect &&
    test_cmp expect reply &&
    post t1.json &&
    test "$rc" = 0 &&
    expect_reply "200 OK" "{\"status\":200,\"result\":\"duplicate\",\"facts\":[{\"gateway\":\"generic\",\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"A1\",\"amount\":\"102.30\",\"currency\":\"EUR\",\"result\":\"duplicate\",\"reason\":\"already recorded\"}]}" >expect &&
    test_cmp expect reply
'

test_expect_success '200 for a flagged payment: the money moved and is recorded' '
    charge T2 NOPE 1.00 >t2.json &&
    post t2.json &&
    test "$rc" = 1 &&
    head -n 1 reply >actual &&
    echo "Status: 200 OK\\r" >expect &&
    test_cmp expect actual &&
    grep -q "\"reason\":\"order ${SQ}NOPE${SQ} is unknown\"" reply
'

test_expect_success '409: a conflict, nothing changes' '
    charge T1 A1 102.31 >t1c.json &&
    post t1c.json &&
    test "$rc" = 65 &&
    expect_reply "409 Conflict" "{\"status\":409,\"result\":\"conflict\",\"facts\":[{\"gateway\":\"generic\",\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"A1\",\"amount\":\"102.31\",\"currency\":\"EUR\",\"result\":\"conflict\",\"reason\":\"stored with amount 102.30 EUR, not 102.31 EUR\"}]}" >expect &&
    test_cmp expect reply &&
    test_sql "$DAIGOU_DB" "SELECT amount FROM payments WHERE gateway_txn_id = ${SQ}T1${SQ}" >actual &&
    echo 10230 >expect &&
    test_cmp expect actual
'

test_expect_success '400: a malformed body names the field' '
    printf "{\"gateway_txn_id\": \"T3\", \"kind\": \"charge\", \"order_id\": \"A1\", \"amount\": \"1.001\", \"currency\": \"EUR\"}" >bad.json &&
    post bad.json &&
    test "$rc" = 65 &&
    expect_reply "400 Bad Request" "{\"status\":400,\"result\":\"rejected\",\"reason\":\"amount: ${SQ}1.001${SQ} has more than 2 decimals for EUR\"}" >expect &&
    test_cmp expect reply &&
    grep "^pay-ingest: request: amount: " err
'

test_expect_success '405, 411 and 413 (the body left unread)' '
    charge T4 A1 1.00 >t4.json &&
    REQUEST_METHOD=GET pay-ingest --cgi --gateway generic --no-verify \
        </dev/null >reply.raw 2>err;
    test $? = 65 &&
    sed "s/$CR\$/\\\\r/" reply.raw >reply &&
    expect_reply "405 Method Not Allowed" "{\"status\":405,\"result\":\"error\",\"reason\":\"method ${SQ}GET${SQ} not allowed: POST only\"}" "Allow: POST" >expect &&
    test_cmp expect reply &&
    REQUEST_METHOD=POST pay-ingest --cgi --gateway generic --no-verify \
        <t4.json >reply.raw 2>err;
    test $? = 65 &&
    head -n 1 reply.raw >actual &&
    echo "Status: 411 Length Required$CR" >expect &&
    test_cmp expect actual &&
    head -c 2000000 /dev/zero >big &&
    post big &&
    test "$rc" = 65 &&
    expect_reply "413 Content Too Large" "{\"status\":413,\"result\":\"error\",\"reason\":\"body of 2000000 bytes is over the limit of 1048576 bytes\"}" >expect &&
    test_cmp expect reply &&
    post t4.json --max-body 10 &&
    head -n 1 reply >actual &&
    echo "Status: 413 Content Too Large\\r" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments WHERE gateway_txn_id = ${SQ}T4${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success '503 with Retry-After while the database stays locked' '
    charge T5 A1 1.00 >t5.json &&
    "$TEST_TOOL" db begin-hold "$DAIGOU_DB" 3000 >hold.out 2>hold.err &
    holder=$! &&
    i=0 &&
    until grep -q "^held\$" hold.out 2>/dev/null; do
        i=$((i + 1)) && test $i -lt 200 && sleep 0.05 || return 1
    done &&
    DAIGOU_BUSY_TIMEOUT_MS=100 post t5.json &&
    test "$rc" = 75 &&
    expect_reply "503 Service Unavailable" "{\"status\":503,\"result\":\"error\",\"reason\":\"database unavailable\"}" "Retry-After: 5" >expect &&
    test_cmp expect reply &&
    wait "$holder" &&
    post t5.json &&
    test "$rc" = 1 &&
    head -n 1 reply >actual &&
    echo "Status: 200 OK\\r" >expect &&
    test_cmp expect actual
'

test_expect_success '--cgi takes its request from the environment only' '
    test_expect_code 64 pay-ingest --cgi --gateway generic --no-verify \
        t1.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --cgi reads the request from the CGI environment: no FILE, --jsonl, --signature, --paypal-header or --strict" >expect &&
    test_cmp expect actual
'

test_done
