#!/bin/sh
# t0135-pay-ingest-lighttpd: pay-ingest --cgi as the webhook endpoint of
# a real lighttpd on 127.0.0.1, driven with curl: a signed Stripe charge
# is recorded (200), the same delivery again is a duplicate (200), a bad
# or stale signature is refused (401) and records nothing, GET is 405,
# a body over --max-body 413, malformed JSON 400, other facts under a
# stored key 409, and a database held past the busy timeout 503 with
# Retry-After; every status line and body exactly as the gateway sees it.
# With ENDPOINT=scgi (t0138) the same requests go to pay-ingest --scgi,
# spawned by lighttpd's mod_scgi, and must be answered the same.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

test_require_lighttpd

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
W=$TRASH/web
DB=$TRASH/shop.db
# shellcheck disable=SC2034 # used inside the test bodies
SECRET=$W/secret
# The endpoint's clock (DAIGOU_NOW) as Stripe's t=.
# shellcheck disable=SC2034 # used inside the test bodies
NOW=2026-04-15T09:00:00Z
T=1776243600
ENDPOINT=${ENDPOINT:-cgi}
mkdir -p "$W/www/webhook"

# sign FILE [T [SECRET]]: the Stripe-Signature value of a body.
sign() {
    "$PYTHON3" -c '
import hashlib, hmac, sys
body = open(sys.argv[1], "rb").read()
t = sys.argv[2]
key = sys.argv[3].encode()
print("t=%s,v1=%s" % (t, hmac.new(key, t.encode() + b"." + body,
                                  hashlib.sha256).hexdigest()))
' "$1" "${2:-$T}" "${3:-whsec_test}"
}

# post FILE [CURL ARGS]: POST FILE to /webhook/stripe; the status line in
# status (CR removed), headers in headers, the body in body.
post() {
    po_file=$1
    shift
    curl -sS --max-time 30 -D headers.raw -o body \
        -H "Content-Type: application/json" --data-binary "@$po_file" \
        "$@" "$LIGHTTPD_URL/webhook/stripe" &&
    tr -d '\r' <headers.raw >headers &&
    head -n 1 headers >status
}

# expect STATUS-LINE JSON: status and body as they must be.
expect() {
    echo "$1" >expect.status &&
    echo "$2" >expect.body &&
    test_cmp expect.status status &&
    test_cmp expect.body body
}

# stripe_charge ID ORDER AMOUNT: a charge.succeeded event, pretty-printed
# over many lines as Stripe sends it.
stripe_charge() {
    cat <<EOF
{
  "id": "evt_$1",
  "object": "event",
  "api_version": "2024-06-20",
  "created": $T,
  "data": {
    "object": {
      "id": "$1",
      "object": "charge",
      "amount": $3,
      "amount_captured": $3,
      "captured": true,
      "currency": "eur",
      "metadata": {
        "order_id": "$2"
      },
      "paid": true,
      "payment_intent": "pi_$1",
      "status": "succeeded"
    }
  },
  "livemode": false,
  "type": "charge.succeeded"
}
EOF
}

count_payments() {
    test_sql "$DB" "SELECT count(*) FROM payments" >count.actual &&
    echo "$1" >count.expect &&
    test_cmp count.expect count.actual
}

test_ecb_xml @2026-04-13 JPY 161.29 >"$TRASH/r-13.xml"

test_expect_success 'setup: an order of 102.30 EUR, the secret, the endpoint' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --db "$DB" \
        --file "$TRASH/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --db "$DB" \
        --to EUR A1 16500 JPY >/dev/null &&
    (umask 077 && printf "whsec_test\n" >"$SECRET") &&
    if [ "$ENDPOINT" = scgi ]; then
        : >"$W/local.conf" &&
        test_lighttpd_scgi "$W" /webhook/stripe 1 \
            "$top_builddir/pay-ingest --scgi --gateway stripe --db $DB --secret-file $SECRET --max-body 4096" \
            DAIGOU_NOW=$NOW DAIGOU_BUSY_TIMEOUT_MS=200 &&
        grep -q -- "--scgi" "$W/local.conf"
    else
        cat >"$W/www/webhook/stripe" <<EOF &&
