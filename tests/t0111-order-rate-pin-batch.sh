#!/bin/sh
# t0111-order-rate-pin-batch: order-rate-pin in batch mode: CSV and JSON
# Lines input, per-row validation, order lines, the drift valve, exactly
# once pins and conflicts, --preview, --json, --batch, --strict, and the
# append-only pin tables.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_NOW=2026-04-14T08:00:00Z
export DAIGOU_NOW
D=$TRASH

# shellcheck disable=SC2034 # used inside the test bodies
HDR=order_id,amount,currency,charge_amount,charge_currency,rate,base_amount,base_currency,base_rate,rate_as_of,pinned_at,status

# Monday's quotes, and Wednesday's with EUR/JPY about 2.5 % higher.
test_ecb_xml @2026-04-13 USD 1.2495 JPY 161.29 GBP 0.86250 >"$D/d13.xml"
test_ecb_xml @2026-04-15 USD 1.2500 JPY 165.25 GBP 0.86300 >"$D/d15.xml"

# Every test pins into its own ./daigou.db (DAIGOU_DB is unset).
# quotes: Monday's quotes into ./daigou.db.
quotes() {
    DAIGOU_NOW=2026-04-13T16:00:00Z rate-fetch -q --db daigou.db \
        --file "$D/d13.xml"
}

# counts: rows in orders, order_items, order_rates, and events but the
# migration.
counts() {
    test_sql daigou.db "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items), (SELECT count(*) FROM order_rates), (SELECT count(*) FROM events WHERE kind <> 'schema_migrated')"
}

# dump: every stored order, item and pin, every column.
dump() {
    test_sql daigou.db "SELECT * FROM orders ORDER BY order_id; SELECT * FROM order_items ORDER BY order_id, line; SELECT * FROM order_rates ORDER BY id"
}

# stored: the order ids in orders.
stored() {
    test_sql daigou.db "SELECT order_id FROM orders ORDER BY order_id"
}

# events KIND: tool, kind and subject of the events of that kind.
events() {
    test_sql daigou.db "SELECT tool, kind, subject FROM events WHERE kind = '$1' ORDER BY id"
}

# test_cmp_msgs EXPECT ERR: the same messages in any order (a batch's bad
# data may be reported before its rate failures), the summary last.
test_cmp_msgs() {
    sort "$1" >"$1.sorted" && sort "$2" >"$2.sorted" &&
    test_cmp "$1.sorted" "$2.sorted" &&
    tail -n 1 "$1" >"$1.last" && tail -n 1 "$2" >"$2.last" &&
    test_cmp "$1.last" "$2.last"
}

# items: the stored order lines.
items() {
    test_sql daigou.db "SELECT order_id, line, quote(sku), qty, amount FROM order_items ORDER BY order_id, line"
}

# Five orders: inverse, direct with an identity base, cross with a base,
# cross the other way, identity.
cat >"$D/std.csv" <<\EOF
order_id,amount,currency,charge_currency,base_currency
A1,16500,JPY,EUR,
A2,102.30,EUR,USD,EUR
A3,16500,JPY,USD,EUR
A4,250.00,USD,JPY,
A5,50.00,EUR,EUR,
EOF
# The same orders as JSON Lines: keys in any order, unknown keys, null.
cat >"$D/std.jsonl" <<\EOF
{"order_id":"A1","amount":"16500","currency":"JPY","charge_currency":"EUR"}
{"charge_currency":"USD","base_currency":"EUR","currency":"EUR","amount":"102.30","order_id":"A2"}
{"order_id":"A3","note":"gift wrap","amount":"16500","currency":"JPY","charge_currency":"USD","base_currency":"EUR"}
{"order_id":"A4","amount":"250.00","currency":"USD","charge_currency":"JPY","base_currency":null}
{"order_id":"A5","amount":"50.00","currency":"EUR","charge_currency":"EUR","customer":{"id":17}}
EOF
# 16500 / 161.29 = 102.2977...; 102.30 * 1.2495 = 127.82385;
# 16500 * 1.2495 / 161.29 = 127.8241...; 250 * 161.29 / 1.2495 = 32270.9...
cat >"$D/std.out" <<EOF
$HDR
A1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
A2,102.30,EUR,127.82,USD,1.2495,102.30,EUR,1,2026-04-13,2026-04-14T08:00:00Z,pinned
A3,16500,JPY,127.82,USD,0.00774691549383099,102.30,EUR,0.00620001240002480,2026-04-13,2026-04-14T08:00:00Z,pinned
A4,250.00,USD,32271,JPY,129.083633453381,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
A5,50.00,EUR,50.00,EUR,1,,,,,2026-04-14T08:00:00Z,pinned
EOF
sed 's/,pinned$/,existing/' "$D/std.out" >"$D/std-existing.out"
echo "order-rate-pin: 5 orders: 5 pinned, 0 existing, 0 refused, 0 failed" \
    >"$D/std.err"

test_expect_success 'setup: the quotes load' '
    quotes &&
    rate-fetch --print --db daigou.db >actual &&
    cat >expect <<-\EOF &&
	provider,base,quote,rate,as_of,fetched_at
	ecb,EUR,GBP,0.86250,2026-04-13,2026-04-13T16:00:00Z
	ecb,EUR,JPY,161.29,2026-04-13,2026-04-13T16:00:00Z
	ecb,EUR,USD,1.2495,2026-04-13,2026-04-13T16:00:00Z
	EOF
    test_cmp expect actual
'

