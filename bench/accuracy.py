"""End-to-end accuracy: generate a batch, review every dossier, score it against the truth.

    .venv/bin/python -m bench.accuracy --labs 10 --degrade light --discrepancies 2

Prints the counts the issue asks for: clean dossiers passed, injected field discrepancies
found as failing findings on the right field, false alarms on clean fields, uncertain findings.
Where the batch has the online system's printout (``online.pdf``, written when a printout kind
is asked for), the paper is also compared with it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from intake.cli import make_verifier
from intake.pipeline import ReviewOptions, review
from intake.record import load_record
from intake.report import report_json
from samples.evaluate import Score, score_report
from samples.generate import ONLINE_FILE, generate_batch


def run(out: Path, labs: int, seed: int, degrade: str, gray: bool, discrepancies: int,
        workers: int, verify: str, kinds: list[str] | None = None) -> tuple[Score, float, int]:
    manifest = generate_batch(out / "samples", labs=labs, seed=seed, degrade=degrade, gray=gray,
                              discrepancies=discrepancies, kinds=kinds)
    verifier = make_verifier(verify)
    total = Score()
    pages = 0
    started = time.perf_counter()
    for lab in manifest["labs"]:
        lab_dir = out / "samples" / lab["lab_id"]
        files = sorted(p for p in lab_dir.iterdir() if p.suffix == ".pdf" and p.name != ONLINE_FILE)
        online = lab_dir / ONLINE_FILE
        image_dir = out / "pages" / lab["lab_id"]
        image_dir.mkdir(parents=True, exist_ok=True)
        report, _ = review(files, load_record(lab_dir / "record.json"),
                           ReviewOptions(workers=workers, image_dir=image_dir), verifier,
                           online=online if online.exists() else None)
        data = report_json(report)
        pages += len(data["pages"])
        (out / "reports").mkdir(parents=True, exist_ok=True)
        (out / "reports" / f"{lab['lab_id']}.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        truth = json.loads((lab_dir / "truth.json").read_text(encoding="utf-8"))
        s = score_report(data, truth)
        total.add(s)
        print(f"{lab['lab_id']}: verdict {data['verdict']:<6} injected {s.injected} "
              f"found {s.detected} false-alarms {s.false_alarms} uncertain {s.uncertain} "
              f"({report.seconds:.1f} s, {len(data['pages'])} pages)", flush=True)
    return total, time.perf_counter() - started, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--degrade", default="light", choices=["none", "light", "heavy"])
    parser.add_argument("--gray", action="store_true")
    parser.add_argument("--discrepancies", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verify", default="rapidocr", choices=["rapidocr", "tesseract", "none"])
    parser.add_argument("--kinds", nargs="*", help="discrepancy kinds (default: field_mismatch; "
                        "'all' the first eight, 'every' all of them)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/accuracy"))
    args = parser.parse_args()
    s, seconds, pages = run(args.out, args.labs, args.seed, args.degrade, args.gray,
                            args.discrepancies, args.workers, args.verify, args.kinds)
    print()
    print("| degrade | gray | dossiers | clean passed | injected found | false alarms "
          "(of clean fields) | uncertain | s/page |")
    print("|---|---|---|---|---|---|---|---|")
    clean_fields = s.fields_checked - s.injected
    print(f"| {args.degrade} | {'yes' if args.gray else 'no'} | {s.dossiers} | "
          f"{s.clean_passed}/{s.clean} | {s.detected}/{s.injected} | "
          f"{s.false_alarms}/{clean_fields} | {s.uncertain} | {seconds / max(pages, 1):.2f} |")
    print()
    print("| kind | injected | caught (a rule meant for it fails) | recall |")
    print("|---|---|---|---|")
    for kind in sorted(s.kind_injected):
        n, k = s.kind_injected[kind], s.kind_detected[kind]
        print(f"| {kind} | {n} | {k} | {k / n:.1%} |")
    print()
    print(f"other rules failing with nothing to catch: {len(s.rule_alarms)}/{s.rule_checks} "
          f"({len(s.rule_alarms) / max(s.rule_checks, 1):.2%}); uncertain findings "
          f"{s.uncertain}/{s.findings} ({s.uncertain / max(s.findings, 1):.2%})")
    for line in s.rule_alarms:
        print("rule false alarm:", line)
    for line in s.missed:
        print("missed:", line)
    for line in s.alarms:
        print("false alarm:", line)


if __name__ == "__main__":
    main()
