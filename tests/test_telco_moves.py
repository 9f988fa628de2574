"""The Demo Telecom customer's life moves on a day at a time (``TelcoSandbox.moves``)."""

import pytest

from portal_telco.sandbox import TelcoSandbox


def test_a_new_day_of_usage_arrives_and_nothing_else_is_played() -> None:
    telco = TelcoSandbox()
    before = telco.ground_truth()["usage"]
    telco.move_on("arrive")
    after = telco.ground_truth()["usage"]
    assert after[: len(before)] == before and len(after) > len(before)
    assert {u["usageDate"][:10] for u in after[len(before) :]} == {after[-1]["usageDate"][:10]}
    with pytest.raises(ValueError, match="cannot play the step 'book'; it plays arrive"):
        telco.move_on("book")
