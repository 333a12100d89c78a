#!/bin/sh
# t0020-db-schema: the database file: creation and migration, the tables
# and their documentation, the append-only triggers, refusals (newer
# schema, not a database, missing file for readers), concurrent creation
# and lock waits.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
MAN_DB=$top_srcdir/man/daigou.db.5

# man_columns TABLE: "column TYPE" for every column daigou.db.5 lists
# under ".Ss TABLE" (".It Va a , b Pq Vt TYPE ..."), sorted.
man_columns() {
    awk -v t="$1" '
        /^\.S[sh] / { in_table = ($0 == ".Ss " t); next }
        in_table && /^\.It Va / {
            names = substr($0, 8)
            type = names
            sub(/ Pq Vt .*/, "", names)
            sub(/.* Pq Vt /, "", type)
            split(type, word, " ")
            n = split(names, col, / , /)
            for (i = 1; i <= n; i++)
                print col[i], word[1]
        }' "$MAN_DB" | sort
}

# man_tables: the ".Ss" sections of daigou.db.5 that list columns.
man_tables() {
    awk '
        /^\.Ss / { section = $2 }
        /^\.It Va / && section != "" { print section }' "$MAN_DB" | sort -u
}

# db_columns DB TABLE: "column TYPE" from the database, sorted.
db_columns() {
    test_sql "$1" "SELECT name || ' ' || type FROM pragma_table_info('$2')" |
        sort
}

# hold_lock DB MS: hold the write lock of DB for MS milliseconds in the
# background; returns once it is held. HOLDER is the holder's pid, its
# output goes to hold.out.
hold_lock() {
    "$TEST_TOOL" db begin-hold "$1" "$2" >hold.out 2>hold.err &
    HOLDER=$!
    hl_i=0
    until grep -q "^held\$" hold.out 2>/dev/null; do
        hl_i=$((hl_i + 1))
        if [ $hl_i -gt 200 ] || ! kill -0 "$HOLDER" 2>/dev/null; then
            echo "the lock holder did not start" >&2
            cat hold.err >&2
            return 1
        fi
        sleep 0.05
    done
}

