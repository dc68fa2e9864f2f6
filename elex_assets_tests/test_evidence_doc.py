"""The evidence table names tests that exist: it cannot silently point at nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def test_every_test_the_evidence_table_names_exists() -> None:
    docs = sorted(ROOT.glob("docs/**/evidence.md"))
    assert docs, "docs/…/evidence.md (the endpoint -> evidence -> test table) is missing"
    refs = set(re.findall(r"`([\w/]+\.py)::(\w+)`", docs[0].read_text(encoding="utf-8")))
    assert len(refs) > 40
    missing = [f"{path}::{name}" for path, name in sorted(refs)
               if not (TESTS / path).is_file()
               or not re.search(rf"^\s*def {name}\(", (TESTS / path).read_text(), re.M)]
    assert missing == []
