"""``elex`` command line: the demo, the sandbox servers, and maintenance commands."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="elex", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline offline on the sandbox APIs")
    demo.add_argument("--days", type=int, default=7, help="days to backfill (default 7)")

    sub.add_parser("sandbox", help="serve the sandbox X and Trends APIs until Ctrl-C")

    args = parser.parse_args(argv)
    if args.command == "demo":
        from elex_assets.demo import run_demo

        return run_demo(days=args.days)
    if args.command == "sandbox":
        from elex_assets.sandbox.serve import serve_forever

        return serve_forever()
    return 2


if __name__ == "__main__":
    sys.exit(main())
