#!/bin/sh
# t0113-order-rate-pin-input: what a batch does with input that is not
# what it should be: a stray quote, a quote never closed, syntax and field
# errors mixed (messages in input order), long paths, a --lines file with
# a bad row or only its header, input that cannot be read at all (no CSV
# header on stdout, the summary counts the file), and hostile ids quoted
# in messages; orders read from a pipe as they come.
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
# shellcheck disable=SC2034 # used inside the test bodies
P1=P1,16500,JPY,102.30,EUR,0.00620001240002480,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
# shellcheck disable=SC2034 # used inside the test bodies
P3=P3,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned
# shellcheck disable=SC2034 # used inside the test bodies
P4=P4,50.00,EUR,50.00,EUR,1,,,,,2026-04-14T08:00:00Z,pinned

test_ecb_xml @2026-04-13 USD 1.2495 JPY 161.29 >"$D/d13.xml"

quotes() {
    DAIGOU_NOW=2026-04-13T16:00:00Z rate-fetch -q --db daigou.db \
        --file "$D/d13.xml"
}

stored() {
    test_sql daigou.db "SELECT order_id FROM orders ORDER BY order_id"
}

test_expect_success 'a stray quote in a column not read: that row reported, the rows after it pinned' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,note
	P1,16500,JPY,EUR,fine
	P2,16500,JPY,EUR,customer said "broken
	P3,102.30,EUR,USD,ok
	P4,50.00,EUR,EUR,
	EOF
    test_expect_code 65 order-rate-pin orders.csv >actual 2>err &&
    printf "%s\n" "$HDR" "$P1" "$P3" "$P4" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:3: malformed CSV: misplaced quote in field 5 (${SQ}note${SQ})
	order-rate-pin: 4 orders: 3 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    stored >actual &&
    printf "P1\nP3\nP4\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'a quote never closed: the lines it took are named, what follows is read' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,note
	P1,16500,JPY,EUR,"gift
	P2,16500,JPY,EUR,x
	P3,102.30,EUR,USD,"wrap"
	P4,50.00,EUR,EUR,
	EOF
    test_expect_code 65 order-rate-pin orders.csv >actual 2>err &&
    printf "%s\n" "$HDR" "$P4" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:2: malformed CSV: misplaced quote in field 5 (${SQ}note${SQ}) on line 4: lines 2 to 4 skipped
	order-rate-pin: 2 orders: 1 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    printf "order_id,amount,currency,charge_currency,note\nP1,16500,JPY,EUR,ok\nP2,16500,JPY,EUR,\"gift\nP3,102.30,EUR,USD,x\n" >eof.csv &&
    test_expect_code 65 order-rate-pin eof.csv >actual 2>err &&
    cat >expect <<-EOF &&
	order-rate-pin: eof.csv:3: malformed CSV: unterminated quote in field 5 (${SQ}note${SQ}): lines 3 to 4 skipped
	order-rate-pin: 2 orders: 1 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err
'

test_expect_success '--strict: a malformed row stops the run; the rows before it stand' '
    quotes &&
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,note
	P1,16500,JPY,EUR,fine
	P2,16500,JPY,EUR,customer said "broken
	P3,102.30,EUR,USD,ok
	EOF
    test_expect_code 65 order-rate-pin --strict orders.csv >actual 2>err &&
    printf "%s\n" "$HDR" "$P1" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.csv:3: malformed CSV: misplaced quote in field 5 (${SQ}note${SQ})
	order-rate-pin: 2 orders: 1 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    stored >actual &&
    echo P1 >expect &&
    test_cmp expect actual
'

