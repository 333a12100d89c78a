#!/bin/sh
# t0130-pay-ingest: callbacks recorded exactly once: a duplicate changes
# nothing, a conflict is refused with an event, statuses move forward as
# new payment_status rows and never back, a refund before its charge is
# linked when the charge comes, order states only move forward, an
# unknown order, a charge that differs from the pin and a refund that
# differs from refund-calc's are recorded and flagged, and events that
# move no money are ignored.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
HEADER=gateway,gateway_txn_id,kind,order_id,amount,currency,result,reason
PAY=$FIXTURES/pay
DAIGOU_DB=$TRASH/shop.db
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_DB DAIGOU_NOW

# body TXN KIND ORDER AMOUNT CCY [STATUS [PARENT [REFUND_ID]]]: a generic
# callback ("-" leaves a field out).
body() {
    printf '{"gateway_txn_id": "%s", "kind": "%s"' "$1" "$2"
    [ "$3" = - ] || printf ', "order_id": "%s"' "$3"
    printf ', "amount": "%s", "currency": "%s"' "$4" "$5"
    [ "${6:--}" = - ] || printf ', "status": "%s"' "$6"
    [ "${7:--}" = - ] || printf ', "parent_txn_id": "%s"' "$7"
    [ "${8:--}" = - ] || printf ', "refund_id": "%s"' "$8"
    printf '}\n'
}

# ingest FILE...: the generic gateway without signatures; the warning
# that says so is checked once, below, and dropped here.
ingest() {
    pay-ingest --gateway generic --no-verify "$@" 2>err.all
    ig_rc=$?
    grep -v "^pay-ingest: warning: --no-verify" err.all >err
    return $ig_rc
}

expect_csv() {
    printf '%s\n' "$HEADER" "$@"
}

state() {
    test_sql "$DAIGOU_DB" "SELECT state FROM orders WHERE order_id = ${SQ}$1${SQ}"
}

# snapshot: everything pay-ingest may write.
snapshot() {
    test_sql "$DAIGOU_DB" "SELECT * FROM payments ORDER BY id;
        SELECT * FROM payment_status ORDER BY id;
        SELECT order_id, state FROM orders ORDER BY order_id;
        SELECT * FROM events ORDER BY id"
}

events() {
    test_sql "$DAIGOU_DB" "SELECT tool, kind, subject, detail FROM events
        WHERE kind <> ${SQ}schema_migrated${SQ} ORDER BY id"
}

test_ecb_xml @2026-04-13 JPY 161.29 USD 1.1500 >"$TRASH/r-13.xml"

test_expect_success 'setup: orders of 16500 JPY pinned at 161.29: 102.30 EUR each' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$TRASH/r-13.xml" &&
    for o in A1 A2 A3 A4 A5 A6 ORD-1001 ORD-3001; do
        DAIGOU_NOW=2026-04-13T18:00:00Z \
            order-rate-pin -q --to EUR "$o" 16500 JPY >>out || return 1
    done &&
    test_sql "$DAIGOU_DB" "SELECT DISTINCT converted || to_currency
        FROM order_rates" >actual &&
    echo 10230EUR >expect &&
    test_cmp expect actual
'

test_expect_success '--no-verify says so on every run' '
    body T0 charge X0 1.00 EUR >t0.json &&
    test_expect_code 1 pay-ingest --gateway generic --no-verify --db other.db \
        t0.json >out 2>err &&
    printf "%s\n" "pay-ingest: warning: --no-verify: signatures are not checked; accept payloads only from a source you trust" \
        "pay-ingest: warning: t0.json: generic ${SQ}T0${SQ}: order ${SQ}X0${SQ} is unknown" >expect &&
    test_cmp expect err
'

test_expect_success 'a charge is recorded once and its order is paid' '
    body T1 charge A1 102.30 EUR >t1.json &&
    ingest t1.json >actual &&
    expect_csv "generic,T1,charge,A1,102.30,EUR,recorded,order ${SQ}A1${SQ} pinned -> paid" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    test_sql "$DAIGOU_DB" "SELECT gateway, gateway_txn_id, kind, order_id,
        amount, currency, status, parent_txn_id IS NULL, event_type,
        received_at, refund_id IS NULL FROM payments" >actual &&
    echo "generic|T1|charge|A1|10230|EUR|completed|1|charge|2026-04-15T09:00:00Z|1" >expect &&
    test_cmp expect actual &&
    state A1 >actual &&
    echo paid >expect &&
    test_cmp expect actual
'

