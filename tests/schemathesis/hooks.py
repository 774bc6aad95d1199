"""schemathesis hooks: generated requests to `POST /webhooks/api/{store}` sent as a real store
sends them, so that most get past the signature and exercise what reads the body.

Loaded with `SCHEMATHESIS_HOOKS=tests/schemathesis/hooks.py`; tests/tests/e2e/schemathesis.rs
runs it against the local stack. Variables:

    COURIER_BRIDGE_STORE           the connected store's name in the URL (secret `api/{store}`)
    COURIER_BRIDGE_SIGNING_SECRET  its signing secret
    COURIER_BRIDGE_ANSWERS         optional: a file each answer is appended to, one JSON line
                                   {"method", "url", "status", "signed", "answer"} ("signed":
                                   the right signature of the bytes sent; "answer": the JSON
                                   body, or null), for the test to check what the run did

For each generated request, unless schemathesis deliberately broke that part (a negative case
aimed at it, which then goes out as generated and must be refused with its documented 4xx):

- the `store` path segment becomes the connected store (a generated name is an unknown store);
- `X-Courier-Bridge-Event-Id` becomes a fresh UUID (generated ids repeat, and a repeat is
  answered `duplicate` before the body is looked at);
- a missing `X-Courier-Bridge-Topic` becomes one of the operation's documented topics;
- `X-Courier-Bridge-Signature` becomes the base64 HMAC-SHA256 of the exact bytes sent,
  computed on the prepared request (after serialization, as a store signs the buffer it
  sends), so that malformed bodies are signed too and reach the parser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path
from typing import Any

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation

SIGNATURE = "X-Courier-Bridge-Signature"
EVENT_ID = "X-Courier-Bridge-Event-Id"
TOPIC = "X-Courier-Bridge-Topic"
OPERATION = "receiveOrderEvent"
# Where docs/api/openapi.yaml's relative `externalValue`s point from.
API_DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"
# Stands in for the signature in the case itself (it matches the documented pattern, so
# schemathesis counts the header as valid); the real one replaces it on the prepared request.
PLACEHOLDER_SIGNATURE = "A" * 43 + "="


def _setting(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set: tests/schemathesis/hooks.py needs the store and its secret")
    return value


def sign(secret: bytes, body: bytes) -> str:
    """`X-Courier-Bridge-Signature` of `body`, as docs/api/README.md#signing defines it."""
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode("ascii")


class StoreSignature(requests.auth.AuthBase):
    """Signs the prepared request's body: the bytes that go on the wire, whatever produced them."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            # urllib3 sends a text body as UTF-8; sign and send those bytes.
            body = body.encode("utf-8")
            request.body = body
            request.prepare_content_length(body)
        request.headers[SIGNATURE] = sign(self.secret, body)
        return request


def _targeted(case: schemathesis.Case) -> set[tuple[ParameterLocation, str]]:
    """The parameters a negative case was built to break: those go out as generated."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return set()
    targets = set()
    data = meta.phase.data
    if data.parameter is not None and data.parameter_location is not None:
        targets.add((data.parameter_location, data.parameter.lower()))
    for mutation in getattr(data, "mutations", ()):
        if mutation.parameter is not None and not mutation.path:
            targets.add((mutation.parameter_location, mutation.parameter.lower()))
    return targets


def _documented_topics(case: schemathesis.Case) -> list[str]:
    for parameter in case.operation.headers:
        if parameter.name.lower() == TOPIC.lower():
            return list(parameter.definition.get("schema", {}).get("enum", []))
    return []


def _header(headers: dict[str, Any], name: str) -> str | None:
    """The header's name as the case spells it, if it is there."""
    return next((key for key in headers if key.lower() == name.lower()), None)


def _set_header(headers: dict[str, Any], name: str, value: str) -> None:
    existing = _header(headers, name)
    if existing is not None:
        del headers[existing]
    headers[name] = value


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    """The published examples are `externalValue`s beside the spec, which schemathesis fetches
    only by URL: inlined, the examples phase sends each of them."""
    for path_item in raw_schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                for example in media.get("examples", {}).values():
                    external = example.get("externalValue")
                    if isinstance(external, str) and "://" not in external:
                        example["value"] = json.loads((API_DOCS / external).read_text(encoding="utf-8"))
                        del example["externalValue"]


@schemathesis.hook
def before_call(context: Any, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    if case.operation.definition.raw.get("operationId") != OPERATION:
        return
    targeted = _targeted(case)
    header_targeted = {name for location, name in targeted if location == ParameterLocation.HEADER}
    path_targeted = {name for location, name in targeted if location == ParameterLocation.PATH}

    if "store" not in path_targeted and case.path_parameters is not None:
        case.path_parameters["store"] = _setting("COURIER_BRIDGE_STORE")

    if case.headers is None:
        case.headers = {}
    headers = case.headers
    if EVENT_ID.lower() not in header_targeted:
        _set_header(headers, EVENT_ID, str(uuid.uuid4()))
    if TOPIC.lower() not in header_targeted and _header(headers, TOPIC) is None:
        topics = _documented_topics(case)
        if topics:
            # Chosen from the body, so that a seed replays the same requests.
            digest = hashlib.sha256(repr(case.body).encode()).digest()
            _set_header(headers, TOPIC, topics[digest[0] % len(topics)])
    if SIGNATURE.lower() not in header_targeted:
        _set_header(headers, SIGNATURE, PLACEHOLDER_SIGNATURE)
        kwargs["auth"] = StoreSignature(_setting("COURIER_BRIDGE_SIGNING_SECRET"))


@schemathesis.hook
def after_call(context: Any, case: schemathesis.Case, response: Any) -> None:
    answers = os.environ.get("COURIER_BRIDGE_ANSWERS")
    if not answers:
        return
    try:
        answer = json.loads(response.content)
    except ValueError:
        answer = None
    request = response.request
    line = {
        "method": request.method,
        "url": request.url,
        "status": response.status_code,
        "signed": request.headers.get(SIGNATURE) == sign(
            _setting("COURIER_BRIDGE_SIGNING_SECRET").encode(), _bytes(request.body)
        ),
        "answer": answer,
    }
    with open(answers, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)
