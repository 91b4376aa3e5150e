"""What one statement costs in client CPU on this machine, by the layer that sends it.

    .venv/bin/python -m bench.micro_statements

The same primary-key read of a person through an ORM `session.get`, an ORM select, a prebuilt
SQLAlchemy Core select on the session's connection, and plain psycopg; 500 repetitions each on
a scratch PostgreSQL database. Prints a table; asserts nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.common import bare_workflows, build_org, create_schema, install_engine, scratch_pg

REPEAT = 500


def main() -> None:
    from sqlalchemy import bindparam
    from sqlalchemy import select as core_select
    from sqlmodel import Session, select

    from app.org.models import Person

    with scratch_pg("micro") as url, bare_workflows() as wf_dir:
        engine = create_schema(url)
        install_engine(wf_dir)
        with Session(engine) as session:
            org = build_org(session, branches=2, subs_per_branch=3, staff_per_sub=10)
            session.commit()
        pid = org.employees[0]
        table = Person.__table__  # type: ignore[attr-defined]
        prebuilt = core_select(table.c.id, table.c.name).where(table.c.id == bindparam("i"))

        def orm_get(s: Any) -> None:
            s.expunge_all()
            s.get(Person, pid)

        def raw(s: Any) -> None:
            cur = s.connection().connection.driver_connection.cursor()
            cur.execute("SELECT id, name FROM person WHERE id = %s", (pid,))
            cur.fetchone()

        cases: list[tuple[str, Callable[[Any], Any]]] = [
            ("ORM session.get (identity map emptied)", orm_get),
            ("ORM select(Person)", lambda s: s.exec(select(Person).where(Person.id == pid))
             .first()),
            ("Core select, prebuilt, on the connection", lambda s: s.connection()
             .execute(prebuilt, {"i": pid}).first()),
            ("psycopg cursor", raw),
        ]
        print(f"{'layer':45s} {'CPU µs':>8s} {'wall µs':>8s}")
        for label, fn in cases:
            with Session(engine) as session:
                for _ in range(20):
                    fn(session)
                c0, w0 = time.process_time(), time.perf_counter()
                for _ in range(REPEAT):
                    fn(session)
                cpu = (time.process_time() - c0) / REPEAT * 1e6
                wall = (time.perf_counter() - w0) / REPEAT * 1e6
            print(f"{label:45s} {cpu:8.0f} {wall:8.0f}")
        engine.dispose()


if __name__ == "__main__":
    main()
