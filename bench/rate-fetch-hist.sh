#!/usr/bin/env bash
# Load the full ECB history XML (about 200,000 quotes, generated from the
# real history CSV in tests/fixtures) into a fresh database, and in the same
# run do the same with a plain python3 script (xml.etree + sqlite3). Reports
# mean times, the ratio and peak memory. A benchmark, never a test.
#
# usage: bench/rate-fetch-hist.sh [BUILDDIR]     (default _build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/_build}" && pwd)
rf=$build/rate-fetch
[[ -x $rf ]] || { echo "build first: $rf not found" >&2; exit 66; }
for cmd in hyperfine /usr/bin/time; do
    command -v "$cmd" >/dev/null || {
        echo "bench: needs hyperfine and time (apt-get install hyperfine time)" >&2
        exit 69
    }
done
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$py" "$top/tests/gen-ecb-xml.py" -o "$work/hist.xml" "$top/tests/fixtures/ecb/eurofxref-hist.csv"
echo "document: $(wc -c <"$work/hist.xml") bytes"

hyperfine --warmup 1 --runs 10 --export-json "$work/h.json" \
    --prepare "rm -f $work/a.db* $work/b.db*" \
    -n rate-fetch "$rf -q --max-jump 100 --db $work/a.db --file $work/hist.xml" \
    -n python3 "$py $top/bench/ecb_load.py $work/hist.xml $work/b.db"

"$py" - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
a, b = r["rate-fetch"]["mean"], r["python3"]["mean"]
print(f"rate-fetch {a*1000:.0f} ms, python3 {b*1000:.0f} ms: rate-fetch is {b/a:.1f}x faster")
PY

rm -f "$work"/a.db* "$work"/b.db*
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'; }
echo "peak memory: rate-fetch $(peak "$rf" -q --max-jump 100 --db "$work/a.db" --file "$work/hist.xml") KiB," \
    "python3 $(peak "$py" "$top/bench/ecb_load.py" "$work/hist.xml" "$work/b.db") KiB"
echo "rows: rate-fetch $(sqlite3 "$work/a.db" 'SELECT count(*) FROM rates')," \
    "python3 $(sqlite3 "$work/b.db" 'SELECT count(*) FROM rates')"
