#!/bin/sh
# t0139-pay-ingest-scgi: pay-ingest --scgi --listen driven by a small
# SCGI client (tests/scgi-client.py) for what a web server never sends:
# malformed netstrings and heads are answered 400 and record nothing; a
# connection that sends half a request and stalls holds no one up and is
# closed at --client-timeout; a body over the cap is 413 unread; the
# requests complete at one moment are recorded in one transaction; SIGHUP
# reads the secret again; SIGTERM in the middle of a batch finishes and
# answers it, then exits 0; a request whose recording fails is answered
# alone and the others of its batch are committed; the socket on
# descriptor 3 (LISTEN_FDS) and a TCP address serve too. Last, t0136's
# storm through lighttpd's mod_scgi.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DB=$TRASH/shop.db
SECRET=$TRASH/secret
SOCK=$TRASH/scgi.sock
CLIENT=$top_srcdir/tests/scgi-client.py
NOW=2026-04-15T09:00:00Z
T=1776243600
export DAIGOU_NOW=$NOW

# sign FILE [SECRET]: the Stripe-Signature value of a body.
sign() {
    "$PYTHON3" -c '
import hashlib, hmac, sys
body = open(sys.argv[1], "rb").read()
t = sys.argv[2]
print("t=%s,v1=%s" % (t, hmac.new(sys.argv[3].encode(),
                                  t.encode() + b"." + body,
                                  hashlib.sha256).hexdigest()))
' "$1" "$T" "${2:-whsec_test}"
}

# charge ID [PAD]: a Stripe charge.succeeded of 102.30 EUR for A1, then
# PAD spaces.
charge() {
    printf '{\n  "id": "evt_%s",\n  "object": "event",\n  "type": "charge.succeeded",\n  "data": {\n    "object": {\n      "id": "%s",\n      "object": "charge",\n      "amount": 10230,\n      "captured": true,\n      "currency": "eur",\n      "metadata": {"order_id": "A1"},\n      "status": "succeeded"\n    }\n  }\n}\n' "$1" "$1"
    head -c "${2:-0}" /dev/zero | tr "\0" " "
}

# post ID [SECRET [ADDR]]: a signed charge; its answer in answer.
post() {
    charge "$1" >"$1.json" &&
    "$PYTHON3" "$CLIENT" request "${3:-$SOCK}" POST "$1.json" \
        "HTTP_STRIPE_SIGNATURE=$(sign "$1.json" "${2:-whsec_test}")" \
        >answer
}

