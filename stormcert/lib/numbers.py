"""Certificate numbers as people type them, and as the program keeps them.

A number is typed in many places (the verify page and form, the API, a batch CSV, a claim of an
earlier record, staff search, a legacy import) and read off paper, a PDF, an email or a phone.
Every one of those places passes what was typed through `canonical_number`, and every number is
stored in that form, so a lookup is one exact match on the unique index.

What the canonical form folds, and why:
- **Surrounding whitespace**, including Unicode spaces (no-break, thin, ideographic) and the
  invisible format characters that copying from a web page or a PDF brings along (zero-width
  space, word joiner, byte-order mark). Whitespace *inside* a number is left: it is not a
  number the program issued, and guessing where it belongs is not ours to do.
- **Compatibility forms** (Unicode NFKC): full-width letters, digits and hyphen-minus that an
  East Asian input method types ("ＱＩＳＰ－２０２６") are the same characters to a reader.
- **Case**: numbers are issued in upper case; "qisp-2026-00013" is the same certificate.

What it does not fold: dashes that are not the hyphen-minus (en dash, em dash, minus sign,
U+2010 hyphen). NFKC keeps them apart, and so do we: a number is an identifier, no number the
program issues contains one, and an earlier system's numbers are kept as they were, so folding
them could make two different imported numbers one. A lookup that contains one says so instead
(`has_odd_dash`), so the person can retype it.
"""

from __future__ import annotations

import string
import unicodedata

# Dashes that look like "-" but are not: a number typed with one is answered "unknown", and the
# page says why.
ODD_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58")


def _is_padding(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def canonical_number(text: str) -> str:
    """The one form in which a certificate number is stored, looked up and shown.

    Idempotent: canonical_number(canonical_number(x)) == canonical_number(x)."""
    # NFKC before upper() (full-width letters upper-case to full-width capitals otherwise) and
    # again after it (upper-casing may leave a sequence NFKC would compose, which would make a
    # second pass change the result).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).upper())
    start, end = 0, len(folded)
    while start < end and _is_padding(folded[start]):
        start += 1
    while end > start and _is_padding(folded[end - 1]):
        end -= 1
    return folded[start:end]


def has_odd_dash(text: str) -> bool:
    """True when a typed number contains a dash that is not the hyphen-minus (see above)."""
    return any(ch in ODD_DASHES for ch in text)


def could_be_a_number(number: str, max_length: int = 40) -> bool:
    """Whether a canonical number could be on file at all: not empty, short enough for the
    column, no control characters (PostgreSQL refuses a NUL in a query, and no number has
    one). Lookups answer "unknown" for anything else without asking the database."""
    return 0 < len(number) <= max_length and not any(unicodedata.category(ch) == "Cc" for ch in number)


# What a certificate number may be written with. A number goes into URLs (/verify/<number>/,
# where a slash cannot be routed), file names (the PDF) and the signed credential; "..", a
# backslash or a control character there is a path or header trick. Every number stormcert
# issues (from the program's `certificate.number_format`, e.g. ABC-2026-00013) and every earlier system's number on file is letters, digits, "-",
# "_", "." and single spaces, so nothing else is taken: the legacy import refuses such a row by
# line, the Verify form says no number is written that way.
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