# One row in every table, as the tools write them.
write_fixture() {
    cat >fixture.sql <<-\EOT
	INSERT INTO rates VALUES (1, 'ecb', 'EUR', 'JPY', '161.29',
	    '2026-06-09', '2026-06-09T15:00:00Z', 'eurofxref-daily.xml');
	INSERT INTO fetch_state VALUES ('https://ecb.example/daily.xml',
	    '"v1"', NULL, 200, '2026-06-09T15:00:00Z', '2026-06-09T15:00:00Z');
	INSERT INTO orders VALUES ('A1', 16500, 'JPY', 'EUR', NULL, 'pinned',
	    '2026-06-10T09:09:24Z',
	    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
	INSERT INTO order_items VALUES ('A1', 1, 'SKU-1', 1, 10000),
	    ('A1', 2, 'SKU-2', 1, 6500);
	INSERT INTO order_rates VALUES (1, 'A1', 'charge', 'JPY', 'EUR', 16500,
	    10230, 'inverse', 'ecb', NULL, 1, NULL, '161.29',
	    '0.00620001240002', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z');
	INSERT INTO payments VALUES (1, 'stripe', 'ch_1', 'charge', 'A1', 10230,
	    'EUR', 'completed', NULL, 'charge.succeeded',
	    'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
	    '2026-06-10T09:10:00Z', NULL, 'evt_1');
	INSERT INTO payment_status VALUES (1, 1, 'reversed', 'charge.dispute.closed',
	    'evt_2',
	    'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',
	    '2026-06-12T09:10:00Z');
	INSERT INTO paypal_certs VALUES ('https://api.paypal.com/v1/notifications/certs/CERT-1',
	    '-----BEGIN CERTIFICATE-----',
	    'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd',
	    '2026-06-10T09:10:00Z');
	INSERT INTO refunds VALUES (1, 'R1', 'A1', 10000, 'JPY', 6200, 'EUR',
	    '0.00620001240002', NULL, NULL, NULL, 'pinned', 'lines=1',
	    '2026-06-11T10:00:00Z');
	INSERT INTO refund_lines VALUES ('R1', 1, 1, 6200);
	INSERT INTO images (product_id, url, updated_at) VALUES
	    ('P1', 'https://img.example/p1.jpg', '2026-06-10T09:09:24Z');
	EOT
}

test_expect_success 'the path: --db, else DAIGOU_DB, else daigou.db' '
    printf "%s\n" daigou.db /srv/env.db opt.db daigou.db >expect &&
    {
        "$TEST_TOOL" db path &&
        DAIGOU_DB=/srv/env.db "$TEST_TOOL" db path &&
        DAIGOU_DB=/srv/env.db "$TEST_TOOL" db path opt.db &&
        DAIGOU_DB= "$TEST_TOOL" db path
    } >actual &&
    test_cmp expect actual
'

test_expect_success 'an empty file is migrated to schema version 4' '
    : >shop.db &&
    "$TEST_TOOL" db open shop.db >out 2>err &&
    echo 4 >expect &&
    test_cmp expect out &&
    test_line_count = 0 err &&
    test_sql shop.db "PRAGMA user_version" >actual &&
    test_cmp expect actual &&
    echo wal >expect &&
    test_sql shop.db "PRAGMA journal_mode" >actual &&
    test_cmp expect actual &&
    echo 1145524053 >expect &&
    test_sql shop.db "PRAGMA application_id" >actual &&
    test_cmp expect actual
'

test_expect_success 'a missing file is created, migrated, and the migration logged' '
    "$TEST_TOOL" db open new.db >out &&
    test -s new.db &&
    echo 4 >expect &&
    test_cmp expect out &&
    echo "dg-test-tool|schema_migrated|4|migrated from schema version 0 to 4" >expect &&
    test_sql new.db "SELECT tool, kind, subject, detail FROM events" >actual &&
    test_cmp expect actual
'

test_expect_success 'every table is present, and STRICT' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    cat >expect <<-\EOT &&
	events
	fetch_state
	images
	order_items
	order_rates
	orders
	payment_status
	payments
	paypal_certs
	rates
	refund_lines
	refunds
	EOT
    test_sql shop.db "SELECT name FROM sqlite_master
        WHERE type = ${SQ}table${SQ} ORDER BY name" >actual &&
    test_cmp expect actual &&
    test_sql shop.db "SELECT name FROM sqlite_master
        WHERE type = ${SQ}table${SQ} AND sql LIKE ${SQ}%) STRICT${SQ}
        ORDER BY name" >actual &&
    test_cmp expect actual
'

test_expect_success 'the triggers and indexes' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    cat >expect <<-\EOT &&
	index|events_at
	index|events_kind_at
	index|images_failed
	index|images_product
	index|payments_order
	index|payments_parent
	index|refunds_order
	trigger|order_items_no_delete
	trigger|order_items_no_update
	trigger|order_rates_no_delete
	trigger|order_rates_no_update
	trigger|orders_immutable
	trigger|orders_no_delete
	trigger|payment_status_no_delete
	trigger|payment_status_no_update
	trigger|payments_no_delete
	trigger|payments_no_update
	trigger|refund_lines_no_delete
	trigger|refund_lines_no_update
	trigger|refunds_no_delete
	trigger|refunds_no_update
	EOT
    test_sql shop.db "SELECT type, name FROM sqlite_master
        WHERE type IN (${SQ}index${SQ}, ${SQ}trigger${SQ}) AND sql NOT NULL
        ORDER BY type, name" >actual &&
    test_cmp expect actual
'

test_expect_success 'daigou.db.5 documents every table and column, with its type' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    test_sql shop.db "SELECT name FROM sqlite_master
        WHERE type = ${SQ}table${SQ} ORDER BY name" >tables &&
    man_tables >man-tables &&
    test_cmp tables man-tables &&
    while read -r t; do
        db_columns shop.db "$t" >"db-$t" &&
        man_columns "$t" >"man-$t" &&
        test_cmp "db-$t" "man-$t" || return 1
    done <tables
'

test_expect_success 'opening a current file again changes nothing' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    cp shop.db before.db &&
    "$TEST_TOOL" db open shop.db >out &&
    "$TEST_TOOL" db open-ro shop.db >>out &&
    printf "4\n4\n" >expect &&
    test_cmp expect out &&
    cmp before.db shop.db &&
    echo 1 >expect &&
    test_sql shop.db "SELECT count(*) FROM events" >actual &&
    test_cmp expect actual
'

test_expect_success 'UPDATE and DELETE are refused on the append-only tables' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    write_fixture &&
    test_sql shop.db ".read fixture.sql" &&
    for t in order_items order_rates payments payment_status refunds refund_lines; do
        test_sql shop.db "SELECT * FROM $t" >before &&
        test -s before &&
        test_must_fail test_sql shop.db "UPDATE $t SET rowid = rowid" 2>err &&
        grep "$t is append-only" err &&
        test_must_fail test_sql shop.db "DELETE FROM $t" 2>err &&
        grep "$t is append-only" err &&
        test_sql shop.db "SELECT * FROM $t" >after &&
        test_cmp before after || return 1
    done
'

test_expect_success 'orders: only the state may change, nothing is deleted' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    write_fixture &&
    test_sql shop.db ".read fixture.sql" &&
    test_must_fail test_sql shop.db "UPDATE orders SET amount = 1" 2>err &&
    grep "orders: only state may change" err &&
    test_must_fail test_sql shop.db "DELETE FROM orders" 2>err &&
    grep "orders: rows cannot be deleted" err &&
    test_sql shop.db "UPDATE orders SET state = ${SQ}paid${SQ}" &&
    echo "16500|paid" >expect &&
    test_sql shop.db "SELECT amount, state FROM orders" >actual &&
    test_cmp expect actual
'

test_expect_success 'INSERT OR REPLACE through the library is refused as well' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    write_fixture &&
    test_sql shop.db ".read fixture.sql" &&
    test_expect_code 74 "$TEST_TOOL" db exec shop.db \
        "INSERT OR REPLACE INTO payments (gateway, gateway_txn_id, kind,
            amount, currency, status, payload_sha256, received_at)
         VALUES (?1, ?2, ${SQ}charge${SQ}, 1, ${SQ}EUR${SQ}, ?3, ?4, ?5)" \
        stripe ch_1 succeeded \
        cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc \
        2026-06-10T09:11:00Z 2>err &&
    echo "dg-test-tool: cannot run the statement: payments is append-only" >expect &&
    test_cmp expect err &&
    echo 10230 >expect &&
    test_sql shop.db "SELECT amount FROM payments" >actual &&
    test_cmp expect actual
