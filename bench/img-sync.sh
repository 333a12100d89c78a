#!/usr/bin/env bash
# img-sync against curl and aria2c, over nginx on 127.0.0.1. Setup, not
# timed, made once per work directory: 2,000 images of 100 KiB (four to
# a product) and 200 of 5 MiB, random bytes behind a real JPEG or PNG
# header (bench/gen-images.py), served by nginx (Debian's nginx-light,
# one process, sendfile, keep-alive, ETag and Last-Modified as it gives
# them) from a configuration written in the work directory, on a free
# port. Timed, each run into an empty directory (and a fresh database
# for img-sync) from a clean page cache: every timed run's preparation
# removes what the previous run left, then runs sync(1), so that no run
# pays for writing back the dirty pages of another tool's run (without
# it, curl's times ranged over 4x). Ten transfers at once:
#   img-sync --concurrency 10 --per-host 10     the first sync: the body
#                                  checked, hashed, fsynced, renamed into
#                                  place, recorded in the database
#   curl --parallel --parallel-max 10 -K        a configuration of
#                                  url/output pairs, --create-dirs
#   curl ..., then sync            the same, its files then made durable
#                                  as img-sync's are: an extra line for
#                                  reading, the goal stays against curl
#   aria2c -j10 -i LIST                         dir/out per url, no file
#                                  allocation (its fastest setting)
#   img-sync, again                the re-sync of the unchanged set (every
#                                  url a 304), as a fraction of the first
#   img-sync --limit-rate 20M      over the first 40 large images (200
#                                  MiB, 10 s at the cap): the average rate
#                                  from the bytes and the wall time, with
#                                  curl --limit-rate 20M (per transfer, 10
#                                  at once) beside it
#   peak RSS                       one first sync of the 2,000 small images
#                                  and one of 20,000 (the 2,000 under nine
#                                  more paths, hard links on the server)
# Every tree must hold exactly the server's files and the re-sync must
# download nothing, or the bench fails. Goals: the first sync within
# 1.5x curl's time (ratio >= 0.67), 5x aria2c's; the capped average
# within 3 % of 20 MiB/s; the re-sync at most 10 % of the first sync;
# peak RSS flat from 2,000 to 20,000 files (said on stderr). --quick:
# 500 small and 20 large images, 10 of them capped, 5,000 files for the
# RSS. A benchmark, never a test: it never fails on a timing.
#
# usage: bench/img-sync.sh [--quick] [--build DIR] [--before DIR]
#                          [--work DIR]      (see bench/lib.sh)
. "$(dirname "$0")/lib.sh"
need_bins img-sync
nginx=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
for p in "$nginx" curl aria2c; do
    command -v "$p" >/dev/null || {
        say "needs nginx (nginx-light), curl and aria2c (aria2): scripts/setup"
        exit 69
    }
done
small=2000 large=200 capped=40 copies=9 runs=3
[[ $quick == no ]] || small=500 large=20 capped=10 runs=2
many=$((small * (copies + 1)))
cap=20M cap_bytes=$((20 * 1024 * 1024))
www=$work/www

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [[ -z ${work_tmp:-} ]] || rm -rf "$work"
}
[[ -z $(trap -p EXIT) ]] || work_tmp=yes
trap cleanup EXIT

# The images, once: the manifest says which were made.
made="$small $large $copies"
if [[ ! -f $www/.made || $(cat "$www/.made") != "$made" ]]; then
    say "making $(commas "$small") images of 100 KiB and $large of 5 MiB"
    rm -rf "$www"
    mkdir -p "$www/img" "$www/many"
    "$py" "$top/bench/gen-images.py" --out "$www/img" --small "$small" \
        --large "$large" >"$www/manifest"
    # the small images again under nine more paths, for the RSS at 10x
    for k in $(seq "$copies"); do
        mkdir -p "$www/many/$k"
        awk -F'\t' -v n="$small" 'NR <= n { print $1 }' "$www/manifest" |
            sort -u | while read -r pid; do
            cp -al "$www/img/$pid" "$www/many/$k/$pid"
        done
    done
    echo "$made" >"$www/.made"
fi