test_expect_success 'the same callback again: duplicate, exit 0, nothing changes' '
    body T1 charge A1 102.30 EUR >t1.json &&
    snapshot >before &&
    ingest t1.json >actual &&
    expect_csv "generic,T1,charge,A1,102.30,EUR,duplicate,already recorded" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success 'the same facts in another body (spacing, key order): duplicate' '
    printf "{\"currency\":\"EUR\",\"amount\":\"102.30\",\"order_id\":\"A1\",\n \"kind\":\"charge\",\"gateway_txn_id\":\"T1\"}" >t1b.json &&
    snapshot >before &&
    ingest t1b.json >actual &&
    expect_csv "generic,T1,charge,A1,102.30,EUR,duplicate,already recorded" >expect &&
    test_cmp expect actual &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success 'other facts under the same key: conflict, exit 65, an event, nothing else' '
    body T1 charge A1 102.31 EUR >t1c.json &&
    body T1 charge A2 102.30 EUR >t1d.json &&
    body T1 refund A1 102.30 EUR >t1e.json &&
    snapshot >before &&
    test_expect_code 65 ingest t1c.json t1d.json t1e.json >actual &&
    expect_csv \
        "generic,T1,charge,A1,102.31,EUR,conflict,stored with amount 102.30 EUR, not 102.31 EUR" \
        "generic,T1,charge,A2,102.30,EUR,conflict,stored for order ${SQ}A1${SQ}, not ${SQ}A2${SQ}" \
        "generic,T1,refund,A1,102.30,EUR,conflict,stored as a charge, not a refund" |
        sed "s/,\(stored.*\)\$/,\"\1\"/" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	pay-ingest: t1c.json: generic ${SQ}T1${SQ}: conflict: stored with amount 102.30 EUR, not 102.31 EUR
	pay-ingest: t1d.json: generic ${SQ}T1${SQ}: conflict: stored for order ${SQ}A1${SQ}, not ${SQ}A2${SQ}
	pay-ingest: t1e.json: generic ${SQ}T1${SQ}: conflict: stored as a charge, not a refund
	pay-ingest: 0 recorded, 0 duplicate, 3 conflict, 0 rejected, 0 ignored
	EOF
    test_cmp expect err &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments" >actual &&
    echo 1 >expect &&
    test_cmp expect actual &&
    events >actual &&
    cat >expect <<-EOF &&
	pay-ingest|payment_conflict|T1|generic T1: stored with amount 102.30 EUR, not 102.31 EUR
	pay-ingest|payment_conflict|T1|generic T1: stored for order ${SQ}A1${SQ}, not ${SQ}A2${SQ}
	pay-ingest|payment_conflict|T1|generic T1: stored as a charge, not a refund
	EOF
    test_cmp expect actual &&
    state A1 >actual &&
    echo paid >expect &&
    test_cmp expect actual
'

test_expect_success 'a status moves forward as a new row: pending, then completed' '
    body T2 charge A2 102.30 EUR pending >t2p.json &&
    body T2 charge A2 102.30 EUR completed >t2c.json &&
    ingest t2p.json >actual &&
    expect_csv "generic,T2,charge,A2,102.30,EUR,recorded," >expect &&
    test_cmp expect actual &&
    state A2 >actual &&
    echo pinned >expect &&
    test_cmp expect actual &&
    ingest t2c.json >actual &&
    expect_csv "generic,T2,charge,A2,102.30,EUR,recorded,status pending -> completed; order ${SQ}A2${SQ} pinned -> paid" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT p.status, s.status FROM payments p
        JOIN payment_status s ON s.payment_id = p.id
        WHERE p.gateway_txn_id = ${SQ}T2${SQ}" >actual &&
    echo "pending|completed" >expect &&
    test_cmp expect actual &&
    state A2 >actual &&
    echo paid >expect &&
    test_cmp expect actual
'

