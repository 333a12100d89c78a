#!/bin/sh
# t0131-pay-ingest-input: what pay-ingest refuses, with the exact message
# and exit status, and nothing half written: usage errors, a missing
# secret, missing files, bodies over --max-body (a 100 MB file by its
# size, a 100 MB pipe after the cap, without reading it all), truncated
# JSON, amounts with too many digits, unknown currencies, missing ids;
# --jsonl replays with bad lines in the middle, --strict, --batch.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
HEADER=gateway,gateway_txn_id,kind,order_id,amount,currency,result,reason
DAIGOU_DB=$TRASH/shop.db
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_DB DAIGOU_NOW
NV="pay-ingest: warning: --no-verify: signatures are not checked; accept payloads only from a source you trust"

expect_csv() {
    printf '%s\n' "$HEADER" "$@"
}

# line TXN ORDER AMOUNT: one generic charge as a JSON line.
line() {
    printf '{"gateway_txn_id": "%s", "kind": "charge", "order_id": "%s", "amount": "%s", "currency": "EUR"}\n' "$1" "$2" "$3"
}

# rows: what pay-ingest wrote to the database.
rows() {
    test_sql "$DAIGOU_DB" "SELECT gateway_txn_id, amount FROM payments
        ORDER BY id; SELECT kind, subject FROM events
        WHERE kind <> ${SQ}schema_migrated${SQ} ORDER BY id"
}

test_expect_success 'usage: --gateway is required and checked' '
    test_expect_code 64 pay-ingest --no-verify x.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --gateway is required: stripe, paypal or generic" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 pay-ingest --gateway square --no-verify x.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --gateway is stripe, paypal or generic, not ${SQ}square${SQ}" >expect &&
    test_cmp expect actual
'

test_expect_success 'usage: --jsonl needs --no-verify, --batch needs --jsonl' '
    test_expect_code 64 pay-ingest --gateway stripe --jsonl x.jsonl 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --jsonl needs --no-verify: exported events carry no signature" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 pay-ingest --gateway stripe --no-verify --batch 5 x.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --batch goes with --jsonl or --scgi" >expect &&
    test_cmp expect actual
'

test_expect_success 'usage: a signature belongs to one file; --no-verify takes no secret' '
    test_expect_code 64 pay-ingest --gateway stripe --signature t=1,v1=00 \
        a.json b.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: a signature belongs to one payload: give one FILE" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 pay-ingest --gateway generic --no-verify \
        --secret-file s a.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --no-verify takes no --signature, --secret-file, --paypal-cert or --paypal-webhook-id" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 pay-ingest --gateway paypal a.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --gateway paypal needs --paypal-webhook-id to verify, or --no-verify" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 pay-ingest --gateway paypal --no-verify \
        --paypal-header X-FOO=1 a.json 2>err &&
    head -n 1 err >actual &&
    echo "pay-ingest: --paypal-header needs NAME=VALUE with NAME one of PAYPAL-TRANSMISSION-ID, PAYPAL-TRANSMISSION-TIME, PAYPAL-TRANSMISSION-SIG, PAYPAL-CERT-URL, PAYPAL-AUTH-ALGO, not ${SQ}X-FOO=1${SQ}" >expect &&
    test_cmp expect actual
'

test_expect_success 'no secret and no --no-verify: refused before anything is read' '
    line T1 A1 1.00 >t1.json &&
    test_expect_code 64 env -u DAIGOU_WEBHOOK_SECRET \
        pay-ingest --gateway generic t1.json >out 2>err &&
    echo "pay-ingest: no webhook secret: set DAIGOU_WEBHOOK_SECRET or --secret-file, or give --no-verify" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    ! test -e "$DAIGOU_DB"
'

