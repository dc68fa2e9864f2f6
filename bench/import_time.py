"""Import time of ``elex_assets.definitions`` beside Dagster's own, as ``python -X importtime`` sees it.

Every run (a 5-minute refresh, a schedule tick's run) starts by importing the
definitions, so whatever they import at load is paid by every run. Each figure is
the best of ``--repeat`` fresh interpreters (``-X importtime``, the cumulative
microseconds of the top-level import), so one process's warm caches do not flatter
the next. Also lists the heavy libraries a run should import only when it uses them,
and whether importing the definitions loaded them.

    .venv/bin/python bench/import_time.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

TARGETS = ("dagster", "elex_assets.definitions")
LAZY = ("pytrends", "pandas", "matplotlib", "boto3", "atproto", "google.auth", "nbclient",
        "requests", "tweepy")


def import_seconds(module: str) -> float:
    """Seconds the top-level ``import module`` took in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True, text=True, check=True,
    )
    for line in reversed(done.stderr.splitlines()):
        if line.startswith("import time:") and line.rstrip().endswith(f"| {module}"):
            return int(line.split("|")[1]) / 1e6
    raise RuntimeError(f"no -X importtime line for {module}:\n{done.stderr[-2000:]}")


def wall_seconds(code: str) -> float:
    """Wall seconds of ``code`` in a fresh interpreter, timed from inside it."""
    timed = f"import time; t = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", timed], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


# What a run pays: the import and building the Definitions (settings, registry, assets).
LOAD = "import elex_assets.definitions as d; d.get_defs()"


def loaded_by_definitions() -> list[str]:
    code = (
        "import sys, elex_assets.definitions as d; d.get_defs()\n"
        f"print(' '.join(m for m in {LAZY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh interpreters per figure")
    args = parser.parse_args()
    best = {}
    for _ in range(args.repeat):  # interleaved, so a busy moment hits both alike
        for module in TARGETS:
            seconds = import_seconds(module)
            best[module] = min(best.get(module, seconds), seconds)
        for name, code in (("dagster_wall", "import dagster"), ("load", LOAD)):
            seconds = wall_seconds(code)
            best[name] = min(best.get(name, seconds), seconds)
    dagster, definitions = best["dagster"], best["elex_assets.definitions"]
    print(f"import dagster                  {dagster:6.2f} s  (best of {args.repeat})")
    print(f"import elex_assets.definitions  {definitions:6.2f} s  (best of {args.repeat})")
    print(f"ratio                           {definitions / dagster:6.2f} x  (target <= 1.5)")
    print(f"wall: import dagster {best['dagster_wall']:.2f} s; import + get_defs() "
          f"{best['load']:.2f} s = {best['load'] / best['dagster_wall']:.2f} x")
    loaded = loaded_by_definitions()
    print(f"heavy libraries loaded by building the definitions: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
