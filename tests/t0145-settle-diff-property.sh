#!/bin/sh
# t0145-settle-diff-property: random ledgers and settlement files with
# random planted differences (tests/gen-settle.py), in both formats, one
# or two files at a time, under several thresholds and periods, compared with settle-diff's python3 reference
# (tests/settle-ref.py, written from the interface text): the discrepancy
# rows, the --summary rows and the exit status must be the reference's,
# byte for byte, with the ledger given as --ledger and with the same
# ledger loaded into a database by pay-ingest. Every expected row comes
# from the reference, never from settle-diff.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later
# shellcheck disable=SC2034 # D, LAST, COUNT, RATE: used in the test bodies

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

D=$TRASH
# The seeds of the cases; others explore other cases.
FIRST=${T0145_SEED:-1}
LAST=$((FIRST + 29))
# Payments per case, and the rate of planted differences (every fifth
# seed plants none).
COUNT=24
RATE=0.4

gen() {
    "$PYTHON3" "$top_srcdir/tests/gen-settle.py" "$@"
}

# files CASE: the settlement files of a case, one or two.
files() {
    if test -f "$1/settle.csv"; then
        echo "$1/settle.csv"
    else
        echo "$1/settle.csv.1 $1/settle.csv.2"
    fi
}

# threshold SEED: --threshold of a case.
threshold() {
    case $(($1 % 4)) in
    0) echo 0.5 ;;
    1) echo 5 ;;
    2) echo 37.25 ;;
    *) echo 100 ;;
    esac
}

# period SEED: --from and --to of a case, or none (the file's own
# period): a wider one reports the ledger's payments of the days around.
period() {
    case $(($1 % 6)) in
    2) echo "--from 2026-11-25 --to 2026-11-27" ;;
    4) echo "--from 2026-11-27" ;;
    *) ;;
    esac
}

# dbcase SEED: whether a case also runs against a database ledger.
dbcase() {
    test $(($1 % 3)) = 1
}

# check CASE OUT ... : settle-diff's report, summary and exit status (the
# arguments after CASE) against the reference's (CASE/OUT.*), printing
# the first difference.
check() {
    c=$1 out=$2
    shift 2
    { settle-diff "$@" >"$c/$out.got.csv" 2>"$c/$out.err"; echo $? >"$c/$out.got.rc"; } &&
    { settle-diff --summary "$@" >"$c/$out.got.summary" 2>/dev/null; echo $? >"$c/$out.got.rc2"; } &&
    test_cmp "$c/$out.rc" "$c/$out.got.rc" &&
    test_cmp "$c/$out.rc" "$c/$out.got.rc2" &&
    test_cmp "$c/$out.csv" "$c/$out.got.csv" &&
    test_cmp "$c/$out.summary" "$c/$out.got.summary"
}

