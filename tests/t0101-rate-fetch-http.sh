#!/bin/sh
# t0101-rate-fetch-http: rate-fetch over HTTP against tests/httpd.py: the
# ECB feeds, conditional GET, --force, retries with backoff and
# Retry-After, timeouts, cut connections, size caps, redirects, 4xx,
# content types, Frankfurter and a Fixer-shaped API with its key.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# libcurl would send the requests to 127.0.0.1 through a proxy.
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
ECB=$FIXTURES/ecb
# Retries in milliseconds, not seconds.
DAIGOU_RETRY_BASE_MS=10
DAIGOU_RETRY_MAX_MS=2000
export DAIGOU_RETRY_BASE_MS DAIGOU_RETRY_MAX_MS
export DAIGOU_NOW=2026-04-13T16:10:02Z

# httpd_ctl reset|script|requests|gaps: a control request to the test
# server, in one python3 process. "script" sends the script on stdin;
# "requests" prints one line per logged request: method, path, status,
# "cut", and the validators the request carried; "gaps" the seconds
# between consecutive requests, one a line.
HTTPD_CTL='
import json, os, sys, urllib.request
what = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def ctl(path, data=None):
    req = urllib.request.Request(os.environ["HTTPD_URL"] + "/_ctl/" + path,
                                 data=data)
    with opener.open(req, timeout=30) as r:
        return r.read()
if what == "reset":
    ctl("reset", b"")
elif what == "script":
    ctl("script", sys.stdin.buffer.read())
else:
    log = [json.loads(line) for line in ctl("log").splitlines()]
    for e in log if what == "requests" else ():
        words = [e["method"], e["path"], str(e["status"])]
        words += ["cut"] if e.get("cut") else []
        words += ["%s=%s" % (h, e["headers"][h]) for h in
                  ("If-None-Match", "If-Modified-Since") if h in e["headers"]]
        print(" ".join(words))
    for a, b in zip(log, log[1:]) if what == "gaps" else ():
        print("%.3f" % (b["time"] - a["time"]))
'
httpd_ctl() {
    "$PYTHON3" -S -c "$HTTPD_CTL" "$@"
}

# set_script: the script on stdin goes to the server.
set_script() {
    httpd_ctl script
}

requests() {
    httpd_ctl requests
}

gaps() {
    httpd_ctl gaps
}

# etag FILE: the ETag the server sends for FILE.
etag() {
    printf '"%s"\n' "$(sha256sum <"$1" | cut -c1-16)"
}

# count [WHERE]: the number of stored quotes.
count() {
    test_sql daigou.db "SELECT count(*) FROM rates ${1:+WHERE $1}"
}

# fresh: a new test: no script, an empty log.
fresh() {
    httpd_ctl reset
}