'

test_expect_success 'a payment key, a refund id and an order pair count once' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    write_fixture &&
    test_sql shop.db ".read fixture.sql" &&
    test_expect_code 74 "$TEST_TOOL" db exec shop.db \
        "INSERT INTO payments (gateway, gateway_txn_id, kind, amount,
            currency, status, payload_sha256, received_at)
         SELECT gateway, gateway_txn_id, kind, amount, currency, status,
            payload_sha256, received_at FROM payments" 2>err &&
    test_expect_code 74 "$TEST_TOOL" db exec shop.db \
        "INSERT INTO refunds (refund_id, order_id, refund_amount, currency,
            charge_refund, charge_currency, pinned_rate, rate_source,
            request, created_at)
         SELECT refund_id, order_id, 1, currency, 1, charge_currency,
            pinned_rate, rate_source, request, created_at FROM refunds" \
        2>>err &&
    test_expect_code 74 "$TEST_TOOL" db exec shop.db \
        "INSERT INTO order_rates (order_id, kind, from_currency,
            to_currency, amount, converted, method, provider, div_rate_id,
            div_rate, effective_rate, rounding, rate_as_of, pinned_at)
         SELECT order_id, ${SQ}base${SQ}, from_currency, to_currency,
            amount, converted, method, provider, div_rate_id, div_rate,
            effective_rate, rounding, rate_as_of, pinned_at
         FROM order_rates" 2>>err &&
    cat >expect <<-\EOT &&
	dg-test-tool: cannot run the statement: UNIQUE constraint failed: payments.gateway, payments.gateway_txn_id
	dg-test-tool: cannot run the statement: UNIQUE constraint failed: refunds.refund_id
	dg-test-tool: cannot run the statement: UNIQUE constraint failed: order_rates.order_id, order_rates.from_currency, order_rates.to_currency
	EOT
    test_cmp expect err
'