# recorded ID [REASON]: the answer of a charge recorded, as it must be
# (the first charge of A1 moves it to paid; the later ones say nothing).
recorded() {
    if [ $# -gt 1 ]; then rc_reason="\"$2\""; else rc_reason=null; fi
    printf 'Status: 200 OK\nContent-Type: application/json\n\n{"status":200,"result":"recorded","facts":[{"gateway":"stripe","gateway_txn_id":"%s","kind":"charge","order_id":"A1","amount":"102.30","currency":"EUR","result":"recorded","reason":%s}]}\n' "$1" "$rc_reason"
}

# refused REASON: a 400 answer.
refused() {
    printf 'Status: 400 Bad Request\nContent-Type: application/json\n\n{"status":400,"result":"error","reason":"%s"}\n' "$1"
}

count_payments() {
    test_sql "$DB" "SELECT count(*) FROM payments" >count.actual &&
    echo "$1" >count.expect &&
    test_cmp count.expect count.actual
}

# serve LOG ARGS...: pay-ingest --scgi in the background (SERVER its
# pid, kept in $TRASH/pids for the exit) on the test's database and
# secret; its LOG emptied first, waits until it serves.
SERVER=
serve() {
    sv_log=$1
    shift
    : >"$sv_log" # a server before this one said "serving SCGI" too
    pay-ingest -v --scgi --gateway stripe --db "$DB" \
        --secret-file "$SECRET" "$@" >/dev/null 2>>"$sv_log" &
    SERVER=$!
    echo "$SERVER" >>"$TRASH/pids"
    sv_i=0
    until grep -q "serving SCGI" "$sv_log" 2>/dev/null; do
        sv_i=$((sv_i + 1))
        if [ $sv_i -gt 300 ] || ! kill -0 "$SERVER" 2>/dev/null; then
            cat "$sv_log" >&2
            return 1
        fi
        sleep 0.05
    done
}

# wait_for FILE [PATTERN]: until FILE exists (and holds PATTERN).
wait_for() {
    wf_i=0
    until [ -e "$1" ] && { [ -z "${2:-}" ] || grep -q "$2" "$1"; }; do
        wf_i=$((wf_i + 1))
        [ $wf_i -lt 600 ] || { echo "no $1 ${2:-}" >&2; return 1; }
        sleep 0.05
    done
}

trap 'test_lighttpd_stop
[ ! -f "$TRASH/pids" ] || kill $(cat "$TRASH/pids") 2>/dev/null
rm -rf "$TRASH"' EXIT

test_ecb_xml @2026-04-13 JPY 161.29 >"$TRASH/r-13.xml"

test_expect_success 'setup: an order, the secret, the endpoint on a socket' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --db "$DB" \
        --file "$TRASH/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --db "$DB" \
        --to EUR A1 16500 JPY >/dev/null &&
    (umask 077 && printf "whsec_test\n" >"$SECRET")
'

if ! serve "$TRASH/server.log" --listen "$SOCK" --client-timeout 60; then
    echo "Bail out! pay-ingest --scgi did not start"
    exit 1
fi

test_expect_success 'a signed charge: the whole answer, CGI-style' '
    post ch_1 &&
    recorded ch_1 "order ${SQ}A1${SQ} pinned -> paid" >expect &&
    test_cmp expect answer &&
    count_payments 1
'

test_expect_success 'a body of 40 KiB, read in many parts: its headers are its own' '
    charge ch_big 40000 >big.json &&
    "$PYTHON3" "$CLIENT" request "$SOCK" POST big.json \
        "HTTP_STRIPE_SIGNATURE=$(sign big.json)" >answer &&
    recorded ch_big >expect &&
    test_cmp expect answer &&
    count_payments 2
'

test_expect_success 'GET: 405 with Allow: POST' '
    : >empty &&
    "$PYTHON3" "$CLIENT" request "$SOCK" GET empty >answer &&
    printf "Status: 405 Method Not Allowed\nContent-Type: application/json\nAllow: POST\n\n{\"status\":405,\"result\":\"error\",\"reason\":\"method ${SQ}GET${SQ} not allowed: POST only\"}\n" >expect &&
    test_cmp expect answer
'

test_expect_success 'a body over --max-body: 413, not read, the answer not lost' '
    charge ch_2 1100000 >huge.json &&
    "$PYTHON3" "$CLIENT" request "$SOCK" POST huge.json >answer &&
    printf "Status: 413 Content Too Large\nContent-Type: application/json\n\n{\"status\":413,\"result\":\"error\",\"reason\":\"body of %s bytes is over the limit of 1048576 bytes\"}\n" \
        "$(wc -c <huge.json | tr -d " ")" >expect &&
    test_cmp expect answer &&
    count_payments 2
'

# bad NAME EXPECTED-REASON PRINTF-FORMAT: raw bytes answered 400.
bad() {
    test_expect_success "malformed: $1" "
        printf '$3' >raw &&
        \"\$PYTHON3\" \"\$CLIENT\" raw \"\$SOCK\" raw >answer &&
        refused \"$2\" >expect &&
        test_cmp expect answer &&
        count_payments 2
    "
}
bad 'not a netstring' \
    "malformed SCGI netstring: byte 1 is not a digit or ${SQ}:${SQ}" \
    'GET / HTTP/1.1\r\n\r\n'
bad 'a length with a leading zero' \
    'malformed SCGI netstring: a length with a leading zero' \
    '024:CONTENT_LENGTH\0000\000,'
bad 'no length' "malformed SCGI netstring: no length before ${SQ}:${SQ}" \
    ':CONTENT_LENGTH\0000\000,'
bad 'no comma after the headers' \
    "malformed SCGI netstring: byte 21 is not the ${SQ},${SQ} after 17 bytes of headers" \
    '17:CONTENT_LENGTH\0000\000;'
bad 'headers not ended by NUL' \
    'malformed SCGI headers: not ended by a NUL byte' \
    '17:CONTENT_LENGTH\0000x,'
bad 'a name without a value' \
    "malformed SCGI headers: ${SQ}SCGI${SQ} has no value" \
    '22:CONTENT_LENGTH\0000\000SCGI\000,'
bad 'CONTENT_LENGTH not first' \
    'malformed SCGI headers: CONTENT_LENGTH is not the first' \
    '24:SCGI\0001\000CONTENT_LENGTH\0000\000,'
bad 'CONTENT_LENGTH missing' \
    'malformed SCGI headers: CONTENT_LENGTH is not the first' \
    '7:SCGI\0001\000,'
bad 'CONTENT_LENGTH not a count' \
    "malformed SCGI CONTENT_LENGTH ${SQ}-1${SQ}: want a count of bytes" \
    '18:CONTENT_LENGTH\000-1\000,'
bad 'a header given twice' \
    "SCGI header ${SQ}SCGI${SQ} given twice" \
    '31:CONTENT_LENGTH\0000\000SCGI\0001\000SCGI\0001\000,'
bad 'a head over 64 KiB' 'SCGI headers over the limit of 65536 bytes' \
    '65537:'

test_expect_success 'half a request that stalls holds no one up' '
    charge ch_3 >ch3.json || return 1
    "$PYTHON3" "$CLIENT" stall "$SOCK" ch3.json 100 ready >stall.out &
    staller=$!
    wait_for ready &&
    post ch_4 &&
    recorded ch_4 >expect &&
    test_cmp expect answer &&
    kill -0 "$staller" &&
    kill "$staller" &&
    { wait "$staller" || :; } &&
    count_payments 3
'

test_expect_success 'SIGHUP: the secret read again' '
    printf "whsec_new\n" >"$SECRET" &&
    kill -HUP "$SERVER" &&
    wait_for "$TRASH/server.log" "SIGHUP: the secret read again" &&
    post ch_5 whsec_new &&
    recorded ch_5 >expect &&
    test_cmp expect answer &&
    post ch_6 whsec_test &&
    head -n 1 answer >actual &&
    echo "Status: 401 Unauthorized" >expect &&
    test_cmp expect actual &&
    test_sql "$DB" "SELECT detail FROM events WHERE kind = ${SQ}payment_rejected${SQ}" >actual &&
    echo "stripe request: signature mismatch: Stripe-Signature: no v1 signature matches the body" >expect &&
    test_cmp expect actual &&
    printf "whsec_test\n" >"$SECRET" &&
    kill -HUP "$SERVER" &&
    count_payments 4
'

test_expect_success 'the requests complete at one moment: one transaction' '
    "$PYTHON3" "$CLIENT" hold "$DB" held release &
    holder=$!
    wait_for held || return 1
    : >"$TRASH/server.log"
    post g_0 &
    first=$!
    wait_for "$TRASH/server.log" "a batch of 1 requests" || return 1
    for i in 1 2 3 4; do
        charge "g_$i" >"g_$i.json" || return 1
        SCGI_SENT=sent.$i "$PYTHON3" "$CLIENT" request "$SOCK" POST \
            "g_$i.json" \
            "HTTP_STRIPE_SIGNATURE=$(sign "g_$i.json")" >"answer.$i" &
    done
    for i in 1 2 3 4; do wait_for "sent.$i" || return 1; done &&
    : >release &&
    wait "$holder" &&
    wait "$first" &&
    wait &&
    for i in 1 2 3 4; do
        recorded "g_$i" >expect && test_cmp expect "answer.$i" || return 1
    done &&
    grep "batch" "$TRASH/server.log" >actual &&
    cat >expect <<EOF &&
pay-ingest: a batch of 1 requests
pay-ingest: the batch answered: 1 of 1 in one transaction
pay-ingest: a batch of 4 requests
pay-ingest: the batch answered: 4 of 4 in one transaction
EOF
    test_cmp expect actual &&
    count_payments 9
'

test_expect_success 'one request of a batch fails: answered alone, the others committed' '
    test_sql "$DB" "CREATE TRIGGER planted BEFORE INSERT ON payments WHEN NEW.gateway_txn_id = ${SQ}f_bad${SQ} BEGIN SELECT RAISE(ABORT, ${SQ}planted failure${SQ}); END" &&
    "$PYTHON3" "$CLIENT" hold "$DB" held release &
    holder=$!
    wait_for held || return 1
    : >"$TRASH/server.log"
    post f_0 &
    first=$!
    wait_for "$TRASH/server.log" "a batch of 1 requests" || return 1
    for i in 1 bad 2; do
        charge "f_$i" >"f_$i.json" || return 1
        SCGI_SENT=sent.$i "$PYTHON3" "$CLIENT" request "$SOCK" POST \
            "f_$i.json" \
            "HTTP_STRIPE_SIGNATURE=$(sign "f_$i.json")" >"answer.$i" &
    done
    for i in 1 bad 2; do wait_for "sent.$i" || return 1; done &&
    : >release &&
    wait "$holder" &&
    wait "$first" &&
    wait &&
    recorded f_1 >expect && test_cmp expect answer.1 &&
    recorded f_2 >expect && test_cmp expect answer.2 &&
    printf "Status: 500 Internal Server Error\nContent-Type: application/json\n\n{\"status\":500,\"result\":\"error\",\"reason\":\"database unavailable\"}\n" >expect &&
    test_cmp expect answer.bad &&
    grep "a batch of 3 requests" "$TRASH/server.log" &&
    grep "planted failure" "$TRASH/server.log" &&
    test_sql "$DB" "DROP TRIGGER planted" &&
    test_sql "$DB" "SELECT gateway_txn_id FROM payments WHERE gateway_txn_id LIKE ${SQ}f\_%${SQ} ESCAPE ${SQ}\\${SQ} ORDER BY 1" >actual &&
    printf "f_0\nf_1\nf_2\n" >expect &&
    test_cmp expect actual &&
    count_payments 12
'

test_expect_success 'SIGTERM in the middle of a batch: answered, then exit 0' '
    serve log --listen "$PWD/t.sock" || return 1
    "$PYTHON3" "$CLIENT" hold "$DB" held release &
    holder=$!
    wait_for held && charge ch_7 >ch7.json || return 1
    "$PYTHON3" "$CLIENT" stall "$PWD/t.sock" ch7.json 100 ready >stall.out &
    staller=$!
    wait_for ready || return 1
    post ch_8 whsec_test "$PWD/t.sock" &
    poster=$!
    wait_for log "a batch of 1 requests" &&
    kill -TERM "$SERVER" &&
    : >release &&
    wait "$holder" &&
    wait "$poster" &&
    recorded ch_8 >expect &&
    test_cmp expect answer &&
    wait "$SERVER" &&
    SERVER= &&
    wait "$staller" &&
    echo "(closed, no answer)" >expect &&
    test_cmp expect stall.out &&
    test ! -e t.sock &&
    count_payments 13
'

test_expect_success 'a request that does not come whole in time: closed unanswered' '
    serve log --listen "$PWD/t.sock" --client-timeout 1 &&
    charge ch_9 >ch9.json &&
    "$PYTHON3" "$CLIENT" stall "$PWD/t.sock" ch9.json 100 ready >stall.out &&
    echo "(closed, no answer)" >expect &&
    test_cmp expect stall.out &&
    grep "closed after 1000 ms: the request did not come whole" log &&
    kill -TERM "$SERVER" &&
    wait "$SERVER" &&
    SERVER= &&
    count_payments 13
'

test_expect_success 'HOST:PORT, and the socket of a supervisor on descriptor 3' '
    port=$("$PYTHON3" -c "import socket
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
    serve log --listen "127.0.0.1:$port" &&
    post ch_10 whsec_test "127.0.0.1:$port" &&
    recorded ch_10 >expect &&
    test_cmp expect answer &&
    kill -TERM "$SERVER" &&
    wait "$SERVER" &&
    SERVER= || return 1
    : >log # the first server said "serving SCGI" too
    "$PYTHON3" "$CLIENT" inherit "$TRASH/sd.sock" -- pay-ingest -v --scgi \
        --gateway stripe --db "$DB" --secret-file "$SECRET" \
        >/dev/null 2>>log &
    SERVER=$!
    echo "$SERVER" >>"$TRASH/pids"
    wait_for log "serving SCGI" &&
    post ch_11 whsec_test "$TRASH/sd.sock" &&
    recorded ch_11 >expect &&
    test_cmp expect answer &&
    kill -TERM "$SERVER" &&
    wait "$SERVER" &&
    SERVER= &&
    count_payments 15
'

test_expect_success 'usage: --scgi with a FILE, --listen, --max-conns or --client-timeout alone (even at their defaults), both endpoints, no socket' '
    test_expect_code 64 pay-ingest --scgi --gateway stripe --no-verify x.json 2>err &&
    grep "scgi reads each request from its connection" err &&
    test_expect_code 64 pay-ingest --listen "$SOCK" --gateway stripe --no-verify 2>err &&
    grep -- "--listen, --max-conns and --client-timeout go with --scgi" err &&
    test_expect_code 64 pay-ingest --max-conns 256 --gateway stripe --no-verify 2>err &&
    grep -- "--listen, --max-conns and --client-timeout go with --scgi" err &&
    test_expect_code 64 pay-ingest --client-timeout 10 --gateway stripe --no-verify 2>err &&
    grep -- "--listen, --max-conns and --client-timeout go with --scgi" err &&
    test_expect_code 64 pay-ingest --cgi --scgi --gateway stripe --no-verify 2>err &&
    grep -- "--cgi and --scgi are two endpoints" err &&
    test_expect_code 64 pay-ingest --scgi --gateway stripe --db "$DB" --no-verify </dev/null 2>err &&
    grep "no listening socket on standard input" err &&
    : >plain &&
    test_expect_code 73 pay-ingest --scgi --listen "$PWD/plain" --gateway stripe --db "$DB" --no-verify 2>err &&
    grep "exists and is not a socket" err
'

if [ -n "$LIGHTTPD" ]; then
    test_expect_success 't0136: the storm through lighttpd and two pay-ingest --scgi' '
        ENDPOINT=scgi sh "$top_srcdir/tests/t0136-pay-ingest-storm.sh" >storm.tap 2>&1 ||
        { cat storm.tap; false; } &&
        grep -c "^ok " storm.tap >actual &&
        echo 9 >expect &&
        test_cmp expect actual &&
        ! grep "^not ok" storm.tap &&
        grep -x "1..9" storm.tap
    '
fi

test_done
