#!/bin/sh
# t0021-db-paths: a database path that cannot be used (a missing
# directory, a directory, a directory or a file without permission). A
# tool that only reads says so and exits 66, a tool that writes exits 73;
# both name what is wrong and where, and nothing is created.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAILY=$FIXTURES/ecb/eurofxref-daily-2026-04-13.csv

# as_other CMD...: CMD as a user the modes of the test's files refuse.
# Root may write anywhere, so as root CMD runs as the unprivileged uid
# 65534 (setpriv); any other user is refused by the modes themselves.
as_other() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        "$@"
    fi
}

# The permission tests need that other user to reach the test's
# directory and run the tools.
OTHER=
if [ "$(id -u)" != 0 ]; then
    OTHER=yes
elif command -v setpriv >/dev/null 2>&1 && chmod 711 "$TRASH" &&
    (cd "$TRASH" && as_other rate-fetch --version) >/dev/null 2>&1; then
    OTHER=yes
fi

test_expect_success 'a missing directory: a reader exits 66, a writer 73' '
    echo "rate-fetch: cannot open database ${SQ}no/dir/shop.db${SQ}: no such directory ${SQ}no/dir${SQ}" >expect &&
    test_expect_code 66 rate-fetch --print --db no/dir/shop.db >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    echo "refund-calc: cannot open database ${SQ}no/dir/shop.db${SQ}: no such directory ${SQ}no/dir${SQ}" >expect &&
    test_expect_code 66 refund-calc --db no/dir/shop.db --all A1 >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    echo "rate-fetch: cannot create database ${SQ}no/dir/shop.db${SQ}: no such directory ${SQ}no/dir${SQ}" >expect &&
    test_expect_code 73 rate-fetch --file "$DAILY" --db no/dir/shop.db >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    echo "order-rate-pin: cannot create database ${SQ}no/dir/shop.db${SQ}: no such directory ${SQ}no/dir${SQ}" >expect &&
    test_expect_code 73 order-rate-pin --db no/dir/shop.db --to EUR A1 100 USD >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    ! test -e no
'

test_expect_success 'a long path is named whole, a control character escaped' '
    long=cron/nightly/merchant-0001/shops/tokyo-sneakers/backoffice/ledger &&
    echo "rate-fetch: cannot create database ${SQ}$long/shop\\n.db${SQ}: no such directory ${SQ}$long${SQ}" >expect &&
    test_expect_code 73 rate-fetch --file "$DAILY" --db "$long/shop
.db" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
'

test_expect_success 'a directory in the path that is a file: 66 and 73' '
    echo "not a directory" >notes &&
    echo "rate-fetch: cannot open database ${SQ}notes/shop.db${SQ}: no such directory ${SQ}notes${SQ}" >expect &&
    test_expect_code 66 rate-fetch --print --db notes/shop.db 2>err &&
    test_cmp expect err &&
    echo "rate-fetch: cannot create database ${SQ}notes/shop.db${SQ}: no such directory ${SQ}notes${SQ}" >expect &&
    test_expect_code 73 rate-fetch --file "$DAILY" --db notes/shop.db 2>err &&
    test_cmp expect err &&
    echo "not a directory" >expect &&
    test_cmp expect notes
'

test_expect_success 'a path that is a directory: a reader exits 66, a writer 73' '
    mkdir shop.db &&
    echo "rate-fetch: cannot open database ${SQ}shop.db${SQ}: is a directory" >expect &&
    test_expect_code 66 rate-fetch --print --db shop.db >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 73 rate-fetch --file "$DAILY" --db shop.db >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out &&
    test_expect_code 73 env DAIGOU_DB=shop.db rate-fetch --file "$DAILY" 2>err &&
    test_cmp expect err &&
    ls -A shop.db >listing &&
    test_must_be_empty listing
'

if [ -n "$OTHER" ]; then
    test_expect_success 'a directory the user cannot write: a reader 66, a writer 73' '
        mkdir d &&
        rate-fetch -q --db d/shop.db --file "$DAILY" &&
        chmod 666 d/shop.db &&
        chmod 555 d &&
        {
            echo "rate-fetch: cannot create database ${SQ}d/new.db${SQ}: directory ${SQ}d${SQ} is not writable (permission denied)" >expect &&
            test_expect_code 73 as_other rate-fetch --file "$DAILY" --db d/new.db 2>err &&
            test_cmp expect err &&
            ! test -e d/new.db &&
            echo "rate-fetch: cannot open database ${SQ}d/shop.db${SQ} for writing: cannot create its -wal and -shm files in ${SQ}d${SQ}: permission denied" >expect &&
            test_expect_code 73 as_other rate-fetch --file "$DAILY" --db d/shop.db 2>err &&
            test_cmp expect err &&
            echo "rate-fetch: cannot open database ${SQ}d/shop.db${SQ}: cannot create its -wal and -shm files in ${SQ}d${SQ}: permission denied" >expect &&
            test_expect_code 66 as_other rate-fetch --print --db d/shop.db >out 2>err &&
            test_cmp expect err &&
            test_must_be_empty out
        }
        rc=$?
        chmod 755 d
        (exit $rc)
    '

    test_expect_success 'a file the user cannot write or read: a writer 73, a reader 66' '
        mkdir d &&
        rate-fetch -q --db d/shop.db --file "$DAILY" &&
        chmod 777 d &&
        chmod 444 d/shop.db &&
        echo "rate-fetch: cannot open database ${SQ}d/shop.db${SQ} for writing: permission denied" >expect &&
        test_expect_code 73 as_other rate-fetch --file "$DAILY" --db d/shop.db 2>err &&
        test_cmp expect err &&
        chmod 000 d/shop.db &&
        echo "rate-fetch: cannot open database ${SQ}d/shop.db${SQ}: permission denied" >expect &&
        test_expect_code 66 as_other rate-fetch --print --db d/shop.db >out 2>err &&
        test_cmp expect err &&
        test_must_be_empty out &&
        chmod 644 d/shop.db &&
        echo 29 >expect &&
        test_sql d/shop.db "SELECT count(*) FROM rates" >actual &&
        test_cmp expect actual
    '
else
    test_skip 'a directory the user cannot write: running as root, and setpriv cannot run the tools as another user who would be refused'
    test_skip 'a file the user cannot write or read: running as root, and setpriv cannot run the tools as another user who would be refused'
fi

test_done
