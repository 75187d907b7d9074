"""The web pages (政策目录, 企业自评, 科技局审核台), served by the same service as the API.

Pages are Jinja2 templates; what they show comes from the public API (``/v1``), called by the
pages' own scripts with the visitor's token. Front-end libraries (Bootstrap, ECharts) are installed
from the npm registry into ``api/web/node_modules`` at set-up (``make run`` / ``make test``) and
served from there; nothing is fetched from a CDN.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .routes import router

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
# URL prefix → folder of an npm package's distribution files
VENDOR = {
    "bootstrap": NODE_MODULES / "bootstrap" / "dist",
    "echarts": NODE_MODULES / "echarts" / "dist",
}


def install(app: FastAPI) -> None:
    """Mount the static files and include the pages (call once, after the API routers)."""
    for name, folder in VENDOR.items():
        # check_dir=False: the service starts without them (API only) until `npm ci` has run
        app.mount(
            f"/static/vendor/{name}", StaticFiles(directory=folder, check_dir=False), name=f"vendor-{name}"
        )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")
    app.include_router(router)


__all__ = ["install", "router"]
