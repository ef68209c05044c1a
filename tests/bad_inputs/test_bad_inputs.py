"""Every bad input stops the run with one exact line, a non-zero exit, no traceback, and
nothing created on the cluster. The cases are data: tests/bad_inputs/cases.yaml."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import inner_args
from ..reliability.harness import Cluster

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("cases.yaml")).read_text(encoding="utf-8")
)["cases"]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """One simulator for the corpus; nothing may ever be created on it."""
    with SimProcess(nodes=2, seed=1) as proc:
        yield proc


def _fill(text: str, case_dir: Path, sim: SimProcess) -> str:
    return text.replace("{dir}", str(case_dir)).replace("{server}", sim.url)


def _run(
    case: dict[str, Any], case_dir: Path, sim: SimProcess, pytester: pytest.Pytester
) -> tuple[int, str]:
    args = [_fill(str(a), case_dir, sim) for a in case.get("args", [])]
    if case.get("kind", "pytest") == "cli":
        res = subprocess.run(
            [sys.executable, "-m", "pytest_kubevirt_burner", *args],
            cwd=case_dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return res.returncode, res.stdout + res.stderr
    own_cluster = case.get("own_cluster") or any(
        a.startswith(("--kube-config", "--kube-sim")) for a in case.get("args", [])
    )
    cluster = [] if own_cluster else ["--kube-config", str(sim.kubeconfig)]
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("KUBECONFIG", raising=False)
        for key, value in (case.get("env") or {}).items():
            mp.setenv(key, _fill(str(value), case_dir, sim))
        result = pytester.runpytest_inprocess(
            *inner_args(
                case_dir,
                "-p",
                "no:hypothesispytest",  # its terminal summary costs a second per inner run
                *cluster,
                *args,
                metrics=case_dir / "metrics",
            )
        )
    return int(result.ret), "\n".join(result.outlines + result.errlines)


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
    return pytest.param(case, id=case["name"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_gives_one_clear_line(
    case: dict[str, Any], sim: SimProcess, pytester: pytest.Pytester
) -> None:
    case_dir = pytester.path
    for rel, text in (case.get("files") or {}).items():
        path = case_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(str(text), case_dir, sim))
    with Cluster.of(sim) as cluster:
        before = cluster.labelled()
        code, output = _run(case, case_dir, sim, pytester)
        after = cluster.labelled()
    expected = _fill(case["message"], case_dir, sim)
    assert "\n" not in expected
    lines = [line.strip() for line in output.splitlines()]
    # pytest prefixes usage errors with "ERROR: ", argparse with "<prog>: error: "
    assert any(
        expected in (line, line.removeprefix("ERROR: "), line.split(": error: ", 1)[-1])
        for line in lines
    ), output
    assert code != 0, output
    assert "Traceback" not in output, output
    assert after == before == {"namespaces": 0, "pods": 0, "vms": 0}
