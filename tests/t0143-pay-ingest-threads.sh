#!/bin/sh
# t0143-pay-ingest-threads: a --jsonl replay parsed by several threads
# gives what one thread gives: the rows in input order with bad lines,
# blank lines, lines over the cap, duplicates and conflicts in the
# middle, the messages in the same order, the same exit status and the
# same payments, at 1, 2, 3 and 8 threads and over several batches; a
# bad line near the end; --strict storing nothing after the first bad
# line (a bad parse or a conflict) however far the threads read; a
# replay that stops early never waits for the rest of its input.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"
DAIGOU_NOW=2026-04-15T09:00:00Z
export DAIGOU_NOW
NV="pay-ingest: warning: --no-verify: signatures are not checked; accept payloads only from a source you trust"
export NV

# gen N SEED: replay.jsonl, a generic replay of N lines of every kind,
# and what pay-ingest must answer, worked out here line by line:
# expect.csv, expect.err, expect.code and expect.rows (the payments,
# txn|minor units, in the order they are recorded). Line N-1 is a bad
# line, line N a good one.
gen() {
    "$PYTHON3" - "$1" "$2" <<-\EOF
	import json, os, random, sys
	n, seed = int(sys.argv[1]), int(sys.argv[2])
	rng = random.Random(seed)
	cap = 2000
	lines, csv, err, rows = [], [], [os.environ["NV"]], []
	stored = {}
	code = 1
	def ev(txn, amount, **more):
	    d = {"gateway_txn_id": txn, "kind": "charge", "order_id": "NOPE",
	         "amount": amount, "currency": "EUR"}
	    d.update(more)
	    return json.dumps(d)
	def money(minor):
	    return "%d.%02d" % divmod(minor, 100)
	def rejected(ln, why):
	    csv.append("generic,,,,,,rejected," + why)
	    err.append("pay-ingest: replay.jsonl:%d: %s" % (ln, why))
	for ln in range(1, n + 1):
	    r = rng.random()
	    if ln == n - 1:
	        r = 0.77
	    elif ln == n or not stored:
	        r = 0.0
	    if r < 0.55:
	        txn, minor = "T%d" % ln, rng.randrange(100, 100000)
	        lines.append(ev(txn, money(minor)))
	        stored[txn] = minor
	        rows.append("%s|%d" % (txn, minor))
	        csv.append("generic,%s,charge,NOPE,%s,EUR,recorded,"
	                   "order 'NOPE' is unknown" % (txn, money(minor)))
	        err.append("pay-ingest: warning: replay.jsonl:%d: generic '%s': "
	                   "order 'NOPE' is unknown" % (ln, txn))
	        continue
	    if r < 0.65:
	        txn = rng.choice(sorted(stored))
	        lines.append(ev(txn, money(stored[txn])))
	        csv.append("generic,%s,charge,NOPE,%s,EUR,duplicate,"
	                   "already recorded" % (txn, money(stored[txn])))
	        continue
	    code = 65
	    if r < 0.70:
	        txn = rng.choice(sorted(stored))
	        other = stored[txn] + rng.randrange(1, 500)
	        lines.append(ev(txn, money(other)))
	        why = "stored with amount %s EUR, not %s EUR" % (
	            money(stored[txn]), money(other))
	        csv.append('generic,%s,charge,NOPE,%s,EUR,conflict,"%s"'
	                   % (txn, money(other), why))
	        err.append("pay-ingest: replay.jsonl:%d: generic '%s': "
	                   "conflict: %s" % (ln, txn, why))
	    elif r < 0.75:
	        lines.append(rng.choice(["", "  ", "\t \r"]))
	    elif r < 0.80:
	        lines.append("[1]")
	        rejected(ln, "not a JSON object")
	    elif r < 0.85:
	        lines.append(json.dumps({"gateway_txn_id": "M%d" % ln,
	                                 "kind": "charge"}))
	        rejected(ln, "order_id: missing")
	    elif r < 0.90:
	        lines.append(ev("D%d" % ln, "1.001"))
	        rejected(ln, "amount: '1.001' has more than 2 decimals for EUR")
	    elif r < 0.95:
	        lines.append(ev("L%d" % ln, "1.00", pad=" " * cap))
	        rejected(ln, "line over the cap of %d bytes (--max-body)" % cap)
	    else:
	        lines.append(json.dumps({"gateway_txn_id": "U%d" % ln,
	                                 "kind": "charge", "bogus": "1"}))
	        rejected(ln, "'bogus': unknown field")
	def put(name, items):
	    with open(name, "w") as f:
	        f.write("".join(s + "\n" for s in items))
	put("replay.jsonl", lines)
	put("expect.csv", ["gateway,gateway_txn_id,kind,order_id,amount,"
	                   "currency,result,reason"] + csv)
	put("expect.err", err)
	put("expect.code", [str(code)])
	put("expect.rows", rows)
	EOF
}

