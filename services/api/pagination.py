"""`page`/`size` pagination with a `total`, the shape of every list the API returns."""
from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

Item = TypeVar("Item")
MAX_PAGE_SIZE = 100


class Page(BaseModel, Generic[Item]):
    total: int
    page: int
    size: int
    items: list[Item]


class PageParams(BaseModel):
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def page_params(page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20) -> PageParams:
    return PageParams(page=page, size=size)


PageDep = Annotated[PageParams, Depends(page_params)]


def fetch_page(session: Session, query: Select[Any], params: PageParams,
               bind: dict[str, Any] | None = None) -> tuple[int, list[Any]]:
    """The total count of `query` and the rows of the requested page (order it first).
    `bind` gives values for the query's bind parameters (a viewer's, say)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()), bind) or 0
    rows = list(session.scalars(query.offset(params.offset).limit(params.size), bind))
    return total, rows
