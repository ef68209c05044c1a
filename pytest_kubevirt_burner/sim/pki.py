"""The simulated cluster's certificate authority (generated once per process with openssl)."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CA_SUBJECT = "/CN=kubernetes"  # kubeadm's and kind's CA common name
CA_DAYS = 3650


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA certificate and its private key, both PEM."""

    cert_pem: str
    key_pem: str


@functools.lru_cache(maxsize=1)
def cluster_ca() -> CertificateAuthority | None:
    """This process's cluster CA (ECDSA P-256, self-signed), or None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kube-sim-ca-") as tmp:
        cert, key = Path(tmp, "ca.crt"), Path(tmp, "ca.key")
        cmd = [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", CA_SUBJECT,
            "-days", str(CA_DAYS), "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ]  # fmt: skip
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return None
        return CertificateAuthority(cert.read_text(), key.read_text())


def ca_bundle() -> str:
    """The PEM served as ``ca.crt`` of the ``kube-root-ca.crt`` ConfigMaps ("" without openssl)."""
    ca = cluster_ca()
    return ca.cert_pem if ca is not None else ""
