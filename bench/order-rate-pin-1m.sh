#!/usr/bin/env bash
# Pin 1,000,000 orders (bench/gen-orders.py: JPY, CNY, KRW, USD and GBP
# orders charged in EUR, USD or GBP, created over a week of ECB days) into
# a fresh database holding the ECB's 90-day history, and in the same run
# load the same CSV into a fresh plain table with the sqlite3 shell's
# .import: the floor a user would compare with. Reports rows per second of
# both, the ratio and peak memory. The goal: order-rate-pin at least half
# the shell's rows per second. A benchmark, never a test: it never fails
# on a timing.
#
# usage: bench/order-rate-pin-1m.sh [WORKDIR]
#   WORKDIR (created if missing) keeps the orders and databases for a
#   look afterwards; without it a temporary directory is used and removed.
#   The binaries are taken from ${DG_BUILDDIR:-_build} (relative to the
#   top of the source tree unless absolute); build them first.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${DG_BUILDDIR:-_build}
[[ $build == /* ]] || build=$top/$build
orp=$build/order-rate-pin
rf=$build/rate-fetch
for bin in "$orp" "$rf"; do
    [[ -x $bin ]] || { echo "bench: build first: $bin not found" >&2; exit 66; }
done
for cmd in hyperfine /usr/bin/time sqlite3 python3; do
    command -v "$cmd" >/dev/null || {
        echo "bench: needs hyperfine, time, sqlite3 and python3" \
            "(apt-get install hyperfine time sqlite3 python3)" >&2
        exit 69
    }
done
py=$(command -v python3)
count=1000000
if [[ $# -gt 0 ]]; then
    mkdir -p "$1"
    work=$(cd "$1" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
hist=$top/share/ecb/eurofxref-hist-90d.xml

# The orders' days (2026-04-07 .. 2026-04-13, a weekend included) lie in
# the 90-day history; the clock is fixed just after them.
export DAIGOU_NOW=2026-04-14T06:00:00Z
"$py" "$top/bench/gen-orders.py" --count "$count" --seed 1 \
    --since 2026-04-07 --days 7 >"$work/orders.csv"
echo "orders: $count, $(wc -c <"$work/orders.csv") bytes of CSV"

q() { printf '%q' "$1"; }
a=$(q "$work/a.db") b=$(q "$work/b.db") csv=$(q "$work/orders.csv")
prep_a="rm -f $a $a-wal $a-shm && $(q "$rf") -q --max-jump 100 --db $a --file $(q "$hist")"
prep_b="rm -f $b $b-wal $b-shm"
run_a="$(q "$orp") -q --db $a $csv >/dev/null"
run_b="sqlite3 $b -cmd '.mode csv' '.import $csv orders'"

eval "$prep_a"
echo "quotes: $(sqlite3 "$work/a.db" 'SELECT count(*) || " from " || min(as_of) || " to " || max(as_of) FROM rates')"

hyperfine --runs 3 --export-json "$work/h.json" \
    --prepare "$prep_a" -n order-rate-pin "$run_a" \
    --prepare "$prep_b" -n sqlite3-import "$run_b"

"$py" - "$work/h.json" "$count" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
a, b = r["order-rate-pin"]["mean"], r["sqlite3-import"]["mean"]
ra, rb = n / a, n / b
print(f"order-rate-pin: {a:.2f} s, {ra:,.0f} rows/s")
print(f"sqlite3 .import: {b:.2f} s, {rb:,.0f} rows/s")
print(f"ratio: order-rate-pin runs at {ra / rb:.2f}x the shell's rows/s"
      f" (goal 0.50x: {'met' if ra / rb >= 0.5 else 'missed'})")
PY

# Peak memory, each on freshly prepared databases.
peak() { /usr/bin/time -v bash -c "$1" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'; }
eval "$prep_a"
eval "$prep_b"
echo "peak memory: order-rate-pin $(peak "exec $run_a") KiB," \
    "sqlite3 .import $(peak "exec $run_b") KiB"
echo "rows: order-rate-pin orders $(sqlite3 "$work/a.db" 'SELECT count(*) FROM orders')," \
    "order_rates $(sqlite3 "$work/a.db" 'SELECT count(*) FROM order_rates');" \
    "sqlite3 .import orders $(sqlite3 "$work/b.db" 'SELECT count(*) FROM orders')"
