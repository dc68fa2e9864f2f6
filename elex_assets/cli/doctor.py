"""``elex doctor``: before a campaign, does the live configuration work? Source by source.

Prints one table (what is configured, what answered, what it cost, what to do next)
and exits 1 when a configured source cannot work. Nothing is spent without
``--spend`` (then one X counts request, at its known price); no data is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from elex_assets.cli.doctor_checks import (
    FAIL,
    OK,
    SKIPPED,
    WARN,
    Finding,
    check_bsky,
    check_instance,
    check_kaggle,
    check_lake,
    check_trends_official,
    check_trends_web,
    check_wikimedia,
    check_x,
)

COLUMNS = ("check", "status", "configured", "answered", "cost", "next")
WIDTHS = (18, 7, 30, 44, 16, 40)


def run_checks(spend: bool = False, now: datetime | None = None) -> list[Finding]:
    """Every check with this environment's settings; one that crashes is a failed row."""
    from elex_assets.cli.main import one_line
    from elex_assets.core.registry import load_registry
    from elex_assets.settings import SandboxSettings, Settings, XSettings

    now = now or datetime.now(UTC)
    settings = Settings.load()
    lake = settings.lake()
    selected = load_registry(settings.election, settings.candidates_file).selected(
        XSettings.load().min_status)
    first = selected[0].name if selected else "Emmanuel Macron"
    checks: list[tuple[str, Callable[[], Finding]]] = [
        ("X", lambda: check_x(spend=spend, lake=lake, now=now, first_candidate=first)),
        ("Trends (web)", lambda: check_trends_web(lake=lake, now=now)),
        ("Trends (official)", lambda: check_trends_official(lake=lake, now=now)),
        ("Bluesky", lambda: check_bsky(lake=lake, now=now, first_candidate=first)),
        ("Wikipedia", lambda: check_wikimedia(now=now, candidates=selected)),
        ("Kaggle", check_kaggle),
        ("Lake", lambda: check_lake(lake)),
        ("Instance", lambda: check_instance(SandboxSettings.load().dagster_home)),
    ]
    findings = []
    for name, check in checks:
        try:
            findings.append(check())
        except Exception as exc:  # a check's own failure is reported, the others still run
            findings.append(Finding(name, FAIL, "", one_line(exc),
                                    next="elex --verbose doctor shows the traceback"))
    return findings


def render(findings: list[Finding]) -> str:
    from tabulate import tabulate

    rows = [[f.check, f.status, f.configured, f.answered, f.cost, f.next] for f in findings]
    return tabulate(rows, headers=COLUMNS, tablefmt="simple", maxcolwidths=list(WIDTHS))


def run_doctor(spend: bool = False, out: Callable[[str], None] = print,
               now: datetime | None = None) -> int:
    findings = run_checks(spend, now)
    out(render(findings))
    failed = [f.check for f in findings if f.status == FAIL]
    counts = Counter(f.status for f in findings)
    tally = ", ".join(f"{counts[s]} {s}" for s in (OK, WARN, SKIPPED, FAIL) if counts[s])
    out(f"\n{len(findings)} checks: {tally}"
        + (f"; cannot work: {', '.join(failed)}" if failed else "")
        + ("" if spend else "; nothing was spent (--spend: one X counts request)"))
    return 1 if failed else 0
