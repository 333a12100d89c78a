#!/bin/sh
# t0141-settle-diff-files: real shapes and edge cases: a PayPal STL
# report with two sections (a chargeback of a completed charge, a KWD
# amount off by 0.500, JPY and KWD exponents), the same with an empty
# section, a Stripe report with a cross-currency charge, its BOM + CRLF
# copy, quoted fields with commas, a file from another day, cut files
# and a lying footer (65 and nothing on stdout), the same file twice.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

ST=$FIXTURES/settle
HEADER=kind,gateway,gateway_txn_id,order_id,ledger_amount,settled_amount,currency,delta,settled_at,detail
export ST HEADER

cat >"$TRASH/pp-ledger.csv" <<'EOF'
gateway_txn_id,kind,order_id,amount,currency,created_at
5TY05013RG002845M,charge,DG-20001,120.00,USD,2026-11-26T17:14:31Z
8VD50457S2727035V,charge,DG-20002,89.50,USD,2026-11-26T18:02:49Z
1AB23456CD7890123,refund,DG-20001,30.00,USD,2026-11-26T21:30:00Z
2MN34567PQ8901234,charge,DG-20003,12800,JPY,2026-11-27T02:20:05Z
6RS78901TU2345678,charge,DG-20004,45.500,KWD,2026-11-27T03:05:44Z
7VW89012XY3456789,refund,DG-20003,3000,JPY,2026-11-27T05:10:00Z
EOF

cat >"$TRASH/st-ledger.csv" <<'EOF'
gateway_txn_id,kind,order_id,amount,currency,created_at,status
ch_3QfA1bCZ6qsJgndJ1d4e5f6g,charge,DG-10001,120.00,USD,2026-11-26T01:12:08Z,
ch_3QfA9xCZ6qsJgndJ1y6t5r4e,charge,DG-10002,89.50,USD,2026-11-26T03:40:54Z,disputed
ch_3QfB4kCZ6qsJgndJ1b5n6m7q,charge,DG-10003,9800,JPY,2026-11-26T05:02:16Z,
re_3QfC7mCZ6qsJgndJ1g4h5j6k,refund,DG-10001,30.00,USD,2026-11-26T08:29:59Z,
ch_3QfF8tCZ6qsJgndJ1o8p9a0s,charge,DG-10004,12800,JPY,2026-11-26T14:21:02Z,
EOF

cat >"$TRASH/pp-expect" <<'EOF'
kind,gateway,gateway_txn_id,order_id,ledger_amount,settled_amount,currency,delta,settled_at,detail
amount_mismatch,paypal,6RS78901TU2345678,DG-20004,45.500,45.000,KWD,-0.500,2026-11-27T03:05:44Z,charge at stl.csv:15
status_mismatch,paypal,8VD50457S2727035V,DG-20002,89.50,89.50,USD,0.00,2026-11-26T23:45:10Z,"T1201 at stl.csv:8, the ledger holds the charge as completed"
EOF

test_expect_success 'PayPal STL: the chargeback and the KWD difference, exit 1' '
    cp "$ST/paypal-stl.csv" stl.csv &&
    test_expect_code 1 settle-diff -q --ledger "$TRASH/pp-ledger.csv" stl.csv >out &&
    test_cmp "$TRASH/pp-expect" out
'

test_expect_success 'PayPal STL: figures per currency in their own exponents' '
    test_expect_code 1 settle-diff --summary \
        --ledger "$TRASH/pp-ledger.csv" "$ST/paypal-stl.csv" >out 2>err &&
    cat >expect <<-EOF &&
	currency,rows,gross,fees,net,matched_count,matched_value,mismatched_value,mismatched_percent
	JPY,2,9800,461,9339,2,15800,0,0.00
	KWD,1,45.000,1.670,43.330,0,0.000,0.500,1.11
	USD,5,40.00,25.74,14.26,3,239.50,89.50,37.37
	EOF
    test_cmp expect out &&
    cat >expect <<-EOF &&
	settle-diff: KWD: mismatched 0.500 KWD is over the threshold of 0.5 % of 45.000 settled
	settle-diff: USD: mismatched 89.50 USD is over the threshold of 0.5 % of 239.50 settled
	EOF
    test_cmp expect err
