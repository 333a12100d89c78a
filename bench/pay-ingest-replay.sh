#!/usr/bin/env bash
# 100,000 Stripe events replayed from JSON Lines into a fresh database.
# Setup, not timed: 50,000 orders (bench/gen-orders.py) pinned into a
# database holding the ECB's 90-day history, and for them 100,000 whole
# Stripe events of about 3 KB (tests/gen-pay-events.py: charges, partial
# and full refunds, refunds naming only their charge), one per line.
# Timed, each run into a fresh copy of the pinned database:
#   pay-ingest --jsonl --no-verify   the replay (500 events a transaction);
#   python3                          bench/pay_replay.py, a plain script
#                                    (json + hashlib + sqlite3) doing the
#                                    same checks (duplicate keys at every
#                                    depth, depth, ids, currencies, Stripe
#                                    units), key lookup, comparison, insert,
#                                    flags and order state, with the same
#                                    SQL and transaction size, and printing
#                                    the same rows.
# After the timing, the two databases must hold the same payments (every
# column but the row id) and order states, or the bench fails. Reports
# events per second, the ratio and peak memory. Goal: at least twice the
# python3 script. --quick: 10,000 events over 5,000 orders. A benchmark,
# never a test: it never fails on a timing.
#
# usage: bench/pay-ingest-replay.sh [--quick] [--build DIR] [--before DIR]
#                                   [--work DIR]      (see bench/lib.sh)
. "$(dirname "$0")/lib.sh"
need_bins rate-fetch order-rate-pin pay-ingest
orders=50000 runs=3
[[ $quick == no ]] || orders=5000 runs=2
count=$((orders * 2))
hist=$top/share/ecb/eurofxref-hist-90d.xml

"$py" "$top/bench/gen-orders.py" --count "$orders" --seed 1 \
    --since 2026-04-07 --days 7 >"$work/orders.csv"
# pinned BUILD DB: the orders pinned by BUILD's tools into DB; the pins
# printed in DB.pins.
pinned() {
    rm -f "$2" "$2-wal" "$2-shm"
    "$1/rate-fetch" -q --max-jump 100 --db "$2" --file "$hist"
    "$1/order-rate-pin" -q --db "$2" "$work/orders.csv" >"$2.pins"
    sqlite3 "$2" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}
pinned "$build" "$work/pinned.db"
[[ -z $before ]] || pinned "$before" "$work/pinned-before.db"
"$py" "$top/tests/gen-pay-events.py" --pins "$work/pinned.db.pins" \
    --seed 1 --out "$work/ev"
events=$work/ev/events.jsonl
n=$(wc -l <"$events")
if [[ $n -ne $count ]]; then
    say "$n events generated, not $count"
    exit 70
fi
say "events: $(commas "$n") Stripe events, $(commas "$(wc -c <"$events")")" \
    "bytes ($(($(wc -c <"$events") / n)) bytes each on average)"

wl="$(commas "$count") Stripe events, JSON Lines"
ev=$(q "$events")
copy() { echo "rm -f $(q "$2") $(q "$2-wal") $(q "$2-shm") && cp $(q "$1") $(q "$2")"; }
replay() { echo "$(q "$1/pay-ingest") -q --gateway stripe --jsonl --no-verify --db $(q "$2") $ev >/dev/null"; }

measure this pay-ingest "$wl" "pay-ingest --jsonl" "$count" events rate \
    "$runs" "" "$(copy "$work/pinned.db" "$work/tool.db")" \
    "$(replay "$build" "$work/tool.db")"
if [[ -n $before ]]; then
    measure before pay-ingest "$wl" "pay-ingest --jsonl" "$count" events \
        rate "$runs" "" "$(copy "$work/pinned-before.db" "$work/before.db")" \
        "$(replay "$before" "$work/before.db")"
fi
measure baseline pay-ingest "$wl" "python3 pay_replay.py" "$count" events \
    rate "$runs" "ratio>=2" "$(copy "$work/pinned.db" "$work/python.db")" \
    "$(q "$py") $(q "$top/bench/pay_replay.py") $(q "$work/python.db") $ev >/dev/null"

# rows DB: what both must have stored, in key order.
rows() {
    sqlite3 "$1" "SELECT gateway, gateway_txn_id, kind, order_id, amount,
        currency, status, parent_txn_id, event_type, payload_sha256,
        received_at, refund_id, event_id FROM payments
        ORDER BY gateway, gateway_txn_id;
        SELECT order_id, state FROM orders ORDER BY order_id;
        SELECT 'events', kind, count(*) FROM events GROUP BY kind;"
}
rows "$work/tool.db" >"$work/tool.rows"
rows "$work/python.db" >"$work/python.rows"
if ! cmp -s "$work/tool.rows" "$work/python.rows"; then
    diff -u "$work/tool.rows" "$work/python.rows" | head -n 40 >&2 || true
    say "pay-ingest and the python3 baseline stored other rows" \
        "(- pay-ingest, + python3)"
    exit 1
fi
stored=$(sqlite3 "$work/tool.db" "SELECT count(*) FROM payments")
expected=$(wc -l <"$work/ev/payments.expect")
if [[ $stored -ne $expected ]]; then
    say "$stored payments stored, $expected expected"
    exit 1
fi
say "pay-ingest and python3 stored the same $(commas "$stored") payments;" \
    "$(sqlite3 "$work/tool.db" "SELECT group_concat(n || ' ' || state, ', ')
        FROM (SELECT state, count(*) AS n FROM orders GROUP BY state)")"
