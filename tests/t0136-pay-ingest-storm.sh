#!/bin/sh
# t0136-pay-ingest-storm: exactly once, by storm. 1,000 Stripe callbacks
# (charges and refunds for 500 orders pinned first with order-rate-pin,
# tests/gen-pay-events.py) are each delivered three times, shuffled, by
# eight curl processes at once through a real lighttpd running
# pay-ingest --cgi, while eight batch replays of the same events
# (--jsonl --no-verify) run at the same time: every delivery is answered
# 200 with recorded or duplicate, every payment is stored once with its
# facts, every order ends in the state its payments give, and the
# database is sound. With ENDPOINT=scgi (t0139) the deliveries go to two
# pay-ingest --scgi processes that lighttpd's mod_scgi spawns, each
# recording the requests complete at one moment in one transaction.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

test_require_lighttpd

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
W=$TRASH/web
# shellcheck disable=SC2034 # used inside the test bodies
DB=$TRASH/shop.db
# shellcheck disable=SC2034 # used inside the test bodies
SECRET=$W/secret
# shellcheck disable=SC2034 # used inside the test bodies
EV=$TRASH/ev
NOW=2026-04-14T08:00:00Z
# shellcheck disable=SC2034 # used inside the test bodies
T=1776153600
ENDPOINT=${ENDPOINT:-cgi}
mkdir -p "$W/www/webhook"
echo "setenv.add-environment = (\"DAIGOU_NOW\" => \"$NOW\")" >"$W/local.conf"

# lighttpd finds the CGI program when a request comes: setup writes it.
# The SCGI processes start with lighttpd, on the database and secret
# setup then fills in.
if [ "$ENDPOINT" = scgi ]; then
    (umask 077 && printf "whsec_storm\n" >"$SECRET")
    test_lighttpd_scgi "$W" /webhook/stripe 2 \
        "$top_builddir/pay-ingest --scgi --gateway stripe --db $DB --secret-file $SECRET" \
        DAIGOU_NOW=$NOW
fi
if ! test_lighttpd_start "$W"; then
    echo "Bail out! lighttpd did not start"
    exit 1
fi

test_expect_success 'setup: 500 orders pinned, 1,000 events, 3,000 deliveries' '
    DAIGOU_NOW=$NOW rate-fetch -q --db "$DB" \
        --file "$FIXTURES/ecb/eurofxref-daily-2026-04-13.csv" &&
    "$PYTHON3" "$top_srcdir/bench/gen-orders.py" --count 500 --seed 12 \
        >"$TRASH/orders.csv" &&
    DAIGOU_NOW=$NOW order-rate-pin -q --db "$DB" "$TRASH/orders.csv" \
        >"$TRASH/pins.csv" &&
    test_line_count = 501 "$TRASH/pins.csv" &&
    (umask 077 && printf "whsec_storm\n" >"$SECRET") &&
    "$PYTHON3" "$top_srcdir/tests/gen-pay-events.py" --pins "$TRASH/pins.csv" \
        --seed 20260414 --out "$EV" --bodies \
        --url "$LIGHTTPD_URL/webhook/stripe" \
        --secret-file "$SECRET" --now $T --copies 3 --procs 8 &&
    test_line_count = 1000 "$EV/events.jsonl" &&
    test_line_count = 1000 "$EV/payments.expect" &&
    test_line_count = 500 "$EV/orders.expect" &&
    cat "$EV"/curl-*.cfg | grep -c "^url = " >actual &&
    echo 3000 >expect &&
    test_cmp expect actual &&
    if [ "$ENDPOINT" = scgi ]; then
        test ! -e "$W/www/webhook/stripe"
    else
        cat >"$W/www/webhook/stripe" <<EOF &&
#!/bin/sh
exec "$top_builddir/pay-ingest" --cgi --gateway stripe --db "$DB" --secret-file "$SECRET"
EOF
        chmod 755 "$W/www/webhook/stripe"
    fi
'


test_expect_success 'the storm: 8 curl clients and 8 batch replays at once' '
    i=0 &&
    while [ $i -lt 8 ]; do
        curl -sS --max-time 120 -K "$EV/curl-$i.cfg" \
            >"$TRASH/codes.$i" 2>"$TRASH/curl.$i.err" &
        eval "c$i=\$!"
        pay-ingest -q --gateway stripe --db "$DB" --jsonl --no-verify \
            "$EV/events.jsonl" >"$TRASH/replay.$i.out" \
            2>"$TRASH/replay.$i.err" &
        eval "r$i=\$!"
        i=$((i + 1))
    done &&
    i=0 &&
    fails=0 &&
    while [ $i -lt 8 ]; do
        eval "wait \$c$i" || { echo "curl $i: exit $?"; fails=1; }
        eval "wait \$r$i"
        echo $? >"$TRASH/replay.$i.rc"
        i=$((i + 1))
    done &&
    test $fails = 0 ||
    { test_lighttpd_log; false; }