'

test_expect_success 'an empty section changes nothing' '
    cp "$ST/paypal-stl-empty-section.csv" stl.csv &&
    test_expect_code 1 settle-diff -q --ledger "$TRASH/pp-ledger.csv" stl.csv >out &&
    sed "s/stl.csv:15/stl.csv:18/" "$TRASH/pp-expect" >expect &&
    test_cmp expect out
'

test_expect_success 'Stripe: a clean day (cross-currency, dispute of a disputed charge)' '
    cp "$ST/stripe-itemized.csv" s.csv &&
    settle-diff --ledger "$TRASH/st-ledger.csv" s.csv >out 2>err &&
    echo "$HEADER" >expect &&
    test_cmp expect out &&
    cat >expect <<-EOF &&
	settle-diff: JPY: 1 rows, gross 12800, fees 461, net 12339; matched 2 (22600); mismatched 0 of 22600 settled (0.00 %)
	settle-diff: USD: 7 rows, gross -347.88, fees 23.84, net -371.72; matched 3 (239.50); mismatched 0.00 of 239.50 settled (0.00 %)
	EOF
    test_cmp expect err
'

test_expect_success 'BOM and CRLF: the same rows and figures' '
    cp "$ST/stripe-itemized.csv" s.csv &&
    settle-diff --summary --ledger "$TRASH/st-ledger.csv" s.csv >expect &&
    cp "$ST/stripe-itemized-bom-crlf.csv" s.csv &&
    settle-diff --summary --ledger "$TRASH/st-ledger.csv" s.csv >out &&
    test_cmp expect out &&
    test_line_count = 3 out
'

test_expect_success 'quoted fields with commas: the order of a refund found' '
    cp "$ST/stripe-itemized.csv" s.csv &&
    grep -v "^re_" "$TRASH/st-ledger.csv" >ledger.csv &&
    test_expect_code 1 settle-diff -q --ledger ledger.csv s.csv >out &&
    cat >expect <<-EOF &&
	$HEADER
	missing_in_ledger,stripe,re_3QfC7mCZ6qsJgndJ1g4h5j6k,DG-10001,,30.00,USD,30.00,2026-11-26T08:30:00Z,refund at s.csv:5
	EOF
    test_cmp expect out
'

test_expect_success 'the dispute of a completed charge is a status_mismatch' '
    sed "s/,disputed\$/,completed/" "$TRASH/st-ledger.csv" >ledger.csv &&
    cp "$ST/stripe-itemized.csv" s.csv &&
    test_expect_code 1 settle-diff -q --ledger ledger.csv s.csv >out &&
    cat >expect <<-EOF &&
	$HEADER
	status_mismatch,stripe,ch_3QfA9xCZ6qsJgndJ1y6t5r4e,DG-10002,89.50,89.50,USD,0.00,2026-11-26T11:15:42Z,"dispute at s.csv:6, the ledger holds the charge as completed"
	EOF
    test_cmp expect out
'

test_expect_success 'a file from another day: nothing of the ledger is missing' '
    sed "s/2026-11-26T/2026-11-27T/; s/,ch_3Q/,ch_4Q/; s/^ch_3Q/ch_4Q/; s/^re_3Q/re_4Q/" \
        "$TRASH/st-ledger.csv" >ledger.csv &&
    cp "$ST/stripe-itemized.csv" s.csv &&
    test_expect_code 1 settle-diff -q --ledger ledger.csv s.csv >out &&
    cut -d, -f1,3 out >actual &&
    cat >expect <<-EOF &&
	kind,gateway_txn_id
	missing_in_ledger,ch_3QfA1bCZ6qsJgndJ1d4e5f6g
	missing_in_ledger,ch_3QfA9xCZ6qsJgndJ1y6t5r4e
	missing_in_ledger,ch_3QfA9xCZ6qsJgndJ1y6t5r4e
	missing_in_ledger,ch_3QfB4kCZ6qsJgndJ1b5n6m7q
	missing_in_ledger,ch_3QfF8tCZ6qsJgndJ1o8p9a0s
	missing_in_ledger,re_3QfC7mCZ6qsJgndJ1g4h5j6k
	EOF
    test_cmp expect actual
