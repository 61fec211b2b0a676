"""`crisiscomm inbox`: bad input is refused whole, with the message a person sees."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from crisiscomm.cli import main

HEADER = "kind,received_at,channel,source,language,subject,text,external_id\n"
ROW = "question,2027-03-02 14:30,hotline,hotline 1050,ru,Вода,Когда будет вода?,H-1\n"


@pytest.fixture(autouse=True)
def _office(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRISISCOMM_DB", str(tmp_path / "inbox.db"))
    monkeypatch.setenv("CRISISCOMM_ACTOR", "asultanova")


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: bytes = b"",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["inbox", *args])
    out, err = capsys.readouterr()
    return code, out, err


def items(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    return run(capsys, monkeypatch, "list")[1]


def test_import_then_again_adds_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (HEADER + ROW).encode()
    assert run(capsys, monkeypatch, "add", stdin=data)[:2] == (
        0,
        "INB-2027-0001 registered, due 2027-03-05 23:59\n",
    )
    assert run(capsys, monkeypatch, "add", stdin=data)[:2] == (
        0,
        "INB-2027-0001 was registered already\n",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((HEADER + ROW).encode("cp1251"), "row 2: the file is not in UTF-8"),
        (HEADER.replace(",text", "") + ROW, "row 1, column text: the column is missing"),
        (HEADER.replace("kind,", "kind,colour,") + ROW, "row 1, column colour: unknown column"),
        (
            HEADER + ROW + ROW.replace("2027-03-02 14:30", "32.13.2027").replace("H-1", "H-2"),
            "row 3, column received_at: `32.13.2027` is not a date and time",
        ),
        (HEADER + ROW.replace("question", "rumour"), "row 2, column kind: unknown kind `rumour`"),
    ],
    ids=["cp1251", "missing-column", "unknown-column", "bad-date", "unknown-kind"],
)
def test_a_bad_file_imports_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: str | bytes,
    message: str,
) -> None:
    raw = data if isinstance(data, bytes) else data.encode()
    code, out, err = run(capsys, monkeypatch, "add", stdin=raw)
    assert (code, out) == (2, "")
    assert err.startswith(f"crisiscomm: error: {message}"), err
    assert "nothing was imported" in err
    run(capsys, monkeypatch, "add", stdin=(HEADER + ROW.replace("H-1", "H-9")).encode())
    assert items(capsys, monkeypatch).count("INB-") == 1  # only the good file's row


def test_refusals_change_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, monkeypatch, "add", stdin=(HEADER + ROW).encode())
    code, _out, err = run(capsys, monkeypatch, "close", "INB-2027-0042")
    assert code == 1 and "no register item INB-2027-0042" in err
    code, _out, err = run(capsys, monkeypatch, "close", "INB-2027-0001")
    assert code == 1
    assert "an item in the state `new` cannot be given `close`" in err
    code, _out, err = run(capsys, monkeypatch, "extend", "INB-2027-0001", "--reason", "x")
    assert code == 1 and "cannot be given `extend`" in err  # questions are not extended
    assert run(capsys, monkeypatch, "answer", "INB-2027-0001", "--answer", "Завтра.")[0] == 0
    assert run(capsys, monkeypatch, "close", "INB-2027-0001")[0] == 0
    code, _out, err = run(capsys, monkeypatch, "answer", "INB-2027-0001", "--answer", "Again")
    assert code == 1 and "an item in the state `closed` cannot be given `answer`" in err
    code, out, _err = run(capsys, monkeypatch, "show", "INB-2027-0001")
    assert "answer: Завтра." in out and out.count("inbox.answer") == 1
    code, _out, err = run(capsys, monkeypatch, "assign", "INB-2027-0001", "nobody_at_all")
    assert code == 1 and "the assignee `nobody_at_all` is nobody of the office" in err
