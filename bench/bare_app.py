"""The HTTP baseline: a bare FastAPI endpoint doing one insert per POST (no session, no CSRF,
no engine), served by the same uvicorn with the same number of workers."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import FastAPI, Form
from fastapi.responses import RedirectResponse
from sqlalchemy import create_engine, text


def create_app() -> FastAPI:
    """The app on BENCH_BARE_DB (a SQLAlchemy URL); the table is made by the benchmark."""
    engine = create_engine(os.environ["BENCH_BARE_DB"], pool_pre_ping=True)
    app = FastAPI()

    @app.post("/insert")
    def insert(meaning: str = Form("agree")) -> RedirectResponse:
        """One row, one transaction, then the same 303 a form post gets."""
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bare_event (meaning, at) VALUES (:m, :at)"),
                         {"m": meaning, "at": datetime.now(UTC)})
        return RedirectResponse("/done", status_code=303)

    return app
