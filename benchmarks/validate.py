"""Validate 500 playbooks: crisiscomm (schema + lint rules + line mapping) against
check-jsonschema (schema only) on the same files and the same schema, in one run.

Target: crisiscomm at least 3x faster. Needs check-jsonschema in the same venv:
    .venv/bin/pip install check-jsonschema && .venv/bin/python benchmarks/validate.py
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import median_wall_times

REPO = Path(__file__).resolve().parents[1]
FILES = 500
RUNS = 3
TARGET = 3.0


def make_tree(root: Path) -> list[Path]:
    """500 playbook files made from the shipped ones, each with its own id."""
    shutil.copytree(REPO / "protocols", root / "protocols")
    sources = sorted((REPO / "playbooks").glob("*.yaml"))
    folder = root / "playbooks"
    folder.mkdir()
    files = []
    for index in range(FILES):
        source = sources[index % len(sources)]
        text = re.sub(
            r"^id: (\S+)",
            rf"id: \1-{index}",
            source.read_text(encoding="utf-8"),
            count=1,
            flags=re.M,
        )
        path = folder / f"{source.stem}-{index}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


def main() -> int:
    bin_dir = Path(sys.executable).parent
    check_jsonschema = bin_dir / "check-jsonschema"
    if not check_jsonschema.exists():
        print(
            "check-jsonschema is not installed: .venv/bin/pip install check-jsonschema",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = make_tree(root)
        lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
        schema = REPO / "crisiscomm" / "playbook" / "schema.json"
        times = median_wall_times(
            {
                "check-jsonschema": [
                    str(check_jsonschema),
                    "--schemafile",
                    str(schema),
                    *map(str, files),
                ],
                "crisiscomm": [
                    str(bin_dir / "crisiscomm"),
                    "validate",
                    "--strict",
                    str(root / "playbooks"),
                ],
            },
            runs=RUNS,
        )
    ratio = times["check-jsonschema"] / times["crisiscomm"]
    print(f"{FILES} playbooks ({lines} lines), median of {RUNS} runs:")
    print(f"  check-jsonschema (schema only):              {times['check-jsonschema']:.2f} s")
    print(f"  crisiscomm validate (schema + lint + lines): {times['crisiscomm']:.2f} s")
    print(f"  crisiscomm is {ratio:.1f}x faster (target >= {TARGET}x)")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
