"""Figures and citations in hand-written prose: the pure part of the macros (scripts/macros.py).

A figure reads in English: the row's own number (never another) with a decimal point, English
grouping and as many decimals as its source printed ("34,8" → 34.8, "3,020.1" → 3,020.1,
"$1.0 billion" → 1.0), set in the words of its unit (spec/strings/en.yml, prose.unit) or in
the page's own words ("{n} member companies"). The printed form stays in the data.

A page's citations are numbered by source and locator in order of first use: a figure adds its
citation to the page (`PageSources.add`), the sentence's source mark takes what was added since
the last mark (`take`), and the page's Sources list shows them all (`notes`). Repeated citations
of one source and locator share one number.

    english("3020.1", "3,020.1")       -> "3,020.1"
    english("34.8", "34,8 billion")    -> "34.8"
    english("1.0", "$1.0 billion")     -> "1.0"
    ordinal("25", ["th", "st", "nd", "rd"]) -> "25th"
    words("{n} member companies", "190")  -> "190 member companies"
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")  # a number as printed: "34,8", "3,020.1", "1,000", "7"
PLACEHOLDERS = ("n", "ord")  # what a figure's words may fill in: the number, and the number as an ordinal


def number(raw) -> Decimal:
    """A cell's number, exactly (a Decimal keeps the digits the CSV holds)."""
    try:
        n = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None
    if not n.is_finite():
        raise ValueError(f"{raw!r} is not a number")
    return n


def _places(n: Decimal) -> int:
    exponent = n.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _readings(token: str) -> list[tuple[Decimal, int]]:
    """What a printed token can mean, with its decimals: a decimal point with comma grouping, or
    a decimal comma (as in the Russian translation) with point grouping."""
    found = []
    for point, group in ((".", ","), (",", ".")):
        whole, _, frac = token.partition(point)
        if point in frac or group in frac:
            continue
        if group in whole and not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(group)}\d{{3}})+", whole):
            continue
        found.append((Decimal(whole.replace(group, "") + ("." + frac if frac else "")), len(frac)))
    return found


def decimals_printed(printed: str, n: Decimal) -> int | None:
    """How many decimals the source printed for the number `n` in its printed form `printed`
    ("34,8 billion US dollars" → 1 for 34.8); None where no numeral there is `n` ("fifth-largest")."""
    for token in _TOKEN.findall(str(printed or "")):
        for value, places in _readings(token):
            if value == n:
                return places
    return None


def english(raw, printed: str = "") -> str:
    """The number of a cell in English: decimal point, comma grouping, the decimals of its
    printed form. Never fewer decimals than the cell holds: the number is never rounded."""
    n = number(raw)
    places = max(decimals_printed(printed, n) or 0, _places(n))
    text = format(n.quantize(Decimal(1).scaleb(-places)), ",f")  # places ≥ the cell's: nothing is rounded
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text


def ordinal(raw, suffixes: list[str]) -> str:
    """An integer as an English ordinal (suffixes: [th, st, nd, rd]): 1st, 2nd, 11th, 23rd."""
    n = number(raw)
    if n != n.to_integral_value():
        return english(raw)
    i = abs(int(n))
    suffix = suffixes[0] if 10 <= i % 100 <= 20 else suffixes[i % 10] if i % 10 in (1, 2, 3) else suffixes[0]
    return english(raw) + suffix


