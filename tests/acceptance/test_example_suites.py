"""The example suites run from the repository root, served by its conftest.py (README commands)."""

from __future__ import annotations

import re
from pathlib import Path

from ..inner import run_pytest_in

ROOT = Path(__file__).resolve().parents[2]


def test_dry_run_of_every_example_suite_renders_validates_and_passes(tmp_path: Path) -> None:
    res = run_pytest_in(
        ROOT,
        "--kube-sim",
        "--burner-dry-run",
        "--metrics-directory",
        str(tmp_path),
        "example_suites",
    )
    assert res.returncode == 0, res.stdout
    assert re.search(r"^\d+ passed in ", res.stdout.splitlines()[-1].strip("= ")), res.stdout
    assert "dry run: test-pod-density would create Pod: " in res.stdout
    assert not list(tmp_path.glob("*Measurement-*.json"))


def test_readme_density_command_from_the_repository_root(tmp_path: Path) -> None:
    res = run_pytest_in(
        ROOT, "--kube-sim", "--metrics-directory", str(tmp_path), "example_suites/density"
    )
    assert res.returncode == 0, res.stdout
    assert "2 passed" in res.stdout
    assert (tmp_path / "podLatencyMeasurement-test-pod-density.json").is_file()


def test_example_markers_select_only_the_example_suites() -> None:
    res = run_pytest_in(
        ROOT,
        "--kube-sim",
        "--collect-only",
        "-q",
        "-m",
        "example_suite",
        "example_suites",
        "tests/unit/test_durations.py",
    )
    assert res.returncode == 0, res.stdout
    ids = [line for line in res.stdout.splitlines() if "::" in line]
    assert ids and all(i.startswith("example_suites/") for i in ids)
