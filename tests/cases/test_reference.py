"""Case references: KS-<city>-<year>-<number>, numbered per city and year."""

import re

from tests.conftest import BALIKPAPAN, BANJARMASIN, MANGGAR, MANTUIL, child_report


def test_references_count_up_per_city_and_year(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN, BANJARMASIN])
    year = None
    references = []
    for village in (MANGGAR, MANGGAR, MANTUIL, MANGGAR):
        case = client.post("/api/v1/cases", json=child_report(source="hotline",
                                                              village_code=village),
                           headers=staff.headers).json
        year = case["created_at"][:4]
        references.append(case["reference"])
    assert references == [
        f"KS-6471-{year}-000001", f"KS-6471-{year}-000002",
        f"KS-6371-{year}-000001", f"KS-6471-{year}-000003",
    ]
    assert all(re.fullmatch(r"KS-\d{4}-\d{4}-\d{6}", r) for r in references)


def test_reporter_sees_the_reference_to_follow_up(client, make_user):
    rt_head = make_user("rt_head", [MANGGAR])
    case = client.post("/api/v1/cases", json=child_report(), headers=rt_head.headers).json
    assert case["reference"].startswith("KS-6471-")
    assert case["status"] == "reported"


def test_triage_deadline_depends_on_emergency(client, make_user):
    from datetime import datetime

    staff = make_user("caseworker", [BALIKPAPAN])

    def hours_to_triage(emergency):
        case = client.post("/api/v1/cases", headers=staff.headers,
                           json=child_report(source="hotline", emergency=emergency)).json
        created = datetime.fromisoformat(case["created_at"])
        due = datetime.fromisoformat(case["triage_due_at"])
        assert case["overdue"] is False
        return round((due - created).total_seconds() / 3600)

    assert hours_to_triage(True) == 1
    assert hours_to_triage(False) == 24
