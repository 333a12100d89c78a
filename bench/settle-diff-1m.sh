#!/usr/bin/env bash
# About 1,000,000 settlement rows against about 1,000,000 ledger payments,
# in each format: 800,000 payments make some 1,020,000 rows (refunds,
# disputes, fees, payouts, duplicates) and 950,000 ledger payments.
# Setup, not timed: tests/gen-settle.py --plain (seeded) writes a day's
# Stripe itemized report, then a PayPal STL report (charges, partial
# refunds, disputes and reversals, fee, payout and withdrawal rows, about
# 1 % of payments with a planted difference of some kind), and their
# ledger as pay-ingest generic events; the real pay-ingest records the
# ledger into a fresh database (--jsonl, the clock set to each event
# file's time). Timed, each on the same file:
#   settle-diff          --db (read-only) --gateway generic FILE;
#   sqlite3 settle.sql   the sqlite3 shell importing the file and the
#                        ledger export (the same ledger as CSV) and running
#                        the comparison as one FULL OUTER JOIN
#                        (bench/settle.sql);
#   python3              bench/settle_diff.py, csv + sqlite3, reading the
#                        file and the database's ledger.
# Before the timing, the three must report the same discrepancies (kind,
# transaction id, ledger and settled amounts in minor units, currency), or
# the bench fails (exit 1). Timed runs use --threshold 100 (exit 0); the
# check run the default 0.5 % (exit 1: 1 % differs). Goals: at most 1.0 s,
# 3x the sqlite3 shell, 10x python3; peak RSS at most 400 MB (said, not
# in the table). --quick: a tenth of the rows, 2 runs. A benchmark,
# never a test: it never fails on a timing.
#
# usage: bench/settle-diff-1m.sh [--quick] [--build DIR] [--before DIR]
#                                [--work DIR]      (see bench/lib.sh)
. "$(dirname "$0")/lib.sh"
need_bins settle-diff pay-ingest
count=800000 runs=3
[[ $quick == no ]] || count=80000 runs=2

# project REPORT: settle-diff's rows as the baselines print them.
project() {
    "$py" -c '
import csv, sys
r = csv.reader(open(sys.argv[1], newline=""))
next(r)
w = csv.writer(sys.stdout, lineterminator="\n")
m = lambda s: str(int(s.replace(".", ""))) if s else ""
for x in r:
    w.writerow([x[0], x[2], m(x[4]), m(x[5]), x[6]])' "$1"
}

# rss_of SUBJECT VARIANT: the peak RSS (KiB) measure found for it.
rss_of() {
    local id
    id=$(printf '%s' "settle-diff-$2-$1" | tr -c 'A-Za-z0-9._-' '_')
    sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$id.time"
}

for fmt in stripe paypal; do
    d=$work/$fmt
    rm -rf "$d"
    mkdir -p "$d/sq"
    file=$d/sq/$fmt.csv
    "$py" "$top/tests/gen-settle.py" --seed 13 --format "$fmt" \
        --count "$count" --rate 0.01 --plain --settle "$file" \
        --ledger "$d/sq/ledger.csv" --jsonl "$d/jsonl"
    : >"$d/sq/$([[ $fmt == stripe ]] && echo paypal || echo stripe).csv"
    rows=$(($(grep -c . "$file") - 1))
    [[ $fmt == stripe ]] || rows=$(grep -c '^"SB"' "$file")
    # The ledger, recorded by pay-ingest: exit 1 (the orders are unknown
    # to this database) is expected.
    for j in "$d"/jsonl/*.jsonl; do
        t=${j##*/}
        rc=0
        DAIGOU_NOW=${t%.jsonl} "$build/pay-ingest" -q --batch 10000 \
            --db "$d/ledger.db" --gateway generic --jsonl --no-verify "$j" \
            >/dev/null 2>"$d/ingest.err" || rc=$?
        [[ $rc -le 1 ]] || {
            say "pay-ingest failed on $j (exit $rc)"
            tail -n 3 "$d/ingest.err" >&2
            exit 70
        }
    done
    payments=$(sqlite3 "$d/ledger.db" "SELECT count(*) FROM payments")
    if [[ $payments -ne $(($(wc -l <"$d/sq/ledger.csv") - 1)) ]]; then
        say "pay-ingest recorded $payments payments of the ledger's" \
            "$(($(wc -l <"$d/sq/ledger.csv") - 1))"
        exit 70
    fi
    say "$fmt: $(commas "$rows") settlement rows ($(wc -c <"$file") bytes)," \
        "$(commas "$payments") ledger payments recorded by pay-ingest"

    # The three must report the same discrepancies.
    rc=0
    "$build/settle-diff" --db "$d/ledger.db" --gateway generic "$file" \
        >"$d/settle-diff.csv" 2>"$d/settle-diff.err" || rc=$?
    [[ $rc -eq 1 ]] || {
        say "settle-diff exited $rc where 1 % differences are over 0.5 %"
        exit 70
    }
    project "$d/settle-diff.csv" | LC_ALL=C sort >"$d/this.txt"
    sqlite3 -cmd ".cd '$d/sq'" :memory: <"$top/bench/settle.sql" \
        2>/dev/null | LC_ALL=C sort >"$d/sqlite3.txt"
    "$py" "$top/bench/settle_diff.py" "$d/ledger.db" generic "$file" |
        LC_ALL=C sort >"$d/python3.txt"
    for b in sqlite3 python3; do
        if ! cmp -s "$d/this.txt" "$d/$b.txt"; then
            diff -u "$d/this.txt" "$d/$b.txt" | head -n 40 >&2 || true
            say "$fmt: settle-diff and the $b baseline report other" \
                "discrepancies (- settle-diff, + $b)"
            exit 1
        fi
    done
    say "$fmt: settle-diff, sqlite3 and python3 report the same" \
        "$(commas "$(wc -l <"$d/this.txt")") discrepancies:" \
        "$(cut -d, -f1 "$d/this.txt" | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//')"

    wl="$(commas "$rows") $fmt rows"
    sd() { echo "$(q "$1/settle-diff") --threshold 100 --db $(q "$d/ledger.db") --gateway generic $(q "$file") >/dev/null 2>&1"; }
    measure this settle-diff "$wl" settle-diff "$rows" rows time "$runs" \
        "time<=1.0" "" "$(sd "$build")"
    if [[ -n $before ]]; then
        if [[ -x $before/settle-diff ]]; then
            measure before settle-diff "$wl" settle-diff "$rows" rows time \
                "$runs" "" "" "$(sd "$before")"
        else
            say "no settle-diff in --before: not measured"
        fi
    fi
    measure baseline settle-diff "$wl" "sqlite3 settle.sql" "$rows" rows \
        time "$runs" "ratio>=3" "" \
        "sqlite3 -cmd $(q ".cd '$d/sq'") :memory: <$(q "$top/bench/settle.sql") >/dev/null 2>&1"
    measure baseline settle-diff "$wl" "python3 settle_diff.py" "$rows" rows \
        time "$runs" "ratio>=10" "" \
        "$(q "$py") $(q "$top/bench/settle_diff.py") $(q "$d/ledger.db") generic $(q "$file") >/dev/null"
    rss=$(rss_of settle-diff this)
    say "$fmt: settle-diff's peak RSS $((rss / 1024)) MiB:" \
        "$([[ $rss -le 409600 ]] && echo within || echo over) the goal of 400 MB"
done
