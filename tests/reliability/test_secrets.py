"""Known secrets (cluster token, Prometheus token, Elasticsearch password) never appear in any
output of a run, TLS verification stays on, and YAML is only ever loaded safely."""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import pytest_kubevirt_burner
from pytest_kubevirt_burner.sim.process import SimProcess
from tests.esdouble import EsDouble

from .harness import POD, run_pytest, write_suite

K8S_TOKEN = "k8s-SECRET-token-4f9a2c81"
PROM_TOKEN = "prom-SECRET-token-7d1e0b55"
ES_PASSWORD = "es-SECRET-pw-93b7e6"
SECRETS = [
    K8S_TOKEN,
    PROM_TOKEN,
    ES_PASSWORD,
    base64.b64encode(f"elastic:{ES_PASSWORD}".encode()).decode(),
]

SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=5, qps=50, burst=5, name="ok")
def test_ok(burner):
    assert burner.run().verified

@pytest.mark.density(template="templates/pod.yml", replicas=3, qps=50, burst=5, name="slo")
@pytest.mark.slo("podLatency.Ready", p50="1ms")
def test_slo_breach(burner):
    burner.run()

def test_error_with_client_in_locals(kube_client):
    client = kube_client
    config = client.configuration
    raise RuntimeError("boom")
"""


class _Prometheus(BaseHTTPRequestHandler):
    """Answers queries with empty results, only with the right bearer token."""

    seen: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        _Prometheus.seen.append(auth)
        if auth != f"Bearer {PROM_TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        kind = "matrix" if self.path.endswith("query_range") else "vector"
        body = json.dumps({"status": "success", "data": {"resultType": kind, "result": []}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())


@pytest.fixture
def prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Prometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _scan(paths: list[Path], text: str) -> list[str]:
    leaks = [f"output: {s}" for s in SECRETS if s in text]
    for root in paths:
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                leaks += [f"{path}: {s}" for s in SECRETS if s.encode() in data]
    return leaks


def test_no_secret_in_any_output(tmp_path: Path, prometheus: str) -> None:
    suite = write_suite(tmp_path / "suite", SUITE, {"pod.yml": POD})
    (suite / "mp.yml").write_text("- query: up\n  metricName: up\n")
    metrics = tmp_path / "metrics"
    reports = tmp_path / "reports"
    reports.mkdir()
    with SimProcess(nodes=2, token=K8S_TOKEN, workdir=tmp_path / "sim") as sim, EsDouble() as es:
        es_url = es.url.replace("http://", f"http://elastic:{ES_PASSWORD}@")
        res = run_pytest(
            suite,
            "--kube-config",
            str(sim.kubeconfig),
            "--metrics-directory",
            str(metrics),
            "--prometheus-url",
            prometheus,
            "--prometheus-token",
            PROM_TOKEN,
            "--metrics-profile",
            "mp.yml",
            "--es-server",
            es_url,
            "--es-index",
            "secrets",
            "--html",
            str(reports / "report.html"),
            "--junitxml",
            str(reports / "junit.xml"),
            "--log-file",
            str(reports / "log.txt"),
            "--log-file-level",
            "DEBUG",
            "-o",
            "log_cli=true",
            "--log-cli-level",
            "DEBUG",
            "--showlocals",
            "-vv",
            "-rA",
        )
        es_auth = {
            r.headers.get("Authorization", r.headers.get("authorization", ""))
            for r in es.state.requests
        }
    out = res.stdout
    assert res.returncode == 1, out
    assert "1 passed" in out and "2 failed" in out, out
    # the secrets were really used
    assert f"Bearer {PROM_TOKEN}" in _Prometheus.seen
    assert f"Basic {SECRETS[3]}" in es_auth
    assert (metrics / "jobSummary.json").exists() and (reports / "report.html").exists()
    leaks = _scan([metrics, reports, suite], out)
    assert not leaks, leaks


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An https server with a self-signed certificate for 127.0.0.1; yields (url, cert)."""
    base = tmp_path_factory.mktemp("tls")
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
         "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"kind":"Status","reason":"Forbidden","message":"no"}')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{url}"{extra}}}}}]
