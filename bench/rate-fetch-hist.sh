#!/usr/bin/env bash
# The full ECB history (217,555 quotes; the XML made by tests/gen-ecb-xml.py
# from the real history CSV in tests/fixtures) loaded into a fresh database
# by rate-fetch --file, and in the same run by bench/ecb_load.py, the
# python3 script a user would write (xml.etree + sqlite3, one
# transaction). Both must store the same quotes. Reports seconds, peak
# memory and the ratio; the goal: at most 0.5 s and at least 2x the
# script. --quick keeps the document and makes fewer runs. A benchmark,
# never a test: it never fails on a timing.
#
# usage: bench/rate-fetch-hist.sh [--quick] [--build DIR] [--before DIR]
#                                 [--work DIR]       (see bench/lib.sh)
. "$(dirname "$0")/lib.sh"
need_bins rate-fetch
runs=10 warmup=1
[[ $quick == no ]] || runs=3 warmup=0

"$py" "$top/tests/gen-ecb-xml.py" -o "$work/hist.xml" \
    "$top/tests/fixtures/ecb/eurofxref-hist.csv"
quotes=$(grep -c "currency=" "$work/hist.xml")
say "document: $quotes quotes, $(wc -c <"$work/hist.xml") bytes"

wl="ECB history, $(commas "$quotes") quotes"
x=$(q "$work/hist.xml")
# load DB BUILD: the command line of rate-fetch of BUILD into DB
load() { echo "$(q "$2/rate-fetch") -q --max-jump 100 --db $(q "$1") --file $x"; }
fresh() { echo "rm -f $(q "$1") $(q "$1-wal") $(q "$1-shm")"; }

measure this rate-fetch "$wl" rate-fetch "$quotes" quotes time "$runs" \
    "time<=0.5" "$(fresh "$work/a.db")" "$(load "$work/a.db" "$build")"
if [[ -n $before ]]; then
    measure before rate-fetch "$wl" rate-fetch "$quotes" quotes time \
        "$runs" "" "$(fresh "$work/before.db")" \
        "$(load "$work/before.db" "$before")"
fi
measure baseline rate-fetch "$wl" "python3 ecb_load.py" "$quotes" quotes \
    time "$runs" "ratio>=2" "$(fresh "$work/b.db")" \
    "$(q "$py") $(q "$top/bench/ecb_load.py") $x $(q "$work/b.db")"

# The two must hold the same quotes.
diff=$(cd "$work" && sqlite3 a.db "ATTACH 'b.db' AS b;
    SELECT ((SELECT count(*) FROM (SELECT base, quote, rate, as_of FROM main.rates
        EXCEPT SELECT base, quote, rate, as_of FROM b.rates))
    + (SELECT count(*) FROM (SELECT base, quote, rate, as_of FROM b.rates
        EXCEPT SELECT base, quote, rate, as_of FROM main.rates)))
    || ' ' || (SELECT count(*) FROM main.rates)")
read -r differ stored <<<"$diff"
if [[ $differ -ne 0 || $stored -ne $quotes ]]; then
    say "rate-fetch and ecb_load.py disagree: $differ quotes differ," \
        "rate-fetch stored $stored of $quotes (see $work/a.db, $work/b.db)"
    exit 1
fi
say "rate-fetch and ecb_load.py stored the same $stored quotes"