# replay DB ARGS...: pay-ingest --jsonl on replay.jsonl into DB (fresh);
# out.csv, out.err, out.code and out.rows.
replay() {
    db=$1
    shift
    rm -f "$db" "$db-wal" "$db-shm"
    code=0
    pay-ingest -q --db "$db" --gateway generic --jsonl --no-verify \
        --max-body 2000 "$@" replay.jsonl >out.csv 2>out.err || code=$?
    echo "$code" >out.code
    test_sql "$db" "SELECT gateway_txn_id, amount FROM payments
        ORDER BY id" >out.rows
}

# same: the outputs of the last replay are the expected ones.
same() {
    test_cmp expect.csv out.csv &&
        test_cmp expect.err out.err &&
        test_cmp expect.code out.code &&
        test_cmp expect.rows out.rows
}

test_expect_success 'the generated replay has every kind of line' '
    gen 2000 7 &&
    mkdir "$TRASH/gen" &&
    cp replay.jsonl expect.csv expect.err expect.code expect.rows \
        "$TRASH/gen" &&
    test_line_count = 2000 replay.jsonl &&
    for what in recorded duplicate conflict "not a JSON object" \
        "order_id: missing" "more than 2 decimals" "over the cap" \
        "unknown field"; do
        grep -q "$what" expect.csv || return 1
    done &&
    grep -c "^[[:space:]]*\$" replay.jsonl >blanks &&
    test "$(cat blanks)" -gt 10 &&
    tail -n 2 expect.csv | cut -d, -f7 >actual &&
    printf "rejected\nrecorded\n" >expect &&
    test_cmp expect actual
'

for t in 1 2 3 8; do
    test_expect_success "--threads $t: rows, messages, status and payments in input order" "
        cp \"\$TRASH\"/gen/* . &&
        replay t$t.db --threads $t &&
        same
    "
    test_expect_success "--threads $t --batch 50: the same over 40 transactions" "
        cp \"\$TRASH\"/gen/* . &&
        replay b$t.db --threads $t --batch 50 &&
        same
    "
done