# nginx: one process in the foreground, its files in the work directory.
port=$("$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ng=$work/nginx
mkdir -p "$ng/tmp"
{
    echo "daemon off; master_process off; pid $ng/nginx.pid;"
    echo "error_log $ng/error.log warn;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "    access_log off;"
    for t in client_body proxy fastcgi uwsgi scgi; do
        echo "    ${t}_temp_path $ng/tmp/$t;"
    done
    echo "    sendfile on; tcp_nopush on; keepalive_requests 100000;"
    echo "    types { image/jpeg jpg; image/png png; }"
    echo "    server { listen 127.0.0.1:$port; root $www; }"
    echo "}"
} >"$ng/nginx.conf"
"$nginx" -p "$ng" -c "$ng/nginx.conf" >"$ng/nginx.out" 2>&1 &
pids+=($!)
base=http://127.0.0.1:$port
first=$(awk -F'\t' 'NR == 1 { print $2 }' "$www/manifest")
for _ in $(seq 100); do
    curl -sf -o /dev/null "$base/img/$first" && break
    sleep 0.1
done
curl -sf -o /dev/null "$base/img/$first" || {
    say "nginx did not start"
    cat "$ng/nginx.out" "$ng/error.log" >&2 2>/dev/null
    exit 70
}

# The lists. csv NAME FILTER PREFIX PID_PREFIX: img-sync's input (a
# header, then product_id,url) of the manifest's lines that FILTER (an
# awk condition) keeps.
csv() {
    {
        echo "product_id,url"
        awk -F'\t' -v base="$base/$3" -v pp="$4" "$2"' { print pp $1 "," base $2 }' \
            "$www/manifest"
    } >"$work/$1.csv"
}
csv all 1 img/ ""
csv small "NR <= $small" img/ ""
csv capped "NR > $small && NR <= $small + $capped" img/ ""
{
    echo "product_id,url"
    for k in 0 $(seq "$copies"); do
        if ((k == 0)); then dir=img/ pp=; else dir=many/$k/ pp=M$k-; fi
        awk -F'\t' -v n="$small" -v base="$base/$dir" -v pp="$pp" \
            'NR <= n { print pp $1 "," base $2 }' "$www/manifest"
    done
} >"$work/many.csv"
# curl's configuration and aria2c's list from an img-sync list: DEST
# holds DEST/product_id/name, the name the url's last segment.
curl_cfg() { # CSV DEST CFG
    awk -F, -v dest="$2" 'NR > 1 { n = $2; sub(/.*\//, "", n)
        printf "url = \"%s\"\noutput = \"%s/%s/%s\"\n", $2, dest, $1, n }' \
        "$1" >"$3"
}
aria_list() { # CSV DEST LIST
    awk -F, -v dest="$2" 'NR > 1 { n = $2; sub(/.*\//, "", n)
        printf "%s\n  dir=%s/%s\n  out=%s\n", $2, dest, $1, n }' "$1" >"$3"
}
curl_cfg "$work/all.csv" "$work/dest-curl" "$work/all.curl"
aria_list "$work/all.csv" "$work/dest-aria" "$work/all.aria"
curl_cfg "$work/capped.csv" "$work/dest-curl" "$work/capped.curl"
count=$((small + large))
total_kib=$(awk -F'\t' '{ s += $3 } END { print s / 1024 }' "$www/manifest")
capped_bytes=$(awk -F'\t' -v n="$small" -v c="$capped" \
    'NR > n && NR <= n + c { s += $3 } END { print s }' "$www/manifest")
say "$(commas "$count") images, $(commas "$total_kib") KiB; nginx on $base"

# fresh DEST [DB]: the preparation of a timed run: DEST (and DB) gone,
# and every dirty page written back, the previous run's included.
fresh() {
    echo "rm -rf $(q "$1")${2:+ $(q "$2") $(q "$2-wal") $(q "$2-shm")} && sync"
}
sync_cmd() { # BUILD DEST DB CSV [OPTION...]
    local b=$1 d=$2 db=$3 c=$4
    shift 4
    echo "$(q "$b/img-sync") --quiet --db $(q "$db") --dir $(q "$d") --concurrency 10 --per-host 10 $* $(q "$c")"
}
curl_cmd() { # CFG [OPTION...]
    local c=$1
    shift
    echo "curl --no-progress-meter --fail --parallel --parallel-max 10 --create-dirs $* -K $(q "$c")"
}
aria_cmd="aria2c -q -j10 --file-allocation=none --auto-file-renaming=false --allow-overwrite=true -i $(q "$work/all.aria")"
# same_tree DEST WHAT: DEST holds exactly the server's images.
same_tree() {
    if ! diff -rq --exclude=.img-sync.lock "$www/img" "$1" >"$work/diff.out" 2>&1; then
        head -n 20 "$work/diff.out" >&2
        say "$2: the tree differs from the server's"
        exit 1
    fi
}
mean_of() { cut -f9 <<<"$1"; }

wl="first sync, $(commas "$small") x 100 KiB + $large x 5 MiB"
tdb=$work/this.db
line=$(measure this img-sync "$wl" "img-sync" "$count" images time "$runs" \
    "" "$(fresh "$work/dest-this" "$tdb")" \
    "$(sync_cmd "$build" "$work/dest-this" "$tdb" "$work/all.csv")") || exit $?
echo "$line"
this_mean=$(mean_of "$line")
same_tree "$work/dest-this" "img-sync"
if [[ -n $before ]]; then
    measure before img-sync "$wl" "img-sync" "$count" images time "$runs" "" \
        "$(fresh "$work/dest-before" "$work/before.db")" \
        "$(sync_cmd "$before" "$work/dest-before" "$work/before.db" "$work/all.csv")" ||
        exit $?
    same_tree "$work/dest-before" "img-sync (before)"
    rm -rf "$work/dest-before"
fi
measure baseline img-sync "$wl" "curl --parallel-max 10" "$count" images time \
    "$runs" "ratio>=0.67" "$(fresh "$work/dest-curl")" \
    "$(curl_cmd "$work/all.curl")" || exit $?
