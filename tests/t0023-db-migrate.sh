#!/bin/sh
# t0023-db-migrate: a schema-1 database written by the schema-1 tools
# (tests/fixtures/schema1.sql) is migrated to schema 4 by the first tool
# that opens it: every row kept, ids and references intact, the triggers
# still refusing, the pins and refunds read back as stored; a broken
# reference stops the migration and leaves the file as it was.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
export DAIGOU_DB=shop.db
export DAIGOU_NOW=2026-06-10T09:09:24Z

# schema DB: every table, index and trigger with its SQL.
schema() {
    test_sql "$1" "SELECT type, name, tbl_name, sql FROM sqlite_master
        ORDER BY type, name"
}

# The orders of the fixture, as they were pinned.
write_orders() {
    cat >orders.jsonl <<-\EOT
	{"order_id":"A1","amount":"16500","currency":"JPY","charge_currency":"EUR","base_currency":"USD","lines":[{"line":1,"sku":"SKU-1","qty":1,"amount":"10000"},{"line":2,"sku":"SKU-2","qty":1,"amount":"6500"}]}
	{"order_id":"A2","amount":"102.30","currency":"EUR","charge_currency":"JPY","base_currency":"EUR","lines":[{"line":1,"qty":3,"amount":"30.10"},{"line":2,"sku":"Ü-ß \"q\", x","qty":1,"amount":"12.00"}]}
	{"order_id":"A3","amount":"8000","currency":"JPY","charge_currency":"USD","created_at":"2022-07-08T10:00:00Z"}
	{"order_id":"A4","amount":"55.00","currency":"EUR","charge_currency":"EUR","base_currency":"GBP"}
	{"order_id":"A5","amount":"1.250","currency":"KWD","charge_currency":"CNY"}
	EOT
}

test_expect_success 'the fixture is schema 1, with rows from every tool' '
    test_load_schema1 shop.db &&
    test_sql shop.db "PRAGMA user_version; PRAGMA application_id;
        PRAGMA integrity_check;
        SELECT count(*) FROM rates; SELECT count(*) FROM fetch_state;
        SELECT count(*) FROM orders; SELECT count(*) FROM order_items;
        SELECT group_concat(DISTINCT method) FROM
            (SELECT method FROM order_rates ORDER BY method);
        SELECT count(*) FROM refunds WHERE rate_source = ${SQ}fallback${SQ};
        SELECT count(*) FROM refund_lines; SELECT count(*) FROM payments;
        SELECT count(*) FROM images; SELECT count(*) FROM events" >actual &&
    printf "%s\n" 1 1145524053 ok 38 1 7 9 cross,direct,identity,inverse \
        2 2 2 3 6 >expect &&
    test_cmp expect actual
'

test_expect_success 'the first tool to open it migrates: every row kept, the step logged' '
    test_load_schema1 shop.db &&
    test_dump_rows shop.db >before &&
    write_orders &&
    order-rate-pin -q orders.jsonl >out &&
    test_dump_rows shop.db >after &&
    sed -e "/^${SQ}payments${SQ},/s/\$/,NULL,NULL/" \
        -e "/^${SQ}images${SQ},/s/\$/,NULL/" before >expect &&
    echo "${SQ}events${SQ},7,${SQ}2026-06-10T09:09:24Z${SQ},${SQ}order-rate-pin${SQ},${SQ}schema_migrated${SQ},${SQ}4${SQ},${SQ}migrated from schema version 1 to 4${SQ}" >>expect &&
    test_cmp expect after &&
    test_sql shop.db "PRAGMA user_version; PRAGMA integrity_check;
        PRAGMA foreign_key_check; PRAGMA journal_mode" >actual &&
    printf "4\nok\nwal\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'the migrated schema is the schema of a new file' '
    test_load_schema1 shop.db &&
    "$TEST_TOOL" db open shop.db >out &&
    "$TEST_TOOL" db open new.db >>out &&
    printf "4\n4\n" >expect &&
    test_cmp expect out &&
    schema new.db >expect &&
    schema shop.db >actual &&
    test_cmp expect actual
'

