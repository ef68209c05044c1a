"""Local indexer: streaming appends across jobs, valid arrays, crash repair."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_kubevirt_burner.indexers.local import (
    LocalIndexer,
    ReadStats,
    append_documents,
    file_name,
    iter_documents,
    repair_if_unterminated,
)
from pytest_kubevirt_burner.measurements.writer import ArrayFileWriter


def docs(n: int, job: str = "j") -> list[dict[str, object]]:
    return [{"metricName": "m", "jobName": job, "value": float(i), "i": i} for i in range(n)]


def test_append_across_jobs_is_one_valid_array(tmp_path: Path) -> None:
    idx = LocalIndexer(tmp_path)
    assert idx.append("nodeCPU", iter(docs(3, "job-1"))) == 3
    first = json.loads((tmp_path / "nodeCPU.json").read_text())
    assert [d["i"] for d in first] == [0, 1, 2]
    assert idx.append("nodeCPU", iter(docs(2, "job-2"))) == 2
    data = json.loads((tmp_path / "nodeCPU.json").read_text())
    assert [(d["jobName"], d["i"]) for d in data] == [
        ("job-1", 0), ("job-1", 1), ("job-1", 2), ("job-2", 0), ("job-2", 1),
    ]  # fmt: skip
    assert idx.written == {"nodeCPU.json": 5}
    assert idx.files() == [tmp_path / "nodeCPU.json"]


def test_append_moves_back_over_the_bracket_instead_of_rewriting(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    append_documents(path, docs(500))
    before = path.read_bytes()
    inode = path.stat().st_ino
    append_documents(path, docs(1))
    after = path.read_bytes()
    assert path.stat().st_ino == inode  # same file, not a rewrite-and-rename
    body = before.rstrip()[:-1].rstrip()  # everything up to the last document
    assert after.startswith(body + b",\n")
    assert len(json.loads(after)) == 501


def test_empty_appends_give_an_empty_array(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    assert append_documents(path, iter([])) == 0
    assert json.loads(path.read_text()) == []
    append_documents(path, docs(1))
    assert len(json.loads(path.read_text())) == 1
    (tmp_path / "x.json").write_text("[]")
    append_documents(tmp_path / "x.json", docs(2))
    assert len(json.loads((tmp_path / "x.json").read_text())) == 2


def test_generator_failure_leaves_a_valid_array(tmp_path: Path) -> None:
    def broken() -> Iterator[dict[str, object]]:
        yield {"a": 1}
        raise RuntimeError("query failed")

    path = tmp_path / "b.json"
    with pytest.raises(RuntimeError):
        append_documents(path, broken())
    assert json.loads(path.read_text()) == [{"a": 1}]


def test_crashed_file_is_read_and_repaired_on_append(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b'[\n{"a":1},\n{"a":2},\n{"a":')  # killed mid-line
    stats = ReadStats()
    assert list(iter_documents(path, stats)) == [{"a": 1}, {"a": 2}]
    assert stats.unterminated and stats.dropped_lines == 1
    append_documents(path, [{"a": 3}])
    assert json.loads(path.read_text()) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_repair_if_unterminated(tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    append_documents(ok, docs(2))
    assert repair_if_unterminated(ok) is None
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'[\n{"a":1},\n{"a":2}')
    assert repair_if_unterminated(bad) == 0
    assert json.loads(bad.read_text()) == [{"a": 1}, {"a": 2}]


def test_compact_array_from_elsewhere_is_streamed_and_appended(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps([{"a": 1}, {"a": 2}]))  # kube-burner writes one long line
    assert list(iter_documents(path)) == [{"a": 1}, {"a": 2}]
    append_documents(path, [{"a": 3}])
    assert json.loads(path.read_text()) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_reads_files_of_the_measurements_writer(tmp_path: Path) -> None:
    path = tmp_path / "podLatencyMeasurement-job.json"
    writer = ArrayFileWriter(path)
    for d in docs(3):
        writer.append(d)
    assert [d["i"] for d in iter_documents(path)] == [0, 1, 2]  # still open: unterminated
    writer.close()
    stats = ReadStats()
    assert len(list(iter_documents(path, stats))) == 3
    assert not stats.unterminated


def test_many_small_appends_stay_linear(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    for i in range(300):
        append_documents(path, [{"i": i}])
    assert [d["i"] for d in json.loads(path.read_text())] == list(range(300))


def test_file_names_follow_kube_burner() -> None:
    assert (
        file_name("nodeMemoryCached+nodeMemoryBuffers") == "nodeMemoryCached+nodeMemoryBuffers.json"
    )
    assert file_name("API99thLatency-start") == "API99thLatency-start.json"
    assert file_name("a/b") == "a_b.json"


def test_non_finite_floats_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    append_documents(path, [{"value": float("nan")}])
    assert json.loads(path.read_text()) == [{"value": None}]  # valid JSON, not a NaN token