test_expect_success 'a missing file: 66, the others still recorded' '
    line T1 NOPE 1.00 >t1.json &&
    test_expect_code 66 pay-ingest --gateway generic --no-verify \
        missing.json t1.json >actual 2>err &&
    printf "%s\n" "$NV" \
        "pay-ingest: cannot open ${SQ}missing.json${SQ}: No such file or directory" \
        "pay-ingest: warning: t1.json: generic ${SQ}T1${SQ}: order ${SQ}NOPE${SQ} is unknown" >expect &&
    test_cmp expect err &&
    expect_csv "generic,T1,charge,NOPE,1.00,EUR,recorded,order ${SQ}NOPE${SQ} is unknown" >expect &&
    test_cmp expect actual
'

test_expect_success 'a 100 MB file is refused by its size, nothing written' '
    rows >before &&
    truncate -s 100000000 big.json &&
    test_expect_code 65 pay-ingest --gateway generic --no-verify big.json \
        >actual 2>err &&
    printf "%s\n" "$NV" \
        "pay-ingest: ${SQ}big.json${SQ}: 100000000 bytes, over the cap of 1048576 bytes (--max-body)" >expect &&
    test_cmp expect err &&
    test_must_be_empty actual &&
    rows >after &&
    test_cmp before after
'

test_expect_success 'a 100 MB pipe is cut at the cap: not read whole' '
    rows >before &&
    "$PYTHON3" -c "
import os, sys
chunk = b\"x\" * 65536
sent = 0
try:
    while sent < 100000000:
        sent += os.write(1, chunk)
except BrokenPipeError:
    pass
sys.stderr.write(\"%d\n\" % sent)
" 2>sent | {
        pay-ingest --gateway generic --no-verify - >actual 2>err
        echo $? >rc
    } &&
    echo 65 >expect &&
    test_cmp expect rc &&
    printf "%s\n" "$NV" \
        "pay-ingest: ${SQ}<stdin>${SQ}: over the cap of 1048576 bytes (--max-body)" >expect &&
    test_cmp expect err &&
    test "$(cat sent)" -lt 4000000 &&
    rows >after &&
    test_cmp before after
'

test_expect_success '--max-body applies to files: one byte over is refused, at the cap read' '
    line T2 NOPE 2.00 >t2.json &&
    n=$(wc -c <t2.json) &&
    test_expect_code 65 pay-ingest --gateway generic --no-verify \
        --max-body $((n - 1)) t2.json >actual 2>err &&
    tail -n 1 err >actual &&
    echo "pay-ingest: ${SQ}t2.json${SQ}: $n bytes, over the cap of $((n - 1)) bytes (--max-body)" >expect &&
    test_cmp expect actual &&
    test_expect_code 1 pay-ingest --gateway generic --no-verify \
        --max-body "$n" t2.json >actual 2>err &&
    cut -d, -f2,7 actual >actual.c &&
    printf "gateway_txn_id,result\nT2,recorded\n" >expect &&
    test_cmp expect actual.c
'

