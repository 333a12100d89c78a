#!/bin/sh
# t0102-rate-fetch-valve: the rate-jump valve (--max-jump: stored, an
# event, a warning, exit 1) on both sides of the threshold, and cron
# overlap: two runs on one database never both fetch.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
export DAIGOU_NOW=2026-04-15T16:10:02Z

# The valve tests share one database and documents in $TRASH.
DAIGOU_DB=$TRASH/valve.db
export DAIGOU_DB
# shellcheck disable=SC2034 # used inside the test bodies
D=$TRASH

# events: the stored events but the migration, one a line.
events() {
    test_sql "$DAIGOU_DB" "SELECT tool, kind, subject, detail FROM events WHERE kind <> ${SQ}schema_migrated${SQ} ORDER BY id"
}

test_expect_success 'setup: two days, no previous quote, no jump' '
    test_ecb_xml @2026-04-13 USD 1.1000 JPY 180.00 >"$D/d13.xml" &&
    test_ecb_xml @2026-04-14 USD 1.1220 JPY 176.40 >"$D/d14.xml" &&
    rate-fetch --file "$D/d13.xml" 2>err &&
    echo "rate-fetch: ecb 2026-04-13: 2 quotes, 2 new" >expect &&
    test_cmp expect err &&
    rate-fetch --file "$D/d14.xml" 2>err &&
    echo "rate-fetch: ecb 2026-04-14: 2 quotes, 2 new" >expect &&
    test_cmp expect err &&
    events >actual &&
    test_must_be_empty actual
'

