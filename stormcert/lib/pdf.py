"""PDF pages with fpdf2 (pure Python): one place for the page, the fonts and fitting a name to a space.

A `Document` draws any character `stormcert.lib.fonts` can print: the Latin face is the main font
and every other face (Arabic, Hebrew, CJK) is a fallback fpdf2 switches to per character, with
HarfBuzz shaping on so that Arabic joins and right-to-left text runs right to left. Every string
goes through `doc.t()` first, which adds the fonts it needs and marks anything unprintable with
"?" (logged) instead of letting it vanish.
"""

from __future__ import annotations

import logging
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue

from stormcert.lib import fonts

logger = logging.getLogger(__name__)

BODY = "body"
# Kept as they are: they lay text out rather than draw a glyph.
LAYOUT_CHARACTERS = frozenset("\n")


@dataclass(frozen=True)
class Fit:
    """A text measured to fit a box: the type size and how many lines it takes."""

    text: str
    style: str
    size: float
    lines: int
    line_height: float

    @property
    def height(self) -> float:
        return self.lines * self.line_height


class Document:
    """A Letter page with margins whose fonts are cut to the text it draws.

    Use it as a context manager: the cut fonts live in a private temporary folder that fpdf2
    reads until `output()`, and that is removed on leaving the block.
    The main font holds the document's own wording (`fonts.BASE_CHARACTERS`), the same cut for
    every document, so it is made once per process. `text` is what the caller already knows it
    will draw in `styles` (a name above all), so that each script's characters land in one font and
    shape together; anything else is added, in both styles, when `t()` meets it.
    """

    def __init__(
        self,
        orientation: str = "portrait",
        *,
        text: Iterable[str] = (),
        styles: tuple[str, ...] = ("", "B"),
        margin: float = 18,
    ):
        self.pdf = FPDF(orientation=orientation, format="Letter")
        self.pdf.set_margins(margin, margin, margin)
        self._folder = tempfile.TemporaryDirectory(prefix="stormcert-fonts-")
        self._drawable: set[str] = set()
        self._fallbacks: list[str] = []
        self._context = unicodedata.normalize("NFC", "".join(text))
        self.font = BODY if fonts.LATIN in fonts.installed_faces() else "helvetica"
        if self.font == BODY:
            self._add(set(fonts.BASE_CHARACTERS), main=True)
            self._add(set(self._context) - LAYOUT_CHARACTERS - self._drawable, styles=styles)
            # The document is in English: a line is left to right, with any right-to-left run in
            # it (an Arabic name before an email address) in its own order. A name on its own
            # (`fit`) takes the direction of its script.
            self.pdf.set_text_shaping(True, direction="ltr")
        self.pdf.add_page()

    def __enter__(self) -> Document:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._folder.cleanup()

    def t(self, value: str) -> str:
        """`value` ready to draw: fonts added for its characters, the unprintable ones shown as "?"."""
        if self.font != BODY:  # the PDF core font only knows Latin-1
            return value.encode("latin-1", "replace").decode("latin-1")
        value = unicodedata.normalize("NFC", value)
        missing = {char for char in value if char not in LAYOUT_CHARACTERS} - self._drawable
        if not missing:
            return value
        unprintable = set(fonts.unprintable("".join(missing)))
        if unprintable:
            logger.warning("PDF text has characters no font can draw: %s", fonts.describe(unprintable))
            value = "".join("?" if char in unprintable else char for char in value)
            missing -= unprintable
        self._context += value
        self._add(missing)
        return value

    def _add(self, chars: set[str], *, main: bool = False, styles: tuple[str, ...] = ("", "B")) -> None:
        weights = {"": fonts.REGULAR, "B": fonts.BOLD}
        for face, share in fonts.assign(sorted(chars), context=self._context).items():
            family = BODY if main and face is fonts.LATIN else f"{face.family}-{len(self._fallbacks)}"
            for style in styles:
                path = Path(self._folder.name) / f"{family}-{style or 'R'}.ttf"
                path.write_bytes(fonts.font_program(face, weights[style], share))
                self.pdf.add_font(family, style, str(path))
            if family != BODY:
                self._fallbacks.append(family)
            self._drawable |= share
        if self._fallbacks:
            # Not exact: a character declared for bold only still draws (in bold) if met in regular.
            self.pdf.set_fallback_fonts(self._fallbacks, exact_match=False)

    def measure(
        self,
        value: str,
        *,
        w: float,
        style: str = "",
        largest: float,
        smallest: float,
        floor: float,
        max_lines: int = 2,
        leading: float = 1.2,
    ) -> Fit:
        """How `value` fits a box `w` wide: on one line, in the largest type from `largest` down to
        `smallest` that fits; failing that on up to `max_lines` lines, from `smallest` down to
        `floor`; failing even that, at `floor` on as many lines as it takes (a name is never cut)."""
        text = self.t(value)
        pdf = self.pdf

        def lines_at(size: float) -> int:
            pdf.set_font(self.font, style, size)
            lines = pdf.multi_cell(
                w, size * leading / pdf.k, text, dry_run=True, output=MethodReturnValue.LINES
            )
            return len(lines) if isinstance(lines, list) else 1  # output=LINES gives the list

        def steps(high: float, low: float) -> list[float]:
            sizes = []
            size = high
            while size >= low - 1e-9:
                sizes.append(size)
                size -= 0.5
            return sizes

        size = next((s for s in steps(largest, smallest) if lines_at(s) == 1), None)
        if size is None:
            size = next((s for s in steps(smallest, floor) if lines_at(s) <= max_lines), floor)
        return Fit(
            text=text, style=style, size=size, lines=lines_at(size), line_height=size * leading / pdf.k
        )

    def draw(
        self, fit: Fit, *, x: float, y: float, w: float, h: float | None = None, align: str = "C"
    ) -> float:
        """Draw a measured text at (x, y), centred in a box `h` high when given; returns the y below it."""
        pdf = self.pdf
        if h is not None:
            y += max(0, (h - fit.height) / 2)
        pdf.set_font(self.font, fit.style, fit.size)
        pdf.set_xy(x, y)
        shaping = self.font == BODY
        if shaping:
            pdf.set_text_shaping(True, direction=None)  # this paragraph's own direction
        pdf.multi_cell(w, fit.line_height, fit.text, align=Align.coerce(align))
        if shaping:
            pdf.set_text_shaping(True, direction="ltr")
        return pdf.get_y()

    def fit(
        self,
        value: str,
        *,
        x: float,
        y: float,
        w: float,
        style: str = "",
        largest: float,
        smallest: float,
        floor: float,
        max_lines: int = 2,
        align: str = "C",
    ) -> float:
        """`measure` and `draw` in one: returns the y just below the text."""
        measured = self.measure(
            value, w=w, style=style, largest=largest, smallest=smallest, floor=floor, max_lines=max_lines
        )
        return self.draw(measured, x=x, y=y, w=w, align=align)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
