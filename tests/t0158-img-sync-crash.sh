#!/bin/sh
# t0158-img-sync-crash: kill -9 in the middle of a sync (no half file
# under a final name; the next run finishes and cleans the temporary
# files), a server that is down (the old file kept, the error recorded,
# 75 when nothing could be reached), the run lock (75, or --wait).
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

WWW=$TRASH/www
mkdir -p "$WWW/img"
for i in 1 2 3 4 5 6; do
    mkimg "$WWW/img/$i.jpg" jpeg 200000
done
serve_www "$WWW"

# list N [URL]: products p1..pN with images 1.jpg..N.jpg from URL (the
# test server by default).
list() {
    echo product_id,url
    l_i=1
    while [ $l_i -le "$1" ]; do
        echo "p$l_i,${2:-$HTTPD_URL}/img/$l_i.jpg"
        l_i=$((l_i + 1))
    done
}

# wait_for CMD...: up to 10 seconds until CMD succeeds.
wait_for() {
    wf_i=0
    until "$@"; do
        wf_i=$((wf_i + 1))
        [ $wf_i -lt 100 ] || return 1
        sleep 0.1
    done
}

# has_tmp: a temporary file is under out.
has_tmp() {
    test -d out && test -n "$(tmp_files out)"
}

# hold_lock: hold out/.img-sync.lock (flock) from when "locked" exists
# until "release" does, 30 seconds at most.
hold_lock() {
    flock out/.img-sync.lock sh -c '
        touch locked
        i=0
        while ! test -e release && test $i -lt 300; do
            sleep 0.1
            i=$((i + 1))
        done'
}

# start_server DIR: a second test server for DIR, its port in DIR.port,
# its pid in DIR.pid.
start_server() {
    { "$PYTHON3" "$top_srcdir/tests/httpd.py" --root "$1" \
        --port-file "$1.port" --log "$1.log" & } &&
    echo $! >"$1.pid" &&
    wait_for test -s "$1.port"
}

test_expect_success 'kill -9 mid-sync: no half file under a final name' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/*": {"rate": 40000, "forever": true}}
	EOF
    list 6 >in.csv &&
    { img-sync -q --dir out in.csv & } &&
    pid=$! &&
    wait_for has_tmp &&
    sleep 0.3 &&
    kill -9 $pid &&
    { wait $pid; echo $? >rc; } &&
    echo 137 >expect &&
    test_cmp expect rc &&
    tmp_files out >tmps &&
    test -s tmps &&
    : "every file under a final name is whole" &&
    find out -type f ! -name ".*" >finals &&
    while read -r f; do
        n=${f##*/} && cmp "$WWW/img/$n" "$f" || return 1
    done <finals &&
    cp -R out "$TRASH/killed-out" &&
    cp daigou.db* "$TRASH/" 2>/dev/null;
    test -d "$TRASH/killed-out"
'

test_expect_success 'the run after the kill finishes and cleans the temporary files' '
    fresh &&
    cp -R "$TRASH/killed-out" out &&
    cp "$TRASH"/daigou.db* . &&
    list 6 >in.csv &&
    img-sync --dir out in.csv 2>err &&
    sed -n "s/^img-sync: \([0-9]*\) downloaded, \([0-9]*\) unchanged, 0 failed, .*/\1 \2/p" err >counts &&
    read -r d u <counts &&
    test $((d + u)) -eq 6 &&
    for i in 1 2 3 4 5 6; do
        cmp "$WWW/img/$i.jpg" out/p$i/$i.jpg || return 1
    done &&
    tmp_files out >actual &&
    test_must_be_empty actual &&
    tree out >actual &&
    {
        for i in 1 2 3 4 5 6; do echo "d p$i"; done &&
        echo "f .img-sync.lock" &&
        for i in 1 2 3 4 5 6; do echo "f p$i/$i.jpg 200000"; done
    } >expect &&
    test_cmp expect actual &&
    echo ok >expect &&
    test_sql daigou.db "PRAGMA integrity_check" >actual &&
    test_cmp expect actual &&
    echo "ok|6" >expect &&
    test_sql daigou.db "SELECT status, count(*) FROM images GROUP BY status" >actual &&
    test_cmp expect actual
'

