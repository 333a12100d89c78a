#!/bin/sh
# t0110-order-rate-pin: pinning one order given as arguments: the seed
# incident (102.30 EUR stays 102.30 EUR after the rate moves), direct,
# inverse and cross conversions, 0-, 2- and 3-decimal currencies, both
# rounding modes on exact ties, the effective rate column, --base,
# identity, the age of the rate over weekends and Easter, --preview, and
# usage and data errors. Every expected amount and rate is computed here
# with python3's fractions module, never with the tool or its library.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
HEADER=order_id,amount,currency,charge_amount,charge_currency,rate,base_amount,base_currency,base_rate,rate_as_of,pinned_at,status

# The seed incident's database; the other topics have their own.
DAIGOU_DB=$TRASH/pin.db
export DAIGOU_DB
# shellcheck disable=SC2034 # used inside the test bodies
FX=$TRASH/fx.db
# shellcheck disable=SC2034 # used inside the test bodies
TIE=$TRASH/tie.db
# shellcheck disable=SC2034 # used inside the test bodies
AGE=$TRASH/age.db
# The default clock: the evening of Monday 13 April 2026, after the ECB's
# publication of the day.
DAIGOU_NOW=2026-04-13T18:00:00Z
export DAIGOU_NOW

# check_rate PRINTED MUL DIV: the contract alone: PRINTED is MUL / DIV
# exactly, or has at least 12 significant digits and is within half a
# unit of its last digit.
check_rate() {
    "$PYTHON3" -c '
import sys
from fractions import Fraction as F
p, mul, div = sys.argv[1:]
q = F(mul) / F(div)
if F(p) == q:
    sys.exit(0)
sig = len(p.replace(".", "").lstrip("0"))
dec = len(p.split(".")[1]) if "." in p else 0
if sig < 12:
    sys.exit("check_rate: %s has %d significant digits, not 12" % (p, sig))
if abs(F(p) - q) > F(1, 2 * 10 ** dec):
    sys.exit("check_rate: %s is not %s / %s = %r" % (p, mul, div, q))
' "$@"
}

# expect_csv LINE...: the CSV header and the rows.
expect_csv() {
    printf '%s\n' "$HEADER" "$@"
}

# stored DB ORDER_ID: what a pin stored: the order, its items, its
# order_rates rows and the quotes (rates rows) they point at.
stored() {
    test_sql "$1" "
        SELECT 'order', order_id, amount, currency, charge_currency,
            base_currency, state, created_at
        FROM orders WHERE order_id = '$2';
        SELECT 'item', line, coalesce(sku, '-'), qty, amount
        FROM order_items WHERE order_id = '$2' ORDER BY line;
        SELECT 'rate', kind, from_currency, to_currency, amount, converted,
            method,
            CASE method WHEN 'identity' THEN '' ELSE provider END,
            mul_rate, div_rate, effective_rate, rounding, rate_as_of,
            pinned_at
        FROM order_rates WHERE order_id = '$2' ORDER BY kind;
        SELECT 'leg', o.kind,
            m.provider || ' ' || m.base || '/' || m.quote || ' ' || m.rate
                || ' ' || m.as_of,
            d.provider || ' ' || d.base || '/' || d.quote || ' ' || d.rate
                || ' ' || d.as_of
        FROM order_rates o
            LEFT JOIN rates m ON m.id = o.mul_rate_id
            LEFT JOIN rates d ON d.id = o.div_rate_id
        WHERE o.order_id = '$2' ORDER BY o.kind"
}

# counts DB: "orders|order_items|order_rates" row counts.
counts() {
    test_sql "$1" "SELECT (SELECT count(*) FROM orders),
        (SELECT count(*) FROM order_items), (SELECT count(*) FROM order_rates)"
}

# snapshot DB: every row order-rate-pin may write, events aside.
snapshot() {
    test_sql "$1" "SELECT * FROM orders ORDER BY order_id;
        SELECT * FROM order_items ORDER BY order_id, line;
        SELECT * FROM order_rates ORDER BY id"
}

# events DB: the events but the migration, one a line.
events() {
    test_sql "$1" "SELECT tool, kind, subject FROM events
        WHERE kind <> 'schema_migrated' ORDER BY id"
}

# The documents, all in $TRASH.
test_ecb_xml @2026-04-13 JPY 161.29 >"$TRASH/seed-13.xml"
test_ecb_xml @2026-04-14 JPY 165.25 >"$TRASH/seed-14.xml"
test_ecb_xml @2026-04-13 USD 1.1684 JPY 161.29 GBP 0.87058 CNY 7.9827 \
    KRW 1740.86 >"$TRASH/fx-13.xml"
# The ECB publishes no KWD or BHD: a JSON provider (Fixer's shape) does.
printf '%s\n' '{"base":"EUR","date":"2026-04-13","rates":{"KWD":0.3561,"BHD":0.4389,"JPY":161.29}}' \
    >"$TRASH/gulf.json"
# Rates that make exact ties, and effective rates of known length:
# 1/16.777216 = 0.059604644775390625 (17 significant digits),
# 1/67.108864 = 0.01490116119384765625 (19).
test_ecb_xml @2026-04-13 JPY 100.5 USD 1.25 GBP 0.4 ZAR 16.777216 \
    HUF 67.108864 >"$TRASH/tie-13.xml"
