#!/usr/bin/env python3
"""crontab.py - read a crontab the way cron does, strictly.

    crontab.py check FILE     the jobs, "SCHEDULE<TAB>TOOL" a line
    crontab.py env FILE       the environment lines, NAME=VALUE a line
    crontab.py commands FILE  each job's command as the shell gets it
                              ('\\%' as '%'), one a line
    crontab.py options FILE   "TOOL OPTION" for every option of every
                              job's first command (up to the first
                              redirection or operator)

Every line is blank, a comment (first non-blank byte '#'), an
environment line (NAME=VALUE, NAME a shell name) or a job: five time
fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or
jan-dec, day of week 0-7 or sun-sat; each a list of '*', N or N-M, any
of them with /STEP), then a command with no bare '%' (cron would cut the
command there and feed the rest to it as input). '@daily' and the other
nicknames are refused: the suite's crontab writes five fields. A line
that is none of these is reported as "FILE:LINE: reason" on stderr, and
the exit status is 1.
"""
import re
import shlex
import sys

FIELDS = [("minute", 0, 59, None), ("hour", 0, 23, None),
          ("day of month", 1, 31, None),
          ("month", 1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul",
                            "aug", "sep", "oct", "nov", "dec"]),
          ("day of week", 0, 7, ["sun", "mon", "tue", "wed", "thu", "fri",
                                 "sat"])]
ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
OPERATORS = {">", ">>", "<", "|", "||", "&", "&&", ";", "2>&1", "2>",
             "2>>"}


class Bad(Exception):
    pass


def value(text, field):
    name, lo, hi, names = field
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if name == "month" else 0)
    if not text.isdigit() or len(text) > 2:
        raise Bad("%s: %r is not a number" % (name, text))
    v = int(text)
    if not lo <= v <= hi:
        raise Bad("%s: %d is not in %d-%d" % (name, v, lo, hi))
    return v


def check_field(text, field):
    for item in text.split(","):
        rng, slash, step = item.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            raise Bad("%s: bad step in %r" % (field[0], item))
        if rng == "*":
            continue
        a, dash, b = rng.partition("-")
        if not dash and slash:
            raise Bad("%s: a step needs '*' or a range: %r"
                      % (field[0], item))
        if value(a, field) > (value(b, field) if dash else value(a, field)):
            raise Bad("%s: empty range %r" % (field[0], item))


def command_of(cmd):
    """The command as cron hands it to the shell: a bare '%' ends it."""
    out, i = [], 0
    while i < len(cmd):
        if cmd[i] == "\\" and cmd[i + 1:i + 2] == "%":
            out.append("%")
            i += 2
            continue
        if cmd[i] == "%":
            raise Bad("a bare '%' in the command (write '\\%')")
        out.append(cmd[i])
        i += 1
    return "".join(out)


def parse(path):
    jobs, env, bad = [], [], 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            s = line.strip()
            try:
                if not s or s.startswith("#"):
                    continue
                if s.startswith("@"):
                    raise Bad("%s: write the five time fields"
                              % s.split()[0])
                if ENV.match(s):
                    env.append(s)
                    continue
                parts = s.split(None, 5)
                if len(parts) < 6:
                    raise Bad("not five time fields and a command")
                for text, field in zip(parts[:5], FIELDS):
                    check_field(text, field)
                jobs.append((" ".join(parts[:5]), command_of(parts[5])))
            except Bad as e:
                print("%s:%d: %s" % (path, n, e), file=sys.stderr)
                bad += 1
    return jobs, env, bad


def first_command(cmd):
    lex = shlex.shlex(cmd, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    words = []
    for w in lex:
        if w in OPERATORS or w.startswith(">") or w.startswith("2>"):
            break
        words.append(w)
    return words


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in (
            "check", "env", "commands", "options"):
        print(__doc__, file=sys.stderr)
        return 64
    what, path = sys.argv[1:]
    jobs, env, bad = parse(path)
    if bad:
        return 1
    if what == "env":
        for e in env:
            print(e)
    for sched, cmd in jobs:
        words = first_command(cmd)
        tool = words[0] if words else ""
        if what == "check":
            print("%s\t%s" % (sched, tool))
        elif what == "commands":
            print(cmd)
        elif what == "options":
            for w in words[1:]:
                if w.startswith("-"):
                    print("%s %s" % (tool, w.split("=")[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
