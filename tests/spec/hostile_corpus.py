"""Bad and hostile declarations, as data: what each file holds, and what perfdash must say.

Each case is one or more files put into a project that already has a built fleet; the
test runs the real CLI on it and checks the exit status, every line of the message
(FILE:LINE:COL: field: message), that nothing in the project changed, and that the
secret kept next to the project never shows. Cases are grouped as the issue lists the
ways declarations go wrong; their ids say what each one is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tests.helpers import MINIMAL_SERVICE

SECRET = "S3cr3t-t0ken-do-not-print"
# MINIMAL_SERVICE: name line 4, team 5, tier 6, runbook 7, selector 9, the SLO's name 11,
# objective 12 (value at column 18), sli 13, events 14.
BAD = "slos/bad.yaml"


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (relative to the project; ``@secret`` is the secret
    file outside it, ``@outside`` a folder outside it holding a declaration)."""

    target: str


@dataclass(frozen=True)
class Fifo:
    """A named pipe: opening it for reading would block forever."""


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes | Link | Fifo]
    expected: tuple[str, ...]  # the problems, one per line, without "Error: "; {secret}: its path
    args: tuple[str, ...] = ("build",)
    exit_code: int = 1
    extra: dict[str, str] = field(default_factory=dict)


def edit(*pairs: tuple[str, str], text: str = MINIMAL_SERVICE) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def slo_lines(*lines: str) -> str:
    """MINIMAL_SERVICE with ``lines`` added to its SLO (from line 15, indented 6)."""
    return MINIMAL_SERVICE + "".join(f"      {line}\n" for line in lines)


def annotations(summary: str) -> str:
    """The SLO's summary template, written as a YAML double-quoted string on line 17."""
    return slo_lines("alerting:", "  annotations:", f"    summary: {summary}")


def raw_slo(bad: str, *, grouping: str = "") -> str:
    lines = [f"grouping: [{grouping}]"] if grouping else []
    return edit(
        (
            '      sli:\n        events: {total: http_requests_total, bad: {code: "5.."}}\n',
            "".join(f"      {line}\n" for line in lines)
            + f"      sli:\n        raw:\n          bad: '{bad}'\n"
            "          total: sum by (queue) (rate(jobs_total[{{ window }}]))\n",
        )
    )


