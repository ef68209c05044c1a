"""Indexing benchmark: N Prometheus-style documents to local files, then to the ES double.

Run: .venv/bin/python benchmarks/bench_indexing.py [--docs N] [--small]
Prints throughput and peak memory per phase (numbers only, no assertions). Peak traced memory
is what Python allocated during the phase (tracemalloc); it stays flat as N grows because
documents are streamed, never held as a list.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_kubevirt_burner.indexers.elasticsearch import ElasticIndexer  # noqa: E402
from pytest_kubevirt_burner.indexers.local import LocalIndexer, iter_documents  # noqa: E402
from tests.esdouble import EsDouble  # noqa: E402


def documents(n: int) -> Iterator[dict[str, Any]]:
    """kube-burner metric documents with realistic labels."""
    for i in range(n):
        yield {
            "timestamp": f"2026-01-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "labels": {"verb": "POST", "resource": "pods", "instance": f"10.0.0.{i % 3}:6443"},
            "value": i * 0.25,
            "uuid": "0b7c4c1e-4a8e-4d35-9f4e-6f7d7a3e9c10",
            "query": 'sum(irate(apiserver_request_total{verb!="WATCH"}[2m])) by (verb,resource)',
            "metricName": "APIRequestRate",
            "jobName": "kubevirt-density",
            "metadata": {"platform": "sim", "k8sVersion": "v1.31.0"},
        }


def measure(label: str, n: int, fn: Callable[[], Any], rows: list[tuple[Any, ...]]) -> Any:
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append((label, n, seconds, n / seconds if seconds else 0.0, peak / 2**20, rss))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--small", action="store_true", help="smoke run with 2,000 documents")
    args = parser.parse_args()
    n = 2_000 if args.small else args.docs
    rows: list[tuple[Any, ...]] = []
    with tempfile.TemporaryDirectory() as tmp, EsDouble() as es:
        es.state.keep = False  # measure the client side, not the double's storage
        local = LocalIndexer(Path(tmp))
        half = n // 2
        measure("local: append job 1", half, lambda: local.append("m", documents(half)), rows)
        measure(
            "local: append job 2", n - half, lambda: local.append("m", documents(n - half)), rows
        )
        path = local.path_for("m")
        measure("local: stream read", n, lambda: sum(1 for _ in iter_documents(path)), rows)
        indexer = ElasticIndexer(es.url, "bench", chunk_size=500)
        result = measure("es: index file (bulk 500)", n, lambda: indexer.index_files([path]), rows)
        indexer.close()
        size = path.stat().st_size / 2**20
        if result[0].indexed != n:
            raise SystemExit(f"only {result[0].indexed} of {n} documents indexed: {result[0]}")
    header = ("phase", "docs", "seconds", "docs/s", "peak MiB", "maxrss MiB")
    print("{:<28} {:>8} {:>8} {:>10} {:>9} {:>10}".format(*header))
    for label, count, seconds, rate, peak, rss in rows:
        print(f"{label:<28} {count:>8} {seconds:8.2f} {rate:10.0f} {peak:9.2f} {rss:10.1f}")
    print(f"result file: {size:.1f} MiB")


if __name__ == "__main__":
    main()
