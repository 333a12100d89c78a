# test-lib.sh - the shell test library, sourced by every tests/tNNNN-*.sh.
#
# Semantics follow git's test library:
#   test_expect_success 'title' 'commands'   run commands in a fresh private
#                                            directory; ok when they exit 0
#   test_cmp expect actual                   diff -u; fails on a difference
#   test_must_fail cmd...                    ok when cmd fails normally; a
#                                            crash or signal is NOT ok
#   test_expect_code N cmd...                ok when cmd exits exactly N
#   test_done                                print the TAP plan and exit
# Output is TAP for Automake's tap-driver.sh. Each test runs in a subshell
# in its own directory under $TRASH, so tests cannot leak state.

set -u
LC_ALL=C
LANG=C
TZ=UTC
export LC_ALL LANG TZ
unset DAIGOU_DB DAIGOU_NOW DAIGOU_RATE_KEY

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYTHON3:=python3}"
export top_srcdir top_builddir PYTHON3

FIXTURES=$top_srcdir/tests/fixtures
TEST_TOOL=$top_builddir/tests/helper/dg-test-tool
PATH=$top_builddir:$PATH
export PATH FIXTURES TEST_TOOL

test_count=0
test_failed=0
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/daigou-test.XXXXXX") || exit 99
trap 'test_lighttpd_stop; test_stop_httpd; rm -rf "$TRASH"' EXIT

# say_verbose: lines prefixed "# " are TAP diagnostics.
say() { printf '# %s\n' "$*"; }

test_expect_success() {
    test_title=$1
    test_body=$2
    test_count=$((test_count + 1))
    test_dir=$TRASH/t$test_count
    mkdir -p "$test_dir"
    (
        cd "$test_dir" || exit 99
        eval "$test_body"
    ) >"$TRASH/out.$test_count" 2>&1
    test_rc=$?
    if [ $test_rc -eq 0 ]; then
        printf 'ok %d - %s\n' "$test_count" "$test_title"
    else
        test_failed=$((test_failed + 1))
        printf 'not ok %d - %s\n' "$test_count" "$test_title"
        sed 's/^/#   /' "$TRASH/out.$test_count"
        printf '#   (exit %d) in:\n' "$test_rc"
        printf '%s\n' "$test_body" | sed 's/^/#   /'
    fi
}

test_expect_failure_known() {
    # a documented known breakage: TAP TODO
    test_count=$((test_count + 1))
    printf 'not ok %d - %s # TODO known breakage\n' "$test_count" "$1"
}

# test_expect_failure 'title' 'commands': a known breakage, run as
# test_expect_success runs it: while it fails, TAP TODO ("not ok ... #
# TODO known breakage", counted as an expected failure); once it passes,
# "ok ... # TODO known breakage vanished", an unexpected pass that fails
# the suite until the mark is removed.
test_expect_failure() {
    test_count=$((test_count + 1))
    test_dir=$TRASH/t$test_count
    mkdir -p "$test_dir"
    if (
        cd "$test_dir" || exit 99
        eval "$2"
    ) >"$TRASH/out.$test_count" 2>&1; then
        printf 'ok %d - %s # TODO known breakage vanished\n' \
            "$test_count" "$1"
    else
        printf 'not ok %d - %s # TODO known breakage\n' "$test_count" "$1"
        sed 's/^/#   /' "$TRASH/out.$test_count"
    fi
}

test_skip() {
    test_count=$((test_count + 1))
    printf 'ok %d # SKIP %s\n' "$test_count" "$1"
}

test_done() {
    printf '1..%d\n' "$test_count"
    [ "$test_failed" -eq 0 ]
    exit $?
}

test_cmp() {
    diff -u "$1" "$2"
}

# test_must_fail: the command must exit non-zero but not by a signal or a
# sanitizer abort (exit > 128, or 127 for "not found").
test_must_fail() {
    "$@"
    tmf_rc=$?
    if [ $tmf_rc -eq 0 ]; then
        echo "test_must_fail: command succeeded: $*" >&2
        return 1
    elif [ $tmf_rc -gt 128 ] || [ $tmf_rc -eq 127 ]; then
        echo "test_must_fail: command died with $tmf_rc: $*" >&2
        return 1
    fi
    return 0
}