# Easter 2026: Good Friday 3 April and Easter Monday 6 April are TARGET
# holidays without a quote; Thursday 2 April is the last before Easter.
test_ecb_xml @2026-04-01 JPY 160.95 USD 1.0800 @2026-04-02 JPY 161.40 \
    USD 1.0810 >"$TRASH/age-02.xml"
test_ecb_xml @2026-04-07 JPY 161.80 @2026-04-08 JPY 162.10 @2026-04-09 \
    JPY 161.90 @2026-04-10 JPY 162.35 >"$TRASH/age-10.xml"

# ------------------------------------------------------------ the seed

test_expect_success 'setup: EUR/JPY 161.29 of 2026-04-13' '
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --file "$TRASH/seed-13.xml"
'

test_expect_success 'the seed: 16500 JPY is charged 102.30 EUR, pinned' '
    test "$(expect_convert 16500 0 2 1 161.29 half-up)" = 102.30 &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin --to EUR A1 16500 JPY \
        >actual 2>err &&
    expect_csv "A1,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    stored "$DAIGOU_DB" A1 >actual &&
    cat >expect <<-EOF &&
	order|A1|16500|JPY|EUR||pinned|2026-04-13T18:00:00Z
	item|1|-|1|16500
	rate|charge|JPY|EUR|16500|10230|inverse|ecb||161.29|$(expect_rate 1 161.29)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|charge||ecb EUR/JPY 161.29 2026-04-13
	EOF
    test_cmp expect actual &&
    counts "$DAIGOU_DB" >actual &&
    echo "1|1|1" >expect &&
    test_cmp expect actual
'

test_expect_success 'EUR/JPY 165.25 arrives: A1 still reads 102.30 (existing), A2 pins 99.85' '
    DAIGOU_NOW=2026-04-14T16:10:02Z rate-fetch -q --max-jump 5 \
        --file "$TRASH/seed-14.xml" &&
    stored "$DAIGOU_DB" A1 >before &&
    DAIGOU_NOW=2026-04-14T18:30:00Z order-rate-pin --to EUR A1 16500 JPY \
        >actual 2>err &&
    expect_csv "A1,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),,,,2026-04-13,2026-04-13T18:00:00Z,existing" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    stored "$DAIGOU_DB" A1 >after &&
    test_cmp before after &&
    test "$(expect_convert 16500 0 2 1 165.25 half-up)" = 99.85 &&
    DAIGOU_NOW=2026-04-14T18:00:00Z order-rate-pin --to EUR A2 16500 JPY \
        >actual 2>err &&
    expect_csv "A2,16500,JPY,99.85,EUR,$(expect_rate 1 165.25),,,,2026-04-14,2026-04-14T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    stored "$DAIGOU_DB" A2 >actual &&
    cat >expect <<-EOF &&
	order|A2|16500|JPY|EUR||pinned|2026-04-14T18:00:00Z
	item|1|-|1|16500
	rate|charge|JPY|EUR|16500|9985|inverse|ecb||165.25|$(expect_rate 1 165.25)|half-up|2026-04-14|2026-04-14T18:00:00Z
	leg|charge||ecb EUR/JPY 165.25 2026-04-14
	EOF
    test_cmp expect actual &&
    counts "$DAIGOU_DB" >actual &&
    echo "2|2|2" >expect &&
    test_cmp expect actual
'

test_expect_success 'existing: --created-at is not content; --json prints the stored pin' '
    snapshot "$DAIGOU_DB" >before &&
    DAIGOU_NOW=2026-04-15T09:00:00Z order-rate-pin \
        --created-at 2026-04-15T08:59:00Z --to EUR A1 16500 JPY >actual &&
    expect_csv "A1,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),,,,2026-04-13,2026-04-13T18:00:00Z,existing" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-15T09:00:00Z order-rate-pin --json --to EUR A1 16500 JPY \
        >actual &&
    printf "%s\n" "{\"order_id\":\"A1\",\"amount\":\"16500\",\"currency\":\"JPY\",\"charge_amount\":\"102.30\",\"charge_currency\":\"EUR\",\"rate\":\"$(expect_rate 1 161.29)\",\"base_amount\":null,\"base_currency\":null,\"base_rate\":null,\"rate_as_of\":\"2026-04-13\",\"pinned_at\":\"2026-04-13T18:00:00Z\",\"status\":\"existing\"}" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-15T09:00:00Z order-rate-pin --json --to EUR A2 16500 JPY \
        >actual &&
    printf "%s\n" "{\"order_id\":\"A2\",\"amount\":\"16500\",\"currency\":\"JPY\",\"charge_amount\":\"99.85\",\"charge_currency\":\"EUR\",\"rate\":\"$(expect_rate 1 165.25)\",\"base_amount\":null,\"base_currency\":null,\"base_rate\":null,\"rate_as_of\":\"2026-04-14\",\"pinned_at\":\"2026-04-14T18:00:00Z\",\"status\":\"existing\"}" >expect &&
    test_cmp expect actual &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success 'A1 with other contents: 65, nothing changed, a pin_conflict event' '
    snapshot "$DAIGOU_DB" >before &&
    echo "order-rate-pin: order ${SQ}A1${SQ} is already stored with other contents: nothing changed" >expect &&
    test_expect_code 65 order-rate-pin --to EUR A1 16600 JPY >out 2>err &&
    test_cmp expect err &&
    ! grep "^A1," out &&
    test_expect_code 65 order-rate-pin --to USD A1 16500 JPY >out 2>err &&
    test_cmp expect err &&
    ! grep "^A1," out &&
    test_expect_code 65 order-rate-pin --to EUR --base JPY A1 16500 JPY \
        >out 2>err &&
    test_cmp expect err &&
    ! grep "^A1," out &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after &&
    events "$DAIGOU_DB" >actual &&
    cat >expect <<-\EOF &&
	order-rate-pin|pin_conflict|A1
	order-rate-pin|pin_conflict|A1
	order-rate-pin|pin_conflict|A1
	EOF
    test_cmp expect actual
