"""CustomResourceDefinitions served from start: YAML/JSON files, directories, bundled sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .controllers.crd import types_of

BUNDLE_DIR = Path(__file__).with_name("crds")
BUNDLES = {"openshift": BUNDLE_DIR / "openshift.yaml"}
_SUFFIXES = (".yaml", ".yml", ".json")


def _files(spec: str) -> list[Path]:
    path = Path(spec)
    if not path.exists() and spec in BUNDLES:
        return [BUNDLES[spec]]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _SUFFIXES)
        if not files:
            raise ValueError(f"{spec}: no .yaml, .yml or .json file in this directory")
        return files
    if path.is_file():
        return [path]
    known = ", ".join(sorted(BUNDLES))
    raise ValueError(f"{spec}: no such file or directory (bundled sets: {known})")


def _check(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: not a mapping")
    kind, api = doc.get("kind"), doc.get("apiVersion")
    if kind != "CustomResourceDefinition" or api != "apiextensions.k8s.io/v1":
        raise ValueError(
            f"{where}: not an apiextensions.k8s.io/v1 CustomResourceDefinition"
            f" (apiVersion {api!r}, kind {kind!r})"
        )
    spec = doc.get("spec") or {}
    names = spec.get("names") or {}
    if not types_of(doc):
        raise ValueError(
            f"{where}: spec.group, spec.names.plural, spec.names.kind and a served version"
            " are required"
        )
    name = (doc.get("metadata") or {}).get("name")
    want = f"{names['plural']}.{spec['group']}"
    if name != want:
        # apiextensions validation: metadata.name must be spec.names.plural+"."+spec.group
        raise ValueError(f"{where}: metadata.name must be {want!r}, got {name!r}")
    return doc


def load_crds(specs: list[str]) -> list[dict[str, Any]]:
    """The CRDs of each file, directory or bundle name in ``specs`` (ValueError naming the file)."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        for path in _files(spec):
            try:
                docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise ValueError(f"{path}: {' '.join(str(exc).split())}") from None
            for i, doc in enumerate(docs, 1):
                if doc is None:
                    continue
                items = (
                    doc.get("items")
                    if isinstance(doc, dict) and doc.get("kind") == "List"
                    else None
                )
                for j, item in enumerate(items if items is not None else [doc], 1):
                    where = f"{path}: document {i}" + (f" item {j}" if items is not None else "")
                    out.append(_check(item, where))
    return out
