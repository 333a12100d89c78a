#!/bin/sh
# t0112-order-rate-pin-concurrency: eight order-rate-pin runs at once on
# overlapping slices of one order file pin every order exactly once, never
# report a busy database, and agree on every pin; runs killed with SIGKILL
# in the middle of a batch leave a sound database holding every pin they
# printed, and a re-run completes the file without pinning anything twice.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
export DAIGOU_NOW=2026-04-16T08:00:00Z
D=$TRASH
# shellcheck disable=SC2034 # used inside the test bodies
HEADER=order_id,amount,currency,charge_amount,charge_currency,rate,base_amount,base_currency,base_rate,rate_as_of,pinned_at,status

# load_quotes DB: three ECB days, each move under rate-fetch's 2 % valve.
load_quotes() {
    test_ecb_xml @2026-04-13 USD 1.1684 JPY 186.75 GBP 0.87058 CNY 7.9827 KRW 1740.86 >"$D/d13.xml" &&
    test_ecb_xml @2026-04-14 USD 1.1702 JPY 187.10 GBP 0.87120 CNY 7.9950 KRW 1745.20 >"$D/d14.xml" &&
    test_ecb_xml @2026-04-15 USD 1.1691 JPY 186.42 GBP 0.87003 CNY 7.9881 KRW 1738.55 >"$D/d15.xml" &&
    for lq_d in 13 14 15; do
        rate-fetch -q --db "$1" --file "$D/d$lq_d.xml" || return 1
    done
}

gen_orders() {
    "$PYTHON3" "$top_srcdir/bench/gen-orders.py" "$@"
}

# data: the rows of CSV files without their header lines.
data() {
    for dt_f in "$@"; do
        sed 1d "$dt_f" || return 1
    done
}

# db_pins DB: the stored charge pins as order_id,charge_amount,
# charge_currency,rate,rate_as_of,pinned_at (every charge currency here
# has two decimals), sorted.
db_pins() {
    test_sql "$1" "SELECT order_id || ',' || printf('%d.%02d', converted / 100, converted % 100) || ',' || to_currency || ',' || effective_rate || ',' || coalesce(rate_as_of, '') || ',' || pinned_at FROM order_rates WHERE kind = 'charge' ORDER BY order_id" >"$2.unsorted" &&
    sort "$2.unsorted" >"$2"
}

# out_pins FILE...: the same columns from order-rate-pin output rows.
out_pins() {
    cut -d, -f1,4,5,6,10,11 "$@" | sort -u
}

# table_counts DB: the row counts of orders, order_items, order_rates.
table_counts() {
    test_sql "$1" "SELECT (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM order_items) || ' ' || (SELECT count(*) FROM order_rates)"
}

# no_doubles DB: no order has two items rows or two rates rows of a kind.
no_doubles() {
    test_sql "$1" "SELECT 'order_rates', order_id, kind FROM order_rates GROUP BY order_id, kind HAVING count(*) > 1 UNION ALL SELECT 'order_items', order_id, line FROM order_items GROUP BY order_id HAVING count(*) > 1 LIMIT 20" >doubles &&
    test_must_be_empty doubles
}

# ------------------------------------------------------------ concurrency

# Process k of eight pins orders k*1000 .. k*1000+3999 of 10,000, wrapping
# around, so every order is in two to four slices. The batch sizes differ
# so that the transactions of the runs interleave at every grain. Each run
# has its own clock second, which tells from pinned_at which run stored a
# pin.
BATCHES="1000 5 50 1000 13 250 7 100"

# slice K: the header and the orders of slice K, in slice order.
slice() {
    awk -v s="$(($1 * 1000))" '
        NR == 1 { print; next }
        { r[NR - 2] = $0 }
        END { for (j = 0; j < 4000; j++) print r[(s + j) % 10000] }
    ' "$D/orders.csv"
}

# start_pins: the eight runs, held back until all are forked.
start_pins() {
    sp_k=0
    rm -f "$D/go"
    for sp_b in $BATCHES; do
        {
            while [ ! -e "$D/go" ]; do sleep 0.01; done
            DAIGOU_NOW=2026-04-16T09:00:0${sp_k}Z order-rate-pin \
                --db "$D/c.db" --batch "$sp_b" "$D/slice$sp_k.csv" \
                >"$D/out$sp_k.csv" 2>"$D/err$sp_k"
            echo $? >"$D/rc$sp_k"
        } &
        sp_k=$((sp_k + 1))
    done
    : >"$D/go"
}

