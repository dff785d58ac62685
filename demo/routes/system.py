"""Public service endpoints: health and version."""

from __future__ import annotations

from fastapi import APIRouter

from demo import PRODUCT_NAME, __version__
from demo.flaws import Flaws
from demo.schemas import Health, Info


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get("/health", response_model=Health)
    def health() -> Health:
        return Health()

    @router.get("/v1/info", response_model=Info)
    def get_info() -> Info:
        return Info(name=PRODUCT_NAME, version=__version__)

    return router
