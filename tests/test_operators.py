"""Operator and technology labels as operators' files write them."""

from __future__ import annotations

from vncoverage.operators import canonical_operator, canonical_technology


def test_operators_and_technologies():
    ops = ("Viettel", "VNPT", "MobiFone")
    assert canonical_operator("VinaPhone", ops) == ("VNPT", True)
    assert canonical_operator(" mobifone", ops) == ("MobiFone", True)
    assert canonical_operator("Viettel", ops) == ("Viettel", False)
    assert canonical_operator("Vietnamobile", ops) == ("Vietnamobile", False)
    assert canonical_operator("VinaPhone", ("Viettel",)) == ("VinaPhone", False)
    for v, t in (("LTE", "4G"), ("4g", "4G"), ("5G NR", "5G"), ("WCDMA", "3G"), ("GSM", "2G"),
                 ("LTE-A", "4G"), ("6G", None), ("", None)):
        assert canonical_technology(v) == t
