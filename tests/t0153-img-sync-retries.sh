#!/bin/sh
# t0153-img-sync-retries: retries of 500, 503 and 429 with backoff and
# Retry-After, a 404 never retried, cut bodies, slow bodies and --timeout;
# the attempts counted in the report and the images table.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

WWW=$TRASH/www
mkdir -p "$WWW/img"
mkimg "$WWW/img/a.jpg" jpeg 20000
mkimg "$WWW/img/b.png" png 30000
mkimg "$WWW/img/ok.gif" gif 1000
serve_www "$WWW"

# db_row URL: status, attempts, path, bytes and last_error of URL's row
# (attempts: those of the last sync in an ok row, those that failed since
# the last success in a failed one).
db_row() {
    test_sql daigou.db "SELECT status, attempts, path, bytes, last_error
        FROM images WHERE url = ${SQ}$HTTPD_URL/$1${SQ}"
}

test_expect_success '500, 503, then the image: downloaded at the third attempt' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": [{"status": 500}, {"status": 503}]}
	EOF
    list_paths img/a.jpg >in.csv &&
    img-sync --dir out --report --json in.csv >report 2>err &&
    echo "img-sync: 1 downloaded, 0 unchanged, 0 failed, 20000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    echo "p1|img/a.jpg|p1/a.jpg|downloaded|200|20000|$(sha "$WWW/img/a.jpg")|3|" >expect &&
    report report product_id url path result http_status bytes sha256 attempts reason |
        sed "s|$HTTPD_URL/||" >actual &&
    test_cmp expect actual &&
    echo "ok|3|p1/a.jpg|20000|" >expect &&
    db_row img/a.jpg >actual &&
    test_cmp expect actual &&
    printf "GET /img/a.jpg %s\n" "500 26" "503 24" "200 20000" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg
'

test_expect_success '429 with Retry-After: 1: the retry waits a second' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": [{"status": 429, "retry_after": 1}]}
	EOF
    list_paths img/a.jpg >in.csv &&
    img-sync -q --dir out in.csv &&
    printf "GET /img/a.jpg %s\n" "429 22" "200 20000" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    httpd_ctl gaps >gaps &&
    awk "{ exit !(\$1 >= 0.95) }" gaps &&
    echo "ok|2" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual
'

test_expect_success '503 with Retry-After as an HTTP date: waited for' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/b.png": [{"status": 503, "retry_after": "+2"}]}
	EOF
    list_paths img/b.png >in.csv &&
    img-sync -q --dir out in.csv &&
    printf "GET /img/b.png %s\n" "503 24" "200 30000" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    : "an HTTP date has whole seconds: 2 s ahead is at least 1 s away" &&
    httpd_ctl gaps >gaps &&
    awk "{ exit !(\$1 >= 1.0) }" gaps &&
    cmp "$WWW/img/b.png" out/p1/b.png
'

test_expect_success 'a Retry-After over --max-retry-after: --max-retry-after waited' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": [{"status": 503, "retry_after": 3600}]}
	EOF
    list_paths img/a.jpg >in.csv &&
    test_run_saved run timeout 30 img-sync -q --dir out --max-retry-after 1 \
        in.csv &&
    echo 0 >expect &&
    test_cmp expect run.rc &&
    printf "GET /img/a.jpg %s\n" "503 24" "200 20000" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    httpd_ctl gaps >gaps &&
    awk "{ exit !(\$1 >= 0.95) }" gaps
'

test_expect_success 'backoff without Retry-After is short under the test settings' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": [{"status": 502}, {"status": 504}, {"status": 500}]}
	EOF
    list_paths img/a.jpg >in.csv &&
    img-sync -q --dir out --report --json in.csv >report &&
    report report result attempts >actual &&
    echo "downloaded|4" >expect &&
    test_cmp expect actual &&
    echo "ok|4" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual &&
    httpd_ctl gaps >gaps &&
    test_line_count = 3 gaps &&
    awk "{ exit !(\$1 < 5) }" gaps
'

test_expect_success '500 for good: failed after --retries 2, exit 1, the reason kept' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"status": 500, "forever": true}}
	EOF
    list_paths img/a.jpg img/ok.gif >in.csv &&
    test_expect_code 1 img-sync --dir out --retries 2 --report --json \
        in.csv >report 2>err &&
    echo "img-sync: 1 downloaded, 0 unchanged, 1 failed, 1000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    report report product_id result http_status attempts >actual &&
    printf "p1|failed|500|3\np2|downloaded|200|1\n" >expect &&
    test_cmp expect actual &&
    report report product_id reason >reasons &&
    grep "^p1|.*500" reasons &&
    grep -x "p2|" reasons &&
    db_row img/a.jpg >row &&
    grep "^failed|3|||.*500" row &&
    printf "GET /img/a.jpg 500 26\n" >expect &&
    requests | grep a.jpg >actual &&
    test_line_count = 3 actual &&
    sort -u actual >uniq &&
    test_cmp expect uniq &&
    test ! -e out/p1 || test -z "$(ls -A out/p1)"
