"""The ``dossier`` command: review a dossier, generate samples, run the demo batch.

This is an entry point: it reads settings and wires the engines; the stages stay plain.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from intake.errors import IntakeError, exit_code
from intake.model import Seal, Status
from intake.pipeline import ReviewOptions, Verifier, review
from intake.record import load_record
from intake.report import report_html, report_json
from intake.settings import Settings


def make_verifier(engine: str) -> Verifier | None:
    """The precise engine that re-reads fields which did not verify, loaded once."""
    if engine == "none":
        return None
    if engine == "tesseract":
        from intake.ocr import tesseract

        return Verifier(
            "tesseract",
            read_line=lambda image: tesseract.ocr_text(image, psm=7),
            read_block=lambda image: tesseract.ocr_lines(image, psm=6),
        )
    from intake.ocr import rapid
    from intake.seal_text import read_seal_text

    rapid_engine = rapid.RapidEngine()

    def read_line(image: Any) -> tuple[str, float]:
        text, score = rapid_engine.read_line(image)
        return text, 100.0 * score

    def read_seal(image: Any, seal: Seal) -> tuple[str, float]:
        return read_seal_text(image, seal, rapid_engine)

    return Verifier("rapidocr", read_line=read_line, read_block=rapid_engine.ocr_lines,
                    read_seal=read_seal)


def _options(settings: Settings, args: argparse.Namespace, image_dir: Path) -> ReviewOptions:
    return ReviewOptions(
        campaign_dpi=args.dpi or settings.ocr.dpi, lang=settings.ocr.lang, psm=settings.ocr.page_psm,
        workers=args.workers or settings.ocr.workers, timeout=settings.limits.seconds_per_page,
        max_bytes=settings.limits.max_bytes, max_pages=settings.limits.max_pages,
        max_pixels=settings.limits.max_pixels, image_dir=image_dir,
    )


def review_dossier(
    record_path: Path, files: Sequence[Path], out: Path | None, settings: Settings,
    args: argparse.Namespace, verifier: Verifier | None,
) -> dict[str, Any]:
    """Review one dossier; write report.json and report.html under ``out`` if given."""
    record = load_record(record_path)
    with tempfile.TemporaryDirectory(prefix="dossier-pages-") as tmp:
        image_dir = out / "pages" if out else Path(tmp)
        image_dir.mkdir(parents=True, exist_ok=True)
        report, results = review(files, record, _options(settings, args, image_dir), verifier)
        data = report_json(report)
        if out:
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.json").write_text(
                json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            images = {(r.page.document, r.page.number): r.image for r in results if r.image}
            (out / "report.html").write_text(report_html(report, images), encoding="utf-8")
    return data


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    verifier = make_verifier(args.verify or settings.ocr.verify_engine)
    data = review_dossier(args.record, args.files, args.out, settings, args, verifier)
    if args.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return 0
    failing = [f for f in data["findings"] if f["status"] != Status.PASS]
    print(f"{data['lab_id']} {data['lab_name']}: {data['verdict']} "
          f"({data['summary']['fail']} fail, {data['summary']['uncertain']} uncertain, "
          f"{data['seconds']} s)")
    for f in failing:
        loc = f["location"] or {}
        print(f"  [{f['status']}] {f['rule']} {f['message']} "
              f"({loc.get('document', '-')} p.{loc.get('page', '-')})")
    if args.out:
        print(f"  report: {args.out / 'report.html'}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Generate a sample batch, review every dossier, print one line per lab."""
    from samples.generate import generate_batch

    out: Path = args.out
    samples_dir = out / "samples"
    print(f"generating {args.labs} sample dossiers in {samples_dir} ...", flush=True)
    manifest = generate_batch(samples_dir, labs=args.labs, seed=args.seed, degrade=args.degrade,
                              discrepancies=args.discrepancies)
    verifier = make_verifier(settings.ocr.verify_engine)
    print(f"{'lab':<12} {'verdict':<8} {'fail':>4} {'uncertain':>9} {'seconds':>8}  report")
    for lab in manifest["labs"]:
        lab_dir = samples_dir / lab["lab_id"]
        files = sorted(p for p in lab_dir.iterdir() if p.suffix == ".pdf")
        report_dir = out / "reports" / lab["lab_id"]
        started = time.perf_counter()
        data = review_dossier(lab_dir / "record.json", files, report_dir, settings, args,
                              verifier)
        seconds = time.perf_counter() - started
        print(f"{lab['lab_id']:<12} {data['verdict']:<8} {data['summary']['fail']:>4} "
              f"{data['summary']['uncertain']:>9} {seconds:>8.1f}  "
              f"{report_dir / 'report.html'}", flush=True)
    return 0


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    """List every rule: id, Chinese title, work-plan clause."""
    from intake.checks import all_rules

    for rule, (title, clause) in all_rules().items():
        print(f"{rule:<24} {title}  〔{clause}〕")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dossier", description="形式审查: lab dossier review")
    sub = parser.add_subparsers(dest="command", required=True)

    rv = sub.add_parser("review", help="review one lab's scanned dossier against its record")
    rv.add_argument("--record", type=Path, required=True, help="the lab's online record (JSON)")
    rv.add_argument("files", nargs="+", type=Path, help="the dossier's files (PDF, TIFF, JPEG, PNG)")
    rv.add_argument("--json", action="store_true", help="print the report JSON on stdout")
    rv.add_argument("--out", type=Path, help="write report.json, report.html and page images here")
    rv.add_argument("--workers", type=int, help="page processes (default: one per core)")
    rv.add_argument("--dpi", type=int, help="render PDF pages at this DPI (default: native)")
    rv.add_argument("--verify", choices=["rapidocr", "tesseract", "none"],
                    help="engine that re-reads fields which do not verify")
    rv.set_defaults(func=cmd_review)

    demo = sub.add_parser("demo", help="generate a sample batch and review every dossier")
    demo.add_argument("--out", type=Path, default=Path("var/demo"))
    demo.add_argument("--labs", type=int, default=4)
    demo.add_argument("--seed", type=int, default=2021)
    demo.add_argument("--degrade", choices=["none", "light", "heavy"], default="light")
    demo.add_argument("--discrepancies", type=int, default=2)
    demo.add_argument("--workers", type=int)
    demo.add_argument("--dpi", type=int)
    demo.set_defaults(func=cmd_demo)

    rules = sub.add_parser("rules", help="list the review rules")
    rules.set_defaults(func=cmd_rules)

    samples = sub.add_parser("samples", help="sample dossiers")
    samples_sub = samples.add_subparsers(dest="samples_command", required=True)
    gen = samples_sub.add_parser("generate", help="generate sample dossiers with their truth")
    from samples import cli as samples_cli

    samples_cli.add_arguments(gen)
    gen.set_defaults(func=lambda a, _s: samples_cli.run(a))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        code: int = args.func(args, settings)
    except IntakeError as exc:
        print(f"dossier: error: {exc}", file=sys.stderr)
        return exit_code(exc)
    return code


if __name__ == "__main__":
    sys.exit(main())
