"""``index``, ``check-alerts``, ``import`` and ``tarball`` against a real Prometheus and doubles.

Prometheus (Debian 2.42) serves a TSDB backfilled with promtool, so every value is known.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.indexers.base import document_id
from pytest_kubevirt_burner.indexers.local import iter_documents
from pytest_kubevirt_burner.metrics.promserver import PrometheusProcess, create_blocks

from ..esdouble import EsDouble

ROOT = Path(__file__).resolve().parents[2]
BASE = (int(time.time()) // 60) * 60 - 3600
SECONDS = 300

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="prometheus is not installed: apt-get install prometheus",
)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus serving kb_gauge{ns="a"} = i at BASE + i for i in 0..300."""
    work = tmp_path_factory.mktemp("prom-commands")
    lines = ["# TYPE kb_gauge gauge"]
    lines += [f'kb_gauge{{ns="a"}} {i} {BASE + i}' for i in range(SECONDS + 1)]
    create_blocks("\n".join([*lines, "# EOF"]) + "\n", work / "data")
    prom = PrometheusProcess(workdir=work, storage=work / "data")
    try:
        prom.start()
        yield prom.url
    finally:
        prom.stop()


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_kubevirt_burner", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd, check=False,
    )  # fmt: skip


def window(start: int = 0, end: int = SECONDS) -> list[str]:
    return ["--start", str(BASE + start), "--end", str(BASE + end)]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_index_a_window_into_files_a_server_and_a_tarball(prometheus: str, tmp_path: Path) -> None:
    profile = write(
        tmp_path / "mp.yml",
        "- query: kb_gauge\n  metricName: gauge\n"
        "- query: max(kb_gauge)\n  metricName: gaugeMax\n  instant: true\n",
    )
    meta = write(tmp_path / "meta.yml", "platform: sim\n")
    metrics = tmp_path / "m"
    with EsDouble("os2") as es:
        proc = cli(
            "index", "-u", prometheus, "-m", str(profile), *window(), "-s", "30s",
            "--uuid", "u-1", "--user-metadata", str(meta), "--metrics-directory", str(metrics),
            "--es-server", es.url, "--es-index", "kb", "--tarball-name", str(tmp_path / "m.tgz"),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        stored = es.docs("kb")
    gauge = list(iter_documents(metrics / "gauge.json"))
    assert [d["value"] for d in gauge] == [float(v) for v in range(0, 301, 30)]
    assert {d["jobName"] for d in gauge} == {"kube-burner-indexing"}
    assert gauge[0]["labels"] == {"ns": "a"} and gauge[0]["metadata"] == {"platform": "sim"}
    assert gauge[0]["uuid"] == "u-1" and gauge[0]["query"] == "kb_gauge"
    top = list(iter_documents(metrics / "gaugeMax.json"))
    assert [d["value"] for d in top] == [300.0]
    assert stored == {document_id(d): d for d in gauge + top}
    assert "OpenSearch 2.19.2 at http" in proc.stdout
    assert "12 documents of 2 metrics (uuid u-1) written to" in proc.stdout
    with tarfile.open(tmp_path / "m.tgz") as tar:
        assert sorted(tar.getnames()) == ["gauge.json", "gaugeMax.json"]


def test_index_with_the_server_down_keeps_the_files(prometheus: str, tmp_path: Path) -> None:
    profile = write(tmp_path / "mp.yml", "- query: kb_gauge\n  metricName: gauge\n")
    down = EsDouble()
    down.stop()
    metrics = tmp_path / "m"
    proc = cli(
        "index", "-u", prometheus, "-m", str(profile), *window(0, 60), "--metrics-directory",
        str(metrics), "--es-server", down.url, "--es-index", "kb",
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: 3 documents not indexed: unreachable: connection refused ({down.url})"
    )
    assert len(list(iter_documents(metrics / "gauge.json"))) == 3


def test_index_usage_errors(prometheus: str, tmp_path: Path) -> None:
    missing = cli("index", "-u", prometheus, "-m", str(tmp_path / "nope.yml"))
    assert missing.returncode == 2
    assert (
        missing.stderr.strip() == f"error: -m/--metrics-profile: {tmp_path}/nope.yml: no such file"
    )
    profile = write(tmp_path / "mp.yml", "- query: kb_gauge\n  metricName: gauge\n")
    backwards = cli("index", "-u", prometheus, "-m", str(profile), *window(60, 0))
    assert backwards.returncode == 2 and "must be before --end" in backwards.stderr
    bad_index = cli(
        "index", "-u", prometheus, "-m", str(profile), "--es-server", "http://127.0.0.1:1",
        "--es-index", "a b",
    )  # fmt: skip
    assert bad_index.returncode == 2
    assert bad_index.stderr.strip() == "error: --es-index: index name 'a b' must not contain ' '"


ALERTS = """\
- expr: kb_gauge > 250
  description: gauge of {{$labels.ns}} is {{$value}}
  severity: SEVERITY
"""


@pytest.mark.parametrize(("severity", "code"), [("warning", 0), ("error", 1), ("critical", 3)])
def test_check_alerts(prometheus: str, tmp_path: Path, severity: str, code: int) -> None:
    profile = write(tmp_path / "alerts.yml", ALERTS.replace("SEVERITY", severity))
    metrics = tmp_path / "m"
    with EsDouble("es8") as es:
        proc = cli(
            "check-alerts", "-u", prometheus, "-a", str(profile), *window(), "-s", "30s",
            "--uuid", "u-2", "--metrics-directory", str(metrics),
            "--es-server", es.url, "--es-index", "alerts",
        )  # fmt: skip
        stored = list(es.docs("alerts").values())
    assert proc.returncode == code, proc.stderr
    assert f"{severity}: gauge of a is 270" in proc.stdout  # first sample above 250 at step 30
    alerts = list(iter_documents(metrics / "alert.json"))
    assert [(a["severity"], a["metricName"], a["uuid"]) for a in alerts] == [
        (severity, "alert", "u-2")
    ]
    assert stored == alerts


def test_check_alerts_quiet_window_and_usage(prometheus: str, tmp_path: Path) -> None:
    profile = write(tmp_path / "alerts.yml", ALERTS.replace("SEVERITY", "error"))
    quiet = cli("check-alerts", "-u", prometheus, "-a", str(profile), *window(0, 200))
    assert quiet.returncode == 0, quiet.stderr
    assert "0 alerts fired" in quiet.stdout
    usage = cli("check-alerts", "-u", prometheus)
    assert usage.returncode == 2
    assert usage.stderr.strip() == "error: -a/--alert-profile is required"


def test_tarball_then_import_into_each_family(tmp_path: Path) -> None:
    metrics = tmp_path / "m"
    (metrics / "pprof").mkdir(parents=True)
    docs: list[dict[str, Any]] = [
        {"metricName": "podLatencyMeasurement", "podReadyLatency": i} for i in range(30)
    ]
    (metrics / "podLatencyMeasurement-j.json").write_text(json.dumps(docs))
    (metrics / "jobSummary.json").write_text(json.dumps([{"metricName": "jobSummary"}]))
    (metrics / "summary.json").write_text(json.dumps({"schemaVersion": 1}))
    (metrics / "pprof" / "heap.pprof").write_bytes(b"\x1f\x8b")
    made = cli("tarball", str(metrics), "--tarball-name", str(tmp_path / "r.tgz"))
    assert made.returncode == 0, made.stderr
    with tarfile.open(tmp_path / "r.tgz") as tar:
        assert sorted(tar.getnames()) == [
            "jobSummary.json", "podLatencyMeasurement-j.json", "pprof/heap.pprof", "summary.json",
        ]  # fmt: skip
    expected = {document_id(d): d for d in [*docs, {"metricName": "jobSummary"}]}
    for flavor in ("es7", "os3"):
        with EsDouble(flavor) as es:
            proc = cli("import", "--tarball", str(tmp_path / "r.tgz"), "--es-server", es.url,
                       "--es-index", "kb")  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            assert es.docs("kb") == expected
            assert "31 documents from 2 files indexed into kb" in proc.stdout
            assert "2 files that are not JSON arrays of documents were not indexed" in proc.stderr


def test_import_failures(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.tgz", "not a tarball")
    with EsDouble() as es:
        proc = cli("import", "--tarball", str(bad), "--es-server", es.url, "--es-index", "kb")
        assert proc.returncode == 1
        assert proc.stderr.startswith(f"error: {bad}: not a readable tarball")
        es.state.not_a_search_server = True
        proc = cli("import", "--tarball", str(bad), "--es-server", es.url, "--es-index", "kb")
        assert proc.returncode == 1
        assert proc.stderr.strip() == (
            f"error: {es.url}: not an Elasticsearch or OpenSearch server"
            " (GET / answered HTTP 200 without a version number)"
        )
    usage = cli("import", "--tarball", str(tmp_path / "none.tgz"), "--es-server", "http://x")
    assert usage.returncode == 2 and "no such file" in usage.stderr
