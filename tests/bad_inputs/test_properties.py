"""Property tests for the parsers that read user input: whatever the text, the result is a value
or one clean error, never another exception; and our own selectors mean what they say."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_kubevirt_burner.durations import format_duration, parse_duration
from pytest_kubevirt_burner.jobs.preflight import Plan
from pytest_kubevirt_burner.labels import object_labels, run_labels, selector
from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.selectors import LabelSelector, parse_label_selector
from pytest_kubevirt_burner.templates import TemplateRenderer
from pytest_kubevirt_burner.templates.errors import TemplateError

RENDERER = TemplateRenderer(Path(__file__).parent)
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
# text made mostly of template syntax, so that the translator's error paths are reached
TEMPLATE_BITS = st.lists(
    st.sampled_from(
        ["{{", "}}", "{{-", "-}}", ".", "Replica", " ", "if", "end", "range", "else", "(", ")",
         "|", "$x", ":=", '"', "'", "add", "1", "nil", "__class__", "{%", "%}", "{#", "#}",
         "\n", "eq", "printf", "%d", "index", ",", "[", "]", "_"]
    ),
    max_size=25,
).map("".join)  # fmt: skip
LABEL_CHARS = string.ascii_letters + string.digits + "-_."
label_values = st.text(LABEL_CHARS, min_size=1, max_size=20).filter(
    lambda v: v[0].isalnum() and v[-1].isalnum()
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(ANY_TEXT, st.from_regex(r"[-+]?[0-9.]{0,6}(ns|us|ms|s|m|h|x){0,3}")))
def test_duration_parser_returns_seconds_or_one_clean_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        message = str(exc)
        assert message.startswith("invalid duration ") and "\n" not in message
    else:
        assert seconds == seconds  # not NaN


@given(ns=st.integers(-(10**15), 10**15))
def test_negative_and_positive_durations_round_trip(ns: int) -> None:
    seconds = ns / 1e9
    assert round(parse_duration(format_duration(seconds)) * 1e9) == pytest.approx(ns, abs=1)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(TEMPLATE_BITS, ANY_TEXT), dialect=st.sampled_from(["go", "jinja2"]))
def test_template_renders_or_raises_one_template_error(text: str, dialect: str) -> None:
    try:
        out = RENDERER.render_string(text, {"Replica": 1}, source="t.yml", dialect=dialect)
    except TemplateError as exc:
        message = str(exc)
        assert message.startswith("t.yml") and "\n" not in message, message
    else:
        assert isinstance(out, str)


@settings(max_examples=100, deadline=None)
@given(
    attr=st.from_regex(r"_[A-Za-z_]{0,10}", fullmatch=True),
    dialect=st.sampled_from(["go", "jinja2"]),
)
def test_private_attributes_never_render(attr: str, dialect: str) -> None:
    text = f"{{{{ .Replica.{attr} }}}}" if dialect == "go" else f"{{{{ Replica.{attr} }}}}"
    with pytest.raises(TemplateError):
        out = RENDERER.render_string(text, {"Replica": 1}, source="t.yml", dialect=dialect)
        # jinja2 renders an undefined attribute as an error, never as the Python object
        assert "<" not in out


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(ANY_TEXT, st.from_regex(r"[a-z!=(), ]{0,20}", fullmatch=True)))
def test_label_selector_parses_or_raises_a_bad_request(text: str) -> None:
    try:
        parsed = parse_label_selector(text)
    except ApiError as exc:
        assert exc.code == 400
    else:
        assert isinstance(parsed, LabelSelector)


@given(
    uuid=label_values,
    runid=label_values,
    job=label_values,
    index=st.integers(0, 20),
    made=st.sets(st.integers(0, 20), min_size=1, max_size=4),
)
def test_our_selectors_select_exactly_our_objects(
    uuid: str, runid: str, job: str, index: int, made: set[int]
) -> None:
    base = run_labels(uuid, runid, job)
    labels = object_labels(base, index, 0, 1)
    assert parse_label_selector(selector(base)).matches(labels)
    other = {**labels, "kube-burner.io/uuid": uuid + "x"}
    assert not parse_label_selector(selector(base)).matches(other)
    assert not parse_label_selector(selector(base)).matches({})
    plan = Plan(indices={"Pod": made})
    by_index = parse_label_selector(",".join([selector(base), plan.index_selector("Pod")]))
    assert by_index.matches(labels) == (index in made)