#!/bin/sh
exec "$top_builddir/pay-ingest" --cgi --gateway stripe --db "$DB" --secret-file "$SECRET" --max-body 4096
EOF
        chmod 755 "$W/www/webhook/stripe" &&
        cat >"$W/local.conf" <<EOF
setenv.add-environment = (
	"DAIGOU_NOW" => "$NOW",
	"DAIGOU_BUSY_TIMEOUT_MS" => "200",
)
EOF
    fi
'

if ! test_lighttpd_start "$W"; then
    echo "Bail out! lighttpd did not start"
    exit 1
fi

test_expect_success 'a signed Stripe charge: 200 recorded, the order paid' '
    stripe_charge ch_1 A1 10230 >ch1.json &&
    post ch1.json -H "Stripe-Signature: $(sign ch1.json)" &&
    expect "HTTP/1.1 200 OK" "{\"status\":200,\"result\":\"recorded\",\"facts\":[{\"gateway\":\"stripe\",\"gateway_txn_id\":\"ch_1\",\"kind\":\"charge\",\"order_id\":\"A1\",\"amount\":\"102.30\",\"currency\":\"EUR\",\"result\":\"recorded\",\"reason\":\"order ${SQ}A1${SQ} pinned -> paid\"}]}" &&
    grep -x "Content-Type: application/json" headers &&
    test_sql "$DB" "SELECT gateway, gateway_txn_id, kind, order_id, amount, currency, status FROM payments" >actual &&
    echo "stripe|ch_1|charge|A1|10230|EUR|completed" >expect.db &&
    test_sql "$DB" "SELECT state FROM orders WHERE order_id = ${SQ}A1${SQ}" >>actual &&
    echo paid >>expect.db &&
    test_cmp expect.db actual ||
    { test_lighttpd_log; false; }
'

test_expect_success 'the same delivery again: 200 duplicate, nothing changes' '
    stripe_charge ch_1 A1 10230 >ch1.json &&
    post ch1.json -H "Stripe-Signature: $(sign ch1.json)" &&
    expect "HTTP/1.1 200 OK" "{\"status\":200,\"result\":\"duplicate\",\"facts\":[{\"gateway\":\"stripe\",\"gateway_txn_id\":\"ch_1\",\"kind\":\"charge\",\"order_id\":\"A1\",\"amount\":\"102.30\",\"currency\":\"EUR\",\"result\":\"duplicate\",\"reason\":\"already recorded\"}]}" &&
    count_payments 1
'

test_expect_success 'a bad signature: 401, recorded nowhere but an event' '
    stripe_charge ch_2 A1 10230 >ch2.json &&
    post ch2.json -H "Stripe-Signature: $(sign ch2.json "$T" whsec_other)" &&
    expect "HTTP/1.1 401 Unauthorized" "{\"status\":401,\"result\":\"rejected\",\"reason\":\"signature mismatch: Stripe-Signature: no v1 signature matches the body\"}" &&
    count_payments 1 &&
    test_sql "$DB" "SELECT count(*) FROM events WHERE kind = ${SQ}payment_rejected${SQ}" >actual &&
    echo 1 >expect &&
    test_cmp expect actual
'

test_expect_success 'a body changed by one byte after signing: 401' '
    stripe_charge ch_2 A1 10230 >ch2.json &&
    sed "s/10230/10231/" ch2.json >ch2x.json &&
    post ch2x.json -H "Stripe-Signature: $(sign ch2.json)" &&
    expect "HTTP/1.1 401 Unauthorized" "{\"status\":401,\"result\":\"rejected\",\"reason\":\"signature mismatch: Stripe-Signature: no v1 signature matches the body\"}" &&
    count_payments 1
'

test_expect_success 'a stale signature (10 minutes old): 401' '
    stripe_charge ch_2 A1 10230 >ch2.json &&
    post ch2.json -H "Stripe-Signature: $(sign ch2.json $((T - 600)))" &&
    expect "HTTP/1.1 401 Unauthorized" "{\"status\":401,\"result\":\"rejected\",\"reason\":\"signature stale: Stripe-Signature: timestamp $((T - 600)) is old, outside the tolerance of 300 s\"}" &&
    count_payments 1
'

