#!/usr/bin/env bash
# 10,000 signed Stripe callbacks through lighttpd and pay-ingest --cgi,
# 8 at a time. Setup, not timed: 5,000 orders (bench/gen-orders.py)
# pinned into a database holding the ECB's 90-day history, and for them
# 10,000 whole Stripe events (tests/gen-pay-events.py), each a body file
# and its Stripe-Signature header, in one curl configuration file.
# lighttpd runs on 127.0.0.1 with tests/lighttpd.conf.in, the endpoint a
# wrapper that runs pay-ingest --cgi --gateway stripe --secret-file.
# Timed, each run into a fresh copy of the pinned database, with the
# same client (curl --parallel --parallel-max 8 -K: C, keep-alive, one
# write-out line per transfer with its status and time_total):
#   lighttpd + pay-ingest --cgi      a process per request, as CGI does;
#   lighttpd + pay-ingest --scgi     persistent processes behind mod_scgi
#                                    (share/webhook/lighttpd-scgi.conf:
#                                    one, DG_BENCH_SCGI_PROCS to change),
#                                    recording the requests complete at
#                                    one moment in one transaction; a
#                                    lighttpd of its own, started afresh
#                                    on each run's fresh database;
#   python3                          bench/pay_server.py, a
#                                    ThreadingHTTPServer + sqlite3 handler
#                                    doing the same verification and insert
#                                    (bench/pay_replay.py's SQL).
# Reports requests per second (10,000 over the wall time of the client),
# p50 and p99 latency (of the last run's transfers) and the server's peak
# memory: the largest pay-ingest process of a request, the largest
# pay-ingest --scgi process / the python3 server's. Before the figures
# count, every transfer must be answered 200 and the databases must hold
# the same payments and order states, or the bench fails. Goals: 1,000 requests/s, p99 under 50 ms. --quick:
# 2,000 callbacks over 1,000 orders. A benchmark, never a test: it never
# fails on a timing.
#
# usage: bench/pay-ingest-cgi.sh [--quick] [--build DIR] [--before DIR]
#                                [--work DIR]      (see bench/lib.sh)
. "$(dirname "$0")/lib.sh"
need_bins rate-fetch order-rate-pin pay-ingest
lighttpd=$(command -v lighttpd 2>/dev/null || echo /usr/sbin/lighttpd)
for p in "$lighttpd" curl; do
    command -v "$p" >/dev/null || {
        say "needs lighttpd and curl (scripts/setup)"
        exit 69
    }
done
orders=5000 runs=3
[[ $quick == no ]] || orders=1000 runs=2
count=$((orders * 2))
hist=$top/share/ecb/eurofxref-hist-90d.xml
now_epoch=$("$py" -c 'import calendar, time, os
print(calendar.timegm(time.strptime(os.environ["DAIGOU_NOW"], "%Y-%m-%dT%H:%M:%SZ")))')

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [[ ! -s ${sweb:-/nonexistent}/lighttpd.pid ]] ||
        kill "$(cat "$sweb/lighttpd.pid")" 2>/dev/null || true
    [[ -z ${work_tmp:-} ]] || rm -rf "$work"
}
[[ -z $(trap -p EXIT) ]] || work_tmp=yes
trap cleanup EXIT

"$py" "$top/bench/gen-orders.py" --count "$orders" --seed 2 \
    --since 2026-04-07 --days 7 >"$work/orders.csv"
# pinned BUILD DB: the orders pinned by BUILD's tools into DB.
pinned() {
    rm -f "$2" "$2-wal" "$2-shm"
    "$1/rate-fetch" -q --max-jump 100 --db "$2" --file "$hist"
    "$1/order-rate-pin" -q --db "$2" "$work/orders.csv" >"$2.pins"
    sqlite3 "$2" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}
pinned "$build" "$work/pinned.db"
[[ -z $before ]] || pinned "$before" "$work/pinned-before.db"
(umask 077 && printf 'whsec_bench\n' >"$work/secret")

# The server under test: lighttpd from the test suite's template, one
# wrapper per build measured.
web=$work/web
mkdir -p "$web/www/webhook"
echo "setenv.add-environment = (\"DAIGOU_NOW\" => \"$DAIGOU_NOW\")" \
    >"$web/local.conf"
