#!/bin/sh
# t0140-settle-diff: a Stripe day against a ledger file with one of each
# difference planted: every kind found once, with the exact row, sorted
# by kind then id; the summary per currency on stderr (--summary: on
# stdout), the threshold and the exit status, JSON Lines, --all-rows,
# and a cross-currency charge compared in the customer's currency.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

SD=$FIXTURES/settle-diff
export SD

# run [ARGS...]: the day's file against the day's ledger, from a copy
# named as the expected rows name it.
run() {
    cp "$SD/stripe-2026-11-26.csv" . &&
    cp "$SD/ledger-2026-11-26.csv" ledger.csv &&
    settle-diff --ledger ledger.csv "$@" stripe-2026-11-26.csv >out 2>err
}

cat >"$TRASH/expect-rows" <<'EOF'
kind,gateway,gateway_txn_id,order_id,ledger_amount,settled_amount,currency,delta,settled_at,detail
amount_mismatch,stripe,ch_A2,S2402,50.00,55.00,EUR,5.00,2026-11-26T09:20:00Z,charge at stripe-2026-11-26.csv:3
amount_mismatch,stripe,re_B2,S2405,10.00,10.00,EUR,0.00,2026-11-26T11:00:00Z,"settled as a refund at stripe-2026-11-26.csv:6, the ledger holds a charge"
currency_mismatch,stripe,ch_A3,S2403,20.00,20.00,EUR,,2026-11-26T10:00:00Z,"charge at stripe-2026-11-26.csv:4 settled in EUR, the ledger holds USD"
duplicate_in_ledger,stripe,ch_A7b,S2407,40.00,,EUR,-40.00,,"order S2407 has 2 charges in the ledger, 1 settled"
duplicate_in_settlement,stripe,ch_A1,S2401,,102.30,EUR,102.30,2026-11-26T15:00:00Z,"charge again at stripe-2026-11-26.csv:13, first at stripe-2026-11-26.csv:2"
missing_in_ledger,stripe,ch_A6,S2406,,33.00,EUR,33.00,2026-11-26T11:30:00Z,charge at stripe-2026-11-26.csv:7
missing_in_settlement,stripe,ch_A8,S2408,70.00,,EUR,-70.00,,"charge of 2026-11-26T14:30:00Z, completed in the ledger"
status_mismatch,stripe,ch_A11,S2411,12.00,12.00,EUR,0.00,2026-11-26T14:00:00Z,"charge at stripe-2026-11-26.csv:12, the ledger holds it as failed"
status_mismatch,stripe,ch_OLD1,S2300,60.00,60.00,EUR,0.00,2026-11-26T12:30:00Z,"dispute at stripe-2026-11-26.csv:9, the ledger holds the charge as completed"
EOF

cat >"$TRASH/expect-err" <<'EOF'
settle-diff: EUR: 13 rows, gross 162.00, fees 30.71, net 131.29; matched 3 (167.30); mismatched 342.30 of 399.60 settled (85.66 %)
settle-diff: USD: 0 rows, gross 0.00, fees 0.00, net 0.00; matched 1 (100.00); mismatched 0.00 of 100.00 settled (0.00 %)
settle-diff: EUR: mismatched 342.30 EUR is over the threshold of 0.5 % of 399.60 settled
EOF

test_expect_success 'every planted difference is one row, sorted; exit 1' '
    test_expect_code 1 run &&
    test_cmp "$TRASH/expect-rows" out &&
    test_cmp "$TRASH/expect-err" err
'

test_expect_success 'two runs print the same bytes' '
    test_expect_code 1 run && mv out out1 &&
    test_expect_code 1 run &&
    test_cmp out1 out
'

test_expect_success '--threshold over the mismatched percent: exit 0' '
    test_expect_code 0 run --threshold 86 &&
    test_cmp "$TRASH/expect-rows" out &&
    head -n 2 "$TRASH/expect-err" >expect &&
    test_cmp expect err
'

test_expect_success '--threshold just under 85.66 %: exit 1' '
    test_expect_code 1 run --threshold 85.6606 &&
    test_expect_code 0 run --threshold 85.6607
'

test_expect_success '-q: the rows, no summary' '
    test_expect_code 1 run -q &&
    test_cmp "$TRASH/expect-rows" out &&
    test_must_be_empty err
'

test_expect_success '--summary: the figures as rows on stdout' '
    test_expect_code 1 run --summary &&
    cat >expect <<-EOF &&
	currency,rows,gross,fees,net,matched_count,matched_value,mismatched_value,mismatched_percent
	EUR,13,162.00,30.71,131.29,3,167.30,342.30,85.66
	USD,0,0.00,0.00,0.00,1,100.00,0.00,0.00
	EOF
    test_cmp expect out &&
    tail -n 1 "$TRASH/expect-err" >expect &&
    test_cmp expect err
