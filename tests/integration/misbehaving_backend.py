"""A backend that misbehaves on purpose: 5xx, slow, empty, non-JSON and huge answers, and (with CRASH=1) an
operation that ends the process. Tokens are only checked for presence: the subject is the harness's handling of
bad answers, not authentication. Run: python -m tests.integration.misbehaving_backend PORT"""

from __future__ import annotations

import os
import sys
import time

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False)
app = FastAPI(title="misbehaving", version="0.0.1")


def signed_in(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:  # noqa: B008 (FastAPI)
    if credentials is None or credentials.credentials.count(".") != 2:
        raise HTTPException(401, "no token")
    return credentials.credentials


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/boom", dependencies=[Depends(bearer)])
def boom() -> None:
    raise HTTPException(500, "internal error")


@app.get("/v1/slow", dependencies=[Depends(signed_in)])
def slow() -> dict[str, str]:
    time.sleep(3)
    return {"done": "late"}


@app.get("/v1/empty", dependencies=[Depends(bearer)])
def empty() -> Response:
    return Response(status_code=200)


@app.get("/v1/text", dependencies=[Depends(signed_in)])
def text() -> Response:
    return Response("plain text, not JSON", media_type="text/plain")


@app.get("/v1/huge", dependencies=[Depends(signed_in)])
def huge() -> Response:
    return Response('{"items": "' + "x" * 5_000_000 + '"}', media_type="application/json")


if os.environ.get("CRASH") == "1":

    @app.get("/v1/crash", dependencies=[Depends(signed_in)])
    def crash(request: Request) -> None:
        os._exit(1)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
