"""The corpus of broken playbooks in tests/broken: every rule, at the line it must point at.

Each file is one small, realistic mistake. Its YAML comments say what validating it must
report, and nothing else may be reported:

- `# expect: rule-a, rule-b` at the end of a line: findings of these rules at this line;
- `# expect-at: LINE rule-a, ...` on a line of its own: findings at LINE of this file, for
  files where the line cannot carry a comment (an empty file);
- `# expect-at: PATH:LINE rule-a, ...` on a line of its own: findings in another file (PATH is
  relative to this one). Checking a playbook reports problems of the protocol it extends at
  the protocol's own line (`removed-role.yaml`, `inherits-protocol-finding.yaml`), and an
  `extends` cycle closes in the other file of the circle (`extends-cycle-a.yaml`).

Expectations are counted: two findings of one rule at one line need the rule twice.

The `io` rule (a file that exists but cannot be read) has no case: it needs file permissions,
which git does not keep and which do not stop root (CI containers often run as root).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from crisiscomm import i18n
from crisiscomm.cli import main
from crisiscomm.documents.findings import Finding
from crisiscomm.documents.library import display_path
from crisiscomm.documents.load import MAX_FILE_BYTES
from crisiscomm.playbook.lint import RULES
from crisiscomm.validation import check_paths

from .conftest import FIXTURES

Write = Callable[[str, str], Path]
Expected = tuple[Path, int, str]

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(BROKEN.rglob("*.yaml"))
BASE = (FIXTURES / "good" / "base.yaml").resolve()

# Rules no corpus file can trip, and why.
UNTRIPPABLE = {
    "io": "needs an unreadable file: permissions are not kept by git and do not stop root",
}

RULE_LIST = r"[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*"
EXPECT = re.compile(rf"#\s*expect:\s*(?P<rules>{RULE_LIST})\s*$")
EXPECT_AT = re.compile(
    rf"^\s*#\s*expect-at:\s*(?:(?P<path>[^\s:]+):)?(?P<line>\d+)\s+(?P<rules>{RULE_LIST})\s*$"
)


def _rules(text: str) -> list[str]:
    return [rule.strip() for rule in text.split(",")]


def expectations(case: Path) -> Counter[Expected]:
    """The (file, line, rule) findings the markers of `case` promise."""
    # errors="replace": not-utf8.yaml is a case too, and its markers are plain ASCII.
    lines = case.read_bytes().decode("utf-8", errors="replace").splitlines()
    expected: Counter[Expected] = Counter()
    for number, line in enumerate(lines, start=1):
        if at := EXPECT_AT.match(line):
            target = (case.parent / at["path"]).resolve() if at["path"] else case.resolve()
            for rule in _rules(at["rules"]):
                expected[(target, int(at["line"]), rule)] += 1
        elif mark := EXPECT.search(line):
            for rule in _rules(mark["rules"]):
                expected[(case.resolve(), number, rule)] += 1
    return expected


def found(findings: Iterable[Finding]) -> Counter[Expected]:
    """The (file, line, rule) of findings, with paths resolved like the markers'."""
    return Counter((Path(f.location.file).resolve(), f.location.line, f.rule) for f in findings)


def case_id(case: Path) -> str:
    return case.relative_to(BROKEN).as_posix()


def the_finding(case: Path, line: int, rule: str, *, file: Path | None = None) -> Finding:
    """The one finding of `rule` at `line` (of `file`, default the case itself)."""
    where = (file or case).resolve()
    matches = [
        f
        for f in check_paths([case]).findings
        if f.rule == rule and f.location.line == line and Path(f.location.file).resolve() == where
    ]
    assert len(matches) == 1, matches
    return matches[0]


# -- the corpus ------------------------------------------------------------------------


def test_the_corpus_is_there() -> None:
    assert len(CASES) > 40


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case_reports_exactly_what_its_markers_say(case: Path) -> None:
    assert found(check_paths([case]).findings) == expectations(case)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_markers_name_known_rules_and_real_lines(case: Path) -> None:
    expected = expectations(case)
    # Only the protocols other cases extend may be clean on their own.
    assert expected or case.parent.name == "protocols"
    for file, line, rule in expected:
        assert rule in RULES, rule
        assert file.is_file(), file
        assert 1 <= line <= max(1, len(file.read_bytes().splitlines())), (file, line)