M = MINIMAL_SERVICE
B = M.encode()
DRAFT: list[tuple[str, str | bytes]] = [
    # -- bytes and encodings ----------------------------------------------------------
    ("nul-byte-in-a-value", B.replace(b"team: payments", b"team: pay\x00ments")),
    ("nul-byte-first", b"\x00" + B),
    ("escape-character-raw", B.replace(b"team: payments", b"team: \x1b[31mpayments")),
    ("delete-character-raw", B.replace(b"tier: 1", b"tier: 1\x7f")),
    ("c1-control-csi-raw", M.replace("team: payments", "team: pay\u009bments").encode()),
    ("invalid-utf8-byte", B.replace(b"team: payments", b"team: pay\xffments")),
    ("latin-1-file", B.replace(b"team: payments", b"team: caf\xe9")),
    ("utf-16-file", M.encode("utf-16")),
    ("truncated-multibyte-at-end", B + b"# \xe2\x82"),
    ("png-file-named-yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("file-over-2-mib", b"# " + b"x" * (5 * 1024 * 1024) + b"\n"),
    ("invalid-unicode-escape", M.replace("team: payments", 'team: "\\ud800"').encode()),
    # -- YAML structure ---------------------------------------------------------------
    ("unclosed-flow-sequence", M.replace("team: payments", "team: [payments")),
    ("tab-indentation", M.replace("  team: payments", "\tteam: payments")),
    ("mapping-value-in-scalar", M.replace("team: payments", "team: payments: core")),
    (
        "duplicate-key-and-schema-error",
        M.replace("  tier: 1\n", "  tier: 1\n  tier: 2\n").replace(
            "objective: 99.9", "objective: 100"
        ),
    ),
    (
        "alias-bomb",
        "a0: &a0 ["
        + ", ".join(["lol"] * 9)
        + "]\n"
        + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)),
    ),
    ("undefined-alias", M.replace("team: payments", "team: *payments")),
    (
        "alias-from-another-document",
        "x: &t payments\n---\n" + M.replace("team: payments", "team: *t"),
    ),
    ("nesting-100-levels", "x: " + "[" * 100 + "]" * 100 + "\n"),
    ("document-of-200000-values", "x: [" + "1," * 200_000 + "1]\n"),
    ("file-of-400000-values", "".join("---\n[" + "1," * 99_000 + "1]\n" for _ in range(4))),
    ("second-document-broken-first-invalid", M.replace("tier: 1", "tier: 9") + "---\nkind: [\n"),
    ("document-is-a-list", "- apiVersion: perfdash/v1\n- kind: Service\n"),
    ("document-is-a-string", "just some text\n"),
    ("complex-key", M.replace("  tier: 1\n", "  tier: 1\n  ? [a, b]\n  : x\n")),
    ("python-object-tag", M.replace("kind: Service", "kind: !!python/object/apply:os.system [id]")),
    ("merge-of-an-undefined-alias", M.replace("  tier: 1\n", "  tier: 1\n  <<: *base\n")),
    ("null-key", M.replace("  tier: 1\n", "  tier: 1\n  ~: x\n")),
    # -- names and text -----------------------------------------------------------------
    ("service-name-trailing-newline", M.replace("name: checkout", 'name: "checkout\\n"')),
    (
        "service-name-block-scalar-newline",
        M.replace("  name: checkout\n", "  name: |\n    checkout\n"),
    ),
    ("team-trailing-newline", M.replace("team: payments", 'team: "payments\\n"')),
    ("slo-name-trailing-newline", M.replace("name: availability", 'name: "availability\\n"')),
    ("service-name-terminal-escape", M.replace("name: checkout", 'name: "\\e[31mcheckout"')),
    ("label-value-newline", M.replace("  tier: 1\n", '  tier: 1\n  labels: {env: "prod\\n"}\n')),
    (
        "label-value-osc52-clipboard",
        M.replace("  tier: 1\n", '  tier: 1\n  labels: {env: "\\e]52;c;ZXZpbA==\\a"}\n'),
    ),
    ("selector-value-newline", M.replace("{job: checkout}", '{job: "checkout\\nx"}')),
    ("bad-matcher-control-character", M.replace('{code: "5.."}', '{code: "5..\\x07"}')),
    (
        "runbook-terminal-escape",
        M.replace(
            "runbook: https://runbooks.example.com/checkout",
            'runbook: "https://runbooks.example.com/\\e[2J"',
        ),
    ),
    (
        "runbook-trailing-newline",
        M.replace(
            "runbook: https://runbooks.example.com/checkout",
            'runbook: "https://runbooks.example.com/checkout\\n"',
        ),
    ),
    (
        "description-escape",
        M.replace("  tier: 1\n", '  tier: 1\n  description: "Checkout \\e[5m"\n'),
    ),
    ("annotation-bell", annotations('"burning \\a"')),
    ("benchmark-name-newline", M + '  baselines:\n    - benchmark: "api\\n"\n'),
    ("name-64-characters", M.replace("name: checkout", "name: " + "c" * 64)),
    ("name-uppercase", M.replace("name: checkout", "name: Checkout")),
    ("name-path-traversal", M.replace("name: checkout", "name: ../../etc")),
    (
        "jsonnet-path-leaves-the-project",
        M.replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  dashboard: {jsonnet: ../../../../etc/passwd.libsonnet}\n",
        ),
    ),
    (
        "jsonnet-path-not-a-jsonnet-file",
        M.replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  dashboard: {jsonnet: override.json}\n",
        ),
    ),
    (
        "jsonnet-file-missing",
        M.replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  dashboard: {jsonnet: missing.jsonnet}\n",
        ),
    ),
    ("service-named-overview", M.replace("name: checkout", "name: overview")),
    ("team-named-extra", M.replace("team: payments", "team: extra")),
    ("service-name-taken", M.replace("name: checkout", "name: good")),
    # -- numbers ------------------------------------------------------------------------
    ("objective-nan", M.replace("objective: 99.9", "objective: .nan")),
    ("objective-infinity", M.replace("objective: 99.9", "objective: .inf")),
    ("objective-minus-infinity", M.replace("objective: 99.9", "objective: -.inf")),
    (
        "latency-threshold-nan",
        M.replace(
            'events: {total: http_requests_total, bad: {code: "5.."}}',
            "latency: {histogram: http_request_duration_seconds, threshold: .NaN}",
        ),
    ),
    (
        "budget-percent-nan",
        slo_lines(
            "alerting:",
            "  windows:",
            "    - {severity: page, long: 1h, short: 5m, budget_percent: .nan}",
        ),
    ),
    ("objective-huge-exponent", M.replace("objective: 99.9", "objective: 1.0e+999999")),
    ("objective-25-digits", M.replace("objective: 99.9", "objective: 99.99999999999999999999999")),
    ("tier-huge-integer", M.replace("tier: 1", "tier: 99999999999999999999999")),
    ("tier-huge-hex", M.replace("tier: 1", "tier: 0x" + "f" * 40)),
    ("tier-5000-digits", M.replace("tier: 1", "tier: " + "9" * 5000)),
    ("objective-as-a-ratio", M.replace("objective: 99.9", "objective: 0.9995")),
    ("objective-as-a-half", M.replace("objective: 99.9", "objective: 0.5")),
    ("objective-100", M.replace("objective: 99.9", "objective: 100")),
    ("objective-quoted", M.replace("objective: 99.9", 'objective: "99.9"')),
    ("tier-fraction", M.replace("tier: 1", "tier: 1.5")),
    (
        "latency-threshold-negative",
        M.replace(
            'events: {total: http_requests_total, bad: {code: "5.."}}',
            "latency: {histogram: http_request_duration_seconds, threshold: -0.3}",
        ),
    ),
    (
        "baseline-threshold-negative",
        M + "  baselines:\n    - benchmark: api\n      thresholds: {p95: -5}\n",
    ),
    # -- alert templates ------------------------------------------------------------------
    ("go-template-perfdash-name", annotations('"{{ service }} is burning"')),
    ("go-template-stray-end", annotations('"burning {{ end }}"')),
    ("go-template-undefined-variable", annotations('"{{ $foo }} is burning"')),
    ("go-template-unclosed-action", annotations('"{{ $labels.route"')),
    ("go-template-from-jinja-output", annotations("\"[[ '{{' ]] end }}\"")),
    (
        "go-template-only-in-a-ticket-window",
        annotations("\"[% if long == '3d' %]{{ nope }}[% endif %]\""),
    ),
    (
        "go-template-in-description-line-3",
        slo_lines(
            "alerting:",
            "  annotations:",
            "    description: |",
            "      line one",
            "      line two",
            "      {{ end }}",
        ),
    ),
    ("jinja-undefined-name", annotations('"[[ servcie ]] burns"')),
    ("jinja-syntax-error", annotations('"[[ service "')),
    ("jinja-two-billion-x", annotations("\"[[ 'x' * 2000000000 ]]\"")),
    ("jinja-power-tower", annotations('"[[ 9**99999 ]]"')),
    (
        "jinja-nested-range-loops",
        annotations(
            '"[% for i in range(100000) %][% for j in range(100000) %]x[% endfor %][% endfor %]"'
        ),
    ),
    (
        "jinja-nested-string-loops",
        annotations(
            "\"[% for i in 'x' * 9999 %][% for j in 'x' * 9999 %][% endfor %][% endfor %]\""
        ),
    ),
    ("jinja-division-by-zero", annotations('"[[ 1/0 ]]"')),
    ("jinja-include", annotations("\"[% include 'secret' %]\"")),
    ("jinja-lipsum", annotations('"[[ lipsum(1000000) ]]"')),
    ("jinja-dunder-escape", annotations('"[[ service.__class__.__mro__ ]]"')),
    ("jinja-recursive-macro", annotations('"[% macro f() %][[ f() ]][% endmacro %][[ f() ]]"')),
    (
        "jinja-output-too-long",
        annotations("\"[% for i in range(20) %][[ 'x' * 1000 ]][% endfor %]\""),
    ),
    ("jinja-renders-an-escape", annotations("\"[[ '\\\\x1b[2J' ]]\"")),
    ("alert-label-template", slo_lines("alerting:", "  labels: {channel: '{{ nope }}'}")),
    (
        "metadata-label-template",
        M.replace("  tier: 1\n", "  tier: 1\n  labels: {env: '{{ end }}'}\n"),
    ),
    (
        "runbook-template",
        M.replace(
            "runbook: https://runbooks.example.com/checkout",
            "runbook: https://runbooks.example.com/{{end}}",
        ),
    ),
    (
        "service-level-template-for-two-slos",
        M.replace("  slos:\n", "  alerting:\n    annotations: {summary: '{{ slo }}'}\n  slos:\n")
        + "    - name: latency\n      objective: 99\n      sli: {latency: {histogram: h, threshold: 0.3}}\n",
    ),
    # -- meaning ----------------------------------------------------------------------------
    (
        "raw-grouping-label-aggregated-away",
        raw_slo("sum(rate(jobs_failed_total[{{ window }}]))", grouping="queue"),
    ),
    (
        "raw-grouping-label-excluded",
        raw_slo("sum without (queue) (rate(jobs_failed_total[{{ window }}]))", grouping="queue"),
    ),
    ("raw-without-window", raw_slo("sum(rate(jobs_failed_total[5m]))")),
    (
        "raw-unknown-placeholder",
        raw_slo("sum(rate(jobs_failed_total[{{ window }}])) * {{ scale }}"),
    ),
    ("raw-does-not-parse", raw_slo("sum(rate(jobs_failed_total[{{ window }}])")),
    ("raw-range-vector", raw_slo("jobs_failed_total[{{ window }}]")),
    (
        "histogram-bucket-series",
        M.replace(
            'events: {total: http_requests_total, bad: {code: "5.."}}',
            "latency: {histogram: http_server_requests_seconds_bucket, threshold: 0.3}",
        ),
    ),
    (
        "histogram-count-series",
        M.replace(
            'events: {total: http_requests_total, bad: {code: "5.."}}',
            "latency: {histogram: http_server_requests_seconds_count, threshold: 0.3}",
        ),
    ),
    (
        "red-duration-sum-series",
        M.replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n"
            "  red: {requests: http_requests_total, duration: http_request_duration_seconds_sum}\n",
        ),
    ),
    ("invalid-regex", M.replace('{code: "5.."}', "{code: '5(..'}")),
    ("reserved-label", M.replace("  tier: 1\n", "  tier: 1\n  labels: {severity: x}\n")),
    ("reserved-grouping-label", slo_lines("grouping: [slo]")),
    ("dunder-matcher", M.replace("{job: checkout}", "{job: checkout, __name__: up}")),
    (
        "le-latency-matcher",
        M.replace(
            'events: {total: http_requests_total, bad: {code: "5.."}}',
            "latency: {histogram: h, threshold: 0.3, matchers: {le: '1'}}",
        ),
    ),
    ("window-12h", slo_lines("window: 12h")),
    ("window-a-million-weeks", slo_lines("window: 1000000w")),
    ("window-in-words", slo_lines('window: "30 days"')),
    ("window-digits-overflow", slo_lines("window: " + "9" * 40 + "d")),
    (
        "short-window-not-shorter",
        slo_lines(
            "alerting:",
            "  windows:",
            "    - {severity: page, long: 1h, short: 1h, budget_percent: 2}",
        ),
    ),
    (
        "alert-window-longer-than-slo",
        slo_lines(
            "window: 1d",
            "alerting:",
            "  windows:",
            "    - {severity: page, long: 2d, short: 1h, budget_percent: 2}",
        ),
    ),
    ("page-can-never-fire", M.replace("objective: 99.9", "objective: 90")),
    (
        "duplicate-slo-name",
        M
        + "    - name: availability\n      objective: 99\n"
        + "      sli: {events: {total: t, bad: {code: '5..'}}}\n",
    ),
    ("no-runbook", M.replace("  runbook: https://runbooks.example.com/checkout\n", "")),
    (
        "team-without-receivers",
        M
        + "---\napiVersion: perfdash/v1\nkind: Team\nmetadata: {name: other}\n"
        + "spec: {receivers: {page: p, ticket: t}}\n",
    ),
    (
        "schema-and-meaning-together",
        M.replace("tier: 1", 'tier: "1"')
        .replace('{code: "5.."}', "{code: '5(..'}")
        .replace("objective: 99.9", "objective: 90"),
    ),
    ("unknown-field-suggestion", M.replace("  tier: 1\n", "  tier: 1\n  teir: 2\n")),
    ("another-api-version", M.replace("perfdash/v1", "perfdash/v2")),
    ("unknown-kind", M.replace("kind: Service", "kind: Dashboard")),
    (
        "missing-sli",
        M.replace(
            '      sli:\n        events: {total: http_requests_total, bad: {code: "5.."}}\n', ""
        ),
    ),
    (
        "two-slis",
        M.replace(
            'events: {total: http_requests_total, bad: {code: "5.."}}',
            'events: {total: t, bad: {code: "5.."}}\n        raw: {bad: x, total: y}',
        ),
    ),
]

