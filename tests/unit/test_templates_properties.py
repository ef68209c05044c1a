"""Property tests: Go-template translation agrees with a direct Python evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_kubevirt_burner.durations import format_duration, parse_duration
from pytest_kubevirt_burner.templates import TemplateRenderer
from pytest_kubevirt_burner.templates.gofmt import go_str

RENDERER = TemplateRenderer(Path("."))

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True)
scalars = st.one_of(
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)


@given(name=names, value=st.one_of(st.integers(), st.text(max_size=30)))
def test_field_renders_as_str(name: str, value: int | str) -> None:
    assert RENDERER.render_string("{{." + name + "}}", {name: value}, dialect="go") == str(value)


@given(name=names, value=scalars)
def test_field_renders_as_go_value(name: str, value: Any) -> None:
    out = RENDERER.render_string("<{{ ." + name + " }}>", {name: value}, dialect="go")
    assert out == f"<{go_str(value)}>"


@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_text_without_actions_is_verbatim(text: str) -> None:
    if "{{" in text:
        return
    assert RENDERER.render_string(text, {}, dialect="go") == text


# A small grammar of templates: text, variable output, if/else and range over a list.
@dataclass(frozen=True)
class Node:
    kind: str
    value: str = ""
    children: tuple[Node, ...] = ()
    other: tuple[Node, ...] = ()


VARS = {"a": 1, "b": 0, "s": "x", "e": "", "L": [1, 2, 3], "N": []}
words = st.text(alphabet="abc \n:-", min_size=1, max_size=5)


def nodes(depth: int) -> st.SearchStrategy[Node]:
    leaf = st.one_of(
        st.builds(lambda w: Node("text", w), words),
        st.builds(lambda v: Node("var", v), st.sampled_from(["a", "b", "s", "e"])),
        st.just(Node("dot")),
    )
    if depth == 0:
        return leaf
    body = st.lists(nodes(depth - 1), max_size=3).map(tuple)
    return st.one_of(
        leaf,
        st.builds(
            lambda v, c, o: Node("if", v, c, o),
            st.sampled_from(["a", "b", "s", "e", "L", "N"]),
            body,
            body,
        ),
        st.builds(lambda v, c, o: Node("range", v, c, o), st.sampled_from(["L", "N"]), body, body),
    )


def to_go(seq: tuple[Node, ...]) -> str:
    out = []
    for n in seq:
        if n.kind == "text":
            out.append(n.value)
        elif n.kind == "var":
            out.append("{{ $." + n.value + " }}")
        elif n.kind == "dot":
            out.append("{{ . }}")
        else:
            out.append(
                f"{{{{ {n.kind} $.{n.value} }}}}{to_go(n.children)}"
                f"{{{{ else }}}}{to_go(n.other)}{{{{ end }}}}"
            )
    return "".join(out)


def evaluate(seq: tuple[Node, ...], dot: Any) -> str:
    out = []
    for n in seq:
        if n.kind == "text":
            out.append(n.value)
        elif n.kind == "var":
            out.append(go_str(VARS[n.value]))
        elif n.kind == "dot":
            out.append(go_str(dot))
        elif n.kind == "if":
            out.append(evaluate(n.children if VARS[n.value] else n.other, dot))
        else:
            items = VARS[n.value]
            out.append(
                "".join(evaluate(n.children, i) for i in items) if items else evaluate(n.other, dot)
            )
    return "".join(out)


@settings(max_examples=150, deadline=None)
@given(tree=st.lists(nodes(3), max_size=4).map(tuple))
def test_nested_structures_match_python(tree: tuple[Node, ...]) -> None:
    text = to_go(tree)
    expected = evaluate(tree, VARS)
    assert RENDERER.render_string(text, VARS, dialect="go") == expected


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_duration_round_trip(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest_approx(seconds)


def pytest_approx(x: float) -> Any:
    import pytest

    return pytest.approx(x, abs=1e-9 + 1e-9 * x)


@given(
    h=st.integers(0, 500),
    m=st.integers(0, 59),
    s=st.integers(0, 59),
    ms=st.integers(0, 999),
)
def test_duration_components_sum(h: int, m: int, s: int, ms: int) -> None:
    text = f"{h}h{m}m{s}s{ms}ms"
    assert parse_duration(text) == pytest_approx(h * 3600 + m * 60 + s + ms / 1000)
    assert parse_duration(text) == pytest_approx(
        sum(parse_duration(part) for part in (f"{h}h", f"{m}m", f"{s}s", f"{ms}ms"))
    )
