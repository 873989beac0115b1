"""The start banner's demo logins: the province's accounts, and in central mode the national
system's (a central instance has no communes under the province code: the banner used to crash
`grassroots run` there)."""

import pytest

from grassroots.accounts.demo import demo_logins, load_demo

pytestmark = pytest.mark.django_db


def test_the_province_lists_its_demo_accounts(users):
    logins = demo_logins()
    assert [name for name, _, _ in logins][:4] == ["admin", "editor", "approver", "viewer"]
    assert logins[0][1] == "Quản trị cấp tỉnh"
    assert logins[4][:2] == ("operator", "Cán bộ vận hành")
    assert logins[4][2].startswith(("Phường", "Xã"))


def test_central_mode_lists_the_national_accounts_and_starts(settings):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central"}
    load_demo()
    logins = demo_logins()
    assert [name for name, _, _ in logins] == ["admin", "editor", "approver", "viewer"]
    assert {unit for _, _, unit in logins} == {"Cả nước"}
    # the national administrator is no province's: the same role code, named for the level
    assert logins[0][1] == "Quản trị cấp trung ương"
