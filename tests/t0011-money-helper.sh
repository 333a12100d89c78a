#!/bin/sh
# Money and currency end to end through dg-test-tool: exact answers, and
# bad input refused with exit 65 and the library's message.
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

test_expect_success 'the seed incident: 16500 JPY pinned at 161.29 is 102.30 EUR' '
    echo 10230 >expect &&
    "$TEST_TOOL" money convert 16500 0 2 - 161.29 half-up >actual &&
    test_cmp expect actual &&
    "$TEST_TOOL" money format 10230 2 >actual &&
    echo 102.30 >expect &&
    test_cmp expect actual
'

test_expect_success 'the refund day rate 165.25 would have paid 99.85' '
    echo 9985 >expect &&
    "$TEST_TOOL" money convert 16500 0 2 - 165.25 half-up >actual &&
    test_cmp expect actual
'

test_expect_success 'cross rate JPY to USD through EUR' '
    echo 10323 >expect &&
    "$TEST_TOOL" money convert 16500 0 2 1.1684 186.75 half-even >actual &&
    test_cmp expect actual
'

test_expect_success 'ties: half-up away from zero, half-even to even' '
    cat >expect <<-\EOT &&
	3
	2
	-3
	-2
	313
	312
	EOT
    {
        "$TEST_TOOL" money convert 250 2 0 - - half-up &&
        "$TEST_TOOL" money convert 250 2 0 - - half-even &&
        "$TEST_TOOL" money convert -250 2 0 - - half-up &&
        "$TEST_TOOL" money convert -250 2 0 - - half-even &&
        "$TEST_TOOL" money convert 1250 3 2 2.5 - half-up &&
        "$TEST_TOOL" money convert 1250 3 2 2.5 - half-even
    } >actual &&
    test_cmp expect actual
'

test_expect_success 'effective rates' '
    cat >expect <<-\EOT &&
	0.00620001240002480
	161.29
	0.00625649263721553
	EOT
    {
        "$TEST_TOOL" money effective - 161.29 &&
        "$TEST_TOOL" money effective 161.29 - &&
        "$TEST_TOOL" money effective 1.1684 186.75
    } >actual &&
    test_cmp expect actual
'

test_expect_success 'amounts parse and format with the currency digits' '
    cat >expect <<-\EOT &&
	1250
	-5
	7
	-9223372036854775808
	1.250
	-0.05
	-92233720368547758.08
	EOT
    {
        "$TEST_TOOL" money parse 1.25 3 &&
        "$TEST_TOOL" money parse -0.05 2 &&
        "$TEST_TOOL" money parse 007 0 &&
        "$TEST_TOOL" money parse -9223372036854775808 0 &&
        "$TEST_TOOL" money format 1250 3 &&
        "$TEST_TOOL" money format -5 2 &&
        "$TEST_TOOL" money format -9223372036854775808 2
    } >actual &&
    test_cmp expect actual
'

test_expect_success 'a rate keeps its published text' '
    echo "47630 4 4.7630" >expect &&
    "$TEST_TOOL" money rate 4.7630 >actual &&
    test_cmp expect actual
'

test_expect_success 'allocation adds up to the total' '
    echo "6077 2789 1364" >expect &&
    "$TEST_TOOL" money allocate 10230 9801 4499 2200 >actual &&
    test_cmp expect actual
'

test_expect_success 'the drift check: exactly 2 % is not more than 2 %' '
    printf "0\n1\n" >expect &&
    {
        "$TEST_TOOL" money moved 164.5158 161.29 2 &&
        "$TEST_TOOL" money moved 165.25 161.29 2
    } >actual &&
    test_cmp expect actual
'

test_expect_success 'bad input exits 65 with the message' '
    cat >expect <<-\EOT &&
	dg-test-tool: '"'"'1.234'"'"': too many decimal places
	dg-test-tool: '"'"'1e5'"'"': not a plain decimal
	dg-test-tool: '"'"'0'"'"': must be positive
	dg-test-tool: '"'"'1234567890123456789'"'"': too many significant digits
	dg-test-tool: '"'"'9223372036854775807'"'"': overflow
	dg-test-tool: '"'"'92233720368547758.08'"'"': overflow
	dg-test-tool: '"'"'100'"'"': invalid argument
	EOT
    test_expect_code 65 "$TEST_TOOL" money parse 1.234 2 2>err &&
    test_expect_code 65 "$TEST_TOOL" money rate 1e5 2>>err &&
    test_expect_code 65 "$TEST_TOOL" money convert 1 0 0 - 0 half-up \
        2>>err &&
    test_expect_code 65 "$TEST_TOOL" money rate 1234567890123456789 \
        2>>err &&
    test_expect_code 65 "$TEST_TOOL" money convert 9223372036854775807 \
        0 0 2 - half-up 2>>err &&
    test_expect_code 65 "$TEST_TOOL" money parse 92233720368547758.08 2 \
        2>>err &&
    test_expect_code 65 "$TEST_TOOL" money allocate 100 0 0 2>>err &&
    test_cmp expect err
'

test_expect_success 'usage errors exit 64' '
    test_expect_code 64 "$TEST_TOOL" money convert 1 0 0 - - half-down &&
    test_expect_code 64 "$TEST_TOOL" money frobnicate &&
    test_expect_code 64 "$TEST_TOOL" currency
'

test_expect_success 'currencies: exponent and status' '
    cat >expect <<-\EOT &&
	JPY 0 active Yen
	KWD 3 active Kuwaiti Dinar
	CLF 4 active Unidad de Fomento
	BGN 2 historic Bulgarian Lev
	EOT
    for c in JPY KWD CLF BGN; do
        "$TEST_TOOL" currency $c || exit 1
    done >actual &&
    test_cmp expect actual
'

test_expect_success 'unknown and malformed codes exit 65' '
    echo "dg-test-tool: unknown currency '"'"'eur'"'"'" >expect &&
    test_expect_code 65 "$TEST_TOOL" currency eur 2>err &&
    test_cmp expect err &&
    test_expect_code 65 "$TEST_TOOL" currency XAU 2>/dev/null
'

test_expect_success 'every code in the ECB history header is known' '
    head -n 1 "$FIXTURES/ecb/eurofxref-hist.csv" | tr -d "\r" |
        tr , "\n" | grep -v "^Date\$" | grep . >codes &&
    test_line_count -ge 40 codes &&
    while read -r c; do
        "$TEST_TOOL" currency "$c" >/dev/null || exit 1
    done <codes
'

test_done