'

# ------------------------------------------------------------ --preview

test_expect_success '--preview stores nothing; status preview, no pinned_at' '
    counts "$DAIGOU_DB" >actual &&
    echo "2|2|2" >expect &&
    test_cmp expect actual &&
    snapshot "$DAIGOU_DB" >before &&
    events "$DAIGOU_DB" >events.before &&
    DAIGOU_NOW=2026-04-14T19:00:00Z order-rate-pin --preview --to EUR \
        P1 16500 JPY >actual 2>err &&
    expect_csv "P1,16500,JPY,99.85,EUR,$(expect_rate 1 165.25),,,,2026-04-14,,preview" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    DAIGOU_NOW=2026-04-14T19:00:00Z order-rate-pin --preview \
        --created-at 2026-04-13T20:00:00Z --to EUR P1 16500 JPY >actual &&
    expect_csv "P1,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),,,,2026-04-13,,preview" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-14T19:00:00Z order-rate-pin --preview --json \
        --provider ecb-hist --to EUR P1 16500 JPY >actual &&
    printf "%s\n" "{\"order_id\":\"P1\",\"amount\":\"16500\",\"currency\":\"JPY\",\"charge_amount\":\"99.85\",\"charge_currency\":\"EUR\",\"rate\":\"$(expect_rate 1 165.25)\",\"base_amount\":null,\"base_currency\":null,\"base_rate\":null,\"rate_as_of\":\"2026-04-14\",\"pinned_at\":null,\"status\":\"preview\"}" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-14T19:00:00Z order-rate-pin --preview --to EUR \
        A1 16500 JPY >actual &&
    expect_csv "A1,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),,,,2026-04-13,2026-04-13T18:00:00Z,existing" >expect &&
    test_cmp expect actual &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after &&
    events "$DAIGOU_DB" >events.after &&
    test_cmp events.before events.after &&
    counts "$DAIGOU_DB" >actual &&
    echo "2|2|2" >expect &&
    test_cmp expect actual
'

test_expect_success '--preview on a missing database: 66, nothing created' '
    test_expect_code 66 order-rate-pin --preview --db nowhere.db --to EUR \
        P2 16500 JPY >out 2>err &&
    echo "order-rate-pin: cannot open database ${SQ}nowhere.db${SQ}: no such file" >expect &&
    test_cmp expect err &&
    ! grep "^P2," out &&
    test ! -e nowhere.db &&
    test ! -e nowhere.db-wal &&
    test ! -e nowhere.db-shm &&
    test ! -e nowhere.db-journal
'

# ------------------------------------------------------------ conversions

test_expect_success 'setup: ECB quotes of 2026-04-13 and a JSON provider for KWD and BHD' '
    head -n 1 "$FIXTURES/ecb/eurofxref-hist.csv" >hdr &&
    ! grep -e KWD -e BHD hdr &&
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --db "$FX" \
        --file "$TRASH/fx-13.xml" &&
    DAIGOU_NOW=2026-04-13T16:20:00Z rate-fetch -q --db "$FX" \
        --provider json --file "$TRASH/gulf.json"
'

test_expect_success 'direct (EUR->JPY) multiplies, inverse (USD->EUR) divides' '
    order-rate-pin --db "$FX" --to JPY X1 123.45 EUR >actual 2>err &&
    expect_csv "X1,123.45,EUR,$(expect_convert 12345 2 0 161.29 1 half-up),JPY,161.29,,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    test_must_be_empty err &&
    order-rate-pin --db "$FX" --to EUR X2 250.00 USD >actual &&
    expect_csv "X2,250.00,USD,$(expect_convert 25000 2 2 1 1.1684 half-up),EUR,$(expect_rate 1 1.1684),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    { stored "$FX" X1 && stored "$FX" X2; } >actual &&
    cat >expect <<-EOF &&
	order|X1|12345|EUR|JPY||pinned|2026-04-13T18:00:00Z
	item|1|-|1|12345
	rate|charge|EUR|JPY|12345|$(expect_convert 12345 2 0 161.29 1 half-up)|direct|ecb|161.29||161.29|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|charge|ecb EUR/JPY 161.29 2026-04-13|
	order|X2|25000|USD|EUR||pinned|2026-04-13T18:00:00Z
	item|1|-|1|25000
	rate|charge|USD|EUR|25000|$(expect_convert 25000 2 2 1 1.1684 half-up | tr -d .)|inverse|ecb||1.1684|$(expect_rate 1 1.1684)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|charge||ecb EUR/USD 1.1684 2026-04-13
	EOF
    test_cmp expect actual
'

