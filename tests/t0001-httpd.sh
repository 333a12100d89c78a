#!/bin/sh
# t0001-httpd: the local test HTTP server (tests/httpd.py) that the tool
# tests use: files, conditional GET, scripted faults, the request log.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# http_req METHOD PATH [NAME:VALUE...]: one request to the test server with
# http.client (body from stdin for POST). Writes the files "status",
# "headers" (as received, "Name: value"), "body" and "elapsed" (seconds).
# Exit 0 when the whole body arrived, 3 on an incomplete read.
HTTP_CLIENT='
import http.client, os, sys, time
method, path = sys.argv[1], sys.argv[2]
hdrs = dict(h.split(":", 1) for h in sys.argv[3:])
body = sys.stdin.buffer.read() if method == "POST" else None
start = time.monotonic()
conn = http.client.HTTPConnection("127.0.0.1", int(os.environ["HTTPD_PORT"]),
                                  timeout=10)
conn.request(method, path, body, {k: v.strip() for k, v in hdrs.items()})
resp = conn.getresponse()
rc = 0
try:
    data = resp.read()
except http.client.IncompleteRead as e:
    data, rc = e.partial, 3
with open("status", "w") as f:
    f.write("%d\n" % resp.status)
with open("headers", "w") as f:
    f.writelines("%s: %s\n" % h for h in resp.getheaders())
with open("body", "wb") as f:
    f.write(data)
with open("elapsed", "w") as f:
    f.write("%.3f\n" % (time.monotonic() - start))
sys.exit(rc)
'
http_req() {
    "$PYTHON3" -S -c "$HTTP_CLIENT" "$@"
}

# header NAME: the value of header NAME in "headers", one line per copy.
header() {
    sed -n "s/^$1: //p" headers
}

# set_script: send the script on stdin to POST /_ctl/script.
set_script() {
    http_req POST /_ctl/script && echo 200 >ctl.expect &&
        test_cmp ctl.expect status
}

# log_summary FILE: one line per logged request: method, path, status,
# bytes, then "cut" and the logged request headers when there are any.
LOG_SUMMARY='
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    words = [e["method"], e["path"], str(e["status"]), str(e["bytes"])]
    words += ["cut"] if e.get("cut") else []
    words += ["%s=%s" % h for h in sorted(e["headers"].items())
              if h[0] != "Accept-Encoding"]  # http.client always sends it
    print(" ".join(words))
'
log_summary() {
    "$PYTHON3" -S -c "$LOG_SUMMARY" "$1"
}

# The served tree, and a script given at start-up.
WWW=$TRASH/www
mkdir "$WWW" "$WWW/sub"
printf 'hello world\n' >"$WWW/hello.txt"
touch -t 202401020304.05 "$WWW/hello.txt"
printf 'abcdefghijklmnopqrstuvwxyz' >"$WWW/sub/alpha.xml"
cat >"$TRASH/start-script.json" <<\EOF
{"/flaky.txt": [{"status": 500}, {"file": "hello.txt"}]}
EOF
if ! test_start_httpd "$WWW" --script "$TRASH/start-script.json"; then
    echo "Bail out! cannot start tests/httpd.py"
    exit 1
fi

test_expect_success 'a file is served whole with its type and length' '
    http_req GET /hello.txt &&
    echo 200 >expect && test_cmp expect status &&
    printf "hello world\n" >expect && test_cmp expect body &&
    echo text/plain >expect && header Content-Type >actual &&
    test_cmp expect actual &&
    echo 12 >expect && header Content-Length >actual &&
    test_cmp expect actual
'

test_expect_success 'a missing file is a 404' '
    http_req GET /no-such-file.txt &&
    echo 404 >expect && test_cmp expect status &&
    http_req GET /sub &&
    test_cmp expect status &&
    http_req GET /../t0001-httpd.sh &&
    test_cmp expect status
'

test_expect_success 'a file has a strong content ETag and Last-Modified' '
    http_req GET /hello.txt &&
    echo "\"a948904f2f0f479b\"" >expect && header ETag >actual &&
    test_cmp expect actual &&
    echo "Tue, 02 Jan 2024 03:04:05 GMT" >expect &&
    header Last-Modified >actual &&
    test_cmp expect actual
'

test_expect_success 'If-None-Match with the ETag gives 304, another 200' '
    http_req GET /hello.txt "If-None-Match: \"a948904f2f0f479b\"" &&
    echo 304 >expect && test_cmp expect status &&
    test ! -s body &&
    echo "\"a948904f2f0f479b\"" >expect && header ETag >actual &&
    test_cmp expect actual &&
    http_req GET /hello.txt "If-None-Match: \"0000000000000000\"" &&
    echo 200 >expect && test_cmp expect status &&
    printf "hello world\n" >expect && test_cmp expect body
'

test_expect_success 'If-Modified-Since: 304 unless older than the file' '
    http_req GET /hello.txt \
        "If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT" &&
    echo 304 >expect && test_cmp expect status &&
    http_req GET /hello.txt \
        "If-Modified-Since: Tue, 02 Jan 2024 03:04:04 GMT" &&
    echo 200 >expect && test_cmp expect status
'

test_expect_success 'HEAD sends the headers only' '
    http_req HEAD /hello.txt &&
    echo 200 >expect && test_cmp expect status &&
    echo 12 >expect && header Content-Length >actual &&
    test_cmp expect actual &&
    test ! -s body
'

