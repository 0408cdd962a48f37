"""The ``dossier`` command: review a dossier, find and read the seals on scans, generate
samples, run the demo batch.

This is an entry point: it reads settings and wires the engines; the stages stay plain.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from intake.errors import IntakeError, exit_code
from intake.model import Seal, Status
from intake.pipeline import ReviewOptions, Verifier, review, start_workers
from intake.record import load_record
from intake.report import report_html, report_json, seal_json
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
    from intake.ocr import rapid, tesseract
    from intake.seal_text import read_seal

    rapid_engine = rapid.RapidEngine()

    def read_line(image: Any) -> tuple[str, float]:
        text, score = rapid_engine.read_line(image)
        return text, 100.0 * score

    def read_ring(image: Any, seal: Seal, owners: tuple[str, ...]) -> Seal:
        return read_seal(image, seal, rapid_engine, owners)

    return Verifier("rapidocr", read_line=read_line, read_block=rapid_engine.ocr_lines,
                    read_seal=read_ring,
                    read_cell=lambda image: tesseract.ocr_text(image, psm=6))


def _options(settings: Settings, args: argparse.Namespace,
             image_dir: Path | None = None) -> ReviewOptions:
    return ReviewOptions(
        campaign_dpi=args.dpi or settings.ocr.dpi, lang=settings.ocr.lang, psm=settings.ocr.page_psm,
        workers=args.workers or settings.ocr.workers, timeout=settings.limits.seconds_per_page,
        max_bytes=settings.limits.max_bytes, max_pages=settings.limits.max_pages,
        max_pixels=settings.limits.max_pixels, image_dir=image_dir,
    )


def review_dossier(
    record_path: Path, files: Sequence[Path], out: Path | None, settings: Settings,
    args: argparse.Namespace, verifier: Verifier | None, online: Path | None = None,
) -> dict[str, Any]:
    """Review one dossier; write report.json and report.html under ``out`` if given.
    ``online`` is the online system's own PDF of the form, to compare the paper with."""
    record = load_record(record_path)
    with tempfile.TemporaryDirectory(prefix="dossier-pages-") as tmp:
        image_dir = out / "pages" if out else Path(tmp)
        image_dir.mkdir(parents=True, exist_ok=True)
        report, results = review(files, record, _options(settings, args, image_dir), verifier,
                                 online=online)
        data = report_json(report)
        if out:
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.json").write_text(
                json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            images = {(r.page.document, r.page.number): r.image for r in results if r.image}
            (out / "report.html").write_text(report_html(report, images), encoding="utf-8")
    return data


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    if (args.workers or settings.ocr.workers) > 1:
        start_workers()  # they get ready while the verifier's models load
    verifier = make_verifier(args.verify or settings.ocr.verify_engine)
    data = review_dossier(args.record, args.files, args.out, settings, args, verifier,
                          online=args.online)
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
        online = lab_dir / "online.pdf"  # the online system's printout, when generated
        files = sorted(p for p in lab_dir.iterdir() if p.suffix == ".pdf" and p != online)
        report_dir = out / "reports" / lab["lab_id"]
        started = time.perf_counter()
        data = review_dossier(lab_dir / "record.json", files, report_dir, settings, args,
                              verifier, online=online if online.exists() else None)
        seconds = time.perf_counter() - started
        print(f"{lab['lab_id']:<12} {data['verdict']:<8} {data['summary']['fail']:>4} "
              f"{data['summary']['uncertain']:>9} {seconds:>8.1f}  "
              f"{report_dir / 'report.html'}", flush=True)
    return 0


def _dpi(text: str) -> int:
    """A --dpi value: a whole number a page can be rendered at."""
    try:
        dpi = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of dots per inch") \
            from None
    if not 50 <= dpi <= 1200:
        raise argparse.ArgumentTypeError(f"{dpi} dpi is not a scan's resolution: give 50 to 1200")
    return dpi


