#!/bin/sh
# The money library against an exact oracle: tests/oracle.py draws 100,000+
# random cases (conversions direct, inverse and cross in every exponent pair
# and both rounding modes, effective rates, allocations, amount parsing and
# formatting, rate comparison, the drift check), runs them through one
# `dg-test-tool money batch` and compares with fractions.Fraction.
# DG_ORACLE_SEED picks another seed, DG_ORACLE_CASES another count.
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

DG_ORACLE_SEED=${DG_ORACLE_SEED:-20260413}
export DG_ORACLE_SEED
say "oracle seed $DG_ORACLE_SEED (set DG_ORACLE_SEED to change it)"

test_expect_success 'the batch helper answers one line per case' '
    printf "%s\n" "convert 16500 0 2 - 161.29 half-up" "parse 1.234 2" \
        "allocate 100 1 1 1" >in &&
    "$TEST_TOOL" money batch <in >actual &&
    printf "%s\n" 10230 "error too many decimal places" "34 33 33" >expect &&
    test_cmp expect actual
'

test_expect_success 'every oracle case agrees with exact arithmetic' '
    "$PYTHON3" "$top_srcdir/tests/oracle.py" "$TEST_TOOL" \
        >"$TRASH/oracle.summary"
'
if [ -s "$TRASH/oracle.summary" ]; then
    say "$(cat "$TRASH/oracle.summary")"
fi

test_done
