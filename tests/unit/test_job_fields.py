"""One table of job fields: marker validation, kube-burner mapping and docs agree."""

from __future__ import annotations

from dataclasses import MISSING
from pathlib import Path

from pytest_kubevirt_burner.cluster.ratelimit import DEFAULT_BURST, DEFAULT_QPS
from pytest_kubevirt_burner.compat import kb_schema
from pytest_kubevirt_burner.jobspec import (
    JOB_FIELDS,
    JOB_SPEC_FIELDS,
    build_job,
    field_table_markdown,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "jobs.md"


def test_docs_list_every_job_field() -> None:
    text = DOCS.read_text()
    start = text.index("<!-- job-fields:start -->\n") + len("<!-- job-fields:start -->\n")
    end = text.index("<!-- job-fields:end -->")
    assert text[start:end] == field_table_markdown(), "regenerate with field_table_markdown()"


def test_kube_burner_mapping_comes_from_the_table() -> None:
    for f in JOB_SPEC_FIELDS:
        kb = f.metadata["kb"]
        if kb and kb not in kb_schema.LOADER_JOB_KEYS:
            assert kb_schema.JOB_FIELDS[kb] == f.name
    assert set(kb_schema.JOB_FIELDS.values()) - {None} <= JOB_FIELDS


def test_defaults_are_the_dataclass_defaults(tmp_path: Path) -> None:
    (tmp_path / "pod.yml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    spec = build_job("t", "create", {"template": "pod.yml"}, tmp_path, "job")
    for f in JOB_SPEC_FIELDS:
        if f.metadata["kind"] != "special" and f.default is not MISSING:
            assert getattr(spec, f.name) == f.default, f.name
    assert (spec.qps, spec.burst) == (DEFAULT_QPS, DEFAULT_BURST)
