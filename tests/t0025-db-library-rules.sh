#!/bin/sh
# t0025-db-library-rules: the rules schema 2 leaves to the library
# (daigou.db(5), "Where the rules live"): each tool refuses the input that
# would break one, and every row the tools store meets schema 1's stricter
# checks: ISO 4217 codes, plain decimal rates, YYYY-MM-DD dates, RFC 3339
# UTC times, lower-case hex digests.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
export DAIGOU_DB="$TRASH/shop.db"
export DAIGOU_NOW=2022-07-12T10:00:00Z

# ecb_doc DAY CODE RATE: a one-quote ECB daily document.
ecb_doc() {
    test_ecb_xml "@$1" "$2" "$3"
}

test_expect_success 'setup: the ECB quotes of 2022-07-08' '
    rate-fetch -q --file "$FIXTURES/ecb/eurofxref-daily-2022-07-08.xml"
'

test_expect_success 'rate-fetch refuses a rate that is not a plain decimal: 65, nothing stored' '
    for r in 0,85 1. 0.8.5 .5 8.5e-1 " 1.5" "1.5 " 0 -1.5 +1.5 0x1A ""; do
        ecb_doc 2022-07-11 USD "$r" >d.xml &&
        test_expect_code 65 rate-fetch --file d.xml 2>>err || return 1
    done &&
    cat >expect <<-EOF &&
	rate-fetch: d.xml:5: bad rate ${SQ}0,85${SQ} for ${SQ}USD${SQ} on 2022-07-11: not a plain decimal
	rate-fetch: d.xml:5: bad rate ${SQ}1.${SQ} for ${SQ}USD${SQ} on 2022-07-11: not a plain decimal
	rate-fetch: d.xml:5: bad rate ${SQ}0.8.5${SQ} for ${SQ}USD${SQ} on 2022-07-11: not a plain decimal
	rate-fetch: d.xml:5: bad rate ${SQ}.5${SQ} for ${SQ}USD${SQ} on 2022-07-11: not a plain decimal
	rate-fetch: d.xml:5: bad rate ${SQ}8.5e-1${SQ} for ${SQ}USD${SQ} on 2022-07-11: not a plain decimal
	rate-fetch: d.xml:5: bad rate ${SQ} 1.5${SQ} for ${SQ}USD${SQ} on 2022-07-11: not a plain decimal
	rate-fetch: d.xml:5: bad rate ${SQ}1.5 ${SQ} for ${SQ}USD${SQ} on 2022-07-11: not a plain decimal
	EOF
    head -n 7 err >actual &&
    test_cmp expect actual &&
    test_line_count = 12 err &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM rates WHERE as_of = ${SQ}2022-07-11${SQ}" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'rate-fetch refuses a date not in YYYY-MM-DD and a code not in ISO 4217' '
    for d in 09/07/2022 2022-7-11 2022-07-11T00:00:00Z 2022-02-30; do
        ecb_doc "$d" USD 1.01 >d.xml &&
        test_expect_code 65 rate-fetch --file d.xml 2>>err || return 1
    done &&
    for c in usd J1Y XXXX; do
        ecb_doc 2022-07-11 "$c" 1.01 >d.xml &&
        test_expect_code 65 rate-fetch --file d.xml 2>>err || return 1
    done &&
    cat >expect <<-EOF &&
	rate-fetch: d.xml:4: bad date ${SQ}09/07/2022${SQ}
	rate-fetch: d.xml:4: bad date ${SQ}2022-7-11${SQ}
	rate-fetch: d.xml:4: bad date ${SQ}2022-07-11T00:00:00Z${SQ}
	rate-fetch: d.xml:4: bad date ${SQ}2022-02-30${SQ}
	rate-fetch: d.xml:5: unknown currency ${SQ}usd${SQ} on 2022-07-11
	rate-fetch: d.xml:5: unknown currency ${SQ}J1Y${SQ} on 2022-07-11
	rate-fetch: d.xml:5: unknown currency ${SQ}XXXX${SQ} on 2022-07-11
	EOF
    test_cmp expect err
'