test_expect_success 'cross through EUR: JPY->USD and CNY->GBP' '
    order-rate-pin --db "$FX" --to USD X3 16500 JPY >actual &&
    expect_csv "X3,16500,JPY,$(expect_convert 16500 0 2 1.1684 161.29 half-up),USD,$(expect_rate 1.1684 161.29),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --to GBP X4 1288.00 CNY >actual &&
    expect_csv "X4,1288.00,CNY,$(expect_convert 128800 2 2 0.87058 7.9827 half-up),GBP,$(expect_rate 0.87058 7.9827),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    { stored "$FX" X3 && stored "$FX" X4; } >actual &&
    cat >expect <<-EOF &&
	order|X3|16500|JPY|USD||pinned|2026-04-13T18:00:00Z
	item|1|-|1|16500
	rate|charge|JPY|USD|16500|$(expect_convert 16500 0 2 1.1684 161.29 half-up | tr -d .)|cross|ecb|1.1684|161.29|$(expect_rate 1.1684 161.29)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|charge|ecb EUR/USD 1.1684 2026-04-13|ecb EUR/JPY 161.29 2026-04-13
	order|X4|128800|CNY|GBP||pinned|2026-04-13T18:00:00Z
	item|1|-|1|128800
	rate|charge|CNY|GBP|128800|$(expect_convert 128800 2 2 0.87058 7.9827 half-up | tr -d .)|cross|ecb|0.87058|7.9827|$(expect_rate 0.87058 7.9827)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|charge|ecb EUR/GBP 0.87058 2026-04-13|ecb EUR/CNY 7.9827 2026-04-13
	EOF
    test_cmp expect actual
'

test_expect_success '3-decimal currencies: the ECB has no KWD (69); a json provider has' '
    test_expect_code 69 order-rate-pin --db "$FX" --to KWD K0 102.30 EUR \
        >out 2>err &&
    echo "order-rate-pin: order ${SQ}K0${SQ}: no ecb rate for EUR/KWD on or before 2026-04-13" >expect &&
    test_cmp expect err &&
    ! grep "^K0," out &&
    order-rate-pin --db "$FX" --provider json --to KWD K1 102.30 EUR >actual &&
    expect_csv "K1,102.30,EUR,$(expect_convert 10230 2 3 0.3561 1 half-up),KWD,0.3561,,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --provider json --to EUR K2 1.25 KWD >actual &&
    expect_csv "K2,1.250,KWD,$(expect_convert 1250 3 2 1 0.3561 half-up),EUR,$(expect_rate 1 0.3561),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --provider json --to BHD K3 1.250 KWD >actual &&
    expect_csv "K3,1.250,KWD,$(expect_convert 1250 3 3 0.4389 0.3561 half-up),BHD,$(expect_rate 0.4389 0.3561),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --provider json --to KWD K4 16500 JPY >actual &&
    expect_csv "K4,16500,JPY,$(expect_convert 16500 0 3 0.3561 161.29 half-up),KWD,$(expect_rate 0.3561 161.29),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --provider json --to JPY K5 36.429 KWD >actual &&
    expect_csv "K5,36.429,KWD,$(expect_convert 36429 3 0 161.29 0.3561 half-up),JPY,$(expect_rate 161.29 0.3561),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    { stored "$FX" K2 && stored "$FX" K3; } >actual &&
    cat >expect <<-EOF &&
	order|K2|1250|KWD|EUR||pinned|2026-04-13T18:00:00Z
	item|1|-|1|1250
	rate|charge|KWD|EUR|1250|$(expect_convert 1250 3 2 1 0.3561 half-up | tr -d .)|inverse|json||0.3561|$(expect_rate 1 0.3561)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|charge||json EUR/KWD 0.3561 2026-04-13
	order|K3|1250|KWD|BHD||pinned|2026-04-13T18:00:00Z
	item|1|-|1|1250
	rate|charge|KWD|BHD|1250|$(expect_convert 1250 3 3 0.4389 0.3561 half-up | tr -d .)|cross|json|0.4389|0.3561|$(expect_rate 0.4389 0.3561)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|charge|json EUR/BHD 0.4389 2026-04-13|json EUR/KWD 0.3561 2026-04-13
	EOF
    test_cmp expect actual
'

test_expect_success '--base: base_amount, base_currency and base_rate' '
    order-rate-pin --db "$FX" --to USD --base EUR B1 16500 JPY >actual &&
    expect_csv "B1,16500,JPY,$(expect_convert 16500 0 2 1.1684 161.29 half-up),USD,$(expect_rate 1.1684 161.29),102.30,EUR,$(expect_rate 1 161.29),2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    stored "$FX" B1 >actual &&
    cat >expect <<-EOF &&
	order|B1|16500|JPY|USD|EUR|pinned|2026-04-13T18:00:00Z
	item|1|-|1|16500
	rate|base|JPY|EUR|16500|10230|inverse|ecb||161.29|$(expect_rate 1 161.29)|half-up|2026-04-13|2026-04-13T18:00:00Z
	rate|charge|JPY|USD|16500|$(expect_convert 16500 0 2 1.1684 161.29 half-up | tr -d .)|cross|ecb|1.1684|161.29|$(expect_rate 1.1684 161.29)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|base||ecb EUR/JPY 161.29 2026-04-13
	leg|charge|ecb EUR/USD 1.1684 2026-04-13|ecb EUR/JPY 161.29 2026-04-13
	EOF
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --to EUR --base JPY B2 16500 JPY >actual &&
    expect_csv "B2,16500,JPY,102.30,EUR,$(expect_rate 1 161.29),16500,JPY,1,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    stored "$FX" B2 >actual &&
    cat >expect <<-EOF &&
	order|B2|16500|JPY|EUR|JPY|pinned|2026-04-13T18:00:00Z
	item|1|-|1|16500
	rate|base|JPY|JPY|16500|16500|identity||||1|half-up||2026-04-13T18:00:00Z
	rate|charge|JPY|EUR|16500|10230|inverse|ecb||161.29|$(expect_rate 1 161.29)|half-up|2026-04-13|2026-04-13T18:00:00Z
	leg|base||
	leg|charge||ecb EUR/JPY 161.29 2026-04-13
	EOF
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --provider json --to JPY --base KWD \
        B3 102.30 EUR >actual &&
    expect_csv "B3,102.30,EUR,$(expect_convert 10230 2 0 161.29 1 half-up),JPY,161.29,$(expect_convert 10230 2 3 0.3561 1 half-up),KWD,0.3561,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual
