#!/bin/sh
# t0022-db-file-size-limit: past a file-size limit (ulimit -f) a write
# fails with EFBIG instead of SIGXFSZ killing the tool without a word: the
# database write and the output to a file are reported, exit 74, and
# nothing is half stored.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAILY=$FIXTURES/ecb/eurofxref-daily-2026-04-13.csv
HIST=$FIXTURES/ecb/eurofxref-hist.csv

test_expect_success 'the history into a database past ulimit -f: 74, nothing stored' '
    rate-fetch -q --db shop.db --file "$DAILY" &&
    (
        ulimit -f 400 &&
        test_expect_code 74 rate-fetch --db shop.db --file "$HIST"
    ) >out 2>err &&
    test_must_be_empty out &&
    echo "rate-fetch: cannot commit a transaction on ${SQ}DIR/shop.db${SQ}: disk I/O error (a file size limit of N bytes is set)" >expect &&
    sed -e "s|$PWD/|DIR/|" -e "s/of [0-9]* bytes/of N bytes/" err >actual &&
    test_cmp expect actual &&
    printf "29\nok\n" >expect &&
    test_sql shop.db "SELECT count(*) FROM rates; PRAGMA integrity_check" >actual &&
    test_cmp expect actual &&
    rate-fetch -q --db shop.db --file "$HIST" &&
    test "$(test_sql shop.db "SELECT count(*) FROM rates")" -gt 100000
'

test_expect_success 'CSV, JSON Lines and ledger output to a file past ulimit -f: 74' '
    test_expect_code 1 rate-fetch -q --db shop.db --file "$HIST" 2>/dev/null &&
    (
        ulimit -f 400 &&
        test_expect_code 74 rate-fetch --print --db shop.db >rates.csv &&
        test_expect_code 74 rate-fetch --print --json --db shop.db >rates.json &&
        test_expect_code 74 rate-fetch --ledger --db shop.db >rates.ledger
    ) 2>err &&
    cat >expect <<-\EOT &&
	rate-fetch: cannot write output: File too large
	rate-fetch: cannot write output: File too large
	rate-fetch: cannot write: File too large
	EOT
    test_cmp expect err &&
    test -s rates.csv &&
    test -s rates.json &&
    test -s rates.ledger
'

test_done
