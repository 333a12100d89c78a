#!/bin/sh
# t0159-img-sync-exit: exit codes (0 all synced, 1 a url failed for good
# or a bad row, 75 nothing reachable, 65 bad input under --strict or an
# unreadable file, 64 usage), the input (CSV with a header, JSON Lines by
# its first byte or --jsonl, stdin), the report in CSV and JSON Lines,
# --dir created, --quiet, --db.
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
serve_www "$WWW"

test_expect_success '0: every url synced; the summary on stderr, nothing on stdout' '
    fresh &&
    printf "product_id,url\np1,%s\np2,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/b.png" >in.csv &&
    img-sync --dir out in.csv >stdout 2>err &&
    test_must_be_empty stdout &&
    echo "img-sync: 2 downloaded, 0 unchanged, 0 failed, 50000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    test_line_count = 1 err &&
    grep "^img-sync: 2 downloaded, 0 unchanged, 0 failed, 50000 bytes in [0-9]*\.[0-9][0-9][0-9] s (.*/s)\$" err
'

test_expect_success '1: a url failed for good; its message names the url' '
    fresh &&
    printf "product_id,url\np1,%s\np2,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/none.jpg" >in.csv &&
    test_expect_code 1 img-sync --dir out in.csv >stdout 2>err &&
    test_must_be_empty stdout &&
    grep "^img-sync: .*${SQ}$HTTPD_URL/img/none.jpg${SQ}.*404" err &&
    echo "img-sync: 1 downloaded, 0 unchanged, 1 failed, 20000 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual
'

test_expect_success '75: no url could be reached at all' '
    port=$(free_port) &&
    printf "product_id,url\np1,http://127.0.0.1:%s/a.jpg\np2,http://127.0.0.1:%s/b.jpg\n" \
        "$port" "$port" >in.csv &&
    test_expect_code 75 img-sync --dir out --retries 0 in.csv 2>err &&
    echo "img-sync: 0 downloaded, 0 unchanged, 2 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    : "one reachable url, even one that fails, makes it 1" &&
    printf "p3,%s\n" "$HTTPD_URL/img/none.jpg" >>in.csv &&
    test_expect_code 1 img-sync --dir out --retries 0 in.csv 2>err
'

test_expect_success '64: usage errors, nothing fetched, no DIR made' '
    fresh &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/img/a.jpg" >in.csv &&
    test_expect_code 64 img-sync in.csv 2>err &&
    grep "^img-sync: .*--dir" err &&
    test_expect_code 64 img-sync --dir out --no-such-option in.csv 2>err &&
    grep "^img-sync: " err &&
    test_expect_code 64 img-sync --dir out --dry-run in.csv 2>err &&
    grep "^img-sync: .*--dry-run" err &&
    test_expect_code 64 img-sync --dir out --from-db --retry-failed 2>err &&
    grep "^img-sync: " err &&
    test_expect_code 64 img-sync --dir out --retry-failed in.csv 2>err &&
    grep "^img-sync: " err &&
    test ! -e out &&
    requests >actual &&
    test_must_be_empty actual
'

test_expect_success '--help: 0, the usage on stdout' '
    img-sync --help >stdout &&
    grep "^usage: img-sync " stdout
'

# design: 66 for input missing, as every tool exits for a file it cannot
# open; nothing is fetched when one of the inputs cannot be read.
test_expect_success '66: an input file that cannot be read' '
    fresh &&
    test_expect_code 66 img-sync --dir out no-such.csv 2>err &&
    grep "^img-sync: .*${SQ}no-such.csv${SQ}" err &&
    mkdir adir &&
    test_expect_code 66 img-sync --dir out adir 2>err &&
    grep "^img-sync: .*${SQ}adir${SQ}" err &&
    requests >actual &&
    test_must_be_empty actual
'

