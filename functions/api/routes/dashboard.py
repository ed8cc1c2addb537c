"""The dashboard page and its two assets, shipped inside the function (no CDN at run time).

The page holds no job data: it fetches GET /queues and GET /jobs like any client. Assets are
addressed by a hash of their content (?v=...), so browsers may keep them for a year and a new
deploy is picked up at once; the page itself is revalidated on every load.
"""

import hashlib
import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from functions.api.cold_start import RouteBuiltOnFirstUse
from skylane.jobs.contracts import TASKS
from skylane.jobs.states import JobState

router = APIRouter(include_in_schema=False, route_class=RouteBuiltOnFirstUse)

STATIC = Path(__file__).resolve().parent.parent / "static"
_CONTENT_TYPES = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
# Everything from this origin only; no inline script or style, no framing.
_PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    version: str


@cache
def asset(name: str) -> Asset:
    body = (STATIC / name).read_bytes()
    return Asset(body, hashlib.sha256(body).hexdigest()[:12])


@cache
def _page_template() -> str:
    options = {
        "state_options": "".join(
            f'<option value="{state.value}">{state.value}</option>' for state in JobState
        ),
        "task_options": "".join(
            f'<option value="{html.escape(name)}">{html.escape(spec.kind)}</option>'
            for name, spec in sorted(TASKS.items(), key=lambda item: item[1].kind)
        ),
        "css_version": asset("dashboard.css").version,
        "js_version": asset("dashboard.js").version,
    }
    page = (STATIC / "dashboard.html").read_text()
    for key, value in options.items():
        page = page.replace("{{" + key + "}}", value)
    return page


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    """The dashboard page; its relative URLs resolve under the API's root (a stage prefix)."""
    base = html.escape(request.scope.get("root_path", "").rstrip("/") + "/", quote=True)
    page = _page_template().replace("{{base}}", base)
    return HTMLResponse(page, headers=_PAGE_HEADERS)


@router.get("/dashboard/assets/{name}")
def dashboard_asset(name: str, v: str | None = None) -> Response:
    if name not in _CONTENT_TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No dashboard asset {name!r}")
    found = asset(name)
    # Only the current version may be cached for long; an old ?v= gets today's content, fresh.
    cache_control = _IMMUTABLE if v == found.version else "no-cache"
    return Response(
        found.body,
        media_type=_CONTENT_TYPES[name],
        headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"},
    )
