"""The work queue's approvals: counted per (unit, step), in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grassroots.content.tests.conftest import make_bulletin
from grassroots.core import workqueue
from grassroots.core.testing import COMMUNE_A, COMMUNE_B

pytestmark = pytest.mark.django_db


def test_approvals_are_counted_for_whoever_may_take_the_step(users):
    for code in (COMMUNE_A, COMMUNE_B):
        for n in range(3):
            make_bulletin(code, status="submitted", title=f"Tin {code} {n}")
    mine = workqueue.for_user(users["approver"], keys={"approvals"})["approvals"]
    assert mine.count == 6 and len(mine.items) > 0
    # the operator of another commune approves nothing
    other = workqueue.for_user(users["operator2"], keys={"approvals"})
    assert "approvals" not in other or other["approvals"].count == 0
    # more bulletins from the same units cost no more queries
    with CaptureQueriesContext(connection) as few:
        workqueue.for_user(users["approver"], keys={"approvals"})
    for code in (COMMUNE_A, COMMUNE_B):
        for n in range(3, 10):
            make_bulletin(code, status="submitted", title=f"Tin {code} {n}")
    with CaptureQueriesContext(connection) as many:
        counted = workqueue.for_user(users["approver"], keys={"approvals"})["approvals"]
    assert counted.count == 20
    assert len(many) == len(few)
