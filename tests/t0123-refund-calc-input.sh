#!/bin/sh
# t0123-refund-calc-input: what a refund batch does with input that is not
# what it should be: a stray quote, a quote never closed, syntax and field
# errors mixed (messages in input order), a long path, input that cannot
# be read at all (no CSV header on stdout, the summary counts the file),
# and hostile ids quoted in messages.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
# shellcheck disable=SC2034 # used inside the test bodies
HEADER=order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source

DAIGOU_DB=$TRASH/shop.db
export DAIGOU_DB
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_NOW

# Two orders in EUR, charged in EUR: every refund is at the rate 1.
# shellcheck disable=SC2034 # used inside the test bodies
E1=E1,,10.00,EUR,10.00,EUR,1,1,10.00,0.00,10.00,70.00,pinned
# shellcheck disable=SC2034 # used inside the test bodies
E2=E2,,20.00,EUR,20.00,EUR,1,1,20.00,0.00,20.00,30.00,pinned

test_expect_success 'setup: two orders pinned' '
    printf "%s\n" order_id,amount,currency,charge_currency E1,80.00,EUR,EUR E2,50.00,EUR,EUR |
        DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q >out &&
    test_line_count = 3 out
'

test_expect_success 'a stray quote in a column not read: that row reported, the rows after it computed' '
    cat >req.csv <<-\EOF &&
	order_id,amount,note
	E1,10.00,fine
	E2,5.00,customer said "broken
	E2,20.00,ok
	EOF
    test_expect_code 65 refund-calc req.csv >actual 2>err &&
    printf "%s\n" "$HEADER" "$E1" "$E2" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	refund-calc: req.csv:3: malformed CSV: misplaced quote in field 3 (${SQ}note${SQ})
	refund-calc: 3 refunds: 0 recorded, 0 existing, 2 computed, 1 failed
	EOF
    test_cmp expect err
'

test_expect_success 'a quote never closed: the lines it took are named, what follows is read' '
    cat >req.csv <<-\EOF &&
	order_id,amount,note
	E1,10.00,"gift
	E2,5.00,x
	E1,10.00,"wrap"
	E2,20.00,
	EOF
    test_expect_code 65 refund-calc req.csv >actual 2>err &&
    printf "%s\n" "$HEADER" "$E2" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	refund-calc: req.csv:2: malformed CSV: misplaced quote in field 3 (${SQ}note${SQ}) on line 4: lines 2 to 4 skipped
	refund-calc: 2 refunds: 0 recorded, 0 existing, 1 computed, 1 failed
	EOF
    test_cmp expect err
'