same_tree "$work/dest-curl" "curl"
rm -rf "$work/dest-curl"
# curl's files made durable as img-sync's are: for reading beside the
# goal's line, not a goal of its own.
measure baseline img-sync "$wl" "curl --parallel-max 10, then sync" "$count" \
    images time "$runs" "" "$(fresh "$work/dest-curl")" \
    "$(curl_cmd "$work/all.curl") && sync" || exit $?
same_tree "$work/dest-curl" "curl, then sync"
rm -rf "$work/dest-curl"
measure baseline img-sync "$wl" "aria2c -j10" "$count" images time "$runs" \
    "ratio>=5" "$(fresh "$work/dest-aria")" "$aria_cmd" || exit $?
same_tree "$work/dest-aria" "aria2c"
rm -rf "$work/dest-aria"

# The re-sync of the unchanged set, over what the last first sync left.
goal=$(awk -v m="$this_mean" 'BEGIN { printf "time<=%.6f", m / 10 }')
line=$(measure this img-sync "re-sync of the unchanged set" "img-sync, again" \
    "$count" images time "$runs" "$goal" sync \
    "$(sync_cmd "$build" "$work/dest-this" "$tdb" "$work/all.csv")") || exit $?
echo "$line"
resync_mean=$(mean_of "$line")
bash -c "$(sync_cmd "$build" "$work/dest-this" "$tdb" "$work/all.csv" | sed 's/ --quiet / /')" \
    2>"$work/resync.out" || true
if ! grep -q "^img-sync: 0 downloaded, $count unchanged, 0 failed" "$work/resync.out"; then
    cat "$work/resync.out" >&2
    say "the re-sync of the unchanged set did not find every image unchanged"
    exit 1
fi
same_tree "$work/dest-this" "img-sync, re-sync"
rm -rf "$work/dest-this"
say "re-sync: $(awk -v r="$resync_mean" -v f="$this_mean" \
    'BEGIN { printf "%.3f s, %.1f %% of the first sync (%.3f s)", r, 100 * r / f, f }')"

# The global cap: the average from the bytes and the wall time.
kib=$((capped_bytes / 1024))
lo=$(awk -v c="$cap_bytes" 'BEGIN { printf "%d", c * 0.97 / 1024 }')
hi=$(awk -v c="$cap_bytes" 'BEGIN { printf "%d", c * 1.03 / 1024 }')
wl="--limit-rate $cap, $capped x 5 MiB"
line=$(measure this img-sync "$wl" "img-sync --limit-rate $cap" "$kib" KiB rate \
    2 "rate>=$lo,rate<=$hi" "$(fresh "$work/dest-cap" "$work/cap.db")" \
    "$(sync_cmd "$build" "$work/dest-cap" "$work/cap.db" "$work/capped.csv" --limit-rate "$cap")") ||
    exit $?
echo "$line"
cap_mean=$(mean_of "$line")
rm -rf "$work/dest-cap"
line=$(measure baseline img-sync "$wl" "curl --limit-rate $cap --parallel-max 10" \
    "$kib" KiB rate 2 "" "$(fresh "$work/dest-curl")" \
    "$(curl_cmd "$work/capped.curl" --limit-rate "$cap")") || exit $?
echo "$line"
curl_cap_mean=$(mean_of "$line")
rm -rf "$work/dest-curl"
say "$(awk -v b="$capped_bytes" -v c="$cap_bytes" -v t="$cap_mean" -v u="$curl_cap_mean" 'BEGIN {
    printf "--limit-rate 20M: img-sync averaged %.2f MiB/s, %+.1f %% of the cap;", b / t / 1048576, 100 * (b / t - c) / c
    printf " curl --limit-rate 20M, 10 at once, %.2f MiB/s, %.1fx the cap", b / u / 1048576, b / u / c }')"

# Peak RSS as the file count grows tenfold.
rss_run() { # CSV N
    local d=$work/dest-rss db=$work/rss.db rss secs
    bash -c "$(fresh "$d" "$db")"
    /usr/bin/time -v -o "$work/rss-$2.time" \
        bash -c "exec $(sync_cmd "$build" "$d" "$db" "$1")" >&2 || {
        say "img-sync over $2 files could not run"
        exit 70
    }
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/rss-$2.time")
    secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' \
        "$work/rss-$2.time" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    bash -c "$(fresh "$d" "$db")"
    printf 'result\timg-sync\tpeak RSS, first sync of %s x 100 KiB\tthis\timg-sync\t%s\timages\ttime\t%s\t0\t1\t%s\t\t%s\n' \
        "$(commas "$2")" "$2" "$secs" "$rss" "$secs"
    echo "$rss" >"$work/rss-$2"
}
rss_run "$work/small.csv" "$small"
rss_run "$work/many.csv" "$many"
say "peak RSS: $(cat "$work/rss-$small") KiB at $(commas "$small") files," \
    "$(cat "$work/rss-$many") KiB at $(commas "$many")" \
    "($(awk -v a="$(cat "$work/rss-$small")" -v b="$(cat "$work/rss-$many")" \
        'BEGIN { printf "%.2fx", b / a }'))"