def check_words(pattern: str) -> None:
    """A figure's words must show the number: {n} or {ord}, and nothing else in braces."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError as e:
        raise ValueError(f"the words {pattern!r} are not a pattern ({e}); write the number as {{n}}, braces as {{{{ }}}}") from None
    if not fields or any(name not in PLACEHOLDERS or spec or conv for name, spec, conv in fields):
        raise ValueError(f"the words {pattern!r} must show the number as {{n}} (or {{ord}}, as an ordinal), with nothing else in braces")


NBSP, WJ = "\u00a0", "\u2060"  # a no-break space; a word joiner (no line break here, nothing shown)
_SPACE_BY_NUMBER = re.compile(r" (?=\{(?:n|ord)\})|(?<=\{n\}) |(?<=\{ord\}) ")
_DASH_BY_NUMBER = re.compile(r"(?<=\{n\})([-–])|(?<=\{ord\})([-–])|([-–])(?=\{(?:n|ord)\})")


def bind(pattern: str) -> str:
    """No line break beside the number: the spaces either side become no-break spaces and a
    hyphen or dash beside it is followed by a word joiner ("USD 3.9 billion", "18-month";
    "190 member companies" may still break after "member")."""
    return _DASH_BY_NUMBER.sub(lambda m: m[0] + WJ, _SPACE_BY_NUMBER.sub(NBSP, pattern))


def glue(text: str) -> str:
    """No line break inside a range of numbers ("3–4", "15–20")."""
    return re.sub(r"(?<=\d)([-–])(?=\d)", lambda m: m[0] + WJ, text)


def words(pattern: str, n: str, ord_: str = "") -> str:
    """The figure's text: its words with the number filled in (the number is data; the words are
    the page's or the catalog's), bound to the number (`bind`)."""
    check_words(pattern)
    return bind(pattern).format(n=n, ord=ord_ or n)


def figure(raw, printed: str = "", high=None, unit: str = "", own_words: str = "", *, unit_words=lambda unit: None,
           range_words: str = "{n}–{max}", suffixes: tuple = ("th", "st", "nd", "rd")) -> str:
    """A cell's number as a page shows it: in English (`english`), a range with its `high` end
    ("3–4"), in the page's words or its unit's (`unit_words(unit)`: a pattern or None, then
    "<number> <unit>"), never broken across lines beside the number."""
    n = english(raw, printed)
    if high not in ("", None):
        n = ord_ = glue(range_words.format(n=n, max=english(high, printed)))
    else:
        ord_ = ordinal(raw, list(suffixes))
    pattern = own_words or unit_words(unit)
    if pattern:
        return words(pattern, n, ord_)
    return f"{n}{NBSP}{unit}" if unit else n


# ---------------------------------------------------------------- a page's citations

@dataclass
class Note:
    """One entry of a page's Sources list: a source and locator, and the figures that cite it."""
    number: int
    source_id: str
    label: str
    locator: str
    figures: list[dict] = field(default_factory=list)  # {text, href, quote, number}: what the page quotes from it


@dataclass
class PageSources:
    """The citations of one page, in order of first use."""
    notes: dict[tuple[str, str], Note] = field(default_factory=dict)
    pending: list[tuple[Note, str]] = field(default_factory=list)  # cited since the last mark: (note, quote)
    marks: int = 0

    def add(self, source_id: str, label: str, locator: str, quote: str = "", text: str = "", href: str = "",
            number: bool = True) -> Note:
        """Cite a source at a locator for what the page shows (`text`, linked to its row at
        `href`; number: a figure, not a text cell); the note's number."""
        key = (str(source_id), str(locator))
        note = self.notes.get(key)
        if note is None:
            note = self.notes[key] = Note(len(self.notes) + 1, key[0], str(label), key[1])
        figure = {"text": text, "href": href, "quote": quote or "", "number": number}
        if figure not in note.figures:
            note.figures.append(figure)
        self.pending.append((note, figure["quote"]))
        return note

    def take(self) -> list[dict]:
        """The source mark of a sentence: the notes cited since the last mark, each once, with
        the quotes of the figures it stands for. Empty if nothing was cited."""
        found: dict[int, dict] = {}
        for note, quote in self.pending:
            entry = found.setdefault(note.number, {"note": note, "quotes": []})
            if quote and quote not in entry["quotes"]:
                entry["quotes"].append(quote)
        self.pending = []
        if found:
            self.marks += 1
        return [found[k] for k in sorted(found)]