test_expect_success 'malformed bodies: each named, 65, nothing written' '
    rows >before &&
    head -c 200 "$FIXTURES/pay/stripe-charge-succeeded.json" >trunc.json &&
    test_expect_code 65 pay-ingest --gateway stripe --no-verify trunc.json \
        >actual 2>err &&
    printf "%s\n" "$NV" \
        "pay-ingest: trunc.json: invalid JSON at line 9, column 10: premature end of input near ${SQ}\"obj${SQ}" >expect &&
    test_cmp expect err &&
    expect_csv "stripe,,,,,,rejected,\"invalid JSON at line 9, column 10: premature end of input near ${SQ}\"\"obj${SQ}\"" >expect &&
    test_cmp expect actual &&
    printf "{\"gateway_txn_id\": \"M1\", \"kind\": \"charge\", \"order_id\": \"A1\", \"amount\": \"102.301\", \"currency\": \"EUR\"}" >digits.json &&
    printf "{\"gateway_txn_id\": \"M2\", \"kind\": \"charge\", \"order_id\": \"A1\", \"amount\": \"102.30\", \"currency\": \"XYZ\"}" >ccy.json &&
    printf "{\"kind\": \"charge\", \"order_id\": \"A1\", \"amount\": \"102.30\", \"currency\": \"EUR\"}" >noid.json &&
    printf "{\"gateway_txn_id\": \"M4\", \"kind\": \"charge\", \"order_id\": \"A1\", \"amount\": \"1000000000000000000000\", \"currency\": \"EUR\"}" >huge.json &&
    test_expect_code 65 pay-ingest --gateway generic --no-verify \
        digits.json ccy.json noid.json huge.json >actual 2>err &&
    printf "%s\n" "$NV" \
        "pay-ingest: digits.json: amount: ${SQ}102.301${SQ} has more than 2 decimals for EUR" \
        "pay-ingest: ccy.json: currency: unknown currency ${SQ}XYZ${SQ}" \
        "pay-ingest: noid.json: gateway_txn_id: missing" \
        "pay-ingest: huge.json: amount: ${SQ}1000000000000000000000${SQ} is too large" \
        "pay-ingest: 0 recorded, 0 duplicate, 0 conflict, 4 rejected, 0 ignored" >expect &&
    test_cmp expect err &&
    expect_csv \
        "generic,,,,,,rejected,amount: ${SQ}102.301${SQ} has more than 2 decimals for EUR" \
        "generic,,,,,,rejected,currency: unknown currency ${SQ}XYZ${SQ}" \
        "generic,,,,,,rejected,gateway_txn_id: missing" \
        "generic,,,,,,rejected,amount: ${SQ}1000000000000000000000${SQ} is too large" >expect &&
    test_cmp expect actual &&
    rows >after &&
    test_cmp before after
'

