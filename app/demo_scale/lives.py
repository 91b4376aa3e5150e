"""Template lives: three plans of one employee ending in each workflow state, played through
the real engine (so every row is one the engine writes), then cloned for everyone else."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.demo import TOPICS, Scenario, play_scenario
from app.engine.registry import Registry
from app.org.models import Person

# Where an employee's current plan stands, and how many of the bank's employees are there.
CURRENT: dict[str, tuple[int, int]] = {  # reach: (share in %, working days since last action)
    "draft": (3, 1), "gap_identified": (3, 2), "causes_analysed": (3, 3),
    "methods_chosen": (3, 2), "plan_drafted": (3, 2), "plan_proposed": (4, 1),
    "plan_proposed_signed_once": (4, 1), "plan_agreed": (5, 2), "in_progress": (30, 10),
    "under_review": (6, 1), "closed": (20, 5), "next_cycle": (5, 4), "hr_decision": (3, 3),
    "closed_by_hr": (3, 8), "cancelled": (5, 6),
}
THIRD_CYCLE_ONLY = {"hr_decision", "closed_by_hr"}
TOPIC_NAMES = list(TOPICS)
TITLES = {"reports_late": "月度报表迟报", "service_attitude": "服务态度生硬",
          "customer_ratings": "客户满意度未达标", "lobby_wait": "大堂客户等候时间过长",
          "effective_clients": "对公有效客户指标未完成", "skills_test": "技能测试未达到目标等级",
          "deposits": "储蓄存款余额低于计划", "deposits_time_target": "存款未完成序时任务",
          "errors_incidents": "差错及结算事故", "internal_control": "岗位内控检查发现操作不规范"}


@dataclass(frozen=True)
class Life:
    """One employee's plans over the year, oldest first; the last is where they stand now."""

    reach: str
    shape: str  # "third_cycle": two cycles below target, then a third; "second_cycle"

    def scenarios(self, subject: str, index: int) -> list[Scenario]:
        """The plans of this life for a template subject."""
        days = CURRENT[self.reach][1]
        topic = TOPIC_NAMES[index % len(TOPIC_NAMES)]
        other = TOPIC_NAMES[(index + 3) % len(TOPIC_NAMES)]
        if self.shape == "third_cycle":
            return [Scenario(subject, TITLES[topic], topic, "next_cycle", 100),
                    Scenario(subject, TITLES[topic], topic, "next_cycle", 55, cycle=2),
                    Scenario(subject, TITLES[topic], topic, self.reach, days, cycle=3)]
        return [Scenario(subject, TITLES[other], other, "closed", 150),
                Scenario(subject, TITLES[topic], topic, "next_cycle", 90),
                Scenario(subject, TITLES[topic], topic, self.reach, days, cycle=2)]


def lives(shapes: int = 2) -> list[Life]:
    """Every current state, in one or two shapes: a review below target goes on to a next
    cycle only before the third cycle, and HR decides only after the third."""
    found = []
    for reach in CURRENT:
        allowed = (["third_cycle"] if reach in THIRD_CYCLE_ONLY else
                   ["second_cycle"] if reach == "next_cycle" else
                   ["second_cycle", "third_cycle"])
        found += [Life(reach, shape) for shape in allowed[:shapes]]
    return found


def assignment(templates: list[Life], count: int, seed: int = 21) -> list[int]:
    """Which template life each of `count` employees lives, in the states' proportions."""
    weights = [CURRENT[life.reach][0] for life in templates]
    return random.Random(seed).choices(range(len(templates)), weights=weights, k=count)


def play(session: Session, registry: Registry, life: Life, index: int, subject: Person,
         hr: Person, today: datetime) -> None:
    """Play a life's plans for a template subject through the plan services and the engine."""
    for scenario in life.scenarios(subject.employee_no, index):
        play_scenario(session, registry, scenario, today, hr=hr)
