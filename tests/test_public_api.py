"""The framestamp package's public names resolve, and the light ones stay light."""

import subprocess
import sys

import framestamp


def test_every_public_name_resolves():
    for name in framestamp.__all__:
        assert getattr(framestamp, name) is not None


def test_parsing_does_not_import_pyav():
    code = "import sys, framestamp; framestamp.parse_events('00:05 a'); print('av' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
