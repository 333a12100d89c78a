#!/bin/sh
# t0103-rate-fetch-print: reading stored quotes back: --print as CSV and
# JSON Lines, --ledger, the --provider, --pair, --from, --to and --latest
# filters, a missing database, a closed output.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_DB=$TRASH/print.db
export DAIGOU_DB

# Three ECB days fetched at two times, and one Frankfurter day.
cat >"$TRASH/ecb.xml" <<\EOF
<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<Cube>
		<Cube time="2026-04-13">
			<Cube currency="USD" rate="1.1684"/>
			<Cube currency="JPY" rate="186.75"/>
		</Cube>
		<Cube time="2026-04-10">
			<Cube currency="USD" rate="1.1711"/>
			<Cube currency="JPY" rate="186.43"/>
		</Cube>
	</Cube>
</gesmes:Envelope>
EOF
cat >"$TRASH/ecb14.xml" <<\EOF
<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<Cube>
		<Cube time='2026-04-14'>
			<Cube currency='USD' rate='1.1700'/>
			<Cube currency='HUF' rate='366.90'/>
		</Cube>
	</Cube>
</gesmes:Envelope>
EOF
cat >"$TRASH/ff.json" <<\EOF
{"amount": 1.0, "base": "USD", "date": "2026-04-13",
 "rates": {"JPY": 159.83, "EUR": 0.85587}}
EOF

test_expect_success 'setup' '
    DAIGOU_NOW=2026-04-13T16:10:02Z rate-fetch -q --file "$TRASH/ecb.xml" &&
    DAIGOU_NOW=2026-04-14T16:05:00Z rate-fetch -q --file "$TRASH/ecb14.xml" &&
    DAIGOU_NOW=2026-04-14T17:00:00Z rate-fetch -q --provider frankfurter \
        --file "$TRASH/ff.json"
'

test_expect_success '--print: every quote as CSV, oldest first' '
    rate-fetch --print >actual &&
    cat >expect <<-\EOF &&
	provider,base,quote,rate,as_of,fetched_at
	ecb,EUR,JPY,186.43,2026-04-10,2026-04-13T16:10:02Z
	ecb,EUR,USD,1.1711,2026-04-10,2026-04-13T16:10:02Z
	ecb,EUR,JPY,186.75,2026-04-13,2026-04-13T16:10:02Z
	ecb,EUR,USD,1.1684,2026-04-13,2026-04-13T16:10:02Z
	frankfurter,USD,EUR,0.85587,2026-04-13,2026-04-14T17:00:00Z
	frankfurter,USD,JPY,159.83,2026-04-13,2026-04-14T17:00:00Z
	ecb,EUR,HUF,366.90,2026-04-14,2026-04-14T16:05:00Z
	ecb,EUR,USD,1.1700,2026-04-14,2026-04-14T16:05:00Z
	EOF
    test_cmp expect actual
'

test_expect_success '--print --json: JSON Lines, every value a string' '
    rate-fetch --print --json --pair EUR/USD >actual &&
    cat >expect <<-\EOF &&
	{"provider":"ecb","base":"EUR","quote":"USD","rate":"1.1711","as_of":"2026-04-10","fetched_at":"2026-04-13T16:10:02Z"}
	{"provider":"ecb","base":"EUR","quote":"USD","rate":"1.1684","as_of":"2026-04-13","fetched_at":"2026-04-13T16:10:02Z"}
	{"provider":"ecb","base":"EUR","quote":"USD","rate":"1.1700","as_of":"2026-04-14","fetched_at":"2026-04-14T16:05:00Z"}
	EOF
    test_cmp expect actual
'