# test_expect_code N cmd...: exactly N.
test_expect_code() {
    tec_want=$1
    shift
    "$@"
    tec_rc=$?
    if [ "$tec_rc" -ne "$tec_want" ]; then
        echo "test_expect_code: expected $tec_want, got $tec_rc: $*" >&2
        return 1
    fi
    return 0
}

# test_line_count = N file
test_line_count() {
    tlc_n=$(wc -l <"$3")
    if ! test "$tlc_n" "$1" "$2"; then
        echo "test_line_count: $3 has $tlc_n lines, want $1 $2" >&2
        cat "$3" >&2
        return 1
    fi
}

# test_must_be_empty FILE
test_must_be_empty() {
    if [ -s "$1" ]; then
        echo "test_must_be_empty: $1 is not empty:" >&2
        cat "$1" >&2
        return 1
    fi
}

# test_sql DB SQL: run SQL through the sqlite3 shell (list mode).
# test_ecb_xml [@DAY | CODE RATE]...: a small document in the ECB's XML
# shape, with the ECB's namespaces, tabs and single-quoted attributes.
# Line 4 opens the first day, line 5 holds its first quote.
test_ecb_xml() {
    printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
        '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">' \
        '	<Cube>'
    tex_open=
    while [ $# -gt 0 ]; do
        case $1 in
        @*)
            [ -z "$tex_open" ] || printf '\t\t</Cube>\n'
            printf "\t\t<Cube time='%s'>\n" "${1#@}"
            tex_open=1
            shift
            ;;
        *)
            printf "\t\t\t<Cube currency='%s' rate='%s'/>\n" "$1" "$2"
            shift 2
            ;;
        esac
    done
    [ -z "$tex_open" ] || printf '\t\t</Cube>\n'
    printf '\t</Cube>\n</gesmes:Envelope>\n'
}

# expect_convert AMOUNT_MINOR FROM_EXP TO_EXP MUL DIV MODE: the amount
# AMOUNT_MINOR / 10^FROM_EXP * MUL / DIV as a decimal with TO_EXP digits,
# rounded once by MODE (half-up: ties away from zero; half-even).
expect_convert() {
    "$PYTHON3" -c '
import sys
from fractions import Fraction as F
a, fe, te, mul, div, mode = sys.argv[1:]
fe, te = int(fe), int(te)
x = F(int(a), 10 ** fe) * F(mul) / F(div) * 10 ** te
n, r = divmod(x.numerator, x.denominator)
if 2 * r > x.denominator or (2 * r == x.denominator and
                             (mode == "half-up" or n % 2 == 1)):
    n += 1
s = str(n).rjust(te + 1, "0")
print(s[:len(s) - te] + ("." + s[len(s) - te:] if te else ""))
' "$@"
}

# expect_rate MUL DIV: the effective rate MUL / DIV as the rate column
# shows it: exact when it terminates within 18 significant digits, else
# rounded half-up to 15 significant digits (trailing zeros kept).
expect_rate() {
    "$PYTHON3" -c '
import sys
from fractions import Fraction as F
q = F(sys.argv[1]) / F(sys.argv[2])
def plain(n, scale):
    if scale <= 0:
        return str(n * 10 ** -scale)
    s = str(n).rjust(scale + 1, "0")
    return s[:-scale] + "." + s[-scale:]
d = q.denominator
for p in (2, 5):
    while d % p == 0:
        d //= p
if d == 1:
    k = 0
    while (q * 10 ** k).denominator != 1:
        k += 1
    n = int(q * 10 ** k)
    if len(str(n).rstrip("0")) <= 18:
        print(plain(n, k))
        sys.exit(0)
e = 0
while q >= F(10) ** (e + 1):
    e += 1
while q < F(10) ** e:
    e -= 1
scale = 14 - e
m = q * F(10) ** scale
r = m.numerator // m.denominator
if m - r >= F(1, 2):
    r += 1
if r == 10 ** 15:
    r //= 10
    scale -= 1
print(plain(r, scale))
' "$@"
}

test_sql() {
    sqlite3 -batch "$1" "$2"
}

# test_run_saved PREFIX CMD...: run CMD; its stdout, stderr and exit
# status in PREFIX.out, PREFIX.err and PREFIX.rc (the test goes on).
test_run_saved() {
    trs_prefix=$1
    shift
    "$@" >"$trs_prefix.out" 2>"$trs_prefix.err"
    echo $? >"$trs_prefix.rc"
}

