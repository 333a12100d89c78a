#!/bin/sh
# t0032-cli-time-range: an RFC 3339 offset that carries a time past
# 9999-12-31T23:59:59Z or before 0001-01-01T00:00:00Z is refused, never
# stored as some other time.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAILY=$FIXTURES/ecb/eurofxref-daily-2026-04-13.csv

test_expect_success 'the ends of the range, reached through an offset' '
    cat >expect <<-\EOT &&
	253402300799 9999-12-31T23:59:59Z
	-62135596800 0001-01-01T00:00:00Z
	EOT
    "$TEST_TOOL" clock parse 9999-12-31T21:59:59-02:00 >actual &&
    "$TEST_TOOL" clock parse 0001-01-01T01:00:00+01:00 >>actual &&
    test_cmp expect actual
'

test_expect_success 'past the ends: refused' '
    for t in 9999-12-31T23:00:00-02:00 0001-01-01T00:30:00+01:00; do
        echo "dg-test-tool: malformed time ${SQ}$t${SQ}" >expect &&
        test_expect_code 65 "$TEST_TOOL" clock parse $t >out 2>err &&
        test_cmp expect err &&
        test_must_be_empty out || return 1
    done
'

test_expect_success 'DAIGOU_NOW past 9999-12-31 is a usage error, nothing stored' '
    rate-fetch -q --db shop.db --file "$FIXTURES/ecb/eurofxref-daily-2022-07-08.xml" &&
    for t in 9999-12-31T23:00:00-02:00 0001-01-01T00:30:00+01:00; do
        echo "rate-fetch: DAIGOU_NOW ${SQ}$t${SQ} is out of range: want a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z" >expect &&
        test_expect_code 64 env DAIGOU_NOW=$t rate-fetch --db shop.db \
            --file "$DAILY" >out 2>err &&
        test_cmp expect err &&
        test_must_be_empty out || return 1
    done &&
    echo "31|0" >expect &&
    test_sql shop.db "SELECT count(*),
        count(*) FILTER (WHERE fetched_at NOT LIKE ${SQ}20%${SQ})
        FROM rates" >actual &&
    test_cmp expect actual
'

test_expect_success 'an order created past 9999-12-31 is refused, not pinned' '
    rate-fetch -q --db shop.db --file "$DAILY" &&
    test_expect_code 65 order-rate-pin --db shop.db \
        --created-at 9999-12-31T23:00:00-02:00 --to EUR A1 100 USD >out 2>err &&
    grep -F "${SQ}9999-12-31T23:00:00-02:00${SQ}" err &&
    echo 0 >expect &&
    test_sql shop.db "SELECT count(*) FROM orders" >actual &&
    test_cmp expect actual
'

test_done
