"""Fetch the real-message corpora of tests/emulator/corpora.rs on a machine that lacks them,
from package registries only, and print the environment variables that point the tests at them.

- mail-parser's `.eml` test messages: the `mail-parser` 0.11 crate from crates.io (they ship in
  the published crate under resources/eml; `cargo build` normally puts them in ~/.cargo/registry).
- CPython's `test/test_email/data`: part of the Python standard library's test package; on
  Debian/Ubuntu system Pythons it is the `libpython3.X-testsuite` apt package. When
  `python3 -c "import test.test_email"` fails, this script says which package to install.

Usage: python3 .ci/emulator/fetch_corpora.py [DEST]   (default: ~/.cache/threadline-corpora)
"""
import io
import os
import pathlib
import subprocess
import sys
import tarfile
import urllib.request

CRATE = "mail-parser"
VERSION = "0.11.9"


def fetch_crate(dest: pathlib.Path) -> pathlib.Path:
    root = dest / f"{CRATE}-{VERSION}"
    if (root / "resources" / "eml").is_dir():
        return root
    url = f"https://static.crates.io/crates/{CRATE}/{CRATE}-{VERSION}.crate"
    with urllib.request.urlopen(url, timeout=60) as r:
        data = r.read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return root


def cpython_data() -> str:
    try:
        out = subprocess.run([sys.executable, "-c", "import test.test_email, os; print(os.path.dirname(test.test_email.__file__))"],
                             check=True, capture_output=True, text=True).stdout.strip()
        return os.path.join(out, "data")
    except subprocess.CalledProcessError:
        major, minor = sys.version_info[:2]
        print(f"CPython's test package is missing: apt-get install libpython{major}.{minor}-testsuite", file=sys.stderr)
        return ""


def main() -> None:
    dest = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path.home() / ".cache" / "threadline-corpora")
    dest.mkdir(parents=True, exist_ok=True)
    print(f"export THREADLINE_CORPORA={fetch_crate(dest)}")
    data = cpython_data()
    if data:
        print(f"export THREADLINE_CPYTHON_EMAIL_DATA={data}")


if __name__ == "__main__":
    main()
