"""Template renderer: both dialects, every Go construct, sprig functions, errors, sandbox, cache."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.templates import TemplateError, TemplateRenderer, detect_dialect

EXAMPLES = Path("/work/shared/kube-burner-examples")
BUILTINS = {"JobName": "job", "Iteration": 2, "Replica": 3, "UUID": "uuid-1", "RunID": "run-1"}
needs_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="kube-burner examples missing")


@pytest.fixture
def renderer(tmp_path: Path) -> TemplateRenderer:
    return TemplateRenderer(tmp_path, builtins={"UUID": "uuid-1", "RunID": "run-1"})


def go(renderer: TemplateRenderer, text: str, variables: dict[str, Any] | None = None) -> str:
    return renderer.render_string(text, variables or {}, dialect="go")


# --- Go constructs ----------------------------------------------------------------------------

GO_CASES = [
    ("{{.Name}}", {"Name": "vm"}, "vm"),
    ("{{ .Name }}", {"Name": "vm"}, "vm"),
    ("{{ .A.B.C }}", {"A": {"B": {"C": 7}}}, "7"),
    ("{{ . }}", {"A": 1}, "map[A:1 RunID:run-1 UUID:uuid-1]"),
    ("{{ $x := .A }}{{ $x }}", {"A": "a"}, "a"),
    ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", {}, "2"),
    ("{{ $.A }}", {"A": "root"}, "root"),
    ("{{ $x := .M }}{{ $x.k }}", {"M": {"k": "v"}}, "v"),
    ("{{ if .A }}y{{ end }}", {"A": True}, "y"),
    ("{{ if .A }}y{{ else }}n{{ end }}", {"A": 0}, "n"),
    ("{{if eq .A 1}}one{{else if eq .A 2}}two{{else}}many{{end}}", {"A": 2}, "two"),
    ("{{if eq .A 1}}one{{else if eq .A 2}}two{{else}}many{{end}}", {"A": 9}, "many"),
    ("{{ if $v := .A }}{{ $v }}{{ end }}", {"A": "got"}, "got"),
    ("{{ range .L }}[{{ . }}]{{ end }}", {"L": [1, 2]}, "[1][2]"),
    ("{{ range $v := .L }}{{ $v }}{{ end }}", {"L": ["a", "b"]}, "ab"),
    ("{{ range $i, $v := .L }}{{ $i }}:{{ $v }} {{ end }}", {"L": ["a", "b"]}, "0:a 1:b "),
    ("{{ range $k, $v := .M }}{{ $k }}={{ $v }};{{ end }}", {"M": {"b": 2, "a": 1}}, "a=1;b=2;"),
    ("{{ range .M }}{{ .n }}{{ end }}", {"M": {"y": {"n": 2}, "x": {"n": 1}}}, "12"),
    ("{{ range .L }}x{{ else }}empty{{ end }}", {"L": []}, "empty"),
    ("{{ range .L }}{{ $.P }}{{ . }}{{ end }}", {"P": "p", "L": [1, 2]}, "p1p2"),
    ("{{ range .L }}{{ range .in }}{{ . }}{{ end }}|{{ end }}", {"L": [{"in": [1, 2]}]}, "12|"),
    ("{{ $n := 0 }}{{ range .L }}{{ $n = add $n . }}{{ end }}{{ $n }}", {"L": [1, 2, 3]}, "6"),
    (
        "{{ range .L }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}",
        {"L": [1, 2, 3, 4]},
        "12",
    ),
    (
        "{{ range .L }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ . }}{{ end }}",
        {"L": [1, 2, 3]},
        "13",
    ),
    ("{{ range 3 }}{{ . }}{{ end }}", {}, "012"),
    ("{{ range until 3 }}{{ . }}{{ end }}", {}, "012"),
    ("{{ with .W }}{{ .n }}{{ end }}", {"W": {"n": 5}}, "5"),
    ("{{ with .W }}{{ .n }}{{ else }}none{{ .X }}{{ end }}", {"W": {}, "X": "!"}, "none!"),
    ("{{ with $w := .W }}{{ $w.n }}{{ end }}", {"W": {"n": 1}}, "1"),
    ("{{ with .A }}a{{ else with .B }}{{ . }}{{ end }}", {"A": "", "B": "b"}, "b"),
    ("{{ .name | upper }}", {"name": "ab"}, "AB"),
    ('{{ .name | printf "%s-%d" "x" }}', {"name": "ab"}, "x-%!d(string=ab)"),
    ("{{ 3 | add 1 | mul 2 }}", {}, "8"),
    ("{{ (add 1 2) }} {{ add (mul 2 3) (sub 5 1) }}", {}, "3 10"),
    ("{{ (index .L 1).name }}", {"L": [{"name": "a"}, {"name": "b"}]}, "b"),
    ("{{ eq .A 1 2 3 }} {{ eq .A 4 }}", {"A": 3}, "true false"),
    (
        "{{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 3 2 }}",
        {},
        "true true true false true",
    ),
    ('{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" "x" }} {{ or 0 false }}', {}, "0 2 x false"),
    (
        "{{ not true }} {{ not 0 }} {{ if and .A (not .B) }}ok{{ end }}",
        {"A": 1, "B": 0},
        "false true ok",
    ),
    ("{{ len .L }} {{ len .S }} {{ len .M }}", {"L": [1, 2], "S": "héllo", "M": {"a": 1}}, "2 6 1"),
    (
        '{{ index .L 0 }} {{ index .M "k" }} {{ index .N 1 0 }}',
        {"L": [9], "M": {"k": "v"}, "N": [[0], [5]]},
        "9 v 5",
    ),
    ("{{ slice .L 1 3 }} {{ slice .S 1 }}", {"L": [0, 1, 2, 3], "S": "abc"}, "[1 2] bc"),
    (
        '{{ printf "%05d|%-4s|%.2f|%q|%v|%t|%x" 42 "ab" 3.14159 "q" .L true 255 }}',
        {"L": [1]},
        '00042|ab  |3.14|"q"|[1]|true|ff',
    ),
    ('{{ print 1 2 "a" 3 }} {{ println "x" }}', {}, "1 2a3 x\n"),
    ('a {{- "b" -}} c', {}, "abc"),
    ("a  \n{{- /* gone */ -}}\n  b", {}, "ab"),
    ("a{{/* comment */}}b", {}, "ab"),
    ('{{ "multi" }}{{/* a\ncomment */}}', {}, "multi"),
    (
        "{{ `raw \"string\"` }} {{ 'a' }} {{ 0x10 }} {{ 1_000 }} {{ -3 }} {{ 1e3 }}",
        {},
        'raw "string" 97 16 1000 -3 1000',
    ),
    (
        "{{ true }} {{ false }} {{ nil }} {{ 1.5 }} {{ 1000000.0 }}",
        {},
        "true false <no value> 1.5 1e+06",
    ),
    (
        "{{ .L }} {{ .M }}",
        {"L": [1, "a", True], "M": {"b": [1], "a": None}},
        "[1 a true] map[a:<nil> b:[1]]",
    ),
    (
        'literal {braces} and {{ "{{" }} and {% raw %} {# x #}',
        {},
        "literal {braces} and {{ and {% raw %} {# x #}",
    ),
    (
        '{{ html "<a href=\'x\'>" }} {{ js "it\'s" }} {{ urlquery "a b&c" }}',
        {},
        "&lt;a href=&#39;x&#39;&gt; it\\'s a+b%26c",
    ),
    (
        '{{ .missing | default "d" }} {{ default "d" .missing }} {{ empty .missing }}',
        {},
        "d d true",
    ),
    ('{{ coalesce .missing 0 "c" }}', {}, "c"),
]


@pytest.mark.parametrize(("text", "variables", "expected"), GO_CASES)
def test_go_construct(
    renderer: TemplateRenderer, text: str, variables: dict[str, Any], expected: str
) -> None:
    assert go(renderer, text, variables) == expected


def test_go_builtins_and_input_vars_win(renderer: TemplateRenderer) -> None:
    text = "{{.JobName}}-{{.Iteration}}-{{.Replica}}-{{.UUID}}-{{.RunID}}"
    assert renderer.render_string(text, {}, builtins=BUILTINS) == "job-2-3-uuid-1-run-1"
    assert (
        renderer.render_string(text, {"Replica": "mine"}, builtins=BUILTINS)
        == "job-2-mine-uuid-1-run-1"
    )
    # renderer-wide builtins apply when the call does not pass them
    assert renderer.render_string("{{ .UUID }}", {}) == "uuid-1"


def test_line_numbers_preserved_in_translation(renderer: TemplateRenderer) -> None:
    text = "a: 1\n{{- if .A }}\nb: {{ .B }}\n{{- end }}\nc: {{ `x\ny` }}\nd: {{ .D }}\n"
    with pytest.raises(TemplateError) as err:
        go(renderer, text, {"A": True, "B": 2})
    assert str(err.value) == "<string>:7: undefined variable 'D'"


# --- sprig functions ---------------------------------------------------------------------------

SPRIG_CASES = [
    (
        '{{ default "d" "" }} {{ default "d" "v" }} {{ default 5 0 }} {{ default "d" .L }}',
        {"L": []},
        "d v 5 d",
    ),
    ('{{ add 1 2 3 }} {{ add 1.9 1 }} {{ add "2" 1 }}', {}, "6 2 3"),
    (
        "{{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 7 3 }} {{ mod -7 3 }}",
        {},
        "-2 24 3 -3 1 -1",
    ),
    ("{{ add1 4 }} {{ max 1 5 3 }} {{ min 4 2 8 }}", {}, "5 5 2"),
    ("{{ addf 1.5 1 }} {{ mulf 1.5 2 }} {{ divf 1 4 }} {{ subf 3 0.5 }}", {}, "2.5 3 0.25 2.5"),
    ('{{ quote "a" 1 }} {{ squote "b" }}', {}, '"a" "1" \'b\''),
    (
        '{{ upper "ab" }} {{ lower "AB" }} {{ title "hello wide world" }}',
        {},
        "AB ab Hello Wide World",
    ),
    (
        '{{ trim "  x  " }} {{ trimPrefix "vm-" "vm-1" }} {{ trimSuffix ".yml" "a.yml" }}',
        {},
        "x 1 a",
    ),
    (
        '{{ replace "a" "b" "banana" }} {{ contains "an" "banana" }} {{ hasPrefix "ba" "banana" }}',
        {},
        "bbnbnb true true",
    ),
    (
        '{{ hasSuffix "na" "banana" }} {{ (split "," "a,b")._1 }} {{ splitList "," "a,b" }}',
        {},
        "true b [a b]",
    ),
    (
        '{{ join "-" .L }} {{ list 1 "a" }} {{ (dict "k" 1 "j" 2).j }}',
        {"L": ["x", 1]},
        "x-1 [1 a] 2",
    ),
    ("{{ toYaml .D }}", {"D": {"b": [1, 2], "a": "x"}}, "a: x\nb:\n- 1\n- 2"),
    ("{{ toJson .D }}", {"D": {"b": [1, 2], "a": "<x>"}}, '{"a":"\\u003cx\\u003e","b":[1,2]}'),
    ('{{ (fromJson "{\\"a\\": 3}").a }}', {}, "3"),
    ('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', {}, "  a\n  b|\n  a"),
    ("{{ len (randAlphaNum 8) }} {{ len (randAlpha 5) }} {{ len (randNumeric 4) }}", {}, "8 5 4"),
    (
        '{{ regexMatch "^[0-9]+$" (randNumeric 6) }} {{ regexMatch "^[a-zA-Z]+$" (randAlpha 6) }}',
        {},
        "true true",
    ),
    ("{{ $r := randInt 3 5 }}{{ or (eq $r 3) (eq $r 4) }}", {}, "true"),
    ('{{ regexMatch "^[0-9a-f-]{36}$" uuidv4 }}', {}, "true"),
    (
        "{{ until 3 }} {{ untilStep 1 10 3 }} {{ seq 3 }} {{ seq 5 3 }} {{ seq 0 2 6 }}",
        {},
        "[0 1 2] [1 4 7] 1 2 3 5 4 3 0 2 4 6",
    ),
    (
        '{{ atoi "42" }} {{ atoi "4x" }} {{ int "7" }} {{ int 3.9 }} {{ float64 "1.5" }}',
        {},
        "42 0 7 3 1.5",
    ),
    (
        '{{ toString 5 }} {{ toString true }} {{ b64enc "hi" }} {{ b64dec "aGk=" }}',
        {},
        "5 true aGk= hi",
    ),
    ('{{ sha256sum "a" }}', {}, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    ('{{ ternary "y" "n" .C }} {{ .C | ternary "y" "n" }}', {"C": False}, "n n"),
    (
        '{{ empty 0 }} {{ empty "x" }} {{ empty .L }} {{ coalesce 0 "" 7 }}',
        {"L": []},
        "true false true 7",
    ),
    (
        '{{ hasKey .M "a" }} {{ get .M "a" }} {{ get .M "z" }}|{{ $_ := set .M "b" 2 }}{{ .M.b }}',
        {"M": {"a": 1}},
        "true 1 |2",
    ),
    ("{{ keys .M | sortAlpha }} {{ values .M }}", {"M": {"b": 2, "a": 1}}, "[a b] [2 1]"),
    (
        "{{ first .L }} {{ last .L }} {{ rest .L }} {{ initial .L }}",
        {"L": [1, 2, 3]},
        "1 3 [2 3] [1 2]",
    ),
    (
        '{{ regexMatch "^vm-[0-9]+$" "vm-12" }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}',
        {},
        "true -W-xxW-",
    ),
    (
        '{{ regexReplaceAll "(\\\\d+)" "vm-12" "<$1>" }} {{ regexFindAll "[0-9]" "a1b2" -1 }}',
        {},
        "vm-<12> [1 2]",
    ),
    ('{{ now | date "2006" | len }} {{ date "2006-01-02" 0 | len }}', {}, "4 10"),
    (
        '{{ duration 95 }} {{ durationRound "2h10m5s" }} {{ dateModify "1h" .T | date "15:04" }}',
        {
            "T": __import__("datetime").datetime(
                2024, 1, 2, 3, 4, 5, tzinfo=__import__("datetime").UTC
            )
        },
        "1m35s 2h 04:04",
    ),
    (
        '{{ date "2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3PM" .T }}',
        {
            "T": __import__("datetime").datetime(
                2024, 1, 2, 13, 4, 5, 120000, tzinfo=__import__("datetime").UTC
            )
        },
        "2024-01-02T13:04:05.120Z Tue Jan  2 1PM",
    ),
    (
        '{{ repeat 3 "ab" }} {{ substr 1 3 "hello" }} {{ trunc 2 "hello" }} {{ cat "a" nil 1 }}',
        {},
        "ababab el he a 1",
    ),
    (
        "{{ has 2 .L }} {{ uniq .L }} {{ without .L 1 }} {{ append .L 4 }}"
        " {{ concat .L (list 9) }}",
        {"L": [1, 2, 2]},
        "true [1 2] [2 2] [1 2 2 4] [1 2 2 9]",
    ),
    (
        "{{ GetSubnet24 65537 }} {{ Binomial 5 2 }} {{ IndexToCombination nil 1 4 2 }}",
        {},
        "2.0.1.0/24 10 [0 2]",
    ),
    (
        '{{ GetIPAddress "a b c d e f" 1 2 }} {{ multiply 2 3 }} {{ sequence 1 3 }}',
        {},
        "c d 6 [1 2 3]",
    ),
    (
        '{{ pick .M "a" }} {{ omit .M "a" }} {{ dig "a" "x" "dflt" .M }}',
        {"M": {"a": {"x": 1}, "b": 2}},
        "map[a:map[x:1]] map[b:2] 1",
    ),
]


@pytest.mark.parametrize(("text", "variables", "expected"), SPRIG_CASES)
def test_sprig_function(
    renderer: TemplateRenderer, text: str, variables: dict[str, Any], expected: str
) -> None:
    assert go(renderer, text, variables) == expected


def test_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_TEST_VAR", "value")
    monkeypatch.delenv("KB_TEST_UNSET", raising=False)
    r = TemplateRenderer(tmp_path)
    text = (
        '{{ env "KB_TEST_VAR" }} {{ env "KB_TEST_UNSET" "dflt" }} {{ expandenv "x-$KB_TEST_VAR" }}'
    )
    assert r.render_string(text, {}) == "value dflt x-value"
    closed = TemplateRenderer(tmp_path, allow_env=False)
    with pytest.raises(TemplateError) as err:
        closed.render_string('a: {{ env "KB_TEST_VAR" }}', {})
    assert str(err.value) == "<string>:1: env is disabled for templates: cannot read 'KB_TEST_VAR'"


def test_required_and_fail(renderer: TemplateRenderer) -> None:
    assert go(renderer, '{{ required "need x" .x }}', {"x": 1}) == "1"
    with pytest.raises(TemplateError, match=r"^<string>:2: need x$"):
        go(renderer, 'a: 1\nb: {{ required "need x" .x }}', {})
    with pytest.raises(TemplateError, match=r"^<string>:1: boom 3$"):
        go(renderer, '{{ fail (printf "boom %d" 3) }}', {})


# --- Jinja2 dialect -----------------------------------------------------------------------------


def test_jinja_dialect_with_helpers(renderer: TemplateRenderer) -> None:
    text = (
        "name: {{ name }}-{{ Replica }}\n"
        "{% for i in range(2) %}i{{ i }}: {{ add(i, 1) }}\n{% endfor %}"
        "q: {{ name | quote }}\n"
        "d: {{ missing | default('x') }}\n"
        "u: {{ upper(name) }}\n"
        "y: {{ toJson(dict('a', 1)) }}\n"
    )
    out = renderer.render_string(text, {"name": "vm"}, builtins=BUILTINS)
    assert out == 'name: vm-3\ni0: 1\ni1: 2\nq: "vm"\nd: x\nu: VM\ny: {"a":1}\n'


def test_jinja_undefined_variable(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError) as err:
        renderer.render_string("a: 1\nb: {{ cpuCores }}\n", {}, source="templates/pod.yml")
    assert str(err.value) == "templates/pod.yml:2: undefined variable 'cpuCores'"
    assert (err.value.file, err.value.line) == ("templates/pod.yml", 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: {{ .X }}", "go"),
        ("{{- if .X }}{{ end }}", "go"),
        ("{{ $x := 1 }}", "go"),
        ("{{ range .L }}{{ end }}", "go"),
        ('{{ upper "x" }}', "go"),
        ("{{ add 1 2 }}", "go"),
        ("{{ not .X }}", "go"),
        ("{{ x }}", "jinja2"),
        ("{{ x | upper }}", "jinja2"),
        ("{{ not x }} {{ range(3) }}", "jinja2"),
        ("{% if x %}{{ .5 }}{% endif %}", "jinja2"),
        ("plain: yaml", "jinja2"),
        ("# template: go\n{{ uuidv4 }}", "go"),
        ("# template: jinja2\n{{ .X }}", "jinja2"),
    ],
)
def test_detect_dialect(text: str, expected: str) -> None:
    assert detect_dialect(text) == expected


def test_dialect_override(renderer: TemplateRenderer) -> None:
    assert (
        renderer.render_string("# template: go\nv: {{ uuidv4 | len }}", {})
        == "# template: go\nv: 36"
    )
    assert renderer.render_string("{{ x }}", {"x": 1}, dialect="jinja2") == "1"
    with pytest.raises(TemplateError, match="unknown template dialect 'cobol'"):
        renderer.render_string("x", {}, dialect="cobol")


# --- kube-burner example templates ---------------------------------------------------------------


@needs_examples
def test_example_kubelet_density_pod() -> None:
    r = TemplateRenderer(EXAMPLES / "kubelet-density")
    docs = r.render_file(
        "templates/pod.yml", {"containerImage": "registry.k8s.io/pause:3.1"}, builtins=BUILTINS
    )
    assert len(docs) == 1
    pod = docs[0]
    assert pod["kind"] == "Pod" and pod["metadata"]["name"] == "kubelet-density-2"
    assert pod["metadata"]["labels"] == {"name": "kubelet-density"}
    assert pod["spec"]["containers"][0]["image"] == "registry.k8s.io/pause:3.1"
    assert pod["spec"]["nodeSelector"] == {"node-role.kubernetes.io/worker": ""}
    assert r.check("templates/pod.yml") == "go"


VM_VARS = {
    "name": "kubevirt-density",
    "image": "quay.io/kubevirt/fedora-with-test-tooling-container-disk:v0.48.1",
    "OS": "fedora27",
    "cpuCores": 1,
    "memory": "4G",
    "createVMI": True,
}


@needs_examples
@pytest.mark.parametrize("example", ["kubevirt-density", "kubevirt-power"])
def test_example_vm_ephemeral(example: str) -> None:
    r = TemplateRenderer(EXAMPLES / example)
    (vm,) = r.render_file("templates/vm-ephemeral.yml", VM_VARS, builtins=BUILTINS)
    assert vm["apiVersion"] == "kubevirt.io/v1" and vm["kind"] == "VirtualMachine"
    assert vm["metadata"]["name"] == "kubevirt-density-3"
    assert vm["metadata"]["labels"] == {
        "kubevirt-vm": "vm-kubevirt-density-3",
        "kubevirt.io/os": "fedora27",
    }
    assert vm["spec"]["running"] is True
    spec = vm["spec"]["template"]["spec"]
    assert spec["domain"]["cpu"]["cores"] == 1
    assert spec["domain"]["resources"]["requests"]["memory"] == "4G"
    assert spec["volumes"][1]["containerDisk"]["image"] == VM_VARS["image"]
    assert spec["volumes"][0]["cloudInitNoCloud"]["userData"].startswith("#cloud-config\n")


@needs_examples
def test_example_api_intensive_and_crd() -> None:
    r = TemplateRenderer(EXAMPLES / "api-intensive")
    names = {
        "templates/deployment.yaml": "api-intensive-3",
        "templates/configmap.yaml": "configmap-3",
        "templates/secret.yaml": "secret-3",
        "templates/service.yaml": "service-3",
    }
    for path, name in names.items():
        (doc,) = r.render_file(path, {}, builtins=BUILTINS)
        assert doc["metadata"]["name"] == name
    (dep,) = r.render_file("templates/deployment.yaml", {}, builtins=BUILTINS)
    assert dep["spec"]["template"]["spec"]["volumes"][1]["secret"]["secretName"] == "secret-3"
    (patch,) = r.render_file("templates/deployment_patch_add_label.yaml", {}, builtins=BUILTINS)
    assert patch["metadata"]["labels"] == {"new_key_2": "new_value_2"}
    assert '"op": "add"' in r.render_text("templates/deployment_patch_add_label.json", {})
    crd = TemplateRenderer(EXAMPLES / "crd-scale").render_file(
        "templates/example-crd.yml", {}, builtins=BUILTINS
    )
    assert crd[0]["metadata"]["name"] == "kubeburners2.cloudbulldozer.example.com"
    assert crd[0]["spec"]["names"]["shortNames"] == ["kb2"]


@needs_examples
def test_example_configs_render(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_EXAMPLE_QPS", "7")
    r = TemplateRenderer(EXAMPLES)
    for config in sorted(EXAMPLES.glob("*/*.yml")):
        docs = r.render_file(config.relative_to(EXAMPLES), {"UUID": "u"})
        assert docs and "jobs" in docs[0]
    text = (
        'uuid: {{.UUID}}\nqps: {{env "KB_EXAMPLE_QPS" "20"}}\n'
        'burst: {{ env "KB_EXAMPLE_NONE" "9" }}\n'
    )
    assert r.render_string(text, {"UUID": "u"}) == "uuid: u\nqps: 7\nburst: 9\n"


# --- documents and errors ----------------------------------------------------------------------


def write(base: Path, name: str, text: str) -> Path:
    path = base / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_multi_document_and_empty_documents(tmp_path: Path) -> None:
    write(tmp_path, "t/multi.yml", "---\n---\na: {{ .A }}\n---\n# only a comment\n---\nb: 2\n")
    r = TemplateRenderer(tmp_path)
    assert r.render_file("t/multi.yml", {"A": 1}) == [{"a": 1}, {"b": 2}]


def test_error_undefined_variable_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "templates/pod.yml",
        "kind: Pod\nmetadata:\n  name: x\nspec:\n  a: 1\n  b: 2\n  cpu: {{ .cpuCores }}\n",
    )
    with pytest.raises(TemplateError) as err:
        TemplateRenderer(tmp_path).render_file("templates/pod.yml", {})
    assert str(err.value) == "templates/pod.yml:7: undefined variable 'cpuCores'"
    assert err.value.file == "templates/pod.yml" and err.value.line == 7
    assert err.value.message == "undefined variable 'cpuCores'"


def test_error_nested_missing_key(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError) as err:
        go(renderer, "x: {{ .vm.cores }}", {"vm": {}})
    assert str(err.value) == "<string>:1: map has no entry for key 'cores' (in '.vm.cores')"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\nname: {{ .Name", "templates/vm.yml:3: unterminated action '{{ .Name'"),
        ("a: {{ if .A }}x\n", "templates/vm.yml:1: missing {{end}} for '{{if}}'"),
        ("a\n{{ end }}", "templates/vm.yml:2: unexpected {{end}}"),
        ("a\n\n{{ else }}", "templates/vm.yml:3: unexpected {{else}}"),
        ("{{ .A }}\n{{ nosuchfunc .A }}", "templates/vm.yml:2: function 'nosuchfunc' not defined"),
        ('{{ .A }}\n{{ "abc }}', "templates/vm.yml:2: unterminated quoted string '\"abc }}'"),
        ("{{ .A }}{{ $y }}", "templates/vm.yml:1: undefined variable '$y'"),
        ("{{ .A }}{{ .A .B }}", "templates/vm.yml:1: can't give argument to non-function .A"),
        ("{{ .A }}{{ break }}", "templates/vm.yml:1: {{break}} outside {{range}}"),
        (
            '{{ .A }}{{ template "x" }}',
            'templates/vm.yml:1: template "x" not defined',
        ),
        ("{{ .A }}\n{{/* open", "templates/vm.yml:2: unclosed comment '{{/* open'"),
        ("{{ .A }}{{ }}", "templates/vm.yml:1: missing value for command"),
        ("{% if x %}\nx\n", "templates/vm.yml:1: syntax error: Unexpected end of template."),
    ],
)
def test_error_syntax(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "templates/vm.yml", text)
    r = TemplateRenderer(tmp_path)
    with pytest.raises(TemplateError) as err:
        r.check("templates/vm.yml")
    assert str(err.value).startswith(message)
    with pytest.raises(TemplateError):
        r.render_file("templates/vm.yml", {"A": 1})


def test_error_invalid_yaml_after_render(tmp_path: Path) -> None:
    write(tmp_path, "templates/pod.yml", "kind: Pod\nmetadata:\n  name: {{ .Name }}\n  x: [\n")
    with pytest.raises(TemplateError) as err:
        TemplateRenderer(tmp_path).render_file("templates/pod.yml", {"Name": "a: b"})
    assert re.fullmatch(
        r"templates/pod.yml: rendered YAML is invalid: mapping values are not allowed "
        r"(here|in this context) at line 3",
        str(err.value),
    )
    assert err.value.line is None


def test_error_non_mapping_document(tmp_path: Path) -> None:
    write(tmp_path, "templates/pod.yml", "a: {{ .A }}\n---\n- 1\n- 2\n")
    with pytest.raises(TemplateError) as err:
        TemplateRenderer(tmp_path).render_file("templates/pod.yml", {"A": 1})
    assert str(err.value) == "templates/pod.yml: document 2 is a list, expected a mapping"
    write(tmp_path, "templates/s.yml", "just a string {{ .A }}\n")
    with pytest.raises(
        TemplateError, match=r"^templates/s.yml: document 1 is a string, expected a mapping$"
    ):
        TemplateRenderer(tmp_path).render_file("templates/s.yml", {"A": 1})


def test_error_function_failure_names_function(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError) as err:
        go(renderer, "a: 1\nb: {{ div 1 0 }}", {})
    assert str(err.value) == "<string>:2: div: integer divide by zero"
    with pytest.raises(TemplateError, match=r"^<string>:1: error calling upper: "):
        go(renderer, "{{ upper }}", {})


def test_error_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        TemplateError, match=r"^templates/none.yml: cannot read template: No such file"
    ):
        TemplateRenderer(tmp_path).render_file("templates/none.yml", {})


def test_error_is_one_line_and_picklable() -> None:
    import pickle

    err = TemplateError("f.yml", 3, "line one\nline two")
    assert str(err) == "f.yml:3: line one line two"
    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.line, again.message) == ("f.yml", 3, "line one line two")


# --- files and sandbox -------------------------------------------------------------------------


def test_read_file_confined_to_template_directory(tmp_path: Path) -> None:
    write(tmp_path, "templates/data/script.sh", "echo hi\n")
    write(tmp_path, "secret.txt", "top secret\n")
    write(tmp_path, "templates/ok.yml", 'script: {{ readFile "data/script.sh" | quote }}\n')
    write(tmp_path, "templates/jinja.yml", "script: {{ file('data/script.sh') | trim }}\n")
    r = TemplateRenderer(tmp_path)
    assert r.render_file("templates/ok.yml", {}) == [{"script": "echo hi\n"}]
    assert r.render_file("templates/jinja.yml", {}) == [{"script": "echo hi"}]
    for attempt in ("../secret.txt", str(tmp_path / "secret.txt"), "data/../../secret.txt"):
        write(
            tmp_path,
            "templates/bad.yml",
            f"a: 1\ns: {{{{ ReadFile {attempt!r} }}}}\n".replace("'", '"'),
        )
        with pytest.raises(TemplateError) as err:
            r.render_file("templates/bad.yml", {})
        assert (
            str(err.value)
            == f"templates/bad.yml:2: readFile: path '{attempt}' escapes the template directory"
        )
    (tmp_path / "templates" / "link").symlink_to(tmp_path / "secret.txt")
    write(tmp_path, "templates/bad.yml", 's: {{ readFile "link" }}\n')
    with pytest.raises(TemplateError, match="escapes the template directory"):
        r.render_file("templates/bad.yml", {})


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ add.__globals__ }}",
        "{{ (1).__class__.__base__ }}",
        "{{ ''.format.__self__ }}",
        "{{ namespace.__init__.__globals__['os'] }}",
    ],
)
def test_sandbox_blocks_python_internals(renderer: TemplateRenderer, text: str) -> None:
    with pytest.raises(TemplateError) as err:
        renderer.render_string("a: 1\nb: " + text, {})
    assert str(err.value).startswith("<string>:2: ")
    assert "sandbox" in str(err.value) or "undefined" in str(err.value)
    assert "\n" not in str(err.value)


def test_sandbox_go_dialect_cannot_reach_attributes(renderer: TemplateRenderer) -> None:
    # Go field access only ever indexes mappings; Python attributes are never looked up.
    with pytest.raises(TemplateError, match="can't evaluate field '__class__' in type string"):
        go(renderer, "{{ .S.__class__ }}", {"S": "x"})
    with pytest.raises(TemplateError, match="undefined variable '__class__'"):
        go(renderer, "{{ .__class__ }}", {})
    with pytest.raises(TemplateError, match="unexpected"):
        go(renderer, '{{ "".__class__ }}', {})


# --- caching -----------------------------------------------------------------------------------


def test_compiled_template_cached_until_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yml", "a: {{ .A }}\n")
    r = TemplateRenderer(tmp_path)
    first = r._compiled_file("t.yml", None)
    assert r._compiled_file("t.yml", None) is first
    assert r.render_file("t.yml", {"A": 1}) == [{"a": 1}]
    path.write_text("b: {{ .A }}\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert r.render_file("t.yml", {"A": 2}) == [{"b": 2}]
    assert r._compiled_file("t.yml", None) is not first


@needs_examples
def test_render_is_fast_after_caching() -> None:
    r = TemplateRenderer(EXAMPLES / "kubevirt-density")
    r.render_file("templates/vm-ephemeral.yml", VM_VARS, builtins=BUILTINS)
    n = 300
    start = time.perf_counter()
    for i in range(n):
        r.render_text("templates/vm-ephemeral.yml", VM_VARS, builtins={**BUILTINS, "Replica": i})
    per_render = (time.perf_counter() - start) / n
    assert per_render < 0.001, f"render took {per_render * 1e6:.0f} µs"


def test_go_trim_markers_with_crlf_and_line_numbers(renderer: TemplateRenderer) -> None:
    text = "a:\r\n  {{- if .A }} 1\r\n  {{- end -}}\r\n\r\nb: {{ .B }}\r\n"
    assert go(renderer, text, {"A": True, "B": 2}) == "a: 1b: 2\r\n"
    with pytest.raises(TemplateError, match=r"^<string>:5: undefined variable 'B'$"):
        go(renderer, text, {"A": True})
