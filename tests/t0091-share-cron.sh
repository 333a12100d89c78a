#!/bin/sh
# t0091-share-cron: share/cron/crontab reads as cron reads it (environment
# lines, and jobs of five valid time fields and a command with no bare
# '%'), and tests/crontab.py, which checks it, refuses what cron would
# not run. Every option of every job is one its tool's --help lists.
# Each job then runs as written, in a copy of its environment with the
# paths moved under the test's directory: rate-fetch (its url moved to
# the local server) and img-sync are silent when all went well, say one
# line for the mail when they fail, and log; img-sync exits 75 while
# another run holds its lock; settle-diff's summary is the mail. The
# logrotate example rotates those logs and the jobs write fresh ones.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

CRON=$top_srcdir/share/cron/crontab
# shellcheck disable=SC2034 # used inside the test bodies
LOGROTATE=$top_srcdir/share/cron/logrotate
CHECK=$top_srcdir/tests/crontab.py

test_expect_success 'the crontab parses: its jobs and their tools' '
    "$PYTHON3" "$CHECK" check "$CRON" >actual &&
    printf "%s\t%s\n" "20,50 16,17 * * 1-5" rate-fetch \
        "30 2 * * *" img-sync "15 7 * * *" settle-diff >expect &&
    test_cmp expect actual
'

test_expect_success 'the crontab sets the database and the paths' '
    "$PYTHON3" "$CHECK" env "$CRON" | cut -d= -f1 >actual &&
    printf "%s\n" SHELL PATH MAILTO CRON_TZ DAIGOU_DB LOGDIR IMAGES \
        FEEDS >expect &&
    test_cmp expect actual
'

test_expect_success 'the checker refuses what cron would not run' '
    cat >bad <<-\EOF &&
	# a comment, and a valid line
	NAME=value
	0 3 * * sun rate-fetch -q
	0 3 * *
	0 3 * * rate-fetch -q
	60 3 * * * rate-fetch -q
	0 24 * * * rate-fetch -q
	0 3 0 * * rate-fetch -q
	0 3 * 13 * rate-fetch -q
	0 3 * * 8 rate-fetch -q
	0 3 * * 5-1 rate-fetch -q
	*/0 3 * * * rate-fetch -q
	5/2 3 * * * rate-fetch -q
	0 3 * * * date +%F
	@daily rate-fetch -q
	EOF
    test_expect_code 1 "$PYTHON3" "$CHECK" check bad 2>actual &&
    cat >expect <<-\EOF &&
	bad:4: not five time fields and a command
	bad:5: day of week: '\''rate'\'' is not a number
	bad:6: minute: 60 is not in 0-59
	bad:7: hour: 24 is not in 0-23
	bad:8: day of month: 0 is not in 1-31
	bad:9: month: 13 is not in 1-12
	bad:10: day of week: 8 is not in 0-7
	bad:11: day of week: empty range '\''5-1'\''
	bad:12: minute: bad step in '\''*/0'\''
	bad:13: minute: a step needs '\''*'\'' or a range: '\''5/2'\''
	bad:14: a bare '\''%'\'' in the command (write '\''\%'\'')
	bad:15: @daily: write the five time fields
	EOF
    test_cmp expect actual
'

test_expect_success 'every option of every job is in its tool'"'"'s --help' '
    "$PYTHON3" "$CHECK" options "$CRON" >options &&
    test_line_count -ge 10 options &&
    while read -r tool opt; do
        "$tool" --help >help 2>&1 || return 1
        case $opt in
        --*) grep -q -e "$opt[] =]" -e "$opt\$" help ;;
        -?) grep -q -e "\[-[a-zA-Z]*${opt#-}" help ;;
        *) false ;;
        esac || { echo "$tool: $opt is not in --help" >&2; return 1; }
    done <options
'

# The jobs' environment: the crontab's, with every path under $TRASH, the
# built tools first in PATH, and rate-fetch's url moved to the local
# server by a wrapper.
mkdir -p "$TRASH/bin" "$TRASH/www/img" "$TRASH/log" "$TRASH/feeds" \
    "$TRASH/images"
cat >"$TRASH/bin/rate-fetch" <<EOF
#!/bin/sh
exec "$top_builddir/rate-fetch" "\$@" --url "\$HTTPD_URL/eurofxref-daily.xml"
EOF
chmod 755 "$TRASH/bin/rate-fetch"
test_ecb_xml @2026-04-13 JPY 161.29 USD 1.0921 >"$TRASH/www/eurofxref-daily.xml"
# a JPEG and a PNG: their signatures, then bytes
{ printf '\377\330\377\340'; head -c 3000 /dev/zero; } >"$TRASH/www/img/a.jpg"
{ printf '\211PNG\r\n\032\n'; head -c 2000 /dev/zero; } >"$TRASH/www/img/b.png"
test_start_httpd "$TRASH/www" || exit 1