for fmt in stripe paypal; do
    test_expect_success "setup: $fmt: 30 random cases, the same bytes for the same seeds" '
        gen --seeds $FIRST-$LAST --dir "$D/$fmt" --format $fmt \
            --count $COUNT --rate $RATE &&
        gen --seeds $FIRST-$LAST --dir "$D/again" --format $fmt \
            --count $COUNT --rate $RATE &&
        diff -r "$D/$fmt" "$D/again" &&
        rm -r "$D/again"
    '

    test_expect_success "setup: $fmt: the answers of the reference" '
        seed=$FIRST &&
        : >"$D/$fmt.batch" &&
        while test $seed -le $LAST; do
            c=$D/$fmt/$seed &&
            echo "--threshold $(threshold $seed) $(period $seed) --ledger $c/ledger.csv --out $c/ref $(files "$c")" >>"$D/$fmt.batch" &&
            echo "--threshold $(threshold $seed) $(period $seed) --gateway generic --ledger $c/ledger.csv --out $c/refdb $(files "$c")" >>"$D/$fmt.batch" &&
            seed=$((seed + 1)) || return 1
        done &&
        "$PYTHON3" "$top_srcdir/tests/settle-ref.py" --batch "$D/$fmt.batch" &&
        cat "$D/$fmt"/*/ref.rc "$D/$fmt"/*/refdb.rc >rcs &&
        test_line_count = 60 rcs
    '

    test_expect_success "$fmt with --ledger: rows, summary and exit status of every case as the reference has them" '
        seed=$FIRST &&
        while test $seed -le $LAST; do
            c=$D/$fmt/$seed &&
            # shellcheck disable=SC2046 # one or two file names
            check "$c" ref --threshold $(threshold $seed) $(period $seed) \
                --ledger "$c/ledger.csv" $(files "$c") ||
            { echo "seed $seed" >&2; return 1; }
            seed=$((seed + 1))
        done
    '

    test_expect_success "$fmt with the ledger loaded by pay-ingest: the same" '
        seed=$FIRST &&
        while test $seed -le $LAST; do
            if dbcase $seed; then
                c=$D/$fmt/$seed &&
                n=0 &&
                for j in "$c"/jsonl/*.jsonl; do
                    t=${j##*/} &&
                    test_expect_code 1 env DAIGOU_NOW=${t%.jsonl} pay-ingest \
                        --db "$c/db" --gateway generic --jsonl --no-verify \
                        "$j" >/dev/null 2>"$c/ingest.err" &&
                    n=$((n + $(wc -l <"$j"))) || return 1
                done &&
                test $((n + 1)) = "$(wc -l <"$c/ledger.csv")" &&
                test "$(test_sql "$c/db" "SELECT count(*) FROM payments")" = $n &&
                # shellcheck disable=SC2046 # one or two file names
                check "$c" refdb --threshold $(threshold $seed) $(period $seed) \
                    --db "$c/db" --gateway generic $(files "$c") ||
                { echo "seed $seed" >&2; return 1; }
            fi
            seed=$((seed + 1))
        done
    '
done

test_expect_success 'the cases plant every kind, and both exit statuses come out' '
    cat "$D"/*/*/ref.csv | cut -d, -f1 | grep -v "^kind\$" | sort -u >actual &&
    cat >expect <<-\EOF &&
	amount_mismatch
	currency_mismatch
	duplicate_in_ledger
	duplicate_in_settlement
	missing_in_ledger
	missing_in_settlement
	status_mismatch
	EOF
    test_cmp expect actual &&
    cat "$D"/*/*/ref.rc | sort -u >actual &&
    printf "0\n1\n" >expect &&
    test_cmp expect actual &&
    grep -l "ledger holds a" "$D"/*/*/ref.csv >/dev/null &&
    grep -l "customer-facing" "$D"/stripe/*/ref.csv >/dev/null &&
    grep -l "ledger holds the charge as completed" "$D"/paypal/*/ref.csv >/dev/null
'

test_expect_success 'a clean case prints the header alone and exits 0' '
    c=$D/stripe/$(((FIRST + 4) / 5 * 5)) &&
    test -d "$c" &&
    echo "kind,gateway,gateway_txn_id,order_id,ledger_amount,settled_amount,currency,delta,settled_at,detail" >expect &&
    test_cmp expect "$c/ref.csv" &&
    test_cmp expect "$c/ref.got.csv" &&
    echo 0 >expect &&
    test_cmp expect "$c/ref.got.rc"
'

test_expect_success 'a PayPal report cut before its FF row: 65 from both, nothing on stdout' '
    seed=$FIRST &&
    while test $seed -le $((FIRST + 5)); do
        c=$D/paypal/$seed &&
        f=$(files "$c") &&
        f=${f##* } &&
        sed "\$d" "$f" >"$c/cut.csv" &&
        test_expect_code 65 settle-diff --ledger "$c/ledger.csv" "$c/cut.csv" >out 2>err &&
        test_must_be_empty out &&
        grep -q "cut.csv" err &&
        test_expect_code 65 "$PYTHON3" "$top_srcdir/tests/settle-ref.py" \
            --ledger "$c/ledger.csv" "$c/cut.csv" >out &&
        test_must_be_empty out &&
        seed=$((seed + 1)) || return 1
    done
'

test_done
