#!/usr/bin/env bash
# Pin 1,000,000 orders (bench/gen-orders.py, seeded: JPY, CNY, KRW, USD
# and GBP orders charged in EUR, USD or GBP, created over a week of ECB
# days) from CSV into a fresh database holding the ECB's 90-day history,
# and in the same run the same orders by three baselines:
#   storage floor     the rows order-rate-pin wrote, copied into staging
#                     tables of a database with the same schema less its
#                     CHECK constraints and triggers (bench/floor.py), then
#                     inserted into its tables by the sqlite3 shell with
#                     INSERT ... SELECT in one transaction, with the tools'
#                     connection settings: only that insert is timed;
#   python3 pin.py    bench/pin.py, the script a user would write (csv,
#                     fractions, sqlite3), pinning the same orders into the
#                     same schema; it must store exactly the rows
#                     order-rate-pin stored, or the bench fails;
#   sqlite3 .import   the sqlite3 shell's .import of the same CSV into a
#                     plain table, which checks and converts nothing.
# Reports orders per second, the ratios and peak memory. The goals: at
# least 100,000 orders/s, 0.5x the storage floor and 3x pin.py. --quick
# pins 100,000 orders. A benchmark, never a test: it never fails on a
# timing.
#
# usage: bench/order-rate-pin-1m.sh [--quick] [--build DIR] [--before DIR]
#                                   [--work DIR]     (see bench/lib.sh)
. "$(dirname "$0")/lib.sh"
need_bins rate-fetch order-rate-pin
count=1000000 runs=3
[[ $quick == no ]] || count=100000 runs=2
wl="$(commas "$count") orders"
hist=$top/share/ecb/eurofxref-hist-90d.xml

"$py" "$top/bench/gen-orders.py" --count "$count" --seed 1 \
    --since 2026-04-07 --days 7 >"$work/orders.csv"
say "orders: $count, $(wc -c <"$work/orders.csv") bytes of CSV"

# A database holding the quotes, made once by each build's rate-fetch;
# every timed run starts from a copy.
quotes() {
    rm -f "$2" "$2-wal" "$2-shm"
    "$1/rate-fetch" -q --max-jump 100 --db "$2" --file "$hist"
    sqlite3 "$2" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}
quotes "$build" "$work/quotes.db"
[[ -z $before ]] || quotes "$before" "$work/quotes-before.db"
say "quotes: $(sqlite3 "$work/quotes.db" "SELECT count(*) || ' from ' || min(as_of) || ' to ' || max(as_of) FROM rates")"

csv=$(q "$work/orders.csv")
# copy FROM TO: the prepare step of a run into a fresh copy TO
copy() { echo "rm -f $(q "$2") $(q "$2-wal") $(q "$2-shm") && cp $(q "$1") $(q "$2")"; }
pin() { echo "$(q "$1/order-rate-pin") -q --db $(q "$2") $csv >/dev/null"; }

measure this order-rate-pin "$wl" order-rate-pin "$count" orders rate \
    "$runs" "rate>=100000" "$(copy "$work/quotes.db" "$work/a.db")" \
    "$(pin "$build" "$work/a.db")"
if [[ -n $before ]]; then
    measure before order-rate-pin "$wl" order-rate-pin "$count" orders \
        rate "$runs" "" \
        "$(copy "$work/quotes-before.db" "$work/before.db")" \
        "$(pin "$before" "$work/before.db")"
fi

# The storage floor: the rows of the last run above.
rm -f "$work"/floor0.db*
"$py" "$top/bench/floor.py" "$work/a.db" "$work/floor0.db" "$work/floor.sql"
measure baseline order-rate-pin "$wl" \
    "storage floor (sqlite3, no CHECKs, no triggers)" \
    "$count" orders rate "$runs" "ratio>=0.5" \
    "$(copy "$work/floor0.db" "$work/f.db")" \
    "sqlite3 $(q "$work/f.db") <$(q "$work/floor.sql")"

measure baseline order-rate-pin "$wl" "python3 pin.py" "$count" orders rate \
    "$runs" "ratio>=3" "$(copy "$work/quotes.db" "$work/p.db")" \
    "$(q "$py") $(q "$top/bench/pin.py") $(q "$work/p.db") $csv"

measure baseline order-rate-pin "$wl" "sqlite3 .import (plain table)" \
    "$count" orders rate "$runs" "" \
    "rm -f $(q "$work/i.db")" \
    "sqlite3 $(q "$work/i.db") -cmd '.mode csv' '.import $csv orders'"

# pin.py must have stored what order-rate-pin stored, row for row, and
# the floor as many rows.
differ=$(cd "$work" && sqlite3 a.db "ATTACH 'p.db' AS p; ATTACH 'f.db' AS f;
    SELECT (SELECT count(*) FROM (SELECT * FROM main.orders EXCEPT SELECT * FROM p.orders))
    + (SELECT count(*) FROM (SELECT * FROM p.orders EXCEPT SELECT * FROM main.orders))
    + (SELECT count(*) FROM (SELECT * FROM main.order_items EXCEPT SELECT * FROM p.order_items))
    + (SELECT count(*) FROM (SELECT * FROM p.order_items EXCEPT SELECT * FROM main.order_items))
    + (SELECT count(*) FROM (SELECT * FROM main.order_rates EXCEPT SELECT * FROM p.order_rates))
    + (SELECT count(*) FROM (SELECT * FROM p.order_rates EXCEPT SELECT * FROM main.order_rates))
    + abs((SELECT count(*) FROM main.orders) - $count)
    + abs((SELECT count(*) FROM f.order_rates) - (SELECT count(*) FROM main.order_rates))")
if [[ $differ -ne 0 ]]; then
    say "order-rate-pin and pin.py disagree: $differ rows differ" \
        "(compare a.db and p.db in a --work directory)"
    exit 1
fi
say "order-rate-pin and pin.py stored the same rows for $count orders"
