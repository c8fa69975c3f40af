"""``deis-events``: the event catalogue for integrations (``list``, ``schema [NAME]``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Final

from deis_common.events.base import Envelope
from deis_common.events.registry import ALL_EVENTS, lookup

# the payload as subscribers receive it: with the fields derived from others (ReleaseCreated's version)
WIRE: Final = "serialization"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deis-events", description="Deis platform event catalogue")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list every event with its subject")
    schema = sub.add_parser("schema", help="print JSON Schema of one event (or all, and the envelope)")
    schema.add_argument("name", nargs="?", help="event class name or subject, e.g. BuildCompleted")
    args = parser.parse_args(argv)

    if args.command == "list":
        for cls in sorted(ALL_EVENTS, key=lambda c: c.subject):
            print(f"{cls.subject}\t{cls.__name__}")
        return 0
    if args.name:
        try:
            cls = lookup(args.name)
        except KeyError:
            print(f"Error: unknown event {args.name!r} (see 'deis-events list')", file=sys.stderr)
            return 1
        document = {"subject": cls.subject, **cls.model_json_schema(mode=WIRE)}
    else:
        document = {
            "envelope": Envelope.model_json_schema(),
            "events": {cls.subject: cls.model_json_schema(mode=WIRE) for cls in ALL_EVENTS},
        }
    print(json.dumps(document, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