test_expect_success 'the --script file: a 500, then the scripted file' '
    http_req GET /flaky.txt &&
    echo 500 >expect && test_cmp expect status &&
    echo "500 Internal Server Error" >expect && test_cmp expect body &&
    http_req GET /flaky.txt &&
    echo 200 >expect && test_cmp expect status &&
    printf "hello world\n" >expect && test_cmp expect body &&
    http_req GET /flaky.txt &&
    echo 404 >expect && test_cmp expect status
'

test_expect_success '429 and 503 carry Retry-After in seconds or as a date' '
    set_script <<\EOF &&
{"/hello.txt": [{"status": 429, "retry_after": 7},
                {"status": 503,
                 "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}]}
EOF
    http_req GET /hello.txt &&
    echo 429 >expect && test_cmp expect status &&
    echo 7 >expect && header Retry-After >actual &&
    test_cmp expect actual &&
    http_req GET /hello.txt &&
    echo 503 >expect && test_cmp expect status &&
    echo "Wed, 21 Oct 2015 07:28:00 GMT" >expect &&
    header Retry-After >actual &&
    test_cmp expect actual &&
    http_req GET /hello.txt &&
    echo 200 >expect && test_cmp expect status
'

test_expect_success 'a chunked body arrives whole, without Content-Length' '
    set_script <<\EOF &&
{"/sub/alpha.xml": {"chunked": true, "chunk_size": 3}}
EOF
    http_req GET /sub/alpha.xml &&
    echo chunked >expect && header Transfer-Encoding >actual &&
    test_cmp expect actual &&
    header Content-Length >actual &&
    test ! -s actual &&
    printf abcdefghijklmnopqrstuvwxyz >expect && test_cmp expect body
'

test_expect_success 'a cut connection is an incomplete read' '
    set_script <<\EOF &&
{"/sub/alpha.xml": {"cut_after": 5}}
EOF
    test_expect_code 3 http_req GET /sub/alpha.xml &&
    echo 26 >expect && header Content-Length >actual &&
    test_cmp expect actual &&
    printf abcde >expect && test_cmp expect body
'

test_expect_success 'redirects carry Location, any scheme' '
    set_script <<\EOF &&
{"/old": [{"status": 301, "location": "ftp://example.invalid/a.jpg"},
          {"location": "file:///etc/passwd"}]}
EOF
    http_req GET /old &&
    echo 301 >expect && test_cmp expect status &&
    echo ftp://example.invalid/a.jpg >expect && header Location >actual &&
    test_cmp expect actual &&
    http_req GET /old &&
    echo 302 >expect && test_cmp expect status &&
    echo file:///etc/passwd >expect && header Location >actual &&
    test_cmp expect actual
'

test_expect_success 'a wrong Content-Type, a generated body, a delay' '
    set_script <<\EOF &&
{"/sub/alpha.xml": {"content_type": "text/html", "delay": 0.3},
 "/big.jpg": {"size": 100000, "rate": 500000}}
EOF
    http_req GET /sub/alpha.xml &&
    echo text/html >expect && header Content-Type >actual &&
    test_cmp expect actual &&
    awk "BEGIN { exit !($(cat elapsed) >= 0.3) }" &&
    http_req GET /big.jpg &&
    echo 200 >expect && test_cmp expect status &&
    echo 100000 >expect && wc -c <body >actual &&
    test_cmp expect actual &&
    awk "BEGIN { exit !($(cat elapsed) >= 0.15) }"
'

test_expect_success 'a bad script is refused with its reason' '
    printf "{\"/a\": {\"stauts\": 500}}" >bad.json &&
    http_req POST /_ctl/script <bad.json &&
    echo 400 >expect && test_cmp expect status &&
    echo "bad script: '\''/a'\'': unknown key '\''stauts'\''" >expect &&
    test_cmp expect body
'

test_expect_success 'reset forgets the script; the log records requests' '
    set_script <<\EOF &&
{"/hello.txt": {"status": 500, "forever": true}}
EOF
    http_req GET /hello.txt && http_req GET /hello.txt &&
    echo 500 >expect && test_cmp expect status &&
    http_req POST /_ctl/reset </dev/null &&
    http_req GET /hello.txt &&
    echo 200 >expect && test_cmp expect status &&
    http_req GET "/hello.txt?x=1" "If-None-Match: \"a948904f2f0f479b\"" \
        "User-Agent: t0001" &&
    set_script <<\EOF &&
{"/sub/alpha.xml": {"cut_after": 2}}
EOF
    test_expect_code 3 http_req GET /sub/alpha.xml &&
    http_req HEAD /nothing &&
    http_req GET /_ctl/log &&
    cp body log &&
    cat >expect <<\EOF &&
GET /hello.txt 200 12
GET /hello.txt?x=1 304 0 If-None-Match="a948904f2f0f479b" User-Agent=t0001
GET /sub/alpha.xml 200 2 cut
HEAD /nothing 404 0
EOF
    log_summary log >actual &&
    test_cmp expect actual &&
    test_cmp log "$TRASH/httpd.log"
'

test_expect_success 'the server exits 0 on SIGTERM and says nothing' '
    "$PYTHON3" "$top_srcdir/tests/httpd.py" --root . --port-file port \
        --log log >out 2>&1 &
    pid=$! &&
    i=0 &&
    while ! test -s port && test $i -lt 100; do
        sleep 0.1 && i=$((i + 1))
    done &&
    kill -TERM $pid &&
    wait $pid &&
    test ! -s out &&
    test ! -s "$TRASH/httpd.out"
'

test_done
