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



# -- transport faults (wt-transport; tests/integration/test_transport_e2e.py) --------------------------------------
# FAULT_TRICKLE=1: GET /v1/trickle answers 200 and then one byte every 200 ms (at most 60 s).
# FAULT_ENDLESS=1: GET /v1/endless answers 200 and an endless fast body (at most 500 MB).
# FAULT_REDIRECT_TO=URL: GET /v1/moved answers 302 with that Location (e.g. another loopback port).
# FAULT_READY_STATUS=CODE: GET /v1/ready answers with that status (a readiness path without public answer).
# All four accept anonymous callers, so that `unauthenticated_access` alone reaches them.
from collections.abc import Iterator  # noqa: E402 (this block stays self-contained)

if os.environ.get("FAULT_TRICKLE") == "1":
    from fastapi.responses import StreamingResponse as _TrickleResponse

    @app.get("/v1/trickle", dependencies=[Depends(bearer)])
    def trickle() -> _TrickleResponse:
        def body() -> Iterator[bytes]:
            for _ in range(300):
                yield b"x"
                time.sleep(0.2)

        return _TrickleResponse(body(), media_type="application/json")


if os.environ.get("FAULT_ENDLESS") == "1":
    from fastapi.responses import StreamingResponse as _EndlessResponse

    @app.get("/v1/endless", dependencies=[Depends(bearer)])
    def endless() -> _EndlessResponse:
        chunk = b"y" * 65536

        def body() -> Iterator[bytes]:
            for _ in range(8000):
                yield chunk

        return _EndlessResponse(body(), media_type="text/plain")


if os.environ.get("FAULT_REDIRECT_TO"):

    @app.get("/v1/moved", dependencies=[Depends(bearer)])
    def moved() -> Response:
        return Response(status_code=302, headers={"Location": os.environ["FAULT_REDIRECT_TO"]})


if os.environ.get("FAULT_READY_STATUS"):

    @app.get("/v1/ready")
    def ready() -> Response:
        return Response(status_code=int(os.environ["FAULT_READY_STATUS"]))
# -- end of transport faults ---------------------------------------------------------------------------------------


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