test_expect_success 'setup: three days of quotes, 10,000 orders in 8 slices' '
    load_quotes "$D/c.db" &&
    test_sql "$D/c.db" "SELECT count(*) FROM rates" >actual &&
    echo 15 >expect &&
    test_cmp expect actual &&
    gen_orders --count 10000 --seed 112 --since 2026-04-13 --days 3 >"$D/orders.csv" &&
    data "$D/orders.csv" >rows &&
    test_line_count = 10000 rows &&
    cut -d, -f1 rows | sort >"$D/want_ids" &&
    sort -u "$D/want_ids" >ids &&
    test_cmp "$D/want_ids" ids &&
    for k in 0 1 2 3 4 5 6 7; do
        slice $k >"$D/slice$k.csv" &&
        data "$D/slice$k.csv" >rows &&
        test_line_count = 4000 rows || return 1
    done &&
    data "$D"/slice?.csv | cut -d, -f1 | sort | uniq -c | sed "s/^ *//; s/ .*//" | sort | uniq -c | sed "s/^ *//" >actual &&
    printf "3000 2\n2000 3\n5000 4\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'eight runs at once: all exit 0, none reports busy or locked' '
    start_pins || exit 1
    wait &&
    cat "$D"/rc? >actual &&
    printf "0\n0\n0\n0\n0\n0\n0\n0\n" >expect &&
    test_cmp expect actual &&
    cat "$D"/err? >errs &&
    if grep -i -e busy -e locked errs; then
        echo "a run reported a busy database" >&2 &&
        return 1
    fi &&
    for k in 0 1 2 3 4 5 6 7; do
        p=$(awk -F, "NR > 1 && \$12 == \"pinned\"" "$D/out$k.csv" | wc -l) &&
        echo "order-rate-pin: 4000 orders: $p pinned, $((4000 - p)) existing, 0 refused, 0 failed" >expect &&
        test_cmp expect "$D/err$k" || return 1
    done
'

test_expect_success 'every order stored once: 10,000 orders, items and rates' '
    table_counts "$D/c.db" >actual &&
    echo "10000 10000 10000" >expect &&
    test_cmp expect actual &&
    no_doubles "$D/c.db" &&
    test_sql "$D/c.db" "SELECT kind, count(DISTINCT order_id) FROM order_rates GROUP BY kind" >actual &&
    echo "charge|10000" >expect &&
    test_cmp expect actual &&
    test_sql "$D/c.db" "SELECT count(*) FROM events WHERE kind IN (${SQ}pin_conflict${SQ}, ${SQ}pin_refused${SQ})" >actual &&
    echo 0 >expect &&
    test_cmp expect actual &&
    test_sql "$D/c.db" "PRAGMA integrity_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual
'

test_expect_success 'the stored orders are the input, one line each' '
    data "$D/orders.csv" | tr -d . | sort >expect &&
    test_sql "$D/c.db" "SELECT order_id || ${SQ},${SQ} || amount || ${SQ},${SQ} || currency || ${SQ},${SQ} || charge_currency || ${SQ},${SQ} || created_at FROM orders" | sort >actual &&
    test_cmp expect actual &&
    test_sql "$D/c.db" "SELECT count(*) FROM orders o JOIN order_items i USING (order_id) WHERE i.line = 1 AND i.qty = 1 AND i.amount = o.amount" >actual &&
    echo 10000 >expect &&
    test_cmp expect actual
'

test_expect_success 'each run printed its own slice, header first' '
    for k in 0 1 2 3 4 5 6 7; do
        sed -n 1p "$D/out$k.csv" >actual &&
        echo "$HEADER" >expect &&
        test_cmp expect actual &&
        data "$D/slice$k.csv" | cut -d, -f1 | sort >expect &&
        data "$D/out$k.csv" | cut -d, -f1 | sort >actual &&
        test_cmp expect actual || return 1
    done
'

test_expect_success 'all runs agree on every pin but its status' '
    data "$D"/out?.csv >all &&
    test_line_count = 32000 all &&
    cut -d, -f1-11 all | sort -u >agreed &&
    cut -d, -f1 agreed >actual &&
    test_cmp "$D/want_ids" actual &&
    data "$D/orders.csv" | sort >expect &&
    cut -d, -f1-3,5 agreed >actual.nodate &&
    cut -d, -f1-4 expect >expect.nodate &&
    test_cmp expect.nodate actual.nodate &&
    awk -F, "\$12 != \"pinned\" && \$12 != \"existing\"" all >odd &&
    test_must_be_empty odd
