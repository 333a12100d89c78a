#!/bin/sh
# t0154-img-sync-bodies: what a body must be before it is kept: within
# --max-size (a chunked body too, cut while it arrives), an image by its
# Content-Type and by its magic number (an HTML error page served with 200
# is the common case), the supplier's sha256 when given. A refused body is
# never a file, and never replaces the good one.
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
mkimg "$WWW/img/d.webp" webp 4000
mkimg "$WWW/img/e.avif" avif 5000
mkimg "$WWW/img/page.html" html 300
mkimg "$WWW/img/big.jpg" jpeg 300000
serve_www "$WWW"

test_expect_success 'JPEG, PNG, GIF, WebP and AVIF are kept byte for byte' '
    fresh &&
    list_paths img/a.jpg img/b.png img/c.gif img/d.webp img/e.avif >in.csv &&
    set_script <<-\EOF &&
	{"/img/e.avif": {"content_type": "image/avif"}}
	EOF
    img-sync --dir out in.csv 2>err &&
    echo "img-sync: 5 downloaded, 0 unchanged, 0 failed, 62000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    for f in p1/a.jpg p2/b.png p3/c.gif p4/d.webp p5/e.avif; do
        cmp "$WWW/img/${f#*/}" "out/$f" || return 1
    done &&
    test_sql daigou.db "SELECT path, sha256, bytes FROM images ORDER BY path" >actual &&
    for f in p1/a.jpg p2/b.png p3/c.gif p4/d.webp p5/e.avif; do
        echo "$f|$(sha "out/$f")|$(wc -c <"out/$f")" || return 1
    done >expect &&
    test_cmp expect actual
'

test_expect_success 'no Content-Type or application/octet-stream: the bytes decide' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"headers": {"Content-Type": null}},
	 "/img/b.png": {"content_type": "application/octet-stream"},
	 "/img/c.gif": {"content_type": "image/x-unknown"}}
	EOF
    list_paths img/a.jpg img/b.png img/c.gif >in.csv &&
    img-sync -q --dir out in.csv &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg &&
    cmp "$WWW/img/b.png" out/p2/b.png &&
    cmp "$WWW/img/c.gif" out/p3/c.gif
'

test_expect_success 'an HTML page served with 200 as text/html: failed, no file' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"file": "img/page.html", "forever": true}}
	EOF
    list_paths img/a.jpg img/c.gif >in.csv &&
    test_expect_code 1 img-sync --dir out --report --json in.csv >report 2>err &&
    echo "img-sync: 1 downloaded, 0 unchanged, 1 failed, 3000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    report report product_id result http_status >actual &&
    printf "p1|failed|200\np2|downloaded|200\n" >expect &&
    test_cmp expect actual &&
    report report product_id reason >reasons &&
    grep "^p1|.*text/html" reasons &&
    : "a page is not worth a retry" &&
    requests | grep -c a.jpg >actual &&
    echo 1 >expect &&
    test_cmp expect actual &&
    test ! -e out/p1/a.jpg &&
    tmp_files out >actual &&
    test_must_be_empty actual &&
    test_sql daigou.db "SELECT status, sha256 IS NULL, last_error LIKE ${SQ}%text/html%${SQ}
        FROM images WHERE url LIKE ${SQ}%a.jpg${SQ}" >actual &&
    echo "failed|1|1" >expect &&
    test_cmp expect actual
'

test_expect_success 'HTML bytes claimed as image/jpeg: failed by the magic number' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"file": "img/page.html", "content_type": "image/jpeg",
	                "forever": true}}
	EOF
    list_paths img/a.jpg >in.csv &&
    test_must_fail img-sync --dir out --report --json in.csv >report 2>err &&
    report report product_id result http_status >actual &&
    echo "p1|failed|200" >expect &&
    test_cmp expect actual &&
    report report reason >reason &&
    grep . reason &&
    test ! -e out/p1/a.jpg &&
    tmp_files out >actual &&
    test_must_be_empty actual
'

test_expect_success 'PNG bytes claimed as image/jpeg: not the claimed format' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/b.png": {"content_type": "image/jpeg", "forever": true},
	 "/img/a.jpg": {"content_type": "image/gif", "forever": true},
	 "/img/c.gif": {"size": 3000, "content_type": "image/gif",
	                "forever": true}}
	EOF
    list_paths img/b.png img/a.jpg img/c.gif img/d.webp >in.csv &&
    test_expect_code 1 img-sync --dir out --report --json in.csv >report &&
    report report product_id result >actual &&
    printf "p1|failed\np2|failed\np3|failed\np4|downloaded\n" >expect &&
    test_cmp expect actual &&
    tree out >actual &&
    grep "^f p" actual >files &&
    echo "f p4/d.webp 4000" >expect &&
    test_cmp expect files