test_expect_success 'CSV on stdin: every row pinned and stored, a summary' '
    quotes &&
    order-rate-pin <"$D/std.csv" >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    test_cmp "$D/std.err" err &&
    counts >actual &&
    echo "5|5|7|0" >expect &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT order_id, amount, currency, charge_currency, base_currency, state, created_at FROM orders ORDER BY order_id" >actual &&
    cat >expect <<-\EOF &&
	A1|16500|JPY|EUR||pinned|2026-04-14T08:00:00Z
	A2|10230|EUR|USD|EUR|pinned|2026-04-14T08:00:00Z
	A3|16500|JPY|USD|EUR|pinned|2026-04-14T08:00:00Z
	A4|25000|USD|JPY||pinned|2026-04-14T08:00:00Z
	A5|5000|EUR|EUR||pinned|2026-04-14T08:00:00Z
	EOF
    test_cmp expect actual &&
    test_sql daigou.db "SELECT order_id, kind, from_currency, to_currency, amount, converted, method, mul_rate, div_rate, effective_rate, rounding, rate_as_of, pinned_at FROM order_rates ORDER BY order_id, kind" >actual &&
    cat >expect <<-\EOF &&
	A1|charge|JPY|EUR|16500|10230|inverse||161.29|0.00620001240002480|half-up|2026-04-13|2026-04-14T08:00:00Z
	A2|base|EUR|EUR|10230|10230|identity|||1|half-up||2026-04-14T08:00:00Z
	A2|charge|EUR|USD|10230|12782|direct|1.2495||1.2495|half-up|2026-04-13|2026-04-14T08:00:00Z
	A3|base|JPY|EUR|16500|10230|inverse||161.29|0.00620001240002480|half-up|2026-04-13|2026-04-14T08:00:00Z
	A3|charge|JPY|USD|16500|12782|cross|1.2495|161.29|0.00774691549383099|half-up|2026-04-13|2026-04-14T08:00:00Z
	A4|charge|USD|JPY|25000|32271|cross|161.29|1.2495|129.083633453381|half-up|2026-04-13|2026-04-14T08:00:00Z
	A5|charge|EUR|EUR|5000|5000|identity|||1|half-up||2026-04-14T08:00:00Z
	EOF
    test_cmp expect actual
'

test_expect_success 'CSV from a file and from "-": columns in any order, unknown ones ignored' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	note,charge_currency,base_currency,amount,order_id,customer,currency
	gift wrap,EUR,,16500,A1,c-17,JPY
	,USD,EUR,102.30,A2,c-18,EUR
	"a, b",USD,EUR,16500,A3,c-19,JPY
	EOF
    cat >more.csv <<-\EOF &&
	currency,order_id,charge_currency,amount
	USD,A4,JPY,250.00
	EUR,A5,EUR,50.00
	EOF
    order-rate-pin orders.csv >actual 2>err &&
    head -n 4 "$D/std.out" >expect &&
    test_cmp expect actual &&
    echo "order-rate-pin: 3 orders: 3 pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    order-rate-pin - <more.csv >actual 2>err &&
    { echo "$HDR" && sed -n "5,6p" "$D/std.out"; } >expect &&
    test_cmp expect actual &&
    echo "order-rate-pin: 2 orders: 2 pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err
'

test_expect_success 'JSON Lines are told by their first byte, from stdin or a file' '
    quotes &&
    order-rate-pin <"$D/std.jsonl" >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    test_cmp "$D/std.err" err &&
    mkdir again && cd again && quotes &&
    { printf "\n  \n" && cat "$D/std.jsonl"; } >orders.jsonl &&
    order-rate-pin orders.jsonl >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    test_cmp "$D/std.err" err &&
    counts >actual &&
    echo "5|5|7|0" >expect &&
    test_cmp expect actual
'

test_expect_success '--input-format json and csv force the format' '
    quotes &&
    order-rate-pin --input-format json <"$D/std.jsonl" >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    test_cmp "$D/std.err" err &&
    mkdir csv && cd csv && quotes &&
    order-rate-pin --input-format csv "$D/std.csv" >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    test_cmp "$D/std.err" err &&
    mkdir ../forced && cd ../forced && quotes &&
    test_expect_code 65 order-rate-pin --input-format csv <"$D/std.jsonl" >actual 2>err &&
    counts >actual &&
    echo "0|0|0|0" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 order-rate-pin --input-format xml <"$D/std.csv" 2>err
'

test_expect_success 'a missing required column is named: 65, nothing stored, no header' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,base_currency
	A1,16500,JPY,EUR
	EOF
    test_expect_code 65 order-rate-pin orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv: missing required column ${SQ}charge_currency${SQ}
	order-rate-pin: 0 orders: 0 pinned, 0 existing, 0 refused, 0 failed; 1 file failed
	EOF
    test_cmp expect err &&
    test_must_be_empty actual &&
    printf "amount,currency,charge_currency\n100,JPY,EUR\n" >ids.csv &&
    test_expect_code 65 order-rate-pin -q <ids.csv >actual 2>err &&
    echo "order-rate-pin: <stdin>: missing required column ${SQ}order_id${SQ}" >expect &&
    test_cmp expect err &&
    counts >actual &&
    echo "0|0|0|0" >expect &&
    test_cmp expect actual
'

test_expect_success 'a header without rows, or no input at all: 0 orders, exit 0' '
    quotes &&
    echo "order_id,amount,currency,charge_currency" >orders.csv &&
    order-rate-pin orders.csv >actual 2>err &&
    echo "$HDR" >expect &&
    test_cmp expect actual &&
    echo "order-rate-pin: 0 orders: 0 pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    order-rate-pin --json orders.csv >actual 2>err &&
    test_must_be_empty actual &&
    test_cmp expect err &&
    order-rate-pin </dev/null >actual 2>err &&
    echo "$HDR" >expect.out &&
    test_cmp expect.out actual &&
    test_cmp expect err &&
    counts >actual &&
    echo "0|0|0|0" >expect &&
    test_cmp expect actual
'

