"""Speech recognition metrics: pooled WER, CER, MER, WIL with edit counts, as jiwer 4.

Edit distance and alignment come from rapidfuzz (C++): each distinct token is mapped to
one code point and every utterance becomes a string, so ``Levenshtein.editops`` compares
token sequences. rapidfuzz's alignment is the one jiwer uses, so the hit, substitution,
deletion and insertion counts are identical to jiwer's, not just the distance.

Conventions (jiwer 4.0):

* Rates are **pooled** over the corpus: ``WER = (S+D+I) / (H+S+D)``, ``MER = (S+D+I) /
  (H+S+D+I)``, ``WIL = 1 - (H/N)·(H/M)`` with ``N`` reference and ``M`` hypothesis
  tokens; not a mean of per-utterance rates.
* **Empty references.** When the whole reference side is empty (``N = 0``), WER and CER
  equal the number of inserted tokens (so 0.0 for an empty hypothesis), MER is 0 if the
  hypothesis is empty too, else 1, and WIL is 0 if both are empty, else 1. Empty
  individual references inside a non-empty corpus just contribute their insertions.
* When ``M = 0`` and ``N > 0``, WIL is 1.
* **CER counts spaces**: characters of the normalised, stripped text, as jiwer's ``cer``.
* A **missing** hypothesis (policy ``count-as-wrong``) is the empty string: every
  reference token is a deletion (Kaldi's ``all`` mode).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from rapidfuzz.distance import Levenshtein

from heldout.errors import InvalidInput
from heldout.scoring.normalizers import Normalizer, get_normalizer
from heldout.scoring.results import Alignments, ErrorCounts, SpeechResult

IntArray = NDArray[np.int64]
_SURROGATES = 0xD800
# Word ids k map to code points k + 1, skipping the 0x800 surrogates: codes 1..0x10FFFF
# hold 0x110000 - 0x800 - 1 words (one more would need code point 0x110000).
_MAX_CODES = 0x110000 - 0x800 - 1


# Python's whitespace (str.isspace / re ``\s``), spelled out for RE2 and utf8_trim.
_WHITESPACE = "".join(
    chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and chr(c).isspace()
)
_WS_RUN = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "]{2,}"


@dataclass(frozen=True)
class Encoded:
    """Utterances as strings with one character per word token (same vocabulary)."""

    refs: list[str]
    hyps: list[str]
    vocabulary: list[str]  # token id -> word
    _word_of: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def words(self, side: str, i: int) -> tuple[str, ...]:
        """The word tokens of utterance ``i`` on ``side`` ("ref" or "hyp")."""
        if not self._word_of and self.vocabulary:
            self._word_of.update(
                zip(map(chr, _ids_to_codes(len(self.vocabulary))), self.vocabulary, strict=True)
            )
        encoded = self.refs[i] if side == "ref" else self.hyps[i]
        return tuple(map(self._word_of.__getitem__, encoded))


def _ids_to_codes(n: int) -> list[int]:
    codes = np.arange(1, n + 1, dtype=np.int64)
    codes[codes >= _SURROGATES] += 0x800
    return codes.tolist()


def encode_words(refs: Sequence[str], hyps: Sequence[str]) -> Encoded:
    """Tokenise as jiwer's default transform and map each distinct word to one character.

    jiwer: runs of two or more whitespace characters become one space, strip, split on
    ``" "``. Done for the whole corpus at once with Arrow compute kernels; every word id
    ``k`` becomes code point ``k + 1`` (skipping the surrogate block), so each utterance is
    a string rapidfuzz compares character by character.
    """
    n = len(refs)
    arr = pa.array([*refs, *hyps], pa.large_string())
    arr = pc.utf8_trim(pc.replace_substring_regex(arr, _WS_RUN, " "), _WHITESPACE)
    lists = pc.split_pattern(arr, " ")
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    lengths -= pc.utf8_length(arr).to_numpy(zero_copy_only=False) == 0  # "" -> [""]
    flat = lists.flatten()
    flat = flat.filter(pc.not_equal(flat, ""))
    encoded_ids = pc.dictionary_encode(flat)
    vocabulary = encoded_ids.dictionary.to_pylist()
    if len(vocabulary) > _MAX_CODES:
        raise InvalidInput(f"{len(vocabulary)} distinct words; at most {_MAX_CODES} supported")
    codes = encoded_ids.indices.to_numpy(zero_copy_only=False).astype(np.uint32) + 1
    codes[codes >= _SURROGATES] += 0x800
    text = codes.astype("<u4").tobytes().decode("utf-32-le")
    offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    encoded = [text[a:b] for a, b in itertools.pairwise(offsets)]
    return Encoded(encoded[:n], encoded[n:], vocabulary)


def edit_counts(
    refs: Sequence[str], hyps: Sequence[str], keep_edits: bool = False
) -> tuple[IntArray, list[list[tuple[str, int, int]]] | None]:
    """Per-utterance ``(hits, substitutions, deletions, insertions)`` as an ``(n, 4)`` array.

    Inputs are sequences rapidfuzz compares element by element (encoded words, or plain
    strings for characters). With ``keep_edits`` the editops of each utterance are kept.
    """
    editops = Levenshtein.editops
    first = itemgetter(0)
    ops = [editops(r, h).as_list() for r, h in zip(refs, hyps, strict=True)]
    tags = [list(map(first, o)) for o in ops]
    n_ops = np.fromiter(map(len, ops), dtype=np.int64, count=len(ops))
    ins = np.fromiter((t.count("insert") for t in tags), dtype=np.int64, count=len(ops))
    dels = np.fromiter((t.count("delete") for t in tags), dtype=np.int64, count=len(ops))
    ref_len = np.fromiter(map(len, refs), dtype=np.int64, count=len(ops))
    subs = n_ops - ins - dels
    out = np.stack([ref_len - subs - dels, subs, dels, ins], axis=1)
    return out, (ops if keep_edits else None)  # type: ignore[return-value]


def pooled_rates(counts: NDArray[Any]) -> tuple[NDArray[np.float64], ...]:
    """WER, MER, WIL from pooled counts ``(..., 4)`` = H, S, D, I (jiwer 4 formulas)."""
    c = np.asarray(counts, dtype=np.float64)
    h, s, d, i = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    n, m, errors = h + s + d, h + s + i, s + d + i
    empty_ref = n == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        wer = np.where(empty_ref, i, errors / n)
        mer = np.where(empty_ref, (m > 0).astype(np.float64), errors / (n + i))
        wip = np.where(
            empty_ref, (m == 0).astype(np.float64), np.where(m >= 1, (h / n) * (h / m), 0.0)
        )
    return wer, mer, 1.0 - wip


@dataclass(frozen=True)
class UtteranceCounts:
    """Per-utterance word and character counts ``(n, 4)`` (H, S, D, I) and optional edits."""

    words: IntArray
    chars: IntArray
    encoded: Encoded
    edits: list[list[tuple[str, int, int]]] | None


def utterance_counts(
    references: Sequence[str],
    hypotheses: Sequence[str],
    normalizer: str | Normalizer = "none",
    with_edits: bool = False,
    cer: bool = True,
) -> UtteranceCounts:
    """Normalise, tokenise and align every utterance; counts per utterance."""
    norm = get_normalizer(normalizer) if isinstance(normalizer, str) else normalizer
    if len(references) != len(hypotheses):
        raise InvalidInput(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if norm.name != "none":
        references = [norm.apply(t) for t in references]
        hypotheses = [norm.apply(t) for t in hypotheses]
    enc = encode_words(references, hypotheses)
    words, edits = edit_counts(enc.refs, enc.hyps, keep_edits=with_edits)
    if norm.cer_on_words:
        chars = words
    elif cer:
        chars = edit_counts(list(map(str.strip, references)), list(map(str.strip, hypotheses)))[0]
    else:
        chars = np.zeros_like(words)
    return UtteranceCounts(words, chars, enc, edits)


def _counts(total: NDArray[np.int64]) -> ErrorCounts:
    h, s, d, i = (int(x) for x in total)
    return ErrorCounts(hits=h, substitutions=s, deletions=d, insertions=i)


def speech_metrics(
    references: Sequence[str],
    hypotheses: Sequence[str],
    normalizer: str | Normalizer = "none",
    ids: Sequence[str] | None = None,
    alignments: bool = False,
    n_missing: int = 0,
    cer: bool = True,
    counts: UtteranceCounts | None = None,
) -> SpeechResult:
    """Pooled WER, MER, WIL and CER with counts; per-utterance alignments if asked.

    ``cer=False`` skips the character alignment (``cer`` is then NaN). ``counts`` reuses
    an earlier ``utterance_counts`` of the same inputs.
    """
    norm = get_normalizer(normalizer) if isinstance(normalizer, str) else normalizer
    uc = counts or utterance_counts(references, hypotheses, norm, with_edits=alignments, cer=cer)
    wtot, ctot = uc.words.sum(axis=0), uc.chars.sum(axis=0)
    wer, mer, wil = pooled_rates(wtot)
    cer_value = float(pooled_rates(ctot)[0]) if cer or norm.cer_on_words else float("nan")
    aligned = None
    if uc.edits is not None:
        names = ids if ids is not None else [str(i) for i in range(len(uc.edits))]
        enc = uc.encoded
        lengths = list(zip(map(len, enc.refs), map(len, enc.hyps), strict=True))
        aligned = Alignments(list(names), uc.edits, lengths, enc)
    return SpeechResult(
        n=len(references),
        n_missing=n_missing,
        normalizer=norm.name,
        wer=float(wer),
        mer=float(mer),
        wil=float(wil),
        cer=cer_value,
        words=_counts(wtot),
        chars=_counts(ctot),
        alignments=aligned,
    )