FILE_CASES: list[Case] = [
    Case("symlink-to-a-secret-outside", {"slos/leak.yaml": Link("@secret")}, ()),
    Case("symlink-to-a-folder-outside", {"slos/shared": Link("@outside")}, ()),
    Case("broken-symlink", {"slos/broken.yaml": Link("slos/nothing-here.yaml")}, ()),
    Case("fifo-named-yaml", {"slos/pipe.yaml": Fifo()}, ()),
    Case("device-on-the-command-line", {}, (), args=("build", "/dev/zero")),
    Case(
        "jsonnet-importstr-of-a-secret",
        {
            BAD: MINIMAL_SERVICE,
            "dashboards/overrides/checkout.libsonnet": (
                "function(d) d { description: importstr '{secret}' }\n"
            ),
        },
        (),
    ),
    Case(
        "jsonnet-import-through-a-symlink",
        {
            BAD: MINIMAL_SERVICE,
            "dashboards/lib.libsonnet": Link("@secret"),
            "dashboards/overrides/checkout.libsonnet": (
                "function(d) d { description: importstr '../lib.libsonnet' }\n"
            ),
        },
        (),
    ),
    Case(
        "jsonnet-extra-dashboard-reads-a-secret",
        {
            "dashboards/src/leak.jsonnet": "{ uid: 'leak', title: importstr '{secret}', panels: [] }\n"
        },
        (),
    ),
]


