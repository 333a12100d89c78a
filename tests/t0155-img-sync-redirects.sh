#!/bin/sh
# t0155-img-sync-redirects: only http and https, for the url and for every
# redirect: a redirect to another http path followed, to file:// and to
# ftp:// refused, the redirect limit (--max-redirs, 5 by default).
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

WWW=$TRASH/www
mkdir -p "$WWW/img" "$WWW/cdn"
mkimg "$WWW/cdn/real.jpg" jpeg 7000
mkimg "$WWW/img/ok.gif" gif 1000
serve_www "$WWW"

# chain N: a script where /r/1.jpg redirects to /r/2.jpg ... and /r/N.jpg
# to the image.
chain() {
    printf '{'
    c_i=1
    while [ "$c_i" -le "$1" ]; do
        [ "$c_i" -eq 1 ] || printf ', '
        if [ "$c_i" -lt "$1" ]; then
            printf '"/r/%d.jpg": {"status": 302, "location": "/r/%d.jpg", "forever": true}' \
                "$c_i" $((c_i + 1))
        else
            printf '"/r/%d.jpg": {"status": 301, "location": "%s/cdn/real.jpg", "forever": true}' \
                "$c_i" "$HTTPD_URL"
        fi
        c_i=$((c_i + 1))
    done
    printf '}\n'
}

test_expect_success 'a redirect to another http path: followed, the file named by the url' '
    fresh &&
    set_script <<-EOF &&
	{"/img/old.jpg": {"status": 301, "location": "$HTTPD_URL/cdn/real.jpg"},
	 "/img/moved.jpg": {"status": 307, "location": "/cdn/real.jpg"}}
	EOF
    printf "product_id,url\np1,%s\np2,%s\n" "$HTTPD_URL/img/old.jpg" \
        "$HTTPD_URL/img/moved.jpg" >in.csv &&
    img-sync --dir out --report --json in.csv >report 2>err &&
    echo "img-sync: 2 downloaded, 0 unchanged, 0 failed, 14000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    report report product_id path result http_status >actual &&
    printf "p1|p1/old.jpg|downloaded|200\np2|p2/moved.jpg|downloaded|200\n" >expect &&
    test_cmp expect actual &&
    cmp "$WWW/cdn/real.jpg" out/p1/old.jpg &&
    cmp "$WWW/cdn/real.jpg" out/p2/moved.jpg &&
    cat >expect <<-\EOF &&
	GET /cdn/real.jpg 200 7000
	GET /cdn/real.jpg 200 7000
	GET /img/moved.jpg 307 23
	GET /img/old.jpg 301 22
	EOF
    requests | sort >actual &&
    test_cmp expect actual
'

test_expect_success 'a redirect to file:// is refused, nothing read or written' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"status": 302, "location": "file:///etc/passwd",
	                "forever": true}}
	EOF
    printf "product_id,url\np1,%s\np2,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/ok.gif" >in.csv &&
    test_expect_code 1 img-sync --dir out --report --json in.csv >report 2>err &&
    report report product_id result attempts >actual &&
    printf "p1|failed|1\np2|downloaded|1\n" >expect &&
    test_cmp expect actual &&
    report report product_id reason | grep "^p1|." &&
    test ! -e out/p1/a.jpg &&
    ! grep -r "root:" out &&
    echo "GET /img/a.jpg 302 10" >expect &&
    requests | grep a.jpg >actual &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT status, last_error IS NOT NULL FROM images
        WHERE url LIKE ${SQ}%a.jpg${SQ}" >actual &&
    echo "failed|1" >expect &&
    test_cmp expect actual
'

test_expect_success 'a redirect to ftp:// is refused' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"status": 301, "location": "ftp://127.0.0.1/a.jpg",
	                "forever": true},
	 "/img/b.jpg": {"status": 302, "location": "gopher://127.0.0.1/b.jpg",
	                "forever": true}}
	EOF
    printf "product_id,url\np1,%s\np2,%s\np3,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/b.jpg" "$HTTPD_URL/img/ok.gif" >in.csv &&
    test_expect_code 1 img-sync --dir out --report --json in.csv >report &&
    report report product_id result attempts >actual &&
    printf "p1|failed|1\np2|failed|1\np3|downloaded|1\n" >expect &&
    test_cmp expect actual &&
    test ! -e out/p1/a.jpg &&
    test ! -e out/p2/b.jpg
'

test_expect_success 'the url itself must be http or https' '
    fresh &&
    printf "product_id,url\np1,file:///etc/passwd\np2,ftp://127.0.0.1/a.jpg\np3,%s\n" \
        "$HTTPD_URL/img/ok.gif" >in.csv &&
    test_expect_code 1 img-sync --dir out in.csv 2>err &&
    grep "^img-sync: in.csv:2: .*file:///etc/passwd" err &&
    grep "^img-sync: in.csv:3: .*ftp://127.0.0.1/a.jpg" err &&
    cmp "$WWW/img/ok.gif" out/p3/ok.gif &&
    test ! -e out/p1 &&
    test ! -e out/p2
'

test_expect_success 'five redirects are followed by default, a sixth is refused' '
    fresh &&
    chain 5 | set_script &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/r/1.jpg" >in.csv &&
    img-sync -q --dir out in.csv &&
    cmp "$WWW/cdn/real.jpg" out/p1/1.jpg &&
    fresh &&
    chain 6 | set_script &&
    test_expect_code 1 img-sync --dir out2 --report --json in.csv >report &&
    report report result http_status >actual &&
    grep "^failed|" actual &&
    test ! -e out2/p1/1.jpg &&
    requests >log &&
    test_line_count = 6 log &&
    ! grep real.jpg log
'

test_expect_success '--max-redirs sets the limit; 0 follows none' '
    fresh &&
    chain 2 | set_script &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/r/1.jpg" >in.csv &&
    test_expect_code 1 img-sync -q --dir out --max-redirs 1 in.csv 2>err &&
    test ! -e out/p1/1.jpg &&
    test_expect_code 1 img-sync -q --dir out --max-redirs 0 in.csv 2>err &&
    test ! -e out/p1/1.jpg &&
    img-sync -q --dir out --max-redirs 2 in.csv &&
    cmp "$WWW/cdn/real.jpg" out/p1/1.jpg &&
    test_expect_code 64 img-sync --dir out --max-redirs -1 in.csv 2>err &&
    grep "^img-sync: .*--max-redirs" err
'

test_done
