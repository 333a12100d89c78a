#!/bin/sh
# t0100-rate-fetch-files: rate-fetch --file with the real ECB files (daily
# XML and CSV, the whole history as CSV and as XML, the 90-day feed),
# stdin, --format, idempotence, conflicts, refused documents, the JSON
# shapes of Fixer, Open Exchange Rates and Frankfurter, --symbols, -q.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
ECB=$FIXTURES/ecb
# shellcheck disable=SC2034 # used inside the test bodies
DAILY_XML=$ECB/eurofxref-daily-2022-07-08.xml
DAILY_CSV=$ECB/eurofxref-daily-2026-04-13.csv
# shellcheck disable=SC2034 # used inside the test bodies
HIST_CSV=$ECB/eurofxref-hist.csv
export DAIGOU_NOW=2026-04-13T16:10:02Z
# The real data has one jump over 2 % on its last day: HUF, 13 April 2026.
# shellcheck disable=SC2034 # used inside the test bodies
HUF_JUMP="rate-fetch: warning: rate jump EUR/HUF: ecb moved more than 2 % from 377.2 on 2026-04-10 to 366.9 on 2026-04-13"

# csv_cells FILE: "date|quote|rate" for every quoted cell of an ECB CSV
# (either form), read with awk, independently of the tool.
csv_cells() {
    awk '
        BEGIN { FS = " *, *" }
        NR == 1 { for (i = 2; i <= NF; i++) code[i] = $i; next }
        {
            for (i = 2; i <= NF; i++)
                if ($i != "" && $i != "N/A")
                    print $1 "|" code[i] "|" $i
        }' "$1"
}

# csv_counts FILE: "DAYS QUOTES" of an ECB CSV, counted with awk.
csv_counts() {
    awk -F, '
        NR > 1 {
            n = 0
            for (i = 2; i <= NF; i++)
                if ($i != "" && $i != "N/A")
                    n++
            if (n) { days++; quotes += n }
        }
        END { print days + 0, quotes + 0 }' "$1"
}

# xml_cells FILE: "date|quote|rate" of an ECB XML document, with sed.
xml_cells() {
    sed -n -e "s/.*<Cube time='\([^']*\)'>.*/\1/p" \
        -e "s/.*<Cube currency='\([^']*\)' rate='\([^']*\)'.*/|\1|\2/p" \
        "$1" | awk '/^\|/ { print day $0; next } { day = $0 }'
}

# stored [DB]: "date|quote|rate" of every stored quote, sorted.
stored() {
    test_sql "${1:-daigou.db}" "SELECT as_of || '|' || quote || '|' || rate
        FROM rates" | sort
}

# count [WHERE]: the number of stored quotes.
count() {
    test_sql daigou.db "SELECT count(*) FROM rates ${1:+WHERE $1}"
}

# snapshot FILE: everything rate-fetch may write, to compare before/after.
snapshot() {
    test_sql daigou.db "SELECT * FROM rates ORDER BY id;
        SELECT * FROM fetch_state ORDER BY url;
        SELECT id, tool, kind, subject, detail FROM events ORDER BY id" >"$1"
}

# refused FILE MESSAGE [OPTION...]: rate-fetch --file FILE exits 65 with
# exactly MESSAGE on stderr, and the database does not change.
refused() {
    rf_file=$1
    rf_msg=$2
    shift 2
    snapshot before &&
        test_expect_code 65 rate-fetch --file "$rf_file" "$@" >out 2>err &&
        printf '%s\n' "$rf_msg" >expect &&
        test_cmp expect err &&
        test_must_be_empty out &&
        snapshot after &&
        test_cmp before after
}

# seed: the daily CSV of 13 April 2026 in ./daigou.db.
seed() {
    rate-fetch -q --file "$DAILY_CSV"
}

test_expect_success 'the daily XML of 2022-07-08: 31 quotes as published' '
    rate-fetch --file "$DAILY_XML" >out 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 31 new" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    xml_cells "$DAILY_XML" | sort >expect &&
    test_line_count = 31 expect &&
    stored >actual &&
    test_cmp expect actual &&
    echo "ecb|EUR|PLN|4.7630|2022-07-08|2026-04-13T16:10:02Z|$DAILY_XML" >expect &&
    test_sql daigou.db "SELECT provider, base, quote, rate, as_of,
        fetched_at, source FROM rates WHERE quote = ${SQ}PLN${SQ}" >actual &&
    test_cmp expect actual &&
    echo "ecb|EUR|31" >expect &&
    test_sql daigou.db "SELECT provider, base, count(*) FROM rates
        GROUP BY provider, base" >actual &&
    test_cmp expect actual
