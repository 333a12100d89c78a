#!/usr/bin/env python3
"""Lay out the result lines of the benchmarks in bench/ as one table.

Reads the files named (or stdin), keeps the lines that start with
"result" (their fields are described in bench/lib.sh) and prints one row
per baseline of each tool and workload, in the order they came:

  tool, workload    what was measured
  this project      the tool's figure: COUNT/s or seconds, with the
                    standard deviation of the runs (±)
  before, after/before
                    with --before runs only: the figure of the other
                    build, and this project's speed over its speed
  baseline, figure  the baseline and its figure
  ratio             this project's speed over the baseline's: above 1,
                    this project is faster
  goals             each goal and whether this run met it
  RSS               peak resident memory of one run: this project /
                    before (with --before) / the baseline

With --cpu, every figure and ratio is of CPU time (user + system) rather
than wall time: steadier on a machine busy with other work, blind to
waiting (fsync, I/O) and to parallelism.

A table, never a verdict: the exit status is 0 whatever the figures, 65
when there is no result line at all.

usage: table.py [--cpu] [FILE...]
"""
import sys


CPU = False


class Result:
    def __init__(self, f):
        (self.tool, self.workload, self.variant, self.subject, count,
         self.unit, self.show, mean, stddev, runs, rss, self.goal, cpu) = f
        self.count, self.mean, self.stddev = int(count), float(mean), \
            float(stddev)
        if CPU:
            self.mean, self.stddev = float(cpu), 0.0
        self.runs, self.rss = int(runs), int(rss) if rss else None

    def speed(self):
        return self.count / self.mean if self.mean > 0 else float("inf")

    def figure(self):
        if self.show == "time":
            s = "%.3f s" % self.mean
        else:
            s = "{:,.0f} {}/s".format(self.speed(), self.unit)
        if self.mean > 0 and self.runs > 1 and not CPU:
            s += " ±%.0f%%" % (100 * self.stddev / self.mean)
        return s


def mib(r):
    return "-" if r is None or r.rss is None else "%.0f" % (r.rss / 1024)


def ratio(a, b):
    return "%.2fx" % (a.speed() / b.speed())


def goal(text, this, base=None):
    """'>=100,000/s met' for a goal of this, '>=0.5x missed' for a ratio.
    Goals joined by ',' are each said ('rate>=N,rate<=M': a band)."""
    if not text:
        return None
    if "," in text:
        return "; ".join(g for g in (goal(t, this, base)
                                     for t in text.split(",")) if g)
    what, _, limit = text.partition(">=") if ">=" in text else \
        text.partition("<=")
    v = float(limit)
    if what == "rate" and "<=" in text:
        ok, shown = this.speed() <= v, "<={:,.0f}/s".format(v)
    elif what == "rate":
        ok, shown = this.speed() >= v, ">={:,.0f}/s".format(v)
    elif what == "time":
        ok, shown = this.mean <= v, "<=%g s" % v
    elif what == "ratio" and base is not None:
        ok, shown = this.speed() / base.speed() >= v, ">=%gx" % v
    else:
        return None
    return "%s %s" % (shown, "met" if ok else "missed")


def main():
    global CPU
    results = []
    args = sys.argv[1:]
    if args[:1] == ["--cpu"]:
        CPU, args = True, args[1:]
    files = args or ["-"]
    for name in files:
        f = sys.stdin if name == "-" else open(name)
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "result" and len(fields) == 14:
                results.append(Result(fields[1:]))
    if not results:
        print("table.py: no result lines", file=sys.stderr)
        return 65

    groups = {}
    for r in results:
        g = groups.setdefault((r.tool, r.workload),
                              {"this": None, "before": None, "base": []})
        if r.variant == "baseline":
            g["base"].append(r)
        else:
            g[r.variant] = r
    with_before = any(g["before"] for g in groups.values())

    head = ["tool", "workload", "this project"]
    if with_before:
        head += ["before", "after/before"]
    head += ["baseline", "baseline figure", "ratio", "goals",
             "RSS MiB this/%sbaseline" % ("before/" if with_before else "")]
    rows = [head]
    for (tool, workload), g in groups.items():
        this, before = g["this"], g["before"]
        for i, b in enumerate(g["base"] or [None]):
            first = i == 0
            row = [tool if first else "", workload if first else "",
                   (this.figure() if this else "-") if first else ""]
            if with_before:
                row += [(before.figure() if before else "-") if first else "",
                        (ratio(this, before) if this and before else "-")
                        if first else ""]
            goals = []
            if first and this:
                goals.append(goal(this.goal, this))
            if b is not None and this:
                goals.append(goal(b.goal, this, b))
            rss = [mib(this)] + ([mib(before)] if with_before else []) + \
                [mib(b)]
            row += [b.subject if b else "-", b.figure() if b else "-",
                    ratio(this, b) if b and this else "-",
                    "; ".join(x for x in goals if x) or "-", "/".join(rss)]
            rows.append(row)

    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    runs = sorted({r.runs for r in results})
    print()
    if CPU:
        print("Figures are of the mean CPU time (user + system) of %s run%s."
              " ratio:" % ("/".join(map(str, runs)),
                           "" if runs == [1] else "s"))
    else:
        print("Figures are means of %s run%s; ± the standard deviation."
              " ratio:" % ("/".join(map(str, runs)),
                           "" if runs == [1] else "s"))
    print("this project's speed over the baseline's (above 1: faster)."
          + (" after/before: this project's speed over --before's."
             if with_before else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(141)
