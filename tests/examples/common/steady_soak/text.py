"""The soak's own output, and the key=value fields of the example programs' output lines."""

import re


def log(*parts):
    print(*parts, flush=True)


def parse_fields(line):
    """{key: value} of every key=value in a line ("status t=5 peers=3" -> {"t": "5", ...})."""
    return dict(m.groups() for m in re.finditer(r"([\w-]+)=(\S+)", line))
