#!/usr/bin/env python3
"""Set up the storage floor of bench/order-rate-pin-1m.sh.

Reads the schema of SRC, a database the tools created, and creates it in
DST (a new file) with every CHECK constraint and every trigger dropped:
the same STRICT tables, columns, keys, UNIQUE constraints, indexes and
foreign keys. Copies the rows of every other table (the quotes the pins
refer to), and copies the rows of TABLES (default orders, order_items,
order_rates) as SRC holds them into staging tables stage_<table>. Writes
to SQL the statements to time: the tools' connection settings, then each
table's rows INSERT ... SELECT from its staging table, in one
transaction.

usage: floor.py SRC DST SQL [TABLE...]
"""
import re
import sqlite3
import sys

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def skip_quoted(sql, i):
    """The index after the string, identifier or comment at i, or i."""
    c = sql[i]
    if c in "'\"`[":
        end = "]" if c == "[" else c
        j = i + 1
        while True:
            j = sql.index(end, j) + 1
            if end == "]" or j >= len(sql) or sql[j] != end:
                return j
            j += 1  # a doubled quote
    if sql.startswith("--", i):
        j = sql.find("\n", i)
        return len(sql) if j < 0 else j
    if sql.startswith("/*", i):
        return sql.index("*/", i + 2) + 2
    return i


def matching(sql, i):
    """The index after the parenthesis that closes the one at i."""
    depth = 0
    while i < len(sql):
        j = skip_quoted(sql, i)
        if j != i:
            i = j
            continue
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced parentheses")


def strip_checks(sql):
    """sql (CREATE TABLE) without its CHECK constraints, column or table
    ones, named or not; emptied table constraints are removed."""
    out, i, last = [], 0, 0
    words = []  # (start, end, upper word) of the last words seen
    while i < len(sql):
        j = skip_quoted(sql, i)
        if j != i:
            words.append((i, j, None))
            i = j
            continue
        m = WORD.match(sql, i)
        if not m or (i and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            i += 1
            continue
        w = m.group().upper()
        if w == "CHECK":
            k = m.end()
            while sql[k].isspace():
                k += 1
            start = i
            if len(words) >= 2 and words[-2][2] == "CONSTRAINT":
                start = words[-2][0]  # CONSTRAINT name CHECK (...)
            out.append(sql[last:start])
            i = last = matching(sql, k)
            words.clear()
            continue
        words.append((i, m.end(), w))
        i = m.end()
    out.append(sql[last:])
    sql = "".join(out)

    # Drop the items of the definition list that are now empty.
    open_ = sql.index("(")
    close = matching(sql, open_) - 1
    body, items, i, start = sql[open_ + 1:close], [], 0, 0
    depth = 0
    while i < len(body):
        j = skip_quoted(body, i)
        if j != i:
            i = j
            continue
        if body[i] == "(":
            depth += 1
        elif body[i] == ")":
            depth -= 1
        elif body[i] == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
        i += 1
    items.append(body[start:])
    items = [x for x in items if x.strip()]
    tail = re.match(r"\s*", items[-1][::-1]).group()[::-1]
    items[-1] = items[-1].rstrip() + (tail if "\n" in tail else "")
    return sql[:open_ + 1] + ",".join(items) + sql[close:]


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: floor.py SRC DST SQL [TABLE...]")
    src, dst, out = sys.argv[1:4]
    timed = sys.argv[4:] or ["orders", "order_items", "order_rates"]
    s = sqlite3.connect(src)
    schema = s.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    tables = [n for t, n, _ in schema if t == "table"]
    missing = [t for t in timed if t not in tables]
    if missing:
        sys.exit("floor.py: %s has no table %s" % (src, ", ".join(missing)))
    s.close()

    d = sqlite3.connect(dst, isolation_level=None)
    d.execute("PRAGMA journal_mode = WAL")
    d.execute("BEGIN")
    for kind, name, sql in schema:
        if kind == "table":
            d.execute(strip_checks(sql))
        elif kind == "index":
            d.execute(sql)
        # triggers and views: dropped
    d.execute("ATTACH ? AS src", (src,))
    for t in tables:
        cols = ", ".join(quote(r[1]) for r in
                         d.execute("PRAGMA main.table_info(%s)" % quote(t)))
        if t in timed:
            d.execute("CREATE TABLE %s AS SELECT %s FROM src.%s ORDER BY "
                      "rowid" % (quote("stage_" + t), cols, quote(t)))
        else:
            d.execute("INSERT INTO main.%s (%s) SELECT %s FROM src.%s" %
                      (quote(t), cols, cols, quote(t)))
    d.execute("COMMIT")
    d.execute("DETACH src")
    d.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    d.close()

    with open(out, "w") as f:
        f.write("PRAGMA foreign_keys = ON;\n"
                "PRAGMA cache_size = -65536;\n"
                "PRAGMA synchronous = FULL;\n"
                "BEGIN IMMEDIATE;\n")
        for t in timed:
            c = sqlite3.connect(dst)
            cols = ", ".join(quote(r[1]) for r in
                             c.execute("PRAGMA table_info(%s)" % quote(t)))
            c.close()
            f.write("INSERT INTO %s (%s) SELECT %s FROM %s ORDER BY rowid;\n"
                    % (quote(t), cols, cols, quote("stage_" + t)))
        f.write("COMMIT;\n")


if __name__ == "__main__":
    main()
