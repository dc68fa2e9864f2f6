"""What an import found: errors for unusable files, counts for unusable rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date


class ArchiveFormatError(ValueError):
    """A legacy file that is not in the expected format; the message names the file."""

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


@dataclass
class ImportReport:
    """Summary of one import run, for logs, Dagster metadata and the CLI."""

    format: str
    source_url: str
    files: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    rows_per_day: dict[date, int] = field(default_factory=dict)
    malformed: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    days_outside_campaign: list[date] = field(default_factory=list)

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
        return (
            f"{self.format}: {len(self.files)} file(s), {self.rows} row(s) over {len(days)} "
            f"day(s) ({span}); malformed: {malformed}; duplicates dropped: {self.duplicates}; "
            f"files written: {len(self.written)}, removed: {len(self.removed)}"
        )
