"""perfdash's reading of Prometheus alert templates agrees with the real promtool.

Every template below (and a few hundred generated from fragments) goes into one rule
file as the summary of its own alert; ``promtool check rules`` reports each one it
refuses. ``check_alert_template`` must refuse exactly those, with the same message.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import pytest

from perfdash.spec.go_template import GoTemplateError, check_alert_template
from tests.conftest import require_binary

CORPUS = [
    # accepted
    "plain text, no action",
    "{{ $labels.route }} is slow",
    "{{ $value | humanizePercentage }}",
    '{{ printf "%.2f" $value }}',
    "{{ with $labels.instance }}{{ . }}{{ end }}",
    "{{ if gt $value 1.0 }}high{{ else if lt $value 0.5 }}low{{ else }}mid{{ end }}",
    "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}",
    "{{ range $labels }}{{ break }}{{ end }}",
    "{{ range $i, $e := $labels }}{{ if $i }}{{ continue }}{{ end }}{{ end }}",
    "{{- /* a comment */ -}} trimmed",
    "{{/* a comment */}}",
    "a {{- $value -}} b",
    "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
    '{{ define "t" }}x{{ end }}{{ template "t" }}',
    '{{ block "b" . }}body{{ end }}',
    '{{ template "nope" }}',
    "{{ 1 2 }}",
    '{{ index $labels "a" }}',
    '{{ (query "up") | first | value }}',
    "{{ 0x1F }} {{ 1e3 }} {{ 1_000 }} {{ 0b101 }} {{ 0o17 }} {{ 017 }} {{ 1i }} {{ 1+2i }}",
    "{{ 'a' }} {{ '\\n' }} {{ '\\x41' }} {{ '\\u00e9' }}",
    '{{ "a\\tb" }} {{ `raw \\ string` }}',
    "{{ nil }}",
    "{{ .Labels.x }} {{ .Value }} {{ $externalURL }} {{ $externalLabels.x }}",
    '{{ $labels.route | toUpper | printf "%s!" }}',
    "{{ if\n true }}multi-line action{{ end }}",
    "line one\n{{ $value }}\nline three",
    "{{ toDuration 1 }}",
    "}} alone",
    "{ { not an action } }",
    "{{ 0x1p-2 }}",
    "{{ .5 }}",
    # refused
    "{{ service }}",
    "{{ end }}",
    "{{ else }}",
    "{{ $foo }}",
    "{{ .Labels.x",
    '{{ "abc }}',
    "{{ `abc }}",
    "{{ 'ab' }}",
    "{{ '' }}",
    "{{ break }}",
    "{{ continue }}",
    "{{ if true }}no end",
    "{{ range $labels }}x{{ else }}y{{ else }}z{{ end }}",
    "{{ range $labels }}x{{ else if true }}y{{ end }}",
    "{{ $labels.foo-bar }}",
    "{{ 0x1G }}",
    "{{ 99999999999999999999 }}",
    "{{ -99999999999999999999 }}",
    "{{ 1e400 }}",
    "{{ 1__0 }}",
    "{{ 08 }}",
    "{{ 0x }}",
    "{{ 1.2.3 }}",
    "{{ }}",
    "{{ | toUpper }}",
    "{{ $value | 1 }}",
    '{{ $value | "x" }}',
    "{{ true.x }}",
    '{{ "s".x }}',
    "{{ $x := }}",
    "{{ $a, $b := $labels }}",
    "{{ range $a, $b, $c := $labels }}{{ end }}",
    "{{ range $a, 1 }}{{ end }}",
    "{{ ( $value }}",
    "{{ $value ) }}",
    "{{ /* not a comment */ }}",
    "{{/* unclosed comment }}",
    "{{/* c */ x }}",
    '{{ "\\q" }}',
    '{{ "\\400" }}',
    "{{ '\\\"' }}",
    '{{ "\\\'" }}',
    '{{ define "t" }}x{{ end }}{{ define "t" }}y{{ end }}',
    '{{ define "t" }}{{ $labels }}{{ end }}',
    "{{ define 1 }}{{ end }}",
    "{{ template 1 }}",
    "{{ with $value }}{{ else if true }}{{ end }}",
    '{{ define "t" }}no end',
    "{{ $value := 1 := 2 }}",
    "{{ if }}{{ end }}",
    "{{ $labels.route }}{{ end }}",
    "{{ 1 | printf }}",
    "{{ 3x }}",
    "{{ .x@ }}",
    "{{ a# }}",
    "{{ \u00e9t\u00e9 }}",
    "{{ $value \u00a0}}",
    "{{ \x01 }}",
    "{{ 1+2 }}",
    "{{ 1+2j }}",
    "{{ : }}",
    "{{ x:y }}",
    "a\nb\n{{ end }}",
    "{{ if true }}\n\n{{ nope }}{{ end }}",
    "{{/* multi\nline */}}\n{{ end }}",
    "x\n{{- \n end }}",
    "{{ `raw\nstring` }}\n{{ $nope }}",
    "{{ if\n\n $nope }}{{ end }}",
    '{{ "unterminated\n" }}',
]


def _fragments_corpus(count: int, seed: int = 12) -> list[str]:
    """Random templates from fragments, for the corners a hand-written list misses."""
    pieces = [
        "{{", "}}", "{{- ", " -}}", "{{ end }}", "{{ else }}", "{{ if $value }}",
        "{{ range $labels }}", "{{ with . }}", "{{ break }}", "$labels", "$x", "$x := 1",
        ".Labels", ".", "(", ")", "|", "printf", "humanize", "service", " ", "\n", '"s"',
        "'c'", "`r`", "1", "0x1", "1e9", "nil", "true", ",", "=", ":=", "/*", "*/", "x",
        "{{ template \"t\" }}", "{{ define \"t\" }}", "{{ else if true }}", "-",
    ]  # fmt: skip
    generator = random.Random(seed)
    return [
        "".join(generator.choice(pieces) for _ in range(generator.randint(1, 7)))
        for _ in range(count)
    ]


def _promtool_verdicts(promtool: str, templates: list[str], tmp_path: Path) -> dict[int, str]:
    lines = ["groups:", "- name: g", "  rules:"]
    for index, template in enumerate(templates):
        lines += [
            f"  - alert: A{index}",
            "    expr: up == 0",
            "    annotations:",
            f"      summary: {json.dumps(template, ensure_ascii=False)}",
        ]
    path = tmp_path / "rules.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    output = checked.stdout + checked.stderr
    found = {}
    for match in re.finditer(
        r'"A(\d+)": annotation "summary": template: __alert_A\d+:(\d+): (.*)', output
    ):
        found[int(match[1])] = f"{match[2]}: {match[3]}"
    assert ("SUCCESS" in output) == (not found), output
    return found


def _ours(template: str) -> str | None:
    try:
        check_alert_template(template)
    except GoTemplateError as exc:
        return f"{exc.line}: {exc.message}"
    return None


@pytest.mark.parametrize("generated", [False, True], ids=["corpus", "generated"])
def test_every_verdict_and_message_matches_promtool(tmp_path: Path, generated: bool) -> None:
    promtool = require_binary("promtool")
    templates = _fragments_corpus(800) if generated else CORPUS
    expected = _promtool_verdicts(promtool, templates, tmp_path)
    # toDuration is Prometheus 3's: accepted here, unknown to older promtools.
    expected = {i: m for i, m in expected.items() if "toDuration" not in m}
    ours = {i: m for i, t in enumerate(templates) if (m := _ours(t)) is not None}
    mismatched = {
        i: (templates[i], expected.get(i), ours.get(i))
        for i in set(expected) | set(ours)
        if expected.get(i) != ours.get(i)
    }
    assert not mismatched
    if not generated:
        assert len(expected) > 40  # the corpus does exercise refusals


def test_templates_without_an_action_are_not_parsed() -> None:
    check_alert_template("}} {{- not really: no opening action here" * 0 + "plain")
    with pytest.raises(GoTemplateError) as caught:
        check_alert_template("text\n{{ end }}")
    assert (caught.value.line, caught.value.message) == (2, "unexpected {{end}}")
