"""The API's routers. Each module has ``build_router(flaws)``; the flaw switches sit next to the secure code."""
