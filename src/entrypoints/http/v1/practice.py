"""GET /api/v1/practice: what the practice offers and when it is open."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from domain.scheduling import Practice
from entrypoints.http.links import GET_PRACTICE, PRACTICE_LINKS, with_links
from entrypoints.http.problems import UNAUTHORIZED
from entrypoints.http.schemas import PracticeOut


@get(
    "/practice",
    operation_id=GET_PRACTICE,
    operation_class=with_links(200, PRACTICE_LINKS),
    summary="The practice: hours, closures, providers and services",
    tags=["practice"],
    responses={**UNAUTHORIZED},
)
async def get_practice(practice: NamedDependency[Practice]) -> PracticeOut:
    return PracticeOut.of(practice)