wrapper() { # NAME BUILD DB
    printf '#!/bin/sh\nexec %s --cgi --gateway stripe --db %s --secret-file %s\n' \
        "$(q "$2/pay-ingest")" "$(q "$3")" "$(q "$work/secret")" \
        >"$web/www/webhook/$1"
    chmod 755 "$web/www/webhook/$1"
}
wrapper stripe "$build" "$work/tool.db"
[[ -z $before ]] || wrapper before "$before" "$work/before.db"
port=$("$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|@DIR@|$web|g" -e "s|@PORT@|$port|g" \
    "$top/tests/lighttpd.conf.in" >"$web/lighttpd.conf"
"$lighttpd" -D -f "$web/lighttpd.conf" >"$web/lighttpd.out" 2>&1 &
pids+=($!)
"$py" "$top/bench/pay_server.py" --db "$work/python.db" \
    --secret-file "$work/secret" --port-file "$work/python.port" \
    >"$work/python.out" 2>&1 &
python_pid=$!
pids+=($python_pid)
cp "$work/pinned.db" "$work/python.db"
for i in $(seq 100); do
    [[ -s $work/python.port ]] &&
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done
[[ -s $work/python.port ]] || {
    say "the servers did not start"
    cat "$web/error.log" "$work/python.out" >&2 2>/dev/null
    exit 70
}
pyport=$(cat "$work/python.port")

"$py" "$top/tests/gen-pay-events.py" --pins "$work/pinned.db.pins" \
    --seed 2 --out "$work/ev" --bodies --url URL \
    --secret-file "$work/secret" --now "$now_epoch" --copies 1 --procs 1
copy() { echo "rm -f $(q "$2") $(q "$2-wal") $(q "$2-shm") && cp $(q "$1") $(q "$2")"; }
# config URL FILE: the transfers to URL, answers thrown away.
config() {
    sed -e "s|^url = \"URL|url = \"$1|" \
        -e 's|^output = .*|output = "/dev/null"|' \
        -e 's|^write-out = .*|write-out = "%{http_code} %{time_total}\\n"|' \
        "$work/ev/curl-0.cfg" >"$2"
}
config "http://127.0.0.1:$port/webhook/stripe" "$work/this.cfg"
[[ -z $before ]] ||
    config "http://127.0.0.1:$port/webhook/before" "$work/before.cfg"
config "http://127.0.0.1:$pyport/webhook/stripe" "$work/python.cfg"

# The SCGI endpoint: a lighttpd of its own (daemonized, its pid in a
# file), restarted before each run so that its processes open the fresh
# copy of the database; each process's pid kept for its memory.
scgi_procs=${DG_BENCH_SCGI_PROCS:-1}
sweb=$work/sweb
mkdir -p "$sweb/www/webhook"
sport=$("$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '#!/bin/sh\necho $$ >>%s\nexec %s --scgi --gateway stripe --db %s --secret-file %s\n' \
    "$(q "$sweb/pids")" "$(q "$build/pay-ingest")" "$(q "$work/scgi.db")" \
    "$(q "$work/secret")" >"$sweb/stripe-scgi"
chmod 755 "$sweb/stripe-scgi"
cat >"$sweb/local.conf" <<EOF
server.pid-file = "$sweb/lighttpd.pid"
server.modules += ("mod_scgi")
scgi.server = ("/webhook/stripe" => ((
	"socket" => "$sweb/scgi.sock",
	"bin-path" => "$sweb/stripe-scgi",
	"max-procs" => $scgi_procs,
	"check-local" => "disable",
	"bin-environment" => ("DAIGOU_NOW" => "$DAIGOU_NOW"),
)))
EOF
sed -e "s|@DIR@|$sweb|g" -e "s|@PORT@|$sport|g" \
    "$top/tests/lighttpd.conf.in" >"$sweb/lighttpd.conf"
cat >"$sweb/restart" <<EOF
#!/usr/bin/env bash
# stop the last run's server and its processes, then start afresh
set -eu
if [[ -s $(q "$sweb/lighttpd.pid") ]]; then
    p=\$(cat $(q "$sweb/lighttpd.pid"))
    kill "\$p" 2>/dev/null || true
    while kill -0 "\$p" 2>/dev/null; do sleep 0.05; done
fi
if [[ -s $(q "$sweb/pids") ]]; then
    for p in \$(cat $(q "$sweb/pids")); do
        while kill -0 "\$p" 2>/dev/null; do sleep 0.05; done
    done
fi
: >$(q "$sweb/pids")
$(copy "$work/pinned.db" "$work/scgi.db")
$(q "$lighttpd") -f $(q "$sweb/lighttpd.conf")
for i in \$(seq 200); do
    [[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$sport/webhook/stripe) != 405 ]] || exit 0
    sleep 0.05
done
echo "the SCGI endpoint did not start" >&2
exit 1
EOF
chmod 755 "$sweb/restart"
config "http://127.0.0.1:$sport/webhook/stripe" "$work/scgi.cfg"
n=$(grep -c '^url = ' "$work/this.cfg")
[[ $n -eq $count ]] || {
    say "$n callbacks generated, not $count"
    exit 70
}
say "callbacks: $(commas "$n"), $(($(cat "$work"/ev/bodies/* | wc -c) / n))" \
    "bytes each on average"

client() { # CFG OUT
    echo "curl --no-progress-meter --parallel --parallel-max 8 -K $(q "$1") >$(q "$2")"
}
wl="$(commas "$count") signed callbacks, 8 clients"
results=()
# run VARIANT SUBJECT GOAL PINNED DB CFG: measure one server; the result
# line kept in results, its latencies in DB.lat.
run() {
    local line
    line=$(measure "$1" pay-ingest "$wl" "$2" "$count" requests rate \
        "$runs" "$3" "$(copy "$4" "$5")" "$(client "$6" "$5.lat")") ||
        exit $?
    results+=("$line")
}
run this "lighttpd + pay-ingest --cgi" "rate>=1000" "$work/pinned.db" \
    "$work/tool.db" "$work/this.cfg"
[[ -z $before ]] || run before "lighttpd + pay-ingest --cgi" "" \
    "$work/pinned-before.db" "$work/before.db" "$work/before.cfg"
run baseline "python3 pay_server.py" "" "$work/pinned.db" \
    "$work/python.db" "$work/python.cfg"
wls="$wl, persistent"
scgi_line=$(measure this pay-ingest "$wls" \
    "lighttpd + pay-ingest --scgi ($scgi_procs)" "$count" requests rate \
    "$runs" "rate>=1000" "$(q "$sweb/restart")" \
    "$(client "$work/scgi.cfg" "$work/scgi.db.lat")") || exit $?

# Every transfer of the last runs answered 200.
for db in tool scgi python ${before:+before}; do
    bad=$(grep -vc '^200 ' "$work/$db.db.lat" || true)
    got=$(grep -c '' "$work/$db.db.lat")
    if [[ $bad -ne 0 || $got -ne $count ]]; then
        grep -v '^200 ' "$work/$db.db.lat" | sort | uniq -c | head >&2
        say "$db: $got answers, $bad of them not 200"
        exit 1
    fi
done
# rows DB: the stored facts. Not which event brought a payment first:
# a charge comes in charge.succeeded and again in charge.refunded, and
# with 8 clients either may arrive first.
rows() {
    sqlite3 "$1" "SELECT gateway, gateway_txn_id, kind, order_id, amount,
        currency, status, parent_txn_id, received_at, refund_id
        FROM payments ORDER BY gateway, gateway_txn_id;
        SELECT order_id, state FROM orders ORDER BY order_id;"
}
rows "$work/tool.db" >"$work/tool.rows"
rows "$work/python.db" >"$work/python.rows"
rows "$work/scgi.db" >"$work/scgi.rows"
if ! cmp -s "$work/tool.rows" "$work/python.rows"; then
    diff -u "$work/tool.rows" "$work/python.rows" | head -n 40 >&2 || true
    say "pay-ingest --cgi and the python3 server stored other rows" \
        "(- pay-ingest, + python3)"
    exit 1
fi
if ! cmp -s "$work/scgi.rows" "$work/python.rows"; then
    diff -u "$work/scgi.rows" "$work/python.rows" | head -n 40 >&2 || true
    say "pay-ingest --scgi and the python3 server stored other rows" \
        "(- pay-ingest --scgi, + python3)"
    exit 1
fi
expected=$(wc -l <"$work/ev/payments.expect")
stored=$(sqlite3 "$work/tool.db" "SELECT count(*) FROM payments")
[[ $stored -eq $expected ]] || {
    say "$stored payments stored, $expected expected"
    exit 1
}
say "pay-ingest --cgi, --scgi and python3 stored the same" \
    "$(commas "$stored") payments"

# The servers' peak memory: a pay-ingest process of one request (the
# wrapper run under /usr/bin/time for 200 more callbacks), and the
# python3 server's high-water mark.
mv "$web/www/webhook/stripe" "$web/stripe.real"
printf '#!/bin/sh\nexec /usr/bin/time -a -f %%M -o %s %s\n' \
    "$(q "$work/cgi.rss")" "$(q "$web/stripe.real")" >"$web/www/webhook/stripe"
chmod 755 "$web/www/webhook/stripe"
: >"$work/cgi.rss"
# the first 200 transfers: up to the 201st "next"
awk '/^next$/ && ++n == 200 { exit } { print }' "$work/this.cfg" >"$work/rss.cfg"
curl --no-progress-meter --parallel --parallel-max 8 -K "$work/rss.cfg" >/dev/null
cgi_rss=$(sort -n "$work/cgi.rss" | tail -n 1)
py_rss=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$python_pid/status")
# the largest of the last run's pay-ingest --scgi processes, still up
scgi_rss=$(for p in $(cat "$sweb/pids"); do
    sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status"
done | sort -n | tail -n 1)

# latency NAME: p50 and p99 of the last run's transfers, in seconds.
latency() {
    cut -d' ' -f2 "$work/$1.db.lat" | sort -n | awk '
        { t[NR] = $1 }
        END { i50 = int(NR * 0.50 + 0.5); i99 = int(NR * 0.99 + 0.5)
              if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
              print t[i50], t[i99] }'
}
read -r this50 this99 < <(latency tool)
read -r py50 py99 < <(latency python)
read -r scgi50 scgi99 < <(latency scgi)
# The rate lines, with the server's memory in place of the client's.
for line in "${results[@]}"; do
    case $line in
    *$'\tthis\t'*) rss=$cgi_rss ;;
    *$'\tbaseline\t'*) rss=$py_rss ;;
    *) rss= ;;
    esac
    awk -F'\t' -v OFS='\t' -v rss="$rss" '{ if (rss != "") $12 = rss; print }' \
        <<<"$line"
