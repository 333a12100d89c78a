#!/bin/sh
# t0134-pay-ingest-signatures: pay-ingest believes a payload only once its
# signature is verified: Stripe and generic signatures computed here with
# python3's hmac; a bad, stale or missing one is a rejected row, exit 65
# (401 under --cgi), recorded nowhere but a payment_rejected event; the
# secret from the environment or a file, never the command line.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
HEADER=gateway,gateway_txn_id,kind,order_id,amount,currency,result,reason
PAY=$FIXTURES/pay
DAIGOU_DB=$TRASH/shop.db
# 2026-06-10T09:10:00Z
NOW=1781082600
DAIGOU_NOW=2026-06-10T09:10:00Z
SECRET=whsec_test_0123456789abcdef
export DAIGOU_DB DAIGOU_NOW
unset DAIGOU_WEBHOOK_SECRET

expect_csv() {
    printf '%s\n' "$HEADER" "$@"
}

# stripe_sig FILE T [SECRET]: the Stripe-Signature value for FILE at T.
stripe_sig() {
    "$PYTHON3" -c '
import hmac, hashlib, sys
body = open(sys.argv[1], "rb").read()
t = sys.argv[2]
mac = hmac.new(sys.argv[3].encode(), t.encode() + b"." + body, hashlib.sha256)
print("t=%s,v1=%s" % (t, mac.hexdigest()))
' "$1" "$2" "${3:-$SECRET}"
}

# generic_sig FILE [SECRET]: the X-Signature value for FILE.
generic_sig() {
    "$PYTHON3" -c '
import hmac, hashlib, sys
body = open(sys.argv[1], "rb").read()
print("sha256=" + hmac.new(sys.argv[2].encode(), body, hashlib.sha256).hexdigest())
' "$1" "${2:-$SECRET}"
}

# stored: every row pay-ingest may write but the rejected events.
stored() {
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments;
        SELECT count(*) FROM payment_status;
        SELECT group_concat(state) FROM orders"
}

rejected_events() {
    test_sql "$DAIGOU_DB" "SELECT tool, kind, subject, detail FROM events
        WHERE kind = ${SQ}payment_rejected${SQ} ORDER BY id"
}

test_ecb_xml @2026-06-09 JPY 161.29 >"$TRASH/r.xml"

test_expect_success 'setup: order ORD-1001, 102.30 EUR' '
    DAIGOU_NOW=2026-06-09T16:10:00Z rate-fetch -q --file "$TRASH/r.xml" &&
    DAIGOU_NOW=2026-06-09T18:00:00Z \
        order-rate-pin -q --to EUR ORD-1001 16500 JPY >/dev/null &&
    cp "$PAY/stripe-charge-succeeded.json" "$TRASH/charge.json"
'

test_expect_success 'a good Stripe signature: recorded' '
    sig=$(stripe_sig "$TRASH/charge.json" $NOW) &&
    DAIGOU_WEBHOOK_SECRET=$SECRET pay-ingest --gateway stripe \
        --signature "$sig" "$TRASH/charge.json" >actual 2>err &&
    cut -d, -f2,7 actual >actual.c &&
    printf "gateway_txn_id,result\nch_3PZkLmF2eZvKYlo21aBcDeFg,recorded\n" >expect &&
    test_cmp expect actual.c &&
    test_must_be_empty err
'

test_expect_success 'the secret from --secret-file (0600), the environment ignored' '
    printf "%s\n" "$SECRET" >secret &&
    chmod 600 secret &&
    sig=$(stripe_sig "$TRASH/charge.json" $NOW) &&
    DAIGOU_WEBHOOK_SECRET=wrong pay-ingest --gateway stripe \
        --secret-file secret --signature "$sig" "$TRASH/charge.json" \
        >actual 2>err &&
    cut -d, -f7 actual >actual.c &&
    printf "result\nduplicate\n" >expect &&
    test_cmp expect actual.c &&
    test_must_be_empty err
'

test_expect_success 'several v1 entries (a rotation): any may match' '
    good=$(stripe_sig "$TRASH/charge.json" $NOW) &&
    old=$(stripe_sig "$TRASH/charge.json" $NOW whsec_old) &&
    DAIGOU_WEBHOOK_SECRET=$SECRET pay-ingest --gateway stripe \
        --signature "$old,v1=${good#*v1=}" "$TRASH/charge.json" >actual 2>err &&
    cut -d, -f7 actual >actual.c &&
    printf "result\nduplicate\n" >expect &&
    test_cmp expect actual.c
