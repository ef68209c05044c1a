"""``python -m pytest_kubevirt_burner.sim``: run the simulated Kubernetes + KubeVirt API server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import yaml

from . import kubeconfig
from .context import NodeShape
from .controllers.scheduler import parse_quantity
from .crdload import BUNDLES, load_crds
from .faults import parse_faults
from .gctune import tune_gc
from .profiles import load_profile
from .server import SimConfig, run

PROG = "kube-sim"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr, exit 2 (no usage block)."""
        self.exit(2, f"{PROG}: error: {message}\n")


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _cpu_millis(text: str) -> int:
    value = int(parse_quantity(text) * 1000)
    if value < 1:
        raise ValueError(text)
    return value


def _memory_bytes(text: str) -> int:
    value = int(parse_quantity(text))
    if value < 1:
        raise ValueError(text)
    return value


for _fn, _name in (
    (_port, "port"),
    (_count, "non-negative int"),
    (_positive, "positive int"),
    (_cpu_millis, "cpu quantity"),
    (_memory_bytes, "memory quantity"),
):
    _fn.__name__ = _name  # argparse names the type in "invalid <name> value"


def build_parser() -> argparse.ArgumentParser:
    """The CLI of the simulator."""
    p = _Parser(prog=PROG, description="Simulated Kubernetes + KubeVirt API server.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=0, help="port (0 = any free port)")
    p.add_argument("--kubeconfig", required=True, help="write a kubeconfig for clients here")
    p.add_argument("--nodes", type=_count, default=3, help="simulated nodes (default 3)")
    p.add_argument("--node-cpu", type=_cpu_millis, default=32_000, help="cpu per node (32)")
    p.add_argument("--node-memory", type=_memory_bytes, default=256 * 1024**3,
                   help="memory per node (256Gi)")  # fmt: skip
    p.add_argument("--node-pods", type=_positive, default=250, help="pods per node (250)")
    p.add_argument("--profile", default="fast", help="latency profile: fast, realistic or a file")
    p.add_argument("--seed", type=int, default=None, help="RNG seed (default: the profile's)")
    p.add_argument("--ground-truth", default=None, help="append injected transitions (JSONL)")
    p.add_argument("--faults", action="append", default=[], help="fault spec (repeatable)")
    p.add_argument(
        "--token",
        default=os.environ.get("KUBE_SIM_TOKEN"),
        help="bearer token (default: $KUBE_SIM_TOKEN, else random)",
    )
    p.add_argument(
        "--anonymous-auth",
        action="store_true",
        help="serve requests without credentials (kubectl sends none to http servers)",
    )
    p.add_argument(
        "--crd",
        action="append",
        default=[],
        metavar="FILE_OR_DIR",
        help="serve the CustomResourceDefinitions of this YAML/JSON file or directory from start"
        f" (repeatable; bundled sets: {', '.join(sorted(BUNDLES))})",
    )
    p.add_argument("--event-buffer", type=_positive, default=100_000,
                   help="watch event ring buffer size")  # fmt: skip
    p.add_argument("--event-buffer-bytes", type=_memory_bytes, default=None, metavar="Q",
                   help="also bound the ring by JSON bytes (e.g. 256Mi)")  # fmt: skip
    return p


def parse_config(argv: Sequence[str] | None = None) -> tuple[SimConfig, str]:
    """Parse the command line into a SimConfig and the kubeconfig path (exit 2 when invalid)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        faults = parse_faults(args.faults)
    except ValueError as exc:
        parser.error(f"argument --faults: {_one_line(exc)}")
    try:
        crds = load_crds(args.crd)
    except ValueError as exc:
        parser.error(f"argument --crd: {_one_line(exc)}")
    config = SimConfig(
        host=args.host,
        port=args.port,
        nodes=args.nodes,
        node_shape=NodeShape(args.node_cpu, args.node_memory, args.node_pods),
        profile=args.profile,
        seed=args.seed,
        ground_truth=args.ground_truth,
        faults=faults,
        event_buffer=args.event_buffer,
        event_buffer_bytes=args.event_buffer_bytes,
        anonymous_auth=args.anonymous_auth,
        crds=crds,
    )
    try:
        load_profile(args.profile, args.seed)
    except (ValueError, OSError, yaml.YAMLError) as exc:
        parser.error(f"argument --profile: {_one_line(exc)}")
    if args.ground_truth is not None:
        try:
            open(args.ground_truth, "ab").close()
        except OSError as exc:
            parser.error(f"argument --ground-truth: {exc.strerror}: {args.ground_truth}")
    if args.token is not None:
        if not args.token.strip():
            parser.error("argument --token: must not be empty")
        config.token = args.token
    return config, args.kubeconfig


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _event_loop_runner() -> asyncio.Runner:
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    config, kubeconfig_path = parse_config(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s %(message)s")

    def ready(url: str) -> None:
        kubeconfig.write(kubeconfig_path, url, config.token)
        sys.stdout.write(f"listening on {url}\n")
        sys.stdout.flush()

    try:
        with _event_loop_runner() as runner:
            runner.run(run(config, ready))
    except OSError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    tune_gc()
    sys.exit(main())