test_expect_success 'syntax and field errors mixed: messages in input order, whatever the --batch' '
    cat >orders.csv <<-\EOF &&
	order_id,amount,currency,charge_currency,note
	M1,1.5,JPY,EUR,
	M2,16500,JPY,EUR,a "quote
	M3,16500,XYZ,EUR,
	M4,16500,JPY,EUR,x"y
	P1,16500,JPY,EUR,
	EOF
    cat >expect.err <<-EOF &&
	order-rate-pin: orders.csv:2: amount: ${SQ}1.5${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: orders.csv:3: malformed CSV: misplaced quote in field 5 (${SQ}note${SQ})
	order-rate-pin: orders.csv:4: currency: ${SQ}XYZ${SQ} is not an ISO 4217 currency
	order-rate-pin: orders.csv:5: malformed CSV: misplaced quote in field 5 (${SQ}note${SQ})
	order-rate-pin: 5 orders: 1 pinned, 0 existing, 0 refused, 4 failed
	EOF
    printf "%s\n" "$HDR" "$P1" >expect.out &&
    for b in 1 2 1000; do
        echo "with --batch $b" &&
        rm -f daigou.db daigou.db-wal daigou.db-shm && quotes &&
        test_expect_code 65 order-rate-pin --batch "$b" orders.csv >out 2>err &&
        test_cmp expect.out out &&
        test_cmp expect.err err || return 1
    done
'

test_expect_success 'JSON Lines: invalid lines and bad fields in input order' '
    quotes &&
    cat >orders.jsonl <<-\EOF &&
	{"order_id":"J1","amount":"1.5","currency":"JPY","charge_currency":"EUR"}
	{"order_id":"J2",
	{"order_id":"J3","currency":"JPY","charge_currency":"EUR"}
	[1]
	{"order_id":"P1","amount":"16500","currency":"JPY","charge_currency":"EUR"}
	EOF
    test_expect_code 65 order-rate-pin orders.jsonl >out 2>err &&
    printf "%s\n" "$HDR" "$P1" >expect &&
    test_cmp expect out &&
    sed -e "s/invalid JSON: .*/invalid JSON/" err >actual &&
    cat >expect <<-EOF &&
	order-rate-pin: orders.jsonl:1: amount: ${SQ}1.5${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: orders.jsonl:2: invalid JSON
	order-rate-pin: orders.jsonl:3: amount: missing
	order-rate-pin: orders.jsonl:4: not a JSON object
	order-rate-pin: 5 orders: 1 pinned, 0 existing, 0 refused, 4 failed
	EOF
    test_cmp expect actual
'

# A directory name of 100 bytes, twice: a path of over 200 bytes.
LONG=dir-with-a-long-name-as-cron-jobs-have-them-0123456789-0123456789-0123456789-0123456789-0123456789ab
test_expect_success 'long paths: orders and --lines files are read, messages name them whole' '
    quotes &&
    mkdir -p "$LONG/$LONG" &&
    dir=$LONG/$LONG &&
    printf "order_id,amount,currency,charge_currency\nP1,16500,JPY,EUR\nL1,102.30,EUR,USD\n" >"$dir/orders.csv" &&
    printf "order_id,line,qty,amount\nL1,1,1,100.00\nL1,2,1,2.30\n" >"$dir/lines.csv" &&
    order-rate-pin --lines "$dir/lines.csv" "$dir/orders.csv" >actual 2>err &&
    printf "%s\n" "$HDR" "$P1" "L1,102.30,EUR,127.82,USD,1.2495,,,,2026-04-13,2026-04-14T08:00:00Z,pinned" >expect &&
    test_cmp expect actual &&
    echo "order-rate-pin: 2 orders: 2 pinned, 0 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    printf "order_id,amount,currency,charge_currency\nB1,1.5,JPY,EUR\n" >"$dir/bad.csv" &&
    test_expect_code 65 order-rate-pin "$dir/bad.csv" >actual 2>err &&
    cat >expect <<-EOF &&
	order-rate-pin: $dir/bad.csv:2: amount: ${SQ}1.5${SQ} has more decimals than JPY${SQ}s 0
	order-rate-pin: 1 order: 0 pinned, 0 existing, 0 refused, 1 failed
	EOF
    test_cmp expect err &&
    printf "order_id,line,qty,amount\nL2,1,x,1\n" >"$dir/badlines.csv" &&
    test_expect_code 65 order-rate-pin --lines "$dir/badlines.csv" "$dir/orders.csv" >actual 2>err &&
    cat >expect <<-EOF &&
	order-rate-pin: $dir/badlines.csv:2: qty: ${SQ}x${SQ} is not a whole number from 1 to 1000000000
	order-rate-pin: $dir/badlines.csv: 1 bad row: no order read
	EOF
    test_cmp expect err &&
    test_must_be_empty actual
'

test_expect_success '--lines: a bad row after good ones is 65 exactly, nothing pinned' '
    quotes &&
    printf "order_id,amount,currency,charge_currency\nL1,102.30,EUR,USD\n" >orders.csv &&
    cat >lines.csv <<-\EOF &&
	order_id,line,qty,amount
	L1,1,1,100.00
	L1,2,1,2.30
	L1,3,0,1.00
	EOF
    test_expect_code 65 order-rate-pin --lines lines.csv orders.csv >actual 2>err &&
    test_must_be_empty actual &&
    cat >expect <<-EOF &&
	order-rate-pin: lines.csv:4: qty: ${SQ}0${SQ} is not a whole number from 1 to 1000000000
	order-rate-pin: lines.csv: 1 bad row: no order read
	EOF
    test_cmp expect err &&
    stored >actual &&
    test_must_be_empty actual
'

test_expect_success '--lines: a file with only its header is no lines at all' '
    quotes &&
    printf "order_id,amount,currency,charge_currency\nP1,16500,JPY,EUR\n" >orders.csv &&
    echo "order_id,line,qty,amount" >lines.csv &&
    order-rate-pin --lines lines.csv orders.csv >actual 2>err &&
    printf "%s\n" "$HDR" "$P1" >expect &&
    test_cmp expect actual &&
    : >empty.jsonl &&
    order-rate-pin --lines empty.jsonl orders.csv >actual 2>err &&
    sed "s/,pinned\$/,existing/" expect >expect.existing &&
    test_cmp expect.existing actual
'

test_expect_success 'no input to read: no header on stdout, the file counted in the summary' '
    quotes &&
    test_expect_code 66 order-rate-pin missing.csv >actual 2>err &&
    test_must_be_empty actual &&
    cat >expect <<-EOF &&
	order-rate-pin: cannot open ${SQ}missing.csv${SQ}: No such file or directory
	order-rate-pin: 0 orders: 0 pinned, 0 existing, 0 refused, 0 failed; 1 file failed
	EOF
    test_cmp expect err &&
    printf "order_id,amount,currency\nP1,16500,JPY\n" >nocol.csv &&
    test_expect_code 65 order-rate-pin nocol.csv >actual 2>err &&
    test_must_be_empty actual &&
    cat >expect <<-EOF &&
	order-rate-pin: nocol.csv: missing required column ${SQ}charge_currency${SQ}
	order-rate-pin: 0 orders: 0 pinned, 0 existing, 0 refused, 0 failed; 1 file failed
	EOF
    test_cmp expect err &&
    printf "\"\001\002\377garbage\n\n\"\"x" >garbage.bin &&
    test_expect_code 65 order-rate-pin garbage.bin >actual 2>err &&
    test_must_be_empty actual &&
    tail -n 1 err >actual &&
    echo "order-rate-pin: 0 orders: 0 pinned, 0 existing, 0 refused, 0 failed; 1 file failed" >expect &&
    test_cmp expect actual &&
    printf "order_id,amount,currency,charge_currency\nP1,16500,JPY,EUR\n" >orders.csv &&
    test_expect_code 66 order-rate-pin orders.csv missing.csv >actual 2>err &&
    printf "%s\n" "$HDR" "$P1" >expect &&
    test_cmp expect actual &&
    echo "order-rate-pin: 1 order: 1 pinned, 0 existing, 0 refused, 0 failed; 1 file failed" >expect &&
    tail -n 1 err >actual &&
    test_cmp expect actual
'

test_expect_success 'every row failed, or a bad clock: no header on stdout' '
    quotes &&
    printf "order_id,amount,currency,charge_currency\nB1,1.5,JPY,EUR\n" >bad.csv &&
    test_expect_code 65 order-rate-pin bad.csv >actual 2>err &&
    test_must_be_empty actual &&
    printf "order_id,amount,currency,charge_currency\nP1,16500,JPY,EUR\n" >orders.csv &&
    DAIGOU_NOW=yesterday test_expect_code 64 order-rate-pin orders.csv >actual 2>err &&
    test_must_be_empty actual &&
    echo "order_id,amount,currency,charge_currency" >empty.csv &&
    order-rate-pin empty.csv >actual 2>err &&
    echo "$HDR" >expect &&
    test_cmp expect actual
'

# quoted.py: quoted(TEXT) as dg_quoted shows it: control characters
# escaped, cut after 64 bytes with its length.
cat >"$D/quoted.py" <<\EOF
def quoted(s):
    b = s.encode()
    out = "'"
    for c in b[:64]:
        if c in b"\\'":
            out += "\\" + chr(c)
        elif c in b"\n\t\r":
            out += {10: "\\n", 9: "\\t", 13: "\\r"}[c]
        elif c < 0x20 or c >= 0x7f:
            out += "\\x%02x" % c
        else:
            out += chr(c)
    out += "'"
    if len(b) > 64:
        out += "... (%d bytes)" % len(b)
    return out
EOF

test_expect_success 'a 10,000-byte id with newlines and ESC: quoted, cut, the reason kept' '
    quotes &&
    "$PYTHON3" -c "
import json, sys
sys.path.insert(0, \"$D\")
from quoted import quoted
bad = \"\\x1b[31mred\\n\" + \"x\\n\" * 4994 + \"end\"
assert len(bad) == 10000
with open(\"orders.jsonl\", \"w\") as f:
    for o in ({\"order_id\": bad, \"amount\": \"1\"},
              {\"order_id\": \"P1\", \"amount\": \"1.5\" + bad}):
        o.update(currency=\"JPY\", charge_currency=\"EUR\")
        f.write(json.dumps(o) + \"\\n\")
with open(\"expect\", \"w\") as f:
    f.write(\"order-rate-pin: orders.jsonl:1: order_id: %s is not an order id (1 to 64 printable characters, no spaces, commas or quotes)\\n\" % quoted(bad))
    f.write(\"order-rate-pin: orders.jsonl:2: amount: %s is not an amount\\n\" % quoted(\"1.5\" + bad))
    f.write(\"order-rate-pin: 2 orders: 0 pinned, 0 existing, 0 refused, 2 failed\\n\")
" &&
    test_expect_code 65 order-rate-pin orders.jsonl >actual 2>err &&
    test_must_be_empty actual &&
    test_cmp expect err &&
    grep -c "(10000 bytes) is not an order id" err >n &&
    echo 1 >expect.n &&
    test_cmp expect.n n
'


# pin_from_fifo: order-rate-pin in batches of 1 in the background,
# reading the FIFO $D/in and writing the FIFO $D/out; its exit status in
# $D/fifo.rc.
pin_from_fifo() {
    {
        order-rate-pin -q --db daigou.db --batch 1 - <"$D/in" >"$D/out"
        echo $? >"$D/fifo.rc"
    } &
}

test_expect_success 'a pipe: each order is pinned and printed while the input stays open' '
    quotes &&
    rm -f "$D/in" "$D/out" &&
    mkfifo "$D/in" "$D/out" &&
    pin_from_fifo &&
    exec 3>"$D/in" 4<"$D/out" &&
    printf "order_id,amount,currency,charge_currency\nP1,16500,JPY,EUR\n" >&3 &&
    read -r h <&4 && read -r a <&4 &&
    printf "P4,50.00,EUR,EUR" >&3 &&
    exec 3>&- &&
    read -r b <&4 &&
    ! read -r more <&4 &&
    exec 4<&- &&
    wait &&
    printf "%s\n" "$HDR" "$P1" "$P4" >expect &&
    printf "%s\n" "$h" "$a" "$b" >actual &&
    test_cmp expect actual &&
    echo 0 >expect &&
    test_cmp expect "$D/fifo.rc"
'

test_done
