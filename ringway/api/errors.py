"""One JSON shape for every error the API answers: ``{"error": {"code", "message"}}``.

Routing errors, customer-store errors and auth errors all carry ``code``,
``status`` and ``message``, so one handler maps them; request validation
(malformed JSON, wrong types, missing fields) becomes 422 with a message that
names the field. Handlers run before anything is changed — the routes validate
first and the core raises before it mutates — so a failed request leaves no
trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from crm.errors import CrmError
from ringway.auth import AuthError
from router.errors import RoutingError

CodedError = RoutingError | CrmError | AuthError


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def coded_error_response(exc: CodedError) -> JSONResponse:
    # RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, exc.code, exc.message, headers)


def validation_message(errors: list[Any]) -> str:
    """``body.channel: Input should be 'voice', …`` — the first problem, readably."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "malformed")
        return f"request body is not valid JSON: {reason}"
    where = ".".join(str(part) for part in first.get("loc", ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


async def _coded(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RoutingError | CrmError | AuthError)
    return coded_error_response(exc)


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in errors]
    return error_response(422, "invalid_request", validation_message(errors), details=details)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), exc.headers)


async def _internal(_: Request, exc: Exception) -> JSONResponse:
    # Starlette still re-raises after answering, so the traceback reaches the server log.
    return error_response(500, "internal_error", "internal error; see the service log")


def install(app: FastAPI) -> None:
    for tree in (RoutingError, CrmError, AuthError):
        app.add_exception_handler(tree, _coded)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _internal)
