"""Import the legacy collections (2017 SQLite, 2017 Trends SQLite, raw v1.1 stream files).

Pure Python, no Dagster: one reader per format turns legacy files into the live
``TWEETS`` / ``trends_interest_over_time`` schemas; ``import_archive`` writes
them into the lake beside the live files of each UTC day.
"""

from elex_assets.core.archive.importer import FORMATS, ArchiveFormat, import_archive
from elex_assets.core.archive.report import ArchiveFormatError, ImportReport

__all__ = ["FORMATS", "ArchiveFormat", "ArchiveFormatError", "ImportReport", "import_archive"]
