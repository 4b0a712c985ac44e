"""What a certificate number may be written with.

A number goes into URLs (/verify/<number>/, where a slash cannot be routed), file names (the
PDF) and the signed credential; "..", a backslash or a control character there is a path or
header trick. Every number stormcert issues (QISP-2026-00013) and every earlier system's number
on file is letters, digits, "-", "_", "." and single spaces, so nothing else is taken: the legacy
import refuses such a row by line, the Verify form says no number is written that way.
"""

from __future__ import annotations

import string

NUMBER_CHARS = frozenset(string.ascii_letters + string.digits + "-_. ")


def number_problem(number: str) -> str:
    """Why `number` (already stripped) cannot be a certificate number, or "" if it can."""
    bad = sorted({ch for ch in number if ch not in NUMBER_CHARS})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad[:5])
        return f"a certificate number may hold only letters, digits, '-', '_', '.' and spaces, not {shown}"
    if ".." in number or "  " in number:
        return "a certificate number may not hold '..' or two spaces in a row"
    if number and not number[0].isalnum():
        return "a certificate number starts with a letter or a digit"
    return ""
