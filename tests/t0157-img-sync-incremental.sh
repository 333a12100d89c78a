#!/bin/sh
# t0157-img-sync-incremental: a second run over an unchanged catalogue
# costs 304s (If-None-Match, If-Modified-Since, no body); an ETag change
# downloads again; without validators the body is compared by size and
# sha256 and the file left alone; failed urls are retried by a plain run
# and by --retry-failed; --from-db; --prune and --dry-run.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

WWW=$TRASH/www
mkdir -p "$WWW/img"
mkimg "$WWW/img/a.jpg" jpeg 20000
mkimg "$WWW/img/b.png" png 30000
mkimg "$WWW/img/c.gif" gif 3000
touch -t 202604131600.00 "$WWW"/img/*
# shellcheck disable=SC2034 # used inside the test bodies
LM="Mon, 13 Apr 2026 16:00:00 GMT"
serve_www "$WWW"

# list: products p1, p2, p3 with a.jpg, b.png, c.gif.
list() {
    echo product_id,url
    echo "p1,$HTTPD_URL/img/a.jpg"
    echo "p2,$HTTPD_URL/img/b.png"
    echo "p3,$HTTPD_URL/img/c.gif"
}

# stamps: inode, size and mtime of the three files.
stamps() {
    for f in out/p1/a.jpg out/p2/b.png out/p3/c.gif; do
        stamp "$f" || return 1
    done
}

test_expect_success 'a second run: 304s with both validators, no body, files untouched' '
    fresh &&
    list >in.csv &&
    img-sync --dir out in.csv 2>err &&
    echo "img-sync: 3 downloaded, 0 unchanged, 0 failed, 53000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    stamps >before &&
    fresh &&
    img-sync --dir out --report --json in.csv >report 2>err &&
    echo "img-sync: 0 downloaded, 3 unchanged, 0 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    report report product_id path result http_status bytes >actual &&
    cat >expect <<-\EOF &&
	p1|p1/a.jpg|unchanged|304|20000
	p2|p2/b.png|unchanged|304|30000
	p3|p3/c.gif|unchanged|304|3000
	EOF
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	GET /img/a.jpg 304 0 If-None-Match=$(etag "$WWW/img/a.jpg") If-Modified-Since=$LM
	GET /img/b.png 304 0 If-None-Match=$(etag "$WWW/img/b.png") If-Modified-Since=$LM
	GET /img/c.gif 304 0 If-None-Match=$(etag "$WWW/img/c.gif") If-Modified-Since=$LM
	EOF
    requests | sort >actual &&
    test_cmp expect actual &&
    stamps >after &&
    test_cmp before after &&
    test_sql daigou.db "SELECT path, etag, last_modified, bytes, sha256, status,
        synced_at IS NOT NULL FROM images ORDER BY path" >actual &&
    for pf in p1/a.jpg p2/b.png p3/c.gif; do
        f=$WWW/img/${pf#*/} &&
        echo "$pf|$(etag "$f")|$LM|$(wc -c <"$f")|$(sha "$f")|ok|1" ||
        return 1
    done >expect &&
    test_cmp expect actual
'

test_expect_success 'an ETag change downloads again; the table follows' '
    fresh &&
    list >in.csv &&
    img-sync -q --dir out in.csv &&
    old=$(etag "$WWW/img/a.jpg") &&
    mkimg "$WWW/img/a.jpg" jpeg 21000 &&
    touch -t 202604131600.00 "$WWW/img/a.jpg" &&
    fresh &&
    img-sync --dir out in.csv 2>err &&
    echo "img-sync: 1 downloaded, 2 unchanged, 0 failed, 21000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    echo "GET /img/a.jpg 200 21000 If-None-Match=$old If-Modified-Since=$LM" >expect &&
    requests | grep a.jpg >actual &&
    test_cmp expect actual &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg &&
    echo "$(etag "$WWW/img/a.jpg")|21000|$(sha "$WWW/img/a.jpg")" >expect &&
    test_sql daigou.db "SELECT etag, bytes, sha256 FROM images
        WHERE path = ${SQ}p1/a.jpg${SQ}" >actual &&
    test_cmp expect actual &&
    mkimg "$WWW/img/a.jpg" jpeg 20000 &&
    touch -t 202604131600.00 "$WWW/img/a.jpg"
'

test_expect_success 'a weak ETag is sent back as it came' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"headers": {"ETag": "W/\"w1\""}, "forever": true}}
	EOF
    list >in.csv &&
    img-sync -q --dir out in.csv &&
    img-sync -q --dir out in.csv &&
    echo "GET /img/a.jpg 304 0 If-None-Match=W/\"w1\" If-Modified-Since=$LM" >expect &&
    requests | grep a.jpg | sed -n 2p >actual &&
    test_cmp expect actual &&
    echo "W/\"w1\"" >expect &&
    test_sql daigou.db "SELECT etag FROM images WHERE path = ${SQ}p1/a.jpg${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success 'only Last-Modified: If-Modified-Since alone' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/b.png": {"headers": {"ETag": null}, "forever": true}}
	EOF
    list >in.csv &&
    img-sync -q --dir out in.csv &&
    img-sync -q --dir out in.csv &&
    echo "GET /img/b.png 304 0 If-Modified-Since=$LM" >expect &&
    requests | grep b.png | sed -n 2p >actual &&
    test_cmp expect actual
'

