"""Long lists in pages: the rows of one page, and how many match in all (so a heading's count is
the whole list's, never the page's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ivr.staff import bp

PAGE_SIZE = 50
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int  # every row that matches, on all pages
    number: int  # 1 for the first page
    size: int
    param: str  # the query-string name that chooses this list's page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_shown(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return self.first_shown + len(self.rows) - 1 if self.rows else 0


def page_number(param: str, errors: list[str]) -> int:
    """The page asked for in the query string (1 when none); a form error for anything else."""
    asked = request.args.get(param, "1")
    if _PAGE_NUMBER.fullmatch(asked):
        return int(asked)
    errors.append("The page number must be a whole number, 1 or more.")
    return 1


def page_of(db: Session, query: Select, param: str, number: int, size: int = PAGE_SIZE, options=()) -> Page:
    """One page of `query` (ordered), and the count of all it matches. A page past the end shows the last."""
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    last = max(1, -(-total // size))
    number = min(number, last)
    rows = db.scalars(query.options(*options).limit(size).offset((number - 1) * size)).all()
    return Page(list(rows), total, number, size, param)


@bp.app_template_global()
def page_url(param: str, number: int) -> str:
    """This page's address with the same filters, showing page `number` of the list `param` names."""
    args = request.args.to_dict() | {param: str(number)}
    if number == 1:
        del args[param]
    return url_for(request.endpoint, **(request.view_args or {}), **args)