test_expect_success '--strict with files: the first bad payload ends the run' '
    printf "{" >cut.json &&
    line F2 NOPE 2.00 >f2.json &&
    test_expect_code 65 pay-ingest -q --gateway generic --no-verify --strict \
        cut.json f2.json >actual 2>err &&
    cut -d, -f7 actual >actual.c &&
    printf "result\nrejected\n" >expect &&
    test_cmp expect actual.c &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments
        WHERE gateway_txn_id = ${SQ}F2${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual &&
    test_expect_code 65 pay-ingest -q --gateway generic --no-verify \
        cut.json f2.json >actual 2>err &&
    cut -d, -f2,7 actual >actual.c &&
    printf "gateway_txn_id,result\n,rejected\nF2,recorded\n" >expect &&
    test_cmp expect actual.c
'

test_expect_success '--jsonl: bad lines in the middle are reported, the rest recorded' '
    {
        line J1 NOPE 1.00 &&
        echo "{\"gateway_txn_id\": \"J2\", \"kind\": \"charge\"" &&
        line J3 NOPE 3.00 &&
        echo "not json" &&
        line J4 NOPE 4.00
    } >replay.jsonl &&
    test_expect_code 65 pay-ingest -q --gateway generic --jsonl --no-verify \
        replay.jsonl >actual 2>err &&
    cut -d, -f2,7 actual >actual.c &&
    printf "%s\n" gateway_txn_id,result J1,recorded ,rejected J3,recorded \
        ,rejected J4,recorded >expect &&
    test_cmp expect actual.c &&
    grep -c "is unknown" err >actual &&
    echo 3 >expect &&
    test_cmp expect actual &&
    grep "^pay-ingest: replay.jsonl:2: " err &&
    grep "^pay-ingest: replay.jsonl:4: " err &&
    test_sql "$DAIGOU_DB" "SELECT group_concat(gateway_txn_id) FROM payments
        WHERE gateway_txn_id LIKE ${SQ}J%${SQ}" >actual &&
    echo J1,J3,J4 >expect &&
    test_cmp expect actual
'

test_expect_success '--jsonl --strict stops at the first bad line, what came before kept' '
    {
        line S1 NOPE 1.00 &&
        echo "not json" &&
        line S3 NOPE 3.00
    } >strict.jsonl &&
    test_expect_code 65 pay-ingest -q --gateway generic --jsonl --no-verify \
        --strict strict.jsonl >actual 2>err &&
    cut -d, -f2,7 actual >actual.c &&
    printf "%s\n" gateway_txn_id,result S1,recorded ,rejected >expect &&
    test_cmp expect actual.c &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments
        WHERE gateway_txn_id LIKE ${SQ}S%${SQ}" >actual &&
    echo 1 >expect &&
    test_cmp expect actual
'

test_expect_success '--jsonl --batch 2: the same rows as one batch, the same database' '
    i=0 &&
    while [ $i -lt 7 ]; do
        line "B$i" NOPE "$i.00" || return 1
        i=$((i + 1))
    done >b.jsonl &&
    line B3 NOPE 9.00 >>b.jsonl &&
    line B1 NOPE 1.00 >>b.jsonl &&
    rm -f one.db two.db &&
    test_expect_code 65 pay-ingest -q --db one.db --gateway generic --jsonl \
        --no-verify b.jsonl >one.csv 2>one.err &&
    test_expect_code 65 pay-ingest -q --db two.db --gateway generic --jsonl \
        --no-verify --batch 2 b.jsonl >two.csv 2>two.err &&
    test_cmp one.csv two.csv &&
    test_cmp one.err two.err &&
    cut -d, -f2,7 one.csv | tail -n 2 >actual &&
    printf "B3,conflict\nB1,duplicate\n" >expect &&
    test_cmp expect actual &&
    for db in one.db two.db; do
        test_sql $db "SELECT gateway_txn_id, amount FROM payments ORDER BY id" ||
            return 1
    done >both &&
    test_line_count = 14 both
'

# pad N: a line of generic JSON N bytes long with its newline (white
# space inside the object), for the line cap.
pad() {
    python3 -c 'import sys
n = int(sys.argv[1]); s = "{\"gateway_txn_id\": \"%s\", \"kind\": \"charge\", \"order_id\": \"NOPE\", \"amount\": \"1.00\", \"currency\": \"EUR\""
s %= sys.argv[2]
sys.stdout.write(s + " " * (n - len(s) - 2) + "}\n")' "$1" "$2"
}

test_expect_success '--jsonl: long lines across reads, the line cap with its newline, a last line without one' '
    {
        pad 600000 L1 &&
        pad 2500000 L2 &&
        line L3 NOPE 3.00 &&
        pad 1048576 L4 &&
        pad 1048577 L5 &&
        line L6 NOPE 6.00 | tr -d "\n"
    } >long.jsonl &&
    rm -f long.db &&
    test_expect_code 65 pay-ingest -q --db long.db --gateway generic \
        --jsonl --no-verify long.jsonl >actual 2>err &&
    cut -d, -f2,7,8 actual >actual.c &&
    printf "%s\n" gateway_txn_id,result,reason L1,recorded,"order ${SQ}NOPE${SQ} is unknown" \
        ",rejected,line over the cap of 1048576 bytes (--max-body)" \
        L3,recorded,"order ${SQ}NOPE${SQ} is unknown" \
        L4,recorded,"order ${SQ}NOPE${SQ} is unknown" \
        ",rejected,line over the cap of 1048576 bytes (--max-body)" \
        L6,recorded,"order ${SQ}NOPE${SQ} is unknown" >expect &&
    test_cmp expect actual.c &&
    grep "^pay-ingest: long.jsonl:2: line over the cap" err &&
    grep "^pay-ingest: long.jsonl:5: line over the cap" err &&
    line L6 NOPE 6.00 | tr -d "\n" | sha256sum | cut -c1-64 >expect &&
    pad 600000 L1 | sha256sum | cut -c1-64 >>expect &&
    test_sql long.db "SELECT payload_sha256 FROM payments
        WHERE gateway_txn_id IN (${SQ}L6${SQ}, ${SQ}L1${SQ})
        ORDER BY gateway_txn_id DESC" >actual &&
    test_cmp expect actual &&
    rm -f long2.db &&
    test_expect_code 65 pay-ingest -q --db long2.db --gateway generic \
        --jsonl --no-verify --max-body 600000 long.jsonl >/dev/null 2>err2 &&
    test_sql long2.db "SELECT group_concat(gateway_txn_id) FROM payments" >actual &&
    echo L1,L3,L6 >expect &&
    test_cmp expect actual
'

test_done
