"""/healthz, /readyz and /metrics: for load balancers and Prometheus, never for people."""

from __future__ import annotations

import hmac
from ipaddress import ip_address, ip_network

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.config import Settings
from app.observability.health import readiness
from app.observability.metrics import exposition
from app.web.ratelimit import client_address

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz")
def healthz() -> JSONResponse:
    """The process is alive and answering (asks nothing else)."""
    return JSONResponse({"status": "alive"}, headers=NO_STORE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: database, migrations, scheduler heartbeat; 503 with the reason."""
    state = request.app.state
    ready, body = readiness(engine=state.engine, replica=state.replica_engine,
                            settings=state.settings, started_at=state.started_at)
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """The scraper shows the metrics token, or calls from one of the listed networks."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if (settings.metrics_token and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), settings.metrics_token.encode())):
        return True
    try:
        address = ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ip_network(net, strict=False) for net in settings.metrics_networks)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format; only with the token or from an allowed network."""
    settings: Settings = request.app.state.settings
    if not metrics_allowed(request, settings):
        if settings.metrics_token:
            return JSONResponse({"detail": "A valid metrics token is required."},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse({"detail": "Metrics are served only to the networks in "
                                       "STEPWISE_METRICS_NETWORKS or with "
                                       "STEPWISE_METRICS_TOKEN."}, status_code=403)
    return Response(exposition(settings, request.app.state.engine),
                    media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