test_expect_success 'no validators: compared by size and sha256, the file left alone' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/c.gif": {"headers": {"ETag": null, "Last-Modified": null},
	                "forever": true}}
	EOF
    list >in.csv &&
    img-sync -q --dir out in.csv &&
    stamp out/p3/c.gif >before &&
    img-sync --dir out --report --json in.csv >report 2>err &&
    : "bytes: those of the files downloaded" &&
    echo "img-sync: 0 downloaded, 3 unchanged, 0 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    report report product_id result http_status >actual &&
    printf "p1|unchanged|304\np2|unchanged|304\np3|unchanged|200\n" >expect &&
    test_cmp expect actual &&
    printf "GET /img/c.gif 200 3000\nGET /img/c.gif 200 3000\n" >expect &&
    requests | grep c.gif >actual &&
    test_cmp expect actual &&
    stamp out/p3/c.gif >after &&
    test_cmp before after &&
    test_sql daigou.db "SELECT etag IS NULL, last_modified IS NULL, sha256
        FROM images WHERE path = ${SQ}p3/c.gif${SQ}" >actual &&
    echo "1|1|$(sha "$WWW/img/c.gif")" >expect &&
    test_cmp expect actual &&
    : "the same size, other bytes: downloaded" &&
    mv "$WWW/img/c.gif" c.gif.saved &&
    mkimg "$WWW/img/c.gif" gif 3000 &&
    printf "\001" | dd of="$WWW/img/c.gif" bs=1 seek=2999 conv=notrunc 2>/dev/null &&
    img-sync -q --dir out --report --json in.csv >report &&
    report report product_id result >actual &&
    printf "p1|unchanged\np2|unchanged\np3|downloaded\n" >expect &&
    test_cmp expect actual &&
    cmp "$WWW/img/c.gif" out/p3/c.gif &&
    mv c.gif.saved "$WWW/img/c.gif"
'

test_expect_success 'a plain re-sync retries the urls that failed' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"status": 500, "times": 4}}
	EOF
    list >in.csv &&
    test_expect_code 1 img-sync -q --dir out in.csv 2>err &&
    test ! -e out/p1/a.jpg &&
    img-sync --dir out in.csv 2>err &&
    echo "img-sync: 1 downloaded, 2 unchanged, 0 failed, 20000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg
'

test_expect_success '--retry-failed syncs only the failed urls' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/b.png": {"status": 503, "times": 4}}
	EOF
    list >in.csv &&
    test_expect_code 1 img-sync -q --dir out in.csv &&
    echo "failed" >expect &&
    test_sql daigou.db "SELECT status FROM images WHERE url LIKE ${SQ}%b.png${SQ}" >actual &&
    test_cmp expect actual &&
    fresh &&
    img-sync --dir out --retry-failed 2>err &&
    echo "img-sync: 1 downloaded, 0 unchanged, 0 failed, 30000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    echo "GET /img/b.png 200 30000" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    cmp "$WWW/img/b.png" out/p2/b.png &&
    echo "ok|ok|ok" >expect &&
    test_sql daigou.db "SELECT group_concat(status, ${SQ}|${SQ}) FROM images" >actual &&
    test_cmp expect actual &&
    fresh &&
    img-sync --dir out --retry-failed 2>err &&
    echo "img-sync: 0 downloaded, 0 unchanged, 0 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    requests >actual &&
    test_must_be_empty actual
'

test_expect_success '--from-db: the urls of the table, with their validators' '
    fresh &&
    list >in.csv &&
    img-sync -q --dir out in.csv &&
    stamps >before &&
    fresh &&
    img-sync --dir out --from-db 2>err &&
    echo "img-sync: 0 downloaded, 3 unchanged, 0 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    requests | cut -d" " -f1-4 | sort >actual &&
    printf "GET /img/%s 304 0\n" a.jpg b.png c.gif >expect &&
    test_cmp expect actual &&
    stamps >after &&
    test_cmp before after &&
    test_expect_code 64 img-sync --dir out --from-db in.csv 2>err &&
    grep "^img-sync: " err
'

test_expect_success 'a file removed by hand is downloaded again, not a 304' '
    fresh &&
    list >in.csv &&
    img-sync -q --dir out in.csv &&
    rm out/p2/b.png &&
    img-sync -q --dir out --report --json in.csv >report &&
    report report product_id result >actual &&
    printf "p1|unchanged\np2|downloaded\np3|unchanged\n" >expect &&
    test_cmp expect actual &&
    cmp "$WWW/img/b.png" out/p2/b.png
'

test_expect_success '--prune --dry-run lists the files of products gone; --prune removes them' '
    fresh &&
    list >in.csv &&
    img-sync -q --dir out in.csv &&
    stamps >before &&
    sed "/^p3,/d" in.csv >in2.csv &&
    fresh &&
    img-sync --dir out --prune --dry-run --report --json in2.csv >report 2>err &&
    report report product_id path result >actual &&
    echo "p3|p3/c.gif|pruned" >expect &&
    test_cmp expect actual &&
    : "a dry run only lists: nothing fetched, nothing removed" &&
    requests >actual &&
    test_must_be_empty actual &&
    stamps >after &&
    test_cmp before after &&
    img-sync --dir out --prune --report --json in2.csv >report 2>err &&
    report report product_id path result >actual &&
    printf "p1|p1/a.jpg|unchanged\np2|p2/b.png|unchanged\np3|p3/c.gif|pruned\n" >expect &&
    test_cmp expect actual &&
    tree out >actual &&
    cat >expect <<-\EOF &&
	d p1
	d p2
	f .img-sync.lock
	f p1/a.jpg 20000
	f p2/b.png 30000
	EOF
    test_cmp expect actual &&
    { stamp out/p1/a.jpg && stamp out/p2/b.png; } >after &&
    head -n 2 before >expect &&
    test_cmp expect after
'

test_done