test_expect_success 'exactly 2 % up and 2 % down is not a jump' '
    # 1.1000 * 1.02 = 1.1220; 180.00 * 0.98 = 176.40
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM events WHERE kind = ${SQ}rate_jump${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'just over 2 %: stored, warned, an event, exit 1' '
    # 1.1220 * 1.02 = 1.14444 < 1.1445; 176.40 * 0.98 = 172.872 > 172.87
    test_ecb_xml @2026-04-15 USD 1.1445 JPY 172.87 >"$D/d15.xml" &&
    test_expect_code 1 rate-fetch --file "$D/d15.xml" 2>err &&
    cat >expect <<-\EOF &&
	rate-fetch: warning: rate jump EUR/JPY: ecb moved more than 2 % from 176.40 on 2026-04-14 to 172.87 on 2026-04-15
	rate-fetch: warning: rate jump EUR/USD: ecb moved more than 2 % from 1.1220 on 2026-04-14 to 1.1445 on 2026-04-15
	rate-fetch: ecb 2026-04-15: 2 quotes, 2 new
	EOF
    sort expect >expect.sorted &&
    sort err >err.sorted &&
    test_cmp expect.sorted err.sorted &&
    test_sql "$DAIGOU_DB" "SELECT quote, rate FROM rates WHERE as_of = ${SQ}2026-04-15${SQ} ORDER BY quote" >actual &&
    printf "JPY|172.87\nUSD|1.1445\n" >expect &&
    test_cmp expect actual &&
    events | sort >actual &&
    cat >expect <<-\EOF &&
	rate-fetch|rate_jump|EUR/JPY|ecb moved more than 2 % from 176.40 on 2026-04-14 to 172.87 on 2026-04-15
	rate-fetch|rate_jump|EUR/USD|ecb moved more than 2 % from 1.1220 on 2026-04-14 to 1.1445 on 2026-04-15
	EOF
    test_cmp expect actual
'

test_expect_success 'the same document again: nothing new, no new event, exit 0' '
    rate-fetch --file "$D/d15.xml" 2>err &&
    echo "rate-fetch: ecb 2026-04-15: 2 quotes, 0 new" >expect &&
    test_cmp expect err &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM events WHERE kind = ${SQ}rate_jump${SQ}" >actual &&
    echo 2 >expect &&
    test_cmp expect actual
'

test_expect_success '--max-jump 5 lets a 4 % move through' '
    test_ecb_xml @2026-04-16 USD 1.1903 >"$D/d16.xml" &&
    rate-fetch --max-jump 5 --file "$D/d16.xml" 2>err &&
    echo "rate-fetch: ecb 2026-04-16: 1 quote, 1 new" >expect &&
    test_cmp expect err &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM events WHERE kind = ${SQ}rate_jump${SQ}" >actual &&
    echo 2 >expect &&
    test_cmp expect actual
'

test_expect_success '--max-jump 0.5 catches a 0.6 % move; 0 catches any move' '
    test_ecb_xml @2026-04-17 USD 1.1975 >"$D/d17.xml" &&
    test_expect_code 1 rate-fetch --max-jump 0.5 --file "$D/d17.xml" 2>err &&
    echo "rate-fetch: warning: rate jump EUR/USD: ecb moved more than 0.5 % from 1.1903 on 2026-04-16 to 1.1975 on 2026-04-17" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    test_ecb_xml @2026-04-20 USD 1.1976 >"$D/d20.xml" &&
    test_expect_code 1 rate-fetch --max-jump 0 --file "$D/d20.xml" 2>err &&
    echo "rate-fetch: warning: rate jump EUR/USD: ecb moved more than 0 % from 1.1975 on 2026-04-17 to 1.1976 on 2026-04-20" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual
'

test_expect_success 'a bad --max-jump is a usage error' '
    for bad in -1 two 1e2 ""; do
        test_expect_code 64 rate-fetch --max-jump "$bad" --file "$D/d20.xml" 2>err &&
        echo "rate-fetch: --max-jump needs a percentage such as 2 or 0.5, not ${SQ}$bad${SQ}" >expect &&
        sed -n 1p err >actual &&
        test_cmp expect actual || return 1
    done
'

test_expect_success 'a jump in a document whose commit fails: no warning, no event' '
    # A deferred foreign key that the rate_jump event breaks: the
    # statements succeed, the COMMIT fails.
    db=$PWD/trap.db &&
    test_ecb_xml @2026-04-13 USD 1.1000 >a.xml &&
    test_ecb_xml @2026-04-14 USD 1.2000 JPY 180.00 >b.xml &&
    rate-fetch -q --db "$db" --file a.xml &&
    test_sql "$db" "CREATE TABLE trap_parent (id INTEGER PRIMARY KEY);
        CREATE TABLE trap_child (parent INTEGER REFERENCES trap_parent (id)
            DEFERRABLE INITIALLY DEFERRED);
        CREATE TRIGGER trap AFTER INSERT ON events
            WHEN NEW.kind = ${SQ}rate_jump${SQ}
            BEGIN INSERT INTO trap_child VALUES (1); END" &&
    test_expect_code 74 rate-fetch --db "$db" --file b.xml >out 2>err &&
    test_must_be_empty out &&
    # one line, the failed commit (the path as SQLite names it)
    test_line_count = 1 err &&
    grep "^rate-fetch: cannot commit a transaction on ${SQ}.*/trap.db${SQ}: FOREIGN KEY constraint failed\$" err &&
    echo "0|0" >expect &&
    test_sql "$db" "SELECT (SELECT count(*) FROM rates WHERE as_of = ${SQ}2026-04-14${SQ}),
        (SELECT count(*) FROM events WHERE kind = ${SQ}rate_jump${SQ})" >actual &&
    test_cmp expect actual &&
    test_sql "$db" "DROP TRIGGER trap" &&
    test_expect_code 1 rate-fetch --db "$db" --file b.xml 2>err &&
    cat >expect <<-\EOF &&
	rate-fetch: warning: rate jump EUR/USD: ecb moved more than 2 % from 1.1000 on 2026-04-13 to 1.2000 on 2026-04-14
	rate-fetch: ecb 2026-04-14: 2 quotes, 2 new
	EOF
    test_cmp expect err &&
    echo "2|1" >expect &&
    test_sql "$db" "SELECT (SELECT count(*) FROM rates WHERE as_of = ${SQ}2026-04-14${SQ}),
        (SELECT count(*) FROM events WHERE kind = ${SQ}rate_jump${SQ})" >actual &&
    test_cmp expect actual
'

test_expect_success 'a history loaded at once checks only its newest day' '
    unset DAIGOU_DB &&
    {
        test_ecb_xml @2026-04-13 USD 1.0000 | sed "/<\/Cube>/,\$d" &&
        printf "\t\t</Cube>\n\t\t<Cube time=${SQ}2026-04-14${SQ}>\n" &&
        printf "\t\t\t<Cube currency=${SQ}USD${SQ} rate=${SQ}1.5000${SQ}/>\n" &&
        printf "\t\t</Cube>\n\t</Cube>\n</gesmes:Envelope>\n"
    } >two.xml &&
    test_expect_code 1 rate-fetch --file two.xml 2>err &&
    cat >expect <<-\EOF &&
	rate-fetch: warning: rate jump EUR/USD: ecb moved more than 2 % from 1.0000 on 2026-04-13 to 1.5000 on 2026-04-14
	rate-fetch: ecb 2026-04-13..2026-04-14: 2 days, 2 quotes, 2 new
	EOF
    test_cmp expect err
'

# ------------------------------------------------------------ overlap

WWW=$TRASH/www
mkdir "$WWW"
test_ecb_xml @2026-04-21 USD 1.2000 JPY 190.00 >"$WWW/daily.xml"
if ! test_start_httpd "$WWW"; then
    echo "Bail out! cannot start tests/httpd.py"
    exit 1
fi

# ctl PATH [DATA]: a control request to the test server.
ctl() {
    "$PYTHON3" -S -c '
import os, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
data = sys.argv[2].encode() if len(sys.argv) > 2 else None
req = urllib.request.Request(os.environ["HTTPD_URL"] + "/_ctl/" + sys.argv[1],
                             data=data)
with opener.open(req, timeout=30) as r:
    sys.stdout.write(r.read().decode())
' "$@"
}

# wait_locked: until a rate-fetch holds the lock of ./daigou.db (10 s at
# most), told by flock(1) failing to take it.
wait_locked() {
    wl_i=0
    while flock -n daigou.db.rate-fetch.lock true 2>/dev/null ||
        [ ! -e daigou.db.rate-fetch.lock ]; do
        wl_i=$((wl_i + 1))
        [ "$wl_i" -lt 100 ] || return 1
        sleep 0.1
    done
}

# gets: the number of GET /daily.xml requests the server has seen.
gets() {
    ctl log | grep -c "\"path\": *\"/daily.xml\"" || true
}

test_expect_success 'overlap: the second run gives up after --lock-wait: 75' '
    unset DAIGOU_DB &&
    ctl reset "" &&
    ctl script "{\"/daily.xml\": [{\"delay\": 3}]}" || exit 1
    { rate-fetch --url "$HTTPD_URL/daily.xml" 2>first.err; echo $? >first.rc; } &
    wait_locked &&
    test_expect_code 75 rate-fetch --lock-wait 1 --url "$HTTPD_URL/daily.xml" 2>err &&
    echo "rate-fetch: another rate-fetch is running on ${SQ}daigou.db${SQ} (waited 1 s): try again later" >expect &&
    test_cmp expect err &&
    wait &&
    echo 0 >expect &&
    test_cmp expect first.rc &&
    echo "rate-fetch: ecb 2026-04-21: 2 quotes, 2 new" >expect &&
    test_cmp expect first.err &&
    gets >actual &&
    echo 1 >expect &&
    test_cmp expect actual
'

test_expect_success 'overlap: a patient second run waits, then gets a 304' '
    unset DAIGOU_DB &&
    ctl reset "" &&
    ctl script "{\"/daily.xml\": [{\"delay\": 2}]}" || exit 1
    { rate-fetch --url "$HTTPD_URL/daily.xml" 2>first.err; echo $? >first.rc; } &
    wait_locked &&
    rate-fetch --lock-wait 20 --url "$HTTPD_URL/daily.xml" 2>err &&
    wait &&
    echo 0 >expect &&
    test_cmp expect first.rc &&
    echo "rate-fetch: ecb 2026-04-21: 2 quotes, 2 new" >expect &&
    test_cmp expect first.err &&
    test_must_be_empty err &&
    ctl log | sed -n "s/.*\"status\": *\([0-9]*\).*/\1/p" >actual &&
    printf "200\n304\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'overlap: eight runs of one file at once store it once' '
    unset DAIGOU_DB &&
    test_ecb_xml @2026-04-22 USD 1.2100 JPY 191.00 GBP 0.8700 >d22.xml &&
    rate-fetch --file "$D/d13.xml" 2>/dev/null || exit 1
    for i in 1 2 3 4 5 6 7 8; do
        { rate-fetch --max-jump 100 --file d22.xml 2>run$i.err; echo $? >run$i.rc; } &
    done &&
    wait &&
    cat run?.rc | sort -u >actual &&
    echo 0 >expect &&
    test_cmp expect actual &&
    cat run?.err | sort | uniq -c | sed "s/^ *//" >actual &&
    cat >expect <<-\EOF &&
	7 rate-fetch: ecb 2026-04-22: 3 quotes, 0 new
	1 rate-fetch: ecb 2026-04-22: 3 quotes, 3 new
	EOF
    test_cmp expect actual &&
    test_sql daigou.db "SELECT count(*) FROM rates" >actual &&
    echo 5 >expect &&
    test_cmp expect actual
'

test_done