# test_same_runs A B SNAPSHOT: the runs saved as A and B (test_run_saved)
# printed, said and exited the same, and SNAPSHOT (a command given a
# database) shows A.db and B.db alike.
test_same_runs() {
    test_cmp "$1.out" "$2.out" &&
    test_cmp "$1.err" "$2.err" &&
    test_cmp "$1.rc" "$2.rc" &&
    "$3" "$1.db" >"$1.snap" &&
    "$3" "$2.db" >"$2.snap" &&
    test_cmp "$1.snap" "$2.snap"
}

# test_load_schema1 DB: the schema-1 fixture (rows of every tool), as the
# sqlite3 shell restores a dump.
test_load_schema1() {
    sqlite3 -batch "$1" <"$FIXTURES/schema1.sql"
}

# test_dump_rows DB [WHERE]: every row of every table in key order, each
# value quoted by type (text in quotes, integers bare, NULL); WHERE, an
# SQL condition, selects the events (default: all).
test_dump_rows() {
    sqlite3 -batch "$1" <<EOT
.mode quote
SELECT 'rates', * FROM rates ORDER BY id;
SELECT 'fetch_state', * FROM fetch_state ORDER BY url;
SELECT 'orders', * FROM orders ORDER BY order_id;
SELECT 'order_items', * FROM order_items ORDER BY order_id, line;
SELECT 'order_rates', * FROM order_rates ORDER BY id;
SELECT 'payments', * FROM payments ORDER BY id;
SELECT 'refunds', * FROM refunds ORDER BY id;
SELECT 'refund_lines', * FROM refund_lines ORDER BY refund_id, line;
SELECT 'images', * FROM images ORDER BY id;
SELECT 'events', * FROM events WHERE ${2:-1} ORDER BY id;
EOT
}

# ---------------------------------------------------------------- httpd
# test_start_httpd DIR [ARGS]: serve DIR on 127.0.0.1 on an ephemeral port;
# sets HTTPD_PORT and HTTPD_URL. The server logs requests to
# $TRASH/httpd.log and takes fault-injection commands (see httpd.py).
HTTPD_PID=
test_start_httpd() {
    ths_root=$1
    shift
    rm -f "$TRASH/httpd.port"
    "$PYTHON3" "$top_srcdir/tests/httpd.py" --root "$ths_root" \
        --port-file "$TRASH/httpd.port" --log "$TRASH/httpd.log" "$@" \
        >"$TRASH/httpd.out" 2>&1 &
    HTTPD_PID=$!
    ths_i=0
    while [ ! -s "$TRASH/httpd.port" ]; do
        ths_i=$((ths_i + 1))
        if [ $ths_i -gt 100 ] || ! kill -0 "$HTTPD_PID" 2>/dev/null; then
            echo "httpd did not start" >&2
            cat "$TRASH/httpd.out" >&2
            return 1
        fi
        sleep 0.1
    done
    HTTPD_PORT=$(cat "$TRASH/httpd.port")
    HTTPD_URL=http://127.0.0.1:$HTTPD_PORT
    export HTTPD_PORT HTTPD_URL
}

test_stop_httpd() {
    if [ -n "${HTTPD_PID:-}" ]; then
        kill "$HTTPD_PID" 2>/dev/null
        wait "$HTTPD_PID" 2>/dev/null
        HTTPD_PID=
    fi
    return 0
}

# ---------------------------------------------------------------- lighttpd
# A real web server for the webhook endpoint (tests/lighttpd.conf.in).
#
# test_require_lighttpd: call once before any test. Without lighttpd the
# whole script is skipped with a message, except in CI (CI=true), where
# a missing lighttpd fails: the endpoint must be tested there.
LIGHTTPD=$(command -v lighttpd 2>/dev/null ||
    { [ -x /usr/sbin/lighttpd ] && echo /usr/sbin/lighttpd; })
test_require_lighttpd() {
    [ -n "$LIGHTTPD" ] && return 0
    if [ "${CI:-}" = true ]; then
        echo "not ok 1 - lighttpd is not installed (scripts/setup installs it)"
        echo "1..1"
        exit 1
    fi
    echo "1..0 # SKIP lighttpd is not installed (scripts/setup installs it)"
    exit 0
}

