#!/usr/bin/env python3
"""Generate the built-in ``spoken-digits`` audio with Debian's espeak-ng.

Run it in Heldout's environment (``python datasets/spoken-digits/generate.py [--out DIR]``).
It writes the *committed* splits of an audio folder that Heldout's ``audiofolder`` source reads:

    audio/{train,validation}/{speaker}-{nn}.flac    16 kHz, mono, 16-bit FLAC
    audio/{split}/metadata.csv                      file_name, digit, transcript,
                                                    speaker_id, language

The ``test`` split is never committed: ``heldout datasets build spoken-digits`` synthesises a
fresh one from a secret seed each time it builds (``heldout.ingest.spoken_digits``), so its
labels exist only in the private store. ``--test DIR`` writes such a split to look at.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from heldout.ingest.spoken_digits import SEED, generate, generate_test


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write audio/ into (default: next to this script)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--test", type=Path, default=None,
                        help="also synthesise a fresh secret test split into this folder")
    args = parser.parse_args(argv)
    try:
        counts = generate(args.out, args.seed)
        if args.test is not None:
            counts["test"] = generate_test(args.test)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(", ".join(f"{split}: {n}" for split, n in counts.items()), "utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