test_expect_success 'bad rows: file:line, the rows after them synced, exit 1' '
    fresh &&
    cat >in.csv <<-EOF &&
	product_id,url
	p1,$HTTPD_URL/img/a.jpg
	p2,
	,$HTTPD_URL/img/b.png
	p3,not a url
	p4,"$HTTPD_URL/img/c.gif
	EOF
    printf "p5,%s\n" "$HTTPD_URL/img/b.png" >in2.csv &&
    sed -n 1p in.csv >in3.csv && cat in2.csv >>in3.csv &&
    test_expect_code 1 img-sync --dir out in.csv in3.csv 2>err &&
    grep "^img-sync: in.csv:3: .*url" err &&
    grep "^img-sync: in.csv:4: .*product_id" err &&
    grep "^img-sync: in.csv:5: .*${SQ}not a url${SQ}" err &&
    grep "^img-sync: in.csv:6: " err &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg &&
    cmp "$WWW/img/b.png" out/p5/b.png &&
    test ! -e out/p4
'

test_expect_success '--strict: a bad row stops the run, 65' '
    fresh &&
    printf "product_id,url\np1,%s\np2,\np3,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/b.png" >in.csv &&
    test_expect_code 65 img-sync --strict --dir out in.csv 2>err &&
    grep "^img-sync: in.csv:3: " err &&
    requests | grep b.png >actual;
    test_must_be_empty actual &&
    test ! -e out/p3/b.png
'

test_expect_success 'a CSV header without a url column is refused' '
    fresh &&
    printf "product_id,link\np1,%s\n" "$HTTPD_URL/img/a.jpg" >in.csv &&
    test_must_fail img-sync --dir out in.csv 2>err &&
    grep "^img-sync: in.csv\(:1\)\?: .*${SQ}url${SQ}" err &&
    requests >actual &&
    test_must_be_empty actual
'

test_expect_success 'JSON Lines by the first byte, or --jsonl; stdin as -' '
    fresh &&
    printf "{\"product_id\": \"p1\", \"url\": \"%s\", \"name\": \"x.jpg\"}\n" \
        "$HTTPD_URL/img/a.jpg" >in.jsonl &&
    img-sync -q --dir out in.jsonl &&
    cmp "$WWW/img/a.jpg" out/p1/x.jpg &&
    printf "\n{\"product_id\": \"p2\", \"url\": \"%s\"}\n" \
        "$HTTPD_URL/img/b.png" >in2.jsonl &&
    img-sync -q --dir out --jsonl - <in2.jsonl &&
    cmp "$WWW/img/b.png" out/p2/b.png &&
    printf "product_id,url\np3,%s\n" "$HTTPD_URL/img/c.gif" |
        img-sync -q --dir out - &&
    cmp "$WWW/img/c.gif" out/p3/c.gif
'

test_expect_success 'JSON Lines: a bad line is refused with its number' '
    fresh &&
    {
        printf "{\"product_id\": \"p1\", \"url\": \"%s\"}\n" "$HTTPD_URL/img/a.jpg" &&
        printf "{\"product_id\": \"p2\", \"product_id\": \"p3\", \"url\": \"%s\"}\n" "$HTTPD_URL/img/b.png" &&
        printf "[1, 2]\n" &&
        printf "{\"product_id\": \"p4\", \"url\": [\"%s\"]}\n" "$HTTPD_URL/img/b.png" &&
        printf "{\"product_id\": \"p5\", \"url\": \"%s\"}\n" "$HTTPD_URL/img/c.gif"
    } >in.jsonl &&
    test_expect_code 1 img-sync --dir out in.jsonl 2>err &&
    grep "^img-sync: in.jsonl:2: " err &&
    grep "^img-sync: in.jsonl:3: " err &&
    grep "^img-sync: in.jsonl:4: .*url" err &&
    cmp "$WWW/img/a.jpg" out/p1/a.jpg &&
    cmp "$WWW/img/c.gif" out/p5/c.gif &&
    test ! -e out/p2 && test ! -e out/p3 && test ! -e out/p4
'

test_expect_success '--report: CSV with a header, one row per url' '
    fresh &&
    printf "product_id,url\np1,%s\np2,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/none.jpg" >in.csv &&
    test_expect_code 1 img-sync -q --dir out --report in.csv >report.csv &&
    echo "product_id,url,path,result,http_status,bytes,sha256,attempts,reason" >expect &&
    sed -n 1p report.csv >actual &&
    test_cmp expect actual &&
    echo "p1,$HTTPD_URL/img/a.jpg,p1/a.jpg,downloaded,200,20000,$(sha "$WWW/img/a.jpg"),1," >expect &&
    grep "^p1," report.csv >actual &&
    test_cmp expect actual &&
    grep "^p2,$HTTPD_URL/img/none.jpg,[^,]*,failed,404,[^,]*,,1,." report.csv &&
    test_line_count = 3 report.csv
