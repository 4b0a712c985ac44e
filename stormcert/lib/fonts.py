"""The fonts documents draw people's names in, and whether they can draw a given name at all.

A name may be written in any script a candidate uses: Latin with diacritics, Greek, Cyrillic,
Chinese, Japanese, Korean, Arabic, Hebrew. The fonts come from PyPI packages (Noto Sans and its
Arabic, Hebrew and CJK companions, all under the SIL Open Font License), so a fresh machine gets
them from `make setup` with nothing from the operating system.

They are variable fonts whose default weight is hairline-thin, and fixing the weight of a whole
CJK font takes seconds. So a document never loads a whole font: `font_program()` cuts the font down
to the characters the document draws (keeping the OpenType layout a shaper needs: Arabic joining
forms, marks, ligatures) and only then fixes the weight, which takes a fraction of a second.

`unprintable()` is the one answer to "can we print this?": the profile form uses it to refuse a
name it could not print, and the PDF code uses it so that nothing is ever dropped without a mark.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

# fontTools logs every table and glyph it touches at INFO level, and each table it leaves out of a
# cut font (Plex's `meta`) as a warning.
logging.getLogger("fontTools").setLevel(logging.ERROR)

REGULAR = 400
BOLD = 700


@dataclass(frozen=True)
class Face:
    """A typeface from an installed package; `family` is the name a PDF knows it by.

    Either one variable font (`regular`, with `bold=None`), whose weight is fixed when it is cut,
    or two static fonts."""

    family: str
    package: str
    regular: str
    bold: str | None = None
    # Axes besides the weight, pinned to the normal design (width 100 = not condensed).
    axes: tuple[tuple[str, float], ...] = field(default=())
    # OpenType features left out of the cut (see LATIN).
    without: tuple[str, ...] = field(default=())

    def path(self, weight: int = REGULAR) -> Path | None:
        spec = find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        name = self.bold if weight >= BOLD and self.bold else self.regular
        path = Path(next(iter(spec.submodule_search_locations))) / name
        return path if path.is_file() else None


# Without `ccmp`: Noto Sans uses it to split ẹ, ị, ọ, ụ (Vietnamese) into a letter and a separate
# dot, and fpdf2 can only map the first glyph of a split letter back to text, so the PDF's text
# (search, copy, screen readers) would get a stray character. Names reach the PDF in NFC, where
# such letters are single characters with a glyph of their own; marks are still placed by `mark`.
LATIN = Face(
    "noto-sans",
    "fontpkg_noto_sans",
    "files/NotoSans[wdth,wght].ttf",
    axes=(("wdth", 100),),
    without=("ccmp",),
)
# IBM Plex rather than Noto for Arabic: Noto Sans Arabic draws a letter's dots as separate glyphs,
# which fpdf2 cannot map back to the letter, so the PDF's text (search, copy, screen readers)
# would come out garbled. Plex draws each letter form as one glyph.
ARABIC = Face(
    "plex-arabic",
    "fontpkg_ibm_plex_sans_arabic",
    "files/IBMPlexSansArabic-Regular.ttf",
    "files/IBMPlexSansArabic-Bold.ttf",
)
HEBREW = Face(
    "noto-sans-hebrew",
    "justmytype_intl_rtl",
    "fonts/ofl/notosanshebrew/NotoSansHebrew[wdth,wght].ttf",
    axes=(("wdth", 100),),
)
CHINESE_SIMPLIFIED = Face("noto-sans-sc", "justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf")
CHINESE_TRADITIONAL = Face("noto-sans-tc", "justmytype_intl_cjk", "fonts/ofl/notosanstc/NotoSansTC[wght].ttf")
JAPANESE = Face("noto-sans-jp", "justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf")
KOREAN = Face("noto-sans-kr", "justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf")

# The Latin face draws everything it can; the others only what it cannot.
FACES: tuple[Face, ...] = (LATIN, ARABIC, HEBREW, CHINESE_SIMPLIFIED, CHINESE_TRADITIONAL, JAPANESE, KOREAN)

# What every document's own wording uses, and the letters of most names written in Latin script
# (Latin-1, Latin Extended-A: Polish, Czech, Turkish, Hungarian...; Romanian; Vietnamese), so that
# the main font's cut is the same from one document to the next and made once per process. It
# costs about as much to make as a cut of a few letters, since reading the font's layout tables is
# most of the work; a Greek or Cyrillic name gets a small cut of its own.
BASE_CHARACTERS = frozenset(
    [chr(c) for c in range(0x20, 0x7F)]
    + [chr(c) for c in range(0xA0, 0x180)]
    + [chr(c) for c in range(0x218, 0x21C)]
    + [chr(c) for c in range(0x1EA0, 0x1EFA)]
    + list("\u01a0\u01a1\u01af\u01b0\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u2026\u2022\u20ac")
)


@cache
def installed_faces() -> tuple[Face, ...]:
    """The faces whose package is installed. Every one is a dependency; a missing one narrows
    what `unprintable()` accepts rather than letting a PDF drop characters."""
    return tuple(face for face in FACES if face.path(REGULAR) is not None and face.path(BOLD) is not None)


@cache
def coverage(face: Face) -> frozenset[str]:
    path = face.path(REGULAR)
    if path is None:
        return frozenset()
    cmap = TTFont(str(path), lazy=True).getBestCmap() or {}
    return frozenset(chr(code) for code in cmap)


def unprintable(text: str) -> list[str]:
    """The distinct characters of `text` that no installed font can draw, in order of appearance."""
    text = unicodedata.normalize("NFC", text)
    faces = installed_faces()
    seen: list[str] = []
    for char in text:
        if char not in seen and not any(char in coverage(face) for face in faces):
            seen.append(char)
    return seen


INVISIBLE = {
    "Cc": "control character",
    "Cf": "formatting character",
    "Co": "private-use character",
    "Cs": "surrogate",
    "Cn": "unassigned character",
}


def describe(chars: Iterable[str]) -> str:
    """`“☃” (SNOWMAN, U+2603)`, for a message a person can act on; invisible characters by name only."""
    parts = []
    for char in chars:
        category = unicodedata.category(char)
        name = unicodedata.name(char, "") or INVISIBLE.get(category, "character")
        code = f"U+{ord(char):04X}"
        parts.append(
            f"{name} ({code})"
            if category in INVISIBLE or category[0] == "Z"
            else f"“{char}” ({name}, {code})"
        )
    return ", ".join(parts)


def _has(text: str, *ranges: tuple[int, int]) -> bool:
    return any(low <= ord(char) <= high for char in text for low, high in ranges)


def assign(chars: Iterable[str], *, context: str = "") -> dict[Face, frozenset[str]]:
    """Which face draws each character: the Latin face where it can, then Arabic, Hebrew, and the
    CJK face for the language the text is evidently in (kana means Japanese, hangul Korean, so
    that a Japanese name gets Japanese glyph shapes for the kanji it shares with Chinese)."""
    cjk = [CHINESE_SIMPLIFIED, CHINESE_TRADITIONAL, JAPANESE, KOREAN]
    if _has(context, (0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)):
        cjk = [JAPANESE, *(f for f in cjk if f is not JAPANESE)]
    elif _has(context, (0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F)):
        cjk = [KOREAN, *(f for f in cjk if f is not KOREAN)]
    order = [face for face in (LATIN, ARABIC, HEBREW, *cjk) if face in installed_faces()]
    chosen: dict[Face, set[str]] = {}
    for char in chars:
        face = next((face for face in order if char in coverage(face)), None)
        if face is not None:
            chosen.setdefault(face, set()).add(char)
    return {face: frozenset(chars) for face, chars in chosen.items()}


@lru_cache(maxsize=64)
def font_program(face: Face, weight: int, chars: frozenset[str]) -> bytes:
    """A static TrueType font of `face` at `weight` holding only `chars` (and the glyphs their
    OpenType layout reaches: joining forms, marks, ligatures)."""
    path = face.path(weight)
    if path is None:
        raise FileNotFoundError(f"the font package {face.package} is not installed")
    font = TTFont(str(path), lazy=True)
    options = subset.Options()
    options.notdef_outline = True
    options.hinting = False  # PDF viewers do their own; hinting is most of a font's size
    options.layout_features = [f for f in options.layout_features if f not in face.without]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    subsetter.subset(font)
    if "fvar" in font and face.bold is None:
        limits = {axis.axisTag: axis for axis in font["fvar"].axes}
        wanted = {"wght": float(weight), **dict(face.axes)}
        location = {
            tag: min(max(value, limits[tag].minValue), limits[tag].maxValue)
            for tag, value in wanted.items()
            if tag in limits
        }
        instancer.instantiateVariableFont(font, location, inplace=True, static=True)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()