EXPECTED: dict[str, tuple[str, ...]] = {
    "nul-byte-in-a-value": (
        "slos/bad.yaml:5:12: character U+0000 is not allowed in YAML (a binary file?)",
    ),
    "nul-byte-first": (
        "slos/bad.yaml:1:1: character U+0000 is not allowed in YAML (a binary file?)",
    ),
    "escape-character-raw": (
        "slos/bad.yaml:5:9: character U+001B is not allowed in YAML (a binary file?)",
    ),
    "delete-character-raw": (
        "slos/bad.yaml:6:10: character U+007F is not allowed in YAML (a binary file?)",
    ),
    "c1-control-csi-raw": (
        "slos/bad.yaml:5:12: character U+009B is not allowed in YAML (a binary file?)",
    ),
    "invalid-utf8-byte": (
        "slos/bad.yaml:5:12: not UTF-8 text: byte 0xff cannot start or continue a "
        "character (declarations must be UTF-8)",
    ),
    "latin-1-file": (
        "slos/bad.yaml:5:12: not UTF-8 text: byte 0xe9 cannot start or continue a "
        "character (declarations must be UTF-8)",
    ),
    "utf-16-file": (
        "slos/bad.yaml:1:1: not UTF-8 text: byte 0xff cannot start or continue a "
        "character (declarations must be UTF-8)",
    ),
    "truncated-multibyte-at-end": (
        "slos/bad.yaml:15:3: not UTF-8 text: byte 0xe2 cannot start or continue a "
        "character (declarations must be UTF-8)",
    ),
    "png-file-named-yaml": (
        "slos/bad.yaml:1:1: not UTF-8 text: byte 0x89 cannot start or continue a "
        "character (declarations must be UTF-8)",
    ),
    "file-over-2-mib": (
        "slos/bad.yaml: file is 5.0 MiB, more than the 2 MiB a declaration file may have; "
        "not read (split it into several files)",
    ),
    "invalid-unicode-escape": (
        "slos/bad.yaml:5:12: YAML syntax error: while parsing a quoted scalar found "
        "invalid Unicode character escape code",
    ),
    "unclosed-flow-sequence": (
        "slos/bad.yaml:6:7: YAML syntax error: while parsing a flow sequence did not "
        "find expected ',' or ']'",
    ),
    "tab-indentation": (
        "slos/bad.yaml:5:1: YAML syntax error: while scanning a plain scalar found a "
        "tab character that violates indentation",
    ),
    "mapping-value-in-scalar": (
        "slos/bad.yaml:5:17: YAML syntax error: mapping values are not allowed in this context",
    ),
    "duplicate-key-and-schema-error": (
        "slos/bad.yaml:7:3: metadata.tier: duplicate key 'tier' (first written at line 6)",
        "slos/bad.yaml:13:18: spec.slos[0].objective: must be a percentage strictly "
        "between 0 and 100, got 100",
    ),
    "alias-bomb": (
        "slos/bad.yaml:1:15: document expands to more than 100000 values (YAML "
        "aliases nested too deeply?); refused",
    ),
    "undefined-alias": ("slos/bad.yaml:5:9: undefined alias 'payments'",),
    "alias-from-another-document": (
        "slos/bad.yaml:1:1: missing required field 'apiVersion'",
        "slos/bad.yaml:1:1: missing required field 'kind'",
        "slos/bad.yaml:7:9: undefined alias 't'",
    ),
    "nesting-100-levels": ("slos/bad.yaml:1:68: YAML nesting deeper than 64 levels; refused",),
    "document-of-200000-values": (
        "slos/bad.yaml:1:199999: the document has more than 100000 values; refused",
    ),
    "file-of-400000-values": (
        "slos/bad.yaml:2:1: must be a mapping, got a list",
        "slos/bad.yaml:4:1: must be a mapping, got a list",
        "slos/bad.yaml:6:1: must be a mapping, got a list",
        "slos/bad.yaml:8:5988: the file has more than 300000 values; refused",
    ),
    "second-document-broken-first-invalid": (
        "slos/bad.yaml:6:9: metadata.tier: must be at most 4, got 9",
        "slos/bad.yaml:17:1: YAML syntax error: while parsing a flow node did not "
        "find expected node content",
    ),
    "document-is-a-list": ("slos/bad.yaml:1:1: must be a mapping, got a list",),
    "document-is-a-string": (
        "slos/bad.yaml:1:1: must be a mapping, got a string 'just some text'",
    ),
    "complex-key": (
        "slos/bad.yaml:7:5: metadata.[a complex key]: unknown field '[a complex "
        "key]' (allowed: description, labels, name, runbook, team, tier)",
    ),
    "python-object-tag": ("slos/bad.yaml:2:7: kind: must be one of Service, Team, got ['id']",),
    "merge-of-an-undefined-alias": ("slos/bad.yaml:7:7: undefined alias 'base'",),
    "null-key": (
        "slos/bad.yaml:7:3: metadata.~: unknown field '~' (allowed: description, "
        "labels, name, runbook, team, tier)",
    ),
    "service-name-trailing-newline": (
        "slos/bad.yaml:4:9: metadata.name: must be lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit, got 'checkout\\n'",
    ),
    "service-name-block-scalar-newline": (
        "slos/bad.yaml:4:9: metadata.name: must be lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit, got 'checkout\\n'",
    ),
    "team-trailing-newline": (
        "slos/bad.yaml:5:9: metadata.team: must be lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit, got 'payments\\n'",
    ),
    "slo-name-trailing-newline": (
        "slos/bad.yaml:11:13: spec.slos[0].name: must be lowercase letters, digits "
        "and dashes, starting and ending with a letter or digit, got "
        "'availability\\n'",
    ),
    "service-name-terminal-escape": (
        "slos/bad.yaml:4:9: metadata.name: must be lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit, got '\\x1b[31mcheckout'",
    ),
    "label-value-newline": (
        "slos/bad.yaml:7:17: metadata.labels.env: must not contain control "
        "characters (a newline, a tab, an escape...), got 'prod\\n'",
    ),
    "label-value-osc52-clipboard": (
        "slos/bad.yaml:7:17: metadata.labels.env: must not contain control "
        "characters (a newline, a tab, an escape...), got '\\x1b]52;c;ZXZpbA==\\x07'",
    ),
    "selector-value-newline": (
        "slos/bad.yaml:9:19: spec.selector.job: must not contain control characters "
        "(a newline, a tab, an escape...), got 'checkout\\nx'",
    ),
    "bad-matcher-control-character": (
        "slos/bad.yaml:14:58: spec.slos[0].sli.events.bad.code: must not contain "
        "control characters (a newline, a tab, an escape...), got '5..\\x07'",
    ),
    "runbook-terminal-escape": (
        "slos/bad.yaml:7:12: metadata.runbook: must be an http(s) URL, got "
        "'https://runbooks.example.com/\\x1b[2J'",
    ),
    "runbook-trailing-newline": (
        "slos/bad.yaml:7:12: metadata.runbook: must be an http(s) URL, got "
        "'https://runbooks.example.com/checkout\\n'",
    ),
    "description-escape": (
        "slos/bad.yaml:7:16: metadata.description: must not contain control "
        "characters other than newlines and tabs, got 'Checkout \\x1b[5m'",
    ),
    "annotation-bell": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: must not "
        "contain control characters other than newlines and tabs, got 'burning \\x07'",
    ),
    "benchmark-name-newline": (
        "slos/bad.yaml:16:18: spec.baselines[0].benchmark: must not contain control "
        "characters (a newline, a tab, an escape...), got 'api\\n'",
    ),
    "name-64-characters": (
        "slos/bad.yaml:4:9: metadata.name: must be lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit, got "
        "'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'... (64 "
        "characters)",
    ),
    "name-uppercase": (
        "slos/bad.yaml:4:9: metadata.name: must be lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit, got 'Checkout'",
    ),
    "name-path-traversal": (
        "slos/bad.yaml:4:9: metadata.name: must be lowercase letters, digits and "
        "dashes, starting and ending with a letter or digit, got '../../etc'",
    ),
    "jsonnet-path-leaves-the-project": (
        "slos/bad.yaml:10:24: spec.dashboard.jsonnet: must be a file inside the project folder",
    ),
    "jsonnet-path-not-a-jsonnet-file": (
        "slos/bad.yaml:10:24: spec.dashboard.jsonnet: must be the path of a "
        ".libsonnet or .jsonnet file, got 'override.json'",
    ),
    "jsonnet-file-missing": (
        "slos/bad.yaml:10:24: spec.dashboard.jsonnet: no such file: missing.jsonnet",
    ),
    "service-named-overview": (
        "slos/bad.yaml:4:9: metadata.name: service name 'overview' would give its "
        "dashboard the uid 'pd-overview', which is the overview dashboard's: choose "
        "another name",
    ),
    "team-named-extra": (
        "slos/bad.yaml:5:9: metadata.team: team 'extra' cannot be used: "
        "dashboards/extra/ holds the Jsonnet extra dashboards",
    ),
    "service-name-taken": (
        "slos/good.yaml:4:9: metadata.name: duplicate service name 'good' (first "
        "declared at slos/bad.yaml:4)",
    ),
    "objective-nan": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: must be a finite number, got .nan",
    ),
    "objective-infinity": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: must be a finite number, got .inf",
    ),
    "objective-minus-infinity": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: must be a finite number, got -.inf",
    ),
    "latency-threshold-nan": (
        "slos/bad.yaml:14:72: spec.slos[0].sli.latency.threshold: must be a finite "
        "number, got .NaN",
    ),
    "budget-percent-nan": (
        "slos/bad.yaml:17:67: spec.slos[0].alerting.windows[0].budget_percent: must "
        "be a finite number, got .nan",
    ),
    "objective-huge-exponent": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: number 1.0e+999999 is out of "
        "range: at most 20 significant digits, between 1e-15 and 1e15",
    ),
    "objective-25-digits": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: number "
        "99.99999999999999999999999 is out of range: at most 20 significant digits, "
        "between 1e-15 and 1e15",
    ),
    "tier-huge-integer": (
        "slos/bad.yaml:6:9: metadata.tier: number 99999999999999999999999 is out of "
        "range: at most 20 significant digits, between 1e-15 and 1e15",
    ),
    "tier-huge-hex": (
        "slos/bad.yaml:6:9: metadata.tier: number "
        "0xffffffffffffffffffffffffffffffffffffff is out of range: at most 20 "
        "significant digits, between 1e-15 and 1e15",
    ),
    "tier-5000-digits": (
        "slos/bad.yaml:6:9: metadata.tier: number "
        "9999999999999999999999999999999999999999 is out of range: at most 20 "
        "significant digits, between 1e-15 and 1e15",
    ),
    "objective-as-a-ratio": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: objective is a percentage: did "
        "you mean 99.95? (0.9995 means 0.9995% of events are good)",
    ),
    "objective-as-a-half": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: objective is a percentage: did "
        "you mean 50? (0.5 means 0.5% of events are good)",
    ),
    "objective-100": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: must be a percentage strictly "
        "between 0 and 100, got 100",
    ),
    "objective-quoted": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: must be a number, got a string '99.9'",
    ),
    "tier-fraction": ("slos/bad.yaml:6:9: metadata.tier: must be an integer, got a number 1.5",),
    "latency-threshold-negative": (
        "slos/bad.yaml:14:72: spec.slos[0].sli.latency.threshold: must be a positive "
        "number of seconds, got -0.3",
    ),
    "baseline-threshold-negative": (
        "slos/bad.yaml:17:25: spec.baselines[0].thresholds.p95: threshold -5: "
        "expected a percentage, 0 or more",
    ),
    "go-template-perfdash-name": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: Prometheus "
        'would refuse the annotation: function "service" not defined: perfdash\'s '
        "values are written [[ service ]]; {{ }} is Prometheus' own",
    ),
    "go-template-stray-end": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: Prometheus "
        "would refuse the annotation: unexpected {{end}}",
    ),
    "go-template-undefined-variable": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: Prometheus "
        'would refuse the annotation: undefined variable "$foo" (Prometheus defines '
        "$labels, $externalLabels, $externalURL, $value)",
    ),
    "go-template-unclosed-action": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: Prometheus "
        "would refuse the annotation: unclosed action",
    ),
    "go-template-from-jinja-output": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: Prometheus "
        "would refuse the annotation: unexpected {{end}}",
    ),
    "go-template-only-in-a-ticket-window": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: Prometheus "
        'would refuse the annotation: function "nope" not defined',
    ),
    "go-template-in-description-line-3": (
        "slos/bad.yaml:17:24: spec.slos[0].alerting.annotations.description: "
        "Prometheus would refuse the annotation: unexpected {{end}} (line 3)",
    ),
    "jinja-undefined-name": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: 'servcie' is undefined",
    ),
    "jinja-syntax-error": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: unexpected end of template, expected 'end of print statement'.",
    ),
    "jinja-two-billion-x": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: a repeated value would be larger than 16384 characters; refused",
    ),
    "jinja-power-tower": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: 9 ** 99999 is too large a number; refused",
    ),
    "jinja-nested-range-loops": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: range(0, 100000) has more than 10000 numbers: more steps than "
        "allowed",
    ),
    "jinja-nested-string-loops": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: stopped after 10000 steps (loop iterations, calls and lookups): "
        "annotation templates must stay small",
    ),
    "jinja-division-by-zero": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: division by zero",
    ),
    "jinja-include": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: annotation templates cannot extend, include or import other "
        "templates",
    ),
    "jinja-lipsum": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: 'lipsum' is undefined",
    ),
    "jinja-dunder-escape": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: str.__class__ is not available in annotation templates",
    ),
    "jinja-recursive-macro": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: a macro or recursive loop calls itself without end (recursion too "
        "deep)",
    ),
    "jinja-output-too-long": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: annotation "
        "template: the rendered text is longer than 16384 characters; refused",
    ),
    "jinja-renders-an-escape": (
        "slos/bad.yaml:17:20: spec.slos[0].alerting.annotations.summary: the "
        "rendered annotation contains the control character U+001B: alerts are read "
        "in terminals and chat",
    ),
    "alert-label-template": (
        "slos/bad.yaml:16:27: spec.slos[0].alerting.labels.channel: Prometheus reads "
        'alert label values as templates and would refuse this one: function "nope" '
        "not defined",
    ),
    "metadata-label-template": (
        "slos/bad.yaml:7:17: metadata.labels.env: Prometheus reads alert label "
        "values as templates and would refuse this one: unexpected {{end}}",
    ),
    "runbook-template": (
        "slos/bad.yaml:7:12: metadata.runbook: alerts carry the runbook URL as a "
        "template and Prometheus would refuse it: unexpected {{end}}",
    ),
    "service-level-template-for-two-slos": (
        "slos/bad.yaml:11:28: spec.alerting.annotations.summary: Prometheus would "
        'refuse the annotation: function "slo" not defined: perfdash\'s values are '
        "written [[ slo ]]; {{ }} is Prometheus' own",
    ),
    "raw-grouping-label-aggregated-away": (
        "slos/bad.yaml:16:16: spec.slos[0].sli.raw.bad: grouping label 'queue' "
        "cannot be in this query's result: an aggregation drops it; keep it with by "
        "(queue), e.g. sum by (queue) (rate(...))",
    ),
    "raw-grouping-label-excluded": (
        "slos/bad.yaml:16:16: spec.slos[0].sli.raw.bad: grouping label 'queue' "
        "cannot be in this query's result: an aggregation drops it; keep it with by "
        "(queue), e.g. sum by (queue) (rate(...))",
    ),
    "raw-without-window": (
        "slos/bad.yaml:15:16: spec.slos[0].sli.raw.bad: raw PromQL must use {{ "
        "window }} for its range, e.g. rate(x[{{ window }}])",
    ),
    "raw-unknown-placeholder": (
        "slos/bad.yaml:15:16: spec.slos[0].sli.raw.bad: unknown placeholder {{ scale "
        "}}: only {{ window }} is replaced",
    ),
    "raw-does-not-parse": (
        "slos/bad.yaml:15:16: spec.slos[0].sli.raw.bad: PromQL does not parse: "
        "unclosed left parenthesis",
    ),
    "raw-range-vector": (
        "slos/bad.yaml:15:16: spec.slos[0].sli.raw.bad: PromQL must return an "
        "instant vector (events per second), not a range or string",
    ),
    "histogram-bucket-series": (
        "slos/bad.yaml:14:30: spec.slos[0].sli.latency.histogram: give the "
        "histogram's base name, not its _bucket series: http_server_requests_seconds "
        "(perfdash reads http_server_requests_seconds_bucket and "
        "http_server_requests_seconds_count)",
    ),
    "histogram-count-series": (
        "slos/bad.yaml:14:30: spec.slos[0].sli.latency.histogram: give the "
        "histogram's base name, not its _count series: http_server_requests_seconds "
        "(perfdash reads http_server_requests_seconds_bucket and "
        "http_server_requests_seconds_count)",
    ),
    "red-duration-sum-series": (
        "slos/bad.yaml:10:50: spec.red.duration: give the histogram's base name, not "
        "its _sum series: http_request_duration_seconds (perfdash reads "
        "http_request_duration_seconds_bucket and "
        "http_request_duration_seconds_count)",
    ),
    "invalid-regex": (
        "slos/bad.yaml:14:58: spec.slos[0].sli.events.bad.code: invalid regular "
        "expression '5(..': illegal regex for 5(..",
    ),
    "reserved-label": (
        "slos/bad.yaml:7:12: metadata.labels.severity: label 'severity' is set by "
        "perfdash and cannot be declared",
    ),
    "reserved-grouping-label": (
        "slos/bad.yaml:15:18: spec.slos[0].grouping[0]: 'slo' is set by perfdash; "
        "group by another label",
    ),
    "dunder-matcher": ("slos/bad.yaml:9:29: spec.selector.__name__: label '__name__' is reserved",),
    "le-latency-matcher": (
        "slos/bad.yaml:14:64: spec.slos[0].sli.latency.matchers.le: le is set from "
        "threshold; remove it",
    ),
    "window-12h": ("slos/bad.yaml:15:15: spec.slos[0].window: SLO window must be at least 1d",),
    "window-a-million-weeks": (
        "slos/bad.yaml:15:15: spec.slos[0].window: '1000000w' is longer than 5200w",
    ),
    "window-in-words": (
        "slos/bad.yaml:15:15: spec.slos[0].window: must be a duration such as 5m, "
        "1h30m or 28d (units w, d, h, m, s, largest first), got '30 days'",
    ),
    "window-digits-overflow": (
        "slos/bad.yaml:15:15: spec.slos[0].window: "
        "'9999999999999999999999999999999999999999d' is longer than 5200w",
    ),
    "short-window-not-shorter": (
        "slos/bad.yaml:17:47: spec.slos[0].alerting.windows[0].short: short window "
        "1h must be shorter than the long window 1h",
    ),
    "alert-window-longer-than-slo": (
        "slos/bad.yaml:15:15: spec.slos[0].window: the page alert's long window 2d "
        "is longer than the SLO window 1d",
    ),
    "page-can-never-fire": (
        "slos/bad.yaml:12:18: spec.slos[0].objective: the page alert over 1h/5m can "
        "never fire: burn factor 14.4 x error budget 0.1 = 1.44 >= 1 (an error ratio "
        "cannot exceed 100%); disable it (alerting.page: false) or declare "
        "alerting.windows",
    ),
    "duplicate-slo-name": (
        "slos/bad.yaml:15:13: spec.slos[1].name: duplicate SLO name 'availability' "
        "(first at spec.slos[0])",
    ),
    "no-runbook": (
        "slos/bad.yaml:3:1: metadata.runbook: service 'checkout' has alerts but no "
        "runbook: add metadata.runbook (or a runbook on each alerting SLO; `perfdash "
        "runbooks` writes a stub to start from)",
    ),
    "team-without-receivers": (
        "slos/bad.yaml:5:9: metadata.team: team 'payments' has no Team declaration "
        "with page and ticket receivers (or set spec.routing on the service)",
        "slos/good.yaml:5:9: metadata.team: team 'payments' has no Team declaration "
        "with page and ticket receivers (or set spec.routing on the service)",
    ),
    "schema-and-meaning-together": (
        "slos/bad.yaml:6:9: metadata.tier: must be an integer, got a string '1'",
        "slos/bad.yaml:12:18: spec.slos[0].objective: the page alert over 1h/5m can "
        "never fire: burn factor 14.4 x error budget 0.1 = 1.44 >= 1 (an error ratio "
        "cannot exceed 100%); disable it (alerting.page: false) or declare "
        "alerting.windows",
        "slos/bad.yaml:14:58: spec.slos[0].sli.events.bad.code: invalid regular "
        "expression '5(..': illegal regex for 5(..",
    ),
    "unknown-field-suggestion": (
        "slos/bad.yaml:7:3: metadata.teir: unknown field 'teir': did you mean 'tier'?",
    ),
    "another-api-version": (
        "slos/bad.yaml:1:13: apiVersion: must be 'perfdash/v1', got 'perfdash/v2'",
    ),
    "unknown-kind": ("slos/bad.yaml:2:7: kind: must be one of Service, Team, got 'Dashboard'",),
    "missing-sli": ("slos/bad.yaml:11:7: spec.slos[0]: missing required field 'sli'",),
    "two-slis": (
        "slos/bad.yaml:14:9: spec.slos[0].sli: must have exactly one of events, "
        "latency, raw, got a mapping",
    ),
    "symlink-to-a-secret-outside": (
        "slos/leak.yaml: symbolic link to a file outside slos/; not read",
    ),
    "symlink-to-a-folder-outside": (
        "slos/shared: symbolic link to a folder outside slos/; not followed",
    ),
    "broken-symlink": (
        "slos/broken.yaml: symbolic link to something that is not a regular file; not read",
    ),
    "fifo-named-yaml": ("slos/pipe.yaml: not a regular file; not read",),
    "device-on-the-command-line": ("/dev/zero: not a regular file; not read",),
    "jsonnet-importstr-of-a-secret": (
        "dashboards/overrides/checkout.libsonnet:1:30: jsonnet: RUNTIME ERROR: "
        'couldn\'t open import "{secret}": outside the project and the Jsonnet '
        "folder; not read",
    ),
    "jsonnet-import-through-a-symlink": (
        "dashboards/overrides/checkout.libsonnet:1:30: jsonnet: RUNTIME ERROR: "
        'couldn\'t open import "../lib.libsonnet": outside the project and the '
        "Jsonnet folder; not read",
    ),
    "jsonnet-extra-dashboard-reads-a-secret": (
        "dashboards/src/leak.jsonnet:1:23: jsonnet: RUNTIME ERROR: couldn't open "
        'import "{secret}": outside the project and the Jsonnet folder; not read',
    ),
}

CASES = [Case(id, {BAD: content}, EXPECTED[id]) for id, content in DRAFT]
FILE_CASES = [replace(case, expected=EXPECTED[case.id]) for case in FILE_CASES]