done
# The SCGI row, and the python3 server's figure again as its baseline.
awk -F'\t' -v OFS='\t' -v rss="$scgi_rss" '{ $12 = rss; print }' <<<"$scgi_line"
for line in "${results[@]}"; do
    case $line in
    *$'\tbaseline\t'*)
        awk -F'\t' -v OFS='\t' -v wl="$wls" -v rss="$py_rss" \
            '{ $3 = wl; $12 = rss; print }' <<<"$line" ;;
    esac
done
# lat SUBJECT-VARIANT WORKLOAD SECONDS GOAL RSS: a latency as a time line.
lat() {
    printf 'result\tpay-ingest\t%s\t%s\t%s\t1\trequest\ttime\t%s\t0\t1\t%s\t%s\t%s\n' \
        "$3" "$1" "$2" "$4" "$6" "$5" "$4"
}
lat this "lighttpd + pay-ingest --cgi" "$wl, p50 latency" "$this50" "" "$cgi_rss"
lat baseline "python3 pay_server.py" "$wl, p50 latency" "$py50" "" "$py_rss"
lat this "lighttpd + pay-ingest --cgi" "$wl, p99 latency" "$this99" "time<=0.05" "$cgi_rss"
lat baseline "python3 pay_server.py" "$wl, p99 latency" "$py99" "" "$py_rss"
lat this "lighttpd + pay-ingest --scgi ($scgi_procs)" "$wls, p50 latency" "$scgi50" "" "$scgi_rss"
lat baseline "python3 pay_server.py" "$wls, p50 latency" "$py50" "" "$py_rss"
lat this "lighttpd + pay-ingest --scgi ($scgi_procs)" "$wls, p99 latency" "$scgi99" "time<=0.05" "$scgi_rss"
lat baseline "python3 pay_server.py" "$wls, p99 latency" "$py99" "" "$py_rss"
say "latency p50/p99: pay-ingest --cgi ${this50}/${this99} s," \
    "--scgi ${scgi50}/${scgi99} s, python3 ${py50}/${py99} s; peak RSS:" \
    "pay-ingest ${cgi_rss} KiB a request, --scgi ${scgi_rss} KiB a" \
    "process ($scgi_procs), python3 server ${py_rss} KiB"
