#!/bin/sh
# t0150-img-sync: the basic flow of img-sync against tests/httpd.py: the
# first sync (the layout under --dir, the images rows, the report in CSV
# and JSON Lines, the summary), the second run all unchanged through 304s,
# JSON Lines input, --from-db and --retry-failed, --prune with --dry-run,
# the run lock, leftover temporary files, usage errors; with -v, the
# writeback started while a body arrives and the directory fsyncs.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

export DAIGOU_NOW=2026-11-27T03:00:00Z
WWW=$TRASH/www
mkdir -p "$WWW/img" "$WWW/other"
mkimg "$WWW/img/front.jpg" jpeg 3000
mkimg "$WWW/img/back.png" png 2000
mkimg "$WWW/other/front.jpg" jpeg 2500
mkimg "$WWW/img/dot.gif" gif 43
serve_www "$WWW"

# catalogue: four urls of three products; two of P1 would both be
# front.jpg, one name given, one url with a query string.
catalogue() {
    cat <<-EOF
	product_id,url,name
	P1,$HTTPD_URL/img/front.jpg,
	P1,$HTTPD_URL/other/front.jpg,
	P2,$HTTPD_URL/img/back.png?v=2,
	P3,$HTTPD_URL/img/dot.gif,swatch.gif
	EOF
}

# rows: the images rows, the server's address taken out of the urls.
rows() {
    test_sql daigou.db "SELECT product_id, url, path, etag IS NOT NULL,
        last_modified IS NOT NULL, bytes, sha256, status, attempts,
        coalesce(last_error, ''), synced_at FROM images ORDER BY id" |
        sed "s|$HTTPD_URL/||"
}

# shellcheck disable=SC2034 # used inside the test bodies
SUFFIX=$(printf %s "$HTTPD_URL/other/front.jpg" | sha256sum | cut -c1-8)

test_expect_success 'the first sync: every image in place, the rows, the report' '
    fresh &&
    catalogue >in.csv &&
    img-sync --dir out --report --json in.csv >report 2>err &&
    echo "img-sync: 4 downloaded, 0 unchanged, 0 failed, 7543 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    test_line_count = 1 err &&
    cat >expect <<-EOF &&
	d P1
	d P2
	d P3
	f .img-sync.lock
	f P1/front-$SUFFIX.jpg 2500
	f P1/front.jpg 3000
	f P2/back.png 2000
	f P3/swatch.gif 43
	EOF
    tree out >actual &&
    test_cmp expect actual &&
    cmp "$WWW/img/front.jpg" out/P1/front.jpg &&
    cmp "$WWW/other/front.jpg" out/P1/front-$SUFFIX.jpg &&
    cmp "$WWW/img/back.png" out/P2/back.png &&
    cmp "$WWW/img/dot.gif" out/P3/swatch.gif &&
    cat >expect <<-EOF &&
	P1|img/front.jpg|P1/front.jpg|downloaded|200|3000|$(sha "$WWW/img/front.jpg")|1|
	P1|other/front.jpg|P1/front-$SUFFIX.jpg|downloaded|200|2500|$(sha "$WWW/other/front.jpg")|1|
	P2|img/back.png?v=2|P2/back.png|downloaded|200|2000|$(sha "$WWW/img/back.png")|1|
	P3|img/dot.gif|P3/swatch.gif|downloaded|200|43|$(sha "$WWW/img/dot.gif")|1|
	EOF
    report report product_id url path result http_status bytes sha256 attempts reason |
        sed "s|$HTTPD_URL/||" >actual &&
    test_cmp expect actual &&
    cat >expect <<-EOF &&
	P1|img/front.jpg|P1/front.jpg|1|1|3000|$(sha "$WWW/img/front.jpg")|ok|1||2026-11-27T03:00:00Z
	P1|other/front.jpg|P1/front-$SUFFIX.jpg|1|1|2500|$(sha "$WWW/other/front.jpg")|ok|1||2026-11-27T03:00:00Z
	P2|img/back.png?v=2|P2/back.png|1|1|2000|$(sha "$WWW/img/back.png")|ok|1||2026-11-27T03:00:00Z
	P3|img/dot.gif|P3/swatch.gif|1|1|43|$(sha "$WWW/img/dot.gif")|ok|1||2026-11-27T03:00:00Z
	EOF
    rows >actual &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT etag FROM images WHERE path = ${SQ}P1/front.jpg${SQ}" >actual &&
    etag "$WWW/img/front.jpg" >expect &&
    test_cmp expect actual
'

