#!/bin/sh
# t0156-img-sync-paths: nothing is ever written outside --dir: product ids
# that are not one safe path component are refused (file:line and the
# reason on stderr, the reason in images.last_error), names are sanitised
# (safe ones kept byte for byte), two urls of one product on one name get
# a hash suffix, symbolic links already in DIR are not followed.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"
# shellcheck source=/dev/null
. "$top_srcdir/tests/img-sync-lib.sh"

WWW=$TRASH/www
mkdir -p "$WWW/img"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
    mkimg "$WWW/img/t$i.jpg" jpeg $((1000 + i))
done
mkimg "$WWW/img/..%2fsecret.jpg" jpeg 999
serve_www "$WWW"
# shellcheck disable=SC2034 # used inside the test bodies
LONG=$(printf '%0300d' 0 | tr 0 x)

# row ID URL-PATH [NAME]: one JSON Lines row (ID and NAME as JSON text,
# escapes and all).
row() {
    printf '{"product_id": "%s", "url": "%s/%s"%s}\n' "$1" "$HTTPD_URL" "$2" \
        "${3+, \"name\": \"$3\"}"
}

test_expect_success 'unsafe product ids are refused: file:line, the reason, the table' '
    fresh &&
    mkdir work &&
    {
        row "../../etc/passwd" img/t1.jpg &&
        row "a/b" img/t2.jpg &&
        row ".hidden" img/t3.jpg &&
        row "p\u0000x" img/t4.jpg &&
        row "$LONG" img/t5.jpg &&
        row ".." img/t6.jpg &&
        row "/etc" img/t7.jpg &&
        row "good" img/t8.jpg
    } >in.jsonl &&
    (cd work && test_expect_code 1 img-sync --db ../daigou.db --dir out \
        ../in.jsonl >../out 2>../err) &&
    test_must_be_empty out &&
    for n in 1 2 3 4 5 6 7; do
        grep "^img-sync: \.\./in\.jsonl:$n: " err || return 1
    done &&
    echo "img-sync: 1 downloaded, 0 unchanged, 7 failed, 1008 bytes in S s (RATE/s)" >expect &&
    summary err >actual &&
    test_cmp expect actual &&
    test_line_count = 8 err &&
    tree work >actual &&
    cat >expect <<-\EOF &&
	d out
	d out/good
	f out/.img-sync.lock
	f out/good/t8.jpg 1008
	EOF
    test_cmp expect actual &&
    echo "GET /img/t8.jpg 200 1008" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    : "line 4 is not JSON: no url to keep a row for" &&
    test_sql daigou.db "SELECT substr(url, length(url) - 5), status,
        last_error IS NOT NULL AND last_error <> ${SQ}${SQ}, path IS NULL
        FROM images ORDER BY url" >actual &&
    cat >expect <<-\EOF &&
	t1.jpg|failed|1|1
	t2.jpg|failed|1|1
	t3.jpg|failed|1|1
	t5.jpg|failed|1|1
	t6.jpg|failed|1|1
	t7.jpg|failed|1|1
	t8.jpg|ok|0|0
	EOF
    test_cmp expect actual
'

test_expect_success 'the reasons name the product id, quoted' '
    for n in 1 2 3 5 6 7; do
        grep "^img-sync: \.\./in\.jsonl:$n: .*product" "$TRASH/t1/err" ||
            return 1
    done &&
    grep "^img-sync: \.\./in\.jsonl:1: .*${SQ}\.\./\.\./etc/passwd${SQ}" "$TRASH/t1/err" &&
    grep "^img-sync: \.\./in\.jsonl:2: .*${SQ}a/b${SQ}" "$TRASH/t1/err" &&
    ! grep -q "$LONG" "$TRASH/t1/err"
'

test_expect_success 'a NUL byte in a CSV product id or name never reaches a path' '
    fresh &&
    printf "product_id,url,name\np\000x,%s,\ngood,%s,n\000ul.jpg\n" \
        "$HTTPD_URL/img/t1.jpg" "$HTTPD_URL/img/t2.jpg" >in.csv &&
    test_expect_code 1 img-sync --dir out in.csv 2>err &&
    grep "^img-sync: in\.csv:2: .*product_id" err &&
    test ! -e out/p &&
    if test -e out/good; then
        tree out >actual &&
        printf "%s\n" "d good" "f .img-sync.lock" "f good/n_ul.jpg 1002" >expect &&
        test_cmp expect actual
    else
        grep "^img-sync: in\.csv:3: " err
    fi
'

