"""The load test's people (Locust): employees open My work and their plan and record
checkpoints; supervisors open their team's plans, sign and check; HR reads the dashboard, the
overdue list and exports; others follow emailed links. 50 users in these proportions.

Run by bench/load/run.py (`make load`) with LOAD_MANIFEST naming bench/load/accounts.py's file.
Page requests are GETs (goal p95 ≤ 250 ms), actions are POSTs without following the redirect
(goal p95 ≤ 300 ms); a route's name keeps ids out, so each row of the table is one route.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import defaultdict, deque
from typing import Any

from locust import HttpUser, between, task

MANIFEST: dict[str, Any] = json.loads(open(os.environ["LOAD_MANIFEST"], encoding="utf-8").read())
PASSWORD = "demo"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ALERT = re.compile(r'role="alert"[^>]*>(.*?)</', re.S)
WORK_DONE_SWITCH = 0.15  # chance per task that someone with nothing left to do leaves
EMPLOYEES = itertools.cycle(MANIFEST["employees"] or [None])
SUPERVISORS = itertools.cycle(MANIFEST["supervisors"] or [None])
HR = itertools.cycle(MANIFEST["hr"] or [None])
LINKS: deque[dict[str, str]] = deque(MANIFEST["links"])
CHECKS: dict[str, deque[tuple[int, int]]] = defaultdict(deque)  # supervisor -> recorded


class Person(HttpUser):
    """Someone at a desk: signs in through the form, then works (think time 1–4 s)."""

    abstract = True
    wait_time = between(1, 4)
    csrf = ""

    def sign_in(self, number: str) -> bool:
        self.client.cookies.clear()
        page = self.client.get("/login", name="GET /login")
        match = CSRF.search(page.text)
        if not match:
            return False
        with self.client.post("/login", name="POST /login", allow_redirects=False,
                              data={"username": number, "password": PASSWORD,
                                    "csrf_token": match.group(1)},
                              catch_response=True) as response:
            if response.status_code != 303:
                response.failure(f"sign-in as {number}: {response.status_code}")
                return False
        self.csrf = self.client.get("/api/me", name="GET /api/me").json()["csrf_token"]
        return True

    def page(self, path: str, name: str) -> None:
        self.client.get(path, name=name)

    def action(self, path: str, name: str, form: dict[str, str], ok: int = 303) -> bool:
        """A form post, timed without the page it redirects to; anything else is an error."""
        with self.client.post(path, name=name, data={**form, "csrf_token": self.csrf},
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != ok:
                response.failure(f"{response.status_code}: {said(response.text)}")
                return False
        return True


def said(page: str) -> str:
    """What an error page told the person (its alert), for the failures file."""
    match = ALERT.search(page)
    return " ".join((match.group(1) if match else page[:200]).split())


class Employee(Person):
    """Opens My work and their plan; records a checkpoint or signs when there is one."""

    fixed_count = 30

    def on_start(self) -> None:
        self.next_person()

    def next_person(self) -> None:
        self.me = next(EMPLOYEES)
        if self.me is not None:
            self.sign_in(self.me["no"])

    @task(5)
    def my_work(self) -> None:
        self.page("/tasks", "GET /tasks (My work)")

    @task(4)
    def my_plan(self) -> None:
        if self.me and self.me["plans"]:
            plan = random.choice(self.me["plans"])
            self.page(f"/plans/{plan}", "GET /plans/[id]")

    @task(3)
    def record_checkpoint(self) -> None:
        if not self.me:
            return
        if self.me["record"]:
            plan, checkpoint = self.me["record"].pop()
            self.page(f"/plans/{plan}", "GET /plans/[id]")
            if self.action(f"/plans/{plan}/checkpoints/{checkpoint}/progress",
                           "POST /plans/[id]/checkpoints/[id]/progress",
                           {"progress": "按计划推进，本周拜访客户5户。",
                            "evidence_text": "拜访记录已上传。"}):
                CHECKS[self.me["supervisor"]].append((plan, checkpoint))
        elif self.me["sign"]:
            plan = self.me["sign"].pop()
            self.page(f"/plans/{plan}", "GET /plans/[id]")
            self.action(f"/plans/{plan}/actions/sign", "POST /plans/[id]/actions/sign", {})
        elif random.random() < WORK_DONE_SWITCH:
            self.next_person()  # this person is done for today; the next one sits down


class Supervisor(Person):
    """Opens My work and the team's plans; checks what the team recorded; signs plans."""

    fixed_count = 12

    def on_start(self) -> None:
        self.me = next(SUPERVISORS)
        if self.me is not None:
            self.sign_in(self.me["no"])

    @task(4)
    def my_work(self) -> None:
        self.page("/tasks", "GET /tasks (My work)")

    @task(3)
    def team_plan(self) -> None:
        if self.me and self.me["plans"]:
            plan = random.choice(self.me["plans"])
            self.page(f"/plans/{plan}", "GET /plans/[id]")

    @task(3)
    def check_or_sign(self) -> None:
        if not self.me:
            return
        waiting = CHECKS[self.me["no"]]
        if waiting:
            plan, checkpoint = waiting.popleft()
            self.page(f"/plans/{plan}", "GET /plans/[id]")
            self.action(f"/plans/{plan}/checkpoints/{checkpoint}/check",
                        "POST /plans/[id]/checkpoints/[id]/check",
                        {"result": "on_track", "comment": "进度正常，继续保持。"})
        elif self.me["sign"]:
            plan = self.me["sign"].pop()
            self.page(f"/plans/{plan}", "GET /plans/[id]")
            self.action(f"/plans/{plan}/actions/sign", "POST /plans/[id]/actions/sign", {})


class Hr(Person):
    """Reads the dashboard and the overdue list, exports now and then."""

    fixed_count = 5

    def on_start(self) -> None:
        number = next(HR)
        if number is not None:
            self.sign_in(number)

    @task(4)
    def dashboard(self) -> None:
        self.page("/reports/dashboard", "GET /reports/dashboard")

    @task(3)
    def overdue(self) -> None:
        self.page("/reports/overdue", "GET /reports/overdue")

    @task(1)
    def export_overdue(self) -> None:
        self.page("/reports/overdue.xlsx", "GET /reports/overdue.xlsx (export)")

    @task(1)
    def export_plans(self) -> None:
        self.page("/reports/plans.csv", "GET /reports/plans.csv (export)")


class LinkFollower(Person):
    """Opens an emailed link, confirms; signs in first when the link asks for it."""

    fixed_count = 3

    @task
    def follow(self) -> None:
        if not LINKS:
            self.page("/login", "GET /login")
            return
        link = LINKS.popleft()
        self.client.cookies.clear()
        path = f"/act/{link['token']}"
        page = self.client.get(path, name="GET /act/[token]")
        match = CSRF.search(page.text)
        if not match:
            return
        form = {"csrf_token": match.group(1)}
        with self.client.post(path, name="POST /act/[token]", data=form,
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code == 303 and "/login" in response.headers.get("location", ""):
                response.success()
                if self.sign_in(link["no"]):
                    self.action(path, "POST /act/[token] (signed in)", {}, ok=200)
            elif response.status_code != 200:
                response.failure(f"{response.status_code}: {said(response.text)}")
