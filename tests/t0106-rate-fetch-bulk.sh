#!/bin/sh
# t0106-rate-fetch-bulk: how rate-fetch stores a document: quotes in the
# order of the rates index whatever order they arrive in, the same rows
# from a sorted and an unsorted document, batches of new rows with the
# stored ones left alone, nothing new from a history loaded twice, and a
# conflict named as it comes first in the document.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
# shellcheck disable=SC2034 # used inside the test bodies
HIST_CSV=$FIXTURES/ecb/eurofxref-hist.csv
export DAIGOU_NOW=2026-04-14T16:10:02Z

# Three days, newest in the middle, currencies in another order each day.
test_ecb_xml @2026-04-13 GBP 0.87058 USD 1.1684 JPY 186.75 \
    @2026-04-14 JPY 187.10 USD 1.1702 GBP 0.8711 \
    @2026-04-10 USD 1.1650 GBP 0.8690 JPY 186.20 >"$TRASH/mixed.xml"
# The same quotes, oldest day first, currencies in alphabetical order.
test_ecb_xml @2026-04-10 GBP 0.8690 JPY 186.20 USD 1.1650 \
    @2026-04-13 GBP 0.87058 JPY 186.75 USD 1.1684 \
    @2026-04-14 GBP 0.8711 JPY 187.10 USD 1.1702 >"$TRASH/sorted.xml"

# rows [DB]: every stored row with its id, in id order.
rows() {
    test_sql "${1:-daigou.db}" "SELECT id, provider, base, quote, rate,
        as_of, fetched_at, source FROM rates ORDER BY id"
}

# out_of_order [DB]: how many rows have a smaller (base, quote, as_of)
# than the row stored before them.
out_of_order() {
    test_sql "${1:-daigou.db}" "SELECT count(*) FROM (SELECT base, quote,
        as_of, lag(base) OVER w AS pb, lag(quote) OVER w AS pq,
        lag(as_of) OVER w AS pa FROM rates WINDOW w AS (ORDER BY id))
        WHERE (base, quote, as_of) < (pb, pq, pa)"
}

snapshot() {
    test_sql daigou.db "SELECT * FROM rates ORDER BY id;
        SELECT * FROM fetch_state ORDER BY url;
        SELECT id, tool, kind, subject, detail FROM events ORDER BY id" >"$1"
}

test_expect_success 'an unsorted document stores the rows of a sorted one, ids alike' '
    mkdir a b &&
    cp "$TRASH/mixed.xml" a/doc.xml &&
    cp "$TRASH/sorted.xml" b/doc.xml &&
    (cd a && rate-fetch --file doc.xml 2>err) &&
    (cd b && rate-fetch --file doc.xml 2>err) &&
    echo "rate-fetch: ecb 2026-04-10..2026-04-14: 3 days, 9 quotes, 9 new" >expect &&
    test_cmp expect a/err &&
    test_cmp expect b/err &&
    rows b/daigou.db >expect &&
    test_line_count = 9 expect &&
    rows a/daigou.db >actual &&
    test_cmp expect actual &&
    echo 0 >expect &&
    out_of_order a/daigou.db >actual &&
    test_cmp expect actual
'

test_expect_success 'a document partly stored: only the rest is added, in index order' '
    test_ecb_xml @2026-04-13 USD 1.1684 JPY 186.75 GBP 0.87058 >d13.xml &&
    rate-fetch -q --file d13.xml &&
    snapshot before &&
    rate-fetch --file "$TRASH/mixed.xml" 2>err &&
    echo "rate-fetch: ecb 2026-04-10..2026-04-14: 3 days, 9 quotes, 6 new" >expect &&
    test_cmp expect err &&
    test_sql daigou.db "SELECT quote, as_of, rate FROM rates WHERE id > 3
        ORDER BY id" >actual &&
    printf "%s\n" "GBP|2026-04-10|0.8690" "GBP|2026-04-14|0.8711" \
        "JPY|2026-04-10|186.20" "JPY|2026-04-14|187.10" \
        "USD|2026-04-10|1.1650" "USD|2026-04-14|1.1702" >expect &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT * FROM rates WHERE id <= 3 ORDER BY id;
        SELECT id, tool, kind, subject, detail FROM events ORDER BY id" >actual &&
    grep -v "|d13.xml\$" before | sed -n 1,3p >expect.events &&
    test_line_count = 1 expect.events &&
    { head -n 3 before && cat expect.events; } >expect &&
    test_cmp expect actual
'

test_expect_success '131 days: every pair over several batches, all stored' '
    "$PYTHON3" "$top_srcdir/tests/gen-ecb-xml.py" --days 131 \
        -o 131d.xml "$HIST_CSV" &&
    test_expect_code 1 rate-fetch -q --file 131d.xml 2>err &&
    sed -n -e "s/.*<Cube time=.\([^${SQ}]*\).>.*/\1/p" \
        -e "s/.*<Cube currency=.\([^${SQ}]*\). rate=.\([^${SQ}]*\).*/|\1|\2/p" \
        131d.xml | awk "/^\\|/ { print day \$0; next } { day = \$0 }" |
        sort >expect &&
    test_sql daigou.db "SELECT as_of || ${SQ}|${SQ} || quote || ${SQ}|${SQ} ||
        rate FROM rates" | sort >actual &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT DISTINCT count(*) FROM rates
        WHERE quote IN (${SQ}USD${SQ}, ${SQ}JPY${SQ}) GROUP BY quote" >actual &&
    echo 131 >expect &&
    test_cmp expect actual &&
    echo 0 >expect &&
    out_of_order >actual &&
    test_cmp expect actual
'

test_expect_success 'the history twice: stored in index order, nothing new the second time' '
    test_expect_code 1 rate-fetch -q --file "$HIST_CSV" &&
    echo 0 >expect &&
    out_of_order >actual &&
    test_cmp expect actual &&
    n=$(test_sql daigou.db "SELECT count(*) FROM rates") &&
    test "$n" -gt 200000 &&
    snapshot before &&
    rate-fetch --file "$HIST_CSV" 2>err &&
    echo "rate-fetch: ecb 1999-01-04..2026-04-13: 6983 days, $n quotes, 0 new" >expect &&
    test_cmp expect err &&
    snapshot after &&
    test_cmp before after
'

test_expect_success 'two conflicting quotes: the first in the document is named' '
    test_ecb_xml @2026-04-13 USD 1.1684 JPY 186.75 GBP 0.87058 >d13.xml &&
    rate-fetch -q --file d13.xml &&
    snapshot before &&
    test_ecb_xml @2026-04-14 USD 1.1702 \
        @2026-04-13 USD 1.1685 JPY 186.76 >conflict.xml &&
    test_expect_code 65 rate-fetch --file conflict.xml >out 2>err &&
    echo "rate-fetch: conflict.xml: EUR/USD on 2026-04-13 is 1.1685, but 1.1684 is stored: nothing stored" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    snapshot after &&
    test_cmp before after
'

test_done
