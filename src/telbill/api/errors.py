"""Errors in the TMF shape `{code, reason, message, status}`, never a stack trace."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from telbill.core.errors import TelbillError


def tmf_error(status: int, code: str, reason: str, message: str) -> JSONResponse:
    body = {"code": code, "reason": reason, "message": message, "status": str(status)}
    return JSONResponse(body, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TelbillError)
    async def _domain(_: Request, exc: TelbillError) -> JSONResponse:
        return tmf_error(exc.http_status, exc.code, exc.message, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        return tmf_error(400, "bad_request", "the request is not valid", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return tmf_error(exc.status_code, "http_error", str(exc.detail), str(exc.detail))