test_expect_success 'a server that is down: the old file kept, the error recorded' '
    fresh &&
    mkdir -p www2/img && cp "$WWW/img/1.jpg" www2/img/ &&
    start_server www2 &&
    url2=http://127.0.0.1:$(cat www2.port) &&
    {
        list 1 "$url2" &&
        echo "p2,$HTTPD_URL/img/2.jpg"
    } >in.csv &&
    img-sync -q --dir out in.csv &&
    stamp out/p1/1.jpg >before &&
    kill $(cat www2.pid) &&
    wait $(cat www2.pid);
    test_expect_code 1 img-sync --dir out --retries 1 --report --json in.csv \
        >report 2>err &&
    echo "img-sync: 0 downloaded, 1 unchanged, 1 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    report report product_id path result attempts >actual &&
    printf "p1|p1/1.jpg|failed|2\np2|p2/2.jpg|unchanged|1\n" >expect &&
    test_cmp expect actual &&
    stamp out/p1/1.jpg >after &&
    test_cmp before after &&
    cmp "$WWW/img/1.jpg" out/p1/1.jpg &&
    test_sql daigou.db "SELECT status, path, bytes, sha256,
        last_error IS NOT NULL FROM images WHERE url = ${SQ}$url2/img/1.jpg${SQ}" >actual &&
    echo "failed|p1/1.jpg|200000|$(sha "$WWW/img/1.jpg")|1" >expect &&
    test_cmp expect actual &&
    : "nothing reachable at all: 75, the file still kept" &&
    list 1 "$url2" >in1.csv &&
    test_expect_code 75 img-sync --dir out --retries 0 in1.csv 2>err &&
    echo "img-sync: 0 downloaded, 0 unchanged, 1 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    test_cmp before after &&
    echo "failed|p1/1.jpg" >expect &&
    test_sql daigou.db "SELECT status, path FROM images
        WHERE url = ${SQ}$url2/img/1.jpg${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success 'nothing listening anywhere: 75 after the retries' '
    port=$(free_port) &&
    list 3 "http://127.0.0.1:$port" >in.csv &&
    test_expect_code 75 img-sync --dir out --retries 1 --report --json in.csv \
        >report 2>err &&
    echo "img-sync: 0 downloaded, 0 unchanged, 3 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    report report product_id result attempts >actual &&
    printf "p%d|failed|2\n" 1 2 3 >expect &&
    test_cmp expect actual &&
    report report reason | grep -ci connect >n &&
    echo 3 >expect &&
    test_cmp expect n
'

test_expect_success 'the lock held by another run: 75 at once' '
    fresh &&
    mkdir out &&
    { hold_lock & } &&
    holder=$! &&
    wait_for test -e locked &&
    list 2 >in.csv &&
    test_run_saved run img-sync --dir out in.csv;
    touch release &&
    wait $holder &&
    echo 75 >expect &&
    test_cmp expect run.rc &&
    grep "^img-sync: .*${SQ}out${SQ}" run.err &&
    test_line_count = 1 run.err &&
    requests >actual &&
    test_must_be_empty actual
'

test_expect_success '--wait: waits for the lock, then runs' '
    fresh &&
    mkdir out &&
    { hold_lock & } &&
    holder=$! &&
    wait_for test -e locked &&
    list 2 >in.csv &&
    { img-sync -q --wait --dir out in.csv & } &&
    pid=$! &&
    sleep 1 &&
    { kill -0 $pid; echo $? >running; } &&
    requests >before;
    touch release &&
    wait $holder &&
    wait $pid &&
    echo 0 >expect &&
    test_cmp expect running &&
    test_must_be_empty before &&
    cmp "$WWW/img/1.jpg" out/p1/1.jpg &&
    cmp "$WWW/img/2.jpg" out/p2/2.jpg
'

test_expect_success 'two runs at once: the second exits 75 and leaves the first alone' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/*": {"rate": 200000, "forever": true}}
	EOF
    list 4 >in.csv &&
    { img-sync -q --dir out --concurrency 1 in.csv & } &&
    pid=$! &&
    wait_for has_tmp &&
    test_expect_code 75 img-sync --dir out in.csv 2>err &&
    grep "^img-sync: .*${SQ}out${SQ}" err &&
    wait $pid &&
    for i in 1 2 3 4; do
        cmp "$WWW/img/$i.jpg" out/p$i/$i.jpg || return 1
    done &&
    requests >log &&
    test_line_count = 4 log
'

test_done
