"""The README, followed as a new user would: every `bash` and `python` block, in order, in a fresh
clone of this working tree, with the dates the demo generates (its blocks compute them with `date`).

A block runs in a new `bash -eo pipefail` (or the venv's Python) at the clone's root and must exit
with the code its fence gives (```bash exit=1), else 0. A fence marked `no-walkthrough: <why>`
is skipped; the reason is required. The clone uses this venv (a `.venv` symlink, so `make` does not
reinstall) and imports the clone's own package (PYTHONPATH).
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowguard_assets.tables import GOLD_TABLES
from flowguard_assets_tests.harness import read_table, without

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.M | re.S)
SKIP = "no-walkthrough"
RUNNERS = {"bash": ["bash", "-eo", "pipefail", "-c"], "python": [".venv/bin/python", "-c"]}


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    options: str
    code: str

    @property
    def expected_exit(self) -> int:
        found = re.search(r"\bexit=(\d+)", self.options)
        return int(found.group(1)) if found else 0

    @property
    def skip_reason(self) -> str | None:
        if SKIP not in self.options:
            return None
        return self.options.split(SKIP, 1)[1].lstrip(":").strip()


def readme_blocks(text: str) -> list[Block]:
    """The README's fenced blocks of a language the walk-through runs, in order."""
    blocks = []
    for match in FENCE.finditer(text):
        language, _, options = match["info"].strip().partition(" ")
        if language in RUNNERS:
            line = text.count("\n", 0, match.start()) + 1
            blocks.append(Block(line, language, options.strip(), match["code"]))
    return blocks


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def clone(target: Path) -> Path:
    """A git clone of this repository with the working tree's uncommitted changes, its venv linked."""
    git("clone", "--quiet", str(ROOT), str(target))
    changed = git("diff", "--name-only", "-z", "HEAD") + git("ls-files", "--others", "--exclude-standard", "-z")
    for name in filter(None, changed.split("\0")):
        if (ROOT / name).exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
        else:
            (target / name).unlink(missing_ok=True)
    (target / ".venv").symlink_to(sys.prefix)
    for name in ("pyproject.toml", "constraints.txt"):  # older than .venv/.installed: no reinstall
        os.utime(target / name, (0, 0))
    return target


def test_readme_marks_what_it_skips_and_why():
    blocks = readme_blocks((ROOT / "README.md").read_text())
    skipped = [b for b in blocks if b.skip_reason is not None]
    assert all(b.skip_reason for b in skipped), [b.line for b in skipped if not b.skip_reason]
    assert len(skipped) < len(blocks) / 2, "most of the README must be walked through"
    walked = [b for b in blocks if b.skip_reason is None]
    bad_week = next(i for i, b in enumerate(walked) if "--rate malformed=" in b.code)
    assert any(b.expected_exit == 1 and "flowguard run" in b.code for b in walked[bad_week:])


def test_every_readme_block_works_as_written_in_a_fresh_clone(tmp_path):
    assert (Path(sys.prefix) / ".installed").exists(), "run `make install` first (make test does)"
    repo = clone(tmp_path / "flowguard")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLOWGUARD_", "POSTGRES_", "SNOWFLAKE_", "SPARK_", "DAGSTER_"))
    } | {"PYTHONPATH": str(repo)}
    demo_gold = None  # the demo's Gold after the README's first `make demo`
    for block in readme_blocks((repo / "README.md").read_text()):
        if block.skip_reason is not None:
            continue
        ran = subprocess.run(
            [*RUNNERS[block.language], block.code],
            cwd=repo, env=env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        assert ran.returncode == block.expected_exit, (
            f"README.md line {block.line} exited {ran.returncode}, expected {block.expected_exit}:\n"
            f"{block.code}\n--- stdout\n{ran.stdout[-3000:]}\n--- stderr\n{ran.stderr[-3000:]}"
        )
        if demo_gold is None and "make demo" in block.code:
            demo_gold = gold_tables(repo / "data" / "warehouse")
    # Following the README in order never mixes other data into the demo's (the gateway try-out
    # has its own warehouse and instance; the bad week is put back by `make demo`).
    assert demo_gold and all(demo_gold.values()), "the README's first `make demo` wrote no Gold"
    assert gold_tables(repo / "data" / "warehouse") == demo_gold


def gold_tables(warehouse: Path) -> dict[str, list[dict]]:
    """Every Gold table's rows (Parquet under <warehouse>/gold), without the load time."""
    return {t.name: without(read_table(warehouse, t), "LOAD_TIMESTAMP") for t in GOLD_TABLES}