'

test_expect_success 'the daily CSV of 13 April 2026: 29 quotes as published' '
    rate-fetch --file "$DAILY_CSV" 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 29 quotes, 29 new" >expect &&
    test_cmp expect err &&
    csv_cells "$DAILY_CSV" | sed "s/^13 April 2026|/2026-04-13|/" |
        sort >expect &&
    test_line_count = 29 expect &&
    stored >actual &&
    test_cmp expect actual &&
    printf "366.90\n186.75\n" >expect &&
    test_sql daigou.db "SELECT rate FROM rates
        WHERE quote IN (${SQ}JPY${SQ}, ${SQ}HUF${SQ}) ORDER BY quote" >actual &&
    test_cmp expect actual
'

test_expect_success 'a second run stores nothing new and says so' '
    seed &&
    snapshot before &&
    rate-fetch --file "$DAILY_CSV" >out 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 29 quotes, 0 new" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    snapshot after &&
    test_cmp before after
'

test_expect_success 'the history CSV: every non-N/A cell, stored once' '
    csv_counts "$HIST_CSV" >counts &&
    read -r days quotes <counts &&
    test "$days" -gt 6900 &&
    test_expect_code 1 rate-fetch --file "$HIST_CSV" 2>err &&
    echo "$HUF_JUMP" >expect &&
    echo "rate-fetch: ecb 1999-01-04..2026-04-13: $days days, $quotes quotes, $quotes new" >>expect &&
    test_cmp expect err &&
    echo "$quotes" >expect &&
    count >actual &&
    test_cmp expect actual &&
    csv_cells "$HIST_CSV" | sort >expect &&
    stored >actual &&
    test_cmp expect actual &&
    printf "1.1789\n186.75\n0\n1.9558\n" >expect &&
    test_sql daigou.db "
        SELECT rate FROM rates WHERE as_of = ${SQ}1999-01-04${SQ}
            AND quote = ${SQ}USD${SQ};
        SELECT rate FROM rates WHERE as_of = ${SQ}2026-04-13${SQ}
            AND quote = ${SQ}JPY${SQ};
        SELECT count(*) FROM rates WHERE quote = ${SQ}BGN${SQ}
            AND as_of > ${SQ}2025-12-31${SQ};
        SELECT rate FROM rates WHERE quote = ${SQ}BGN${SQ}
            AND as_of = ${SQ}2025-12-31${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success 'the history as XML (gen-ecb-xml.py) stores the same quotes' '
    "$PYTHON3" "$top_srcdir/tests/gen-ecb-xml.py" -o hist.xml "$HIST_CSV" &&
    csv_counts "$HIST_CSV" >counts &&
    read -r days quotes <counts &&
    test_expect_code 1 rate-fetch --file hist.xml 2>err &&
    echo "$HUF_JUMP" >expect &&
    echo "rate-fetch: ecb 1999-01-04..2026-04-13: $days days, $quotes quotes, $quotes new" >>expect &&
    test_cmp expect err &&
    csv_cells "$HIST_CSV" | sort >expect &&
    stored >actual &&
    test_cmp expect actual &&
    echo "ecb|$quotes" >expect &&
    test_sql daigou.db "SELECT provider, count(*) FROM rates
        GROUP BY provider" >actual &&
    test_cmp expect actual
'

test_expect_success 'the 90-day XML: 90 days, stored as ecb' '
    "$PYTHON3" "$top_srcdir/tests/gen-ecb-xml.py" --days 90 \
        -o 90d.xml "$HIST_CSV" &&
    xml_cells 90d.xml | sort >expect &&
    cut -d "|" -f 1 expect | sort -u >days &&
    test_line_count = 90 days &&
    first=$(sed -n 1p days) && last=$(sed -n \$p days) &&
    test "$last" = 2026-04-13 &&
    n=$(wc -l <expect) &&
    test_expect_code 1 rate-fetch --provider ecb-90d --file 90d.xml 2>err &&
    echo "$HUF_JUMP" >err.expect &&
    echo "rate-fetch: ecb $first..$last: 90 days, $n quotes, $n new" >>err.expect &&
    test_cmp err.expect err &&
    stored >actual &&
    test_cmp expect actual &&
    echo "ecb|$n" >expect &&
    test_sql daigou.db "SELECT provider, count(*) FROM rates
        GROUP BY provider" >actual &&
    test_cmp expect actual
'

test_expect_success '--file - reads standard input' '
    rate-fetch --file - <"$DAILY_CSV" >out 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 29 quotes, 29 new" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    echo "29|<stdin>" >expect &&
    test_sql daigou.db "SELECT count(*), source FROM rates
        GROUP BY source" >actual &&
    test_cmp expect actual &&
    rate-fetch --file - <"$DAILY_XML" 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 31 new" >expect &&
    test_cmp expect err
'

test_expect_success '--format overrides what the first byte says' '
    "$TEST_TOOL" db open daigou.db >/dev/null &&
    cp "$DAILY_XML" daily.xml &&
    refused daily.xml "rate-fetch: daily.xml:1: malformed CSV: misplaced quote in field 1" \
        --format ecb-csv &&
    refused daily.xml "rate-fetch: daily.xml:1: invalid JSON: ${SQ}[${SQ} or ${SQ}{${SQ} expected near ${SQ}<${SQ}" \
        --provider json --format json &&
    refused - "rate-fetch: <stdin>:1: malformed XML: syntax error" \
        --format ecb-xml <"$DAILY_CSV" &&
    rate-fetch --format ecb-csv --file "$DAILY_CSV" 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 29 quotes, 29 new" >expect &&
    test_cmp expect err &&
    rate-fetch --format ecb-xml --file - <daily.xml 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 31 new" >expect &&
    test_cmp expect err &&
    test_expect_code 64 rate-fetch --format csv --file daily.xml 2>err &&
    echo "rate-fetch: --format is ecb-xml, ecb-csv or json, not ${SQ}csv${SQ}" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    echo 60 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'the XML, then the CSV of the same day: no conflict, XML text kept' '
    { sed -n 1p "$HIST_CSV" && grep "^2022-07-08," "$HIST_CSV"; } >0708.csv &&
    grep ",4.763," 0708.csv &&
    rate-fetch --file "$DAILY_XML" 2>err &&
    stored >before &&
    rate-fetch --file 0708.csv 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 0 new" >expect &&
    test_cmp expect err &&
    stored >after &&
    test_cmp before after &&
    echo "4.7630|$DAILY_XML" >expect &&
    test_sql daigou.db "SELECT rate, source FROM rates
        WHERE quote = ${SQ}PLN${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success 'the CSV first, then the XML: the CSV text is kept' '
    { sed -n 1p "$HIST_CSV" && grep "^2022-07-08," "$HIST_CSV"; } >0708.csv &&
    rate-fetch -q --file 0708.csv &&
    rate-fetch --file "$DAILY_XML" 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 0 new" >expect &&
    test_cmp expect err &&
    printf "4.763\n10.263\n" >expect &&
    test_sql daigou.db "SELECT rate FROM rates WHERE quote IN
        (${SQ}PLN${SQ}, ${SQ}NOK${SQ}) ORDER BY quote DESC" >actual &&
    test_cmp expect actual
'

test_expect_success 'a conflicting quote: 65, and none of the document is stored' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY 186.95 \
        @2026-04-13 USD 1.1684 JPY 186.76 GBP 0.87058 >conflict.xml &&
    refused conflict.xml "rate-fetch: conflict.xml: EUR/JPY on 2026-04-13 is 186.76, but 186.75 is stored: nothing stored" &&
    echo 0 >expect &&
    count "as_of = ${SQ}2026-04-14${SQ}" >actual &&
    test_cmp expect actual &&
    echo 29 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'the same value with other digits is not a conflict' '
    seed &&
    test_ecb_xml @2026-04-13 USD 1.16840 JPY 186.750 HUF 366.9 >same.xml &&
    rate-fetch --file same.xml 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 3 quotes, 0 new" >expect &&
    test_cmp expect err &&
    printf "366.90\n186.75\n1.1684\n" >expect &&
    test_sql daigou.db "SELECT rate FROM rates WHERE quote IN
        (${SQ}USD${SQ}, ${SQ}JPY${SQ}, ${SQ}HUF${SQ}) ORDER BY quote" >actual &&
    test_cmp expect actual
'

test_expect_success 'refused: malformed XML' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY 186.95 | sed "s,</gesmes:Envelope>,</Envelope>," >bad.xml &&
    refused bad.xml "rate-fetch: bad.xml:9: malformed XML: mismatched tag"
'

test_expect_success 'refused: the daily XML cut in half' '
    seed &&
    size=$(wc -c <"$DAILY_XML") &&
    head -c $((size / 2)) "$DAILY_XML" >half.xml &&
    refused half.xml "rate-fetch: half.xml:20: malformed XML: unclosed token" &&
    echo 0 >expect &&
    count "as_of = ${SQ}2022-07-08${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success 'refused: a zero rate' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY 0 >zero.xml &&
    refused zero.xml "rate-fetch: zero.xml:6: bad rate ${SQ}0${SQ} for ${SQ}JPY${SQ} on 2026-04-14: must be positive" &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY 0.0000 >zero.xml &&
    refused zero.xml "rate-fetch: zero.xml:6: bad rate ${SQ}0.0000${SQ} for ${SQ}JPY${SQ} on 2026-04-14: must be positive"
'

test_expect_success 'refused: a negative rate' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY -186.95 >neg.xml &&
    refused neg.xml "rate-fetch: neg.xml:6: bad rate ${SQ}-186.95${SQ} for ${SQ}JPY${SQ} on 2026-04-14: must be positive"
'

test_expect_success 'refused: a rate that is not a number' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY abc >nan.xml &&
    refused nan.xml "rate-fetch: nan.xml:6: bad rate ${SQ}abc${SQ} for ${SQ}JPY${SQ} on 2026-04-14: not a plain decimal" &&
    test_ecb_xml @2026-04-14 USD 1,1702 >comma.xml &&
    refused comma.xml "rate-fetch: comma.xml:5: bad rate ${SQ}1,1702${SQ} for ${SQ}USD${SQ} on 2026-04-14: not a plain decimal"
'

test_expect_success 'refused: a rate with an exponent' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY 1e5 >exp.xml &&
    refused exp.xml "rate-fetch: exp.xml:6: bad rate ${SQ}1e5${SQ} for ${SQ}JPY${SQ} on 2026-04-14: not a plain decimal"
'

test_expect_success 'refused: an unknown currency' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 ABC 2.5 >ccy.xml &&
    refused ccy.xml "rate-fetch: ccy.xml:6: unknown currency ${SQ}ABC${SQ} on 2026-04-14" &&
    printf "Date,USD,ABC,\n2026-04-14,1.1702,2.5,\n" >ccy.csv &&
    refused ccy.csv "rate-fetch: ccy.csv: unknown currency ${SQ}ABC${SQ} in the header"
'

test_expect_success 'refused: a date that does not exist' '
    seed &&
    test_ecb_xml @2026-04-14 USD 1.1702 @2026-02-30 USD 1.17 >date.xml &&
    refused date.xml "rate-fetch: date.xml:7: bad date ${SQ}2026-02-30${SQ}" &&
    printf "Date, USD, \n30 February 2026, 1.17, \n" >date.csv &&
    refused date.csv "rate-fetch: date.csv:2: bad date ${SQ}30 February 2026${SQ}"
'

test_expect_success 'refused: an empty document, a document without quotes' '
    seed &&
    : >empty.xml &&
    refused empty.xml "rate-fetch: empty.xml: no quotes in the document" &&
    refused - "rate-fetch: <stdin>: no quotes in the document" </dev/null &&
    test_ecb_xml >none.xml &&
    refused none.xml "rate-fetch: none.xml: no quotes in the document" &&
    test_ecb_xml @2026-04-14 >none.xml &&
    refused none.xml "rate-fetch: none.xml: no quotes in the document" &&
    printf "Date,USD,JPY,\n2026-04-14,N/A,N/A,\n" >na.csv &&
    refused na.csv "rate-fetch: na.csv: no quotes in the document"
'

test_expect_success 'JSON, Fixer shape: numbers become their exact decimal text' '
    cat >fixer.json <<\EOF &&
{"success": true, "timestamp": 1776096000, "base": "EUR",
 "date": "2026-04-13",
 "rates": {"USD": 1.1684, "JPY": 186.75, "GBP": 0.87058, "HUF": 366.9,
           "IDR": 20082.05, "KRW": 1740.86}}
EOF
    rate-fetch --provider json --file fixer.json 2>err &&
    echo "rate-fetch: json 2026-04-13: 6 quotes, 6 new" >expect &&
    test_cmp expect err &&
    cat >expect <<\EOF &&
json|EUR|GBP|0.87058|2026-04-13|fixer.json
json|EUR|HUF|366.9|2026-04-13|fixer.json
json|EUR|IDR|20082.05|2026-04-13|fixer.json
json|EUR|JPY|186.75|2026-04-13|fixer.json
json|EUR|KRW|1740.86|2026-04-13|fixer.json
json|EUR|USD|1.1684|2026-04-13|fixer.json
EOF
    test_sql daigou.db "SELECT provider, base, quote, rate, as_of, source
        FROM rates ORDER BY quote" >actual &&
    test_cmp expect actual
'

test_expect_success 'JSON, Open Exchange Rates shape: the day from the timestamp' '
    cat >oxr.json <<\EOF &&
{"disclaimer": "Usage subject to terms", "license": "https://example.invalid/",
 "timestamp": 1776096000, "base": "USD",
 "rates": {"EUR": 0.855871, "JPY": 159.83, "USD": 1, "CNY": 6.8321}}
EOF
    rate-fetch --provider json --file oxr.json 2>err &&
    echo "rate-fetch: json 2026-04-13: 3 quotes, 3 new" >expect &&
    test_cmp expect err &&
    cat >expect <<\EOF &&
json|USD|CNY|6.8321|2026-04-13
json|USD|EUR|0.855871|2026-04-13
json|USD|JPY|159.83|2026-04-13
EOF
    test_sql daigou.db "SELECT provider, base, quote, rate, as_of
        FROM rates ORDER BY quote" >actual &&
    test_cmp expect actual
'

test_expect_success 'JSON, a Frankfurter series, stored as frankfurter' '
    cat >series.json <<\EOF &&
{"amount": 1.0, "base": "EUR", "start_date": "2026-04-09",
 "end_date": "2026-04-13",
 "rates": {"2026-04-09": {"USD": 1.1691, "JPY": 186.2},
           "2026-04-10": {"USD": 1.1711, "JPY": 186.43},
           "2026-04-13": {"USD": 1.1684, "JPY": 186.75}}}
EOF
    rate-fetch --provider frankfurter --file series.json 2>err &&
    echo "rate-fetch: frankfurter 2026-04-09..2026-04-13: 3 days, 6 quotes, 6 new" >expect &&
    test_cmp expect err &&
    cat >expect <<\EOF &&
frankfurter|EUR|JPY|186.2|2026-04-09
frankfurter|EUR|USD|1.1691|2026-04-09
frankfurter|EUR|JPY|186.43|2026-04-10
frankfurter|EUR|USD|1.1711|2026-04-10
frankfurter|EUR|JPY|186.75|2026-04-13
frankfurter|EUR|USD|1.1684|2026-04-13
EOF
    test_sql daigou.db "SELECT provider, base, quote, rate, as_of
        FROM rates ORDER BY as_of, quote" >actual &&
    test_cmp expect actual &&
    rate-fetch --provider frankfurter --file series.json 2>err &&
    echo "rate-fetch: frankfurter 2026-04-09..2026-04-13: 3 days, 6 quotes, 0 new" >expect &&
    test_cmp expect err
'

test_expect_success 'JSON: the same day from two providers is two quotes' '
    seed &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-13\", \"rates\": {\"JPY\": 186.7}}\n" >fr.json &&
    rate-fetch --provider frankfurter --file fr.json 2>err &&
    echo "rate-fetch: frankfurter 2026-04-13: 1 quote, 1 new" >expect &&
    test_cmp expect err &&
    printf "ecb|186.75\nfrankfurter|186.7\n" >expect &&
    test_sql daigou.db "SELECT provider, rate FROM rates
        WHERE quote = ${SQ}JPY${SQ} ORDER BY provider" >actual &&
    test_cmp expect actual
'

test_expect_success 'JSON refused: too precise, negative, not a number, no provider' '
    seed &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17, \"JPY\": 0.1234567890123456}}\n" >precise.json &&
    refused precise.json "rate-fetch: precise.json: bad rate 0.12345678901234559 for ${SQ}JPY${SQ} on 2026-04-14: more than 15 significant digits" \
        --provider json &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17, \"JPY\": -186.5}}\n" >neg.json &&
    refused neg.json "rate-fetch: neg.json: bad rate -186.5 for ${SQ}JPY${SQ} on 2026-04-14: must be positive" \
        --provider json &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17, \"JPY\": \"1e5\"}}\n" >exp.json &&
    refused exp.json "rate-fetch: exp.json: bad rate ${SQ}1e5${SQ} for ${SQ}JPY${SQ} on 2026-04-14: not a plain decimal" \
        --provider json &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17, \"JPY\": null}}\n" >null.json &&
    refused null.json "rate-fetch: null.json: bad rate null for ${SQ}JPY${SQ} on 2026-04-14: not a number or a decimal string" \
        --provider json &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17}}\n" >ok.json &&
    refused ok.json "rate-fetch: ok.json: a JSON document is not an ECB feed: give --provider frankfurter or json: nothing stored" &&
    refused ok.json "rate-fetch: ok.json: a JSON document is not an ECB feed: give --provider frankfurter or json: nothing stored" \
        --provider ecb-hist &&
    rate-fetch -q --provider json --file ok.json &&
    echo "json|1.17" >expect &&
    test_sql daigou.db "SELECT provider, rate FROM rates
        WHERE as_of = ${SQ}2026-04-14${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success 'JSON refused: a number written with an exponent, as in a string' '
    seed &&
    for r in 1e3 1E3 1.5e-3 11684E-4 1e+0 -1e3 0e0; do
        printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17, \"JPY\": %s}}\n" "$r" >exp.json &&
        refused exp.json "rate-fetch: exp.json: bad rate ${SQ}$r${SQ} for ${SQ}JPY${SQ} on 2026-04-14: not a plain decimal" \
            --provider json || return 1
    done &&
    printf "{\"base\": \"EUR\", \"rates\": {\"2026-04-14\": {\"USD\": 1.17}, \"2026-04-15\": {\"USD\": 1.18e0}}}\n" >series.json &&
    refused series.json "rate-fetch: series.json: bad rate ${SQ}1.18e0${SQ} for ${SQ}USD${SQ} on 2026-04-15: not a plain decimal" \
        --provider frankfurter &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17, \"JPY\": 0}}\n" >zero.json &&
    refused zero.json "rate-fetch: zero.json: bad rate 0 for ${SQ}JPY${SQ} on 2026-04-14: must be positive" \
        --provider json &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"rates\": {\"USD\": 1.17, \"JPY\": 0.0}}\n" >zero.json &&
    refused zero.json "rate-fetch: zero.json: bad rate 0.0 for ${SQ}JPY${SQ} on 2026-04-14: must be positive" \
        --provider json &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"note\": 1e3, \"rates\": {\"USD\": 1170e-3}}\n" >first.json &&
    refused first.json "rate-fetch: first.json: bad rate ${SQ}1170e-3${SQ} for ${SQ}USD${SQ} on 2026-04-14: not a plain decimal" \
        --provider json &&
    printf "{\"base\": \"EUR\", \"date\": \"2026-04-14\", \"note\": 1e3, \"rates\": {\"USD\": 1.1700}}\n" >plain.json &&
    rate-fetch -q --provider json --file plain.json &&
    echo "json|USD|1.17" >expect &&
    test_sql daigou.db "SELECT provider, quote, rate FROM rates
        WHERE as_of = ${SQ}2026-04-14${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success '--symbols stores only those quote currencies' '
    rate-fetch --symbols USD,JPY,CNY --file "$DAILY_CSV" 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 3 quotes, 3 new" >expect &&
    test_cmp expect err &&
    printf "CNY|7.9827\nJPY|186.75\nUSD|1.1684\n" >expect &&
    test_sql daigou.db "SELECT quote, rate FROM rates ORDER BY quote" >actual &&
    test_cmp expect actual &&
    rate-fetch --symbols GBP --file "$DAILY_CSV" 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 1 quote, 1 new" >expect &&
    test_cmp expect err &&
    rate-fetch --file "$DAILY_CSV" 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 29 quotes, 25 new" >expect &&
    test_cmp expect err
'

test_expect_success '--symbols: none left is refused, a bad list is a usage error' '
    seed &&
    refused "$DAILY_CSV" "rate-fetch: $DAILY_CSV: no quotes left after --symbols: nothing stored" \
        --symbols BGN &&
    test_expect_code 64 rate-fetch --symbols USD,XYZ --file "$DAILY_CSV" 2>err &&
    echo "rate-fetch: --symbols: unknown currency ${SQ}XYZ${SQ}" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    test_expect_code 64 rate-fetch --symbols USD, --file "$DAILY_CSV" 2>err &&
    echo "rate-fetch: --symbols ends with a comma" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    test_expect_code 64 rate-fetch --symbols usd --file "$DAILY_CSV" 2>err &&
    echo 29 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'a missing --file: 66, the path named' '
    test_expect_code 66 rate-fetch --file no-such.xml >out 2>err &&
    echo "rate-fetch: cannot open ${SQ}no-such.xml${SQ}: No such file or directory" >expect &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'a directory as --file: 66, said so, as in the other tools' '
    mkdir dir &&
    test_expect_code 66 rate-fetch --file dir >out 2>err &&
    echo "rate-fetch: cannot open ${SQ}dir${SQ}: Is a directory" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 66 rate-fetch --file - <dir 2>err &&
    echo "rate-fetch: cannot open ${SQ}<stdin>${SQ}: Is a directory" >expect &&
    test_cmp expect err &&
    test_expect_code 66 order-rate-pin --db daigou.db dir >out 2>err &&
    echo "order-rate-pin: cannot open ${SQ}dir${SQ}: Is a directory" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    test_expect_code 66 rate-fetch --provider json --secret-file dir \
        --url "http://127.0.0.1:9/?k={key}" 2>err &&
    echo "rate-fetch: cannot open ${SQ}dir${SQ}: Is a directory" >expect &&
    test_cmp expect err
'

test_expect_success 'an unreadable --file: 66' '
    echo "<x/>" >locked.xml &&
    chmod 000 locked.xml &&
    if cat locked.xml >/dev/null 2>&1; then
        say "skipped: files are readable whatever their mode (root)"
    else
        test_expect_code 66 rate-fetch --file locked.xml 2>err &&
        echo "rate-fetch: cannot open ${SQ}locked.xml${SQ}: Permission denied" >expect &&
        test_cmp expect err
    fi
'

test_expect_success 'a secret file over 4096 bytes: 65, said so' '
    awk "BEGIN { for (i = 0; i < 5000; i++) printf \"k\" }" >big-key &&
    test_expect_code 65 rate-fetch --provider json --secret-file big-key \
        --url "http://127.0.0.1:9/?k={key}" 2>err &&
    echo "rate-fetch: secret file ${SQ}big-key${SQ} is larger than 4096 bytes" >expect &&
    test_cmp expect err
'

test_expect_success '-q stores without a summary; errors still show' '
    rate-fetch -q --file "$DAILY_CSV" >out 2>err &&
    test_must_be_empty err &&
    test_must_be_empty out &&
    echo 29 >expect &&
    count >actual &&
    test_cmp expect actual &&
    rate-fetch --quiet --file "$DAILY_CSV" 2>err &&
    test_must_be_empty err &&
    test_expect_code 66 rate-fetch -q --file no-such.xml 2>err &&
    test_line_count = 1 err
'

test_expect_success '--max-size applies to files as well: 69, as over HTTP' '
    test_expect_code 69 rate-fetch --max-size 1k --file "$DAILY_XML" >out 2>err &&
    echo "rate-fetch: ${SQ}$DAILY_XML${SQ} is larger than 1024 bytes (see --max-size)" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 69 rate-fetch --max-size 1k --file - <"$DAILY_XML" 2>err &&
    echo "rate-fetch: ${SQ}<stdin>${SQ} is larger than 1024 bytes (see --max-size)" >expect &&
    test_cmp expect err &&
    echo 0 >expect &&
    count >actual &&
    test_cmp expect actual &&
    rate-fetch -q --max-size 2k --file "$DAILY_XML" &&
    echo 31 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success '--max-size: k, M and G in either case; 0 and other words refused' '
    rate-fetch -q --max-size 1m --file "$DAILY_XML" &&
    rate-fetch -q --max-size 1G --file "$DAILY_XML" &&
    test_expect_code 69 rate-fetch -q --max-size 1K \
        --file "$DAILY_XML" &&
    for v in 0 1T 1.5M -1 ""; do
        test_expect_code 64 rate-fetch --max-size "$v" \
            --file "$DAILY_XML" 2>err &&
        echo "rate-fetch: --max-size needs a size such as 50M, 512k or 20000, not ${SQ}$v${SQ}" >expect &&
        head -n 1 err >actual &&
        test_cmp expect actual || return 1
    done
'

test_done
