"""Every pytest command of the README passes on the embedded simulator (scaled small)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "kube-burner-examples"


def readme_commands() -> list[str]:
    """The ``pytest ...`` commands of README.md: in bash blocks and in inline code."""
    text = (ROOT / "README.md").read_text()
    found: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0]
            m = re.search(r"(?:^|[\s/])(pytest\s.*)$", line)
            if m:
                found.append(m[1].strip())
    found += re.findall(r"`(pytest\s[^`]*)`", text)
    return list(dict.fromkeys(found))


def on_the_simulator(command: str, metrics: Path) -> list[str]:
    """``command`` on --kube-sim, scaled to 0.1, with its files in ``metrics``."""
    args = shlex.split(command)[1:]
    out: list[str] = []
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--kube-config":
            skip = True
            continue
        if arg.endswith((".yml", ".yaml")) and i and args[i - 1] == "--kube-burner-config":
            arg = str(next(DATA.rglob(Path(arg).name)))  # the README's config, in tests/data
            jobs = yaml.safe_load(Path(arg).read_text())["jobs"]
            # scaled small in time too: the config's jobPause values add up to half an hour
            pauses = ",".join(f"jobs.{n}.jobPause=0s" for n in range(len(jobs)))
            out += [arg, "--kube-burner-set", pauses]
            continue
        out.append(arg)
    if "--kube-sim" not in out:
        out.insert(0, "--kube-sim")
    if "--burner-scale" not in out and "--burner-dry-run" not in out:
        out += ["--burner-scale", "0.1"]
    return [*out, "--metrics-directory", str(metrics), "-p", "no:cacheprovider", "-q"]


COMMANDS = readme_commands()


def test_the_readme_has_commands() -> None:
    assert len(COMMANDS) >= 5, COMMANDS


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_passes_on_the_simulator(command: str, tmp_path: Path) -> None:
    args = on_the_simulator(command, tmp_path / "metrics")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
