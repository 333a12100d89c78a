#!/bin/sh
# t0001-httpd: the local test HTTP server (tests/httpd.py) that the tool
# tests use: files, conditional GET, scripted faults, the request log,
# the statistics (peaks of connections, bytes per second).
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

# stats [EXPR]: GET /_ctl/stats; with EXPR, a python3 expression over
# the statistics "s", printed.
STATS_EXPR='
import json, sys
s = json.load(open("body"))
print(eval(sys.argv[1]) if len(sys.argv) > 1 else json.dumps(s))
'
stats() {
    http_req GET /_ctl/stats && "$PYTHON3" -S -c "$STATS_EXPR" "$@"
}

test_expect_success 'stats: peaks of connections, requests and per Host' '
    http_req POST /_ctl/reset </dev/null &&
    set_script <<\EOF &&
{"/slow/*": {"delay": 0.6, "forever": true}}
EOF
    stats "s[\"connections\"][\"peak\"], s[\"requests\"][\"total\"], s[\"bytes\"], s[\"hosts\"], s[\"per_second\"]" >actual &&
    echo "(0, 0, 0, {}, [])" >expect &&
    test_cmp expect actual &&
    for i in 1 2 3; do
        mkdir c$i && (cd c$i && http_req GET /slow/$i) &
    done &&
    mkdir c4 && (cd c4 && http_req GET /slow/4 "Host: other:1") &&
    wait &&
    for i in 1 2 3 4; do
        echo 404 >expect && test_cmp expect c$i/status || return 1
    done &&
    stats "[s[k][n] for k in (\"connections\", \"requests\") for n in (\"now\", \"peak\", \"total\")]" >actual &&
    echo "[0, 4, 4, 0, 4, 4]" >expect &&
    test_cmp expect actual &&
    stats "sorted(s[\"hosts\"].items())" >actual &&
    echo "[(\"127.0.0.1:$HTTPD_PORT\", 3), (\"other:1\", 1)]" | tr "\"" "'\''" >expect &&
    test_cmp expect actual &&
    http_req POST /_ctl/stats </dev/null &&
    stats "s[\"connections\"][\"peak\"], s[\"requests\"][\"total\"], s[\"hosts\"]" >actual &&
    echo "(0, 0, {})" >expect &&
    test_cmp expect actual
'

test_expect_success 'stats: one connection counts once, however many requests' '
    http_req POST /_ctl/reset </dev/null &&
    "$PYTHON3" -S -c "
import http.client, os
c = http.client.HTTPConnection(\"127.0.0.1\", int(os.environ[\"HTTPD_PORT\"]))
for i in range(3):
    c.request(\"GET\", \"/hello.txt\")
    assert c.getresponse().read() == b\"hello world\\n\"
" &&
    stats "s[\"connections\"][\"peak\"], s[\"connections\"][\"total\"], s[\"requests\"][\"peak\"], s[\"requests\"][\"total\"], s[\"bytes\"]" >actual &&
    echo "(1, 1, 1, 3, 36)" >expect &&
    test_cmp expect actual
'

test_expect_success 'stats: body bytes per second of wall time' '
    http_req POST /_ctl/reset </dev/null &&
    set_script <<\EOF &&
{"/big.jpg": {"size": 300000, "rate": 200000, "chunked": true}}
EOF
    http_req GET /big.jpg &&
    cp elapsed took &&
    echo 300000 >expect && wc -c <body >actual && test_cmp expect actual &&
    stats "s[\"bytes\"], sum(n for t, n in s[\"per_second\"])" >actual &&
    echo "(300000, 300000)" >expect &&
    test_cmp expect actual &&
    stats "[b[0] - a[0] for a, b in zip(s[\"per_second\"], s[\"per_second\"][1:])]" >actual &&
    grep -E "^\[1(, 1)*\]$" actual &&
    stats "max(n for t, n in s[\"per_second\"]) <= 220000, 1.3 <= s[\"last\"] - s[\"first\"] <= $(cat took) + 0.1" >actual &&
    echo "(True, True)" >expect &&
    test_cmp expect actual
'

test_expect_success 'a "*" key answers every path under it; exact keys first' '
    http_req POST /_ctl/reset </dev/null &&
    set_script <<\EOF &&
{"/img/*": {"status": 503, "times": 2},
 "/img/sub/*": {"status": 500, "forever": true},
 "/img/a.jpg": {"status": 429}}
EOF
    http_req GET /img/a.jpg && echo 429 >expect && test_cmp expect status &&
    http_req GET /img/a.jpg && echo 503 >expect && test_cmp expect status &&
    http_req GET /img/sub/b.jpg && echo 500 >expect && test_cmp expect status &&
    http_req GET /img/c.jpg && echo 503 >expect && test_cmp expect status &&
    http_req GET /img/c.jpg && echo 404 >expect && test_cmp expect status &&
    printf "{\"/a*b\": {}}" >bad.json &&
    http_req POST /_ctl/script <bad.json &&
    echo 400 >expect && test_cmp expect status &&
    echo "bad script: bad path '\''/a*b'\''" >expect &&
    test_cmp expect body
'

test_expect_success 'an ETag given in headers is the one If-None-Match meets' '
    http_req POST /_ctl/reset </dev/null &&
    set_script <<\EOF &&
{"/hello.txt": {"headers": {"ETag": "W/\"v1\""}, "times": 4}}
EOF
    http_req GET /hello.txt &&
    echo "W/\"v1\"" >expect && header ETag >actual && test_cmp expect actual &&
    http_req GET /hello.txt "If-None-Match: W/\"v1\"" &&
    echo 304 >expect && test_cmp expect status &&
    http_req GET /hello.txt "If-None-Match: \"v1\"" &&
    test_cmp expect status &&
    http_req GET /hello.txt "If-None-Match: \"a948904f2f0f479b\"" &&
    echo 200 >expect && test_cmp expect status
'

# A client that asks for /zeros.bin and does not read: the body bytes
# the server wrote after half a second.
# shellcheck disable=SC2034 # used inside the test bodies
UNREAD_CLIENT='
import json, socket, sys, time, urllib.request
port = int(open(sys.argv[1]).read())
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /zeros.bin HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.5)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open("http://127.0.0.1:%d/_ctl/stats" % port, timeout=10) as r:
    print(json.loads(r.read())["bytes"])
'

test_expect_success '--sndbuf: few bytes go ahead of a client that does not read' '
    head -c 4000000 /dev/zero >zeros.bin &&
    for sb in 0 16384; do
        "$PYTHON3" "$top_srcdir/tests/httpd.py" --root . \
            --port-file port$sb --log log$sb --sndbuf $sb &
        echo $! >pid$sb &&
        i=0 &&
        while ! test -s port$sb && test $i -lt 100; do
            sleep 0.1 && i=$((i + 1))
        done &&
        "$PYTHON3" -S -c "$UNREAD_CLIENT" port$sb >bytes$sb &&
        kill $(cat pid$sb) || return 1
    done &&
    test "$(cat bytes16384)" -le 400000 &&
    test "$(cat bytes0)" -gt "$(cat bytes16384)"
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