def test_the_corpus_trips_every_rule() -> None:
    tripped = {rule for case in CASES for (_file, _line, rule) in expectations(case)}
    assert tripped == set(RULES) - set(UNTRIPPABLE)
    assert set(UNTRIPPABLE) <= set(RULES)


def test_a_protocol_finding_is_reported_where_the_protocol_wrote_it() -> None:
    protocol = BROKEN / "protocols" / "press-cycle.yaml"
    assert check_paths([protocol]).findings == []  # fine on its own
    finding = the_finding(BROKEN / "removed-role.yaml", 16, "undefined-role", file=protocol)
    assert protocol.read_text(encoding="utf-8").splitlines()[15] == "    owner: spokesperson"
    assert (finding.location.column, finding.message) == (12, "role `spokesperson` is not defined")


def test_every_finding_says_something() -> None:
    report = check_paths([BROKEN])
    assert report.findings
    for finding in report.findings:
        assert finding.message.strip(), finding
        assert "None" not in finding.message, finding
        assert finding.rule in RULES, finding


# What a user reads for representative rules: (case, line, rule, message, hint).
MESSAGES = [
    (
        "duplicate-key.yaml",
        8,
        "duplicate-key",
        "duplicate key `deadline`: first defined at line 7",
        "keep one of the two (YAML would silently keep the last)",
    ),
    (
        "schema-unknown-key.yaml",
        7,
        "schema",
        "unknown key `deadlne` in states.detection",
        "did you mean `deadline`?",
    ),
    (
        "schema-version-number.yaml",
        4,
        "schema",
        "version must be text, not 3.1",
        'YAML read `3.10` as a number; write it in quotes: "3.10"',
    ),
    (
        "empty.yaml",
        1,
        "yaml-syntax",
        "the file is empty",
        "start it with `crisiscomm: 1` and an `id`",
    ),
    (
        "alias-recursive.yaml",
        7,
        "yaml-alias",
        "the anchor at this line refers to itself (a recursive alias)",
        "remove the alias that points back into its own anchor",
    ),
    (
        "alias-merge-key.yaml",
        11,
        "yaml-alias",
        "YAML merge keys (<<) are not supported in crisiscomm files",
        "write the keys out, or share them through `extends`",
    ),
    (
        "unknown-protocol.yaml",
        4,
        "unknown-protocol",
        "`extends` names ../protocols/standard.yaml, which does not exist",
        "the path is relative to the file that extends it",
    ),
    (
        "escalation-after-deadline.yaml",
        10,
        "escalation-order",
        "escalation step 2 of `statement` comes at 1h, after the deadline 45m (set at line 7)",
        "bring it forward, or use `on_deadline` for who is told when the deadline is missed",
    ),
    (
        "invalid-duration.yaml",
        7,
        "invalid-duration",
        "`45 min` is not a duration; write e.g. 30s, 15m, 2h, 1d, 1h30m or PT15M",
        None,
    ),
    (
        "unknown-action.yaml",
        9,
        "unknown-action",
        "action `draft_statement` needs `statement`",
        "write it as a mapping: `- action: draft_statement` with `statement: ...`",
    ),
    (
        "unknown-timezone.yaml",
        5,
        "unknown-timezone",
        "`UTC+5` is not an IANA time zone",
        "use a name such as Asia/Tashkent, Asia/Samarkand or Europe/Moscow",
    ),
    (
        "literal-secret-smtp.yaml",
        12,
        "literal-secret",
        "`password` holds a literal secret",
        "write `${ENV_VAR}` and set that variable where crisiscomm runs",
    ),
    (
        "literal-secret-webhook.yaml",
        13,
        "literal-secret",
        "the URL contains a password or token",
        "move it to `secret:` or a header written as `${ENV_VAR}`",
    ),
    (
        "self-approval.yaml",
        8,
        "self-approval",
        "statement `holding` would be cleared only by its author's role `duty_officer`",
        "add an approver from another role (four-eyes: the author may not approve)",
    ),
]


