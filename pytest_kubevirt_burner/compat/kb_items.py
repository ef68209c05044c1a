"""``--kube-burner-config FILE``: a kube-burner config collected as pytest items, one per job.

The config is loaded and validated when pytest configures (so every problem stops the session
before a cluster is touched), collected as a ``KubeBurnerFile`` whose items run the jobs in order
through the same runner as the markers. Without explicit test paths only the config is collected.
Endpoints naming Prometheus metrics or alert profiles are connected before any job runs and
evaluated after every job (kb_metrics.py). After the session, global ``gc`` deletes what the
config's create jobs made, and documents are indexed into the Elasticsearch/OpenSearch endpoints
the config names (local files stay complete either way; a failure is reported in one line).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from ..cluster import ClusterClient
from ..hooks import document_preparer
from ..jobrun import job_context, progress_sink, run_in_session
from ..jobs.context import JobContext
from ..jobs.preflight import build_plan
from ..jobs.runner import cleanup_run
from ..jobs.watches import resilient_watches
from ..report.model import RESULTS_KEY
from ..results import JobResult
from ..session import SESSION_KEY, BurnerSession
from .kb_metrics import KbEndpoints, PrometheusEndpointError
from .kube_burner import KbJob, KubeBurnerConfig, KubeBurnerConfigError, load, read_user_data
from .preload import preload_images


class KubeBurnerJobFailed(Exception):
    """A job of the config failed; the message is what the report shows."""


def _with_port(url: str) -> str:
    """kube-burner's ES URLs may omit the port (the scheme's default); the client needs it."""
    parts = urlsplit(url)
    if parts.port is not None or not parts.hostname:
        return url
    port = 443 if parts.scheme == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


class KubeBurnerItem(pytest.Item):
    """One job of the config."""

    def __init__(self, *, job: KbJob, plugin: KubeBurnerPlugin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.plugin = plugin
        self.result: JobResult | None = None

    def runtest(self) -> None:
        """Run the job through the burner runner; its results join the reports like a test's."""
        session: BurnerSession = self.config.stash[SESSION_KEY]
        mine: list[JobResult] = []
        self.stash[RESULTS_KEY] = mine  # the results table and summary.json read them
        before = len(session.results)
        try:
            self.result = self.plugin.run(self.job)
        finally:
            mine.extend(session.results[before:])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """The job's one-line reason (plus SLO breaches), not a traceback."""
        if isinstance(excinfo.value, KubeBurnerJobFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the job comes from."""
        spec = self.job.spec
        return self.path, None, f"kube-burner {spec.job_type} job {spec.name}"


class KubeBurnerFile(pytest.File):
    """The config file: its jobs, in order."""

    def __init__(self, *, plugin: KubeBurnerPlugin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin

    def collect(self) -> Iterator[KubeBurnerItem]:
        """One item per job."""
        for job in self.plugin.cfg.jobs:
            yield KubeBurnerItem.from_parent(self, name=job.spec.name, job=job, plugin=self.plugin)


class KubeBurnerPlugin:
    """Registered when --kube-burner-config is given."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.path = Path(str(config.getoption("kube_burner_config"))).resolve()
        session: BurnerSession = config.stash[SESSION_KEY]
        try:
            user_data_file = config.getoption("kube_burner_user_data")
            user_data = read_user_data(user_data_file) if user_data_file else {}
            self.cfg: KubeBurnerConfig = load(
                self.path,
                uuid=session.run.uuid,
                user_data=user_data,
                overrides=config.getoption("kube_burner_set") or [],
                allow_missing=bool(config.getoption("kube_burner_allow_missing", False)),
                fill_undefined=bool(config.getoption("kube_burner_fill_undefined", False)),
            )
        except KubeBurnerConfigError as exc:
            raise pytest.UsageError(f"--kube-burner-config: {exc}") from None
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            config.args[:] = [str(self.path)]
        elif str(self.path) not in {str(Path(a).resolve()) for a in config.args}:
            config.args.append(str(self.path))
        self.created: list[tuple[JobContext, list[tuple[str, str]]]] = []
        self.lines: list[str] = []
        self._health_checked = False
        ca = config.getoption("prometheus_ca_cert", None) or config.getini("prometheus_ca_cert")
        self.endpoints = KbEndpoints(self.cfg.prometheus, ca_file=ca or None)

    # -- collection -------------------------------------------------------------------------------
    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        """Collect the config file itself."""
        if file_path.resolve() != self.path:
            return None
        try:
            nodeid = str(self.path.relative_to(self.config.rootpath))
        except ValueError:  # outside the rootdir: name it by its absolute path
            nodeid = str(self.path)
        return KubeBurnerFile.from_parent(parent, path=file_path, plugin=self, nodeid=nodeid)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Render and resolve every create job of the config before any of them runs."""
        ours = [i for i in items if isinstance(i, KubeBurnerItem)]
        if not ours:
            return
        session = self._session()
        problems: list[str] = []
        for item in ours:
            if item.job.spec.job_type != "create":
                continue
            ctx = self._context(item.job, session, metrics=False)
            problems.extend(f"{item.nodeid}: {p}" for p in build_plan(ctx).problems)
        if problems:
            raise pytest.UsageError("\n".join(dict.fromkeys(problems)))
        try:
            self.endpoints.start(self.metrics_directory(session), session.run.uuid)
        except PrometheusEndpointError as exc:
            raise pytest.UsageError(f"--kube-burner-config: {self.path}: {exc}") from None

    # -- running ----------------------------------------------------------------------------------
    def _session(self) -> BurnerSession:
        session: BurnerSession = self.config.stash[SESSION_KEY]
        return session

    def metrics_directory(self, session: BurnerSession) -> Path:
        """--metrics-directory when given, else the config's local indexer directory."""
        given = self.config.getoption("metrics_directory") or self.config.getini(
            "metrics_directory"
        )
        if given or self.cfg.metrics_directory is None:
            return session.metrics_directory()
        self.cfg.metrics_directory.mkdir(parents=True, exist_ok=True)
        return self.cfg.metrics_directory

    def _context(self, job: KbJob, session: BurnerSession, metrics: bool = True) -> JobContext:
        indexed = metrics and not job.skip_indexing
        return job_context(
            session,
            job.spec,
            self.path.parent,
            metrics_dir=self.metrics_directory(session) if indexed else None,
            slos=job.slos,
            measurements=job.measurements,
            renderer=self.cfg.renderer(job),
            progress=progress_sink(session, job.spec.name, None),
        )

    def _health(self, client: ClusterClient) -> None:
        if not self.cfg.cluster_health or self._health_checked:
            return
        self._health_checked = True
        client.raw("GET", "/healthz")
        for node in client.list("v1", "Node"):
            conds = (node.get("status") or {}).get("conditions") or []
            if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                name = node["metadata"]["name"]
                raise KubeBurnerJobFailed(f"clusterHealth: node {name} is not Ready")

    def run(self, job: KbJob) -> JobResult:
        """Run one job of the config; raises KubeBurnerJobFailed when it fails."""
        if self.endpoints.stop_reason:
            pytest.skip(f"kube-burner jobs stopped: {self.endpoints.stop_reason}")
        session = self._session()
        ctx = self._context(job, session)
        dry_run = session.run.dry_run
        self._health(ctx.client)
        factory = resilient_watches(ctx.client)
        if job.preload and not dry_run:
            try:
                self.lines.append(
                    preload_images(ctx, factory, job.preload_period, job.preload_node_labels)
                )
            except RuntimeError as exc:
                raise KubeBurnerJobFailed(str(exc)) from None
        created: list[JobResult] = []

        def started(_ctx: JobContext, result: JobResult) -> None:
            if job.spec.job_type == "create" and not dry_run:
                created.append(result)

        after_cleanup: list[str] = []
        try:
            run = run_in_session(session, ctx, started=started, watch_factory=factory)
        finally:
            for result in created:  # gc: right after the job, else at the end of the session
                kinds = [(av, k) for k, av in result.kinds.items()]
                if job.gc:
                    cleanup_run(ctx, kinds)
                    ctx.hooks.fire("afterCleanup")
                    after_cleanup = ctx.hooks.finish()
                else:
                    self.created.append((ctx, kinds))
        result = run.result
        failure = list(run.failure) + after_cleanup
        if not failure and result.errors:
            failure = [f"{job.spec.name}: {len(result.errors)} errors; first: {result.errors[0]}"]
        if not job.skip_indexing:  # metrics and alerts of the job's window
            failure += self.endpoints.job_finished(result, session.metadata())
        if failure:
            raise KubeBurnerJobFailed("\n".join(failure))
        return result

    # -- after the session ------------------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Global gc, then indexing into the config's Elasticsearch/OpenSearch endpoints."""
        if self.cfg.gc:
            for ctx, kinds in reversed(self.created):
                with contextlib.suppress(Exception):
                    left = cleanup_run(ctx, kinds)
                    if left:
                        self.lines.append(f"gc: {ctx.spec.name}: {left} objects remain")
            self.created.clear()
        self.endpoints.close()
        if self.cfg.tarball is not None:
            self._tarball(self.cfg.tarball)
        if self.cfg.elastic:
            failed = self._index()
            allowed = self.config.getoption("es_allow_failures", False)
            if failed and not allowed and session.exitstatus == pytest.ExitCode.OK:
                self.lines.append("session failed: documents not indexed (--es-allow-failures)")
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _tarball(self, tarball: Path) -> None:
        """kube-burner's ``createTarball``: the metrics directory as a gzip tarball."""
        from ..indexers.tarball import TarballError, create_tarball

        directory = self.metrics_directory(self._session())
        try:
            count = create_tarball(directory, tarball)
        except TarballError as exc:
            self.lines.append(f"createTarball: {exc}")
            return
        self.lines.append(f"createTarball: {count} files of {directory} written to {tarball}")

    def _index(self) -> int:
        """Index into every configured server; how many documents were not indexed."""
        session = self._session()
        failed = 0
        directory = self.metrics_directory(session)
        names = {job.spec.name for job in self.cfg.jobs}
        files = sorted(
            {
                p
                for p in directory.glob("*.json")
                if p.name == "jobSummary.json" or any(p.name.endswith(f"-{n}.json") for n in names)
            }
            | set(self.endpoints.files())
        )
        from ..indexers.base import split_credentials
        from ..indexers.select import AutoIndexer, count_documents

        for ep in self.cfg.elastic:
            shown = ", ".join(split_credentials(s)[0] for s in ep.servers)  # never a password
            where = f"{ep.kind} {shown} (index {ep.index})"

            try:
                indexer = AutoIndexer(
                    [_with_port(s) for s in ep.servers],
                    ep.index,
                    kind=ep.kind,
                    verify=ep.verify,
                    request_timeout=5.0,
                    max_retries=0,
                )
            except ValueError as exc:
                self.lines.append(f"{where}: not indexed: {exc}")
                failed += count_documents(files)
                continue
            try:
                total, warnings = indexer.index_files(files, document_preparer(self.config))
            finally:
                indexer.close()
            info = indexer.info
            if info is not None and (ep.kind == "opensearch") != (info.family == "OpenSearch"):
                self.lines.append(f"{where}: the server is {info}: indexed with its own client")
            self.lines.append(f"{where}: {total.summary()}")
            failed += total.failed
            self.lines.extend(f"{where}: {w}" for w in warnings)
        return failed

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """One line per preload, gc, metrics/alerts warning and indexing outcome."""
        lines = [*self.endpoints.lines, *self.lines]
        if lines:
            terminalreporter.section("kube-burner config")
            for line in dict.fromkeys(lines):
                terminalreporter.write_line(line)
