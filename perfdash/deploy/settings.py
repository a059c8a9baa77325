"""Where plan and apply deploy to: options, then environment, then ``perfdash.yaml``.

Each setting is taken from the first place that has it: a command-line option, an
environment variable, the ``perfdash.yaml`` of the current folder (or ``--config``).
Secrets (Grafana's token or password, the ruler's password) come only from the
environment or from a file named in ``perfdash.yaml``: never from argv, never from the
config file itself, which is committed. They are held as ``Secret``, whose ``repr``
and ``str`` never show the value.

    grafana:                        # perfdash.yaml
      url: https://grafana.example.com
      org_id: 1
      ca_cert: certs/internal-ca.pem
      token_file: /run/secrets/grafana-token
    rules:
      dir: /etc/prometheus/rules/perfdash
      prometheus_url: http://localhost:9090
    pushgateway: http://pushgateway:9091
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from perfdash.errors import ConfigError

CONFIG_FILE = "perfdash.yaml"
DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 5
DEFAULT_RULER_NAMESPACE = "perfdash"

_SECTIONS: dict[str, frozenset[str]] = {
    "grafana": frozenset(
        {
            "url",
            "user",
            "org_id",
            "ca_cert",
            "insecure",
            "concurrency",
            "timeout",
            "retries",
            "token_file",
            "password_file",
        }
    ),
    "rules": frozenset(
        {"dir", "prometheus_url", "ruler_url", "ruler_namespace", "tenant", "ruler_user"}
    ),
}
_SECRET_KEYS = frozenset({"token", "password", "api_key", "ruler_password"})


class Secret:
    """A credential: ``reveal()`` gives the value; printing it never does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class GrafanaSettings:
    url: str
    token: Secret | None = None
    user: str | None = None
    password: Secret | None = None
    org_id: int | None = None
    ca_cert: Path | None = None
    insecure: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES

    def secrets(self) -> tuple[str, ...]:
        return tuple(s.reveal() for s in (self.token, self.password) if s is not None)


@dataclass(frozen=True)
class RulerSettings:
    url: str
    namespace: str = DEFAULT_RULER_NAMESPACE
    tenant: str | None = None
    user: str | None = None
    password: Secret | None = None


@dataclass(frozen=True)
class DeploySettings:
    """Every target of one plan/apply run; a target left out is None."""

    grafana: GrafanaSettings | None = None
    rules_dir: Path | None = None
    prometheus_url: str | None = None
    ruler: RulerSettings | None = None
    pushgateway: str | None = None

    @property
    def empty(self) -> bool:
        return self.grafana is None and self.rules_dir is None and self.ruler is None


def load_settings(
    *, options: Mapping[str, Any], environ: Mapping[str, str], config_path: Path | None = None
) -> DeploySettings:
    """Merge ``options`` (None = not given), ``environ`` and the config file.

    ``config_path`` None means ``perfdash.yaml`` in the current folder when it exists.
    """
    explicit = config_path is not None
    path = config_path if config_path is not None else Path(CONFIG_FILE)
    document = _read_config(path, required=explicit)
    grafana_doc = document.get("grafana") or {}
    rules_doc = document.get("rules") or {}
    base = path.parent

    def pick(option: str, env: str | None, section: Mapping[str, Any], key: str) -> Any:
        if options.get(option) is not None:
            return options[option]
        if env and environ.get(env):
            return environ[env]
        return section.get(key)

    return DeploySettings(
        grafana=_grafana(options, environ, grafana_doc, base, pick),
        rules_dir=_path(pick("rules_dir", None, rules_doc, "dir"), base),
        prometheus_url=_url(
            pick("prometheus_url", None, rules_doc, "prometheus_url"), "rules.prometheus_url"
        ),
        ruler=_ruler(environ, rules_doc, pick),
        pushgateway=_url(pick("pushgateway", None, document, "pushgateway"), "pushgateway"),
    )