'

for case in "a wrong secret" "stale: older than the tolerance" \
    "from the future past the tolerance" "no header at all" \
    "the body changed by one byte"; do
    test_expect_success "rejected, $case: 65, a payment_rejected event, nothing else" '
        sed "s/102.30/102.31/; s/10230/10231/" "$TRASH/charge.json" >changed.json &&
        cp "$TRASH/charge.json" body.json &&
        case "'"$case"'" in
        "a wrong secret")
            sig=$(stripe_sig body.json $NOW whsec_other) &&
            why="mismatch: Stripe-Signature: no v1 signature matches the body" ;;
        stale*)
            sig=$(stripe_sig body.json $((NOW - 301))) &&
            why="stale: Stripe-Signature: timestamp $((NOW - 301)) is old, outside the tolerance of 300 s" ;;
        from*)
            sig=$(stripe_sig body.json $((NOW + 301))) &&
            why="stale: Stripe-Signature: timestamp $((NOW + 301)) is in the future, outside the tolerance of 300 s" ;;
        "no header"*)
            sig= &&
            why="missing: no Stripe-Signature header" ;;
        *)
            sig=$(stripe_sig body.json $NOW) && cp changed.json body.json &&
            why="mismatch: Stripe-Signature: no v1 signature matches the body" ;;
        esac &&
        stored >before &&
        rejected_events >events.before &&
        if [ -n "$sig" ]; then
            set -- --signature "$sig"
        else
            set --
        fi &&
        test_expect_code 65 env DAIGOU_WEBHOOK_SECRET=$SECRET \
            pay-ingest --gateway stripe "$@" body.json >actual 2>err &&
        case $why in
        *,*) field="\"signature $why\"" ;;
        *) field="signature $why" ;;
        esac &&
        expect_csv "stripe,,,,,,rejected,$field" >expect &&
        test_cmp expect actual &&
        echo "pay-ingest: body.json: signature $why" >expect &&
        test_cmp expect err &&
        stored >after &&
        test_cmp before after &&
        rejected_events >events.after &&
        echo "pay-ingest|payment_rejected|stripe|stripe body.json: signature $why" >>events.before &&
        test_cmp events.before events.after
    '
done

test_expect_success 'within the tolerance either way: accepted' '
    for t in $((NOW - 300)) $((NOW + 300)); do
        sig=$(stripe_sig "$TRASH/charge.json" $t) &&
        DAIGOU_WEBHOOK_SECRET=$SECRET pay-ingest --gateway stripe \
            --signature "$sig" "$TRASH/charge.json" >actual 2>err &&
        cut -d, -f7 actual | tail -n 1 >actual.c &&
        echo duplicate >expect &&
        test_cmp expect actual.c || return 1
    done
'

test_expect_success 'generic: X-Signature sha256=<hex> over the body' '
    cp "$PAY/generic-charge.json" g.json &&
    DAIGOU_NOW=2026-06-09T18:00:00Z \
        order-rate-pin -q --to EUR ORD-3001 16500 JPY >/dev/null &&
    DAIGOU_WEBHOOK_SECRET=$SECRET pay-ingest --gateway generic \
        --signature "$(generic_sig g.json)" g.json >actual 2>err &&
    cut -d, -f2,7 actual >actual.c &&
    printf "gateway_txn_id,result\nTX-77001,recorded\n" >expect &&
    test_cmp expect actual.c &&
    test_expect_code 65 env DAIGOU_WEBHOOK_SECRET=$SECRET \
        pay-ingest --gateway generic \
        --signature "$(generic_sig g.json whsec_other)" g.json >actual 2>err &&
    cut -d, -f7 actual >actual.c &&
    printf "result\nrejected\n" >expect &&
    test_cmp expect actual.c
'

test_expect_success 'generic: the design known answer verifies (then the body is no payment)' '
    printf "Hello, World!" >hello &&
    test_expect_code 65 env "DAIGOU_WEBHOOK_SECRET=It${SQ}s a Secret to Everybody" \
        pay-ingest --gateway generic \
        --signature sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 \
        hello >actual 2>err &&
    ! grep "signature" err &&
    grep "^pay-ingest: hello: " err
'