test_expect_success 'the default number of threads gives the same' '
    cp "$TRASH"/gen/* . &&
    replay d.db &&
    same
'

test_expect_success 'usage: --threads goes with --jsonl, 1 to 64' '
    test_expect_code 64 pay-ingest --gateway generic --no-verify \
        --threads 2 x.json 2>err &&
    echo "pay-ingest: --threads goes with --jsonl" >expect &&
    head -n 1 err >actual &&
    test_cmp expect actual &&
    test_expect_code 64 pay-ingest --gateway generic --jsonl --no-verify \
        --threads 0 x.jsonl 2>err &&
    grep -q "threads" err &&
    test_expect_code 64 pay-ingest --gateway generic --jsonl --no-verify \
        --threads 65 x.jsonl 2>err &&
    grep -q "threads" err
'

# good N FIRST: N good generic lines, txn G<FIRST>, G<FIRST+1>, ...
good() {
    "$PYTHON3" -c '
import json, sys
n, first = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print(json.dumps({"gateway_txn_id": "G%d" % i, "kind": "charge",
                      "order_id": "NOPE", "amount": "1.00",
                      "currency": "EUR"}))' "$1" "$2"
}

test_expect_success 'a bad line near the end: reported in its turn, the last line stored' '
    {
        good 3000 1 &&
        echo "{\"gateway_txn_id\": \"X\"," &&
        good 1 3001
    } >replay.jsonl &&
    for t in 1 4; do
        replay e$t.db --threads $t &&
        echo 65 >expect &&
        test_cmp expect out.code &&
        tail -n 3 out.csv | cut -d, -f2,7 >actual &&
        printf "G3000,recorded\n,rejected\nG3001,recorded\n" >expect &&
        test_cmp expect actual &&
        grep -c "^pay-ingest: replay.jsonl:3001: invalid JSON" out.err >actual &&
        echo 1 >expect &&
        test_cmp expect actual &&
        test_line_count = 3001 out.rows || return 1
    done
'

test_expect_success '--strict: nothing after the first bad line is stored, at any thread count' '
    {
        good 1233 1 &&
        echo "[1]" &&
        good 1500 1234
    } >replay.jsonl &&
    for t in 1 2 8; do
        for b in 500 100; do
            replay s$t-$b.db --strict --threads $t --batch $b &&
            echo 65 >expect &&
            test_cmp expect out.code &&
            test_line_count = 1235 out.csv &&
            tail -n 2 out.csv | cut -d, -f2,7,8 >actual &&
            printf "G1233,recorded,order ${SQ}NOPE${SQ} is unknown\n,rejected,not a JSON object\n" >expect &&
            test_cmp expect actual &&
            test_line_count = 1233 out.rows &&
            tail -n 1 out.rows >actual &&
            echo "G1233|100" >expect &&
            test_cmp expect actual &&
            tail -n 1 out.err >actual &&
            echo "pay-ingest: replay.jsonl:1234: not a JSON object" >expect &&
            test_cmp expect actual || return 1
        done
    done
'

test_expect_success '--strict: a conflict stops the replay too, nothing after it stored' '
    {
        good 700 1 &&
        good 1 5 | sed "s/1\.00/2.00/" &&
        good 900 701
    } >replay.jsonl &&
    for t in 1 3; do
        replay c$t.db --strict --threads $t --batch 64 &&
        echo 65 >expect &&
        test_cmp expect out.code &&
        tail -n 1 out.csv | cut -d, -f2,7 >actual &&
        echo G5,conflict >expect &&
        test_cmp expect actual &&
        test_line_count = 702 out.csv &&
        test_line_count = 700 out.rows &&
        test_sql c$t.db "SELECT count(*) FROM events
            WHERE kind = ${SQ}payment_conflict${SQ}" >actual &&
        echo 1 >expect &&
        test_cmp expect actual || return 1
    done
'

test_expect_success '--strict on an endless input: stops at the bad line without reading on' '
    "$PYTHON3" -c "
import sys
sys.stdout.write(\"[1]\\n\")
line = (\"{\\\"gateway_txn_id\\\": \\\"Y\\\", \\\"kind\\\": \\\"charge\\\"}\\n\" * 64).encode()
while True:
    try:
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.exit(0)
" | {
        code=0
        pay-ingest -q --db endless.db --gateway generic --jsonl \
            --no-verify --strict --threads 2 >out.csv 2>out.err || code=$?
        echo $code >out.code
    } &&
    echo 65 >expect &&
    test_cmp expect out.code &&
    printf "%s\n" gateway,gateway_txn_id,kind,order_id,amount,currency,result,reason \
        "generic,,,,,,rejected,not a JSON object" >expect &&
    test_cmp expect out.csv
'

test_expect_success '--strict on an input left open: ends without waiting for its end' '
    rm -f open.code timeout &&
    "$PYTHON3" -c "
import os, sys, time
sys.stdout.write(\"[1]\\n\")
sys.stdout.flush()
for _ in range(600):
    if os.path.exists(\"open.code\"):
        sys.exit(0)
    time.sleep(0.1)
open(\"timeout\", \"w\").close()
" | {
        code=0
        pay-ingest -q --db open.db --gateway generic --jsonl \
            --no-verify --strict --threads 2 >out.csv 2>out.err || code=$?
        echo $code >open.code
    } &&
    ! test -e timeout &&
    echo 65 >expect &&
    test_cmp expect open.code
'

test_done