users: [{{name: u, user: {{token: {token}}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""
SIMPLE = "import pytest\n\ndef test_x(kube_client):\n    pass\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("", r"TLS error: .*certificate verify failed"),
        (", certificate-authority: {cert}", r"-> https://127\.0\.0\.1:\d+: forbidden: no"),
        (", insecure-skip-tls-verify: true", r"-> https://127\.0\.0\.1:\d+: forbidden: no"),
    ],
    ids=["no-ca-fails-verification", "with-ca", "verification-off-by-name"],
)
def test_tls_is_verified_unless_turned_off_by_name(
    extra: str, expected: str, tls_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, cert = tls_server
    kubeconfig = tmp_path / "kc.yaml"
    kubeconfig.write_text(
        KUBECONFIG.format(url=url, extra=extra.format(cert=cert), token=K8S_TOKEN)
    )
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_x.py").write_text(SIMPLE)
    res = run_pytest(suite, "--kube-config", str(kubeconfig), timeout=120)
    assert res.returncode == pytest.ExitCode.USAGE_ERROR, res.stdout
    errors = [line for line in res.stdout.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and re.search(expected, errors[0]), res.stdout
    assert K8S_TOKEN not in res.stdout and "Traceback" not in res.stdout


# --- safe YAML --------------------------------------------------------------------------------

UNSAFE = re.compile(
    r"yaml\.(unsafe_load|full_load|Loader|FullLoader|UnsafeLoader|BaseLoader)\b"
    r"|\bLoader=yaml\.C?Loader\b"
)
LOAD = re.compile(r"yaml\.load(_all)?\(")
SAFE_ARG = re.compile(r"Loader=(yaml\.C?SafeLoader|[A-Z_]+)\b")


def _safe_names(text: str) -> set[str]:
    """Module constants bound to a safe loader, e.g. ``_SAFE = getattr(yaml, "CSafeLoader",
    yaml.SafeLoader)``."""
    names = set()
    for m in re.finditer(r"^([A-Z_]+)(?::[^=]*)? = (.+)$", text, re.M):
        value = m.group(2)
        if "SafeLoader" in value and not re.search(r"Full|Unsafe|yaml\.C?Loader\b", value):
            names.add(m.group(1))
    return names


def _unsafe_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    safe = _safe_names(text)
    bad = []
    for n, line in enumerate(text.splitlines(), 1):
        if UNSAFE.search(line):
            bad.append(f"{n}: {line.strip()}")
        elif LOAD.search(line):
            arg = SAFE_ARG.search(line)
            if arg is None or not (arg.group(1).startswith("yaml.") or arg.group(1) in safe):
                bad.append(f"{n}: {line.strip()}")
    return bad


def test_yaml_is_only_loaded_safely(tmp_path: Path) -> None:
    package = Path(pytest_kubevirt_burner.__file__).parent
    found = [
        f"{path.relative_to(package)}:{line}"
        for path in sorted(package.rglob("*.py"))
        for line in _unsafe_lines(path)
    ]
    assert not found, found
    # the check itself catches what it must
    probe = tmp_path / "probe.py"
    for bad in ("yaml.load(text)", "yaml.unsafe_load(x)", "yaml.load(t, Loader=yaml.Loader)",
                "yaml.load(t, Loader=L)\nL = yaml.FullLoader", "yaml.full_load(t)"):  # fmt: skip
        probe.write_text(bad.replace("\\n", "\n"))
        assert _unsafe_lines(probe), bad
    probe.write_text("S = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)\nyaml.load(t, Loader=S)\n")
    assert not _unsafe_lines(probe)


# --- template sandbox -------------------------------------------------------------------------

ESCAPES = [
    ("jinja2", "{{ lipsum.__globals__ }}"),
    ("jinja2", "{{ cycler.__init__.__globals__.os }}"),
    ("jinja2", "{{ self._TemplateReference__context }}"),
    ("jinja2", "{{ ().__class__.__base__.__subclasses__() }}"),
    ("jinja2", "{% include '/etc/passwd' %}"),
    ("jinja2", "{% import '../../../etc/passwd' as x %}"),
    ("jinja2", "{{ config }}{{ request }}{{ os }}"),
    ("go", '{{ readFile "../../../../etc/passwd" }}'),
    ("go", "{{ .Replica.__class__ }}"),
]


@pytest.mark.parametrize(("dialect", "text"), ESCAPES)
def test_templates_cannot_reach_python_or_files(dialect: str, text: str, tmp_path: Path) -> None:
    from pytest_kubevirt_burner.templates import TemplateRenderer
    from pytest_kubevirt_burner.templates.errors import TemplateError

    renderer = TemplateRenderer(tmp_path)
    try:
        out = renderer.render_string(text, {"Replica": 1}, source="t.yml", dialect=dialect)
    except TemplateError as exc:
        assert "\n" not in str(exc)
        return
    # rendering without error is fine only when nothing leaked
    assert "root:" not in out and "<function" not in out and "<module" not in out, out
    assert "<class" not in out and "/root" not in out, out