# test_lighttpd_start DIR: serve DIR/www (programs under DIR/www/webhook/
# run as CGI) on 127.0.0.1 and a free port, with the settings in
# DIR/local.conf if the test wrote one; logs in DIR. Waits until the
# server answers; sets LIGHTTPD_PORT and LIGHTTPD_URL. On failure prints
# lighttpd's error log and returns 1.
LIGHTTPD_PID=
LIGHTTPD_DIR=
test_lighttpd_start() {
    tls_dir=$(cd "$1" && pwd) || return 1
    mkdir -p "$tls_dir/www/webhook" || return 1
    [ -f "$tls_dir/local.conf" ] || : >"$tls_dir/local.conf"
    test_lighttpd_stop
    LIGHTTPD_DIR=$tls_dir
    tls_try=0
    while :; do
        tls_try=$((tls_try + 1))
        tls_port=$("$PYTHON3" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
') || return 1
        sed -e "s|@DIR@|$tls_dir|g" -e "s|@PORT@|$tls_port|g" \
            "$top_srcdir/tests/lighttpd.conf.in" >"$tls_dir/lighttpd.conf" ||
            return 1
        "$LIGHTTPD" -D -f "$tls_dir/lighttpd.conf" \
            >>"$tls_dir/lighttpd.out" 2>&1 &
        LIGHTTPD_PID=$!
        tls_i=0
        while [ $tls_i -lt 100 ]; do
            if ! kill -0 "$LIGHTTPD_PID" 2>/dev/null; then
                break
            fi
            # Any HTTP answer will do: the server is up.
            tls_code=$(curl -s -o /dev/null -w '%{http_code}' \
                --max-time 2 "http://127.0.0.1:$tls_port/") || tls_code=000
            if [ "$tls_code" != 000 ]; then
                LIGHTTPD_PORT=$tls_port
                LIGHTTPD_URL=http://127.0.0.1:$tls_port
                export LIGHTTPD_PORT LIGHTTPD_URL
                return 0
            fi
            tls_i=$((tls_i + 1))
            sleep 0.1
        done
        test_lighttpd_stop
        # Another process may have taken the port: try another, twice.
        if [ $tls_try -ge 3 ]; then
            echo "lighttpd did not start; its output and error log:" >&2
            cat "$tls_dir/lighttpd.out" "$tls_dir/error.log" >&2 2>/dev/null
            return 1
        fi
    done
}

# test_lighttpd_stop: stop the server test_lighttpd_start started (at
# exit too). test_lighttpd_log prints its error log, for a failing test.
test_lighttpd_stop() {
    if [ -n "${LIGHTTPD_PID:-}" ]; then
        kill "$LIGHTTPD_PID" 2>/dev/null
        wait "$LIGHTTPD_PID" 2>/dev/null
        LIGHTTPD_PID=
    fi
    return 0
}

test_lighttpd_log() {
    [ -n "${LIGHTTPD_DIR:-}" ] || return 0
    echo "lighttpd error log:" >&2
    cat "$LIGHTTPD_DIR/error.log" >&2 2>/dev/null
    return 0
}

# test_lighttpd_scgi DIR PATH PROCS COMMAND [NAME=VALUE ...]: add to
# DIR/local.conf (before test_lighttpd_start) a mod_scgi route from the
# URL path PATH to COMMAND, a pay-ingest --scgi command line without
# quotes, which lighttpd spawns PROCS times (bin-path) with the
# listening socket DIR/scgi.sock on descriptor 0 and NAME=VALUE in the
# environment.
test_lighttpd_scgi() {
    tsc_dir=$1 tsc_path=$2 tsc_procs=$3 tsc_cmd=$4
    shift 4
    {
        echo 'server.modules += ("mod_scgi")'
        echo "scgi.server = (\"$tsc_path\" => (("
        echo "	\"socket\" => \"$tsc_dir/scgi.sock\","
        echo "	\"bin-path\" => \"$tsc_cmd\","
        echo "	\"max-procs\" => $tsc_procs,"
        echo '	"check-local" => "disable",'
        printf '	"bin-environment" => ('
        for tsc_kv; do
            printf '"%s" => "%s", ' "${tsc_kv%%=*}" "${tsc_kv#*=}"
        done
        echo '),'
        echo ')))'
    } >>"$tsc_dir/local.conf"
}
