"""``elex`` command line: the demo, the sandbox servers, and maintenance commands."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="elex", description=__doc__)
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show the full traceback of an error"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline offline on the sandbox APIs")
    demo.add_argument("--days", type=int, default=7, help="days to backfill (default 7)")

    sub.add_parser("sandbox", help="serve the sandbox X, Trends and Bluesky APIs until Ctrl-C")

    ui = sub.add_parser("ui", help="dagster dev on the demo's instance, with the sandboxes serving")
    ui.add_argument("--port", type=int, default=3000)

    imp = sub.add_parser("import", help="import an old collection into the lake")
    imp.add_argument(
        "format",
        choices=["tweets-2017-sqlite", "trends-2017-sqlite", "v1-stream", "trends-2022-collecter"],
    )
    imp.add_argument("source_url", help="folder or s3://bucket/prefix holding the collection")
    imp.add_argument("--election", help="election of a v1-stream collection (default 2022)")
    imp.add_argument("--lake-url", help="lake root (default $ELEX_LAKE_URL)")
    imp.add_argument("--prune", action="store_true", help="remove stale days of this source")

    wiki = sub.add_parser(
        "wiki-backfill",
        help="Wikipedia pageviews of a whole campaign from its registry (2017, 2022, 2027)")
    wiki.add_argument("election", choices=["2017", "2022", "2027"])
    wiki.add_argument("--lake-url", help="lake root (default $ELEX_LAKE_URL)")
    wiki.add_argument("--no-export", action="store_true",
                      help="write the daily files only, not the weekly exports")

    est = sub.add_parser(
        "estimate", help="cost of collecting a range of days on X, from counts (cheap)")
    est.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    est.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    est.add_argument("--plan", choices=["full", "sample", "off"],
                     help="collection plan to price (default $X_POSTS_PLAN)")

    doctor = sub.add_parser(
        "doctor", help="check the live configuration source by source, before a campaign")
    doctor.add_argument("--spend", action="store_true",
                        help="also make one X counts request, at its known price")

    args = parser.parse_args(argv)
    # SIGTERM stops elex like Ctrl-C: servers and runs clean up instead of dying mid-write.
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("elex: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        print(f"elex: error: {one_line(exc)} (--verbose shows the traceback)", file=sys.stderr)
        return 1


def _raise_interrupt(_signo: int, _frame: object) -> None:
    raise KeyboardInterrupt


def one_line(exc: BaseException) -> str:
    """The error a user can act on, on one line: the innermost elex or user error.

    Dagster wraps a step's error (``DagsterExecutionStepExecutionError`` and the
    like); its ``user_exception`` or ``__cause__`` is the one that names the file,
    the setting or the API answer.
    """
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "user_exception", None) or exc.__cause__
        if inner is None or not type(exc).__module__.startswith("dagster"):
            break
        exc = inner
    from elex_assets.settings.base import SettingsError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, SettingsError):  # "invalid setting: X=...": the message says it all
        return text
    return f"{type(exc).__name__}: {text}"


def _run(args: argparse.Namespace) -> int:
    if args.command == "estimate":
        from elex_assets.cli.estimate import run_estimate

        return run_estimate(args.first, args.last, args.plan)
    if args.command == "doctor":
        from elex_assets.cli.doctor import run_doctor

        return run_doctor(spend=args.spend)
    if args.command == "import":
        from elex_assets.cli.archive import run_import

        return run_import(args.format, args.source_url, args.election, args.lake_url, args.prune)
    if args.command == "wiki-backfill":
        from elex_assets.cli.wiki import run_wiki_backfill

        return run_wiki_backfill(args.election, args.lake_url, export=not args.no_export)
    if args.command == "demo":
        from elex_assets.cli.demo import run_demo

        return run_demo(days=args.days)
    if args.command == "ui":
        from elex_assets.cli.demo import run_ui

        return run_ui(port=args.port)
    if args.command == "sandbox":
        from elex_assets.sandbox.serve import serve_forever

        return serve_forever()
    return 2


if __name__ == "__main__":
    sys.exit(main())
