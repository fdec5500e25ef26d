"""Every configuration key is documented in the README's Configuration table, and the table
names no key that does not exist."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from vncoverage.config import Config

README = Path(__file__).resolve().parents[1] / "README.md"


def _documented() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    keys: set[str] = set()
    for line in table.splitlines():
        m = re.match(r"\| `\[(\w+)\] ([^`]+)`", line)
        if m:
            keys |= {f"{m.group(1)}.{k.strip()}" for k in m.group(2).split(",")}
    return keys


def _config_keys() -> set[str]:
    keys = set()
    for section in dataclasses.fields(Config):
        if section.name == "source":
            continue
        cls = section.default_factory()  # type: ignore[misc]
        keys |= {f"{section.name}.{f.name}" for f in dataclasses.fields(cls)}
    return keys


def test_every_config_key_is_in_the_readme_table():
    documented, actual = _documented(), _config_keys()
    missing, stale = sorted(actual - documented), sorted(documented - actual)
    assert not missing, f"not in the README's Configuration table: {missing}"
    assert not stale, f"in the README but not a config key: {stale}"
