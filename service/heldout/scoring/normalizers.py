"""Text normalisers for speech recognition, chosen per benchmark and published with it.

Each normaliser maps a transcript to a string whose space-separated tokens are the words
that WER counts. The same normaliser is applied to references and hypotheses.

* ``none`` -- the text unchanged. Words are split exactly as jiwer 4's default transform
  does (runs of two or more whitespace characters become one space, strip, split on
  ``" "``; so a single tab stays inside a word, as in jiwer). CER counts the characters of
  the stripped text, spaces included (jiwer ``cer``).
* ``basic`` -- NFKC, Unicode case fold (``ß`` -> ``ss``), apostrophes deleted (``don't``
  -> ``dont``), every other Unicode punctuation character (category ``P*``) replaced by a
  space, whitespace collapsed. Symbols (``$``, ``+``, ``=``) are kept; ``%`` and ``#``
  are Unicode punctuation (Po) and become spaces.
* ``english`` -- Whisper-style English normalisation, written compactly here:
  lower case; text in ``[...]``, ``<...>`` and ``(...)`` removed; fillers ``hmm mm mhm mmm
  uh um`` removed; contractions expanded (table ``CONTRACTIONS``, then the generic
  suffixes ``n't 're 's 'd 'll 've 'm`` -> ``not are is would will have am``, as Whisper);
  British spellings mapped to American for the small table ``BRITISH_TO_AMERICAN``;
  ``%`` -> ``percent``; thousands separators removed (``1,000`` -> ``1000``); cardinal
  number words written as digits (``twenty one`` -> ``21``, ``one hundred and five`` ->
  ``105``, ``two thousand twenty`` -> ``2020``; a sequence that is not one cardinal stays
  separate: ``one two`` -> ``1 2``; ordinals, decimals spoken as ``point`` and currencies
  are left as words); diacritics removed; other punctuation and symbols -> space, except a
  ``.`` between digits.
* ``chinese`` -- as WeNet's ``tools/compute-wer.py --char=1``: upper case; each CJK (``Lo``)
  character is one token; a run of other characters (ASCII letters, digits) up to a space or
  a non-ASCII character is one token; ``<tags>`` removed. Punctuation is removed before
  tokenising: every Unicode ``P*`` character (a superset of WeNet's list, so ``hello,``
  becomes ``HELLO`` where WeNet would keep ``HELLO,``). WER over these tokens is WeNet's CER,
  and ``cer`` is reported as that same token error rate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from heldout.errors import InvalidInput

_MULTI_SPACE = re.compile(r"\s\s+")


def jiwer_words(text: str) -> list[str]:
    """Split into words exactly as jiwer 4's default WER transform does."""
    return [w for w in _MULTI_SPACE.sub(" ", text).strip().split(" ") if w]


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


class _BoundedCache(dict[str, bool]):
    """A dict that stops growing at ``limit`` entries (a submission holding every Unicode
    character would otherwise grow a worker by ~100 MB for good)."""

    limit = 1 << 16

    def __setitem__(self, key: str, value: bool) -> None:
        if len(self) < self.limit:
            super().__setitem__(key, value)


_PUNCT_CACHE: dict[str, bool] = _BoundedCache()


def _punct_to(text: str, repl: str, keep: str = "") -> str:
    out = []
    for ch in text:
        p = _PUNCT_CACHE.get(ch)
        if p is None:
            p = _PUNCT_CACHE[ch] = _is_punct(ch)
        out.append(repl if p and ch not in keep else ch)
    return "".join(out)


_APOSTROPHES = re.compile(r"['’‘ʼ]")