'

test_expect_success '--from/--to take the ledger day in: its payments are missing' '
    sed "s/2026-11-26T/2026-11-27T/; s/^ch_3Q/ch_4Q/; s/^re_3Q/re_4Q/" \
        "$TRASH/st-ledger.csv" >ledger.csv &&
    cp "$ST/stripe-itemized.csv" s.csv &&
    test_expect_code 1 settle-diff -q --from 2026-11-26 --to 2026-11-27 \
        --ledger ledger.csv s.csv >out &&
    grep -c "^missing_in_settlement," out >count &&
    echo 5 >expect &&
    test_cmp expect count &&
    test_expect_code 1 settle-diff -q --from 2026-11-26 --to 2026-11-26 \
        --ledger ledger.csv s.csv >out &&
    ! grep "^missing_in_settlement," out
'

test_expect_success 'the same file twice: each row a duplicate_in_settlement' '
    cp "$ST/stripe-itemized.csv" s.csv &&
    test_expect_code 1 settle-diff -q --ledger "$TRASH/st-ledger.csv" s.csv s.csv >out &&
    cut -d, -f1,3 out >actual &&
    cat >expect <<-EOF &&
	kind,gateway_txn_id
	duplicate_in_settlement,ch_3QfA1bCZ6qsJgndJ1d4e5f6g
	duplicate_in_settlement,ch_3QfA9xCZ6qsJgndJ1y6t5r4e
	duplicate_in_settlement,ch_3QfB4kCZ6qsJgndJ1b5n6m7q
	duplicate_in_settlement,ch_3QfF8tCZ6qsJgndJ1o8p9a0s
	duplicate_in_settlement,du_3QfD2pCZ6qsJgndJ1f6d5s4a
	duplicate_in_settlement,re_3QfC7mCZ6qsJgndJ1g4h5j6k
	EOF
    test_cmp expect actual &&
    sed -n 2p out >actual &&
    echo "duplicate_in_settlement,stripe,ch_3QfA1bCZ6qsJgndJ1d4e5f6g,DG-10001,,120.00,USD,120.00,2026-11-26T01:12:09Z,\"charge again at s.csv:2 (file 2), first at s.csv:2 (file 1)\"" >expect &&
    test_cmp expect actual
'

for f in stripe-truncated stripe-net-wrong paypal-stl-truncated \
    paypal-stl-no-ff paypal-stl-footer-lies; do
    test_expect_success "$f: 65 and nothing on stdout" '
        cp "$ST/'"$f"'.csv" f.csv &&
        test_expect_code 65 settle-diff --ledger "$TRASH/st-ledger.csv" f.csv >out 2>err &&
        test_must_be_empty out &&
        test_line_count = 1 err &&
        grep "^settle-diff: f.csv:[0-9]*: " err
    '
done

test_expect_success 'a lying footer is named by its line' '
    cp "$ST/paypal-stl-footer-lies.csv" stl.csv &&
    test_expect_code 65 settle-diff --ledger "$TRASH/pp-ledger.csv" stl.csv >out 2>err &&
    test_must_be_empty out &&
    grep "^settle-diff: stl.csv:10: the SF totals for USD" err
'

test_expect_success 'a good file then a cut one: nothing reported' '
    cp "$ST/stripe-itemized.csv" s.csv &&
    cp "$ST/stripe-truncated.csv" cut.csv &&
    test_expect_code 65 settle-diff --ledger "$TRASH/st-ledger.csv" s.csv cut.csv >out 2>err &&
    test_must_be_empty out
'

test_expect_success 'a Stripe and a PayPal file in one run: 65' '
    test_expect_code 65 settle-diff --ledger "$TRASH/st-ledger.csv" \
        "$ST/stripe-itemized.csv" "$ST/paypal-stl.csv" >out 2>err &&
    test_must_be_empty out &&
    grep "is a paypal report, the files before it stripe ones" err
'

test_expect_success 'stdin as -' '
    settle-diff -q --ledger "$TRASH/st-ledger.csv" - <"$ST/stripe-itemized.csv" >out &&
    echo "$HEADER" >expect &&
    test_cmp expect out
'

test_done