@pytest.mark.parametrize(
    ("name", "line", "rule", "message", "hint"), MESSAGES, ids=[m[0] for m in MESSAGES]
)
def test_what_the_user_reads(
    name: str, line: int, rule: str, message: str, hint: str | None
) -> None:
    finding = the_finding(BROKEN / name, line, rule)
    assert (finding.message, finding.hint) == (message, hint)


# -- through the command line ----------------------------------------------------------


def test_cli_shows_file_line_column_the_source_line_and_a_caret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = BROKEN / "duplicate-key.yaml"
    code = main(["validate", str(case)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        f"{display_path(case)}:8:5: error: duplicate key `deadline`: first defined at line 7"
        " [duplicate-key]",
        "     8 |     deadline: 20m  # expect: duplicate-key",
        "       |     ^",
        "       = hint: keep one of the two (YAML would silently keep the last)",
        "1 file checked: 1 error, 0 warnings",
    ]
    assert err == ""


def test_cli_shows_the_protocol_line_for_a_problem_in_the_protocol(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["validate", str(BROKEN / "removed-role.yaml")])
    out, err = capsys.readouterr()
    assert code == 1
    protocol = display_path(BROKEN / "protocols" / "press-cycle.yaml")
    assert out.splitlines()[:3] == [
        f"{protocol}:16:12: error: role `spokesperson` is not defined [undefined-role]",
        "    16 |     owner: spokesperson",
        "       |            ^",
    ]
    assert err == ""


@pytest.mark.parametrize(
    "name", ["yaml-syntax.yaml", "not-utf8.yaml", "empty.yaml", "alias-bomb.yaml"]
)
def test_cli_reports_loader_errors_without_a_traceback(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    case = BROKEN / name
    code = main(["validate", str(case)])
    out, err = capsys.readouterr()
    assert code == 1
    assert err == ""
    assert "Traceback" not in out
    (file, line, rule), *_ = expectations(case)
    assert re.search(
        rf"^{re.escape(display_path(file))}:{line}:\d+: error: .* \[{rule}\]$", out, re.M
    )


def test_cli_validates_the_whole_corpus_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--format", "json", str(BROKEN)])
    out, err = capsys.readouterr()
    assert (code, err) == (1, "")
    report = json.loads(out)
    assert sorted(Path(file).resolve() for file in report["files"]) == [
        case.resolve() for case in CASES
    ]
    reported: Counter[Expected] = Counter(
        (Path(f["file"]).resolve(), f["line"], f["rule"]) for f in report["findings"]
    )
    expected: Counter[Expected] = Counter()
    for case in CASES:
        expected |= expectations(case)  # a protocol's problem is reported once, not per file
    assert reported == expected
    slow_cycle = (BROKEN / "protocols" / "slow-cycle.yaml").resolve()
    assert reported[(slow_cycle, 17, "escalation-order")] == 1


def test_cli_text_output_for_the_whole_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(BROKEN)])
    out, err = capsys.readouterr()
    assert (code, err) == (1, "")
    assert "Traceback" not in out
    assert re.search(rf"^{len(CASES)} files checked: \d+ errors, \d+ warnings$", out, re.M)


# -- limits ----------------------------------------------------------------------------


def test_the_alias_bomb_is_refused_fast() -> None:
    # A guard against exponential expansion, not a benchmark: the bound is generous.
    start = time.perf_counter()
    report = check_paths([BROKEN / "alias-bomb.yaml"])
    elapsed = time.perf_counter() - start
    assert [f.rule for f in report.findings] == ["yaml-alias"]
    assert report.findings[0].message == "aliases expand to more than 10000 values (an alias bomb?)"
    assert elapsed < 1.0