# The served tree: the ECB files, the feeds made from the history, and
# what Frankfurter and a Fixer-shaped API answer.
WWW=$TRASH/www
mkdir "$WWW"
cp "$ECB"/* "$WWW"/
"$PYTHON3" "$top_srcdir/tests/gen-ecb-xml.py" --days 90 \
    -o "$WWW/eurofxref-hist-90d.xml" "$ECB/eurofxref-hist.csv"
"$PYTHON3" "$top_srcdir/tests/gen-ecb-xml.py" --from 2025-01-01 \
    -o "$WWW/eurofxref-hist.xml" "$ECB/eurofxref-hist.csv"
cat >"$WWW/latest" <<\EOF
{"amount": 1.0, "base": "EUR", "date": "2026-04-13",
 "rates": {"CNY": 7.9827, "GBP": 0.87058, "JPY": 186.75, "USD": 1.1684}}
EOF
cat >"$WWW/latest-usd" <<\EOF
{"amount": 1.0, "base": "USD", "date": "2026-04-13",
 "rates": {"EUR": 0.85587, "JPY": 159.83}}
EOF
cat >"$WWW/2026-04-10" <<\EOF
{"amount": 1.0, "base": "EUR", "date": "2026-04-10",
 "rates": {"JPY": 186.43, "USD": 1.1711}}
EOF
cat >"$WWW/2026-04-09..2026-04-13" <<\EOF
{"amount": 1.0, "base": "EUR", "start_date": "2026-04-09",
 "end_date": "2026-04-13",
 "rates": {"2026-04-09": {"JPY": 186.2, "USD": 1.1691},
           "2026-04-10": {"JPY": 186.43, "USD": 1.1711},
           "2026-04-13": {"JPY": 186.75, "USD": 1.1684}}}
EOF
cat >"$WWW/latest.json" <<\EOF
{"success": true, "timestamp": 1776096000, "base": "EUR",
 "date": "2026-04-13", "rates": {"USD": 1.1684, "JPY": 186.75}}
EOF
cat >"$WWW/maintenance.html" <<\EOF
<!DOCTYPE html>
<html><head><title>Maintenance</title></head>
<body><h1>Back soon</h1></body></html>
EOF
touch -t 202604131600.00 "$WWW"/*
# shellcheck disable=SC2034 # used inside the test bodies
DAILY=eurofxref-daily-2022-07-08.xml
if ! test_start_httpd "$WWW"; then
    echo "Bail out! cannot start tests/httpd.py"
    exit 1
fi

test_expect_success 'the daily XML over HTTP, with its validators kept' '
    fresh &&
    rate-fetch --provider ecb --url "$HTTPD_URL/$DAILY" >out 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 31 new" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    echo "ecb|EUR|PLN|4.7630|2022-07-08|2026-04-13T16:10:02Z|$HTTPD_URL/$DAILY" >expect &&
    test_sql daigou.db "SELECT provider, base, quote, rate, as_of,
        fetched_at, source FROM rates WHERE quote = ${SQ}PLN${SQ}" >actual &&
    test_cmp expect actual &&
    echo 31 >expect &&
    count >actual &&
    test_cmp expect actual &&
    echo "$HTTPD_URL/$DAILY|$(etag "$ECB/$DAILY")|Mon, 13 Apr 2026 16:00:00 GMT|200|2026-04-13T16:10:02Z|2026-04-13T16:10:02Z" >expect &&
    test_sql daigou.db "SELECT * FROM fetch_state" >actual &&
    test_cmp expect actual &&
    echo "GET /$DAILY 200" >expect &&
    requests >actual &&
    test_cmp expect actual
'

test_expect_success 'an unchanged feed: If-None-Match, a 304, nothing stored' '
    fresh &&
    rate-fetch -q --url "$HTTPD_URL/$DAILY" &&
    test_sql daigou.db "SELECT * FROM rates" >before &&
    DAIGOU_NOW=2026-04-13T16:20:00Z rate-fetch --url "$HTTPD_URL/$DAILY" >out 2>err &&
    test_must_be_empty err &&
    test_must_be_empty out &&
    test_sql daigou.db "SELECT * FROM rates" >after &&
    test_cmp before after &&
    tag=$(etag "$ECB/$DAILY") &&
    echo "$HTTPD_URL/$DAILY|$tag|Mon, 13 Apr 2026 16:00:00 GMT|304|2026-04-13T16:20:00Z|2026-04-13T16:10:02Z" >expect &&
    test_sql daigou.db "SELECT * FROM fetch_state" >actual &&
    test_cmp expect actual &&
    rate-fetch -v --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: ${SQ}$HTTPD_URL/$DAILY${SQ} not modified" >expect &&
    test_cmp expect err &&
    cat >expect <<-EOF &&
	GET /$DAILY 200
	GET /$DAILY 304 If-None-Match=$tag If-Modified-Since=Mon, 13 Apr 2026 16:00:00 GMT
	GET /$DAILY 304 If-None-Match=$tag If-Modified-Since=Mon, 13 Apr 2026 16:00:00 GMT
	EOF
    requests >actual &&
    test_cmp expect actual
'

test_expect_success '--force fetches without the validators' '
    fresh &&
    rate-fetch -q --url "$HTTPD_URL/$DAILY" &&
    rate-fetch --force --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 0 new" >expect &&
    test_cmp expect err &&
    printf "GET /%s 200\nGET /%s 200\n" "$DAILY" "$DAILY" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    echo 200 >expect &&
    test_sql daigou.db "SELECT last_status FROM fetch_state" >actual &&
    test_cmp expect actual
'

test_expect_success 'a changed feed: a 200 for the old ETag, new validators kept' '
    fresh &&
    rate-fetch -q --url "$HTTPD_URL/$DAILY" &&
    set_script <<-EOF &&
	{"/$DAILY": {"file": "eurofxref-daily-2026-04-13.csv", "conditional": false}}
	EOF
    DAIGOU_NOW=2026-04-14T16:10:00Z test_expect_code 1 rate-fetch --url "$HTTPD_URL/$DAILY" 2>err &&
    tail -n 1 err >actual &&
    echo "rate-fetch: ecb 2026-04-13: 29 quotes, 29 new" >expect &&
    test_cmp expect actual &&
    echo "$(etag "$ECB/eurofxref-daily-2026-04-13.csv")|200|2026-04-14T16:10:00Z" >expect &&
    test_sql daigou.db "SELECT etag, last_status, changed_at FROM fetch_state" >actual &&
    test_cmp expect actual
'

test_expect_success 'ecb-90d and ecb-hist with --url, stored as ecb' '
    fresh &&
    test_expect_code 1 rate-fetch --provider ecb-90d \
        --url "$HTTPD_URL/eurofxref-hist-90d.xml" 2>err &&
    cat >expect <<-\EOF &&
	rate-fetch: warning: rate jump EUR/HUF: ecb moved more than 2 % from 377.2 on 2026-04-10 to 366.9 on 2026-04-13
	rate-fetch: ecb 2025-12-02..2026-04-13: 90 days, 2630 quotes, 2630 new
	EOF
    test_cmp expect err &&
    rate-fetch --provider ecb-hist --url "$HTTPD_URL/eurofxref-hist.xml" 2>err &&
    n=$(grep -c "currency=" "$WWW/eurofxref-hist.xml") &&
    days=$(grep -c "time=" "$WWW/eurofxref-hist.xml") &&
    echo "rate-fetch: ecb 2025-01-02..2026-04-13: $days days, $n quotes, $((n - 2630)) new" >expect &&
    test_cmp expect err &&
    echo "ecb|$n" >expect &&
    test_sql daigou.db "SELECT provider, count(*) FROM rates
        GROUP BY provider" >actual &&
    test_cmp expect actual &&
    printf "GET /eurofxref-hist-90d.xml 200\nGET /eurofxref-hist.xml 200\n" >expect &&
    requests >actual &&
    test_cmp expect actual
'

test_expect_success 'a 500, then success: retried once' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"status": 500}}
	EOF
    rate-fetch --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 31 new" >expect &&
    test_cmp expect err &&
    printf "GET /%s 500\nGET /%s 200\n" "$DAILY" "$DAILY" >expect &&
    requests >actual &&
    test_cmp expect actual
'

test_expect_success '-v reports the retry' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"status": 502}}
	EOF
    rate-fetch -v --url "$HTTPD_URL/$DAILY" 2>err &&
    sed "s/ in [0-9]* ms / in N ms /" err >actual &&
    cat >expect <<-EOF &&
	rate-fetch: retrying in N ms (attempt 2 of 4): http status 502
	rate-fetch: ecb 2022-07-08: 31 quotes, 31 new
	EOF
    test_cmp expect actual
'

test_expect_success 'a 429 with Retry-After: 1 waits a second' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"status": 429, "retry_after": 1}}
	EOF
    rate-fetch -q --url "$HTTPD_URL/$DAILY" &&
    printf "GET /%s 429\nGET /%s 200\n" "$DAILY" "$DAILY" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    gaps >gap &&
    test_line_count = 1 gap &&
    awk "{ exit !(\$1 >= 1.0) }" gap
'

test_expect_success 'DAIGOU_RETRY_MAX_MS caps a long Retry-After' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"status": 429, "retry_after": 3600}}
	EOF
    DAIGOU_RETRY_MAX_MS=300 rate-fetch -q --url "$HTTPD_URL/$DAILY" &&
    gaps >gap &&
    awk "{ exit !(\$1 >= 0.25 && \$1 < 3) }" gap &&
    echo 31 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'a persistent 503: 75 after 4 attempts, nothing stored' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"status": 503, "forever": true}}
	EOF
    test_expect_code 75 rate-fetch --url "$HTTPD_URL/$DAILY?lang=en" >out 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/$DAILY${SQ}: http status 503 (after 4 attempts): try again later" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    for i in 1 2 3 4; do
        echo "GET /$DAILY?lang=en 503" || return 1
    done >expect &&
    requests >actual &&
    test_cmp expect actual &&
    printf "0\n0\n" >expect &&
    test_sql daigou.db "SELECT count(*) FROM rates;
        SELECT count(*) FROM fetch_state" >actual &&
    test_cmp expect actual
'

test_expect_success '--retries 0 tries once, --retries 2 three times' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"status": 503, "forever": true}}
	EOF
    test_expect_code 75 rate-fetch --retries 0 --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/$DAILY${SQ}: http status 503 (after 1 attempt): try again later" >expect &&
    test_cmp expect err &&
    echo "GET /$DAILY 503" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    test_expect_code 75 rate-fetch --retries 2 --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/$DAILY${SQ}: http status 503 (after 3 attempts): try again later" >expect &&
    test_cmp expect err &&
    printf "GET /%s 503\n" "$DAILY" "$DAILY" "$DAILY" "$DAILY" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    test_expect_code 64 rate-fetch --retries 21 --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: --retries needs a whole number from 0 to 20, not ${SQ}21${SQ}" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual
'

test_expect_success 'a response slower than --timeout: 75' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"delay": 2.5, "forever": true}}
	EOF
    test_expect_code 75 rate-fetch --timeout 1 --retries 0 \
        --url "$HTTPD_URL/$DAILY" 2>err &&
    sed "s/after [0-9]* milliseconds/after N milliseconds/" err >actual &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/$DAILY${SQ}: timeout was reached: operation timed out after N milliseconds with 0 bytes received (after 1 attempt): try again later" >expect &&
    test_cmp expect actual &&
    test_sql daigou.db "SELECT count(*) FROM rates" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'a cut connection: retried, then 75' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"cut_after": 100, "forever": true}}
	EOF
    test_expect_code 75 rate-fetch --retries 1 --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/$DAILY${SQ}: transferred a partial file: transfer closed with 1527 bytes remaining to read (after 2 attempts): try again later" >expect &&
    test_cmp expect err &&
    printf "GET /%s 200 cut\n" "$DAILY" "$DAILY" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    echo 0 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'a cut connection, then the whole body: stored' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"cut_after": 800}}
	EOF
    rate-fetch -q --url "$HTTPD_URL/$DAILY" &&
    printf "GET /%s 200 cut\nGET /%s 200\n" "$DAILY" "$DAILY" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    echo 31 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'a body over --max-size: 69, no retry, nothing stored' '
    fresh &&
    test_expect_code 69 rate-fetch --max-size 1k \
        --url "$HTTPD_URL/eurofxref-hist-90d.xml" 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/eurofxref-hist-90d.xml${SQ}: response larger than 1024 bytes" >expect &&
    test_cmp expect err &&
    set_script <<-\EOF &&
	{"/eurofxref-hist-90d.xml": {"chunked": true, "chunk_size": 512}}
	EOF
    test_expect_code 69 rate-fetch --max-size 1k \
        --url "$HTTPD_URL/eurofxref-hist-90d.xml" 2>err &&
    test_cmp expect err &&
    requests >log &&
    test_line_count = 2 log &&
    printf "0\n0\n" >expect &&
    test_sql daigou.db "SELECT count(*) FROM rates;
        SELECT count(*) FROM fetch_state" >actual &&
    test_cmp expect actual &&
    rate-fetch -q --max-size 2k --url "$HTTPD_URL/$DAILY" &&
    echo 31 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'a redirect is followed over http, refused to ftp:// or file://' '
    fresh &&
    set_script <<-EOF &&
	{"/old.xml": [{"status": 301, "location": "$HTTPD_URL/$DAILY"},
	              {"location": "ftp://127.0.0.1/$DAILY"},
	              {"status": 307, "location": "file:///etc/passwd"}]}
	EOF
    rate-fetch -q --url "$HTTPD_URL/old.xml" &&
    echo "31|$HTTPD_URL/old.xml" >expect &&
    test_sql daigou.db "SELECT count(*), source FROM rates GROUP BY source" >actual &&
    test_cmp expect actual &&
    test_expect_code 69 rate-fetch --force --url "$HTTPD_URL/old.xml" 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/old.xml${SQ}: redirect to a protocol other than http or https refused" >expect &&
    test_cmp expect err &&
    test_expect_code 69 rate-fetch --force --url "$HTTPD_URL/old.xml" 2>err &&
    test_cmp expect err &&
    cat >expect <<-EOF &&
	GET /old.xml 301
	GET /$DAILY 200
	GET /old.xml 302
	GET /old.xml 307
	EOF
    requests >actual &&
    test_cmp expect actual
'

test_expect_success 'a 404: 69 at once, no retry' '
    fresh &&
    test_expect_code 69 rate-fetch --url "$HTTPD_URL/no-such.xml" >out 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/no-such.xml${SQ}: http status 404" >expect &&
    test_cmp expect err &&
    test_must_be_empty out &&
    echo "GET /no-such.xml 404" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    set_script <<-EOF &&
	{"/$DAILY": {"status": 403, "forever": true}}
	EOF
    test_expect_code 69 rate-fetch --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/$DAILY${SQ}: http status 403" >expect &&
    test_cmp expect err
'

test_expect_success 'a wrong Content-Type: the document is told by its content' '
    fresh &&
    set_script <<-EOF &&
	{"/$DAILY": {"content_type": "text/html; charset=iso-8859-1"}}
	EOF
    rate-fetch --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 31 new" >expect &&
    test_cmp expect err
'

test_expect_success 'an HTML page with a 200: 65, nothing stored, no validators' '
    fresh &&
    set_script <<-\EOF &&
	{"/eurofxref-daily.xml": {"file": "maintenance.html"}}
	EOF
    test_expect_code 65 rate-fetch --url "$HTTPD_URL/eurofxref-daily.xml" 2>err &&
    echo "rate-fetch: $HTTPD_URL/eurofxref-daily.xml:1: a DOCTYPE is not allowed in a rate feed" >expect &&
    test_cmp expect err &&
    set_script <<-\EOF &&
	{"/eurofxref-daily.xml": {"body": "<html><body><p>Sorry</p></body></html>\n", "content_type": "text/html"}}
	EOF
    test_expect_code 65 rate-fetch --url "$HTTPD_URL/eurofxref-daily.xml" 2>err &&
    echo "rate-fetch: $HTTPD_URL/eurofxref-daily.xml: no quotes in the document" >expect &&
    test_cmp expect err &&
    printf "0\n0\n" >expect &&
    test_sql daigou.db "SELECT count(*) FROM rates;
        SELECT count(*) FROM fetch_state" >actual &&
    test_cmp expect actual
'

test_expect_success 'frankfurter: the latest rates, stored as frankfurter' '
    fresh &&
    rate-fetch --provider frankfurter --url "$HTTPD_URL/" 2>err &&
    echo "rate-fetch: frankfurter 2026-04-13: 4 quotes, 4 new" >expect &&
    test_cmp expect err &&
    cat >expect <<-EOF &&
	frankfurter|EUR|CNY|7.9827|2026-04-13|$HTTPD_URL/latest
	frankfurter|EUR|GBP|0.87058|2026-04-13|$HTTPD_URL/latest
	frankfurter|EUR|JPY|186.75|2026-04-13|$HTTPD_URL/latest
	frankfurter|EUR|USD|1.1684|2026-04-13|$HTTPD_URL/latest
	EOF
    test_sql daigou.db "SELECT provider, base, quote, rate, as_of, source
        FROM rates ORDER BY quote" >actual &&
    test_cmp expect actual &&
    echo "GET /latest 200" >expect &&
    requests >actual &&
    test_cmp expect actual
'

test_expect_success 'frankfurter: --date and --from/--to are paths' '
    fresh &&
    rate-fetch --provider frankfurter --url "$HTTPD_URL" --date 2026-04-10 2>err &&
    echo "rate-fetch: frankfurter 2026-04-10: 2 quotes, 2 new" >expect &&
    test_cmp expect err &&
    rate-fetch --provider frankfurter --url "$HTTPD_URL" \
        --from 2026-04-09 --to 2026-04-13 2>err &&
    echo "rate-fetch: frankfurter 2026-04-09..2026-04-13: 3 days, 6 quotes, 4 new" >expect &&
    test_cmp expect err &&
    printf "GET /2026-04-10 200\nGET /2026-04-09..2026-04-13 200\n" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    echo "frankfurter|6" >expect &&
    test_sql daigou.db "SELECT provider, count(*) FROM rates GROUP BY provider" >actual &&
    test_cmp expect actual
'

test_expect_success 'frankfurter: --base and --symbols go in the query' '
    fresh &&
    set_script <<-\EOF &&
	{"/latest?base=USD&symbols=EUR,JPY": {"file": "latest-usd"}}
	EOF
    rate-fetch --provider frankfurter --url "$HTTPD_URL" \
        --base USD --symbols EUR,JPY 2>err &&
    echo "rate-fetch: frankfurter 2026-04-13: 2 quotes, 2 new" >expect &&
    test_cmp expect err &&
    printf "USD|EUR|0.85587\nUSD|JPY|159.83\n" >expect &&
    test_sql daigou.db "SELECT base, quote, rate FROM rates ORDER BY quote" >actual &&
    test_cmp expect actual &&
    echo "GET /latest?base=USD&symbols=EUR,JPY 200" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    echo "$HTTPD_URL/latest?base=USD&symbols=EUR,JPY|200" >expect &&
    test_sql daigou.db "SELECT url, last_status FROM fetch_state" >actual &&
    test_cmp expect actual
'

test_expect_success 'frankfurter: validators of one query are not sent with another' '
    fresh &&
    rate-fetch -q --provider frankfurter --url "$HTTPD_URL" --symbols USD &&
    rate-fetch --provider frankfurter --url "$HTTPD_URL" 2>err &&
    echo "rate-fetch: frankfurter 2026-04-13: 4 quotes, 3 new" >expect &&
    test_cmp expect err &&
    rate-fetch --provider frankfurter --url "$HTTPD_URL" 2>err &&
    test_must_be_empty err &&
    tag=$(etag "$WWW/latest") &&
    cat >expect <<-EOF &&
	GET /latest?symbols=USD 200
	GET /latest 200
	GET /latest 304 If-None-Match=$tag If-Modified-Since=Mon, 13 Apr 2026 16:00:00 GMT
	EOF
    requests >actual &&
    test_cmp expect actual
'

test_expect_success 'ecb --symbols does not keep the whole feed'"'"'s validators' '
    fresh &&
    rate-fetch --symbols USD,JPY --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 2 quotes, 2 new" >expect &&
    test_cmp expect err &&
    rate-fetch --url "$HTTPD_URL/$DAILY" 2>err &&
    echo "rate-fetch: ecb 2022-07-08: 31 quotes, 29 new" >expect &&
    test_cmp expect err &&
    rate-fetch --symbols USD --url "$HTTPD_URL/$DAILY" 2>err &&
    test_must_be_empty err &&
    rate-fetch --url "$HTTPD_URL/$DAILY" 2>err &&
    test_must_be_empty err &&
    tag=$(etag "$ECB/$DAILY") &&
    cat >expect <<-EOF &&
	GET /$DAILY 200
	GET /$DAILY 200
	GET /$DAILY 304 If-None-Match=$tag If-Modified-Since=Mon, 13 Apr 2026 16:00:00 GMT
	GET /$DAILY 304 If-None-Match=$tag If-Modified-Since=Mon, 13 Apr 2026 16:00:00 GMT
	EOF
    requests >actual &&
    test_cmp expect actual &&
    echo 31 >expect &&
    count >actual &&
    test_cmp expect actual
'

test_expect_success 'json: the key from DAIGOU_RATE_KEY, never stored or shown' '
    fresh &&
    DAIGOU_RATE_KEY="k3y/with+odd chars" rate-fetch --provider json \
        --url "$HTTPD_URL/latest.json?access_key={key}" --symbols USD,JPY 2>err &&
    echo "rate-fetch: json 2026-04-13: 2 quotes, 2 new" >expect &&
    test_cmp expect err &&
    echo "GET /latest.json?access_key=k3y%2Fwith%2Bodd%20chars&symbols=USD,JPY 200" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    printf "json|EUR|JPY|186.75|%s\njson|EUR|USD|1.1684|%s\n" \
        "$HTTPD_URL/latest.json?symbols=USD,JPY" \
        "$HTTPD_URL/latest.json?symbols=USD,JPY" >expect &&
    test_sql daigou.db "SELECT provider, base, quote, rate, source
        FROM rates ORDER BY quote" >actual &&
    test_cmp expect actual &&
    test_sql daigou.db .dump >dump &&
    ! grep -i "k3y" dump &&
    grep -F "$HTTPD_URL/latest.json?symbols=USD,JPY" dump
'

test_expect_success 'json: -v retries never show the key' '
    fresh &&
    set_script <<-EOF &&
	{"/latest.json": [{"status": 502}]}
	EOF
    DAIGOU_RATE_KEY=k3ysecret rate-fetch -v --provider json \
        --url "$HTTPD_URL/latest.json?access_key={key}" --symbols USD,JPY 2>err &&
    sed "s/ in [0-9]* ms / in N ms /" err >actual &&
    cat >expect <<-EOF &&
	rate-fetch: retrying in N ms (attempt 2 of 4): http status 502
	rate-fetch: json 2026-04-13: 2 quotes, 2 new
	EOF
    test_cmp expect actual
'

test_expect_success 'json: the key from --secret-file, its first line' '
    fresh &&
    printf "s3cret\nsecond line\n" >key &&
    rate-fetch -q --provider json --secret-file key \
        --url "$HTTPD_URL/latest.json?access_key={key}" --base EUR &&
    echo "GET /latest.json?access_key=s3cret&base=EUR 200" >expect &&
    requests >actual &&
    test_cmp expect actual &&
    set_script <<-EOF &&
	{"/latest.json": {"status": 401, "forever": true}}
	EOF
    test_expect_code 69 rate-fetch --provider json --secret-file key \
        --url "$HTTPD_URL/latest.json?access_key={key}" 2>err &&
    echo "rate-fetch: cannot fetch ${SQ}$HTTPD_URL/latest.json${SQ}: http status 401" >expect &&
    test_cmp expect err
'

test_expect_success 'json: {key} without a key is 64; a bad secret file 66 or 65' '
    fresh &&
    test_expect_code 64 rate-fetch --provider json \
        --url "$HTTPD_URL/latest.json?access_key={key}" 2>err &&
    echo "rate-fetch: the URL has a {key} but neither DAIGOU_RATE_KEY nor --secret-file is set" >expect &&
    test_cmp expect err &&
    test_expect_code 64 env DAIGOU_RATE_KEY= rate-fetch --provider json \
        --url "$HTTPD_URL/latest.json?access_key={key}" 2>err &&
    test_cmp expect err &&
    test_expect_code 66 rate-fetch --provider json --secret-file no-such-key \
        --url "$HTTPD_URL/latest.json?access_key={key}" 2>err &&
    echo "rate-fetch: cannot open ${SQ}no-such-key${SQ}: No such file or directory" >expect &&
    test_cmp expect err &&
    printf "\nkey\n" >empty-key &&
    test_expect_code 65 rate-fetch --provider json --secret-file empty-key \
        --url "$HTTPD_URL/latest.json?access_key={key}" 2>err &&
    echo "rate-fetch: secret file ${SQ}empty-key${SQ} is empty" >expect &&
    test_cmp expect err &&
    test_expect_code 64 rate-fetch --provider json 2>err &&
    echo "rate-fetch: --provider json needs --url" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    requests >actual &&
    test_must_be_empty actual
'

test_expect_success 'a JSON answer to an ECB fetch is refused' '
    fresh &&
    test_expect_code 65 rate-fetch --url "$HTTPD_URL/latest.json" 2>err &&
    echo "rate-fetch: $HTTPD_URL/latest.json: a JSON document is not an ECB feed: give --provider frankfurter or json: nothing stored" >expect &&
    test_cmp expect err &&
    printf "0\n0\n" >expect &&
    test_sql daigou.db "SELECT count(*) FROM rates;
        SELECT count(*) FROM fetch_state" >actual &&
    test_cmp expect actual
'

test_expect_success 'nothing listening: 75 after the retries' '
    fresh &&
    port=$("$PYTHON3" -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
    test_expect_code 75 rate-fetch --retries 1 \
        --url "http://127.0.0.1:$port/$DAILY" 2>err &&
    grep "^rate-fetch: cannot fetch ${SQ}http://127.0.0.1:$port/$DAILY${SQ}: .*connect.* (after 2 attempts): try again later\$" err &&
    test_line_count = 1 err
'

test_done