test_expect_success 'the images rows keep every column; synced_at is added as NULL' '
    test_load_schema1 shop.db &&
    "$TEST_TOOL" db open shop.db >/dev/null &&
    test_sql shop.db "SELECT id, product_id, url, path, etag, last_modified,
            bytes, status, attempts, last_error, updated_at,
            synced_at IS NULL FROM images ORDER BY id;
        SELECT name FROM sqlite_master WHERE tbl_name = ${SQ}images${SQ}
            AND type = ${SQ}index${SQ} ORDER BY name;
        SELECT id FROM images INDEXED BY images_failed
            WHERE status = ${SQ}failed${SQ}" >actual &&
    cat >expect <<-\EOT &&
	1|P1|https://img.example/p1.jpg|P1/p1.jpg|"e1"|Mon, 11 Jul 2022 10:00:00 GMT|48213|ok|0||2022-07-12T03:00:00Z|1
	2|P2|https://img.example/p2.jpg|||||failed|3|HTTP 404|2022-07-12T03:00:05Z|1
	3|P2|https://img.example/p2b.jpg|||||pending|0||2022-07-12T03:00:05Z|1
	images_failed
	images_product
	sqlite_autoindex_images_1
	2
	EOT
    test_cmp expect actual &&
    test_must_fail test_sql shop.db "UPDATE images SET synced_at = ${SQ}yesterday${SQ}
        WHERE id = 1" 2>err &&
    grep "CHECK constraint failed" err
'

test_expect_success 'the pins read back as existing, unchanged' '
    test_load_schema1 shop.db &&
    write_orders &&
    order-rate-pin orders.jsonl >out 2>err &&
    order-rate-pin --rounding half-even --to EUR --base USD A6 999 JPY >>out &&
    cat >expect <<-\EOT &&
	order_id,amount,currency,charge_amount,charge_currency,rate,base_amount,base_currency,base_rate,rate_as_of,pinned_at,status
	A1,16500,JPY,116.19,EUR,0.00704175762270263,117.33,USD,0.00711076684740511,2022-07-11,2022-07-12T09:09:24Z,existing
	A2,102.30,EUR,14528,JPY,142.01,102.30,EUR,1,2022-07-11,2022-07-12T09:09:24Z,existing
	A3,8000,JPY,58.89,USD,0.00736182542557045,,,,2022-07-08,2022-07-12T09:09:24Z,existing
	A4,55.00,EUR,55.00,EUR,1,46.66,GBP,0.84828,2022-07-11,2022-07-12T09:09:24Z,existing
	A5,1.250,KWD,27.26,CNY,21.8085585585586,,,,2022-07-11,2022-07-12T09:09:24Z,existing
	order_id,amount,currency,charge_amount,charge_currency,rate,base_amount,base_currency,base_rate,rate_as_of,pinned_at,status
	A6,999,JPY,7.03,EUR,0.00704175762270263,7.10,USD,0.00711076684740511,2022-07-11,2022-07-12T09:09:24Z,existing
	EOT
    test_cmp expect out &&
    echo "order-rate-pin: 5 orders: 0 pinned, 5 existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    test_expect_code 65 order-rate-pin --to EUR --base USD A6 1000 JPY 2>err &&
    echo "order-rate-pin: order ${SQ}A6${SQ} is already stored with other contents: nothing changed" >expect &&
    test_cmp expect err
'

test_expect_success 'refund-calc recording a stored refund id prints the stored row' '
    test_load_schema1 shop.db &&
    refund-calc --record --refund-id R1 --lines 1 A1 >out &&
    refund-calc --record --refund-id R5 --charge-amount 10.00 A3 >>out &&
    refund-calc --record --refund-id R6 --allow-fallback --order-amount 8000 \
        --currency JPY --charge-currency USD --amount 3000 B9 >>out 2>err &&
    cat >expect <<-\EOT &&
	order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source
	A1,R1,10000,JPY,70.42,EUR,0.00704175762270263,0.00704175762270263,70.42,0.00,70.42,45.77,pinned
	order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source
	A3,R5,1358,JPY,10.00,USD,0.00736182542557045,0.00711076684740511,9.66,0.34,10.00,48.89,pinned
	order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source
	B9,R6,3000,JPY,21.33,USD,0.00711076684740511,0.00711076684740511,21.33,0.00,21.33,,fallback
	EOT
    test_cmp expect out &&
    test_sql shop.db "SELECT count(*) FROM refunds" >actual &&
    echo 8 >expect &&
    test_cmp expect actual
'

