#!/bin/sh
# t0137-pay-ingest-webserver-samples: the sample configurations in
# share/webhook/ work as shipped, with only their paths changed: the
# wrapper pay-ingest-stripe under lighttpd (lighttpd.conf) and under nginx
# with fcgiwrap (nginx.conf) records a signed Stripe charge (200), answers
# a duplicate (200) and refuses a bad signature (401); nginx refuses a
# body over client_max_body_size itself (413). The persistent endpoint
# the same way: pay-ingest-stripe-scgi spawned by lighttpd
# (lighttpd-scgi.conf), and pay-ingest --scgi as the systemd units start
# it (the socket of daigou-webhook-stripe.socket passed as LISTEN_FDS,
# the command line of daigou-webhook-stripe.service) behind nginx
# (nginx-scgi.conf). The signatures are made at the real clock: the
# endpoint runs without DAIGOU_NOW, as in production.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

test_require_lighttpd

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
S=$top_srcdir/share/webhook
# shellcheck disable=SC2034 # used inside the test bodies
DB=$TRASH/shop.db
NGINX=$(command -v nginx 2>/dev/null ||
    { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
FCGIWRAP=$(command -v fcgiwrap 2>/dev/null ||
    { [ -x /usr/sbin/fcgiwrap ] && echo /usr/sbin/fcgiwrap; })

# paths: the samples' paths made this test's.
paths() {
    sed -e "s|/usr/local/bin/pay-ingest|$top_builddir/pay-ingest|" \
        -e "s|/var/lib/daigou/daigou.db|$DB|" \
        -e "s|/etc/daigou/stripe-webhook-secret|$TRASH/secret|" "$@"
}

# wrapper DIR [SAMPLE]: the sample wrapper (pay-ingest-stripe) with this
# test's paths, as DIR/stripe.
wrapper() {
    paths "$S/${2:-pay-ingest-stripe}" >"$1/stripe" &&
    chmod 755 "$1/stripe"
}

# charge ID: a Stripe charge.succeeded event for order A1.
charge() {
    printf '{\n  "id": "evt_%s",\n  "object": "event",\n  "type": "charge.succeeded",\n  "data": {\n    "object": {\n      "id": "%s",\n      "object": "charge",\n      "amount": 10230,\n      "captured": true,\n      "currency": "eur",\n      "metadata": {"order_id": "A1"},\n      "status": "succeeded"\n    }\n  }\n}\n' "$1" "$1"
}

# deliver URL FILE [SECRET]: POST FILE signed now; "STATUS BODY" printed.
deliver() {
    dl_sig=$("$PYTHON3" -c '
import hashlib, hmac, sys, time
body = open(sys.argv[1], "rb").read()
t = str(int(time.time()))
print("t=%s,v1=%s" % (t, hmac.new(sys.argv[2].encode(),
                                  t.encode() + b"." + body,
                                  hashlib.sha256).hexdigest()))
' "$2" "${3:-whsec_sample}") &&
    curl -sS --max-time 30 -o body -w "%{http_code} " \
        -H "Stripe-Signature: $dl_sig" --data-binary "@$2" "$1" &&
    head -c 60 body &&
    echo
}

# checks URL PREFIX: the three deliveries through one server.
checks() {
    charge "ch_$2" >c.json &&
    deliver "$1" c.json >actual &&
    deliver "$1" c.json >>actual &&
    deliver "$1" c.json whsec_wrong >>actual &&
    cat >expect <<EOF &&
200 {"status":200,"result":"recorded","facts":[{"gateway":"strip
200 {"status":200,"result":"duplicate","facts":[{"gateway":"stri
401 {"status":401,"result":"rejected","reason":"signature mismat
EOF
    test_cmp expect actual &&
    test_sql "$DB" "SELECT count(*) FROM payments WHERE gateway_txn_id = ${SQ}ch_$2${SQ}" >actual &&
    echo 1 >expect &&
    test_cmp expect actual
}

test_ecb_xml @2026-04-13 JPY 161.29 >"$TRASH/r-13.xml"

test_expect_success 'setup: an order, the secret' '
    DAIGOU_NOW=2026-04-13T16:10:00Z rate-fetch -q --db "$DB" \
        --file "$TRASH/r-13.xml" &&
    DAIGOU_NOW=2026-04-13T18:00:00Z order-rate-pin -q --db "$DB" \
        --to EUR A1 16500 JPY >/dev/null &&
    (umask 077 && printf "whsec_sample\n" >"$TRASH/secret")
'

# lighttpd: the test server's settings, and the sample as local.conf.
L=$TRASH/lighttpd
mkdir -p "$L/www"
wrapper "$L"
sed "s|/usr/local/lib/daigou/webhook/pay-ingest-stripe|$L/stripe|" \
    "$S/lighttpd.conf" >"$L/local.conf"
if test_lighttpd_start "$L"; then
    test_expect_success 'lighttpd.conf: recorded, duplicate, bad signature' '
        checks "$LIGHTTPD_URL/webhook/stripe" lighttpd ||
        { test_lighttpd_log; false; }
    '
    test_lighttpd_stop
else
    test_expect_success 'lighttpd.conf: lighttpd starts with the sample' 'false'
fi

# lighttpd-scgi.conf: the same with the persistent endpoint.
L2=$TRASH/lighttpd-scgi
mkdir -p "$L2/www"
wrapper "$L2" pay-ingest-stripe-scgi
sed -e "s|/usr/local/lib/daigou/webhook/pay-ingest-stripe-scgi|$L2/stripe|" \
    -e "s|/run/lighttpd/daigou-stripe.sock|$L2/stripe.sock|" \
    "$S/lighttpd-scgi.conf" >"$L2/local.conf"
if test_lighttpd_start "$L2"; then
    test_expect_success 'lighttpd-scgi.conf: recorded, duplicate, bad signature' '
        grep -q -- "--scgi" "$L2/stripe" &&
        checks "$LIGHTTPD_URL/webhook/stripe" lighttpd-scgi ||
        { test_lighttpd_log; false; }
    '
    test_lighttpd_stop
else
    test_expect_success 'lighttpd-scgi.conf: lighttpd starts with the sample' 'false'
fi

if [ -z "$NGINX" ] || [ -z "$FCGIWRAP" ]; then
    if [ "${CI:-}" = true ]; then
        test_expect_success 'nginx and fcgiwrap are installed' 'false'
    else
        test_skip 'nginx.conf: nginx or fcgiwrap is not installed'
    fi
    test_done
fi

N=$TRASH/nginx
mkdir -p "$N/logs" "$N/tmp"
wrapper "$N"
NGINX_PID=
FCGI_PID=
trap 'test_lighttpd_stop
[ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null
[ -z "$FCGI_PID" ] || kill -- "-$FCGI_PID" 2>/dev/null
rm -rf "$TRASH"' EXIT
PORT=$("$PYTHON3" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
')
# in a process group of its own: its children go with it
setsid "$FCGIWRAP" -c 2 -s "unix:$N/fcgiwrap.sock" >"$N/logs/fcgiwrap.out" 2>&1 &
FCGI_PID=$!
{
    echo "daemon off; master_process off; pid $N/nginx.pid;"
    echo "error_log $N/logs/error.log;"
    echo "events { worker_connections 64; }"
    echo "http {"
    echo "access_log off;"
    for t in client_body proxy fastcgi uwsgi scgi; do
        echo "${t}_temp_path $N/tmp/$t;"
    done
    sed -e "s|listen 80;|listen 127.0.0.1:$PORT;|" \
        -e "s|unix:/run/fcgiwrap.socket|unix:$N/fcgiwrap.sock|" \
        -e "s|include fastcgi_params;|include /etc/nginx/fastcgi_params;|" \
        -e "s|/usr/local/lib/daigou/webhook/pay-ingest-stripe|$N/stripe|" \
        "$S/nginx.conf"
    echo "}"
} >"$N/nginx.conf"
"$NGINX" -p "$N" -c "$N/nginx.conf" >"$N/logs/nginx.out" 2>&1 &
NGINX_PID=$!
i=0
while [ $i -lt 100 ] && { [ ! -S "$N/fcgiwrap.sock" ] ||
    ! curl -s -o /dev/null "http://127.0.0.1:$PORT/"; }; do
    i=$((i + 1))
    sleep 0.1
done

test_expect_success 'nginx.conf + fcgiwrap: recorded, duplicate, bad signature' '
    checks "http://127.0.0.1:$PORT/webhook/stripe" nginx ||
    { cat "$N"/logs/*; false; }
'

test_expect_success 'nginx.conf: a body over client_max_body_size is 413' '
    head -c 1100000 /dev/zero | tr "\0" " " >big &&
    curl -sS --max-time 30 -o /dev/null -w "%{http_code}\n" \
        --data-binary @big "http://127.0.0.1:$PORT/webhook/stripe" >actual &&
    echo 413 >expect &&
    test_cmp expect actual
'

# nginx-scgi.conf and the systemd units: the socket the .socket unit
# names, passed as systemd passes it, to the .service's command line.
N2=$TRASH/nginx-scgi
mkdir -p "$N2/logs" "$N2/tmp"
SOCK=$(sed -n "s|^ListenStream=/run/daigou/|$N2/|p" \
    "$S/daigou-webhook-stripe.socket")
paths "$S/daigou-webhook-stripe.service" |
    sed -n "s|^ExecStart=||p" >"$N2/execstart"
# shellcheck disable=SC2046 # the unit's command line, split as systemd does
"$PYTHON3" "$top_srcdir/tests/scgi-client.py" inherit "$SOCK" -- \
    $(cat "$N2/execstart") >"$N2/logs/pay-ingest.out" 2>&1 &
SCGI_PID=$!
PORT2=$("$PYTHON3" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
')
{
    echo "daemon off; master_process off; pid $N2/nginx.pid;"
    echo "error_log $N2/logs/error.log;"
    echo "events { worker_connections 64; }"
    echo "http {"
    echo "access_log off;"
    for t in client_body proxy fastcgi uwsgi scgi; do
        echo "${t}_temp_path $N2/tmp/$t;"
    done
    sed -e "s|listen 80;|listen 127.0.0.1:$PORT2;|" \
        -e "s|unix:/run/daigou/stripe.sock|unix:$SOCK|" \
        -e "s|include scgi_params;|include /etc/nginx/scgi_params;|" \
        "$S/nginx-scgi.conf"
    echo "}"
} >"$N2/nginx.conf"
"$NGINX" -p "$N2" -c "$N2/nginx.conf" >"$N2/logs/nginx.out" 2>&1 &
NGINX2_PID=$!
trap 'test_lighttpd_stop
[ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null
[ -z "$NGINX2_PID" ] || kill "$NGINX2_PID" 2>/dev/null
[ -z "$SCGI_PID" ] || kill "$SCGI_PID" 2>/dev/null
[ -z "$FCGI_PID" ] || kill -- "-$FCGI_PID" 2>/dev/null
rm -rf "$TRASH"' EXIT
i=0
while [ $i -lt 100 ] && ! curl -s -o /dev/null "http://127.0.0.1:$PORT2/"; do
    i=$((i + 1))
    sleep 0.1
done

test_expect_success 'nginx-scgi.conf + the systemd units: recorded, duplicate, bad signature' '
    grep -q -- "--scgi" "$N2/execstart" &&
    checks "http://127.0.0.1:$PORT2/webhook/stripe" nginx-scgi ||
    { cat "$N2"/logs/*; false; }
'

test_expect_success 'nginx-scgi.conf: a body over client_max_body_size is 413' '
    head -c 1100000 /dev/zero | tr "\0" " " >big &&
    curl -sS --max-time 30 -o /dev/null -w "%{http_code}\n" \
        --data-binary @big "http://127.0.0.1:$PORT2/webhook/stripe" >actual &&
    echo 413 >expect &&
    test_cmp expect actual
'

test_done
