"""PyYAML imported without compiling its pure-Python reader's pattern (documents/yamllib.py):
the stand-in works when that reader is used, and `re.compile` is itself again."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from crisiscomm.documents import yamllib
from crisiscomm.documents.yamllib import yaml


def test_the_stand_in_is_the_pattern_pyyaml_writes() -> None:
    # yaml/reader.py's own literal: if PyYAML changes it, the stand-in is simply not used
    assert yamllib.NON_PRINTABLE == (
        "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
    )
    assert re.compile is not None and re.compile.__module__ == "re"


def test_pyyamls_pure_python_reader_still_refuses_what_yaml_does_not_allow() -> None:
    """In a fresh process, where the stand-in is what the reader holds."""
    probe = (
        "from crisiscomm.documents.yamllib import yaml\n"
        "print(yaml.load('key: N\\u00f3kis', Loader=yaml.SafeLoader))\n"
        "try:\n"
        "    yaml.load('key: a\\x07b', Loader=yaml.SafeLoader)\n"
        "except yaml.reader.ReaderError as error:\n"
        "    print('refused:', error.reason)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [
        "{'key': 'Nókis'}",
        "refused: special characters are not allowed",
    ]
    # and in this process, whichever way yaml was first imported
    with pytest.raises(yaml.reader.ReaderError, match="special characters are not allowed"):
        yaml.load("key: a\x07b\n", Loader=yaml.SafeLoader)


def test_a_fresh_process_imports_yaml_without_compiling_that_pattern() -> None:
    probe = (
        "import re, sys\n"
        "compiled = []\n"
        "real = re._compile\n"
        "def spy(pattern, flags):\n"
        "    compiled.append(pattern)\n"
        "    return real(pattern, flags)\n"
        "re._compile = spy\n"
        "from crisiscomm.documents.yamllib import NON_PRINTABLE, yaml\n"
        "print(NON_PRINTABLE in compiled, type(yaml.reader.Reader.NON_PRINTABLE).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "CompiledOnFirstUse"]