'

test_expect_success 'failed attempts add up over runs; a success counts its own' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": [{"status": 500, "times": 5}]}
	EOF
    list_paths img/a.jpg >in.csv &&
    test_must_fail img-sync -q --dir out --retries 2 in.csv &&
    echo "failed|3" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual &&
    test_must_fail img-sync -q --dir out --retries 1 in.csv &&
    echo "failed|5" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual &&
    img-sync -q --dir out --retries 0 in.csv &&
    echo "ok|1|p1/a.jpg|20000|" >expect &&
    db_row img/a.jpg >actual &&
    test_cmp expect actual
'

test_expect_success 'a failed row counts only the attempts that failed since the last success' '
    fresh &&
    list_paths img/a.jpg >in.csv &&
    img-sync -q --dir out in.csv &&
    echo "ok|1" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"status": 500, "times": 3}}
	EOF
    test_must_fail img-sync -q --dir out --retries 1 in.csv &&
    echo "failed|2" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual &&
    test_must_fail img-sync -q --dir out --retries 0 in.csv &&
    echo "failed|3" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual
'

test_expect_success 'a 404 or 403 is not retried' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/b.png": {"status": 403, "forever": true}}
	EOF
    list_paths img/none.jpg img/b.png img/ok.gif >in.csv &&
    test_expect_code 1 img-sync --dir out --report --json in.csv >report \
        2>err &&
    report report product_id result http_status attempts >actual &&
    printf "p1|failed|404|1\np2|failed|403|1\np3|downloaded|200|1\n" >expect &&
    test_cmp expect actual &&
    cat >expect <<-\EOF &&
	GET /img/b.png 403 14
	GET /img/none.jpg 404 14
	GET /img/ok.gif 200 1000
	EOF
    requests | sort >actual &&
    test_cmp expect actual &&
    echo "failed|1" >expect &&
    db_row img/none.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual
'

test_expect_success 'a cut body is retried, and the whole one kept' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"cut_after": 1000}}
	EOF
    list_paths img/a.jpg >in.csv &&
    img-sync -q --dir out in.csv &&
    printf "GET /img/a.jpg 200 1000 cut\nGET /img/a.jpg 200 20000\n" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg &&
    echo "ok|2|p1/a.jpg|20000|" >expect &&
    db_row img/a.jpg >actual &&
    test_cmp expect actual
'

test_expect_success 'cut for good: failed, no file, no temporary file' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"cut_after": 5000, "forever": true}}
	EOF
    list_paths img/a.jpg img/ok.gif >in.csv &&
    test_expect_code 1 img-sync -q --dir out --retries 1 --report --json \
        in.csv >report &&
    report report product_id result attempts >actual &&
    printf "p1|failed|2\np2|downloaded|1\n" >expect &&
    test_cmp expect actual &&
    tree out >actual &&
    cat >expect <<-\EOF &&
	d p2
	f .img-sync.lock
	f p2/ok.gif 1000
	EOF
    grep -v "^d p1$" actual >actual2 &&
    test_cmp expect actual2 &&
    echo "failed|2" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual
'

test_expect_success 'a body slower than --timeout: given up, nothing kept' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"rate": 4000, "forever": true}}
	EOF
    list_paths img/a.jpg img/ok.gif >in.csv &&
    test_expect_code 1 img-sync -q --dir out --timeout 1 --retries 0 \
        --report --json in.csv >report &&
    report report product_id result attempts >actual &&
    printf "p1|failed|1\np2|downloaded|1\n" >expect &&
    test_cmp expect actual &&
    report report product_id reason | grep "^p1|." &&
    test ! -e out/p1/a.jpg &&
    tmp_files out >actual &&
    test_must_be_empty actual &&
    requests | grep a.jpg >log &&
    test_line_count = 1 log &&
    : "the server saw the client leave well before the 5 s the body takes" &&
    ! grep " 20000\$" log
'

test_expect_success 'an answer that never starts: --timeout, retried, failed' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/a.jpg": {"delay": 4, "forever": true}}
	EOF
    list_paths img/a.jpg img/ok.gif >in.csv &&
    test_expect_code 1 img-sync -q --dir out --timeout 1 --retries 1 \
        --report --json in.csv >report &&
    report report product_id result attempts >actual &&
    printf "p1|failed|2\np2|downloaded|1\n" >expect &&
    test_cmp expect actual &&
    echo "failed|2" >expect &&
    db_row img/a.jpg | cut -d"|" -f1,2 >actual &&
    test_cmp expect actual
'

test_expect_success 'a bad --retries, --timeout or --max-retry-after is a usage error' '
    list_paths img/a.jpg >in.csv &&
    for bad in "--retries -1" "--retries x" "--timeout 0" "--timeout x" \
        "--max-retry-after x" "--connect-timeout -3"; do
        # shellcheck disable=SC2086 # the option and its value
        test_expect_code 64 img-sync --dir out $bad in.csv 2>err &&
        grep "^img-sync: " err || return 1
    done
'

test_done