test_expect_success 'the second run: every url a 304 with its ETag, nothing rewritten' '
    fresh &&
    catalogue >in.csv &&
    img-sync -q --dir out in.csv &&
    for f in P1/front.jpg P2/back.png P3/swatch.gif; do
        stamp out/$f >>before || return 1
    done &&
    DAIGOU_NOW=2026-11-28T03:00:00Z img-sync --dir out --report in.csv >report 2>err &&
    echo "img-sync: 0 downloaded, 4 unchanged, 0 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    for f in P1/front.jpg P2/back.png P3/swatch.gif; do
        stamp out/$f >>after || return 1
    done &&
    test_cmp before after &&
    : "four requests of the first run, then four 304s" &&
    requests | sed -n "5,\$p" | cut -d" " -f1-4 | sort >actual &&
    printf "GET %s 304 0\n" /img/back.png?v=2 /img/dot.gif /img/front.jpg \
        /other/front.jpg >expect &&
    test_cmp expect actual &&
    requests | sed -n "5,\$p" | grep -c "If-None-Match=\"" >actual &&
    echo 4 >expect &&
    test_cmp expect actual &&
    head -n 1 report >actual &&
    echo "product_id,url,path,result,http_status,bytes,sha256,attempts,reason" >expect &&
    test_cmp expect actual &&
    grep "/img/front.jpg," report | sed "s|$HTTPD_URL/||" >actual &&
    echo "P1,img/front.jpg,P1/front.jpg,unchanged,304,3000,$(sha "$WWW/img/front.jpg"),1," >expect &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT DISTINCT status, attempts, synced_at FROM images" >actual &&
    echo "ok|1|2026-11-28T03:00:00Z" >expect &&
    test_cmp expect actual
'

test_expect_success 'a changed image is downloaded again over the old one' '
    fresh &&
    catalogue >in.csv &&
    img-sync -q --dir out in.csv &&
    cp "$WWW/img/dot.gif" dot.gif.orig &&
    mkimg "$WWW/img/dot.gif" gif 60 &&
    img-sync --dir out --report --json in.csv >report 2>err &&
    echo "img-sync: 1 downloaded, 3 unchanged, 0 failed, 60 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    cp dot.gif.orig "$WWW/img/dot.gif" &&
    test_cmp expect actual &&
    test "$(wc -c <out/P3/swatch.gif)" -eq 60 &&
    tmp_files out >actual &&
    test_must_be_empty actual
'

test_expect_success 'JSON Lines input, from a pipe: the same layout' '
    fresh &&
    catalogue | sed 1d | while IFS=, read -r p u n; do
        printf "{\"product_id\":\"%s\",\"url\":\"%s\",\"name\":\"%s\"}\n" "$p" "$u" "$n"
    done >in.jsonl &&
    img-sync -q --dir out <in.jsonl &&
    tree out >actual &&
    grep -c "^f P" actual >count &&
    echo 4 >expect &&
    test_cmp expect count &&
    test -f out/P3/swatch.gif &&
    test -f out/P1/front-$SUFFIX.jpg
'

test_expect_success '--from-db syncs the stored urls; --retry-failed only the failed ones' '
    fresh &&
    catalogue >in.csv &&
    echo "P4,$HTTPD_URL/img/gone.jpg," >>in.csv &&
    test_expect_code 1 img-sync -q --dir out in.csv 2>err &&
    echo "img-sync: ${SQ}$HTTPD_URL/img/gone.jpg${SQ} (product ${SQ}P4${SQ}): http status 404" >expect &&
    head -n 1 err >actual &&
    test_cmp expect actual &&
    echo "img-sync: 4 downloaded, 0 unchanged, 1 failed, 7543 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    fresh &&
    test_expect_code 1 img-sync -q --dir out --from-db 2>err &&
    requests | cut -d" " -f2,3 | sort >actual &&
    printf "%s\n" "/img/back.png?v=2 304" "/img/dot.gif 304" \
        "/img/front.jpg 304" "/img/gone.jpg 404" "/other/front.jpg 304" >expect &&
    test_cmp expect actual &&
    fresh &&
    test_expect_code 1 img-sync --dir out --retry-failed 2>err &&
    requests | cut -d" " -f2,3 >actual &&
    echo "/img/gone.jpg 404" >expect &&
    test_cmp expect actual &&
    echo "img-sync: 0 downloaded, 0 unchanged, 1 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT status, attempts, last_error FROM images
        WHERE product_id = ${SQ}P4${SQ}" >actual &&
    echo "failed|3|http status 404" >expect &&
    test_cmp expect actual &&
    test ! -e out/P4
'

