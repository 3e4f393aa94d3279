"""CSV import: every row becomes a lead or a rejection with its line and reason."""

from __future__ import annotations

import pytest

from dialer.campaign import load_campaign_text
from dialer.errors import DialerError
from dialer.lists import import_leads, read_leads
from dialer.store import DialerStore

CSV = """\
id,phone,name,timezone,region
a1,+1 212 555 0100,Ann Lee,,
a2,(850) 434-0000,Bob Ray,,
a3,not-a-number,Cy,,
a4,212-555-0100,Dup Ann,,
a5,,No Phone,,
a6,4165550123,Ed,Mars/Olympus,
a7,"+1 604 555 0123","Multi
line",,bc
a8,3055550123,too,many,fields,here
a9
a10,+447911123456,UK mobile,,
a1,3125550182,Same id,,
a12,12,Short,,
a13,2085550123,,America/Boise,id
"""


def test_every_row_is_accounted_for_with_its_line() -> None:
    report = read_leads(CSV, campaign="c", source="leads.csv")
    rejected = [(r.line, r.reason) for r in report.rejected]
    assert rejected == [
        (4, "'not-a-number' is not a phone number (The string supplied did not seem to be "
            "a phone number.)"),
        (5, "duplicate of line 2 (+12125550100)"),
        (6, "missing phone"),
        (7, "unknown time zone 'Mars/Olympus'"),
        (10, "1 more field(s) than the header"),
        (11, "fewer fields than the header"),
        (13, "id 'a1' already used on line 2"),
        (14, "'12' has the wrong length for a US number"),
    ]  # fmt: skip
    accepted = [(lead.id, lead.phone, lead.source_line) for lead in report.accepted]
    assert accepted == [
        ("a1", "+12125550100", 2),
        ("a2", "+18504340000", 3),
        ("a7", "+16045550123", 8),  # a quoted field spans lines 8-9
        ("a10", "+447911123456", 12),
        ("a13", "+12085550123", 15),
    ]
    assert report.rows == len(report.accepted) + len(report.rejected) == 13
    multi = report.accepted[2]
    assert multi.name == "Multi\nline" and multi.region == "BC"
    assert report.accepted[4].timezone == "America/Boise" and report.accepted[4].region == "ID"
    assert report.rejected[0].row["name"] == "Cy"


def test_required_fields_and_default_region() -> None:
    text = "phone,name\n020 7946 0958,Margaret\n020 7946 0959,\n"
    report = read_leads(text, campaign="uk", default_region="GB", required=("name",))
    assert [lead.phone for lead in report.accepted] == ["+442079460958"]
    assert [(r.line, r.reason) for r in report.rejected] == [(3, "missing name")]
    assert report.accepted[0].id == "uk-2"  # no id column: campaign and line


def test_file_without_a_phone_column_is_refused_whole() -> None:
    with pytest.raises(DialerError, match=r"^x.csv:1: the header has no 'phone' column"):
        read_leads("name,number\nA,1\n", campaign="c", source="x.csv")
    with pytest.raises(DialerError, match="required column"):
        read_leads("phone\n2125550100\n", campaign="c", source="x.csv", required=("name",))


def test_import_stores_leads_and_a_second_import_reports_numbers_already_there(
    store: DialerStore,
) -> None:
    campaign = load_campaign_text('name: c\ncaller_id: "+12125550100"\n')
    first = import_leads(CSV, source="leads.csv", campaign=campaign, store=store)
    assert len(store.leads("c")) == len(first.accepted) == 5
    again = import_leads(
        "id,phone\nb1,+1 212 555 0100\nb2,+1 312 555 0182\n",
        source="more.csv",
        campaign=campaign,
        store=store,
    )
    assert [(r.line, r.reason) for r in again.rejected] == [
        (2, "+12125550100 is already in the campaign")
    ]
    assert [lead.id for lead in store.leads("c")] == ["a1", "a2", "b2", "a7", "a10", "a13"]


def test_byte_order_mark_is_ignored() -> None:
    report = read_leads("\ufeffphone\n2125550100\n", campaign="c")
    assert [lead.phone for lead in report.accepted] == ["+12125550100"]
