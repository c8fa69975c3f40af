"""Run every benchmark module in this package (each exposes ``main() -> None`` and prints its figures).

``python -m bench`` runs them all in turn; ``python -m bench router_throughput`` runs the named ones.
A benchmark that fails is reported and the others still run; the exit code says whether all passed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or discover()
    failed: list[str] = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            module.main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        outcome = "FAILED" if name in failed else "done"
        print(f"=== {name}: {outcome} in {time.monotonic() - started:.1f}s ===")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