test_expect_success '-q: no summary; messages about rows stay' '
    quotes &&
    order-rate-pin -q <"$D/std.csv" >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    test_must_be_empty err &&
    printf "order_id,amount,currency,charge_currency\nQ1,1.5,JPY,EUR\n" >orders.csv &&
    test_expect_code 65 order-rate-pin -q orders.csv >actual 2>err &&
    echo "order-rate-pin: orders.csv:2: amount: ${SQ}1.5${SQ} has more decimals than JPY${SQ}s 0" >expect &&
    test_cmp expect err &&
    test_must_be_empty actual
'

test_expect_success 'bad CSV rows: file, line and field named, the others pinned, 65' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,preview_rate,created_at
	B1,16500,JPY,EUR,,
	B2,12.345,JPY,EUR,,
	B3,100,XYZ,EUR,,
	,100,JPY,EUR,,
	B5,-5,JPY,EUR,,
	B6,2000,JPY,EUR,,2026-04-13 10:00
	B7,2000,JPY,EUR,abc,
	B8,0,JPY,EUR,,
	B9,2000,JPY,,,
	B10,102.30,EUR,USD,,2026-04-14T07:00:00Z
	B11,102.305,EUR,USD,,
	EOF
    test_expect_code 65 order-rate-pin orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	B1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	B10,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:3: amount: ${SQ}12.345${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: orders.csv:4: currency: ${SQ}XYZ${SQ} is not an ISO 4217 currency
	order-rate-pin: orders.csv:5: order_id: missing
	order-rate-pin: orders.csv:6: amount: ${SQ}-5${SQ} must be greater than zero
	order-rate-pin: orders.csv:7: created_at: ${SQ}2026-04-13 10:00${SQ} is not YYYY-MM-DDTHH:MM:SSZ
	order-rate-pin: orders.csv:8: preview_rate: ${SQ}abc${SQ} is not a rate
	order-rate-pin: orders.csv:9: amount: ${SQ}0${SQ} must be greater than zero
	order-rate-pin: orders.csv:10: charge_currency: missing
	order-rate-pin: orders.csv:12: amount: ${SQ}102.305${SQ} has more decimals than EUR${SQ}s 2
	order-rate-pin: 11 orders: 2 pinned, 0 existing, 0 refused, 9 failed
	EOF
    test_cmp expect err &&
    test_sql daigou.db "SELECT order_id, created_at FROM orders ORDER BY order_id" >actual &&
    cat >expect <<-\EOF &&
	B1|2026-04-14T08:00:00Z
	B10|2026-04-14T07:00:00Z
	EOF
    test_cmp expect actual &&
    counts >actual &&
    echo "2|2|2|0" >expect &&
    test_cmp expect actual
'

test_expect_success 'bad JSON rows: no charge_currency, no order_id, too many decimals' '
    quotes &&
    cat >orders.jsonl <<-\EOF &&
	{"order_id":"J1","amount":"16500","currency":"JPY","charge_currency":"EUR"}
	{"order_id":"J2","amount":"16500","currency":"JPY"}
	{"amount":"16500","currency":"JPY","charge_currency":"EUR"}
	{"order_id":"J4","amount":"1.5","currency":"JPY","charge_currency":"EUR"}
	{"order_id":"J5","amount":"102.30","currency":"EUR","charge_currency":"XYZ"}
	EOF
    test_expect_code 65 order-rate-pin orders.jsonl >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	J1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.jsonl:2: charge_currency: missing
	order-rate-pin: orders.jsonl:3: order_id: missing
	order-rate-pin: orders.jsonl:4: amount: ${SQ}1.5${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: orders.jsonl:5: charge_currency: ${SQ}XYZ${SQ} is not an ISO 4217 currency
	order-rate-pin: 5 orders: 1 pinned, 0 existing, 0 refused, 4 failed
	EOF
    test_cmp expect err &&
    stored >actual &&
    echo J1 >expect &&
    test_cmp expect actual &&
    counts >actual &&
    echo "1|1|1|0" >expect &&
    test_cmp expect actual
'

cat >"$D/strict.csv" <<\EOF
order_id,amount,currency,charge_currency
S1,16500,JPY,EUR
S2,102.30,EUR,USD
S3,12.345,JPY,EUR
S4,50.00,EUR,EUR
EOF

test_expect_success 'without --strict a bad row does not stop the others' '
    quotes &&
    cp "$D/strict.csv" orders.csv &&
    test_expect_code 65 order-rate-pin orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	S1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	S2,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	S4,50.00,EUR,50.00,EUR,1,,,,,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:4: amount: ${SQ}12.345${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: 4 orders: 3 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    stored >actual &&
    printf "S1\nS2\nS4\n" >expect &&
    test_cmp expect actual
'

test_expect_success '--strict --batch 1: the first failed row stops; earlier pins stay' '
    quotes &&
    cp "$D/strict.csv" orders.csv &&
    test_expect_code 65 order-rate-pin --strict --batch 1 orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	S1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	S2,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:4: amount: ${SQ}12.345${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: 3 orders: 2 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    stored >actual &&
    printf "S1\nS2\n" >expect &&
    test_cmp expect actual &&
    counts >actual &&
    echo "2|2|2|0" >expect &&
    test_cmp expect actual
'

test_expect_success '--strict in one batch: nothing after the failed row; printed = stored' '
    quotes &&
    cp "$D/strict.csv" orders.csv &&
    test_expect_code 65 order-rate-pin --strict orders.csv >out 2>err &&
    echo "order-rate-pin: orders.csv:4: amount: ${SQ}12.345${SQ} has more decimals than JPY${SQ}s 0" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    sed 1d out | cut -d, -f1 >printed &&
    stored >actual &&
    test_cmp printed actual &&
    ! grep -e S3 -e S4 actual &&
    head -n 1 out >actual &&
    echo "$HDR" >expect &&
    test_cmp expect actual
'

test_expect_success '--strict in one batch: a row without a rate stops the run too' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency
	T1,16500,JPY,EUR
	T2,100.00,CHF,EUR
	T3,12.345,JPY,EUR
	T4,50.00,EUR,EUR
	EOF
    test_expect_code 69 order-rate-pin --strict orders.csv >out 2>err &&
    sed 1d out | cut -d, -f1 >printed &&
    stored >actual &&
    test_cmp printed actual &&
    ! grep -e T2 -e T3 -e T4 actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:3: order ${SQ}T2${SQ}: no ecb rate for CHF/EUR on or before 2026-04-14
	order-rate-pin: 2 orders: 1 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err
'

test_expect_success 'exit status: the most severe row wins' '
    quotes &&
    cat >v.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,preview_rate
	V1,102.30,EUR,USD,1.2249
	V2,16500,JPY,EUR,
	EOF
    test_expect_code 1 order-rate-pin v.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	V1,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	V2,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: v.csv:2: order ${SQ}V1${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.2249 to 1.2495: not pinned
	order-rate-pin: 2 orders: 1 pinned, 0 existing, 1 refused, 0 failed
	EOF
    test_cmp expect err &&
    cat >w.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,preview_rate
	W1,102.30,EUR,USD,1.2249
	W2,12.345,JPY,EUR,
	EOF
    test_expect_code 65 order-rate-pin w.csv >actual 2>err &&
    cat >expect <<-EOF &&
	order-rate-pin: w.csv:2: order ${SQ}W1${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.2249 to 1.2495: not pinned
	order-rate-pin: w.csv:3: amount: ${SQ}12.345${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: 2 orders: 0 pinned, 0 existing, 1 refused, 1 failed
	EOF
    test_cmp_msgs expect err &&
    cat >y.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,preview_rate
	Y1,100.00,CHF,EUR,
	Y2,12.345,JPY,EUR,
	Y3,102.30,EUR,USD,1.2249
	Y4,16500,JPY,EUR,
	EOF
    test_expect_code 69 order-rate-pin y.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	Y3,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	Y4,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: y.csv:2: order ${SQ}Y1${SQ}: no ecb rate for CHF/EUR on or before 2026-04-14
	order-rate-pin: y.csv:3: amount: ${SQ}12.345${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: y.csv:4: order ${SQ}Y3${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.2249 to 1.2495: not pinned
	order-rate-pin: 4 orders: 1 pinned, 0 existing, 1 refused, 2 failed
	EOF
    test_cmp_msgs expect err &&
    stored >actual &&
    printf "V2\nY4\n" >expect &&
    test_cmp expect actual
'

# A line's amount is one unit's price: the lines add up as qty x amount.
test_expect_success 'JSON lines that add up are stored in order_items' '
    quotes &&
    cat >orders.jsonl <<-\EOF &&
	{"order_id":"L1","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"sku":"SKU-1","qty":2,"amount":"5000"},{"line":2,"sku":"SKU-2","qty":1,"amount":"6500"},{"line":3,"sku":"GIFT","qty":1,"amount":"0"}]}
	{"order_id":"L2","amount":"102.30","currency":"EUR","charge_currency":"USD","lines":[{"line":1,"qty":1,"amount":"60.00"},{"line":2,"sku":"SKU-4","qty":3,"amount":"14.10"}]}
	{"order_id":"L3","amount":"5000","currency":"JPY","charge_currency":"EUR"}
	EOF
    order-rate-pin orders.jsonl >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	L1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	L2,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	L3,5000,JPY,31.00,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    echo "order-rate-pin: 3 orders: 3 pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    items >actual &&
    cat >expect <<-EOF &&
	L1|1|${SQ}SKU-1${SQ}|2|5000
	L1|2|${SQ}SKU-2${SQ}|1|6500
	L1|3|${SQ}GIFT${SQ}|1|0
	L2|1|NULL|1|6000
	L2|2|${SQ}SKU-4${SQ}|3|1410
	L3|1|NULL|1|5000
	EOF
    test_cmp expect actual
'

test_expect_success 'lines that do not add up, a line twice, qty 0: 65, nothing stored' '
    quotes &&
    cat >orders.jsonl <<-\EOF &&
	{"order_id":"M1","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"qty":2,"amount":"5000"},{"line":2,"qty":1,"amount":"6400"}]}
	{"order_id":"M2","amount":"102.30","currency":"EUR","charge_currency":"USD","lines":[{"line":1,"qty":1,"amount":"60.00"},{"line":2,"qty":1,"amount":"42.31"}]}
	{"order_id":"M3","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"qty":1,"amount":"10000"},{"line":1,"qty":1,"amount":"6500"}]}
	{"order_id":"M4","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"qty":0,"amount":"16500"}]}
	{"order_id":"M5","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"qty":1,"amount":"16500"}]}
	EOF
    test_expect_code 65 order-rate-pin orders.jsonl >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	M5,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.jsonl:1: lines: the lines add up to 16400, not 16500
	order-rate-pin: orders.jsonl:2: lines: the lines add up to 102.31, not 102.30
	order-rate-pin: orders.jsonl:3: lines: line 1 appears twice
	order-rate-pin: orders.jsonl:4: lines[0].qty: ${SQ}0${SQ} is not a whole number from 1 to 1000000000
	order-rate-pin: 5 orders: 1 pinned, 0 existing, 0 refused, 4 failed
	EOF
    test_cmp expect err &&
    counts >actual &&
    echo "1|1|1|0" >expect &&
    test_cmp expect actual &&
    items >actual &&
    echo "M5|1|NULL|1|16500" >expect &&
    test_cmp expect actual
'

test_expect_success 'CSV orders with --lines FILE; an order without lines is one line' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency
	L1,16500,JPY,EUR
	L2,102.30,EUR,USD
	L3,5000,JPY,EUR
	L4,102.30,EUR,USD
	EOF
    cat >lines.csv <<-\EOF &&
	order_id,line,sku,qty,amount
	L1,1,SKU-1,2,5000
	L2,1,,1,60.00
	L1,2,SKU-2,1,6500
	L2,2,SKU-4,3,14.10
	L4,1,SKU-5,1,100.00
	EOF
    test_expect_code 65 order-rate-pin --lines lines.csv orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	L1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	L2,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	L3,5000,JPY,31.00,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:5: lines: the lines add up to 100.00, not 102.30
	order-rate-pin: 4 orders: 3 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    items >actual &&
    cat >expect <<-EOF &&
	L1|1|${SQ}SKU-1${SQ}|2|5000
	L1|2|${SQ}SKU-2${SQ}|1|6500
	L2|1|NULL|1|6000
	L2|2|${SQ}SKU-4${SQ}|3|1410
	L3|1|NULL|1|5000
	EOF
    test_cmp expect actual
'

# The effective JPY -> EUR rate is 1/161.29 = 0.006200012400024800049...
# 2 % of the preview rate P away: E = 0.98 P, P = 0.0063265432653314286...,
# and E = 1.02 P, P = 0.0060784435294360784800... No decimal P is exactly
# 2 % from 1/161.29: these are 12 significant digits on either side of
# each edge.
# EUR -> USD at 1.2495 has the edges exactly: 1.2495 = 1.02 * 1.225 =
# 0.98 * 1.275.
test_expect_success 'drift: within 2 % of the preview rate, both sides, is pinned' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,preview_rate
	D1,16500,JPY,EUR,0.00632654326533
	D2,16500,JPY,EUR,0.00607844352944
	D3,102.30,EUR,USD,1.225
	D4,102.30,EUR,USD,1.275
	D5,16500,JPY,EUR,0.0062
	EOF
    order-rate-pin orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	D1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	D2,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	D3,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	D4,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	D5,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    echo "order-rate-pin: 5 orders: 5 pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    events pin_refused >actual &&
    test_must_be_empty actual
'

cat >"$D/drift.csv" <<\EOF
order_id,amount,currency,charge_currency,preview_rate
E1,16500,JPY,EUR,0.00632654326534
E2,16500,JPY,EUR,0.00607844352943
E3,102.30,EUR,USD,1.2249
E4,102.30,EUR,USD,1.2751
E5,102.30,EUR,USD,1.22451
EOF

test_expect_success 'drift: just over 2 % is refused: exit 1, events, nothing stored' '
    quotes &&
    cp "$D/drift.csv" orders.csv &&
    test_expect_code 1 order-rate-pin orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	E1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,,refused
	E2,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,,refused
	E3,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	E4,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	E5,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:2: order ${SQ}E1${SQ} refused: JPY/EUR moved more than 2 % from the preview rate 0.00632654326534 to 0.00620001240002480: not pinned
	order-rate-pin: orders.csv:3: order ${SQ}E2${SQ} refused: JPY/EUR moved more than 2 % from the preview rate 0.00607844352943 to 0.00620001240002480: not pinned
	order-rate-pin: orders.csv:4: order ${SQ}E3${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.2249 to 1.2495: not pinned
	order-rate-pin: orders.csv:5: order ${SQ}E4${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.2751 to 1.2495: not pinned
	order-rate-pin: orders.csv:6: order ${SQ}E5${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.22451 to 1.2495: not pinned
	order-rate-pin: 5 orders: 0 pinned, 0 existing, 5 refused, 0 failed
	EOF
    test_cmp expect err &&
    events pin_refused >actual &&
    cat >expect <<-\EOF &&
	order-rate-pin|pin_refused|E1
	order-rate-pin|pin_refused|E2
	order-rate-pin|pin_refused|E3
	order-rate-pin|pin_refused|E4
	order-rate-pin|pin_refused|E5
	EOF
    test_cmp expect actual &&
    counts >actual &&
    echo "0|0|0|5" >expect &&
    test_cmp expect actual
'

test_expect_success 'drift: --max-drift 5 lets the same rows through' '
    quotes &&
    cp "$D/drift.csv" orders.csv &&
    test_expect_code 1 order-rate-pin -q orders.csv >/dev/null &&
    order-rate-pin --max-drift 5 orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	E1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	E2,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	E3,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	E4,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	E5,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    echo "order-rate-pin: 5 orders: 5 pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    counts >actual &&
    echo "5|5|5|5" >expect &&
    test_cmp expect actual &&
    test_expect_code 64 order-rate-pin --max-drift two orders.csv 2>err
'

test_expect_success 'the same file twice: existing, same values, nothing new' '
    quotes &&
    order-rate-pin <"$D/std.csv" >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    dump >before &&
    counts >counts.before &&
    DAIGOU_NOW=2026-04-15T16:00:00Z rate-fetch -q --max-jump 5 --db daigou.db --file "$D/d15.xml" &&
    DAIGOU_NOW=2026-04-16T09:00:00Z order-rate-pin <"$D/std.csv" >actual 2>err &&
    test_cmp "$D/std-existing.out" actual &&
    echo "order-rate-pin: 5 orders: 0 pinned, 5 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    DAIGOU_NOW=2026-04-16T10:00:00Z order-rate-pin --json <"$D/std.jsonl" >/dev/null 2>err &&
    test_cmp expect err &&
    dump >after &&
    test_cmp before after &&
    counts >actual &&
    test_cmp counts.before actual &&
    printf "order_id,amount,currency,charge_currency\nF1,16500,JPY,EUR\n" >fresh.csv &&
    DAIGOU_NOW=2026-04-16T09:00:00Z order-rate-pin -q fresh.csv >actual &&
    cat >expect <<-EOF &&
	$HDR
	F1,16500,JPY,99.85,EUR,0.00605143721633888,,,,2026-04-15,2026-04-16T09:00:00Z,pinned
	EOF
    test_cmp expect actual
'

cat >"$D/c.jsonl" <<\EOF
{"order_id":"C1","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"sku":"SKU-1","qty":2,"amount":"5000"},{"line":2,"sku":"SKU-2","qty":1,"amount":"6500"}]}
{"order_id":"C2","amount":"102.30","currency":"EUR","charge_currency":"USD","base_currency":"EUR"}
EOF

test_expect_success 'conflict: other amount, currency, base or lines: 65, an event, nothing changed' '
    quotes &&
    order-rate-pin -q "$D/c.jsonl" >/dev/null &&
    dump >before &&
    cat >orders.jsonl <<-\EOF &&
	{"order_id":"C1","amount":"16600","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"sku":"SKU-1","qty":2,"amount":"5000"},{"line":2,"sku":"SKU-2","qty":1,"amount":"6600"}]}
	{"order_id":"C1","amount":"16500","currency":"JPY","charge_currency":"USD","lines":[{"line":1,"sku":"SKU-1","qty":2,"amount":"5000"},{"line":2,"sku":"SKU-2","qty":1,"amount":"6500"}]}
	{"order_id":"C1","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"sku":"SKU-1","qty":2,"amount":"4500"},{"line":2,"sku":"SKU-2","qty":1,"amount":"7500"}]}
	{"order_id":"C1","amount":"16500","currency":"JPY","charge_currency":"EUR","lines":[{"line":1,"sku":"SKU-1","qty":2,"amount":"5000"},{"line":2,"sku":"SKU-3","qty":1,"amount":"6500"}]}
	{"order_id":"C1","amount":"16500","currency":"JPY","charge_currency":"EUR"}
	{"order_id":"C2","amount":"102.30","currency":"EUR","charge_currency":"USD"}
	{"order_id":"C2","amount":"102.30","currency":"GBP","charge_currency":"USD","base_currency":"EUR"}
	EOF
    test_expect_code 65 order-rate-pin orders.jsonl >actual 2>err &&
    test_must_be_empty actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.jsonl:1: order ${SQ}C1${SQ} is already stored with other contents: nothing changed
	order-rate-pin: orders.jsonl:2: order ${SQ}C1${SQ} is already stored with other contents: nothing changed
	order-rate-pin: orders.jsonl:3: order ${SQ}C1${SQ} is already stored with other contents: nothing changed
	order-rate-pin: orders.jsonl:4: order ${SQ}C1${SQ} is already stored with other contents: nothing changed
	order-rate-pin: orders.jsonl:5: order ${SQ}C1${SQ} is already stored with other contents: nothing changed
	order-rate-pin: orders.jsonl:6: order ${SQ}C2${SQ} is already stored with other contents: nothing changed
	order-rate-pin: orders.jsonl:7: order ${SQ}C2${SQ} is already stored with other contents: nothing changed
	order-rate-pin: 7 orders: 0 pinned, 0 existing, 0 refused, 7 failed
	EOF
    test_cmp expect err &&
    events pin_conflict >actual &&
    cat >expect <<-\EOF &&
	order-rate-pin|pin_conflict|C1
	order-rate-pin|pin_conflict|C1
	order-rate-pin|pin_conflict|C1
	order-rate-pin|pin_conflict|C1
	order-rate-pin|pin_conflict|C1
	order-rate-pin|pin_conflict|C2
	order-rate-pin|pin_conflict|C2
	EOF
    test_cmp expect actual &&
    dump >after &&
    test_cmp before after &&
    counts >actual &&
    echo "2|3|3|7" >expect &&
    test_cmp expect actual
'

test_expect_success 'not a conflict: another created_at or preview_rate alone' '
    quotes &&
    order-rate-pin -q "$D/c.jsonl" >/dev/null &&
    dump >before &&
    cat >orders.jsonl <<-\EOF &&
	{"order_id":"C1","amount":"16500","currency":"JPY","charge_currency":"EUR","created_at":"2026-04-15T10:00:00Z","preview_rate":"0.0062","lines":[{"line":1,"sku":"SKU-1","qty":2,"amount":"5000"},{"line":2,"sku":"SKU-2","qty":1,"amount":"6500"}]}
	{"order_id":"C2","amount":"102.30","currency":"EUR","charge_currency":"USD","base_currency":"EUR","preview_rate":"1.25","created_at":"2026-04-13T23:59:59Z"}
	EOF
    DAIGOU_NOW=2026-04-15T12:00:00Z order-rate-pin orders.jsonl >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	C1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,existing
	C2,102.30,EUR,127.82,USD,1.2495,102.30,EUR,1,2026-04-13,2026-04-14T08:00:00Z,existing
	EOF
    test_cmp expect actual &&
    echo "order-rate-pin: 2 orders: 0 pinned, 2 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    dump >after &&
    test_cmp before after &&
    counts >actual &&
    echo "2|3|3|0" >expect &&
    test_cmp expect actual
'

test_expect_success 'one order twice in a file: pinned, then existing, then a conflict' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency
	U1,16500,JPY,EUR
	U1,16500,JPY,EUR
	U1,16600,JPY,EUR
	EOF
    test_expect_code 65 order-rate-pin orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	U1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	U1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,existing
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:4: order ${SQ}U1${SQ} is already stored with other contents: nothing changed
	order-rate-pin: 3 orders: 1 pinned, 1 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    counts >actual &&
    echo "1|1|1|1" >expect &&
    test_cmp expect actual
'

test_expect_success 'an order id with a space is bad data' '
    quotes &&
    printf "order_id,amount,currency,charge_currency\nN 1,16500,JPY,EUR\n" >orders.csv &&
    test_expect_code 65 order-rate-pin orders.csv >actual 2>err &&
    test_must_be_empty actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:2: order_id: ${SQ}N 1${SQ} is not an order id (1 to 64 printable characters, no spaces, commas or quotes)
	order-rate-pin: 1 order: 0 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    counts >actual &&
    echo "0|0|0|0" >expect &&
    test_cmp expect actual
'

test_expect_success '--preview stores nothing; stored orders show their pin' '
    quotes &&
    head -n 2 "$D/std.csv" | order-rate-pin -q >/dev/null &&
    dump >before &&
    DAIGOU_NOW=2026-04-14T09:30:00Z order-rate-pin --preview <"$D/std.csv" >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	A1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,existing
	A2,102.30,EUR,127.82,USD,1.2495,102.30,EUR,1,2026-04-13,,preview
	A3,16500,JPY,127.82,USD,0.00774691549383099,102.30,EUR,0.00620001240002480,2026-04-13,,preview
	A4,250.00,USD,32271,JPY,129.083633453381,,,,2026-04-13,,preview
	A5,50.00,EUR,50.00,EUR,1,,,,,,preview
	EOF
    test_cmp expect actual &&
    echo "order-rate-pin: 5 orders: 4 previewed, 1 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    cp "$D/drift.csv" drift.csv &&
    test_expect_code 1 order-rate-pin -q --preview drift.csv >actual &&
    grep -c ",refused\$" actual >n &&
    echo 5 >expect &&
    test_cmp expect n &&
    dump >after &&
    test_cmp before after &&
    counts >actual &&
    echo "1|1|1|0" >expect &&
    test_cmp expect actual
'

test_expect_success '--preview never creates a database' '
    test_expect_code 66 order-rate-pin --preview --db nowhere.db "$D/std.csv" >/dev/null 2>err &&
    test ! -e nowhere.db
'

test_expect_success '--json: JSON Lines, every value a string, absent values null' '
    quotes &&
    order-rate-pin --json <"$D/std.csv" >actual 2>err &&
    cat >expect <<-\EOF &&
	{"order_id":"A1","amount":"16500","currency":"JPY","charge_amount":"102.30","charge_currency":"EUR","rate":"0.00620001240002480","base_amount":null,"base_currency":null,"base_rate":null,"rate_as_of":"2026-04-13","pinned_at":"2026-04-14T08:00:00Z","status":"pinned"}
	{"order_id":"A2","amount":"102.30","currency":"EUR","charge_amount":"127.82","charge_currency":"USD","rate":"1.2495","base_amount":"102.30","base_currency":"EUR","base_rate":"1","rate_as_of":"2026-04-13","pinned_at":"2026-04-14T08:00:00Z","status":"pinned"}
	{"order_id":"A3","amount":"16500","currency":"JPY","charge_amount":"127.82","charge_currency":"USD","rate":"0.00774691549383099","base_amount":"102.30","base_currency":"EUR","base_rate":"0.00620001240002480","rate_as_of":"2026-04-13","pinned_at":"2026-04-14T08:00:00Z","status":"pinned"}
	{"order_id":"A4","amount":"250.00","currency":"USD","charge_amount":"32271","charge_currency":"JPY","rate":"129.083633453381","base_amount":null,"base_currency":null,"base_rate":null,"rate_as_of":"2026-04-13","pinned_at":"2026-04-14T08:00:00Z","status":"pinned"}
	{"order_id":"A5","amount":"50.00","currency":"EUR","charge_amount":"50.00","charge_currency":"EUR","rate":"1","base_amount":null,"base_currency":null,"base_rate":null,"rate_as_of":null,"pinned_at":"2026-04-14T08:00:00Z","status":"pinned"}
	EOF
    test_cmp expect actual &&
    test_cmp "$D/std.err" err &&
    printf "order_id,amount,currency,charge_currency,preview_rate\nR1,102.30,EUR,USD,1.2249\n" >r.csv &&
    test_expect_code 1 order-rate-pin -q --json r.csv >actual &&
    cat >expect <<-\EOF &&
	{"order_id":"R1","amount":"102.30","currency":"EUR","charge_amount":"127.82","charge_currency":"USD","rate":"1.2495","base_amount":null,"base_currency":null,"base_rate":null,"rate_as_of":"2026-04-13","pinned_at":null,"status":"refused"}
	EOF
    test_cmp expect actual
'

cat >"$D/mixed.csv" <<\EOF
order_id,amount,currency,charge_currency,base_currency,preview_rate
X1,16500,JPY,EUR,,
X2,102.30,EUR,USD,EUR,
X3,12.345,JPY,EUR,,
X4,16500,JPY,USD,EUR,
X5,102.30,EUR,USD,,1.2249
X6,250.00,USD,JPY,,
X7,50.00,EUR,EUR,,
EOF

test_expect_success '--batch 1 and --batch 3 give the same output as the default' '
    for b in default 1 3; do
        mkdir "b$b" && (
            cd "b$b" && quotes &&
            if [ "$b" = default ]; then
                order-rate-pin "$D/mixed.csv" >out 2>err
            else
                order-rate-pin --batch "$b" "$D/mixed.csv" >out 2>err
            fi
            echo $? >rc
            dump >dump
        ) || return 1
    done &&
    cat >expect <<-EOF &&
	$HDR
	X1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	X2,102.30,EUR,127.82,USD,1.2495,102.30,EUR,1,2026-04-13,2026-04-14T08:00:00Z,pinned
	X4,16500,JPY,127.82,USD,0.00774691549383099,102.30,EUR,0.00620001240002480,2026-04-13,2026-04-14T08:00:00Z,pinned
	X5,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	X6,250.00,USD,32271,JPY,129.083633453381,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	X7,50.00,EUR,50.00,EUR,1,,,,,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect bdefault/out &&
    echo 65 >expect &&
    test_cmp expect bdefault/rc &&
    grep "7 orders: 5 pinned, 0 existing, 1 refused, 1 failed" bdefault/err &&
    for b in 1 3; do
        test_cmp bdefault/out "b$b/out" &&
        test_cmp bdefault/err "b$b/err" &&
        test_cmp bdefault/rc "b$b/rc" &&
        test_cmp bdefault/dump "b$b/dump" || return 1
    done &&
    cd b3 &&
    test_expect_code 65 order-rate-pin --batch 3 "$D/mixed.csv" >out 2>err &&
    sed -e "s/,pinned$/,existing/" ../bdefault/out >expect &&
    test_cmp expect out &&
    test_expect_code 64 order-rate-pin --batch 0 "$D/mixed.csv" 2>err
'

test_expect_success 'messages come in input order whatever the --batch' '
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,preview_rate
	X1,16500,JPY,EUR,
	X2,100.00,CHF,EUR,
	X3,12.345,JPY,EUR,
	X4,102.30,EUR,USD,1.2249
	X5,50.00,EUR,EUR,
	EOF
    cat >expect.out <<-EOF &&
	$HDR
	X1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
	X4,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,,refused
	X5,50.00,EUR,50.00,EUR,1,,,,,2026-04-14T08:00:00Z,pinned
	EOF
    cat >expect.err <<-EOF &&
	order-rate-pin: orders.csv:3: order ${SQ}X2${SQ}: no ecb rate for CHF/EUR on or before 2026-04-14
	order-rate-pin: orders.csv:4: amount: ${SQ}12.345${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: orders.csv:5: order ${SQ}X4${SQ} refused: EUR/USD moved more than 2 % from the preview rate 1.2249 to 1.2495: not pinned
	order-rate-pin: 5 orders: 2 pinned, 0 existing, 1 refused, 2 failed
	EOF
    for b in 1 3 1000; do
        echo "with --batch $b" &&
        rm -f daigou.db daigou.db-wal daigou.db-shm && quotes &&
        test_expect_code 69 order-rate-pin --batch "$b" orders.csv >out 2>err &&
        test_cmp expect.out out &&
        test_cmp expect.err err || return 1
    done
'

test_expect_success 'append-only: UPDATE and DELETE on pins fail; the pin stays' '
    quotes &&
    order-rate-pin -q <"$D/std.csv" >/dev/null &&
    dump >before &&
    test_must_fail sqlite3 daigou.db "UPDATE order_rates SET converted = 1" 2>err &&
    grep "order_rates is append-only" err &&
    test_must_fail sqlite3 daigou.db "DELETE FROM order_rates" 2>err &&
    grep "order_rates is append-only" err &&
    test_must_fail sqlite3 daigou.db "UPDATE order_items SET amount = 1" &&
    test_must_fail sqlite3 daigou.db "DELETE FROM order_items" &&
    test_must_fail sqlite3 daigou.db "UPDATE orders SET amount = 1" &&
    test_must_fail sqlite3 daigou.db "DELETE FROM orders" &&
    dump >after &&
    test_cmp before after &&
    order-rate-pin <"$D/std.csv" >actual 2>/dev/null &&
    test_cmp "$D/std-existing.out" actual
'

test_expect_success 'several FILE operands: one header, one summary, each file named' '
    quotes &&
    head -n 3 "$D/std.csv" >a.csv &&
    sed -n 3p "$D/std.jsonl" >b.jsonl &&
    echo "{\"order_id\":\"B2\",\"amount\":\"0.5\",\"currency\":\"JPY\",\"charge_currency\":\"EUR\"}" >>b.jsonl &&
    { sed -n 1p "$D/std.csv" && sed -n "5,6p" "$D/std.csv" && echo "C3,1,JPY,ABC,"; } >c.csv &&
    test_expect_code 65 order-rate-pin a.csv b.jsonl - <c.csv >actual 2>err &&
    test_cmp "$D/std.out" actual &&
    cat >expect <<-EOF &&
	order-rate-pin: b.jsonl:2: amount: ${SQ}0.5${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: <stdin>:4: charge_currency: ${SQ}ABC${SQ} is not an ISO 4217 currency
	order-rate-pin: 7 orders: 5 pinned, 0 existing, 0 refused, 2 failed
	EOF
    test_cmp expect err
'

test_expect_success '--base CCY for rows without base_currency' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,base_currency
	K1,16500,JPY,USD,
	K2,250.00,USD,JPY,USD
	EOF
    order-rate-pin --base EUR orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	K1,16500,JPY,127.82,USD,0.00774691549383099,102.30,EUR,0.00620001240002480,2026-04-13,2026-04-14T08:00:00Z,pinned
	K2,250.00,USD,32271,JPY,129.083633453381,250.00,USD,1,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    test_sql daigou.db "SELECT order_id, base_currency FROM orders ORDER BY order_id" >actual &&
    printf "K1|EUR\nK2|USD\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'a base currency equal to the charge currency' '
    quotes &&
    printf "order_id,amount,currency,charge_currency,base_currency\nG1,16500,JPY,EUR,EUR\n" >orders.csv &&
    order-rate-pin orders.csv >actual 2>err &&
    cat >expect <<-EOF &&
	$HDR
	G1,16500,JPY,102.30,EUR,0.00620001240002480,102.30,EUR,0.00620001240002480,2026-04-13,2026-04-14T08:00:00Z,pinned
	EOF
    test_cmp expect actual &&
    order-rate-pin orders.csv >actual 2>err &&
    sed "s/,pinned$/,existing/" expect >expect.existing &&
    test_cmp expect.existing actual
'

test_done
