"""Where datasets come from: image/audio folders, tables, Hugging Face datasets, memory."""

from heldout.ingest.sources.base import Example, MediaRef, Source
from heldout.ingest.sources.folder import FolderSource
from heldout.ingest.sources.hf import HFSource
from heldout.ingest.sources.memory import MemorySource
from heldout.ingest.sources.table import TableSource

__all__ = ["Example", "FolderSource", "HFSource", "MediaRef", "MemorySource", "Source",
           "TableSource"]