test_expect_success '--cgi: a bad signature is 401, a good one 200' '
    sig=$(stripe_sig "$TRASH/charge.json" $NOW whsec_other) &&
    REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <"$TRASH/charge.json") \
        HTTP_STRIPE_SIGNATURE=$sig DAIGOU_WEBHOOK_SECRET=$SECRET \
        pay-ingest --cgi --gateway stripe <"$TRASH/charge.json" >reply 2>err;
    test $? = 65 &&
    head -n 1 reply | tr -d "\r" >actual &&
    echo "Status: 401 Unauthorized" >expect &&
    test_cmp expect actual &&
    sig=$(stripe_sig "$TRASH/charge.json" $NOW) &&
    REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <"$TRASH/charge.json") \
        HTTP_STRIPE_SIGNATURE=$sig DAIGOU_WEBHOOK_SECRET=$SECRET \
        pay-ingest --cgi --gateway stripe <"$TRASH/charge.json" >reply 2>err &&
    head -n 1 reply | tr -d "\r" >actual &&
    echo "Status: 200 OK" >expect &&
    test_cmp expect actual
'

# PayPal: a certificate and key made here; the signed text is
# transmission_id|transmission_time|webhook_id|crc32(body).
CERT_URL=https://api.paypal.com/v1/notifications/certs/CERT-360caa42-test

# paypal_sig FILE ID TIME WEBHOOK_ID: the PAYPAL-TRANSMISSION-SIG value.
paypal_sig() {
    "$PYTHON3" -c '
import sys, zlib
body = open(sys.argv[1], "rb").read()
sys.stdout.write("%s|%s|%s|%d" % (sys.argv[2], sys.argv[3], sys.argv[4],
                                  zlib.crc32(body) & 0xffffffff))
' "$@" >signed.txt &&
    openssl dgst -sha256 -sign "$TRASH/pp.key" signed.txt | base64 -w 0
}

# paypal ARGS...: pay-ingest for the PayPal capture with the headers of
# a transmission (TID, TTIME, TSIG set by the caller).
paypal() {
    pay-ingest --gateway paypal --paypal-webhook-id WH-TEST-1 \
        --paypal-header "PAYPAL-TRANSMISSION-ID=$TID" \
        --paypal-header "PAYPAL-TRANSMISSION-TIME=$TTIME" \
        --paypal-header "paypal-transmission-sig=$TSIG" \
        --paypal-header "PAYPAL-AUTH-ALGO=SHA256withRSA" "$@"
}

test_expect_success 'setup: a PayPal test certificate, and the order ORD-2001' '
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TRASH/pp.key" \
        -out "$TRASH/pp.pem" -days 3650 -subj "/CN=messageverificationcerts.paypal.com" \
        2>/dev/null &&
    test_ecb_xml @2026-06-09 USD 1.1500 >usd.xml &&
    DAIGOU_NOW=2026-06-09T16:10:00Z rate-fetch -q --file usd.xml &&
    DAIGOU_NOW=2026-06-09T18:00:00Z \
        order-rate-pin -q --to USD ORD-2001 48.50 USD >/dev/null
'

test_expect_success 'PayPal: a good transmission with --paypal-cert: recorded' '
    cp "$PAY/paypal-capture-completed.json" pp.json &&
    TID=8b3f2e10-4a7e-11f0-9a1c-0b2d9e6f1a11 &&
    TTIME=2026-06-10T09:09:30Z &&
    TSIG=$(paypal_sig pp.json "$TID" "$TTIME" WH-TEST-1) &&
    paypal --paypal-cert "$TRASH/pp.pem" pp.json >actual 2>err &&
    cut -d, -f2,4,5,6,7 actual >actual.c &&
    printf "gateway_txn_id,order_id,amount,currency,result\n2GG279541U471931P,ORD-2001,48.50,USD,recorded\n" >expect &&
    test_cmp expect actual.c
'