'

test_expect_success 'exactly 10,000 rows say pinned, one per order' '
    awk -F, "\$12 == \"pinned\" { print \$1 }" "$D"/out?.csv | sort >actual &&
    test_cmp "$D/want_ids" actual
'

test_expect_success 'pinned_at names the run that pinned: its own when pinned, another when existing' '
    for k in 0 1 2 3 4 5 6 7; do
        awk -F, -v t=2026-04-16T09:00:0${k}Z "
            NR > 1 && ((\$12 == \"pinned\") != (\$11 == t)) { print FILENAME \": \" \$0; bad = 1 }
            END { exit bad }" "$D/out$k.csv" || return 1
    done
'

test_expect_success 'the printed pins are the stored pins' '
    db_pins "$D/c.db" expect &&
    data "$D"/out?.csv >all &&
    out_pins all >actual &&
    test_cmp expect actual &&
    test_sql "$D/c.db" "SELECT count(*) FROM orders o JOIN order_rates r USING (order_id) WHERE r.method <> ${SQ}identity${SQ} AND r.rate_as_of <> substr(o.created_at, 1, 10)" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

# ------------------------------------------------------------------ crash

# Four runs on 100,000 orders, each with another batch size and clock
# second, each killed with SIGKILL once its output has passed a row drawn
# from a seeded generator (further into the file for every run: 8,000 to
# 20,000 rows on), plus a random 0 to 50 ms; then a run to the end. The
# kill follows the run's progress, not the clock, so that it lands in the
# middle of the run however fast the machine is; the positions and delays
# are the same every time.
"$PYTHON3" -c 'import random
r = random.Random(112)
at = 0
for n, batch in enumerate((1000, 250, 5000, 1000), 1):
    at += r.randrange(8000, 20000)
    print(n, batch, at, "%.3f" % r.uniform(0, 0.05))' >"$D/kills" || exit 99

# crash_run R BATCH ROW DELAY: start run R, kill -9 it DELAY seconds after
# its output passed ROW rows, then check a copy of the database (so that
# the next run meets the hot WAL the killed one left): integrity, foreign
# keys, and orders, items and rates stored together or not at all.
crash_run() {
    # the file exists before the job has opened it: wc must find it
    : >"$D/kill$1.csv" || return 1
    DAIGOU_NOW=2026-04-16T10:00:0${1}Z order-rate-pin -q --db "$D/k.db" \
        --batch "$2" "$D/big.csv" >"$D/kill$1.csv" 2>"$D/kill$1.err" &
    cr_pid=$!
    cr_i=0
    # kill -0 succeeds on a zombie too: 3000 rounds bound the wait.
    while kill -0 "$cr_pid" 2>/dev/null &&
        [ "$(wc -l <"$D/kill$1.csv")" -le "$3" ] &&
        [ $cr_i -lt 3000 ]; do
        cr_i=$((cr_i + 1))
        sleep 0.01
    done
    sleep "$4"
    kill -9 "$cr_pid" 2>/dev/null
    wait "$cr_pid"
    cr_rc=$?
    case $cr_rc in
    137) cr_what="killed at output line $(wc -l <"$D/kill$1.csv")" ;;
    0) cr_what="done before the kill" ;;
    *)
        echo "run $1 (--batch $2) exited $cr_rc" >&2
        cat "$D/kill$1.err" >&2
        return 1
        ;;
    esac
    test_must_be_empty "$D/kill$1.err" &&
    rm -f check.db check.db-wal check.db-shm &&
    cp "$D/k.db" check.db &&
    if [ -e "$D/k.db-wal" ]; then cp "$D/k.db-wal" check.db-wal; fi &&
    test_sql check.db "PRAGMA integrity_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual &&
    test_sql check.db "PRAGMA foreign_key_check" >actual &&
    test_must_be_empty actual &&
    table_counts check.db >counts &&
    read -r cr_o cr_items cr_r <counts &&
    if [ "$cr_o" != "$cr_items" ] || [ "$cr_o" != "$cr_r" ]; then
        echo "run $1: orders, items and rates differ: $cr_o $cr_items $cr_r" >&2
        return 1
    fi &&
    no_doubles check.db &&
    echo "run $1 (--batch $2, kill after row $3 + $4 s): $cr_what, $cr_o orders stored" >>"$D/crash.log"
}