def test_a_file_over_the_size_limit(tmp_path: Path) -> None:
    # Not a corpus file: a 1 MiB file does not belong in the repository.
    big = tmp_path / "big.yaml"
    big.write_text("crisiscomm: 1\n" + "#" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    [finding] = check_paths([big]).findings
    assert (finding.rule, finding.location.line) == ("yaml-limits", 1)
    assert finding.message == f"the file is {big.stat().st_size} bytes; the limit is 1 MiB"


# -- regressions: bugs the corpus work found, each fixed ------------------------------


def test_a_huge_duration_is_an_invalid_duration(write: Write) -> None:
    playbook = write(
        "flood.yaml",
        f"""
        crisiscomm: 1
        id: flood
        extends: {BASE}
        states:
          detection:
            deadline: 1000000000d
        """,
    )
    assert found(check_paths([playbook]).findings) == {
        (playbook.resolve(), 6, "invalid-duration"): 1
    }


def test_an_unclosed_quote_is_reported_where_it_opens(write: Write) -> None:
    playbook = write(
        "flood.yaml",
        """
        crisiscomm: 1
        id: flood
        title: "Flood in Nukus district
        timezone: Asia/Tashkent
        """,
    )
    [finding] = check_paths([playbook]).findings
    assert (finding.rule, finding.location.line) == ("yaml-syntax", 3)
    assert finding.message == (
        "YAML syntax error: found unexpected end of stream (while scanning a quoted scalar)"
    )


def test_ambiguous_trigger_names_the_file_of_the_first_definition() -> None:
    finding = the_finding(BROKEN / "ambiguous-trigger.yaml", 6, "ambiguous-trigger")
    assert "base.yaml" in finding.message, finding.message


def test_a_bad_brace_placeholder_points_at_its_own_line(write: Write) -> None:
    playbook = write(
        "flood.yaml",
        f"""
        crisiscomm: 1
        id: flood
        extends: {BASE}
        statements:
          update:
            kind: update
            text:
              en: "Water level at ${{gauge station}} is rising in $region."
              ru: "Уровень воды в $region растёт."
          rebuttal:
            kind: rebuttal
            text:
              en: "Claims of $100 fines in $region are false."
              ru: "Сообщения о штрафах в $region ложны."
        """,
    )
    lines = sorted(f.location.line for f in check_paths([playbook]).findings)
    assert lines == [8, 13]


def test_holding_statement_hint_reads_cleanly() -> None:
    finding = the_finding(
        BROKEN / "holding-statement-next-update.yaml", 8, "holding-statement-next-update"
    )
    assert finding.hint == (
        "include `$next_update_at`, e.g. The next update will follow at $next_update_at."
    )


def test_holding_statement_hint_gives_its_sample_in_the_text_s_language(tmp_path: Path) -> None:
    case = tmp_path / "broken" / "holding.yaml"
    case.parent.mkdir()
    text = (BROKEN / "holding-statement-next-update.yaml").read_text(encoding="utf-8")
    case.write_text(
        text.replace(
            "../fixtures/good/base.yaml", str(BROKEN.parent / "fixtures/good/base.yaml")
        ).replace("      en: ", "      ru: "),
        encoding="utf-8",
    )
    finding = the_finding(case, 8, "holding-statement-next-update")
    sample = i18n.translator("ru").gettext("The next update will follow at $next_update_at.")
    assert "$next_update_at" in sample and sample.startswith("Следующее")
    assert finding.hint == f"include `$next_update_at`, e.g. {sample}"


def test_extending_a_file_that_is_not_a_mapping_is_an_error(write: Write) -> None:
    write("protocols/cycle.yaml", "- detection\n- statement\n- closed\n")
    playbook = write(
        "flood.yaml",
        """
        crisiscomm: 1
        id: flood
        extends: protocols/cycle.yaml
        timezone: Asia/Tashkent
        """,
    )
    [finding] = check_paths([playbook]).findings
    assert finding.message == "protocols/cycle.yaml is not a crisiscomm file: it must be a mapping"


def test_a_misspelt_cadence_key_is_named(write: Write) -> None:
    playbook = write(
        "flood.yaml",
        f"""
        crisiscomm: 1
        id: flood
        extends: {BASE}
        states:
          statement:
            cadence: {{every: 2h, notfy: [duty_officer]}}
        """,
    )
    [finding] = check_paths([playbook]).findings
    assert finding.message == "unknown key `notfy` in states.statement.cadence"
    assert finding.hint == "did you mean `notify`?"


def test_a_duration_without_unit_is_told_to_add_one(write: Write) -> None:
    playbook = write(
        "flood.yaml",
        f"""
        crisiscomm: 1
        id: flood
        extends: {BASE}
        states:
          detection:
            deadline: 30
        """,
    )
    [finding] = check_paths([playbook]).findings
    assert finding.hint == "add a unit: 30m for minutes, 30h for hours, 30s for seconds"
