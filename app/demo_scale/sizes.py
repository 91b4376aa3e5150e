"""How big a generated bank is: people, branches and sub-branches per size name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    """The shape of a generated bank; plans follow from the people (about three each)."""

    name: str
    people: int
    branches: int
    sub_branches: int  # in all, spread evenly over the branches
    chunk: int = 2_000  # employees cloned per transaction


SIZES: dict[str, Size] = {
    # the tests' bank: two branches, a handful of sub-branches
    "tiny": Size("tiny", people=150, branches=2, sub_branches=4, chunk=50),
    # `make load`'s default: finishes in a few minutes on two cores
    "quick": Size("quick", people=2_000, branches=4, sub_branches=40),
    # a national bank: 1 head office, 36 branches, ~2,000 sub-branches, 100,000 people
    "national": Size("national", people=100_000, branches=36, sub_branches=2_016, chunk=1_000),
}