test_expect_success '--prune: --dry-run lists, then the products no longer listed go' '
    fresh &&
    catalogue >in.csv &&
    img-sync -q --dir out in.csv &&
    grep -v "^P3," in.csv >fewer.csv &&
    img-sync --dir out --prune --dry-run fewer.csv >listed 2>err &&
    cat >expect <<-\EOF &&
	product_id,url,path,result,http_status,bytes,sha256,attempts,reason
	P3,,P3/swatch.gif,pruned,,,,,
	EOF
    test_cmp expect listed &&
    echo "img-sync: would prune 1 files of 1 products no longer listed" >expect &&
    test_cmp expect err &&
    test -f out/P3/swatch.gif &&
    requests >actual &&
    test_line_count = 4 actual &&
    img-sync -q --dir out --prune fewer.csv &&
    test ! -e out/P3 &&
    test -f out/P1/front.jpg &&
    test_sql daigou.db "SELECT count(*) FROM images WHERE product_id = ${SQ}P3${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'leftover temporary files of a killed run are removed first' '
    fresh &&
    catalogue >in.csv &&
    img-sync -q --dir out in.csv &&
    echo half >out/P1/.front.jpg.tmp-Ab3dEf &&
    echo half >out/P2/.back.png.tmp-zzzzzz &&
    img-sync --dir out in.csv 2>err &&
    grep "^img-sync: removed 2 temporary files a stopped run left$" err &&
    tmp_files out >actual &&
    test_must_be_empty actual
'

test_expect_success 'the lock: a second run exits 75, or waits with --wait' '
    fresh &&
    catalogue >in.csv &&
    mkdir out &&
    : >out/.img-sync.lock &&
    { flock out/.img-sync.lock sleep 2 & } &&
    holder=$! &&
    sleep 0.5 &&
    test_expect_code 75 img-sync --dir out in.csv 2>err &&
    echo "img-sync: another img-sync is running in ${SQ}out${SQ}: exiting (--wait waits for it)" >expect &&
    test_cmp expect err &&
    test ! -e out/P1 &&
    img-sync -q --wait --dir out in.csv &&
    test -f out/P1/front.jpg &&
    ! kill -0 "$holder" 2>/dev/null
'

test_expect_success 'the progress line: only with --progress off a terminal, cleared before the summary' '
    fresh &&
    catalogue >in.csv &&
    img-sync --dir out in.csv 2>err &&
    test_line_count = 1 err &&
    rm -rf out daigou.db &&
    img-sync --dir out --progress in.csv 2>err &&
    tr "\r" "\n" <err | grep "^img-sync: 4/4 files, 7.3 KiB, .*/s, 0 failed" &&
    tail -n 1 err | sed "s/^.*\x1b\[K//" >last &&
    summary last >actual &&
    echo "img-sync: 4 downloaded, 0 unchanged, 0 failed, 7543 bytes in S s (RATE/s)" >expect &&
    test_cmp expect actual &&
    rm -rf out daigou.db &&
    img-sync -q --dir out --progress in.csv 2>err &&
    test_must_be_empty err
'

test_expect_success 'usage errors: 64, nothing fetched' '
    fresh &&
    catalogue >in.csv &&
    test_expect_code 64 img-sync in.csv 2>err &&
    grep "^img-sync: --dir is required$" err &&
    test_expect_code 64 img-sync --dir out --from-db in.csv 2>err &&
    grep "^img-sync: --from-db reads the images table, not files$" err &&
    test_expect_code 64 img-sync --dir out --dry-run in.csv 2>err &&
    grep "^img-sync: --dry-run goes with --prune$" err &&
    test_expect_code 64 img-sync --dir out --json in.csv 2>err &&
    grep "^img-sync: --json goes with --report$" err &&
    test ! -e out &&
    requests >actual &&
    test_must_be_empty actual
'

test_expect_success 'a large body: writeback started every MiB while it arrives; its directory and DIR fsynced' '
    fresh &&
    mkimg "$WWW/img/big.jpg" jpeg 3146728 &&
    printf "product_id,url\nB1,%s\n" "$HTTPD_URL/img/big.jpg" >in.csv &&
    img-sync -v --dir out in.csv 2>err &&
    cmp "$WWW/img/big.jpg" out/B1/big.jpg &&
    echo "img-sync: files fsynced and renamed: 1; directory fsyncs: 2; writeback started while receiving: 3145728 bytes" >expect &&
    grep "^img-sync: files fsynced" err >actual &&
    test_cmp expect actual
'

test_expect_success 'a new file in a product directory already there: that directory fsynced, not DIR' '
    fresh &&
    mkimg "$WWW/img/big.jpg" jpeg 3146728 &&
    mkimg "$WWW/img/small.jpg" jpeg 1048575 &&
    printf "product_id,url\nB1,%s\n" "$HTTPD_URL/img/big.jpg" >in.csv &&
    img-sync -q --dir out in.csv &&
    printf "B1,%s\n" "$HTTPD_URL/img/small.jpg" >>in.csv &&
    img-sync -v --dir out in.csv 2>err &&
    grep "^img-sync: 1 downloaded, 1 unchanged, 0 failed" err &&
    cmp "$WWW/img/small.jpg" out/B1/small.jpg &&
    echo "img-sync: files fsynced and renamed: 1; directory fsyncs: 1; writeback started while receiving: 0 bytes" >expect &&
    grep "^img-sync: files fsynced" err >actual &&
    test_cmp expect actual &&
    img-sync --dir out in.csv 2>err &&
    ! grep "files fsynced" err
'

test_done