'

test_expect_success '--summary --json' '
    test_expect_code 1 run --summary --json &&
    cat >expect <<-EOF &&
	{"currency":"EUR","rows":"13","gross":"162.00","fees":"30.71","net":"131.29","matched_count":"3","matched_value":"167.30","mismatched_value":"342.30","mismatched_percent":"85.66"}
	{"currency":"USD","rows":"0","gross":"0.00","fees":"0.00","net":"0.00","matched_count":"1","matched_value":"100.00","mismatched_value":"0.00","mismatched_percent":"0.00"}
	EOF
    test_cmp expect out
'

test_expect_success '--json: the same rows, absent values null, money as strings' '
    test_expect_code 1 run --json &&
    test_line_count = 9 out &&
    sed -n 4p out >actual &&
    cat >expect <<-EOF &&
	{"kind":"duplicate_in_ledger","gateway":"stripe","gateway_txn_id":"ch_A7b","order_id":"S2407","ledger_amount":"40.00","settled_amount":null,"currency":"EUR","delta":"-40.00","settled_at":null,"detail":"order S2407 has 2 charges in the ledger, 1 settled"}
	EOF
    test_cmp expect actual
'

test_expect_success '--all-rows: matched and other rows too' '
    test_expect_code 1 run --all-rows &&
    grep -E "^(matched|other)," out >actual &&
    cat >expect <<-EOF &&
	matched,stripe,ch_A1,S2401,102.30,102.30,EUR,0.00,2026-11-26T09:14:31Z,charge
	matched,stripe,ch_A7,S2407,40.00,40.00,EUR,0.00,2026-11-26T12:00:00Z,charge
	matched,stripe,ch_A9,S2409,100.00,100.00,USD,0.00,2026-11-26T13:00:00Z,charge
	matched,stripe,re_B1,S2401,25.00,25.00,EUR,0.00,2026-11-26T10:30:00Z,refund
	other,stripe,du_C1,,,0.00,EUR,,2026-11-26T13:30:00Z,fee
	other,stripe,po_1,,,-200.00,EUR,,2026-11-26T23:00:00Z,payout
	EOF
    test_cmp expect actual &&
    grep -v -E "^(matched|other)," out >rest &&
    test_cmp "$TRASH/expect-rows" rest
'

test_expect_success 'the cross-currency charge: a customer-facing difference found in USD' '
    cp "$SD/stripe-2026-11-26.csv" s.csv &&
    sed "s/^ch_A9,charge,S2409,100.00,USD/ch_A9,charge,S2409,99.00,USD/" \
        "$SD/ledger-2026-11-26.csv" >ledger.csv &&
    test_expect_code 1 settle-diff -q --ledger ledger.csv s.csv >out &&
    grep ch_A9 out >actual &&
    echo "amount_mismatch,stripe,ch_A9,S2409,99.00,100.00,USD,1.00,2026-11-26T13:00:00Z,\"charge at s.csv:10, customer-facing; settled in EUR\"" >expect &&
    test_cmp expect actual
'

test_expect_success 'a clean day: the header only, exit 0' '
    printf "%s\n" "gateway_txn_id,kind,order_id,amount,currency,created_at" \
        "ch_A1,charge,S2401,102.30,EUR,2026-11-26T09:14:30Z" >ledger.csv &&
    head -n 2 "$SD/stripe-2026-11-26.csv" >s.csv &&
    settle-diff --ledger ledger.csv s.csv >out 2>err &&
    head -n 1 "$TRASH/expect-rows" >expect &&
    test_cmp expect out &&
    echo "settle-diff: EUR: 1 rows, gross 102.30, fees 3.32, net 98.98; matched 1 (102.30); mismatched 0.00 of 102.30 settled (0.00 %)" >expect &&
    test_cmp expect err
'

test_expect_success 'the ledger as JSON Lines gives the same rows' '
    cp "$SD/stripe-2026-11-26.csv" . &&
    "$PYTHON3" -c "
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1])):
    r = {k: v for k, v in r.items() if v != \"\"}
    print(json.dumps(r))
" "$SD/ledger-2026-11-26.csv" >ledger.jsonl &&
    test_expect_code 1 settle-diff -q --ledger ledger.jsonl stripe-2026-11-26.csv >out &&
    test_cmp "$TRASH/expect-rows" out
'

test_done