test_expect_success 'money is an integer and a currency is three capitals' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    write_fixture &&
    test_sql shop.db ".read fixture.sql" &&
    test_expect_code 74 "$TEST_TOOL" db exec shop.db \
        "INSERT INTO order_items VALUES (${SQ}A1${SQ}, 3, NULL, 1, 12.5)" \
        2>err &&
    test_expect_code 74 "$TEST_TOOL" db exec shop.db \
        "INSERT INTO rates (provider, base, quote, rate, as_of, fetched_at)
         VALUES (${SQ}ecb${SQ}, ${SQ}EUR${SQ}, ${SQ}usd${SQ}, ${SQ}1.08${SQ},
            ${SQ}2026-06-09${SQ}, ${SQ}2026-06-09T15:00:00Z${SQ})" 2>>err &&
    cat >expect <<-\EOT &&
	dg-test-tool: cannot run the statement: cannot store REAL value in INTEGER column order_items.amount
	dg-test-tool: cannot run the statement: CHECK constraint failed: length(quote) = 3 AND quote BETWEEN '"'"'AAA'"'"' AND '"'"'ZZZ'"'"'
	EOT
    test_cmp expect err
'

# refused_rows: one INSERT a line that every rule kept in SQL must refuse,
# each beside the fixture's rows (write_fixture). The rules the library
# keeps (a known ISO 4217 code, a rate's exact syntax, a real date and
# time, a digest's hex digits) are in t0025 and check_db.
refused_rows() {
    cat <<-\EOT
	INSERT INTO rates VALUES (9, '', 'EUR', 'USD', '1.08', '2026-06-09', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EUR', 'EUR', '1', '2026-06-09', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EURO', 'USD', '1.08', '2026-06-09', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EUR', 'usd', '1.08', '2026-06-09', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EUR', 'USD', '-1.08', '2026-06-09', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EUR', 'USD', '', '2026-06-09', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EUR', 'USD', '1.08', '2026-6-9', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EUR', 'USD', '1.08', '2026-06-09', '2026-06-09 15:00:00', NULL)
	INSERT INTO rates VALUES (9, 'ecb', 'EUR', 'JPY', '161.30', '2026-06-09', '2026-06-09T15:00:00Z', NULL)
	INSERT INTO fetch_state VALUES ('https://x.example/', NULL, NULL, 200, 'yesterday', NULL)
	INSERT INTO orders VALUES ('', 1, 'JPY', 'EUR', NULL, 'pinned', '2026-06-10T09:09:24Z', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
	INSERT INTO orders VALUES ('A2', 0, 'JPY', 'EUR', NULL, 'pinned', '2026-06-10T09:09:24Z', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
	INSERT INTO orders VALUES ('A2', 102.3, 'EUR', 'EUR', NULL, 'pinned', '2026-06-10T09:09:24Z', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
	INSERT INTO orders VALUES ('A2', 1, 'JPY', 'EUR', 'us', 'pinned', '2026-06-10T09:09:24Z', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
	INSERT INTO orders VALUES ('A2', 1, 'JPY', 'EUR', NULL, 'shipped', '2026-06-10T09:09:24Z', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
	INSERT INTO orders VALUES ('A2', 1, 'JPY', 'EUR', NULL, 'pinned', '2026-06-10T09:09:24Z', 'aaaa')
	INSERT INTO orders VALUES ('A2', 1, 'JPY', 'EUR', NULL, 'pinned', '2026-06-10T09:09:24Z', NULL)
	INSERT INTO orders VALUES ('A1', 1, 'JPY', 'EUR', NULL, 'pinned', '2026-06-10T09:09:24Z', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
	INSERT INTO order_items VALUES ('A1', 0, NULL, 1, 100)
	INSERT INTO order_items VALUES ('A1', 3, NULL, 0, 100)
	INSERT INTO order_items VALUES ('A1', 3, NULL, 1, -1)
	INSERT INTO order_items VALUES ('A1', 2, NULL, 1, 100)
	INSERT INTO order_items VALUES ('Z9', 1, NULL, 1, 100)
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'guess', 'ecb', 1, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'inverse', 'ecb', 1, '161.29', '0.0062', 'bankers', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'report', 'JPY', 'USD', 16500, 1, 'inverse', 'ecb', 1, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'direct', 'ecb', 1, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'identity', NULL, NULL, NULL, '1', 'half-up', NULL, '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'inverse', 'ecb', NULL, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'inverse', NULL, 1, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'inverse', 'ecb', 1, '161.29', '.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 0, 1, 'inverse', 'ecb', 1, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', 'base', 'JPY', 'USD', 16500, 1, 'inverse', 'ecb', 99, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO order_rates (order_id, kind, from_currency, to_currency, amount, converted, method, provider, div_rate_id, div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES ('Z9', 'base', 'JPY', 'USD', 16500, 1, 'inverse', 'ecb', 1, '161.29', '0.0062', 'half-up', '2026-06-09', '2026-06-10T09:09:24Z')
	INSERT INTO payments VALUES (9, 'stripe', 'ch_9', 'chargeback', 'A1', 1, 'EUR', 'succeeded', NULL, NULL, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-06-10T09:10:00Z', NULL, NULL)
	INSERT INTO payments VALUES (9, 'stripe', 'ch_9', 'charge', 'A1', 1, 'EUR', 'succeeded', 'ch_1', NULL, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-06-10T09:10:00Z', NULL, NULL)
	INSERT INTO payments VALUES (9, 'stripe', '', 'charge', 'A1', 1, 'EUR', 'succeeded', NULL, NULL, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-06-10T09:10:00Z', NULL, NULL)
	INSERT INTO payments VALUES (9, 'stripe', 'ch_9', 'charge', 'A1', -1, 'EUR', 'succeeded', NULL, NULL, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-06-10T09:10:00Z', NULL, NULL)
	INSERT INTO payments VALUES (9, 'stripe', 'ch_9', 'charge', 'A1', 1, 'EUR', 'succeeded', NULL, NULL, 'bbbb', '2026-06-10T09:10:00Z', NULL, NULL)
	INSERT INTO payments VALUES (9, 'stripe', 'ch_1', 'charge', 'A1', 1, 'EUR', 'succeeded', NULL, NULL, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '2026-06-10T09:10:00Z', NULL, NULL)
	INSERT INTO payment_status VALUES (9, 1, 'succeeded', NULL, NULL, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', '2026-06-12T09:10:00Z')
	INSERT INTO payment_status VALUES (9, 9, 'failed', NULL, NULL, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', '2026-06-12T09:10:00Z')
	INSERT INTO payment_status VALUES (9, 1, 'reversed', NULL, NULL, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', '2026-06-12T09:10:00Z')
	INSERT INTO payment_status VALUES (9, 1, 'failed', NULL, NULL, 'cccc', '2026-06-12T09:10:00Z')
	INSERT INTO payment_status VALUES (9, 1, 'failed', NULL, NULL, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', '2026-06-12')
	INSERT INTO paypal_certs VALUES ('', 'x', 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd', '2026-06-10T09:10:00Z')
	INSERT INTO paypal_certs VALUES ('https://api.paypal.com/c', '', 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd', '2026-06-10T09:10:00Z')
	INSERT INTO paypal_certs VALUES ('https://api.paypal.com/c', 'x', 'dddd', '2026-06-10T09:10:00Z')
	INSERT INTO paypal_certs VALUES ('https://api.paypal.com/c', 'x', 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd', 'now')
	INSERT INTO paypal_certs VALUES ('https://api.paypal.com/v1/notifications/certs/CERT-1', 'x', 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd', '2026-06-10T09:10:00Z')
	INSERT INTO refunds VALUES (9, 'R9', 'A1', 1, 'JPY', 1, 'EUR', '0.0062', NULL, NULL, NULL, 'guess', 'lines=1', '2026-06-11T10:00:00Z')
	INSERT INTO refunds VALUES (9, 'R9', 'A1', -1, 'JPY', 1, 'EUR', '0.0062', NULL, NULL, NULL, 'pinned', 'lines=1', '2026-06-11T10:00:00Z')
	INSERT INTO refunds VALUES (9, 'R9', 'A1', 1, 'JPY', 1, 'EUR', 'x', NULL, NULL, NULL, 'pinned', 'lines=1', '2026-06-11T10:00:00Z')
	INSERT INTO refunds VALUES (9, 'R9', 'Z9', 1, 'JPY', 1, 'EUR', '0.0062', NULL, NULL, NULL, 'pinned', 'lines=1', '2026-06-11T10:00:00Z')
	INSERT INTO refunds VALUES (9, 'R1', 'A1', 1, 'JPY', 1, 'EUR', '0.0062', NULL, NULL, NULL, 'pinned', 'lines=1', '2026-06-11T10:00:00Z')
	INSERT INTO refund_lines VALUES ('R1', 2, 0, 1)
	INSERT INTO refund_lines VALUES ('R9', 1, 1, 1)
	INSERT INTO images (product_id, url, status, updated_at) VALUES ('P2', 'https://img.example/p2.jpg', 'done', '2026-06-10T09:09:24Z')
	INSERT INTO images (product_id, url, sha256, updated_at) VALUES ('P2', 'https://img.example/p2.jpg', 'abc', '2026-06-10T09:09:24Z')
	INSERT INTO images (product_id, url, attempts, updated_at) VALUES ('P2', 'https://img.example/p2.jpg', -1, '2026-06-10T09:09:24Z')
	INSERT INTO images (product_id, url, updated_at) VALUES ('P2', 'https://img.example/p1.jpg', '2026-06-10T09:09:24Z')
	INSERT INTO events (at, tool, kind) VALUES ('2026-06-10T09:09:24Z', 'x', '')
	EOT
}

# refused_messages: SQLite's reason for each of refused_rows, in order.
refused_messages() {
    cat <<-\EOT
	CHECK constraint failed: provider <> ''
	CHECK constraint failed: base <> quote
	CHECK constraint failed: length(base) = 3 AND base BETWEEN 'AAA' AND 'ZZZ'
	CHECK constraint failed: length(quote) = 3 AND quote BETWEEN 'AAA' AND 'ZZZ'
	CHECK constraint failed: rate >= '0' AND rate < ':'
	CHECK constraint failed: rate >= '0' AND rate < ':'
	CHECK constraint failed: length(as_of) = 10 AND as_of >= '0' AND as_of < ':'
	CHECK constraint failed: length(fetched_at) = 20 AND fetched_at >= '0' AND fetched_at < ':'
	UNIQUE constraint failed: rates.provider, rates.base, rates.quote, rates.as_of
	CHECK constraint failed: length(checked_at) = 20 AND checked_at >= '0' AND checked_at < ':'
	CHECK constraint failed: order_id <> ''
	CHECK constraint failed: amount > 0
	cannot store REAL value in INTEGER column orders.amount
	CHECK constraint failed: length(base_currency) = 3 AND base_currency BETWEEN 'AAA' AND 'ZZZ'
	CHECK constraint failed: state = 'pinned' OR state = 'paid' OR state = 'partially_refunded' OR state = 'refunded' OR state = 'cancelled'
	CHECK constraint failed: length(content_sha256) = 64
	NOT NULL constraint failed: orders.content_sha256
	UNIQUE constraint failed: orders.order_id
	CHECK constraint failed: line > 0
	CHECK constraint failed: qty > 0
	CHECK constraint failed: amount >= 0
	UNIQUE constraint failed: order_items.order_id, order_items.line
	FOREIGN KEY constraint failed
	CHECK constraint failed: method = 'identity' OR method = 'direct' OR method = 'inverse' OR method = 'cross'
	CHECK constraint failed: rounding = 'half-up' OR rounding = 'half-even'
	CHECK constraint failed: kind = 'charge' OR kind = 'base'
	CHECK constraint failed: (mul_rate IS NOT NULL) = (method = 'direct' OR method = 'cross')
	CHECK constraint failed: (method = 'identity') = (from_currency = to_currency)
	CHECK constraint failed: (div_rate_id IS NULL) = (div_rate IS NULL)
	CHECK constraint failed: method = 'identity' OR (provider IS NOT NULL AND rate_as_of IS NOT NULL)
	CHECK constraint failed: effective_rate >= '0' AND effective_rate < ':'
	CHECK constraint failed: amount > 0
	FOREIGN KEY constraint failed
	FOREIGN KEY constraint failed
	CHECK constraint failed: kind = 'charge' OR kind = 'refund'
	CHECK constraint failed: kind = 'refund' OR parent_txn_id IS NULL
	CHECK constraint failed: gateway_txn_id <> ''
	CHECK constraint failed: amount >= 0
	CHECK constraint failed: length(payload_sha256) = 64
	UNIQUE constraint failed: payments.gateway, payments.gateway_txn_id
	CHECK constraint failed: status = 'pending' OR status = 'completed' OR status = 'failed' OR status = 'reversed'
	FOREIGN KEY constraint failed
	UNIQUE constraint failed: payment_status.payment_id, payment_status.status
	CHECK constraint failed: length(payload_sha256) = 64
	CHECK constraint failed: length(received_at) = 20 AND received_at >= '0' AND received_at < ':'
	CHECK constraint failed: url <> ''
	CHECK constraint failed: pem <> ''
	CHECK constraint failed: length(sha256) = 64
	CHECK constraint failed: length(fetched_at) = 20 AND fetched_at >= '0' AND fetched_at < ':'
	UNIQUE constraint failed: paypal_certs.url
	CHECK constraint failed: rate_source = 'pinned' OR rate_source = 'fallback'
	CHECK constraint failed: refund_amount >= 0
	CHECK constraint failed: pinned_rate >= '0' AND pinned_rate < ':'
	FOREIGN KEY constraint failed
	UNIQUE constraint failed: refunds.refund_id
	CHECK constraint failed: qty > 0
	FOREIGN KEY constraint failed
	CHECK constraint failed: status = 'pending' OR status = 'ok' OR status = 'failed'
	CHECK constraint failed: length(sha256) = 64
	CHECK constraint failed: attempts >= 0
	UNIQUE constraint failed: images.url
	CHECK constraint failed: kind <> ''
	EOT
}

test_expect_success 'every rule kept in SQL refuses its bad row' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    write_fixture &&
    test_sql shop.db ".read fixture.sql" &&
    test_sql shop.db .dump >before &&
    refused_rows >rows &&
    : >err &&
    while read -r sql; do
        test_expect_code 74 "$TEST_TOOL" db exec shop.db "$sql" 2>>err ||
            return 1
    done <rows &&
    sed "s/^dg-test-tool: cannot run the statement: //" err >actual &&
    refused_messages >expect &&
    test_cmp expect actual &&
    test_sql shop.db .dump >after &&
    test_cmp before after
'

test_expect_success 'a newer schema is refused by writers and readers' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    test_sql shop.db "PRAGMA user_version = 5" &&
    cp shop.db before.db &&
    echo "dg-test-tool: database ${SQ}shop.db${SQ} has schema version 5, newer than this program${SQ}s 4" >expect &&
    test_expect_code 65 "$TEST_TOOL" db open shop.db >out 2>err &&
    test_cmp expect err &&
    test_line_count = 0 out &&
    test_expect_code 65 "$TEST_TOOL" db open-ro shop.db 2>err &&
    test_cmp expect err &&
    cmp before.db shop.db &&
    echo 5 >expect &&
    test_sql shop.db "PRAGMA user_version" >actual &&
    test_cmp expect actual
'

test_expect_success 'a file that is not a database is refused and left alone' '
    echo "order_id,amount,currency" >orders.db &&
    cp orders.db before &&
    echo "dg-test-tool: cannot open database ${SQ}orders.db${SQ}: file is not a database" >expect &&
    test_expect_code 65 "$TEST_TOOL" db open orders.db 2>err &&
    test_cmp expect err &&
    test_expect_code 65 "$TEST_TOOL" db open-ro orders.db 2>err &&
    test_cmp expect err &&
    cmp before orders.db &&
    ! test -e orders.db-wal
'

test_expect_success "another program's SQLite file is refused and left alone" '
    test_sql other.db "CREATE TABLE rates (day TEXT, rate REAL)" &&
    cp other.db before.db &&
    echo "dg-test-tool: cannot open database ${SQ}other.db${SQ}: not a daigou-tools database" >expect &&
    test_expect_code 65 "$TEST_TOOL" db open other.db 2>err &&
    test_cmp expect err &&
    cmp before.db other.db &&
    echo delete >expect &&
    test_sql other.db "PRAGMA journal_mode" >actual &&
    test_cmp expect actual
'

test_expect_success 'open-ro of a missing file: 66, the path named, nothing created' '
    echo "dg-test-tool: cannot open database ${SQ}missing.db${SQ}: no such file" >expect &&
    test_expect_code 66 "$TEST_TOOL" db open-ro missing.db >out 2>err &&
    test_cmp expect err &&
    test_line_count = 0 out &&
    echo "dg-test-tool: cannot open database ${SQ}no/dir/shop.db${SQ}: no such directory ${SQ}no/dir${SQ}" >expect &&
    test_expect_code 66 "$TEST_TOOL" db open-ro no/dir/shop.db 2>err &&
    test_cmp expect err &&
    ls -A >listing &&
    printf "%s\n" err expect listing out >expect &&
    test_cmp expect listing
'

test_expect_success 'open-ro of an empty file: 66, and it stays empty' '
    : >empty.db &&
    echo "dg-test-tool: cannot open database ${SQ}empty.db${SQ}: it is empty, no tool has written to it yet" >expect &&
    test_expect_code 66 "$TEST_TOOL" db open-ro empty.db 2>err &&
    test_cmp expect err &&
    ! test -s empty.db
'

test_expect_success 'eight processes create one new database at the same moment' '
    pids= &&
    for i in 1 2 3 4 5 6 7 8; do
        (
            while ! test -e go; do sleep 0.01; done
            exec "$TEST_TOOL" db open race.db >out.$i 2>err.$i
        ) &
        pids="$pids $!"
    done &&
    sleep 0.3 &&
    : >go &&
    failed=0 &&
    for pid in $pids; do
        wait "$pid" || failed=$((failed + 1))
    done &&
    test "$failed" = 0 &&
    printf "4\n4\n4\n4\n4\n4\n4\n4\n" >expect &&
    cat out.1 out.2 out.3 out.4 out.5 out.6 out.7 out.8 >actual &&
    test_cmp expect actual &&
    cat err.* >errors &&
    test_line_count = 0 errors &&
    test_sql race.db "PRAGMA integrity_check; PRAGMA user_version;
        SELECT count(*) FROM events WHERE kind = ${SQ}schema_migrated${SQ};
        SELECT count(*) FROM sqlite_master WHERE type = ${SQ}table${SQ}" >actual &&
    printf "ok\n4\n1\n12\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'a writer waits for a lock held less than the busy timeout' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    hold_lock shop.db 1000 &&
    DAIGOU_BUSY_TIMEOUT_MS=10000 "$TEST_TOOL" db event shop.db waited s d &&
    wait "$HOLDER" &&
    printf "held\nreleased\n" >expect &&
    test_cmp expect hold.out &&
    echo 1 >expect &&
    test_sql shop.db "SELECT count(*) FROM events WHERE kind = ${SQ}waited${SQ}" >actual &&
    test_cmp expect actual
'

test_expect_success 'a writer gives up with 75 when the lock is held longer' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    hold_lock shop.db 1500 &&
    test_expect_code 75 env DAIGOU_BUSY_TIMEOUT_MS=200 \
        "$TEST_TOOL" db event shop.db gave_up s d 2>err &&
    wait "$HOLDER" &&
    echo "dg-test-tool: cannot start a transaction on ${SQ}$(pwd -P)/shop.db${SQ}: database is locked" >expect &&
    test_cmp expect err &&
    echo 0 >expect &&
    test_sql shop.db "SELECT count(*) FROM events WHERE kind = ${SQ}gave_up${SQ}" >actual &&
    test_cmp expect actual &&
    DAIGOU_BUSY_TIMEOUT_MS=200 "$TEST_TOOL" db event shop.db retried s d
'

test_expect_success 'readers do not wait for a held write lock' '
    "$TEST_TOOL" db open shop.db >/dev/null &&
    hold_lock shop.db 2500 &&
    DAIGOU_BUSY_TIMEOUT_MS=0 "$TEST_TOOL" db open-ro shop.db >out &&
    DAIGOU_BUSY_TIMEOUT_MS=0 "$TEST_TOOL" db open shop.db >>out &&
    kill -0 "$HOLDER" &&
    wait "$HOLDER" &&
    printf "4\n4\n" >expect &&
    test_cmp expect out
'

test_expect_success 'a malformed DAIGOU_BUSY_TIMEOUT_MS is a usage error' '
    echo "dg-test-tool: malformed DAIGOU_BUSY_TIMEOUT_MS ${SQ}10s${SQ}: want milliseconds from 0 to 86400000" >expect &&
    test_expect_code 64 env DAIGOU_BUSY_TIMEOUT_MS=10s \
        "$TEST_TOOL" db open shop.db 2>err &&
    test_cmp expect err &&
    ! test -e shop.db
'

test_expect_success 'an event records the clock, the tool and its words' '
    DAIGOU_NOW=2026-06-10T09:09:24Z "$TEST_TOOL" db event shop.db \
        rate_jump EUR/JPY "moved 2.5 %" &&
    "$TEST_TOOL" db event shop.db pin_refused &&
    echo "2026-06-10T09:09:24Z|dg-test-tool|rate_jump|EUR/JPY|moved 2.5 %" >expect &&
    echo "dg-test-tool|pin_refused|1|1" >>expect &&
    test_sql shop.db "SELECT at, tool, kind, subject, detail FROM events
        WHERE kind = ${SQ}rate_jump${SQ};
        SELECT tool, kind, subject IS NULL, detail IS NULL FROM events
        WHERE kind = ${SQ}pin_refused${SQ}" >actual &&
    test_cmp expect actual
'

test_done