def _grafana(
    options: Mapping[str, Any],
    environ: Mapping[str, str],
    doc: Mapping[str, Any],
    base: Path,
    pick: Any,
) -> GrafanaSettings | None:
    url = _url(pick("grafana_url", "GRAFANA_URL", doc, "url"), "grafana.url")
    if url is None:
        return None
    token = _secret(environ.get("GRAFANA_TOKEN"), doc.get("token_file"), base, "token_file")
    password = _secret(
        environ.get("GRAFANA_PASSWORD"), doc.get("password_file"), base, "password_file"
    )
    user = pick("grafana_user", "GRAFANA_USER", doc, "user")
    if token is not None and (user or password is not None):
        raise ConfigError(
            "Grafana credentials: set either GRAFANA_TOKEN (a service-account token) or "
            "GRAFANA_USER and GRAFANA_PASSWORD, not both"
        )
    if (user is None) != (password is None):
        raise ConfigError("Grafana basic auth needs both GRAFANA_USER and GRAFANA_PASSWORD")
    insecure = bool(options.get("insecure")) or bool(doc.get("insecure", False))
    return GrafanaSettings(
        url=url,
        token=token,
        user=str(user) if user is not None else None,
        password=password,
        org_id=_int(pick("org_id", "GRAFANA_ORG_ID", doc, "org_id"), "GRAFANA_ORG_ID", 1),
        ca_cert=_path(pick("ca_cert", None, doc, "ca_cert"), base),
        insecure=insecure,
        concurrency=_int(pick("concurrency", None, doc, "concurrency"), "concurrency", 1)
        or DEFAULT_CONCURRENCY,
        timeout=float(pick("timeout", None, doc, "timeout") or DEFAULT_TIMEOUT),
        retries=_int(pick("retries", None, doc, "retries"), "retries", 1) or DEFAULT_RETRIES,
    )


def _ruler(environ: Mapping[str, str], doc: Mapping[str, Any], pick: Any) -> RulerSettings | None:
    url = _url(pick("ruler_url", None, doc, "ruler_url"), "rules.ruler_url")
    if url is None:
        return None
    user = environ.get("PERFDASH_RULER_USER") or doc.get("ruler_user")
    password = environ.get("PERFDASH_RULER_PASSWORD")
    return RulerSettings(
        url=url,
        namespace=str(
            pick("ruler_namespace", None, doc, "ruler_namespace") or DEFAULT_RULER_NAMESPACE
        ),
        tenant=pick("tenant", None, doc, "tenant"),
        user=str(user) if user else None,
        password=Secret(password) if password else None,
    )


def _read_config(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such config file") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: must be a mapping with grafana:, rules:, pushgateway:")
    problems = []
    for key, value in document.items():
        if key == "pushgateway":
            continue
        if key not in _SECTIONS:
            problems.append(f"{path}: {key}: unknown setting (known: grafana, rules, pushgateway)")
            continue
        if not isinstance(value, dict):
            problems.append(f"{path}: {key}: must be a mapping")
            continue
        for name in value:
            if name in _SECRET_KEYS:
                problems.append(
                    f"{path}: {key}.{name} is a secret and does not belong in a committed "
                    "file: use the environment (GRAFANA_TOKEN, GRAFANA_PASSWORD) or token_file"
                )
            elif name not in _SECTIONS[key]:
                known = ", ".join(sorted(_SECTIONS[key]))
                problems.append(f"{path}: {key}.{name}: unknown setting (known: {known})")
    if problems:
        raise ConfigError("\n".join(problems))
    return document


def _secret(value: str | None, file: Any, base: Path, key: str) -> Secret | None:
    if value:
        return Secret(value)
    if not file:
        return None
    path = _path(file, base)
    assert path is not None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"grafana.{key}: cannot read {path}: {exc.strerror}") from exc
    return Secret(text) if text else None


def _url(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}: {text!r} is not an http(s) URL")
    return text


def _path(value: Any, base: Path) -> Path | None:
    if value is None or value == "":
        return None
    path = Path(str(value))
    return path if path.is_absolute() else base / path


def _int(value: Any, name: str, minimum: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: must be an integer, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
    return number