def _seal_json(seal: Seal, expect: Sequence[str]) -> dict[str, Any]:
    """One seal as ``dossier seals --json`` prints it: as a report does, and with the expected
    organisation its text names where --expect gives any."""
    from intake.seal_text import match_organisation

    out = seal_json(seal)
    if expect:
        organisation, similarity = match_organisation(seal.text, expect)
        out.update(organisation=organisation, match=round(similarity, 3))
    return out


def _seal_line(seal: dict[str, Any]) -> str:
    """One seal as ``dossier seals`` prints it without --json."""
    line = (f"  {seal['shape']} {seal['color']} {'complete' if seal['complete'] else 'cut'} "
            f"box {seal['bbox']} score {seal['score']:.2f}")
    if seal["text"]:
        line += f" 「{seal['text']}」 {seal['text_score']:.2f}"
    if "organisation" in seal:
        line += f" -> {seal['organisation'] or '(no expected organisation)'}"
    return line


def cmd_seals(args: argparse.Namespace, settings: Settings) -> int:
    """Find the seals on every page of the files, and read their names unless --no-text.

    A file that cannot be read is reported (stderr, and under "errors" with --json) and the
    other files are still read; the exit code is then that of the error (2 for bad input).
    """
    from intake import load
    from intake.seal_text import read_seal
    from intake.seals import detect_seals

    limits = settings.limits
    engine: Any = None  # RapidOCR, loaded for the first seal that can be read
    pages: list[dict[str, Any]] = []
    errors: list[tuple[Path, IntakeError]] = []
    for path in args.files:
        try:
            doc = load.open_document(path, max_bytes=limits.max_bytes,
                                     max_pages=limits.max_pages, max_pixels=limits.max_pixels)
            for number in range(1, doc.page_count + 1):
                image, dpi = load.render_page(path, doc.kind, number, dpi=args.dpi,
                                              max_pixels=limits.max_pixels)
                seals = detect_seals(image, dpi)
                if not args.no_text and seals:
                    if engine is None:
                        from intake.ocr.rapid import RapidEngine

                        engine = RapidEngine()
                    seals = [read_seal(image, s, engine) for s in seals]
                page = {"file": str(path), "page": number, "width": image.shape[1],
                        "height": image.shape[0], "dpi": dpi,
                        "seals": [_seal_json(s, args.expect) for s in seals]}
                pages.append(page)
                if not args.json:
                    print(f"{path} p.{number} ({page['width']} x {page['height']} px, {dpi} dpi): "
                          f"{len(seals) or 'no'} seal{'' if len(seals) == 1 else 's'}", flush=True)
                    for seal in page["seals"]:
                        print(_seal_line(seal), flush=True)
        except IntakeError as exc:
            # Named, and the rest still read: one bad scan must not hide the others' seals.
            errors.append((path, exc))
            print(f"dossier: error: {exc}", file=sys.stderr, flush=True)
    if args.json:
        document = {"pages": pages, "errors": [
            {"file": str(path), "code": exc.code, "message": exc.message} for path, exc in errors]}
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return exit_code(errors[0][1]) if errors else 0


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    """List every rule: id, Chinese title, work-plan clause."""
    from intake.checks import all_rules

    for rule, (title, clause) in all_rules().items():
        print(f"{rule:<24} {title}  〔{clause}〕")
    return 0


@contextmanager
def _database(args: argparse.Namespace, settings: Settings, *, migrate: bool) -> Iterator[Any]:
    """The database named by --database or the settings, migrated if asked, always closed."""
    from storage.db import Database  # SQLAlchemy is loaded only for the commands that use it

    database = Database(args.database or settings.database.url)
    try:
        if migrate:
            database.migrate()
        yield database
    finally:
        database.dispose()


