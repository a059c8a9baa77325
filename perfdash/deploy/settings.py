"""Where plan and apply deploy to: options, then environment, then ``perfdash.yaml``.

Each setting is taken from the first place that has it: a command-line option, an
environment variable, the ``perfdash.yaml`` of the current folder (or ``--config``).
Secrets (Grafana's token or password, the ruler's password) come only from the
environment or from a file named in ``perfdash.yaml``: never from argv, never from the
config file itself, which is committed. They are held as ``Secret``, whose ``repr``
and ``str`` never show the value, and which registers the value with
``perfdash.errors.redact`` so that no message or log line can show it either.

A URL may carry ``user:password@`` (percent-encoded): the credentials are taken out
(``Endpoint``) and sent as basic auth, and only the URL without them is ever printed.
A URL that is not one (no scheme, a bad port, a ``/`` in an unencoded password) is a
``ConfigError`` naming the setting, never quoting the value.

    grafana:                        # perfdash.yaml
      url: https://grafana.example.com
      org_id: 1
      ca_cert: certs/internal-ca.pem
      token_file: /run/secrets/grafana-token
      timeout: 30                   # seconds for each request as a whole (every target)
      max_response_mb: 32           # largest answer accepted from any server
      max_pages: 100                # longest list (pages) read from Grafana
    rules:
      dir: /etc/prometheus/rules/perfdash
      prometheus_url: http://localhost:9090
    pushgateway: http://pushgateway:9091
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

import yaml

from perfdash.deploy.http import (
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    MIB,
    Limits,
)
from perfdash.errors import ConfigError, register_secret

CONFIG_FILE = "perfdash.yaml"
DEFAULT_CONCURRENCY = 8
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
            "max_response_mb",
            "max_pages",
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
        register_secret(value)

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
class Endpoint:
    """A server's URL without credentials, and the basic-auth credentials it carried."""

    url: str
    user: str | None = None
    password: Secret | None = field(default=None, compare=False)


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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_pages: int = DEFAULT_MAX_PAGES

    def secrets(self) -> tuple[str, ...]:
        return tuple(s.reveal() for s in (self.token, self.password) if s is not None)

    @property
    def limits(self) -> Limits:
        return Limits(self.timeout, self.max_response_bytes, self.max_pages)


@dataclass(frozen=True)
class RulerSettings:
    url: str
    namespace: str = DEFAULT_RULER_NAMESPACE
    tenant: str | None = None
    user: str | None = None
    password: Secret | None = None


@dataclass(frozen=True)
class DeploySettings:
    """Every target of one plan/apply run; a target left out is None. ``limits`` and
    ``retries`` hold for every target."""

    grafana: GrafanaSettings | None = None
    rules_dir: Path | None = None
    prometheus: Endpoint | None = None
    ruler: RulerSettings | None = None
    pushgateway: Endpoint | None = None
    limits: Limits = field(default_factory=Limits)
    retries: int = DEFAULT_RETRIES

    @property
    def empty(self) -> bool:
        return self.grafana is None and self.rules_dir is None and self.ruler is None


Picked = tuple[Any, str]  # a value and where it came from (for messages)
Pick = Callable[[str, str | None, str, str], Picked]


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
    base = path.parent

    def pick(option: str, env: str | None, section: str, key: str) -> Picked:
        """The option, else the variable, else ``section.key`` of the file (``section``
        empty: a top-level key), with where it came from."""
        if options.get(option) is not None:
            return options[option], "--" + option.replace("_", "-")
        if env and environ.get(env):
            return environ[env], env
        if not section:
            return document.get(key), f"{path}: {key}"
        return (document.get(section) or {}).get(key), f"{path}: {section}.{key}"

    limits = Limits(
        timeout=_number(*pick("timeout", None, "grafana", "timeout"), DEFAULT_TIMEOUT),
        max_response_bytes=round(
            _number(
                *pick("max_response_mb", None, "grafana", "max_response_mb"),
                DEFAULT_MAX_RESPONSE_BYTES / MIB,
            )
            * MIB
        ),
        max_pages=_int(*pick("max_pages", None, "grafana", "max_pages"), 1) or DEFAULT_MAX_PAGES,
    )
    retries = _int(*pick("retries", None, "grafana", "retries"), 1) or DEFAULT_RETRIES
    return DeploySettings(
        grafana=_grafana(options, environ, grafana_doc, base, pick, limits, retries),
        rules_dir=_path(*pick("rules_dir", None, "rules", "dir"), base),
        prometheus=parse_url(*pick("prometheus_url", None, "rules", "prometheus_url")),
        ruler=_ruler(environ, pick),
        pushgateway=parse_url(*pick("pushgateway", None, "", "pushgateway")),
        limits=limits,
        retries=retries,
    )