def basic(text: str) -> str:
    """Case fold, delete apostrophes, punctuation to spaces, collapse whitespace."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(_punct_to(text, " ").split())


# --- english --------------------------------------------------------------------------

FILLERS = ("hmm", "mm", "mhm", "mmm", "uh", "um")
CONTRACTIONS = {
    "won't": "will not",
    "can't": "can not",
    "let's": "let us",
    "ain't": "aint",
    "y'all": "you all",
    "wanna": "want to",
    "gotta": "got to",
    "gonna": "going to",
    "i'ma": "i am going to",
    "imma": "i am going to",
    "woulda": "would have",
    "coulda": "could have",
    "shoulda": "should have",
    "ma'am": "madam",
}
_SUFFIXES = (
    ("n't", " not"),
    ("'re", " are"),
    ("'s", " is"),
    ("'d", " would"),
    ("'ll", " will"),
    ("'ve", " have"),
    ("'m", " am"),
)
BRITISH_TO_AMERICAN = {
    "colour": "color",
    "colours": "colors",
    "favour": "favor",
    "favourite": "favorite",
    "honour": "honor",
    "labour": "labor",
    "neighbour": "neighbor",
    "neighbours": "neighbors",
    "behaviour": "behavior",
    "humour": "humor",
    "flavour": "flavor",
    "rumour": "rumor",
    "centre": "center",
    "centres": "centers",
    "metre": "meter",
    "metres": "meters",
    "litre": "liter",
    "theatre": "theater",
    "fibre": "fiber",
    "organise": "organize",
    "organised": "organized",
    "organisation": "organization",
    "realise": "realize",
    "realised": "realized",
    "recognise": "recognize",
    "recognised": "recognized",
    "apologise": "apologize",
    "analyse": "analyze",
    "travelled": "traveled",
    "travelling": "traveling",
    "cancelled": "canceled",
    "programme": "program",
    "grey": "gray",
    "defence": "defense",
    "offence": "offense",
    "licence": "license",
    "catalogue": "catalog",
    "dialogue": "dialog",
    "aeroplane": "airplane",
    "tyre": "tire",
    "jewellery": "jewelry",
    "cheque": "check",
    "mould": "mold",
    "plough": "plow",
    "aluminium": "aluminum",
    "practise": "practice",
}
_ONES = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2
    )
}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}

_BRACKETS = re.compile(r"[<\[][^>\]]*[>\]]|\(([^)]+?)\)")
_FILLER_RE = re.compile(r"\b(" + "|".join(FILLERS) + r")\b")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_LONE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")


class _Cardinal:
    """Accumulates one spoken cardinal number, word by word."""

    def __init__(self) -> None:
        self.total = 0
        self.current = 0
        self.last: str | None = None
        self.scale = 10**15
        self.pending_and = False

    def accepts(self, word: str) -> bool:
        after_group = self.last in (None, "hundred", "scale")
        if word in _ONES:
            value = _ONES[word]
            if self.last == "zero":
                return False
            if value == 0:
                return self.last is None
            if value < 10:
                return after_group or self.last == "tens"
            return after_group and self.current % 100 == 0
        if word in _TENS:
            return after_group and self.current % 100 == 0
        if word == "hundred":
            return self.last in ("ones", "teen") and 0 < self.current < 100
        if word in _SCALES:
            return self.current > 0 and _SCALES[word] < self.scale and not self.pending_and
        if word == "and":
            return self.last in ("hundred", "scale") and not self.pending_and
        return False

    def add(self, word: str) -> None:
        self.pending_and = word == "and"
        if word in _ONES:
            value = _ONES[word]
            self.current += value
            self.last = "zero" if value == 0 else ("ones" if value < 10 else "teen")
        elif word in _TENS:
            self.current += _TENS[word]
            self.last = "tens"
        elif word == "hundred":
            self.current *= 100
            self.last = "hundred"
        elif word in _SCALES:
            self.scale = _SCALES[word]
            self.total += self.current * self.scale
            self.current = 0
            self.last = "scale"

    def flush(self) -> list[str]:
        out = [str(self.total + self.current)] if self.last is not None else []
        if self.pending_and:
            out.append("and")
        return out


def _numbers_to_digits(words: list[str]) -> list[str]:
    out: list[str] = []
    num: _Cardinal | None = None
    for word in words:
        if num is not None and num.accepts(word):
            num.add(word)
            continue
        if num is not None:
            out.extend(num.flush())
            num = None
        if word in _ONES or word in _TENS:
            num = _Cardinal()
            num.add(word)
        else:
            out.append(word)
    if num is not None:
        out.extend(num.flush())
    return out


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _symbols_to_space(text: str) -> str:
    return "".join(" " if unicodedata.category(ch)[0] in "PS" and ch != "." else ch for ch in text)


def english(text: str) -> str:
    """Whisper-style English normalisation (see the module docstring for the rules)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    text = _BRACKETS.sub(" ", text)
    text = _FILLER_RE.sub(" ", text)
    text = text.replace("%", " percent ")
    text = _THOUSANDS.sub("", text)
    words = []
    for word in text.split():
        core = word.strip('.,!?;:"')
        if core in CONTRACTIONS:
            word = CONTRACTIONS[core]
        else:
            for suffix, expansion in _SUFFIXES:
                if core.endswith(suffix) and len(core) > len(suffix):
                    word = core[: -len(suffix)] + expansion
                    break
        words.append(word)
    text = _strip_diacritics(" ".join(words))
    text = _LONE_DOT.sub(" ", _symbols_to_space(text))
    tokens = [BRITISH_TO_AMERICAN.get(w, w) for w in text.split()]
    return " ".join(_numbers_to_digits(tokens))


# --- chinese --------------------------------------------------------------------------

_SPACES = (" ", "\t", "\r", "\n")


def chinese_tokens(text: str) -> list[str]:
    """WeNet ``compute-wer.py --char=1`` tokens (punctuation removed first, upper case)."""
    text = _punct_to(text.upper(), "", keep="")
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        cat = unicodedata.category(ch)
        if cat in ("Zs", "Cn") or ch in _SPACES:
            i += 1
            continue
        if cat == "Lo":
            tokens.append(ch)
            i += 1
            continue
        sep = ">" if ch == "<" else " "
        j = i + 1
        while j < n and ord(text[j]) < 128 and text[j] not in _SPACES and text[j] != sep:
            j += 1
        if j < n and text[j] == ">":
            j += 1
        token = re.sub(r"<[^>]*>?", "", text[i:j])
        if token:
            tokens.append(token)
        i = j
    return tokens


def chinese(text: str) -> str:
    """WeNet-style tokens joined by single spaces."""
    return " ".join(chinese_tokens(text))


@dataclass(frozen=True)
class Normalizer:
    """A named normaliser; ``cer_on_words`` makes CER the token error rate (``chinese``)."""

    name: str
    apply: Callable[[str], str]
    cer_on_words: bool = False


NORMALIZERS: dict[str, Normalizer] = {
    "none": Normalizer("none", lambda s: s),
    "basic": Normalizer("basic", basic),
    "english": Normalizer("english", english),
    "chinese": Normalizer("chinese", chinese, cer_on_words=True),
}


def get_normalizer(name: str) -> Normalizer:
    """The normaliser called ``name``; InvalidInput naming the choices otherwise."""
    try:
        return NORMALIZERS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown text normaliser {name!r}; choose one of {', '.join(NORMALIZERS)}",
            field="normalizer",
        ) from None
