"""Validation findings in the formats CI systems read: text, json, github, sarif, junit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from crisiscomm import __version__
from crisiscomm.documents.findings import Finding, Severity
from crisiscomm.documents.kinds import Report
from crisiscomm.documents.rules import RULES
from crisiscomm.i18n import N_, _, ngettext

__all__ = ["FORMATS", "render"]

INFORMATION_URI = "https://github.com/crisiscomm/crisiscomm"
# the severity as a person reads it (the machine formats keep the English value)
SEVERITY_WORDS = {Severity.ERROR: N_("error"), Severity.WARNING: N_("warning")}


def _source_line(finding: Finding, cache: dict[str, list[str]]) -> str | None:
    file = finding.location.file
    if file not in cache:
        try:
            cache[file] = Path(file).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):
            cache[file] = []
    lines = cache[file]
    index = finding.location.line - 1
    return lines[index] if 0 <= index < len(lines) else None


def render_text(report: Report, *, color: bool = False) -> str:
    """actionlint style: `file:line:col: severity: message [rule]`, the line, a caret, a hint."""
    import click

    out: list[str] = []
    cache: dict[str, list[str]] = {}
    for finding in report.findings:
        tone = "red" if finding.severity is Severity.ERROR else "yellow"
        severity = _(SEVERITY_WORDS[finding.severity])
        head = f"{finding.location}: {click.style(severity, fg=tone) if color else severity}: "
        out.append(f"{head}{finding.message} [{finding.rule}]")
        line = _source_line(finding, cache)
        if line is not None:
            out.append(f"  {finding.location.line:>4} | {line}")
            caret = "^" if not color else click.style("^", fg=tone, bold=True)
            out.append(f"       | {' ' * (finding.location.column - 1)}{caret}")
        if finding.hint:
            out.append("       = " + _("hint: {hint}").format(hint=finding.hint))
    errors = sum(f.severity is Severity.ERROR for f in report.findings)
    warnings = len(report.findings) - errors
    files = len(report.files)
    summary = ngettext("{n} file checked", "{n} files checked", files).format(n=files)
    if report.findings:
        summary += ": " + ngettext("{n} error", "{n} errors", errors).format(n=errors)
        summary += ", " + ngettext("{n} warning", "{n} warnings", warnings).format(n=warnings)
    else:
        summary += ": " + _("no problems found")
    out.append(summary)
    return "\n".join(out) + "\n"


def render_json(report: Report) -> str:
    """A JSON object: files checked and findings (stable keys, for scripts)."""
    return (
        json.dumps(
            {
                "files": report.files,
                "findings": [
                    {
                        "file": f.location.file,
                        "line": f.location.line,
                        "column": f.location.column,
                        "rule": f.rule,
                        "severity": f.severity.value,
                        "message": f.message,
                        "hint": f.hint,
                    }
                    for f in report.findings
                ],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def _github_escape(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: `::error file=...,line=...::message`."""
    lines = []
    for f in report.findings:
        command = "error" if f.severity is Severity.ERROR else "warning"
        message = f.message + (f" ({f.hint})" if f.hint else "")
        properties = ",".join(
            [
                f"file={_github_escape(f.location.file, property_value=True)}",
                f"line={f.location.line}",
                f"col={f.location.column}",
                f"title={_github_escape(f.rule, property_value=True)}",
            ]
        )
        lines.append(f"::{command} {properties}::{_github_escape(message)}")
    return "".join(line + "\n" for line in lines)


def render_sarif(report: Report) -> str:
    """SARIF 2.1.0, as GitHub code scanning and other tools read it."""
    rule_ids = sorted(RULES)
    results = []
    for f in report.findings:
        result = {
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule) if f.rule in RULES else -1,
            "level": "error" if f.severity is Severity.ERROR else "warning",
            "message": {"text": f.message + (f" ({f.hint})" if f.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": Path(f.location.file).as_posix()},
                        "region": {"startLine": f.location.line, "startColumn": f.location.column},
                    }
                }
            ],
        }
        if f.rule not in RULES:
            del result["ruleIndex"]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "crisiscomm",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": rule_id,
                                "shortDescription": {"text": RULES[rule_id].summary},
                                "defaultConfiguration": {
                                    "level": "error"
                                    if RULES[rule_id].severity is Severity.ERROR
                                    else "warning"
                                },
                            }
                            for rule_id in rule_ids
                        ],
                    }
                },
                "artifacts": [
                    {"location": {"uri": Path(file).as_posix()}} for file in report.files
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def _fails(finding: Finding, strict: bool) -> bool:
    return strict or finding.severity is Severity.ERROR


def render_junit(report: Report, *, strict: bool = False) -> str:
    """JUnit XML: one test case per file, a failure per error (and warning, when strict)."""
    from xml.etree import ElementTree  # only here: the other formats need no XML

    by_file: dict[str, list[Finding]] = {file: [] for file in report.files}
    for f in report.findings:
        by_file.setdefault(f.location.file, []).append(f)
    suites = ElementTree.Element("testsuites", name="crisiscomm validate")
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name="crisiscomm validate",
        tests=str(len(by_file)),
        failures=str(sum(1 for fs in by_file.values() if any(_fails(f, strict) for f in fs))),
        errors="0",
    )
    for file, findings in by_file.items():
        case = ElementTree.SubElement(suite, "testcase", classname="crisiscomm.validate", name=file)
        for f in findings:
            tag = "failure" if _fails(f, strict) else "system-out"
            element = ElementTree.SubElement(case, tag)
            text = f"{f.location}: {f.severity.value}: {f.message} [{f.rule}]" + (
                "\n" + _("hint: {hint}").format(hint=f.hint) if f.hint else ""
            )
            if tag == "failure":
                element.set("message", f.message)
                element.set("type", f.rule)
            element.text = text
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
    "junit": render_junit,
}


def render(report: Report, output_format: str, *, color: bool = False, strict: bool = False) -> str:
    """The report in one of FORMATS."""
    if output_format == "text":
        return render_text(report, color=color)
    if output_format == "junit":
        return render_junit(report, strict=strict)
    return FORMATS[output_format](report)
