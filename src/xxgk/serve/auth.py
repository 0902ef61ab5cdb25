"""Signing in and out: the token becomes an HttpOnly cookie for the browser."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .web import TOKEN_COOKIE, Web


def router(web: Web) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return web.page(request, "login.html")

    @r.post("/login")
    async def login(request: Request, given: Annotated[str, Form(alias="token")],
                    _: None = Depends(web.csrf_checked)) -> Response:
        if not web.token or not hmac.compare_digest(given.encode(), web.token.encode()):
            raise HTTPException(401, "令牌不正确")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, web.token, httponly=True, samesite="strict")
        return response

    @r.post("/logout")
    async def logout(_: None = Depends(web.csrf_checked)) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(TOKEN_COOKIE)
        return response

    return r
