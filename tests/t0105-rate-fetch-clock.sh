#!/bin/sh
# t0105-rate-fetch-clock: a malformed DAIGOU_NOW is a usage error in every
# mode of rate-fetch (--file, --print, --ledger), as in the other tools:
# exit 64, one message, nothing on standard output, nothing stored.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

D=$TRASH
DAIGOU_DB=$D/rates.db
export DAIGOU_DB

test_ecb_xml @2026-04-13 USD 1.1684 JPY 161.29 >"$D/d13.xml"
test_ecb_xml @2026-04-14 USD 1.1690 JPY 161.50 >"$D/d14.xml"
printf '%s\n' \
    "rate-fetch: malformed DAIGOU_NOW '2026-06-10 09:09': want RFC 3339 such as 2026-06-10T09:09:24Z" \
    >"$D/refused"

test_expect_success 'setup: the quotes of 2026-04-13' '
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --file "$D/d13.xml" &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM rates" >actual &&
    echo 2 >expect &&
    test_cmp expect actual
'

for mode in --print --ledger "--print --json" "--print --latest"; do
    test_expect_success "$mode with a malformed DAIGOU_NOW: 64, nothing printed" '
        test_expect_code 64 env DAIGOU_NOW="2026-06-10 09:09" \
            rate-fetch '"$mode"' >out 2>err &&
        test_cmp "$D/refused" err &&
        test_line_count = 0 out
    '
done

test_expect_success '--file with a malformed DAIGOU_NOW: 64, nothing stored' '
    test_expect_code 64 env DAIGOU_NOW="2026-06-10 09:09" \
        rate-fetch --file "$D/d14.xml" >out 2>err &&
    test_cmp "$D/refused" err &&
    test_line_count = 0 out &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM rates" >actual &&
    echo 2 >expect &&
    test_cmp expect actual
'

test_expect_success '--print on a new path with a malformed DAIGOU_NOW: no database' '
    test_expect_code 64 env DAIGOU_NOW="2026-06-10 09:09" \
        rate-fetch --db new.db --print >out 2>err &&
    test_cmp "$D/refused" err &&
    test ! -e new.db
'

test_expect_success 'a good DAIGOU_NOW still prints' '
    DAIGOU_NOW=2026-06-10T09:09:24Z rate-fetch --print --pair EUR/JPY >actual &&
    test_line_count = 2 actual
'

test_done