test_expect_success 'syntax and field errors mixed: messages in input order, whatever the --batch' '
    cat >req.csv <<-\EOF &&
	order_id,amount,note
	E1,1.234,
	E1,1.00,a "quote
	E1 X,1.00,
	E2,1.00,x"y
	E1,10.00,
	EOF
    cat >expect.err <<-EOF &&
	refund-calc: req.csv:2: amount: ${SQ}1.234${SQ} has more decimals than EUR${SQ}s 2
	refund-calc: req.csv:3: malformed CSV: misplaced quote in field 3 (${SQ}note${SQ})
	refund-calc: req.csv:4: order_id: ${SQ}E1 X${SQ} is not an order id (1 to 64 printable characters, no spaces, commas or quotes)
	refund-calc: req.csv:5: malformed CSV: misplaced quote in field 3 (${SQ}note${SQ})
	refund-calc: 5 refunds: 0 recorded, 0 existing, 1 computed, 4 failed
	EOF
    printf "%s\n" "$HEADER" "$E1" >expect.out &&
    for b in 1 2 1000; do
        echo "with --batch $b" &&
        test_expect_code 65 refund-calc --batch "$b" req.csv >out 2>err &&
        test_cmp expect.out out &&
        test_cmp expect.err err || return 1
    done &&
    cat >req.jsonl <<-\EOF &&
	{"order_id": "E1", "amount": "1.234"}
	{"order_id": "E1",
	{"order_id": "E1", "all": "maybe"}
	["E1"]
	{"order_id": "E1", "amount": "10.00"}
	EOF
    test_expect_code 65 refund-calc req.jsonl >out 2>err &&
    test_cmp expect.out out &&
    sed -e "s/invalid JSON: .*/invalid JSON/" err >actual &&
    cat >expect <<-EOF &&
	refund-calc: req.jsonl:1: amount: ${SQ}1.234${SQ} has more decimals than EUR${SQ}s 2
	refund-calc: req.jsonl:2: invalid JSON
	refund-calc: req.jsonl:3: all: ${SQ}maybe${SQ} is not true or false
	refund-calc: req.jsonl:4: not a JSON object
	refund-calc: 5 refunds: 0 recorded, 0 existing, 1 computed, 4 failed
	EOF
    test_cmp expect actual
'

test_expect_success '--strict: a malformed row stops the run; the rows before it stand' '
    cat >req.csv <<-\EOF &&
	order_id,refund_id,amount,note
	E1,S1,10.00,fine
	E2,S2,5.00,customer said "broken
	E2,S3,20.00,ok
	EOF
    test_expect_code 65 refund-calc --strict --record req.csv >actual 2>err &&
    printf "%s\n" "$HEADER" "E1,S1,10.00,EUR,10.00,EUR,1,1,10.00,0.00,10.00,70.00,pinned" >expect &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	refund-calc: req.csv:3: malformed CSV: misplaced quote in field 4 (${SQ}note${SQ})
	refund-calc: 2 refunds: 1 recorded, 0 existing, 0 computed, 1 failed
	EOF
    test_cmp expect err &&
    test_sql "$DAIGOU_DB" "SELECT group_concat(refund_id) FROM refunds" >actual &&
    echo S1 >expect &&
    test_cmp expect actual
'

# A directory name of 100 bytes, twice: a path of over 200 bytes.
LONG=dir-with-a-long-name-as-cron-jobs-have-them-0123456789-0123456789-0123456789-0123456789-0123456789ab
test_expect_success 'a long path: the file is read, messages name it whole' '
    mkdir -p "$LONG/$LONG" &&
    dir=$LONG/$LONG &&
    printf "%s\n" order_id,amount E2,20.00 >"$dir/req.csv" &&
    refund-calc "$dir/req.csv" >actual 2>err &&
    printf "%s\n" "$HEADER" "$E2" >expect &&
    test_cmp expect actual &&
    echo "refund-calc: 1 refund: 0 recorded, 0 existing, 1 computed, 0 failed" >expect &&
    test_cmp expect err &&
    printf "%s\n" order_id,amount E2,0.001 >"$dir/bad.csv" &&
    test_expect_code 65 refund-calc "$dir/bad.csv" >actual 2>err &&
    test_must_be_empty actual &&
    cat >expect <<-EOF &&
	refund-calc: $dir/bad.csv:2: amount: ${SQ}0.001${SQ} has more decimals than EUR${SQ}s 2
	refund-calc: 1 refund: 0 recorded, 0 existing, 0 computed, 1 failed
	EOF
    test_cmp expect err
'

test_expect_success 'no input to read: no header on stdout, the file counted in the summary' '
    test_expect_code 66 refund-calc missing.csv >actual 2>err &&
    test_must_be_empty actual &&
    cat >expect <<-EOF &&
	refund-calc: cannot open ${SQ}missing.csv${SQ}: No such file or directory
	refund-calc: 0 refunds: 0 recorded, 0 existing, 0 computed, 0 failed; 1 file failed
	EOF
    test_cmp expect err &&
    printf "\"\001\002\377garbage\n\n\"\"x" >garbage.bin &&
    test_expect_code 65 refund-calc garbage.bin >actual 2>err &&
    test_must_be_empty actual &&
    tail -n 1 err >actual &&
    echo "refund-calc: 0 refunds: 0 recorded, 0 existing, 0 computed, 0 failed; 1 file failed" >expect &&
    test_cmp expect actual &&
    printf "%s\n" order_id,amount E2,20.00 >req.csv &&
    test_expect_code 66 refund-calc req.csv missing.csv >actual 2>err &&
    printf "%s\n" "$HEADER" "$E2" >expect &&
    test_cmp expect actual &&
    tail -n 1 err >actual &&
    echo "refund-calc: 1 refund: 0 recorded, 0 existing, 1 computed, 0 failed; 1 file failed" >expect &&
    test_cmp expect actual &&
    echo order_id,amount >empty.csv &&
    refund-calc empty.csv >actual 2>err &&
    echo "$HEADER" >expect &&
    test_cmp expect actual
'

test_expect_success 'a 10,000-byte id with newlines and ESC: quoted, cut, the reason kept' '
    "$PYTHON3" -c "
import json
def quoted(s):
    b = s.encode()
    out = \"\\x27\"
    for c in b[:64]:
        if c == 10:
            out += \"\\\\n\"
        elif c < 0x20 or c >= 0x7f:
            out += \"\\\\x%02x\" % c
        else:
            out += chr(c)
    return out + \"\\x27... (%d bytes)\" % len(b)
bad = \"\\x1b[31mred\\n\" + \"x\\n\" * 4994 + \"end\"
assert len(bad) == 10000
with open(\"req.jsonl\", \"w\") as f:
    for o in ({\"order_id\": bad, \"all\": True},
              {\"order_id\": \"E1\", \"refund_id\": bad, \"all\": True},
              {\"order_id\": \"E1\", \"lines\": \"1\" + bad}):
        f.write(json.dumps(o) + \"\\n\")
with open(\"expect\", \"w\") as f:
    f.write(\"refund-calc: req.jsonl:1: order_id: %s is not an order id (1 to 64 printable characters, no spaces, commas or quotes)\\n\" % quoted(bad))
    f.write(\"refund-calc: req.jsonl:2: refund_id: %s is not a refund id (1 to 64 printable characters, no spaces, commas or quotes)\\n\" % quoted(bad))
    f.write(\"refund-calc: req.jsonl:3: lines: %s is not a list of lines such as 2,5 or 2:1,5:3 (line:quantity)\\n\" % quoted(\"1\" + bad))
    f.write(\"refund-calc: 3 refunds: 0 recorded, 0 existing, 0 computed, 3 failed\\n\")
" &&
    test_expect_code 65 refund-calc req.jsonl >actual 2>err &&
    test_must_be_empty actual &&
    test_cmp expect err
'

test_done