# complete FILE: the whole rows (twelve fields, a known status) a killed
# run printed; only the last line may have been cut by the kill.
complete() {
    awk -F, 'NR > 1 && NF == 12 && ($12 == "pinned" || $12 == "existing")' "$1"
}

test_expect_success 'crash: kill -9 four times in the middle of a run' '
    load_quotes "$D/k.db" &&
    gen_orders --count 100000 --seed 1120 --prefix K- --since 2026-04-13 --days 3 >"$D/big.csv" &&
    data "$D/big.csv" | cut -d, -f1 | sort >"$D/big_ids" &&
    while read -r run batch row delay; do
        crash_run "$run" "$batch" "$row" "$delay" || return 1
    done <"$D/kills"
'

if [ -s "$D/crash.log" ]; then
    while read -r line; do say "$line"; done <"$D/crash.log"
fi

test_expect_success 'crash: a killed run printed whole rows only, but for the last' '
    for r in 1 2 3 4; do
        if [ -s "$D/kill$r.csv" ]; then
            sed -n 1p "$D/kill$r.csv" >actual &&
            echo "$HEADER" >expect &&
            test_cmp expect actual &&
            n=$(wc -l <"$D/kill$r.csv") &&
            awk -F, -v n="$n" "NR > 1 && NR < n && !(NF == 12 && (\$12 == \"pinned\" || \$12 == \"existing\"))" "$D/kill$r.csv" >bad &&
            test_must_be_empty bad || return 1
        fi
    done
'

test_expect_success 'crash: every pin a killed run printed is stored as printed' '
    db_pins "$D/k.db" stored &&
    for r in 1 2 3 4; do
        complete "$D/kill$r.csv" >rows &&
        out_pins rows >printed &&
        comm -23 printed stored >lost &&
        test_must_be_empty lost &&
        awk -F, -v t=2026-04-16T10:00:0${r}Z "(\$12 == \"pinned\") != (\$11 == t)" rows >bad &&
        test_must_be_empty bad || return 1
    done
'

test_expect_success 'crash: a run to the end pins the rest, each order once' '
    table_counts "$D/k.db" >counts &&
    read -r before items rates <counts &&
    DAIGOU_NOW=2026-04-16T10:00:09Z order-rate-pin --db "$D/k.db" "$D/big.csv" >"$D/final.csv" 2>err &&
    echo "order-rate-pin: 100000 orders: $((100000 - before)) pinned, $before existing, 0 refused, 0 failed" >expect &&
    test_cmp expect err &&
    table_counts "$D/k.db" >actual &&
    echo "100000 100000 100000" >expect &&
    test_cmp expect actual &&
    no_doubles "$D/k.db" &&
    test_sql "$D/k.db" "PRAGMA integrity_check" >actual &&
    echo ok >expect &&
    test_cmp expect actual &&
    data "$D/final.csv" >rows &&
    test_line_count = 100000 rows &&
    awk -F, "\$12 == \"pinned\" || \$12 == \"existing\" { print \$1 }" rows | sort >actual &&
    test_cmp "$D/big_ids" actual &&
    awk -F, "\$12 == \"pinned\"" rows >pinned &&
    test_line_count = $((100000 - before)) pinned
'

test_expect_success 'crash: no order pinned twice over all runs; all agree with the store' '
    for r in 1 2 3 4; do
        complete "$D/kill$r.csv" || return 1
    done >killed &&
    data "$D/final.csv" >final &&
    cat killed final | awk -F, "\$12 == \"pinned\" { print \$1 }" | sort | uniq -d >twice &&
    test_must_be_empty twice &&
    cut -d, -f1-11 killed final | sort -u >agreed &&
    cut -d, -f1 agreed >actual &&
    test_cmp "$D/big_ids" actual &&
    db_pins "$D/k.db" expect &&
    out_pins final >actual &&
    test_cmp expect actual &&
    test_sql "$D/k.db" "SELECT count(*) FROM events WHERE kind IN (${SQ}pin_conflict${SQ}, ${SQ}pin_refused${SQ})" >actual &&
    echo 0 >expect &&
    test_cmp expect actual
'

test_done