test_expect_success 'PayPal: a wrong webhook id or a changed body is rejected, nothing recorded' '
    cp "$PAY/paypal-capture-completed.json" pp.json &&
    TID=8b3f2e10-4a7e-11f0-9a1c-0b2d9e6f1a12 &&
    TTIME=2026-06-10T09:09:30Z &&
    TSIG=$(paypal_sig pp.json "$TID" "$TTIME" WH-OTHER) &&
    stored >before &&
    test_expect_code 65 paypal --paypal-cert "$TRASH/pp.pem" pp.json \
        >actual 2>err &&
    cut -d, -f1,7 actual >actual.c &&
    printf "gateway,result\npaypal,rejected\n" >expect &&
    test_cmp expect actual.c &&
    TSIG=$(paypal_sig pp.json "$TID" "$TTIME" WH-TEST-1) &&
    sed "s/48.50/4.85/" pp.json >changed.json &&
    test_expect_code 65 paypal --paypal-cert "$TRASH/pp.pem" changed.json \
        >actual 2>err &&
    cut -d, -f1,7 actual >actual.c &&
    test_cmp expect actual.c &&
    stored >after &&
    test_cmp before after
'

test_expect_success 'PayPal: the certificate of PAYPAL-CERT-URL from the cache, never fetched' '
    cp "$PAY/paypal-capture-completed.json" pp.json &&
    test_sql "$DAIGOU_DB" "INSERT INTO paypal_certs VALUES (${SQ}$CERT_URL${SQ},
        CAST(readfile(${SQ}$TRASH/pp.pem${SQ}) AS TEXT), ${SQ}$(sha256sum <"$TRASH/pp.pem" | cut -c1-64)${SQ},
        ${SQ}2026-06-10T09:00:00Z${SQ})" &&
    TID=8b3f2e10-4a7e-11f0-9a1c-0b2d9e6f1a13 &&
    TTIME=2026-06-10T09:09:30Z &&
    TSIG=$(paypal_sig pp.json "$TID" "$TTIME" WH-TEST-1) &&
    paypal --paypal-header "PAYPAL-CERT-URL=$CERT_URL" pp.json >actual 2>err &&
    cut -d, -f7 actual >actual.c &&
    printf "result\nduplicate\n" >expect &&
    test_cmp expect actual.c
'

test_expect_success 'PayPal under --cgi: the transmission headers from HTTP_PAYPAL_*' '
    cp "$PAY/paypal-capture-completed.json" pp.json &&
    TID=8b3f2e10-4a7e-11f0-9a1c-0b2d9e6f1a15 &&
    TTIME=2026-06-10T09:09:30Z &&
    TSIG=$(paypal_sig pp.json "$TID" "$TTIME" WH-TEST-1) &&
    REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <pp.json) \
        HTTP_PAYPAL_TRANSMISSION_ID=$TID HTTP_PAYPAL_TRANSMISSION_TIME=$TTIME \
        HTTP_PAYPAL_TRANSMISSION_SIG=$TSIG HTTP_PAYPAL_CERT_URL=$CERT_URL \
        HTTP_PAYPAL_AUTH_ALGO=SHA256withRSA \
        pay-ingest --cgi --gateway paypal --paypal-webhook-id WH-TEST-1 \
        <pp.json >reply 2>err &&
    head -n 1 reply | tr -d "\r" >actual &&
    echo "Status: 200 OK" >expect &&
    test_cmp expect actual &&
    grep -q "\"result\":\"duplicate\"" reply &&
    REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <pp.json) \
        HTTP_PAYPAL_TRANSMISSION_ID=$TID HTTP_PAYPAL_TRANSMISSION_TIME=$TTIME \
        HTTP_PAYPAL_TRANSMISSION_SIG=$TSIG HTTP_PAYPAL_CERT_URL=$CERT_URL \
        pay-ingest --cgi --gateway paypal --paypal-webhook-id WH-OTHER \
        <pp.json >reply 2>err;
    test $? = 65 &&
    head -n 1 reply | tr -d "\r" >actual &&
    echo "Status: 401 Unauthorized" >expect &&
    test_cmp expect actual
'

test_expect_success 'PayPal: a certificate URL off PayPal is refused, not fetched' '
    cp "$PAY/paypal-capture-completed.json" pp.json &&
    TID=8b3f2e10-4a7e-11f0-9a1c-0b2d9e6f1a14 &&
    TTIME=2026-06-10T09:09:30Z &&
    TSIG=$(paypal_sig pp.json "$TID" "$TTIME" WH-TEST-1) &&
    test_expect_code 65 paypal \
        --paypal-header "PAYPAL-CERT-URL=https://evil.example/cert.pem" \
        pp.json >actual 2>err &&
    cut -d, -f7 actual >actual.c &&
    printf "result\nrejected\n" >expect &&
    test_cmp expect actual.c &&
    grep "certificate URL ${SQ}https://evil.example/cert.pem${SQ} refused" err
'

test_done