test_expect_success 'an older status delivered late: duplicate, the newer kept' '
    body T2 charge A2 102.30 EUR pending >t2p.json &&
    body T2 charge A2 102.30 EUR completed >t2c.json &&
    snapshot >before &&
    ingest t2p.json >actual &&
    expect_csv "generic,T2,charge,A2,102.30,EUR,duplicate,status completed kept: pending is older" >expect &&
    test_cmp expect actual &&
    ingest t2c.json >actual &&
    expect_csv "generic,T2,charge,A2,102.30,EUR,duplicate,already recorded" >expect &&
    test_cmp expect actual &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success 'a status that cannot follow: conflict (a completed charge never fails)' '
    body T2 charge A2 102.30 EUR failed >t2f.json &&
    test_expect_code 65 ingest t2f.json >actual &&
    expect_csv "generic,T2,charge,A2,102.30,EUR,conflict,status failed cannot follow completed" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payment_status;
        SELECT count(*) FROM events WHERE kind = ${SQ}payment_conflict${SQ}" >actual &&
    printf "1\n4\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'a refund before its charge: recorded, then counted when the charge comes' '
    body R3 refund A3 40.00 EUR completed T3 >r3.json &&
    body T3 charge A3 102.30 EUR >t3.json &&
    ingest r3.json >actual &&
    expect_csv "generic,R3,refund,A3,40.00,EUR,recorded," >expect &&
    test_cmp expect actual &&
    state A3 >actual &&
    echo pinned >expect &&
    test_cmp expect actual &&
    ingest t3.json >actual &&
    expect_csv "generic,T3,charge,A3,102.30,EUR,recorded,order ${SQ}A3${SQ} pinned -> partially_refunded" >expect &&
    test_cmp expect actual &&
    state A3 >actual &&
    echo partially_refunded >expect &&
    test_cmp expect actual
'

test_expect_success 'the rest refunded: refunded' '
    body R3b refund A3 62.30 EUR completed T3 >r3b.json &&
    ingest r3b.json >actual &&
    expect_csv "generic,R3b,refund,A3,62.30,EUR,recorded,order ${SQ}A3${SQ} partially_refunded -> refunded" >expect &&
    test_cmp expect actual
'