'

test_expect_success 'identity: JPY charged in JPY, rate 1, no rate_as_of' '
    order-rate-pin --db "$FX" --to JPY I1 16500 JPY >actual &&
    expect_csv "I1,16500,JPY,16500,JPY,1,,,,,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    order-rate-pin --db "$FX" --to EUR I2 102.30 EUR >actual &&
    expect_csv "I2,102.30,EUR,102.30,EUR,1,,,,,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    stored "$FX" I1 >actual &&
    cat >expect <<-\EOF &&
	order|I1|16500|JPY|JPY||pinned|2026-04-13T18:00:00Z
	item|1|-|1|16500
	rate|charge|JPY|JPY|16500|16500|identity||||1|half-up||2026-04-13T18:00:00Z
	leg|charge||
	EOF
    test_cmp expect actual &&
    order-rate-pin --db noquotes.db --to JPY I3 16500 JPY >actual &&
    expect_csv "I3,16500,JPY,16500,JPY,1,,,,,2026-04-13T18:00:00Z,pinned" >expect &&
    test_cmp expect actual
'

test_expect_success 'a conversion that rounds to 0 is refused: 65, nothing stored' '
    snapshot "$FX" >before &&
    test_expect_code 65 order-rate-pin --db "$FX" --to EUR Z1 1 KRW >out 2>err &&
    echo "order-rate-pin: amount: 1 KRW converts to 0.00 EUR" >expect &&
    test_cmp expect err &&
    ! grep "^Z1," out &&
    snapshot "$FX" >after &&
    test_cmp before after
'

# ------------------------------------------------------------ rounding

test_expect_success 'setup: rates that make exact ties' '
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --db "$TIE" \
        --file "$TRASH/tie-13.xml"
'

test_expect_success 'exact ties: half-up away from zero (default), half-even to even' '
    # id amount currency to minor from_exp to_exp mul div mode option
    for t in "T1 1.00 EUR JPY 100 2 0 100.5 1 half-up -" \
        "T2 1.00 EUR JPY 100 2 0 100.5 1 half-even --rounding=half-even" \
        "T3 3.00 EUR JPY 300 2 0 100.5 1 half-even --rounding=half-even" \
        "T4 0.10 EUR USD 10 2 2 1.25 1 half-up --rounding=half-up" \
        "T5 0.10 EUR USD 10 2 2 1.25 1 half-even --rounding=half-even" \
        "T6 0.01 GBP EUR 1 2 2 1 0.4 half-up -" \
        "T7 0.01 GBP EUR 1 2 2 1 0.4 half-even --rounding=half-even" \
        "T8 1.25 USD JPY 125 2 0 100.5 1.25 half-up -" \
        "T9 1.25 USD JPY 125 2 0 100.5 1.25 half-even --rounding=half-even"; do
        set -- $t &&
        if [ "${11}" = - ]; then
            order-rate-pin --db "$TIE" --to "$4" "$1" "$2" "$3" >actual
        else
            order-rate-pin --db "$TIE" "${11}" --to "$4" "$1" "$2" "$3" >actual
        fi &&
        expect_csv "$1,$2,$3,$(expect_convert "$5" "$6" "$7" "$8" "$9" "${10}"),$4,$(expect_rate "$8" "$9"),,,,2026-04-13,2026-04-13T18:00:00Z,pinned" >expect &&
        test_cmp expect actual || exit 1
    done &&
    # The ties are real: the two modes differ where the lower neighbour
    # is even (T1/T2, T4/T5, T6/T7, T8/T9) and agree where it is odd (T3).
    test_sql "$TIE" "SELECT order_id, method, converted, rounding FROM order_rates WHERE order_id GLOB ${SQ}T*${SQ} ORDER BY order_id" >actual &&
    cat >expect <<-\EOF &&
	T1|direct|101|half-up
	T2|direct|100|half-even
	T3|direct|302|half-even
	T4|direct|13|half-up
	T5|direct|12|half-even
	T6|inverse|3|half-up
	T7|inverse|2|half-even
	T8|cross|101|half-up
	T9|cross|100|half-even
	EOF
    test_cmp expect actual
'

# ------------------------------------------------------------ effective rate