'

test_expect_success 'a body over --max-size with a Content-Length: failed, not retried' '
    fresh &&
    list_paths img/big.jpg img/a.jpg >in.csv &&
    test_expect_code 1 img-sync --dir out --max-size 100k --report --json \
        in.csv >report &&
    report report product_id result attempts >actual &&
    printf "p1|failed|1\np2|downloaded|1\n" >expect &&
    test_cmp expect actual &&
    report report product_id reason | grep "^p1|." &&
    test ! -e out/p1/big.jpg &&
    tmp_files out >actual &&
    test_must_be_empty actual
'

test_expect_success 'an oversized chunked body: cut while it arrives, no file left' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/big.jpg": {"chunked": true, "chunk_size": 8192, "chunk_delay": 0.01,
	                  "forever": true}}
	EOF
    list_paths img/big.jpg img/a.jpg >in.csv &&
    test_expect_code 1 img-sync --dir out --max-size 100k --report --json \
        in.csv >report &&
    report report product_id result attempts >actual &&
    printf "p1|failed|1\np2|downloaded|1\n" >expect &&
    test_cmp expect actual &&
    test ! -e out/p1/big.jpg &&
    tmp_files out >actual &&
    test_must_be_empty actual &&
    requests | grep big.jpg >log &&
    test_line_count = 1 log &&
    : "the server was not read to the end of the 300000 bytes" &&
    ! grep " 300000\$" log &&
    test_sql daigou.db "SELECT status, bytes IS NULL FROM images
        WHERE url LIKE ${SQ}%big.jpg${SQ}" >actual &&
    echo "failed|1" >expect &&
    test_cmp expect actual
'

test_expect_success 'the default --max-size is 50M; a body within it is kept' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/big.jpg": {"chunked": true}}
	EOF
    list_paths img/big.jpg >in.csv &&
    img-sync -q --dir out --max-size 300000 in.csv &&
    cmp "$WWW/img/big.jpg" out/p1/big.jpg &&
    img-sync -q --dir out2 in.csv &&
    cmp "$WWW/img/big.jpg" out2/p1/big.jpg
'

test_expect_success 'the supplier sha256: a mismatch fails, a match is kept' '
    fresh &&
    printf "product_id,url,sha256\n" >in.csv &&
    printf "p1,%s,%s\n" "$HTTPD_URL/img/a.jpg" "$(sha "$WWW/img/a.jpg")" >>in.csv &&
    printf "p2,%s,%s\n" "$HTTPD_URL/img/b.png" "$(sha "$WWW/img/a.jpg")" >>in.csv &&
    test_expect_code 1 img-sync -q --dir out --report --json in.csv >report &&
    report report product_id result >actual &&
    printf "p1|downloaded\np2|failed\n" >expect &&
    test_cmp expect actual &&
    report report product_id reason | grep "^p2|.*sha256" &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg &&
    test ! -e out/p2/b.png
'

test_expect_success 'a refused body never replaces the good file' '
    fresh &&
    list_paths img/a.jpg >in.csv &&
    img-sync -q --dir out in.csv &&
    stamp out/p1/a.jpg >before &&
    mkimg "$WWW/img/a.jpg" jpeg 20001 &&
    set_script <<-\EOF &&
	{"/img/a.jpg": [{"file": "img/page.html", "conditional": false},
	                {"cut_after": 100, "conditional": false},
	                {"content_type": "text/html", "conditional": false}]}
	EOF
    for i in 1 2 3; do
        test_expect_code 1 img-sync -q --dir out --retries 0 in.csv &&
        stamp out/p1/a.jpg >after &&
        test_cmp before after || return 1
    done &&
    test_sql daigou.db "SELECT status, path, bytes FROM images" >actual &&
    echo "failed|p1/a.jpg|20000" >expect &&
    test_cmp expect actual &&
    tmp_files out >actual &&
    test_must_be_empty actual &&
    img-sync -q --dir out in.csv &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg &&
    mkimg "$WWW/img/a.jpg" jpeg 20000
'

test_expect_success 'a bad --max-size is a usage error' '
    list_paths img/a.jpg >in.csv &&
    for bad in -1 10X 1.5k ""; do
        test_expect_code 64 img-sync --dir out --max-size "$bad" in.csv \
            2>err &&
        grep "^img-sync: .*--max-size" err || return 1
    done
'

test_done