# job N: run the crontab's Nth job as cron would, its output (the mail)
# in mail-N. Returns the shell's status.
job() {
    "$PYTHON3" "$CHECK" commands "$CRON" | sed -n "$1p" >cmd &&
    env SHELL=/bin/sh PATH="$TRASH/bin:$top_builddir:/usr/bin:/bin" \
        MAILTO=nobody CRON_TZ=Europe/Berlin DAIGOU_DB="$TRASH/daigou.db" \
        LOGDIR="$TRASH/log" IMAGES="$TRASH/images" FEEDS="$TRASH/feeds" \
        HTTPD_URL="$HTTPD_URL" DAIGOU_RETRY_BASE_MS=1 \
        DAIGOU_RETRY_MAX_MS=5 ${NOW:+DAIGOU_NOW=$NOW} \
        /bin/sh -c "$(cat cmd)" >"mail-$1" 2>&1
}

test_expect_success 'rate-fetch: silent when it stores, and when nothing is new' '
    NOW=2026-04-13T14:20:00Z job 1 &&
    test_must_be_empty mail-1 &&
    NOW=2026-04-13T14:50:00Z job 1 &&
    test_must_be_empty mail-1 &&
    test_sql "$TRASH/daigou.db" "SELECT base, quote, rate, as_of FROM rates
        ORDER BY quote" >actual &&
    printf "%s\n" "EUR|JPY|161.29|2026-04-13" "EUR|USD|1.0921|2026-04-13" \
        >expect &&
    test_cmp expect actual
'

test_expect_success 'rate-fetch: a failure is one line for the mail, and logged' '
    printf "{\"/eurofxref-daily.xml\": {\"status\": 503, \"forever\": true}}" |
        curl -sS --data-binary @- "$HTTPD_URL/_ctl/script" &&
    NOW=2026-04-14T14:20:00Z job 1 &&
    echo "rate-fetch: exit status 75 (see $TRASH/log/rate-fetch.log)" >expect &&
    test_cmp expect mail-1 &&
    grep -q "^rate-fetch: .*503" "$TRASH/log/rate-fetch.log" &&
    curl -sS -X POST -o /dev/null "$HTTPD_URL/_ctl/reset"
'

# summary N: the log's lines with the bytes, time and rate left out.
summary() {
    sed -e "s/, [0-9]* bytes in .*//" "$TRASH/log/img-sync.log"
}

test_expect_success 'img-sync: silent, the night'"'"'s summary in its log' '
    printf "product_id,url\nP1,%s\nP1,%s\n" "$HTTPD_URL/img/a.jpg" \
        "$HTTPD_URL/img/b.png" >"$TRASH/feeds/images.csv" &&
    job 2 &&
    test_must_be_empty mail-2 &&
    cmp "$TRASH/www/img/a.jpg" "$TRASH/images/P1/a.jpg" &&
    cmp "$TRASH/www/img/b.png" "$TRASH/images/P1/b.png" &&
    job 2 &&
    test_must_be_empty mail-2 &&
    summary >actual &&
    printf "%s\n" "img-sync: 2 downloaded, 0 unchanged, 0 failed" \
        "img-sync: 0 downloaded, 2 unchanged, 0 failed" >expect &&
    test_cmp expect actual
'

test_expect_success 'img-sync: exits 75 while another run holds the lock' '
    exec 9>"$TRASH/images/.img-sync.lock" &&
    flock -n 9 &&
    job 2 9>&- &&
    exec 9>&- &&
    echo "img-sync: exit status 75 (see $TRASH/log/img-sync.log)" >expect &&
    test_cmp expect mail-2
'

test_expect_success 'settle-diff: yesterday'"'"'s report, its summary the mail' '
    for d in "$(date -u -d yesterday +%Y-%m-%d)" "$(date -u +%Y-%m-%d)"; do
        cp "$top_srcdir/share/settle/stripe-2024-02-12.csv" \
            "$TRASH/feeds/stripe-$d.csv" || return 1
    done &&
    test_expect_code 1 job 3 &&
    cat >expect <<-\EOF &&
	currency,rows,gross,fees,net,matched_count,matched_value,mismatched_value,mismatched_percent
	EUR,3,145.30,2.56,142.74,0,0.00,147.30,100.00
	settle-diff: EUR: mismatched 147.30 EUR is over the threshold of 0.5 % of 147.30 settled
	EOF
    test_cmp expect mail-3
'

LOGROTATE_BIN=$(command -v logrotate 2>/dev/null ||
    { [ -x /usr/sbin/logrotate ] && echo /usr/sbin/logrotate; })
if [ -z "$LOGROTATE_BIN" ] && [ "${CI:-}" != true ]; then
    test_skip 'logrotate: not installed (scripts/setup installs it)'
    test_done
fi

test_expect_success 'logrotate: the example rotates the logs, the jobs start new ones' '
    sed -e "s|/var/log/daigou|$TRASH/log|" \
        -e "s|create 0640 daigou adm|create 0640 $(id -un) $(id -gn)|" \
        "$LOGROTATE" >lr.conf &&
    "$LOGROTATE_BIN" -f -s lr.state lr.conf &&
    ls "$TRASH/log" >actual &&
    printf "%s\n" img-sync.log img-sync.log.1 rate-fetch.log \
        rate-fetch.log.1 >expect &&
    test_cmp expect actual &&
    test_must_be_empty "$TRASH/log/img-sync.log" &&
    job 2 &&
    test_must_be_empty mail-2 &&
    summary >actual &&
    echo "img-sync: 0 downloaded, 2 unchanged, 0 failed" >expect &&
    test_cmp expect actual
'

test_done
