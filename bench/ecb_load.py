#!/usr/bin/env python3
"""Baseline for bench/rate-fetch-hist.sh: what a user would write by hand.

Loads an ECB history XML document (eurofxref-hist.xml) into a SQLite
rates table with xml.etree and the sqlite3 module, in one transaction,
keeping each rate's text as published.

usage: ecb_load.py HIST.xml DB
"""
import sqlite3
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}Cube"


def main():
    src, dbpath = sys.argv[1], sys.argv[2]
    fetched = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    db = sqlite3.connect(dbpath)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS rates (id INTEGER PRIMARY KEY, "
        "provider TEXT NOT NULL, base TEXT NOT NULL, quote TEXT NOT NULL, "
        "rate TEXT NOT NULL, as_of TEXT NOT NULL, fetched_at TEXT NOT NULL, "
        "source TEXT, UNIQUE (provider, base, quote, as_of))")
    rows = []
    for _, day in ET.iterparse(src):
        if day.tag != NS or "time" not in day.attrib:
            continue
        as_of = day.attrib["time"]
        for q in day:
            rows.append(("ecb", "EUR", q.attrib["currency"], q.attrib["rate"],
                         as_of, fetched, src))
        day.clear()
    with db:
        db.executemany(
            "INSERT OR IGNORE INTO rates (provider, base, quote, rate, as_of, "
            "fetched_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    print(f"{len(rows)} quotes", file=sys.stderr)


if __name__ == "__main__":
    main()