test_expect_success 'the rate column: exact when it terminates, else 12+ significant digits' '
    # mul div id amount currency to, and the rate shown
    for t in "1 161.29 R1 16500 JPY EUR 0.00620001240002480 $DAIGOU_DB" \
        "1 100.5 R2 16500 JPY EUR 0.00995024875621891 $TIE" \
        "100.5 1 R3 10.00 EUR JPY 100.5 $TIE" \
        "0.4 1.25 R4 10.00 USD GBP 0.32 $TIE" \
        "1 0.4 R5 10.00 GBP EUR 2.5 $TIE" \
        "1 16.777216 R6 10.00 ZAR EUR 0.059604644775390625 $TIE" \
        "1 67.108864 R7 10.00 HUF EUR 0.0149011611938477 $TIE"; do
        set -- $t &&
        DAIGOU_NOW=2026-04-13T19:00:00Z order-rate-pin --db "$8" --preview \
            --to "$6" "$3" "$4" "$5" >out &&
        sed -n 2p out | cut -d, -f6 >actual &&
        echo "$7" >expect &&
        test_cmp expect actual &&
        check_rate "$7" "$1" "$2" &&
        expect_rate "$1" "$2" >expect &&
        test_cmp expect actual || exit 1
    done &&
    test_sql "$DAIGOU_DB" "SELECT effective_rate FROM order_rates WHERE order_id = ${SQ}A1${SQ}" >actual &&
    echo 0.00620001240002480 >expect &&
    test_cmp expect actual
'

# ------------------------------------------------------------ rate age

test_expect_success 'setup: quotes up to Thursday 2026-04-02, before Easter' '
    DAIGOU_NOW=2026-04-02T16:10:00Z rate-fetch -q --db "$AGE" \
        --file "$TRASH/age-02.xml"
'

test_expect_success 'Tuesday after Easter, no Tuesday quote yet: Thursday, 5 days old, is allowed' '
    DAIGOU_NOW=2026-04-07T07:30:00Z order-rate-pin --db "$AGE" --to EUR \
        G1 16500 JPY >actual &&
    expect_csv "G1,16500,JPY,$(expect_convert 16500 0 2 1 161.40 half-up),EUR,$(expect_rate 1 161.40),,,,2026-04-02,2026-04-07T07:30:00Z,pinned" >expect &&
    test_cmp expect actual &&
    stored "$AGE" G1 >actual &&
    cat >expect <<-EOF &&
	order|G1|16500|JPY|EUR||pinned|2026-04-07T07:30:00Z
	item|1|-|1|16500
	rate|charge|JPY|EUR|16500|$(expect_convert 16500 0 2 1 161.40 half-up | tr -d .)|inverse|ecb||161.40|$(expect_rate 1 161.40)|half-up|2026-04-02|2026-04-07T07:30:00Z
	leg|charge||ecb EUR/JPY 161.40 2026-04-02
	EOF
    test_cmp expect actual
'

test_expect_success 'an order of 2026-04-09 with only the 2026-04-02 quote: 7 days, 69' '
    snapshot "$AGE" >before &&
    echo "order-rate-pin: order ${SQ}G2${SQ}: the newest ecb rate for JPY/EUR is of 2026-04-02, 7 days before 2026-04-09 (--max-age 5d)" >expect &&
    DAIGOU_NOW=2026-04-09T12:00:00Z &&
    test_expect_code 69 order-rate-pin --db "$AGE" --to EUR G2 16500 JPY \
        >out 2>err &&
    test_cmp expect err &&
    ! grep "^G2," out &&
    DAIGOU_NOW=2026-04-20T12:00:00Z &&
    test_expect_code 69 order-rate-pin --db "$AGE" \
        --created-at 2026-04-09T12:00:00Z --to EUR G2 16500 JPY >out 2>err &&
    test_cmp expect err &&
    DAIGOU_NOW=2026-04-09T12:00:05Z &&
    test_expect_code 69 order-rate-pin --db "$AGE" --max-age 6 \
        --created-at 2026-04-09T12:00:00Z --to EUR G2 16500 JPY >out 2>err &&
    echo "order-rate-pin: order ${SQ}G2${SQ}: the newest ecb rate for JPY/EUR is of 2026-04-02, 7 days before 2026-04-09 (--max-age 6)" >expect &&
    test_cmp expect err &&
    snapshot "$AGE" >after &&
    test_cmp before after
'

test_expect_success '--max-age 7 lets it through; the order day is --created-at' '
    DAIGOU_NOW=2026-04-09T12:00:05Z order-rate-pin --db "$AGE" --max-age 7 \
        --created-at 2026-04-09T12:00:00Z --to EUR G2 16500 JPY >actual &&
    expect_csv "G2,16500,JPY,$(expect_convert 16500 0 2 1 161.40 half-up),EUR,$(expect_rate 1 161.40),,,,2026-04-02,2026-04-09T12:00:05Z,pinned" >expect &&
    test_cmp expect actual &&
    test_sql "$AGE" "SELECT created_at FROM orders WHERE order_id = ${SQ}G2${SQ}" >actual &&
    echo 2026-04-09T12:00:00Z >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-09T12:00:05Z order-rate-pin --db "$AGE" --preview \
        --max-age 7d --to EUR G3 16500 JPY >actual &&
    expect_csv "G3,16500,JPY,$(expect_convert 16500 0 2 1 161.40 half-up),EUR,$(expect_rate 1 161.40),,,,2026-04-02,,preview" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-20T12:00:00Z order-rate-pin --db "$AGE" \
        --created-at 2026-04-07T09:00:00Z --to EUR G4 16500 JPY >actual &&
    expect_csv "G4,16500,JPY,$(expect_convert 16500 0 2 1 161.40 half-up),EUR,$(expect_rate 1 161.40),,,,2026-04-02,2026-04-20T12:00:00Z,pinned" >expect &&
    test_cmp expect actual
'

