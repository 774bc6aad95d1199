#!/usr/bin/env python3
"""The emulator × suite table from the logs test-matrix.sh wrote.

    matrix-report.py OUT KNOWN "EMULATORS" "SUITES"

Reads OUT/<emulator>/<suite>.log (cargo test output) and .status; KNOWN lists the failures
that are an emulator's documented departure from AWS, one per line:
    <emulator> <test name>   <why, or where it is explained>
Writes OUT/results.md and OUT/results.json, prints the table, and exits 1 if any failure
is not known, if a known one passed (the list is stale), or if a suite did not run.
"""

import json
import re
import sys
from pathlib import Path

RESULT = re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored)", re.MULTILINE)


def known_differences(path: Path) -> dict:
    known = {}
    if not path.exists():
        return known
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        emulator, test, *why = line.split(None, 2)
        known[(emulator, test)] = why[0] if why else ""
    return known


def suite_result(out: Path, emulator: str, suite: str) -> dict:
    log = out / emulator / f"{suite}.log"
    status = out / emulator / f"{suite}.status"
    if not log.exists() or not status.exists():
        return {"ran": False, "passed": [], "failed": [], "seconds": None}
    fields = dict(f.split("=", 1) for f in status.read_text().split())
    results = RESULT.findall(log.read_text(errors="replace"))
    passed = sorted(name for name, outcome in results if outcome == "ok")
    failed = sorted(name for name, outcome in results if outcome == "FAILED")
    # A non-zero exit with no failing test is a build error or a crash: the suite did not run.
    ran = fields.get("exit") == "0" or bool(failed)
    return {"ran": ran, "passed": passed, "failed": failed, "seconds": int(fields["seconds"])}


def main() -> int:
    out, known_path = Path(sys.argv[1]), Path(sys.argv[2])
    emulators, suites = sys.argv[3].split(), sys.argv[4].split()
    known = known_differences(known_path)
    results, problems, notes = {}, [], []
    for emulator in emulators:
        for suite in suites:
            r = suite_result(out, emulator, suite)
            results[f"{emulator}/{suite}"] = r
            if not r["ran"]:
                problems.append(f"{emulator} / {suite}: did not run (see {out}/{emulator}/{suite}.log)")
            for test in r["failed"]:
                why = known.get((emulator, test.split("::")[-1]))
                if why is None:
                    problems.append(f"{emulator} / {suite}: {test} failed")
                else:
                    notes.append(f"{emulator} / {suite}: {test} fails, known: {why}")
            for test in r["passed"]:
                if (emulator, test.split("::")[-1]) in known:
                    problems.append(
                        f"{emulator} / {suite}: {test} passes but is listed in {known_path}"
                    )

    def cell(r: dict) -> str:
        if not r["ran"]:
            return "did not run"
        total = len(r["passed"]) + len(r["failed"])
        text = f"{len(r['passed'])}/{total} passed"
        return text if not r["failed"] else f"{text}, {len(r['failed'])} failed"

    lines = ["| emulator | " + " | ".join(suites) + " |", "|---" * (len(suites) + 1) + "|"]
    for emulator in emulators:
        cells = [cell(results[f"{emulator}/{suite}"]) for suite in suites]
        lines.append(f"| {emulator} | " + " | ".join(cells) + " |")
    report = "\n".join(lines) + "\n"
    if notes:
        report += "\nKnown differences:\n" + "".join(f"- {n}\n" for n in notes)
    if problems:
        report += "\nNot known:\n" + "".join(f"- {p}\n" for p in problems)
    (out / "results.md").write_text(report)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(report, end="")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