# stripe_refund STATUS: the refund of stripe-refund-created.json (no
# order: named by its charge only) with another status.
stripe_refund() {
    "$PYTHON3" -c "
import json, sys
d = json.load(open(sys.argv[1]))
d[\"type\"] = \"refund.updated\"
d[\"data\"][\"object\"][\"status\"] = sys.argv[2]
print(json.dumps(d, indent=2))
" "$PAY/stripe-refund-created.json" "$1"
}

test_expect_success 'Stripe: a refund naming only its charge, before the charge: linked when it comes' '
    DAIGOU_NOW=2026-04-13T18:00:00Z \
        order-rate-pin -q --to JPY ORD-1002 16500 JPY >/dev/null &&
    stripe_refund succeeded >re.json &&
    pay-ingest --gateway stripe --no-verify re.json >actual 2>err &&
    expect_csv "stripe,re_3PZkNqF2eZvKYlo22pQrStUv,refund,,5500,JPY,recorded," >expect &&
    test_cmp expect actual &&
    state ORD-1002 >actual &&
    echo pinned >expect &&
    test_cmp expect actual &&
    pay-ingest --gateway stripe --no-verify \
        "$PAY/stripe-charge-succeeded-jpy.json" >actual 2>err &&
    expect_csv "stripe,ch_3PZkNqF2eZvKYlo22jPnYenA,charge,ORD-1002,16500,JPY,recorded,order ${SQ}ORD-1002${SQ} pinned -> partially_refunded" >expect &&
    test_cmp expect actual &&
    pay-ingest --gateway stripe --no-verify \
        "$PAY/stripe-refund-created.json" >actual 2>err &&
    expect_csv "stripe,re_3PZkNqF2eZvKYlo22pQrStUv,refund,,5500,JPY,duplicate,status completed kept: pending is older" >expect &&
    test_cmp expect actual &&
    stripe_refund failed >ref.json &&
    pay-ingest --gateway stripe --no-verify ref.json >actual 2>err &&
    expect_csv "stripe,re_3PZkNqF2eZvKYlo22pQrStUv,refund,,5500,JPY,recorded,status completed -> failed" >expect &&
    test_cmp expect actual &&
    state ORD-1002 >actual &&
    echo partially_refunded >expect &&
    test_cmp expect actual
'

test_expect_success 'any order of the same deliveries gives the same state' '
    body R4 refund A4 102.30 EUR pending T4 >r4p.json &&
    body R4 refund A4 102.30 EUR completed T4 >r4c.json &&
    body T4 charge A4 102.30 EUR pending >t4p.json &&
    body T4 charge A4 102.30 EUR completed >t4c.json &&
    for perm in "r4c t4p r4p t4c" "t4c r4c t4p r4p" "r4p r4c t4c t4p" \
                "t4p t4c r4p r4c"; do
        rm -f "$DAIGOU_DB" "$DAIGOU_DB-wal" "$DAIGOU_DB-shm" &&
        DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$TRASH/r-13.xml" &&
        DAIGOU_NOW=2026-04-13T18:00:00Z \
            order-rate-pin -q --to EUR A4 16500 JPY >/dev/null &&
        for f in $perm; do
            ingest "$f.json" >/dev/null || return 1
        done &&
        test_sql "$DAIGOU_DB" "SELECT state FROM orders;
            SELECT count(*) FROM payments; SELECT count(*) FROM payment_status" >actual &&
        printf "refunded\n2\n" >expect &&
        head -n 2 actual >actual.2 &&
        test_cmp expect actual.2 || return 1
    done
'

test_expect_success 'setup again: the orders, A1 paid' '
    rm -f "$DAIGOU_DB" "$DAIGOU_DB-wal" "$DAIGOU_DB-shm" &&
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --file "$TRASH/r-13.xml" &&
    for o in A1 A2 A3 A5 A6 ORD-1001 ORD-3001; do
        DAIGOU_NOW=2026-04-13T18:00:00Z \
            order-rate-pin -q --to EUR "$o" 16500 JPY >/dev/null || return 1
    done &&
    body T1 charge A1 102.30 EUR >t1.json &&
    ingest t1.json >/dev/null
'

test_expect_success 'order states never go back: a refunded or cancelled order stays' '
    body R5 refund A1 102.30 EUR completed T1 >r5.json &&
    body T5 charge A1 102.30 EUR >t5.json &&
    body T6 charge A5 102.30 EUR >t6.json &&
    ingest r5.json >actual &&
    expect_csv "generic,R5,refund,A1,102.30,EUR,recorded,order ${SQ}A1${SQ} paid -> refunded" >expect &&
    test_cmp expect actual &&
    ingest t5.json >actual &&
    expect_csv "generic,T5,charge,A1,102.30,EUR,recorded," >expect &&
    test_cmp expect actual &&
    state A1 >actual &&
    echo refunded >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "UPDATE orders SET state = ${SQ}cancelled${SQ}
        WHERE order_id = ${SQ}A5${SQ}" &&
    ingest t6.json >actual &&
    expect_csv "generic,T6,charge,A5,102.30,EUR,recorded," >expect &&
    test_cmp expect actual &&
    state A5 >actual &&
    echo cancelled >expect &&
    test_cmp expect actual
'

test_expect_success 'an unknown order: recorded, flagged with an event, exit 1' '
    body T7 charge NOPE 10.00 EUR >t7.json &&
    test_expect_code 1 ingest t7.json >actual &&
    expect_csv "generic,T7,charge,NOPE,10.00,EUR,recorded,order ${SQ}NOPE${SQ} is unknown" >expect &&
    test_cmp expect actual &&
    echo "pay-ingest: warning: t7.json: generic ${SQ}T7${SQ}: order ${SQ}NOPE${SQ} is unknown" >expect &&
    test_cmp expect err &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments WHERE gateway_txn_id = ${SQ}T7${SQ}" >actual &&
    echo 1 >expect &&
    test_cmp expect actual &&
    events | tail -n 1 >actual &&
    echo "pay-ingest|payment_unknown_order|T7|generic T7: order ${SQ}NOPE${SQ} is unknown" >expect &&
    test_cmp expect actual &&
    ingest t7.json >actual &&
    expect_csv "generic,T7,charge,NOPE,10.00,EUR,duplicate,already recorded" >expect &&
    test_cmp expect actual
'

test_expect_success 'a charge that differs from the pinned charge: recorded, flagged, exit 1' '
    body T8 charge A6 99.85 EUR >t8.json &&
    body T9 charge A2 102.30 USD >t9.json &&
    test_expect_code 1 ingest t8.json t9.json >actual &&
    expect_csv "generic,T8,charge,A6,99.85,EUR,recorded,charge 99.85 EUR differs from the pinned charge 102.30 EUR of order ${SQ}A6${SQ}" \
        "generic,T9,charge,A2,102.30,USD,recorded,charge 102.30 USD differs from the pinned charge 102.30 EUR of order ${SQ}A2${SQ}" >expect &&
    test_cmp expect actual &&
    events | tail -n 2 >actual &&
    cat >expect <<-EOF &&
	pay-ingest|payment_mismatch|T8|generic T8: charge 99.85 EUR differs from the pinned charge 102.30 EUR of order ${SQ}A6${SQ}
	pay-ingest|payment_mismatch|T9|generic T9: charge 102.30 USD differs from the pinned charge 102.30 EUR of order ${SQ}A2${SQ}
	EOF
    test_cmp expect actual &&
    state A6 >actual &&
    state A2 >>actual &&
    printf "pinned\npinned\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'the seed: refund-calc owes 102.30, the gateway paid 99.85: flagged, exit 1' '
    DAIGOU_NOW=2026-04-15T08:00:00Z refund-calc -q --record \
        --refund-id RF-3001-1 --all ORD-3001 >rc.out &&
    cut -d, -f2,5,6 rc.out | tail -n 1 >actual &&
    echo "RF-3001-1,102.30,EUR" >expect &&
    test_cmp expect actual &&
    ingest "$PAY/generic-charge.json" >actual &&
    test_expect_code 1 ingest "$PAY/generic-refund.json" >actual &&
    expect_csv "generic,TX-77002,refund,ORD-3001,99.85,EUR,recorded,refund ${SQ}RF-3001-1${SQ} paid 99.85 EUR where 102.30 EUR was owed" >expect &&
    test_cmp expect actual &&
    echo "pay-ingest: warning: $PAY/generic-refund.json: generic ${SQ}TX-77002${SQ}: refund ${SQ}RF-3001-1${SQ} paid 99.85 EUR where 102.30 EUR was owed" >expect &&
    test_cmp expect err &&
    events | tail -n 1 >actual &&
    echo "pay-ingest|refund_mismatch|TX-77002|generic TX-77002: refund ${SQ}RF-3001-1${SQ} paid 99.85 EUR where 102.30 EUR was owed" >expect &&
    test_cmp expect actual
'

test_expect_success 'a refund that pays what refund-calc owes is not flagged' '
    DAIGOU_NOW=2026-04-15T08:00:00Z refund-calc -q --record \
        --refund-id RF-A3 --charge-amount 40.00 A3 >/dev/null &&
    body T10 charge A3 102.30 EUR >t10.json &&
    body R10 refund A3 40.00 EUR completed T10 RF-A3 >r10.json &&
    ingest t10.json r10.json >actual &&
    tail -n 1 actual | cut -d, -f2,7 >actual.r &&
    echo "R10,recorded" >expect &&
    test_cmp expect actual.r &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM events
        WHERE kind = ${SQ}refund_mismatch${SQ}" >actual &&
    echo 1 >expect &&
    test_cmp expect actual
'

test_expect_success 'a parent missing on one delivery is not a conflict' '
    body R11 refund A3 5.00 EUR completed T10 >r11a.json &&
    body R11 refund A3 5.00 EUR completed - >r11b.json &&
    ingest r11a.json >/dev/null &&
    ingest r11b.json >actual &&
    expect_csv "generic,R11,refund,A3,5.00,EUR,duplicate,already recorded" >expect &&
    test_cmp expect actual
'

test_expect_success 'Stripe: one charge as charge.succeeded and payment_intent.succeeded counts once' '
    pay-ingest --gateway stripe --no-verify \
        "$PAY/stripe-charge-succeeded.json" \
        "$PAY/stripe-payment-intent-succeeded.json" >actual 2>err &&
    cut -d, -f1-7 actual >actual.c &&
    expect_csv "stripe,ch_3PZkLmF2eZvKYlo21aBcDeFg,charge,ORD-1001,102.30,EUR,recorded" \
        "stripe,ch_3PZkLmF2eZvKYlo21aBcDeFg,charge,ORD-1001,102.30,EUR,duplicate" |
        cut -d, -f1-7 >expect &&
    test_cmp expect actual.c &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM payments WHERE gateway = ${SQ}stripe${SQ};
        SELECT state FROM orders WHERE order_id = ${SQ}ORD-1001${SQ}" >actual &&
    printf "1\npaid\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'an event that moves no money: ignored, exit 0, nothing written' '
    snapshot >before &&
    pay-ingest --gateway stripe --no-verify \
        "$PAY/stripe-customer-created.json" >actual 2>err &&
    cut -d, -f1-7 actual >actual.c &&
    expect_csv "stripe,,,,,,ignored" | cut -d, -f1-7 >expect &&
    test_cmp expect actual.c &&
    grep -q "customer.created" actual &&
    snapshot >after &&
    test_cmp before after
'

test_expect_success '--json: one object per row, amounts as strings' '
    body T1 charge A1 102.30 EUR >t1.json &&
    ingest --json t1.json >actual &&
    echo "{\"gateway\":\"generic\",\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"A1\",\"amount\":\"102.30\",\"currency\":\"EUR\",\"result\":\"duplicate\",\"reason\":\"already recorded\"}" >expect &&
    test_cmp expect actual
'

test_expect_success 'the file stays whole' '
    test_sql "$DAIGOU_DB" "PRAGMA integrity_check; PRAGMA foreign_key_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual
'

test_done