'

test_expect_success 'every delivery answered 200' '
    cat "$TRASH"/codes.* >codes &&
    test_line_count = 3000 codes &&
    cut -d" " -f1 codes | sort | uniq -c | sed "s/^ *//" >actual &&
    echo "3000 200" >expect &&
    test_cmp expect actual &&
    cut -d" " -f2 codes | sort -n | uniq | wc -l | tr -d " " >actual &&
    echo 3000 >expect &&
    test_cmp expect actual
'

test_expect_success 'every answer is recorded or duplicate, none conflict or rejected' '
    for f in "$EV"/resp/*; do
        sed -n "s/^{\"status\":200,\"result\":\"\\([a-z]*\\)\",.*/\\1/p" "$f"
    done | sort | uniq -c | sed "s/^ *//" >actual &&
    cat "$EV"/resp/* | grep -c "" >lines &&
    echo 3000 >expect &&
    test_cmp expect lines &&
    ! grep -l "\"result\":\"conflict\"\|\"result\":\"rejected\"" "$EV"/resp/* &&
    awk "{ n += \$1 } END { print n }" actual >total &&
    test_cmp expect total
'

test_expect_success 'the batch replays exit 0 and print recorded or duplicate only' '
    cat "$TRASH"/replay.*.rc | sort | uniq -c | sed "s/^ *//" >actual &&
    echo "8 0" >expect &&
    test_cmp expect actual &&
    cat "$TRASH"/replay.*.out | grep -v "^gateway," |
        cut -d, -f7 | sort | uniq -c | sed "s/^ *//" >actual &&
    test -s actual &&
    ! grep -v " duplicate\$\| recorded\$" actual &&
    for f in "$TRASH"/replay.*.out; do
        grep -v "^gateway," "$f" | awk "END { print NR }"
    done | sort -u >counts &&
    test_line_count = 1 counts ||
    { cat "$TRASH"/replay.*.err; false; }
'

test_expect_success 'the answers and the replays record each payment once between them' '
    cat "$EV"/resp/* | grep -o "\"result\":\"recorded\",\"reason\"" |
        awk "END { print NR }" >cgi.recorded &&
    cat "$TRASH"/replay.*.out | cut -d, -f7 |
        awk "\$0 == \"recorded\" { n++ } END { print n + 0 }" \
        >replay.recorded &&
    echo $(($(cat cgi.recorded) + $(cat replay.recorded))) >actual &&
    echo 1000 >expect &&
    test_cmp expect actual
'

test_expect_success 'every payment stored once with its facts' '
    test_sql "$DB" "SELECT p.gateway_txn_id || $SQ $SQ || p.kind || $SQ $SQ || coalesce(p.order_id, c.order_id, $SQ?$SQ) || $SQ $SQ || p.amount || $SQ $SQ || p.currency || $SQ $SQ || coalesce(p.parent_txn_id, $SQ-$SQ) FROM payments p LEFT JOIN payments c ON c.gateway = p.gateway AND c.gateway_txn_id = p.parent_txn_id ORDER BY p.gateway_txn_id" >actual.unsorted &&
    sort actual.unsorted >actual &&
    test_cmp "$EV/payments.expect" actual &&
    test_sql "$DB" "SELECT count(*), count(DISTINCT gateway_txn_id) FROM payments" >actual &&
    echo "1000|1000" >expect &&
    test_cmp expect actual
'

test_expect_success 'every order in the state its payments give' '
    test_sql "$DB" "SELECT order_id || $SQ $SQ || state FROM orders ORDER BY order_id" >actual.unsorted &&
    sort actual.unsorted >actual &&
    test_cmp "$EV/orders.expect" actual
'

test_expect_success 'no conflict, no mismatch; the database is sound' '
    test_sql "$DB" "SELECT kind, count(*) FROM events WHERE kind IN (${SQ}payment_conflict$SQ, ${SQ}payment_mismatch$SQ, ${SQ}payment_unknown_order$SQ, ${SQ}payment_rejected$SQ, ${SQ}refund_mismatch$SQ) GROUP BY kind" >actual &&
    test_must_be_empty actual &&
    test_sql "$DB" "PRAGMA integrity_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual &&
    test_sql "$DB" "PRAGMA foreign_key_check" >actual &&
    test_must_be_empty actual
'

test_lighttpd_stop

test_done
