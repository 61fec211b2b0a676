"""PyYAML imported without compiling its pure-Python reader's pattern (documents/yamllib.py):
the stand-in works when that reader is used, and `re.compile` is itself again."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from crisiscomm.documents import yamllib
from crisiscomm.documents.yamllib import yaml


def run(probe: str) -> str:
    """What `probe` prints, run in a fresh interpreter (where `yaml` is not imported yet)."""
    return subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout


def test_the_stand_in_is_the_pattern_pyyaml_writes() -> None:
    # PyYAML's reader holds this pattern (compiled, or the stand-in compiling it when asked):
    # if PyYAML changes it, the stand-in is simply not used
    assert yaml.reader.Reader.NON_PRINTABLE.pattern == yamllib.NON_PRINTABLE
    assert re.compile.__module__ == "re"


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
    assert run(probe).splitlines() == [
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
    assert run(probe).split() == ["False", "CompiledOnFirstUse"]
