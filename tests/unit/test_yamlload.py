"""The fast YAML loader returns exactly what PyYAML's safe loader returns."""

from __future__ import annotations

import pytest
import yaml

from pytest_kubevirt_burner.templates.yamlload import LOADER, load_all

DOCUMENTS = [
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-1\n  labels: {app: web}\n",
    "a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: '1'\ng: \"yes\"\nh: yes\ni: 0x1f\nj: 1e3\n",
    "when: 2024-01-02T03:04:05Z\nday: 2024-01-02\nblob: !!binary aGVsbG8=\n",
    "list:\n- 1\n- [2, 3]\n- {k: v}\n- - nested\n",
    "---\na: 1\n---\n---\nb: 2\n...\n",
    "",
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",
    "tagged: !!str 123\nset: !!set {a, b}\n",
    "? [complex, key]\n: value\n",
    "1: int key\n2.5: float key\ntrue: bool key\nnull: null key\n",
    "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    "dup: 1\ndup: 2\n",
    "password: 'p@ss!word&'\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_same_as_pyyaml(text: str) -> None:
    try:
        expected = list(yaml.load_all(text, Loader=LOADER))
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            load_all(text)
        return
    assert load_all(text) == expected


@pytest.mark.parametrize(
    "text", ["a: [1\n", "a: b: c\n", "- a\nb: c\n", "a: !!python/name:os.system x\n"]
)
def test_invalid_yaml_raises_the_same_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError):
        list(yaml.load_all(text, Loader=LOADER))
    with pytest.raises(yaml.YAMLError):
        load_all(text)