test_expect_success '--provider, --from and --to filter' '
    rate-fetch --print --provider frankfurter >actual &&
    cat >expect <<-\EOF &&
	provider,base,quote,rate,as_of,fetched_at
	frankfurter,USD,EUR,0.85587,2026-04-13,2026-04-14T17:00:00Z
	frankfurter,USD,JPY,159.83,2026-04-13,2026-04-14T17:00:00Z
	EOF
    test_cmp expect actual &&
    rate-fetch --print --provider ecb --from 2026-04-11 --to 2026-04-13 >actual &&
    cat >expect <<-\EOF &&
	provider,base,quote,rate,as_of,fetched_at
	ecb,EUR,JPY,186.75,2026-04-13,2026-04-13T16:10:02Z
	ecb,EUR,USD,1.1684,2026-04-13,2026-04-13T16:10:02Z
	EOF
    test_cmp expect actual &&
    rate-fetch --print --provider ecb-hist --from 2026-04-14 >actual &&
    cat >expect <<-\EOF &&
	provider,base,quote,rate,as_of,fetched_at
	ecb,EUR,HUF,366.90,2026-04-14,2026-04-14T16:05:00Z
	ecb,EUR,USD,1.1700,2026-04-14,2026-04-14T16:05:00Z
	EOF
    test_cmp expect actual
'

test_expect_success '--latest: the newest quote of each pair, as of --to' '
    rate-fetch --print --latest --provider ecb >actual &&
    cat >expect <<-\EOF &&
	provider,base,quote,rate,as_of,fetched_at
	ecb,EUR,JPY,186.75,2026-04-13,2026-04-13T16:10:02Z
	ecb,EUR,HUF,366.90,2026-04-14,2026-04-14T16:05:00Z
	ecb,EUR,USD,1.1700,2026-04-14,2026-04-14T16:05:00Z
	EOF
    test_cmp expect actual &&
    rate-fetch --print --latest --provider ecb --to 2026-04-12 >actual &&
    cat >expect <<-\EOF &&
	provider,base,quote,rate,as_of,fetched_at
	ecb,EUR,JPY,186.43,2026-04-10,2026-04-13T16:10:02Z
	ecb,EUR,USD,1.1711,2026-04-10,2026-04-13T16:10:02Z
	EOF
    test_cmp expect actual
'

test_expect_success '--ledger: price directives' '
    rate-fetch --ledger --provider ecb --pair EUR/JPY >actual &&
    cat >expect <<-\EOF &&
	P 2026-04-10 EUR 186.43 JPY
	P 2026-04-13 EUR 186.75 JPY
	EOF
    test_cmp expect actual &&
    rate-fetch --ledger --latest >actual &&
    cat >expect <<-\EOF &&
	P 2026-04-13 EUR 186.75 JPY
	P 2026-04-13 USD 0.85587 EUR
	P 2026-04-13 USD 159.83 JPY
	P 2026-04-14 EUR 366.90 HUF
	P 2026-04-14 EUR 1.1700 USD
	EOF
    test_cmp expect actual
'

test_expect_success 'nothing matches: the CSV header alone, no ledger lines' '
    rate-fetch --print --pair GBP/CHF >actual &&
    echo "provider,base,quote,rate,as_of,fetched_at" >expect &&
    test_cmp expect actual &&
    rate-fetch --ledger --from 2027-01-01 >actual &&
    test_must_be_empty actual
'

test_expect_success 'filters are checked; --pair goes with --print' '
    test_expect_code 64 rate-fetch --print --pair EURUSD 2>err &&
    echo "rate-fetch: --pair is BASE/QUOTE, not ${SQ}EURUSD${SQ}" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual &&
    test_expect_code 64 rate-fetch --print --from 2026-02-30 2>err &&
    test_expect_code 64 rate-fetch --pair EUR/USD --file "$TRASH/ecb.xml" 2>err &&
    echo "rate-fetch: --pair and --latest go with --print or --ledger" >expect &&
    sed -n 1p err >actual &&
    test_cmp expect actual
'

test_expect_success 'a missing database is not created: 66' '
    test_expect_code 66 rate-fetch --print --db nowhere.db 2>err &&
    test ! -e nowhere.db
'

test_expect_success 'a full standard output: 74' '
    test_expect_code 74 rate-fetch --print >/dev/full
'

test_done