def _grafana(
    options: Mapping[str, Any],
    environ: Mapping[str, str],
    doc: Mapping[str, Any],
    base: Path,
    pick: Pick,
    limits: Limits,
    retries: int,
) -> GrafanaSettings | None:
    endpoint = parse_url(*pick("grafana_url", "GRAFANA_URL", "grafana", "url"))
    if endpoint is None:
        return None
    token = _secret(environ.get("GRAFANA_TOKEN"), doc.get("token_file"), base, "token_file")
    password = _secret(
        environ.get("GRAFANA_PASSWORD"), doc.get("password_file"), base, "password_file"
    )
    user = _text(*pick("grafana_user", "GRAFANA_USER", "grafana", "user"))
    if endpoint.user is not None:
        if token is not None or user is not None or password is not None:
            raise ConfigError(
                "Grafana credentials are given twice: in the URL and in GRAFANA_TOKEN, "
                "GRAFANA_USER or GRAFANA_PASSWORD; keep one (the environment is better)"
            )
        user, password = endpoint.user, endpoint.password
    if token is not None and (user or password is not None):
        raise ConfigError(
            "Grafana credentials: set either GRAFANA_TOKEN (a service-account token) or "
            "GRAFANA_USER and GRAFANA_PASSWORD, not both"
        )
    if (user is None) != (password is None):
        raise ConfigError("Grafana basic auth needs both GRAFANA_USER and GRAFANA_PASSWORD")
    insecure = bool(options.get("insecure")) or _bool(doc.get("insecure", False), "insecure")
    return GrafanaSettings(
        url=endpoint.url,
        token=token,
        user=user,
        password=password,
        org_id=_int(*pick("org_id", "GRAFANA_ORG_ID", "grafana", "org_id"), 1),
        ca_cert=_path(*pick("ca_cert", None, "grafana", "ca_cert"), base),
        insecure=insecure,
        concurrency=_int(*pick("concurrency", None, "grafana", "concurrency"), 1)
        or DEFAULT_CONCURRENCY,
        timeout=limits.timeout,
        retries=retries,
        max_response_bytes=limits.max_response_bytes,
        max_pages=limits.max_pages,
    )


def _ruler(environ: Mapping[str, str], pick: Pick) -> RulerSettings | None:
    endpoint = parse_url(*pick("ruler_url", None, "rules", "ruler_url"))
    if endpoint is None:
        return None
    user = _text(*pick("ruler_user", "PERFDASH_RULER_USER", "rules", "ruler_user"))
    password = environ.get("PERFDASH_RULER_PASSWORD")
    secret = Secret(password) if password else None
    if endpoint.user is not None:
        if user is not None or secret is not None:
            raise ConfigError(
                "ruler credentials are given twice: in the URL and in PERFDASH_RULER_USER "
                "or PERFDASH_RULER_PASSWORD; keep one (the environment is better)"
            )
        user, secret = endpoint.user, endpoint.password
    return RulerSettings(
        url=endpoint.url,
        namespace=_text(*pick("ruler_namespace", None, "rules", "ruler_namespace"))
        or DEFAULT_RULER_NAMESPACE,
        tenant=_text(*pick("tenant", None, "rules", "tenant")),
        user=user,
        password=secret,
    )


def parse_url(value: Any, source: str) -> Endpoint | None:
    """``value`` as an http(s) URL without credentials, and the credentials it held.

    Messages name ``source`` (an option, a variable, a key of perfdash.yaml) and what is
    wrong, never the value: it may hold a password."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{source}: must be an http(s) URL, got {type(value).__name__}")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ConfigError(f"{source}: is not a URL: it holds spaces or control characters")
    if "://" not in value:
        raise ConfigError(
            f"{source}: is not a URL: it has no scheme (write it as https://host[:port])"
        )
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"{source}: is not an http(s) URL (its scheme must be http or https)")
    _check_url(parts, source)
    host = parts.netloc.rpartition("@")[2]
    url = f"{parts.scheme.lower()}://{host}{parts.path}".rstrip("/")
    if parts.username is None and "@" not in parts.netloc:
        return Endpoint(url)
    user, password = unquote(parts.username or ""), parts.password
    if not user or not password:
        raise ConfigError(
            f"{source}: credentials in a URL need a user and a password (user:password@); "
            "better, give them in the environment"
        )
    Secret(password)  # the encoded form is a secret too
    return Endpoint(url, user, Secret(unquote(password)))


def _check_url(parts: SplitResult, source: str) -> None:
    if "@" in parts.path or "@" in parts.query or "@" in parts.fragment:
        raise ConfigError(
            f"{source}: is not a valid URL: an '@' follows the host. If it ends a password "
            "holding '/', '?' or '#', percent-encode those (%2F, %3F, %23), or better, give "
            "the credentials in the environment"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{source}: a server URL takes no query (?...) or fragment (#...)")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{source}: is not a valid URL: its port is not a number in 1-65535")
    if not parts.hostname:
        raise ConfigError(f"{source}: is not a valid URL: it names no host")


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
    path = _path(file, f"grafana.{key}", base)
    assert path is not None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"grafana.{key}: cannot read {path}: {exc.strerror}") from exc
    return Secret(text) if text else None


def _text(value: Any, source: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ConfigError(f"{source}: must be text, got {type(value).__name__}")
    text = str(value)
    if not text.isprintable():
        raise ConfigError(f"{source}: holds control characters")
    return text


def _path(value: Any, source: str, base: Path) -> Path | None:
    if isinstance(value, Path):  # an option: relative to the current folder
        return value
    text = _text(value, source)
    if text is None:
        return None
    path = Path(text)
    return path if path.is_absolute() else base / path


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: must be true or false, got {type(value).__name__}")
    return value


def _number(value: Any, source: str, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: must be a number") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{source}: must be a positive number")
    return number


def _int(value: Any, source: str, minimum: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"{source}: must be an integer")
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{source}: must be an integer") from None
    if number < minimum:
        raise ConfigError(f"{source}: must be at least {minimum}, got {number}")
    return number
