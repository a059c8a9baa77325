"""Pushing a verdict: the Pushgateway URL's credentials never show, and a malformed URL
is a clear error that does not quote it."""

from __future__ import annotations

from typing import Any

import pytest

from perfdash.baseline.push import push_verdict
from perfdash.errors import ConfigError, PushError


class _EmptyReport:
    benchmark = "checkout-api"
    verdicts: tuple[Any, ...] = ()


@pytest.mark.parametrize(
    "url", ["http://ops:S3cret/Pw99@127.0.0.1:9091", "ops:S3cretPw99@127.0.0.1:9091"]
)
def test_a_malformed_pushgateway_url_is_not_quoted(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        push_verdict(url, _EmptyReport())  # type: ignore[arg-type]
    assert str(caught.value).startswith("--pushgateway: is not")
    assert "S3cret" not in str(caught.value)


def test_a_refused_push_names_the_url_without_its_password() -> None:
    with pytest.raises(PushError) as caught:
        push_verdict("http://ops:S3cret%2FPw99@127.0.0.1:9", _EmptyReport())  # type: ignore[arg-type]
    assert str(caught.value).startswith("cannot push the verdict to http://127.0.0.1:9: ")
    assert "S3cret" not in str(caught.value)
