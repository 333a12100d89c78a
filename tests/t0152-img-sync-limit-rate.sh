#!/bin/sh
# t0152-img-sync-limit-rate: --limit-rate, one cap for all the transfers
# together, seen from the tool (its summary) and from the server (body
# bytes per second of wall time). A cap is an upper bound: the upper
# bounds are asserted as the issue sets them, the lower bounds loosely,
# so a loaded machine's slowness never fails a test. The server sees more
# than the cap in bursts, since the kernel's socket buffers take bytes
# ahead of the reader: the server runs with a small SO_SNDBUF, and the
# bytes a paused connection can hold (ALLOW a connection) are allowed.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

# Bytes one connection takes ahead of a paused reader with --sndbuf 16384
# (its 128 KiB receive buffer and the send buffer), doubled.
# shellcheck disable=SC2034 # used inside the test bodies
ALLOW=327680
WWW=$TRASH/www
mkdir -p "$WWW/img"
for i in 1 2 3 4 5 6 7 8; do
    mkimg "$WWW/img/$i.jpg" jpeg 524288
done
serve_www "$WWW" --sndbuf 16384

# list N: the first N images, one product each.
list() {
    echo product_id,url
    l_i=1
    while [ $l_i -le "$1" ]; do
        echo "p$l_i,$HTTPD_URL/img/$l_i.jpg"
        l_i=$((l_i + 1))
    done
}

# check_rate ERR CAP: the summary in ERR says an average rate (bytes over
# seconds) of at most 103 % of CAP, and at least half of it.
check_rate() {
    sed -n "s|^img-sync: .* failed, \([0-9]*\) bytes in \([0-9.]*\) s (.*)\$|\1 \2|p" "$1" >figures &&
    test "$(wc -l <figures)" -eq 1 &&
    read -r bytes secs <figures &&
    awk -v b="$bytes" -v s="$secs" -v cap="$2" 'BEGIN {
        r = b / s
        printf "average %.0f bytes/s, %.4f of the cap\n", r, r / cap
        exit !(r <= 1.03 * cap && r >= 0.5 * cap)
    }'
}

test_expect_success '--limit-rate 1M over 4 transfers: the average within 3 % of the cap' '
    fresh &&
    list 8 >in.csv &&
    img-sync --dir out --concurrency 4 --limit-rate 1M --report --json \
        in.csv >report 2>err &&
    echo "img-sync: 8 downloaded, 0 unchanged, 0 failed, 4194304 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    check_rate err 1048576 &&
    report report bytes | sort -u >actual &&
    echo 524288 >expect &&
    test_cmp expect actual &&
    httpd_ctl stats >stats &&
    cat stats &&
    : "the server sent what the tool counted, no more" &&
    httpd_ctl stats "s[\"bytes\"], s[\"requests\"][\"total\"], s[\"requests\"][\"peak\"] <= 4" >actual &&
    echo "(4194304, 8, True)" >expect &&
    test_cmp expect actual &&
    : "no second of the server over 110 % of the cap, beyond the buffers" &&
    httpd_ctl stats "[n for t, n in s[\"per_second\"] if n > 1.10 * 1048576 + 4 * $ALLOW]" >actual &&
    echo "[]" >expect &&
    test_cmp expect actual &&
    : "the server took as long as the cap needs, beyond the buffers" &&
    httpd_ctl stats "s[\"last\"] - s[\"first\"] >= (4194304 - 4 * $ALLOW) / (1.10 * 1048576)" >actual &&
    echo True >expect &&
    test_cmp expect actual
'

# The run takes about 4 s: a bucket that starts with a burst (the first
# tenth of a second free, say) must still average within 3 % of the cap.
test_expect_success 'the cap holds for one transfer too, with a k suffix' '
    fresh &&
    list 2 >in.csv &&
    img-sync --dir out --concurrency 1 --limit-rate 256k in.csv 2>err &&
    check_rate err 262144 &&
    httpd_ctl stats "s[\"bytes\"], s[\"last\"] - s[\"first\"] >= (1048576 - $ALLOW) / (1.10 * 262144)" >actual &&
    echo "(1048576, True)" >expect &&
    test_cmp expect actual
'

test_expect_success 'a cap held across 8 transfers at once: never 8 times the cap' '
    fresh &&
    list 8 >in.csv &&
    img-sync -q --dir out --concurrency 8 --limit-rate 2M in.csv 2>err &&
    test_must_be_empty err &&
    httpd_ctl stats "s[\"requests\"][\"peak\"] >= 2, [n for t, n in s[\"per_second\"] if n > 1.10 * 2097152 + 8 * $ALLOW]" >actual &&
    echo "(True, [])" >expect &&
    test_cmp expect actual &&
    httpd_ctl stats "s[\"last\"] - s[\"first\"] >= (4194304 - 8 * $ALLOW) / (1.10 * 2097152)" >actual &&
    echo True >expect &&
    test_cmp expect actual
'

test_expect_success 'a bad --limit-rate is a usage error' '
    fresh &&
    list 1 >in.csv &&
    for bad in -1 1X 1.5M "" M 99999999999G; do
        test_expect_code 64 img-sync --dir out --limit-rate "$bad" in.csv \
            2>err &&
        grep "^img-sync: .*--limit-rate" err || return 1
    done &&
    requests >actual &&
    test_must_be_empty actual
'

test_done
