#!/bin/sh
# t0151-img-sync-concurrency: img-sync's transfers at once, counted by the
# test server: --concurrency, --per-host (the Host header tells two host
# names of one server apart), their defaults, connections reused.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

# 24 small JPEGs, each answered after a delay, so that transfers overlap.
WWW=$TRASH/www
mkdir -p "$WWW/slow"
i=10
while [ $i -lt 34 ]; do
    mkimg "$WWW/slow/$i.jpg" jpeg 2000
    i=$((i + 1))
done
serve_www "$WWW"

# list N [HOST...]: a CSV of the first N slow images, product p<i>, the
# urls going round the given host names (default 127.0.0.1).
list() {
    echo product_id,url
    l_n=$1
    shift
    [ $# -gt 0 ] || set -- 127.0.0.1
    l_i=10
    while [ $l_i -lt $((10 + l_n)) ]; do
        echo "p$l_i,http://$1:$HTTPD_PORT/slow/$l_i.jpg"
        l_host=$1
        shift
        set -- "$@" "$l_host"
        l_i=$((l_i + 1))
    done
}

test_expect_success '--concurrency 3 over 20 slow images: never more than 3 at once' '
    fresh &&
    set_script <<-\EOF &&
	{"/slow/*": {"delay": 0.3, "forever": true}}
	EOF
    list 20 >in.csv &&
    img-sync --dir out --concurrency 3 in.csv >stdout 2>err &&
    test_must_be_empty stdout &&
    echo "img-sync: 20 downloaded, 0 unchanged, 0 failed, 40000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    test_line_count = 1 err &&
    httpd_ctl stats "s[\"requests\"][\"total\"], s[\"requests\"][\"peak\"] <= 3, s[\"connections\"][\"peak\"] <= 3" >actual &&
    echo "(20, True, True)" >expect &&
    test_cmp expect actual &&
    : "three at once at some point: 20 delays of 0.3 s overlap" &&
    httpd_ctl stats "s[\"requests\"][\"peak\"] >= 2" >actual &&
    echo True >expect &&
    test_cmp expect actual &&
    for i in $(seq 10 29); do
        cmp "$WWW/slow/$i.jpg" out/p$i/$i.jpg || return 1
    done
'

test_expect_success 'connections are reused: fewer connections than requests' '
    fresh &&
    list 20 >in.csv &&
    img-sync -q --dir out --concurrency 3 in.csv &&
    httpd_ctl stats "s[\"requests\"][\"total\"], s[\"connections\"][\"total\"] < 20" >actual &&
    echo "(20, True)" >expect &&
    test_cmp expect actual
'

test_expect_success '--per-host 2: at most 2 to one host, 4 over two hosts' '
    fresh &&
    set_script <<-\EOF &&
	{"/slow/*": {"delay": 0.3, "forever": true}}
	EOF
    list 16 127.0.0.1 localhost >in.csv &&
    img-sync -q --dir out --concurrency 10 --per-host 2 in.csv &&
    httpd_ctl stats "sorted(s[\"hosts\"])" >actual &&
    echo "[${SQ}127.0.0.1:$HTTPD_PORT${SQ}, ${SQ}localhost:$HTTPD_PORT${SQ}]" >expect &&
    test_cmp expect actual &&
    httpd_ctl stats "s[\"requests\"][\"total\"], max(s[\"hosts\"].values()) <= 2, s[\"requests\"][\"peak\"] <= 4, s[\"requests\"][\"peak\"] >= 3" >actual &&
    echo "(16, True, True, True)" >expect &&
    test_cmp expect actual &&
    test "$(find out -type f -name "*.jpg" | wc -l)" -eq 16
'

test_expect_success 'the defaults: 10 at once, 6 to one host' '
    fresh &&
    set_script <<-\EOF &&
	{"/slow/*": {"delay": 0.5, "forever": true}}
	EOF
    list 24 127.0.0.1 localhost >in.csv &&
    img-sync -q --dir out in.csv &&
    httpd_ctl stats "s[\"requests\"][\"total\"], max(s[\"hosts\"].values()) <= 6, s[\"requests\"][\"peak\"] <= 10, s[\"requests\"][\"peak\"] >= 7" >actual &&
    echo "(24, True, True, True)" >expect &&
    test_cmp expect actual &&
    list 12 >in1.csv &&
    img-sync -q --dir out1 in1.csv &&
    httpd_ctl stats "s[\"requests\"][\"total\"], s[\"hosts\"][\"127.0.0.1:$HTTPD_PORT\"] <= 6" >actual &&
    echo "(36, True)" >expect &&
    test_cmp expect actual
'

test_expect_success '--concurrency 1: one at a time, in one connection' '
    fresh &&
    list 5 >in.csv &&
    img-sync -q --dir out --concurrency 1 in.csv &&
    httpd_ctl stats "s[\"requests\"][\"total\"], s[\"requests\"][\"peak\"], s[\"connections\"][\"total\"]" >actual &&
    echo "(5, 1, 1)" >expect &&
    test_cmp expect actual
'

test_expect_success 'a bad --concurrency or --per-host is a usage error' '
    fresh &&
    list 2 >in.csv &&
    for bad in "--concurrency 0" "--concurrency -1" "--concurrency x" \
        "--per-host 0" "--per-host 1.5" "--concurrency 99999999999999999999"; do
        # shellcheck disable=SC2086 # the option and its value
        test_expect_code 64 img-sync --dir out $bad in.csv 2>err &&
        grep "^img-sync: " err || return 1
    done &&
    test ! -e out &&
    requests >actual &&
    test_must_be_empty actual
'

test_done
