#!/usr/bin/env bash
# 1,000,000 refund calculations in batch mode. Setup, not timed: 100,000
# orders (bench/gen-orders.py, with lines from bench/gen-refunds.py) pinned
# into a database holding the ECB's 90-day history, and 1,000,000 refund
# requests over them (bench/gen-refunds.py: line refunds, seller and charge
# amounts, all). Timed, each on the same rows:
#   refund-calc          computing them (no --record: read-only work);
#   python3              the same rows computed by bench/refund_calc.py, a
#                        plain script a user would write (sqlite3 and
#                        fractions), every output column included;
#   refund-calc --record recording 1,000,000 other refunds, valid in turn
#                        (each order ends fully refunded), into a fresh copy
#                        of the database each run.
# Before the timing, refund-calc and the script must print the same rows
# for the first 10,000 requests, or the bench fails with a diff. Reports
# refunds per second, the ratio refund-calc / python3 and peak memory. The
# goals: 150,000 refunds/s computed, 80,000 recorded. --quick: 100,000
# refunds over 10,000 orders. A benchmark, never a test: it never fails on
# a timing.
#
# usage: bench/refund-calc-1m.sh [--quick] [--build DIR] [--before DIR]
#                                [--work DIR]      (see bench/lib.sh)
. "$(dirname "$0")/lib.sh"
need_bins rate-fetch order-rate-pin refund-calc
orders=100000 count=1000000 check=10000 runs=3
[[ $quick == no ]] || orders=10000 count=100000 check=2000 runs=2
hist=$top/share/ecb/eurofxref-hist-90d.xml

# The orders' days (2026-04-07 .. 2026-04-13, a weekend included) lie in
# the 90-day history; the clock (DAIGOU_NOW) is fixed just after them, so
# the live rate is the quotes of 2026-04-13.
"$py" "$top/bench/gen-orders.py" --count "$orders" --seed 1 \
    --since 2026-04-07 --days 7 >"$work/orders.csv"
"$py" "$top/bench/gen-refunds.py" lines --seed 1 "$work/orders.csv" \
    >"$work/lines.csv"
# pinned BUILD DB: the orders pinned by BUILD's tools into DB, on its own
# (every run of refund-calc --record starts from a copy of this file).
pinned() {
    rm -f "$2" "$2-wal" "$2-shm"
    "$1/rate-fetch" -q --max-jump 100 --db "$2" --file "$hist"
    "$1/order-rate-pin" -q --db "$2" --lines "$work/lines.csv" \
        "$work/orders.csv" >/dev/null
    sqlite3 "$2" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}
pinned "$build" "$work/pinned.db"
[[ -z $before ]] || pinned "$before" "$work/pinned-before.db"
say "orders: $(sqlite3 "$work/pinned.db" "SELECT (SELECT count(*) FROM orders)
    || ' pinned, ' || count(*) || ' lines, ' || sum(qty) || ' units'
    FROM order_items")"
"$py" "$top/bench/gen-refunds.py" refunds --db "$work/pinned.db" \
    --count "$count" --seed 2 >"$work/refunds.csv"
"$py" "$top/bench/gen-refunds.py" refunds --db "$work/pinned.db" \
    --count "$count" --seed 3 --record >"$work/record.csv"
say "refunds: $count to compute, $(wc -c <"$work/refunds.csv") bytes of CSV;" \
    "$count to record, $(wc -c <"$work/record.csv") bytes"

# The two must agree before their speeds are compared.
head -n "$((check + 1))" "$work/refunds.csv" >"$work/check.csv"
"$build/refund-calc" -q --db "$work/pinned.db" "$work/check.csv" \
    >"$work/check-refund-calc.csv" || {
    say "refund-calc failed on the first $check refunds (exit $?)"
    exit 70
}
"$py" "$top/bench/refund_calc.py" "$work/pinned.db" "$work/check.csv" \
    >"$work/check-python3.csv" || {
    say "the python3 baseline failed on the first $check refunds"
    exit 70
}
if ! cmp -s "$work/check-refund-calc.csv" "$work/check-python3.csv"; then
    diff -u "$work/check-refund-calc.csv" "$work/check-python3.csv" |
        head -n 40 >&2 || true
    say "refund-calc and the python3 baseline disagree on the first" \
        "$check refunds (- refund-calc, + python3)"
    exit 1
fi
agreed=$(($(wc -l <"$work/check-refund-calc.csv") - 1))
if [[ $agreed -ne $check ]]; then
    say "$agreed rows out of $check refunds"
    exit 1
fi
say "refund-calc and python3 print the same $agreed rows"
if [[ -n $before ]]; then
    "$before/refund-calc" -q --db "$work/pinned-before.db" \
        "$work/check.csv" >"$work/check-before.csv" || {
        say "refund-calc of --before failed on the first $check refunds"
        exit 70
    }
    cmp -s "$work/check-refund-calc.csv" "$work/check-before.csv" ||
        say "note: refund-calc of --before prints other rows (see" \
            "check-before.csv in a --work directory)"
fi

wl="$(commas "$count") refunds"
refunds=$(q "$work/refunds.csv") record=$(q "$work/record.csv")
compute() { echo "$(q "$1/refund-calc") -q --db $(q "$2") $refunds >/dev/null"; }
copy() { echo "rm -f $(q "$2") $(q "$2-wal") $(q "$2-shm") && cp $(q "$1") $(q "$2")"; }
rec() { echo "$(q "$1/refund-calc") -q --record --db $(q "$2") $record >/dev/null"; }

measure this refund-calc "$wl, computed" refund-calc "$count" refunds \
    rate "$runs" "rate>=150000" "" "$(compute "$build" "$work/pinned.db")"
if [[ -n $before ]]; then
    measure before refund-calc "$wl, computed" refund-calc "$count" \
        refunds rate "$runs" "" "" \
        "$(compute "$before" "$work/pinned-before.db")"
fi
measure baseline refund-calc "$wl, computed" "python3 refund_calc.py" \
    "$count" refunds rate "$runs" "" "" \
    "$(q "$py") $(q "$top/bench/refund_calc.py") $(q "$work/pinned.db") $refunds >/dev/null"

measure this refund-calc "$wl, recorded" "refund-calc --record" "$count" \
    refunds rate "$runs" "rate>=80000" \
    "$(copy "$work/pinned.db" "$work/rec.db")" "$(rec "$build" "$work/rec.db")"
if [[ -n $before ]]; then
    measure before refund-calc "$wl, recorded" "refund-calc --record" \
        "$count" refunds rate "$runs" "" \
        "$(copy "$work/pinned-before.db" "$work/rec-before.db")" \
        "$(rec "$before" "$work/rec-before.db")"
fi
say "recorded: $(sqlite3 "$work/rec.db" "SELECT (SELECT count(*) FROM refunds)
    || ' refunds, ' || count(*) || ' orders, '
    || sum(state = 'refunded') || ' fully refunded' FROM orders")"
