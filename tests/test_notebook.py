"""The walkthrough notebook runs (on a tiny world) and is committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NB = Path(__file__).resolve().parents[1] / "notebooks" / "walkthrough.ipynb"


def test_notebook_committed_without_outputs():
    nb = nbformat.read(NB, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_notebook_executes(tiny_world, monkeypatch):
    monkeypatch.setenv("VNCOVERAGE_CONFIG", str(tiny_world.config))
    nb = nbformat.read(NB, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tiny_world.root)}}).execute()
    text = "\n".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert "Villages with mobile broadband" in text
