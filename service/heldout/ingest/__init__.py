"""Ingest: turn image and audio datasets in the shapes publishers have into Heldout versions.

Sources (:mod:`heldout.ingest.sources`) list examples; :func:`publish_source` checks every
file (decode, hash, duplicates, leakage) while streaming rows into a draft, then commits.
"""

from heldout.ingest.pipeline import PublishOptions, PublishResult, publish_source

__all__ = ["PublishOptions", "PublishResult", "publish_source"]
