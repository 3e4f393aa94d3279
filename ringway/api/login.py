"""``POST /auth/login``: user and password for a bearer token; ``GET /auth/me``."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from ringway.api.deps import AnyUser, Body
from ringway.auth import Authenticator

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(Body):
    user: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


@router.post("/login")
async def login(body: LoginIn, request: Request) -> dict[str, Any]:
    """Exchange a password for a token. A wrong password and an unknown user get the
    same 401, so the answer never tells which users exist."""
    auth: Authenticator = request.app.state.auth
    # Key stretching takes a few hundred ms: off the loop, or routing would stall meanwhile.
    token, role, expires_at = await asyncio.to_thread(auth.login, body.user, body.password)
    return {"token": token, "role": role.label, "expires_at": expires_at, "user": body.user}


@router.get("/me")
async def me(principal: AnyUser) -> dict[str, Any]:
    return {"id": principal.id, "role": principal.role.label}