test_expect_success 'no signature: 401' '
    stripe_charge ch_2 A1 10230 >ch2.json &&
    post ch2.json &&
    expect "HTTP/1.1 401 Unauthorized" "{\"status\":401,\"result\":\"rejected\",\"reason\":\"signature missing: no Stripe-Signature header\"}" &&
    count_payments 1
'

test_expect_success 'GET: 405 with Allow: POST' '
    curl -sS --max-time 30 -D headers.raw -o body \
        "$LIGHTTPD_URL/webhook/stripe" &&
    tr -d "\r" <headers.raw >headers &&
    head -n 1 headers >status &&
    expect "HTTP/1.1 405 Method Not Allowed" "{\"status\":405,\"result\":\"error\",\"reason\":\"method ${SQ}GET${SQ} not allowed: POST only\"}" &&
    grep -x "Allow: POST" headers
'

test_expect_success 'a body over --max-body: 413' '
    { stripe_charge ch_3 A1 10230 && head -c 5000 /dev/zero | tr "\0" " "; } >big.json &&
    post big.json -H "Stripe-Signature: $(sign big.json)" &&
    expect "HTTP/1.1 413 Payload Too Large" "{\"status\":413,\"result\":\"error\",\"reason\":\"body of $(wc -c <big.json | tr -d " ") bytes is over the limit of 4096 bytes\"}" &&
    count_payments 1
'

test_expect_success 'malformed JSON (cut short), signed: 400' '
    stripe_charge ch_2 A1 10230 >ch2.json &&
    head -c 200 ch2.json >cut.json &&
    post cut.json -H "Stripe-Signature: $(sign cut.json)" &&
    expect "HTTP/1.1 400 Bad Request" "{\"status\":400,\"result\":\"rejected\",\"reason\":\"invalid JSON at line 11, column 4: string or ${SQ}}${SQ} expected near end of file\"}" &&
    count_payments 1
'

test_expect_success 'other facts under a stored key: 409 conflict, nothing changes' '
    stripe_charge ch_1 A1 10231 >ch1c.json &&
    post ch1c.json -H "Stripe-Signature: $(sign ch1c.json)" &&
    expect "HTTP/1.1 409 Conflict" "{\"status\":409,\"result\":\"conflict\",\"facts\":[{\"gateway\":\"stripe\",\"gateway_txn_id\":\"ch_1\",\"kind\":\"charge\",\"order_id\":\"A1\",\"amount\":\"102.31\",\"currency\":\"EUR\",\"result\":\"conflict\",\"reason\":\"stored with amount 102.30 EUR, not 102.31 EUR\"}]}" &&
    count_payments 1 &&
    test_sql "$DB" "SELECT amount FROM payments" >actual &&
    echo 10230 >expect &&
    test_cmp expect actual
'

test_expect_success 'the database held past the busy timeout: 503, Retry-After' '
    stripe_charge ch_4 A1 10230 >ch4.json &&
    "$TEST_TOOL" db begin-hold "$DB" 3000 >hold.out 2>hold.err &
    holder=$! &&
    i=0 &&
    until grep -q "^held\$" hold.out 2>/dev/null; do
        i=$((i + 1)) && test $i -lt 200 && sleep 0.05 || return 1
    done &&
    post ch4.json -H "Stripe-Signature: $(sign ch4.json)" &&
    expect "HTTP/1.1 503 Service Unavailable" "{\"status\":503,\"result\":\"error\",\"reason\":\"database unavailable\"}" &&
    grep -x "Retry-After: 5" headers &&
    wait "$holder" &&
    post ch4.json -H "Stripe-Signature: $(sign ch4.json)" &&
    echo "HTTP/1.1 200 OK" >expect.status &&
    test_cmp expect.status status &&
    count_payments 2
'

test_expect_success 'the secret is passed as a 0600 file and never in argv' '
    ls -l "$SECRET" | cut -c1-10 >actual &&
    echo "-rw-------" >expect &&
    test_cmp expect actual &&
    if [ "$ENDPOINT" = scgi ]; then
        cmdline=$W/local.conf
    else
        cmdline=$W/www/webhook/stripe
    fi &&
    grep -qF "$SECRET" "$cmdline" &&
    ! grep -q whsec_test "$cmdline"
'

test_lighttpd_stop

test_done
