"""Import the legacy collections (2017 SQLite, 2017 Trends SQLite, raw v1.1 stream files,
2021-22 Google Trends collector files).

Pure Python, no Dagster: one reader per format turns legacy files into the live
``TWEETS`` / ``trends_*`` schemas; ``import_archive`` writes
them into the lake beside the live files of each UTC day.
"""

from elex_assets.core.archive.importer import (
    FORMATS,
    ArchiveFormat,
    archive_registry,
    import_archive,
)
from elex_assets.core.archive.report import ArchiveFormatError, FileResult, ImportReport

__all__ = [
    "FORMATS",
    "ArchiveFormat",
    "ArchiveFormatError",
    "FileResult",
    "ImportReport",
    "archive_registry",
    "import_archive",
]
