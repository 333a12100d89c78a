#!/bin/sh
# t0104-rate-fetch-range: a reversed --from/--to range is a usage error
# (64) in every mode of rate-fetch, with the words refund-calc --summary
# uses for the same mistake; a one-day range is not reversed.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY

DAIGOU_DB=$TRASH/range.db
export DAIGOU_DB
export DAIGOU_NOW=2026-04-13T16:10:02Z

# reversed CMD...: exits 64, the message first, then the usage; nothing
# on stdout.
reversed() {
    test_expect_code 64 "$@" >out 2>err &&
        echo "$1: --from 2026-04-10 is after --to 2026-04-01" >expect &&
        sed -n 1p err >actual &&
        test_cmp expect actual &&
        sed -n 2p err | grep "^usage: $1 " >/dev/null &&
        test_must_be_empty out
}

test_expect_success 'setup' '
    test_ecb_xml @2026-04-10 USD 1.1711 @2026-04-01 USD 1.1500 >"$TRASH/two.xml" &&
    rate-fetch -q --file "$TRASH/two.xml"
'

test_expect_success 'rate-fetch --print and --ledger: a reversed range is 64' '
    reversed rate-fetch --print --from 2026-04-10 --to 2026-04-01 &&
    reversed rate-fetch --print --json --from 2026-04-10 --to 2026-04-01 &&
    reversed rate-fetch --ledger --to 2026-04-01 --from 2026-04-10 &&
    reversed rate-fetch --print --latest --from 2026-04-10 --to 2026-04-01
'

test_expect_success 'rate-fetch fetching a series: a reversed range is 64, nothing fetched' '
    reversed rate-fetch --provider frankfurter --url http://127.0.0.1:9/ \
        --retries 0 --from 2026-04-10 --to 2026-04-01 &&
    echo 2 >expect &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM rates" >actual &&
    test_cmp expect actual
'

test_expect_success 'refund-calc --summary: the same words, the same 64' '
    reversed refund-calc --summary --from 2026-04-10 --to 2026-04-01
'

test_expect_success 'one day is a range: --from equal to --to' '
    rate-fetch --ledger --from 2026-04-10 --to 2026-04-10 >actual &&
    echo "P 2026-04-10 EUR 1.1711 USD" >expect &&
    test_cmp expect actual
'

test_done