test_expect_success 'after the migration the tools write as before: a pin, a refund, a state' '
    test_load_schema1 shop.db &&
    DAIGOU_NOW=2022-07-12T10:00:00Z \
        order-rate-pin -q --to EUR --base USD A8 2000 JPY >out &&
    DAIGOU_NOW=2022-07-16T10:00:00Z \
        refund-calc -q --record --refund-id R9 --lines 2 A2 >>out &&
    cat >expect <<-\EOT &&
	order_id,amount,currency,charge_amount,charge_currency,rate,base_amount,base_currency,base_rate,rate_as_of,pinned_at,status
	A8,2000,JPY,14.08,EUR,0.00704175762270263,14.22,USD,0.00711076684740511,2022-07-11,2022-07-12T10:00:00Z,pinned
	order_id,refund_id,refund_amount,currency,charge_refund,charge_currency,pinned_rate,live_rate,charge_refund_at_live,fx_difference,refunded_total,refundable_remaining,rate_source
	A2,R9,12.00,EUR,1704,JPY,142.01,142.01,1704,0,10254,4274,pinned
	EOT
    test_cmp expect out &&
    test_sql shop.db "SELECT order_id, state FROM orders ORDER BY order_id;
        SELECT kind, method, mul_rate_id, div_rate_id FROM order_rates
        WHERE order_id = ${SQ}A8${SQ} ORDER BY id" >actual &&
    cat >expect <<-\EOT &&
	A1|refunded
	A2|partially_refunded
	A3|partially_refunded
	A4|partially_refunded
	A5|pinned
	A6|pinned
	A8|pinned
	B9|refunded
	charge|inverse||33
	base|cross|32|33
	EOT
    test_cmp expect actual &&
    test_sql shop.db "PRAGMA foreign_key_check; PRAGMA integrity_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual
'

test_expect_success 'after the migration the append-only tables refuse UPDATE and DELETE' '
    test_load_schema1 shop.db &&
    "$TEST_TOOL" db open shop.db >/dev/null &&
    for t in order_items order_rates payments refunds refund_lines; do
        test_sql shop.db "SELECT * FROM $t" >before &&
        test -s before &&
        test_must_fail test_sql shop.db "UPDATE $t SET rowid = rowid" 2>err &&
        grep "$t is append-only" err &&
        test_must_fail test_sql shop.db "DELETE FROM $t" 2>err &&
        grep "$t is append-only" err &&
        test_must_fail test_sql shop.db "PRAGMA recursive_triggers = ON;
            INSERT OR REPLACE INTO $t SELECT * FROM $t" 2>err &&
        grep "$t is append-only" err &&
        test_sql shop.db "SELECT * FROM $t" >after &&
        test_cmp before after || return 1
    done &&
    test_must_fail test_sql shop.db "UPDATE orders SET amount = 1" 2>err &&
    grep "orders: only state may change" err &&
    test_must_fail test_sql shop.db "UPDATE orders SET content_sha256 = content_sha256" 2>err &&
    grep "orders: only state may change" err &&
    test_must_fail test_sql shop.db "DELETE FROM orders" 2>err &&
    grep "orders: rows cannot be deleted" err
'

test_expect_success 'a reader refuses the schema-1 file and leaves it as it is' '
    test_load_schema1 shop.db &&
    cp shop.db before.db &&
    test_expect_code 65 "$TEST_TOOL" db open-ro shop.db 2>err &&
    echo "dg-test-tool: database ${SQ}shop.db${SQ} has schema version 1, older than this program${SQ}s 4: run a tool that writes to it first" >expect &&
    test_cmp expect err &&
    cmp before.db shop.db
'

test_expect_success 'a reference broken under schema 1 stops the migration: 65, the file left at 1' '
    test_load_schema1 shop.db &&
    test_sql shop.db "INSERT INTO order_items VALUES (${SQ}Z9${SQ}, 1, NULL, 1, 1)" &&
    test_dump_rows shop.db >before &&
    schema shop.db >schema-before &&
    test_expect_code 65 "$TEST_TOOL" db open shop.db >out 2>err &&
    echo "dg-test-tool: cannot migrate database ${SQ}shop.db${SQ} to schema version 4: row 10 of table ${SQ}order_items${SQ} refers to a missing row of table ${SQ}orders${SQ}" >expect &&
    test_cmp expect err &&
    test_line_count = 0 out &&
    test_dump_rows shop.db >after &&
    test_cmp before after &&
    schema shop.db >schema-after &&
    test_cmp schema-before schema-after &&
    test_sql shop.db "PRAGMA user_version" >actual &&
    echo 1 >expect &&
    test_cmp expect actual &&
    test_sql shop.db "DROP TRIGGER order_items_no_delete;
        DELETE FROM order_items WHERE order_id = ${SQ}Z9${SQ};
        CREATE TRIGGER order_items_no_delete BEFORE DELETE ON order_items
        BEGIN SELECT RAISE(ABORT, ${SQ}order_items is append-only${SQ}); END;" &&
    "$TEST_TOOL" db open shop.db >out &&
    echo 4 >expect &&
    test_cmp expect out
'

test_done