def cmd_records_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import a campaign's online records; a lab's record changes only by a new version."""
    from intake.records_io import read_records

    records = read_records(args.file, args.campaign)
    with _database(args, settings, migrate=True) as database:
        result = database.import_records(args.campaign, records, actor=f"cli:{_user()}",
                                         source=args.file.name)
    print(f"campaign {result.campaign}: {result.records} records read; "
          f"{result.labs_created} labs created, {result.versions_added} record versions added, "
          f"{result.unchanged} unchanged ({database.url})")
    return 0


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    """Keep a lab's files, review them against its stored record, keep the report."""
    from api.service import submit
    from storage import open_store

    with _database(args, settings, migrate=True) as database:
        result = submit(args.files, campaign=args.campaign, lab_id=args.lab, db=database,
                        store=open_store(settings), options=_options(settings, args),
                        verifier=make_verifier(args.verify or settings.ocr.verify_engine),
                        actor=f"cli:{_user()}", precheck=args.precheck)
    kept = sum(o.created for o in result.originals)
    summary = result.data["summary"]
    print(f"{args.lab}: {result.data['verdict']} ({summary['fail']} fail, "
          f"{summary['uncertain']} uncertain); report {result.report.id} (version "
          f"{result.report.version}, record version {result.report.record_version}); "
          f"{kept} new originals kept, {len(result.originals) - kept} already kept")
    return 0


