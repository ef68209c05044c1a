"""A metrics directory that cannot take the results stops the session before anything is
created, with one line naming the directory: read-only, full, or not a directory at all."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_kubevirt_burner.sim.process import SimProcess

from .harness import POD, Cluster, run_pytest, write_suite

SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=3, name="disk")
def test_disk(burner):
    burner.run()
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    with SimProcess(nodes=2, seed=1) as proc:
        yield proc


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (needs root with CAP_SYS_ADMIN; skipped otherwise)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip() or res.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _run(tmp_path: Path, sim: SimProcess, metrics: Path) -> tuple[int, str]:
    suite = write_suite(tmp_path / "suite", SUITE, {"pod.yml": POD})
    with Cluster.of(sim) as cluster:
        res = run_pytest(
            suite, "--kube-config", str(sim.kubeconfig), "--metrics-directory", str(metrics)
        )
        assert cluster.labelled() == {"namespaces": 0, "pods": 0, "vms": 0}
    assert "Traceback" not in res.stdout
    errors = [line for line in res.stdout.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, res.stdout
    return res.returncode, errors[0]


def test_a_file_where_the_directory_should_be(tmp_path: Path, sim: SimProcess) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("not a directory")
    code, line = _run(tmp_path, sim, blocker / "run1")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert line == f"ERROR: --metrics-directory {blocker}/run1: {blocker} is not a directory"


def test_a_read_only_file_system(tmp_path: Path, sim: SimProcess, tmpfs: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    code, line = _run(tmp_path, sim, tmpfs / "metrics")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert line == (
        f"ERROR: --metrics-directory {tmpfs}/metrics: cannot write results in {tmpfs}: "
        "Read-only file system"
    )


def test_a_full_disk(tmp_path: Path, sim: SimProcess, tmpfs: Path) -> None:
    code, line = _run(tmp_path, sim, tmpfs / "metrics")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert line == (
        f"ERROR: --metrics-directory {tmpfs}/metrics: only 64 KiB free in {tmpfs} "
        "(at least 1 MiB needed)"
    )


def test_a_path_nobody_can_write(tmp_path: Path, sim: SimProcess) -> None:
    code, line = _run(tmp_path, sim, Path("/proc/self/burner-metrics"))
    assert code == pytest.ExitCode.USAGE_ERROR
    assert line.startswith("ERROR: --metrics-directory /proc/self/burner-metrics: cannot write ")
