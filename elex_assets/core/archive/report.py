"""What an import found: errors for unusable files, counts for unusable rows.

Three outcomes for a legacy file: read (its rows imported, its unusable rows
counted by reason), skipped (a file the old scripts wrote in a normal failure
case: a stream that only logged error codes, a run that received nothing, a
table naming a candidate the registry lacks; 0 rows, a reason, the import goes
on), or refused (:class:`ArchiveFormatError`: not the format at all, which stops
the import with the lake untouched).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date


class FileSkipped(Exception):
    """A legacy file with nothing to import, for a reason that is normal in an archive."""

    def __init__(self, reason: str, detail: str, rows: int = 0) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.rows = rows  # lines / rows the file held, all set aside


class ArchiveFormatError(ValueError):
    """A legacy file that is not in the expected format; the message names the file."""

    transient = False  # final: see core.retrying.is_deterministic

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file


# Reasons a row is set aside (counted, reported, never written, never fatal).
BAD_JSON = "bad_json"
NOT_AN_OBJECT = "not_an_object"
UNPARSABLE_REPR = "unparsable_repr"
LIMIT_NOTICE = "limit_notice"
OTHER_NOTICE = "other_notice"
NOT_A_POST = "not_a_post"
MISSING_ID = "missing_id"
MISSING_TIMESTAMP = "missing_timestamp"
BAD_TIMESTAMP = "bad_timestamp"
MISSING_VALUE = "missing_value"
STREAM_ERROR_CODE = "stream_error_code"  # a line such as ``420`` printed by on_error
UNKNOWN_CANDIDATE = "unknown_candidate"  # a Trends file for a candidate the registry lacks
UNKNOWN_GEO_NAME = "unknown_geo_name"  # a region / country name with no known code

# Reasons a whole file is skipped (0 rows, reported, the import goes on).
ONLY_ERROR_CODES = "only_stream_error_codes"
EMPTY_FILE = "empty_file"
UNKNOWN_MENTION_COLUMN = "unknown_mention_column"

# Fields set aside without dropping the row (counted in ``fields_dropped``).
DISPLAY_NAME_NOT_HANDLE = "referenced_display_name_not_a_handle"
REFERENCED_TEXT_OF_QUOTE = "retweet_of_quote_referenced_text"
FIELD_REASONS = frozenset({DISPLAY_NAME_NOT_HANDLE, REFERENCED_TEXT_OF_QUOTE})


@dataclass
class FileResult:
    """One legacy file: rows imported, rows set aside by reason, or why it was skipped."""

    file: str
    rows: int = 0
    malformed: Counter[str] = field(default_factory=Counter)
    skipped: str | None = None  # reason the whole file was skipped
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"file": self.file, "rows": self.rows}
        if self.malformed:
            out["malformed"] = dict(sorted(self.malformed.items()))
        if self.skipped:
            out["skipped"] = self.skipped
            out["detail"] = self.detail
        return out

    def line(self) -> str:
        if self.skipped:
            return f"{self.file}: skipped ({self.skipped}): {self.detail}"
        bad = ", ".join(f"{k}={v}" for k, v in sorted(self.malformed.items())) or "none"
        return f"{self.file}: {self.rows} row(s), set aside: {bad}"


@dataclass
class ImportReport:
    """Summary of one import run, for logs, Dagster metadata and the CLI."""

    format: str
    source_url: str
    files: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    rows_per_day: dict[date, int] = field(default_factory=dict)
    rows_per_table: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0  # rows the files gave, before duplicates were dropped
    malformed: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    days_outside_campaign: list[date] = field(default_factory=list)
    file_results: list[FileResult] = field(default_factory=list)
    fields_dropped: Counter[str] = field(default_factory=Counter)

    @property
    def files_skipped_by_reason(self) -> dict[str, list[str]]:
        """Legacy files imported with 0 rows, by reason (not the non-matching files)."""
        out: dict[str, list[str]] = {}
        for result in self.file_results:
            if result.skipped:
                out.setdefault(result.skipped, []).append(result.file)
        return dict(sorted(out.items()))

    @property
    def rows(self) -> int:
        return sum(self.rows_per_day.values())

    @property
    def days(self) -> list[date]:
        return sorted(self.rows_per_day)

    def summary(self) -> str:
        days = self.days
        span = f"{days[0]} .. {days[-1]}" if days else "none"
        malformed = ", ".join(f"{k}={v}" for k, v in sorted(self.malformed.items())) or "none"
        skipped = self.files_skipped_by_reason
        skipped_text = ", ".join(f"{k}={len(v)}" for k, v in skipped.items()) if skipped else "none"
        text = (
            f"{self.format}: {len(self.files)} file(s), {self.rows} row(s) over {len(days)} "
            f"day(s) ({span}); malformed: {malformed}; duplicates dropped: {self.duplicates}; "
            f"files skipped: {skipped_text}; "
            f"files written: {len(self.written)}, removed: {len(self.removed)}"
        )
        if self.fields_dropped:
            dropped = ", ".join(f"{k}={v}" for k, v in sorted(self.fields_dropped.items()))
            text += f"; fields set aside: {dropped}"
        return text