test_expect_success 'no quote at all: 69' '
    test_expect_code 69 order-rate-pin --db "$AGE" \
        --created-at 2026-03-31T10:00:00Z --to EUR N1 16500 JPY >out 2>err &&
    echo "order-rate-pin: order ${SQ}N1${SQ}: no ecb rate for JPY/EUR on or before 2026-03-31" >expect &&
    test_cmp expect err &&
    DAIGOU_NOW=2026-04-07T08:00:00Z &&
    test_expect_code 69 order-rate-pin --db "$AGE" --to EUR N2 100.00 GBP \
        >out 2>err &&
    echo "order-rate-pin: order ${SQ}N2${SQ}: no ecb rate for GBP/EUR on or before 2026-04-07" >expect &&
    test_cmp expect err &&
    test_expect_code 69 order-rate-pin --db "$AGE" --provider json --to EUR \
        N3 16500 JPY >out 2>err &&
    echo "order-rate-pin: order ${SQ}N3${SQ}: no json rate for JPY/EUR on or before 2026-04-07" >expect &&
    test_cmp expect err &&
    DAIGOU_NOW=2026-04-20T10:00:00Z &&
    test_expect_code 69 order-rate-pin --db empty.db --to EUR N4 16500 JPY \
        >out 2>err &&
    echo "order-rate-pin: order ${SQ}N4${SQ}: no ecb rate for JPY/EUR on or before 2026-04-20" >expect &&
    test_cmp expect err &&
    test_sql "$AGE" "SELECT count(*) FROM orders WHERE order_id GLOB ${SQ}N*${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'setup: the quotes of 2026-04-07 to Friday 2026-04-10' '
    DAIGOU_NOW=2026-04-10T16:10:00Z rate-fetch -q --db "$AGE" \
        --file "$TRASH/age-10.xml"
'

test_expect_success 'weekend: a Saturday and a Monday-morning order pin Friday'"'"'s rate' '
    DAIGOU_NOW=2026-04-11T10:00:00Z order-rate-pin --db "$AGE" --to EUR \
        W1 16500 JPY >actual &&
    expect_csv "W1,16500,JPY,$(expect_convert 16500 0 2 1 162.35 half-up),EUR,$(expect_rate 1 162.35),,,,2026-04-10,2026-04-11T10:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-13T06:30:00Z order-rate-pin --db "$AGE" --to EUR \
        W2 16500 JPY >actual &&
    expect_csv "W2,16500,JPY,$(expect_convert 16500 0 2 1 162.35 half-up),EUR,$(expect_rate 1 162.35),,,,2026-04-10,2026-04-13T06:30:00Z,pinned" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-10T18:00:00Z order-rate-pin --db "$AGE" --max-age 0 \
        --to EUR W3 16500 JPY >actual &&
    expect_csv "W3,16500,JPY,$(expect_convert 16500 0 2 1 162.35 half-up),EUR,$(expect_rate 1 162.35),,,,2026-04-10,2026-04-10T18:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    DAIGOU_NOW=2026-04-11T10:00:00Z &&
    test_expect_code 69 order-rate-pin --db "$AGE" --max-age 0 --to EUR \
        W4 16500 JPY >out 2>err &&
    ! grep "^W4," out &&
    grep -E "^order-rate-pin: order ${SQ}W4${SQ}: the newest ecb rate for JPY/EUR is of 2026-04-10, 1 day before 2026-04-11 \(--max-age 0\)$" err &&
    test_sql "$AGE" "SELECT order_id, rate_as_of FROM order_rates WHERE order_id GLOB ${SQ}W*${SQ} ORDER BY order_id" >actual &&
    printf "W1|2026-04-10\nW2|2026-04-10\nW3|2026-04-10\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'ten days old: refused with the message of the spec' '
    DAIGOU_NOW=2026-04-20T10:00:00Z &&
    test_expect_code 69 order-rate-pin --db "$AGE" --to EUR A1 16500 JPY \
        >out 2>err &&
    echo "order-rate-pin: order ${SQ}A1${SQ}: the newest ecb rate for JPY/EUR is of 2026-04-10, 10 days before 2026-04-20 (--max-age 5d)" >expect &&
    test_cmp expect err
'

test_expect_success 'a cross rate is as old as its older leg' '
    # JPY is quoted up to 2026-04-10, USD only up to 2026-04-02.
    DAIGOU_NOW=2026-04-11T10:00:00Z &&
    test_expect_code 69 order-rate-pin --db "$AGE" --to USD C1 16500 JPY \
        >out 2>err &&
    echo "order-rate-pin: order ${SQ}C1${SQ}: the newest ecb rate for JPY/USD is of 2026-04-02, 9 days before 2026-04-11 (--max-age 5d)" >expect &&
    test_cmp expect err &&
    order-rate-pin --db "$AGE" --max-age 9 --to USD C1 16500 JPY >actual &&
    expect_csv "C1,16500,JPY,$(expect_convert 16500 0 2 1.0810 162.35 half-up),USD,$(expect_rate 1.0810 162.35),,,,2026-04-02,2026-04-11T10:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    stored "$AGE" C1 >actual &&
    cat >expect <<-EOF &&
	order|C1|16500|JPY|USD||pinned|2026-04-11T10:00:00Z
	item|1|-|1|16500
	rate|charge|JPY|USD|16500|$(expect_convert 16500 0 2 1.0810 162.35 half-up | tr -d .)|cross|ecb|1.0810|162.35|$(expect_rate 1.0810 162.35)|half-up|2026-04-02|2026-04-11T10:00:00Z
	leg|charge|ecb EUR/USD 1.0810 2026-04-02|ecb EUR/JPY 162.35 2026-04-10
	EOF
    test_cmp expect actual
