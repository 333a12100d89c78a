#!/bin/sh
# The clock: DAIGOU_NOW overrides it and is validated; dates and durations.
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

test_expect_success 'DAIGOU_NOW sets the clock' '
    echo 2026-06-10T09:09:24Z >expect &&
    DAIGOU_NOW=2026-06-10T09:09:24Z "$TEST_TOOL" clock now >actual &&
    test_cmp expect actual
'

test_expect_success 'DAIGOU_NOW with an offset is converted to UTC' '
    echo 2026-06-10T09:09:24Z >expect &&
    DAIGOU_NOW=2026-06-10T11:09:24+02:00 "$TEST_TOOL" clock now >actual &&
    test_cmp expect actual
'

test_expect_success 'a malformed DAIGOU_NOW is a usage error, not now' '
    cat >expect <<-\EOT &&
	dg-test-tool: malformed DAIGOU_NOW '"'"'2026-06-10 09:09'"'"': want RFC 3339 such as 2026-06-10T09:09:24Z
	EOT
    test_expect_code 64 env DAIGOU_NOW="2026-06-10 09:09" \
        "$TEST_TOOL" clock now >out 2>err &&
    test_cmp expect err &&
    test_line_count = 0 out
'

test_expect_success 'an empty DAIGOU_NOW is refused too' '
    test_expect_code 64 env DAIGOU_NOW= "$TEST_TOOL" clock now 2>err
'

test_expect_success 'without DAIGOU_NOW the clock is the real one' '
    "$TEST_TOOL" clock now >actual &&
    grep -E "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z\$" actual
'

test_expect_success 'dates: days since the epoch and the weekday' '
    cat >expect <<-\EOT &&
	20556 2026-04-13 0
	20546 2026-04-03 4
	10595 1999-01-04 0
	EOT
    for d in 2026-04-13 2026-04-03 1999-01-04; do
        "$TEST_TOOL" clock date $d || return 1
    done >actual &&
    test_cmp expect actual
'

test_expect_success 'an impossible date is refused' '
    test_expect_code 65 "$TEST_TOOL" clock date 2026-02-29 2>err &&
    echo "dg-test-tool: malformed date '"'"'2026-02-29'"'"'" >expect &&
    test_cmp expect err
'

test_expect_success 'durations' '
    printf "%s\n" 432000 900 90 >expect &&
    for d in 5d 15m 90; do
        "$TEST_TOOL" clock duration $d || return 1
    done >actual &&
    test_cmp expect actual &&
    test_expect_code 65 "$TEST_TOOL" clock duration 5days 2>err
'

test_done