test_expect_success 'order-rate-pin refuses a code, a rate and a time the schema would store' '
    test_expect_code 65 order-rate-pin --to EUR E1 16500 jpy 2>err &&
    test_expect_code 65 order-rate-pin --to EUR E1 16500 J1Y 2>>err &&
    test_expect_code 65 order-rate-pin --preview-rate 1. --to EUR E1 16500 JPY 2>>err &&
    test_expect_code 65 order-rate-pin --preview-rate 0,007 --to EUR E1 16500 JPY 2>>err &&
    test_expect_code 65 order-rate-pin --created-at "2022-07-12 09:00:00" \
        --to EUR E1 16500 JPY 2>>err &&
    test_expect_code 65 order-rate-pin --created-at 2022-07-12T09:00:00 \
        --to EUR E1 16500 JPY 2>>err &&
    cat >expect <<-EOF &&
	order-rate-pin: currency: ${SQ}jpy${SQ} is not an ISO 4217 currency
	order-rate-pin: currency: ${SQ}J1Y${SQ} is not an ISO 4217 currency
	order-rate-pin: preview_rate: ${SQ}1.${SQ} is not a rate
	order-rate-pin: preview_rate: ${SQ}0,007${SQ} is not a rate
	order-rate-pin: created_at: ${SQ}2022-07-12 09:00:00${SQ} is not YYYY-MM-DDTHH:MM:SSZ
	order-rate-pin: created_at: ${SQ}2022-07-12T09:00:00${SQ} is not YYYY-MM-DDTHH:MM:SSZ
	EOF
    test_cmp expect err &&
    test_expect_code 64 order-rate-pin --to eur E1 16500 JPY 2>err &&
    head -n 1 err >actual &&
    echo "order-rate-pin: --to: unknown currency ${SQ}eur${SQ}" >expect &&
    test_cmp expect actual &&
    test_sql "$DAIGOU_DB" "SELECT count(*) FROM orders" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_expect_success 'refund-calc refuses an unknown code for an unpinned order' '
    test_expect_code 64 refund-calc --allow-fallback --order-amount 8000 \
        --currency J1Y --charge-currency USD --all B9 2>err &&
    test_expect_code 64 refund-calc --allow-fallback --order-amount 8000 \
        --currency JPY --charge-currency usd --all B9 2>>err &&
    grep -v "^usage:\|^  " err >actual &&
    cat >expect <<-EOF &&
	refund-calc: --currency: unknown currency ${SQ}J1Y${SQ}
	refund-calc: --charge-currency: unknown currency ${SQ}usd${SQ}
	EOF
    test_cmp expect actual
'

test_expect_success 'every row the tools store meets schema 1'"'"'s checks' '
    order-rate-pin -q --to EUR --base USD A1 16500 JPY >/dev/null &&
    order-rate-pin -q --to JPY A2 102.30 EUR >/dev/null &&
    order-rate-pin -q --to EUR --base EUR A3 55.00 EUR >/dev/null &&
    refund-calc -q --record --refund-id R1 --amount 3000 A1 >/dev/null &&
    refund-calc -q --record --refund-id R2 --allow-fallback --order-amount 8000 \
        --currency JPY --charge-currency USD --all B9 >/dev/null 2>&1 &&
    test_sql "$DAIGOU_DB" "
        SELECT count(*) FROM orders; SELECT count(*) FROM order_rates;
        SELECT count(*) FROM refunds;
        SELECT count(*) FROM rates WHERE NOT (
            base GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            quote GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            rate GLOB ${SQ}[0-9]*${SQ} AND rate NOT GLOB ${SQ}*[^0-9.]*${SQ} AND
            rate NOT GLOB ${SQ}*.*.*${SQ} AND rate NOT GLOB ${SQ}*.${SQ} AND
            as_of GLOB ${SQ}[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]${SQ} AND
            fetched_at GLOB ${SQ}[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z${SQ});
        SELECT count(*) FROM orders WHERE NOT (
            currency GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            charge_currency GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            coalesce(base_currency, ${SQ}EUR${SQ}) GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            created_at GLOB ${SQ}[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z${SQ} AND
            length(content_sha256) = 64 AND
            content_sha256 NOT GLOB ${SQ}*[^0-9a-f]*${SQ});
        SELECT count(*) FROM order_rates WHERE NOT (
            from_currency GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            to_currency GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            coalesce(mul_rate, ${SQ}1${SQ}) NOT GLOB ${SQ}*[^0-9.]*${SQ} AND
            coalesce(div_rate, ${SQ}1${SQ}) NOT GLOB ${SQ}*[^0-9.]*${SQ} AND
            effective_rate GLOB ${SQ}[0-9]*${SQ} AND
            effective_rate NOT GLOB ${SQ}*[^0-9.]*${SQ} AND
            effective_rate NOT GLOB ${SQ}*.*.*${SQ} AND
            effective_rate NOT GLOB ${SQ}*.${SQ} AND
            coalesce(rate_as_of, ${SQ}2022-07-08${SQ}) GLOB ${SQ}[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]${SQ} AND
            pinned_at GLOB ${SQ}[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z${SQ});
        SELECT count(*) FROM refunds WHERE NOT (
            currency GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            charge_currency GLOB ${SQ}[A-Z][A-Z][A-Z]${SQ} AND
            pinned_rate NOT GLOB ${SQ}*[^0-9.]*${SQ} AND
            coalesce(live_rate, ${SQ}1${SQ}) NOT GLOB ${SQ}*[^0-9.]*${SQ} AND
            created_at GLOB ${SQ}[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z${SQ});
        SELECT count(*) FROM events WHERE NOT
            at GLOB ${SQ}[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z${SQ}" >actual &&
    printf "%s\n" 4 4 2 0 0 0 0 0 >expect &&
    test_cmp expect actual
'

test_done