test_expect_success 'a JSON \u0000 in a name never reaches a path' '
    fresh &&
    row "good" img/t11.jpg "n\u0000ul.jpg" >in.jsonl &&
    test_run_saved run img-sync --dir out in.jsonl &&
    if test -e out/good; then
        tree out >actual &&
        printf "%s\n" "d good" "f .img-sync.lock" "f good/n_ul.jpg 1011" >expect &&
        test_cmp expect actual
    else
        grep "^img-sync: in\.jsonl:1: " run.err &&
        grep -x 1 run.rc
    fi
'

test_expect_success 'unsafe names are sanitised inside the product directory' '
    fresh &&
    set_script <<-\EOF &&
	{"/img/..%2fsecret.jpg": {"file": "img/..%2fsecret.jpg"}}
	EOF
    mkdir work &&
    {
        row "good" img/t8.jpg "../../etc/passwd" &&
        row "good" img/t9.jpg "a/b.jpg" &&
        row "good" img/t10.jpg ".hidden.jpg" &&
        row "good" img/t12.jpg "$LONG.jpg" &&
        row "good" img/t13.jpg "Caf\u00e9 \u5546\u54c1 (1).jpg" &&
        row "good" "img/..%2fsecret.jpg" &&
        row "good" img/t14.jpg ""
    } >in.jsonl &&
    (cd work && img-sync -q --db ../daigou.db --dir out --report --json \
        ../in.jsonl >../report) &&
    tree work >actual &&
    printf "d out\nd out/good\nf out/.img-sync.lock\n" >expect &&
    printf "f out/good/%s\n" "_.._etc_passwd 1008" "a_b.jpg 1009" \
        "hidden.jpg 1010" \
        "$(printf "%0251d" 0 | tr 0 x).jpg 1012" \
        "Café 商品 (1).jpg 1013" "_secret.jpg 999" "t14.jpg 1014" >>expect &&
    sort expect >expect.sorted &&
    test_cmp expect.sorted actual &&
    report report path | sed -n "s|^good/||p" | sort >actual &&
    (cd work/out/good && ls -A) | sort >expect &&
    test_cmp expect actual
'

test_expect_success 'two urls of one product on one name: a hash suffix' '
    fresh &&
    {
        row "p" img/t1.jpg "same.jpg" &&
        row "p" img/t2.jpg "same.jpg"
    } >in.jsonl &&
    img-sync -q --dir out --report --json in.jsonl >report &&
    report report url path >rows &&
    test_line_count = 2 rows &&
    grep -c "|p/same\.jpg\$" rows >actual &&
    echo 1 >expect &&
    test_cmp expect actual &&
    other=$(grep -v "|p/same\.jpg\$" rows) &&
    url=${other%|*} &&
    h=$(printf "%s" "$url" | sha256sum | cut -c1-8) &&
    echo "$url|p/same-$h.jpg" >expect &&
    echo "$other" >actual &&
    test_cmp expect actual &&
    test -f out/p/same.jpg && test -f "out/p/same-$h.jpg" &&
    : "the suffix stays with its url on the next run" &&
    img-sync -q --dir out --report --json in.jsonl >report2 &&
    report report2 url path >rows2 &&
    test_cmp rows rows2
'

test_expect_success 'symbolic links already in DIR are not followed' '
    fresh &&
    mkdir outside out out/p3 &&
    mkimg outside/target.jpg png 500 &&
    ln -s ../outside out/p2 &&
    ln -s ../../outside/target.jpg out/p3/t3.jpg &&
    tree outside >outside.before &&
    sha outside/target.jpg >target.before &&
    {
        echo product_id,url &&
        echo "p2,$HTTPD_URL/img/t2.jpg" &&
        echo "p3,$HTTPD_URL/img/t3.jpg"
    } >in.csv &&
    test_run_saved run img-sync --dir out in.csv &&
    cat run.err &&
    tree outside >actual &&
    test_cmp outside.before actual &&
    sha outside/target.jpg >actual &&
    test_cmp target.before actual &&
    tmp_files out >actual &&
    tmp_files outside >>actual &&
    test_must_be_empty actual &&
    : "what p3/t3.jpg is now: the image in place of the link, or the link" &&
    if test -L out/p3/t3.jpg; then
        grep "^1$" run.rc
    else
        cmp "$WWW/img/t3.jpg" out/p3/t3.jpg
    fi
'

test_expect_success '--strict: an unsafe product id stops the run, 65' '
    fresh &&
    {
        row "good" img/t1.jpg &&
        row "a/b" img/t2.jpg &&
        row "good" img/t3.jpg
    } >in.jsonl &&
    test_expect_code 65 img-sync --strict --dir out in.jsonl 2>err &&
    grep "^img-sync: in\.jsonl:2: .*${SQ}a/b${SQ}" err &&
    test ! -e out/good/t3.jpg &&
    requests | grep t3.jpg >actual;
    test_must_be_empty actual
'

test_done
