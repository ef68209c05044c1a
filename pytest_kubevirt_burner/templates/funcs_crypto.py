"""sprig's cryptographic functions: hashes, derived passwords, bcrypt, keys, certificates, AES."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import secrets
import struct
from collections.abc import Callable
from typing import Any

from .errors import RenderFailure
from .funcs_data import to_int
from .funcs_text import strval

__all__ = ["CRYPTO_FUNCTIONS"]

_SEED = b"com.lyndir.masterpassword"
_TEMPLATES = {
    "maximum": ["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
    "long": [
        "CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv",
        "CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc",
        "CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno",
        "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc",
        "CvccCvcvCvccno",
    ],
    "medium": ["CvcnoCvc", "CvcCvcno"],
    "short": ["Cvcn"],
    "basic": ["aaanaaan", "aannaaan", "aaannaaa"],
    "pin": ["nnnn"],
}  # fmt: skip
_CHARS = {
    "V": "AEIOU",
    "C": "BCDFGHJKLMNPQRSTVWXYZ",
    "v": "aeiou",
    "c": "bcdfghjklmnpqrstvwxyz",
    "A": "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
    "a": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
    "n": "0123456789",
    "o": "@&%?,=[]_:-+*$#!'^~;()/.",
    "x": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
}


def _derive_password(counter: Any, kind: Any, password: Any, user: Any, site: Any) -> str:
    templates = _TEMPLATES.get(strval(kind))
    if templates is None:
        return f"cannot find password template {strval(kind)}"
    name, place = strval(user).encode(), strval(site).encode()
    salt = _SEED + struct.pack(">I", len(name)) + name
    key = hashlib.scrypt(
        strval(password).encode(), salt=salt, n=32768, r=8, p=2, dklen=64, maxmem=64 << 20
    )
    msg = _SEED + struct.pack(">I", len(place)) + place + struct.pack(">I", to_int(counter))
    seed = hmac.new(key, msg, hashlib.sha256).digest()
    template = templates[seed[0] % len(templates)]
    return "".join(_CHARS[c][seed[i + 1] % len(_CHARS[c])] for i, c in enumerate(template))


def _bcrypt(text: Any) -> str:
    import bcrypt

    return str(bcrypt.hashpw(strval(text).encode(), bcrypt.gensalt(10)).decode())


def _htpasswd(user: Any, password: Any) -> str:
    if ":" in strval(user):
        return f"invalid username: {strval(user)}"
    return f"{strval(user)}:{_bcrypt(password)}"


def _aes_key(password: Any) -> bytes:
    return strval(password).encode()[:32].ljust(32, b"\0")


def _encrypt_aes(password: Any, plaintext: Any) -> str:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data = strval(plaintext).encode()
    if not data:
        return ""
    pad = 16 - len(data) % 16
    data += bytes([pad]) * pad
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(_aes_key(password)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(data) + enc.finalize()).decode()


def _decrypt_aes(password: Any, crypt64: Any) -> str:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if not strval(crypt64):
        return ""
    try:
        raw = base64.b64decode(strval(crypt64), validate=True)
    except ValueError as exc:
        raise RenderFailure(f"decryptAES: {exc}") from None
    if len(raw) < 32 or len(raw) % 16:
        raise RenderFailure("decryptAES: ciphertext is not a whole number of blocks")
    dec = Cipher(algorithms.AES(_aes_key(password)), modes.CBC(raw[:16])).decryptor()
    plain = dec.update(raw[16:]) + dec.finalize()
    return plain[: len(plain) - plain[-1]].decode("utf-8", "replace")


# -- keys and certificates ---------------------------------------------------------------------
def _key_pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

    fmt = ser.PrivateFormat.TraditionalOpenSSL
    if isinstance(key, ed25519.Ed25519PrivateKey):
        fmt = ser.PrivateFormat.PKCS8
    elif not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | dsa.DSAPrivateKey):
        raise RenderFailure("unsupported private key type")
    return str(key.private_bytes(ser.Encoding.PEM, fmt, ser.NoEncryption()).decode())


def _gen_private_key(kind: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

    name = strval(kind)
    makers: dict[str, Callable[[], Any]] = {
        "": lambda: rsa.generate_private_key(65537, 4096),
        "rsa": lambda: rsa.generate_private_key(65537, 4096),
        "dsa": lambda: dsa.generate_private_key(2048),
        "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
    }
    if name not in makers:
        return "Unknown type " + name
    return _key_pem(makers[name]())


def _load_key(pem: Any) -> Any:
    from cryptography.hazmat.primitives import serialization as ser

    try:
        return ser.load_pem_private_key(strval(pem).encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise RenderFailure(f"parsing private key: {exc}") from None


def _certificate(cert: Any, key: Any) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization as ser

    return {"Cert": cert.public_bytes(ser.Encoding.PEM).decode(), "Key": _key_pem(key)}


def _build(
    cn: Any, ips: Any, dns: Any, days: Any, key: Any, *, ca: bool, signer: Any = None
) -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    addresses: list[Any] = []
    for ip in ips or []:
        if not isinstance(ip, str):
            raise RenderFailure(f"error parsing ip: {ip!r} is not a string")
        try:
            addresses.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError:
            raise RenderFailure(f"error parsing ip: {ip}") from None
    names: list[Any] = []
    for name in dns or []:
        if not isinstance(name, str):
            raise RenderFailure(f"error processing alternate dns name: {name!r} is not a string")
        names.append(x509.DNSName(name))
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, strval(cn))])
    issuer, sign_key = subject, key
    if signer is not None:
        issuer_cert = x509.load_pem_x509_certificate(strval(signer["Cert"]).encode())
        issuer, sign_key = issuer_cert.subject, _load_key(signer["Key"])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(128))
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=to_int(days)))
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, ca, False, False, False), critical=True
        )
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if addresses or names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names + addresses), False)
    return _certificate(builder.sign(sign_key, hashes.SHA256()), key)


def _rsa2048() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(65537, 2048)


def _build_custom_cert(b64cert: Any, b64key: Any) -> dict[str, str]:
    from cryptography import x509

    try:
        cert = base64.b64decode(strval(b64cert)).decode()
    except ValueError:
        raise RenderFailure("unable to decode base64 certificate") from None
    try:
        key = base64.b64decode(strval(b64key)).decode()
    except ValueError:
        raise RenderFailure("unable to decode base64 private key") from None
    try:
        x509.load_pem_x509_certificate(cert.encode())
    except ValueError as exc:
        raise RenderFailure(f"error parsing certificate: {exc}") from None
    _load_key(key)
    return {"Cert": cert, "Key": key}


CRYPTO_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sha512sum": lambda s: hashlib.sha512(strval(s).encode()).hexdigest(),
    "randBytes": lambda n: base64.b64encode(os.urandom(to_int(n))).decode(),
    "derivePassword": _derive_password,
    "bcrypt": _bcrypt,
    "htpasswd": _htpasswd,
    "encryptAES": _encrypt_aes,
    "decryptAES": _decrypt_aes,
    "genPrivateKey": _gen_private_key,
    "buildCustomCert": _build_custom_cert,
    "genCA": lambda cn, days: _build(cn, None, None, days, _rsa2048(), ca=True),
    "genCAWithKey": lambda cn, days, k: _build(cn, None, None, days, _load_key(k), ca=True),
    "genSelfSignedCert": lambda cn, ips, dns, days: _build(
        cn, ips, dns, days, _rsa2048(), ca=False
    ),
    "genSelfSignedCertWithKey": lambda cn, ips, dns, days, k: _build(
        cn, ips, dns, days, _load_key(k), ca=False
    ),
    "genSignedCert": lambda cn, ips, dns, days, ca: _build(
        cn, ips, dns, days, _rsa2048(), ca=False, signer=ca
    ),
    "genSignedCertWithKey": lambda cn, ips, dns, days, ca, k: _build(
        cn, ips, dns, days, _load_key(k), ca=False, signer=ca
    ),
}
