#!/bin/sh
# t0024-db-migrate-concurrency: several tools open one schema-1 database
# at the same moment: exactly one migrates it, the others wait for its
# lock and find schema 4. A migration killed with SIGKILL leaves the
# file at schema 1 or 4, whole either way, and the next open finishes it.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
export DAIGOU_DB=shop.db
export DAIGOU_NOW=2026-06-10T09:09:24Z

# dump_rows DB: every row, the migration's own event left out, and the
# columns schemas 3 and 4 add to payments and images (NULL in a migrated
# row) too.
dump_rows() {
    test_dump_rows "$1" "kind <> 'schema_migrated' OR
        detail <> 'migrated from schema version 1 to 4'" |
        sed -e "/^'payments',/s/,NULL,NULL\$//" -e "/^'images',/s/,NULL\$//"
}

# start_at_go CMD...: run CMD in the background once the file "go"
# exists; its output goes to out.N and err.N, N counting from 1.
N=0
PIDS=
start_at_go() {
    N=$((N + 1))
    (
        while ! test -e go; do sleep 0.01; done
        exec "$@" >"out.$N" 2>"err.$N"
    ) &
    PIDS="$PIDS $!"
}

test_expect_success 'eight tools open one schema-1 file at once: one migrates, all succeed' '
    test_load_schema1 shop.db &&
    dump_rows shop.db >before &&
    for i in 1 2 3 4; do
        start_at_go "$TEST_TOOL" db open shop.db || return 1
    done &&
    start_at_go order-rate-pin --to EUR --base USD --rounding half-even A6 999 JPY &&
    start_at_go order-rate-pin --to EUR --base USD --rounding half-even A6 999 JPY &&
    start_at_go refund-calc --record --refund-id R1 --lines 1 A1 &&
    start_at_go refund-calc --record --refund-id R1 --lines 1 A1 &&
    sleep 0.3 &&
    : >go &&
    failed=0 &&
    for pid in $PIDS; do
        wait "$pid" || failed=$((failed + 1))
    done &&
    test "$failed" = 0 &&
    cat err.1 err.2 err.3 err.4 err.5 err.6 >errors &&
    test_line_count = 0 errors &&
    cat err.7 err.8 >actual &&
    printf "refund-calc: refund ${SQ}R1${SQ} is already recorded\n%s\n" \
        "refund-calc: refund ${SQ}R1${SQ} is already recorded" >expect &&
    test_cmp expect actual &&
    printf "4\n4\n4\n4\n" >expect &&
    cat out.1 out.2 out.3 out.4 >actual &&
    test_cmp expect actual &&
    for i in 5 6; do
        tail -n 1 out.$i | cut -d, -f1,12 >actual &&
        echo A6,existing >expect &&
        test_cmp expect actual || return 1
    done &&
    for i in 7 8; do
        tail -n 1 out.$i >actual &&
        echo A1,R1,10000,JPY,70.42,EUR,0.00704175762270263,0.00704175762270263,70.42,0.00,70.42,45.77,pinned >expect &&
        test_cmp expect actual || return 1
    done &&
    test_sql shop.db "PRAGMA integrity_check; PRAGMA user_version;
        PRAGMA foreign_key_check;
        SELECT count(*) FROM events WHERE kind = ${SQ}schema_migrated${SQ}
            AND detail = ${SQ}migrated from schema version 1 to 4${SQ}" >actual &&
    printf "ok\n4\n1\n" >expect &&
    test_cmp expect actual &&
    dump_rows shop.db >after &&
    test_cmp before after
'

test_expect_success 'a migration killed with SIGKILL: schema 1 or 4, whole; the next open finishes' '
    test_load_schema1 big.db &&
    test_sql big.db "
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                WHERE i < 150000)
        INSERT INTO events (at, tool, kind, subject, detail)
        SELECT ${SQ}2026-06-10T09:09:24Z${SQ}, ${SQ}rate-fetch${SQ},
            ${SQ}rate_jump${SQ}, ${SQ}EUR/JPY${SQ}, ${SQ}event ${SQ} || i
        FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                WHERE i < 100000)
        INSERT INTO rates (provider, base, quote, rate, as_of, fetched_at)
        SELECT ${SQ}p${SQ} || (i % 100), ${SQ}EUR${SQ}, ${SQ}JPY${SQ},
            (100 + i % 50) || ${SQ}.${SQ} || (i % 97),
            date(${SQ}2000-01-01${SQ}, (i / 100) || ${SQ} days${SQ}),
            ${SQ}2026-06-10T09:09:24Z${SQ}
        FROM n" &&
    dump_rows big.db >before &&
    "$TEST_TOOL" db open big.db >out 2>err &
    pid=$! &&
    i=0 &&
    while test "$(wc -c <big.db-wal 2>/dev/null || echo 0)" -lt 1000000 &&
        kill -0 "$pid" 2>/dev/null && test $i -lt 2000; do
        i=$((i + 1))
        sleep 0.005
    done &&
    kill -9 "$pid" 2>/dev/null;
    wait "$pid";
    test_sql big.db "PRAGMA integrity_check; PRAGMA foreign_key_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual &&
    v=$(test_sql big.db "PRAGMA user_version") &&
    say "after SIGKILL: schema version $v" &&
    case $v in 1 | 4) ;; *) false ;; esac &&
    dump_rows big.db >after &&
    test_cmp before after &&
    "$TEST_TOOL" db open big.db >out &&
    echo 4 >expect &&
    test_cmp expect out &&
    test_sql big.db "PRAGMA integrity_check; PRAGMA foreign_key_check;
        SELECT count(*) FROM events WHERE kind = ${SQ}schema_migrated${SQ}
            AND detail = ${SQ}migrated from schema version 1 to 4${SQ}" >actual &&
    printf "ok\n1\n" >expect &&
    test_cmp expect actual &&
    dump_rows big.db >after &&
    test_cmp before after
'

test_done
