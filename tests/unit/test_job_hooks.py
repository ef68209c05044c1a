"""Job hooks: stages, environment, logs, failures with the last output lines, timeouts,
background hooks waited for at the job's end; bad hooks are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.jobfields import HookSpec
from pytest_kubevirt_burner.jobs.hookrunner import HookRunner
from pytest_kubevirt_burner.jobspec import JobSpecError, build_job

WHERE = "t.py::test_x: @pytest.mark.density"


def sh(script: str, when: str = "beforeJobExecution", **kw: object) -> HookSpec:
    return HookSpec(("/bin/sh", "-c", script), when, **kw)  # type: ignore[arg-type]


def runner(tmp_path: Path, *hooks: HookSpec, logs: bool = True) -> HookRunner:
    return HookRunner(
        hooks,
        job="j",
        cwd=tmp_path,
        env={"UUID": "u-1", "JOB_NAME": "j"},
        log_dir=tmp_path / "m" / "hooks" if logs else None,
    )


def test_stage_runs_its_hooks_in_the_job_directory_with_the_environment(tmp_path: Path) -> None:
    r = runner(
        tmp_path,
        sh('echo "$UUID $JOB_NAME $(pwd)" > out.txt'),
        sh("echo never > other.txt", when="afterGC"),
    )
    r.fire("beforeJobExecution")
    assert r.finish() == []
    assert (tmp_path / "out.txt").read_text().split() == ["u-1", "j", str(tmp_path)]
    assert not (tmp_path / "other.txt").exists()
    assert (tmp_path / "m" / "hooks" / "j-beforeJobExecution-0.log").exists()


def test_non_zero_exit_fails_with_the_last_output_lines(tmp_path: Path) -> None:
    r = runner(tmp_path, sh("for i in 1 2 3 4 5 6 7; do echo line$i; done; echo oops >&2; exit 3"))
    r.fire("beforeJobExecution")
    [failure] = r.finish()
    assert failure.startswith("j: hooks[0] (beforeJobExecution) ['/bin/sh', '-c'")
    assert "exited with 3; last output: line4 | line5 | line6 | line7 | oops" in failure
    log = (tmp_path / "m" / "hooks" / "j-beforeJobExecution-0.log").read_text()
    assert log.splitlines()[0] == "line1"  # the whole output is kept


def test_a_hook_that_hangs_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    r = runner(tmp_path, sh("echo started; exec sleep 300", timeout=0.5), logs=False)
    r.fire("beforeJobExecution")
    [failure] = r.finish()
    assert "did not finish within its timeout (0.5s); stopped; last output: started" in failure


def test_background_hooks_run_alongside_and_are_waited_for_at_the_end(tmp_path: Path) -> None:
    r = runner(
        tmp_path,
        sh("while [ ! -f go ]; do sleep 0.05; done; echo bg > bg.txt", background=True),
        sh("touch go"),  # foreground, same stage: only finishes because the background one runs
        sh("exit 7", when="afterJobExecution", background=True),
    )
    r.fire("beforeJobExecution")
    r.fire("afterJobExecution")
    failures = r.finish()
    assert (tmp_path / "bg.txt").read_text() == "bg\n"
    assert len(failures) == 1 and "hooks[2] (afterJobExecution)" in failures[0]
    assert "exited with 7" in failures[0]
    assert sorted(r.ran) == [
        ("afterJobExecution", 2, 7),
        ("beforeJobExecution", 0, 0),
        ("beforeJobExecution", 1, 0),
    ]


def test_once_and_a_script_that_is_not_executable(tmp_path: Path) -> None:
    (tmp_path / "s.sh").write_text('echo "$1" >> out.txt\n')
    r = runner(tmp_path, HookSpec(("./s.sh", "arg"), "afterJobExecution"))
    r.fire("afterJobExecution", once=True)
    r.fire("afterJobExecution", once=True)
    assert r.finish() == []
    assert (tmp_path / "out.txt").read_text() == "arg\n"


@pytest.fixture
def tpl(tmp_path: Path) -> Path:
    (tmp_path / "pod.yml").write_text("kind: Pod\napiVersion: v1\nmetadata: {name: p}\n")
    return tmp_path


def _error(tpl: Path, hooks: object) -> str:
    with pytest.raises(JobSpecError) as info:
        build_job(WHERE, "create", {"template": "pod.yml", "hooks": hooks}, tpl, "x")
    message = str(info.value)
    assert "\n" not in message and message.startswith(WHERE)
    return message


def test_marker_hooks_are_validated(tpl: Path) -> None:
    spec = build_job(
        WHERE,
        "create",
        {"template": "pod.yml", "hooks": [{"cmd": ["true"], "when": "beforeCleanup"}]},
        tpl,
        "x",
    )
    assert spec.hooks == (HookSpec(("true",), "beforeCleanup"),)
    assert "command 'no-such-hook-cmd' not found on PATH" in _error(
        tpl, [{"cmd": ["no-such-hook-cmd"], "when": "afterGC"}]
    )
    assert "command './missing.sh' not found" in _error(
        tpl, [{"cmd": ["./missing.sh"], "when": "afterGC"}]
    )
    assert "did you mean 'beforeCleanup'" in _error(
        tpl, [{"cmd": ["true"], "when": "beforeCleanUp"}]
    )
    assert "'hooks[0].cmd' must be a non-empty list" in _error(
        tpl, [{"cmd": [], "when": "afterGC"}]
    )
    assert "unknown key 'hooks[0].bg'" in _error(
        tpl, [{"cmd": ["true"], "when": "afterGC", "bg": 1}]
    )
    assert "'hooks[0].timeout'" in _error(
        tpl, [{"cmd": ["true"], "when": "afterGC", "timeout": "x"}]
    )
