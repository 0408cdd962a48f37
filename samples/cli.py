"""`dossier samples generate`: write a batch of sample dossiers from a seed.

The lead's command-line entry point mounts this with ``add_arguments`` and ``run``; failures
are raised as ``intake.errors`` exceptions so exit codes are mapped in one place.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from intake.errors import InputError
from samples.discrepancies import KINDS
from samples.scan import LEVELS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="folder to write the batch to")
    parser.add_argument("--labs", type=int, default=10, help="number of labs (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="batch seed (default 0)")
    parser.add_argument("--degrade", choices=LEVELS, default="light",
                        help="scan quality: none, light or heavy (default light)")
    parser.add_argument("--gray", action="store_true", help="grey photocopies: no colour at all")
    parser.add_argument("--discrepancies", type=int, default=0, metavar="K",
                        help="give every other lab K discrepancies (default 0: all clean)")
    parser.add_argument("--kinds", default=None, metavar="A,B|all",
                        help=f"discrepancy kinds, comma separated, or all: {', '.join(KINDS)} "
                             "(default field_mismatch)")
    parser.add_argument("--dpi", type=int, default=200, help="scan resolution (default 200)")
    parser.add_argument("--campaign", default="2021", help="review campaign year (default 2021)")
    parser.add_argument("--text-layer", action="store_true",
                        help="write the system's digital printout (vector PDF with text) "
                             "instead of scans")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: up to 2)")
    parser.add_argument("--seal-shapes", default=None, metavar="A,B",
                        help="the legal entities' seal shapes, lab by lab in turn, comma "
                             "separated: round, oval, square (default: drawn, mostly round)")


def parse_kind_list(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [k.strip() for k in text.split(",") if k.strip()]


def run(args: argparse.Namespace) -> int:
    from samples.generate import generate_batch

    started = time.perf_counter()
    try:
        manifest = generate_batch(
            args.out, labs=args.labs, seed=args.seed, degrade=args.degrade, gray=args.gray,
            discrepancies=args.discrepancies, kinds=parse_kind_list(args.kinds), dpi=args.dpi,
            campaign=args.campaign, text_layer=args.text_layer, workers=args.workers,
            seal_shapes=parse_kind_list(args.seal_shapes))
    except ValueError as exc:
        raise InputError(str(exc), subject="samples generate") from exc
    dirty = sum(1 for lab in manifest["labs"] if not lab["clean"])
    print(f"{len(manifest['labs'])} labs ({dirty} with discrepancies) written to {args.out} "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0