'

test_expect_success '--report --json: one object per url with the same keys' '
    fresh &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/img/a.jpg" >in.csv &&
    img-sync -q --dir out --report --json in.csv >report &&
    "$PYTHON3" -S -c "
import json, sys
for line in open(sys.argv[1]):
    print(sorted(json.loads(line)))
" report >actual &&
    echo "[${SQ}attempts${SQ}, ${SQ}bytes${SQ}, ${SQ}http_status${SQ}, ${SQ}path${SQ}, ${SQ}product_id${SQ}, ${SQ}reason${SQ}, ${SQ}result${SQ}, ${SQ}sha256${SQ}, ${SQ}url${SQ}]" >expect &&
    test_cmp expect actual &&
    report report product_id url path result http_status bytes sha256 attempts >actual &&
    echo "p1|$HTTPD_URL/img/a.jpg|p1/a.jpg|downloaded|200|20000|$(sha "$WWW/img/a.jpg")|1" >expect &&
    test_cmp expect actual
'

test_expect_success '--quiet: silent when all is well, the summary when not' '
    fresh &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/img/a.jpg" >in.csv &&
    img-sync -q --dir out in.csv 2>err &&
    test_must_be_empty err &&
    printf "p2,%s\n" "$HTTPD_URL/img/none.jpg" >>in.csv &&
    test_expect_code 1 img-sync -q --dir out in.csv 2>err &&
    echo "img-sync: 0 downloaded, 1 unchanged, 1 failed, 0 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual
'

test_expect_success '--progress: files done of the total, redrawn a few times a second' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/*": {"rate": 25000, "forever": true}}
	EOF
    printf "product_id,url\np1,%s\np2,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/b.png" >in.csv &&
    img-sync --dir out --progress --concurrency 1 in.csv 2>err &&
    tr "\r" "\n" <err | sed "s/$(printf "\033")\[K//g" >lines &&
    grep -c "^img-sync: [0-2]/2 files, .*/s, 0 failed" lines >redraws &&
    secs=$(sed -n "s/^img-sync: 2 downloaded, .* bytes in \([0-9.]*\) s .*/\1/p" lines) &&
    echo "$(cat redraws) redraws in $secs s" &&
    : "the body takes 2 s: some redraws, and never more than 10 a second" &&
    awk -v n="$(cat redraws)" -v s="$secs" "BEGIN { exit !(n >= 2 && n <= 10 * s + 2) }" &&
    : "the line is cleared before the summary, which ends the output" &&
    echo "img-sync: 2 downloaded, 0 unchanged, 0 failed, 50000 bytes in S s (RATE/s)" >expect &&
    tr "\r" "\n" <err | tail -n 1 | sed -n "s/^$(printf "\033")\[K//p" >last &&
    summary last >actual &&
    test_cmp expect actual
'

test_expect_success 'no progress line when stderr is not a terminal, or with -q' '
    fresh &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/img/a.jpg" >in.csv &&
    img-sync --dir out in.csv 2>err &&
    test_line_count = 1 err &&
    ! grep -q "$(printf "\r")" err &&
    img-sync -q --progress --dir out2 in.csv 2>err &&
    test_must_be_empty err
'

test_expect_success '--dir is made when missing, parents too; --db names the database' '
    fresh &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/img/a.jpg" >in.csv &&
    img-sync -q --dir a/b/c --db other.db in.csv &&
    cmp "$WWW/img/a.jpg" a/b/c/p1/a.jpg &&
    test ! -e daigou.db &&
    echo "p1|p1/a.jpg|ok" >expect &&
    test_sql other.db "SELECT product_id, path, status FROM images" >actual &&
    test_cmp expect actual
'

test_expect_success 'a --dir that is a file: an error, nothing fetched' '
    fresh &&
    : >afile &&
    printf "product_id,url\np1,%s\n" "$HTTPD_URL/img/a.jpg" >in.csv &&
    test_must_fail img-sync --dir afile in.csv 2>err &&
    grep "^img-sync: .*${SQ}afile${SQ}" err &&
    requests >actual &&
    test_must_be_empty actual
'

test_done