def cmd_report_html(args: argparse.Namespace, settings: Settings) -> int:
    """Render a stored report again from what is stored."""
    from api.service import render_stored_report
    from storage import open_store

    with _database(args, settings, migrate=False) as database:
        html = render_stored_report(args.report_id, db=database, store=open_store(settings))
    args.out.write_text(html, encoding="utf-8")
    print(f"report {args.report_id}: {args.out}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the API and the UI; with --demo, the sample batch is loaded and queued first."""
    import logging

    import uvicorn

    from api.app import create_app, review_options

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.demo:
        from api.demo import DEMO_PASSWORD, demo_accounts, load_demo
        from storage import open_store
        from storage.db import Database

        database = Database(settings.database.url)
        try:
            database.migrate()
            print("loading the sample batch (generated once, then kept) ...", flush=True)
            jobs = load_demo(database, open_store(settings), review_options(settings),
                             settings.data_dir / "demo")
            print(f"{len(jobs)} sample dossiers queued for review" if jobs
                  else "the sample batch is loaded already", flush=True)
            accounts = ", ".join(f"{name} ({role.value})" for name, role, *_ in demo_accounts(""))
            print(f"demo accounts: {accounts}; password {DEMO_PASSWORD}", flush=True)
        finally:
            database.dispose()
    host, port = args.host or settings.api.host, args.port or settings.api.port
    print(f"serving on http://{host}:{port}/", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                proxy_headers=False, server_header=False)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """A Celery worker of distributed mode: reads pages and gathers dossiers from the queue."""
    import logging
    import os

    from api.tasks import configure
    from intake.errors import InputError
    from storage.db import Database

    if settings.mode != "distributed":
        # An embedded service takes its jobs itself; a worker beside it would review them twice.
        raise InputError("dossier worker is distributed mode's worker: set DOSSIER_MODE="
                         "distributed here and for dossier serve", subject="DOSSIER_MODE")
    logging.basicConfig(level=args.loglevel.upper(),
                        format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
    database = Database(settings.database.url)
    try:
        database.migrate()  # a no-op at head; migrations take turns (PostgreSQL advisory lock)
        if database.engine.dialect.name != "postgresql" or settings.storage.backend != "s3":
            logging.getLogger(__name__).warning(
                "workers on more than one machine need PostgreSQL and S3 storage; with %s and "
                "%s storage, run workers on this machine only", database.engine.dialect.name,
                settings.storage.backend)
    finally:
        database.dispose()
    concurrency = args.concurrency or settings.queue.concurrency or os.cpu_count() or 1
    argv = ["worker", f"--loglevel={args.loglevel}", f"--concurrency={concurrency}",
            f"--queues={settings.queue.name}", f"--hostname={args.name}-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle", f"--pool={args.pool}"]
    configure(settings).worker_main(argv)
    return 0


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


def _add_storage_commands(sub: Any) -> None:
    """The commands that keep things: records import, submit, stored reports."""
    records = sub.add_parser("records", help="the online records of a campaign")
    records_sub = records.add_subparsers(dest="records_command", required=True)
    imp = records_sub.add_parser("import", help="import records (JSON, CSV or XLSX); a changed "
                                 "record becomes a new version, nothing is overwritten")
    imp.add_argument("file", type=Path, help="records.json, records.csv or records.xlsx")
    imp.add_argument("--campaign", required=True, help="the campaign's year, e.g. 2021")
    imp.add_argument("--database", help="SQLAlchemy URL (default: DOSSIER_DATABASE__URL, "
                     "sqlite:///var/dossier.db)")
    imp.set_defaults(func=cmd_records_import)

    sm = sub.add_parser("submit", help="keep a lab's files, review them against its stored "
                        "record, keep the report")
    sm.add_argument("files", nargs="+", type=Path, help="the dossier's files")
    sm.add_argument("--campaign", required=True)
    sm.add_argument("--lab", required=True, help="the lab's id in the campaign, e.g. L2021-003")
    sm.add_argument("--precheck", action="store_true",
                    help="a recommending unit's trial run, not the official submission")
    sm.add_argument("--database", help="SQLAlchemy URL (default: DOSSIER_DATABASE__URL)")
    sm.add_argument("--workers", type=int)
    sm.add_argument("--dpi", type=int)
    sm.add_argument("--verify", choices=["rapidocr", "tesseract", "none"])
    sm.set_defaults(func=cmd_submit)

    rp = sub.add_parser("report", help="stored reports")
    rp_sub = rp.add_subparsers(dest="report_command", required=True)
    html = rp_sub.add_parser("html", help="render a stored report again, from storage alone")
    html.add_argument("report_id", type=int)
    html.add_argument("--out", type=Path, required=True)
    html.add_argument("--database", help="SQLAlchemy URL (default: DOSSIER_DATABASE__URL)")
    html.set_defaults(func=cmd_report_html)


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
    rv.add_argument("--online", type=Path, metavar="FILE.pdf",
                    help="the online system's own PDF of the form: compare the paper with it "
                         "page by page (pages added, missing or altered)")
    rv.set_defaults(func=cmd_review)

    sl = sub.add_parser("seals", help="find the seals on scanned pages and read their names")
    sl.add_argument("files", nargs="+", type=Path, help="scans (PDF, TIFF, JPEG, PNG)")
    sl.add_argument("--dpi", type=_dpi,
                    help="render PDF pages at this DPI; boxes are in pixels of the page so "
                         "rendered (default: the scan's own resolution, else 200; image files "
                         "keep their own pixels)")
    sl.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    sl.add_argument("--no-text", action="store_true",
                    help="find the seals only: do not read them (no OCR model is loaded)")
    sl.add_argument("--expect", action="append", default=[], metavar="NAME",
                    help="an organisation whose seal may be there (repeat for each): each seal "
                         "is matched to the one its text names, if any")
    sl.set_defaults(func=cmd_seals)

    demo = sub.add_parser("demo", help="generate a sample batch and review every dossier")
    demo.add_argument("--out", type=Path, default=Path("var/demo"))
    demo.add_argument("--labs", type=int, default=4)
    demo.add_argument("--seed", type=int, default=2021)
    demo.add_argument("--degrade", choices=["none", "light", "heavy"], default="light")
    demo.add_argument("--discrepancies", type=int, default=2)
    demo.add_argument("--workers", type=int)
    demo.add_argument("--dpi", type=int)
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve the web UI and API")
    serve.add_argument("--host", help="default: DOSSIER_API__HOST, 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: DOSSIER_API__PORT, 8000")
    serve.add_argument("--demo", action="store_true",
                       help="load and queue the sample batch first, with demo accounts")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="a worker of distributed mode (Celery, Redis broker); "
                            "settings as for serve, DOSSIER_QUEUE__*")
    worker.add_argument("--concurrency", type=int,
                        help="pages at once (default: DOSSIER_QUEUE__CONCURRENCY, one per core)")
    worker.add_argument("--pool", choices=["prefork", "solo"], default="prefork",
                        help="solo: one page at a time in this process")
    worker.add_argument("--name", default="dossier", help="the worker's name, before -PID@host")
    worker.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    worker.set_defaults(func=cmd_worker)

    rules = sub.add_parser("rules", help="list the review rules")
    rules.set_defaults(func=cmd_rules)
    _add_storage_commands(sub)


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
