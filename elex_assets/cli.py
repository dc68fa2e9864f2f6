"""``elex`` command line: the demo, the sandbox servers, and maintenance commands."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="elex", description=__doc__)
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

    est = sub.add_parser(
        "estimate", help="cost of collecting a range of days on X, from counts (cheap)")
    est.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    est.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    est.add_argument("--plan", choices=["full", "sample", "off"],
                     help="collection plan to price (default $X_POSTS_PLAN)")

    args = parser.parse_args(argv)
    if args.command == "estimate":
        from elex_assets.x_estimate_cli import run_estimate

        return run_estimate(args.first, args.last, args.plan)
    if args.command == "import":
        from elex_assets.archive_cli import run_import

        return run_import(args.format, args.source_url, args.election, args.lake_url, args.prune)
    if args.command == "demo":
        from elex_assets.demo import run_demo

        return run_demo(days=args.days)
    if args.command == "ui":
        from elex_assets.demo import run_ui

        return run_ui(port=args.port)
    if args.command == "sandbox":
        from elex_assets.sandbox.serve import serve_forever

        return serve_forever()
    return 2


if __name__ == "__main__":
    sys.exit(main())