'

# ------------------------------------------------------------ errors

test_expect_success 'missing or extra operands with --to: 64, nothing stored' '
    snapshot "$DAIGOU_DB" >before &&
    for args in "A9 16500" "A9" "" "A9 16500 JPY EUR"; do
        # shellcheck disable=SC2086 # the operands are split on purpose
        test_expect_code 64 order-rate-pin --to EUR $args >out 2>err &&
        test_must_be_empty out &&
        test -s err || exit 1
    done &&
    test_expect_code 64 order-rate-pin A9 16500 JPY --to >out 2>err &&
    test_must_be_empty out &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success 'a bad --rounding is a usage error: 64' '
    for bad in half-down HALF-UP halfup ""; do
        test_expect_code 64 order-rate-pin --rounding "$bad" --to EUR \
            A9 16500 JPY >out 2>err &&
        test_must_be_empty out &&
        grep "^order-rate-pin: .*${SQ}$bad${SQ}" err || exit 1
    done
'

test_expect_success 'a bad --max-age is a usage error: 64; 0, 3650 and Nd are fine' '
    for bad in -1 3651 5x 5days d 1.5 "" " 5" 5dd; do
        test_expect_code 64 order-rate-pin --preview --max-age "$bad" \
            --to EUR A9 16500 JPY >out 2>err &&
        test_must_be_empty out &&
        grep "^order-rate-pin: --max-age needs a number of days from 0 to 3650 such as 5 or 5d, not ${SQ}$bad${SQ}\$" err || exit 1
    done &&
    for good in 0 0d 3650 3650d 5; do
        DAIGOU_NOW=2026-04-14T19:00:00Z order-rate-pin --preview \
            --max-age "$good" --to EUR A9 16500 JPY >actual &&
        expect_csv "A9,16500,JPY,99.85,EUR,$(expect_rate 1 165.25),,,,2026-04-14,,preview" >expect &&
        test_cmp expect actual || exit 1
    done
'

test_expect_success 'bad data as arguments: 65, named by the argument, nothing stored' '
    snapshot "$DAIGOU_DB" >before &&
    test_expect_code 65 order-rate-pin --to EUR E1 1.5 JPY >out 2>err &&
    echo "order-rate-pin: amount: ${SQ}1.5${SQ} has more decimals than JPY${SQ}s 0" >expect &&
    test_cmp expect err &&
    test_expect_code 65 order-rate-pin --to JPY E1 12.345 EUR >out 2>err &&
    echo "order-rate-pin: amount: ${SQ}12.345${SQ} has more decimals than EUR${SQ}s 2" >expect &&
    test_cmp expect err &&
    test_expect_code 65 order-rate-pin --to EUR -- E1 -5 JPY >out 2>err &&
    echo "order-rate-pin: amount: ${SQ}-5${SQ} must be greater than zero" >expect &&
    test_cmp expect err &&
    test_expect_code 65 order-rate-pin --to EUR E1 0 JPY >out 2>err &&
    echo "order-rate-pin: amount: ${SQ}0${SQ} must be greater than zero" >expect &&
    test_cmp expect err &&
    test_expect_code 65 order-rate-pin --to EUR E1 16,500 JPY >out 2>err &&
    grep "^order-rate-pin: amount: ${SQ}16,500${SQ}" err &&
    test_expect_code 65 order-rate-pin --to EUR E1 abc JPY >out 2>err &&
    grep "^order-rate-pin: amount: ${SQ}abc${SQ}" err &&
    test_expect_code 65 order-rate-pin --to EUR E1 16500 XYZ >out 2>err &&
    echo "order-rate-pin: currency: ${SQ}XYZ${SQ} is not an ISO 4217 currency" >expect &&
    test_cmp expect err &&
    test_expect_code 65 order-rate-pin --to EUR "E 1" 16500 JPY >out 2>err &&
    grep "^order-rate-pin: order_id: " err &&
    test_expect_code 65 order-rate-pin --to EUR "E,1" 16500 JPY >out 2>err &&
    grep "^order-rate-pin: order_id: " err &&
    test_expect_code 65 order-rate-pin --to EUR \
        E12345678901234567890123456789012345678901234567890123456789012345 \
        16500 JPY >out 2>err &&
    grep "^order-rate-pin: order_id: " err &&
    snapshot "$DAIGOU_DB" >after &&
    test_cmp before after
'

test_expect_success 'a --provider name over 31 bytes is a usage error, for both tools' '
    long=$(printf "p%.0s" $(seq 32)) &&
    echo "order-rate-pin: --provider needs a name of 1 to 31 bytes" >expect &&
    test_expect_code 64 order-rate-pin --provider "$long" --to EUR P1 16500 JPY \
        >out 2>err &&
    head -n 1 err >actual &&
    test_cmp expect actual &&
    test_line_count = 0 out &&
    test_expect_code 64 order-rate-pin --provider "" --to EUR P1 16500 JPY \
        >out 2>err &&
    head -n 1 err >actual &&
    test_cmp expect actual &&
    echo "refund-calc: --provider needs a name of 1 to 31 bytes" >expect &&
    test_expect_code 64 refund-calc --provider "$long" --all P1 >out 2>err &&
    head -n 1 err >actual &&
    test_cmp expect actual
'

test_done
