"""``python -m pytest_kubevirt_burner cleanup --uuid UUID``: delete one run's leftovers.

Only objects carrying the label ``kube-burner.io/uuid=UUID`` are deleted: namespaces with that
label whole, then objects of every listable and deletable kind with that label elsewhere. The
deletes are rate-limited; the command waits until everything is gone (or ``--timeout``).
"""

from __future__ import annotations

import argparse
import re
import sys

from .cluster import ClusterClient, ClusterError, resolve_target
from .cluster.ratelimit import TokenBucket
from .jobs.cleanup import delete_labelled, this_run_selector
from .labels import UUID

# a label value: at most 63 characters, alphanumerics at both ends, "-", "_" and "." inside
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
# kinds never labelled by a run (and expensive or pointless to list)
_SKIP = {"Event", "Binding", "ComponentStatus", "TokenReview", "SubjectAccessReview"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The cleanup subcommand's arguments."""
    parser.add_argument("--uuid", required=True, help="the run's uuid (label kube-burner.io/uuid)")
    parser.add_argument("--kube-config", metavar="PATH", help="kubeconfig of the cluster")
    parser.add_argument("--kube-context", metavar="NAME", help="kubeconfig context to use")
    parser.add_argument("--qps", type=float, default=20.0, help="deletes per second (default 20)")
    parser.add_argument("--burst", type=int, default=20, help="delete burst (default 20)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait until all is gone"
    )


def _kinds(client: object) -> list[tuple[str, str]]:
    """(apiVersion, kind) of every served kind that can be listed and deleted, one version each."""
    seen: dict[tuple[str, str], str] = {}
    for resources in client.discover().values():  # type: ignore[attr-defined]
        for info in resources.values():
            if info.kind in _SKIP or not {"list", "delete"} <= set(info.verbs):
                continue
            seen.setdefault((info.group, info.kind), info.api_version)
    return sorted((api_version, kind) for (_, kind), api_version in seen.items())


def run(args: argparse.Namespace) -> int:
    """Delete everything labelled with ``--uuid``; 0 when all is gone, 1 otherwise."""
    uuid = str(args.uuid)
    if not _LABEL_VALUE.match(uuid):
        print(
            f"error: --uuid: not a valid label value: {uuid!r} (letters, digits, '-', '_', '.'; "
            "at most 63)",
            file=sys.stderr,
        )
        return 2
    if args.qps <= 0 or args.burst < 1:
        print("error: --qps must be > 0 and --burst at least 1", file=sys.stderr)
        return 2
    selector = this_run_selector(uuid)
    try:
        with ClusterClient(resolve_target(args.kube_config, args.kube_context)) as client:
            report = delete_labelled(
                client,
                selector,
                _kinds(client),
                TokenBucket(args.qps, args.burst),
                args.timeout,
            )
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted; run the command again to finish ({UUID}={uuid})", file=sys.stderr)
        return 130
    if report.remaining:
        print(
            f"{report.deleted} delete requests sent; {report.remaining} objects labelled "
            f"{selector} still present after {args.timeout:g}s",
            file=sys.stderr,
        )
        return 1
    print(f"{report.deleted} delete requests sent; nothing labelled {selector} is left")
    return 0
