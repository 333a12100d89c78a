#!/usr/bin/env python3
"""Write an ECB history CSV as the ECB's history XML feed.

    gen-ecb-xml.py [--days N] [--from DATE] [--to DATE] [-o FILE] CSV

Reads eurofxref-hist.csv (newest first, `N/A` where a currency was not
quoted, a trailing comma on every line; the daily eurofxref.csv with its
`13 April 2026` dates reads too) and writes the equivalent
eurofxref-hist.xml in the ECB's own style: XML declaration, gesmes
envelope, tabs, single-quoted attributes, one <Cube time='...'> per day
newest first, currencies in the CSV's column order, N/A cells left out.

--from/--to keep the days in that range (inclusive, YYYY-MM-DD); --days N
then keeps the newest N of them (N = 90-ish days makes the 90-day feed).

Rates are copied as the CSV writes them. The history CSV drops trailing
zeros ("4.763") where the real XML feeds publish "4.7630": the generated
XML has the CSV's text, not the feed's.
"""

import argparse
import csv
import datetime
import sys
from xml.sax.saxutils import escape

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"'
    ' xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n'
    "\t<gesmes:subject>Reference rates</gesmes:subject>\n"
    "\t<gesmes:Sender>\n"
    "\t\t<gesmes:name>European Central Bank</gesmes:name>\n"
    "\t</gesmes:Sender>\n"
    "\t<Cube>\n"
)
TAIL = "\t</Cube>\n</gesmes:Envelope>\n"
MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")
PROG = "gen-ecb-xml"


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: {message}\n")
        sys.exit(64)


def iso_date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date '{text}'") from None


def positive(text):
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"bad number of days '{text}'")
    return int(text)


def csv_date(text):
    """'2026-04-13' or '13 April 2026'; None when neither."""
    try:
        if len(text) == 10:
            return datetime.date.fromisoformat(text)
        day, month, year = text.split(" ")
        return datetime.date(int(year), MONTHS.index(month) + 1, int(day))
    except ValueError:
        return None


def attr(text):
    return escape(text, {"'": "&apos;"})


def die(status, message):
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.exit(status)


def read_days(path):
    """[(date, [(code, rate), ...]), ...] in the file's order."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f, skipinitialspace=True))
    except OSError as e:
        die(66, f"cannot read '{path}': {e.strerror}")
    rows = [[c.strip() for c in r] for r in rows if any(c.strip() for c in r)]
    if not rows or rows[0][0] != "Date":
        die(65, f"{path}: not an ECB rates CSV (no 'Date' column)")
    header = rows[0]
    days = []
    for n, row in enumerate(rows[1:], start=2):
        day = csv_date(row[0])
        if day is None:
            die(65, f"{path}:{n}: bad date '{row[0]}'")
        quotes = [(code, rate) for code, rate in zip(header[1:], row[1:])
                  if code and rate and rate != "N/A"]
        if quotes:
            days.append((day, quotes))
    return days


def main():
    ap = Parser(prog=PROG, description="ECB history CSV to history XML")
    ap.add_argument("csv", metavar="CSV", help="eurofxref-hist.csv")
    ap.add_argument("-o", "--output", metavar="FILE", help="default stdout")
    ap.add_argument("--days", type=positive, metavar="N",
                    help="only the newest N days")
    ap.add_argument("--from", dest="start", type=iso_date, metavar="DATE")
    ap.add_argument("--to", dest="end", type=iso_date, metavar="DATE")
    args = ap.parse_args()

    days = read_days(args.csv)
    days.sort(key=lambda d: d[0], reverse=True)
    if args.start:
        days = [d for d in days if d[0] >= args.start]
    if args.end:
        days = [d for d in days if d[0] <= args.end]
    if args.days:
        days = days[:args.days]

    out = [HEAD]
    for day, quotes in days:
        out.append(f"\t\t<Cube time='{day.isoformat()}'>\n")
        out.extend(f"\t\t\t<Cube currency='{attr(code)}'"
                   f" rate='{attr(rate)}'/>\n" for code, rate in quotes)
        out.append("\t\t</Cube>\n")
    out.append(TAIL)
    text = "".join(out)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        except OSError as e:
            die(73, f"cannot write '{args.output}': {e.strerror}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
