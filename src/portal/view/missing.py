"""What a page raises when the thing asked for is not in the store (a record's id that was
withdrawn, a category that does not exist): the view answers 404 with these words."""

from __future__ import annotations


class Missing(LookupError):
    """The page's subject is not in the store: ``what`` says so, ``hint`` what to do."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint
