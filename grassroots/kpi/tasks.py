"""Timed work and tasks of the kpi app: keep the daily rollups current (kpi.rollup.refresh),
remind units of the yearly report's deadline, compile and write the yearly reports."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.core.periodic import every

from . import rollup

log = logging.getLogger("grassroots.kpi")

FAILED = "Máy chủ gặp lỗi khi lập báo cáo; hãy thử lại, nếu vẫn lỗi hãy báo quản trị viên."


@every(300)
def refresh_rollups() -> None:
    """Every 5 minutes: recompute the (unit, day) rows touched by new facts, and today."""
    rollup.refresh()


@every(3600)
def yearly_report_reminders() -> int:
    """Every hour: on the year's reminder days, email the units that have not reported."""
    from . import reminders

    return reminders.send_due()


@every(86400)
def clean_report_files() -> int:
    """Once a day: delete the exported files older than GRASSROOTS["REPORT_FILE_DAYS"] that a
    newer export of the same report and format has replaced (the latest is always kept), and
    files no job names any more (their report was deleted). The job keeps its row, without
    its file, so the console says the file was cleaned up. Returns the number of files removed."""
    from .choices import JobKind, JobStatus
    from .models import ReportJob

    days = settings.GRASSROOTS["REPORT_FILE_DAYS"]
    cutoff = timezone.now() - datetime.timedelta(days=days)
    root = Path(settings.MEDIA_ROOT)
    done = ReportJob.objects.filter(kind=JobKind.EXPORT, status=JobStatus.DONE).exclude(file="")
    latest: set[int] = set()
    seen: set[tuple[int, str]] = set()
    for pk, report_id, fmt in done.order_by("-finished_at", "-id").values_list(
        "pk", "report_id", "fmt"
    ):
        if (report_id, fmt) not in seen:
            seen.add((report_id, fmt))
            latest.add(pk)
    removed = 0
    for job in done.filter(finished_at__lt=cutoff).exclude(pk__in=latest):
        (root / job.file).unlink(missing_ok=True)
        job.file, job.step = "", f"Tệp đã được dọn sau {days} ngày; hãy xuất lại nếu cần."
        job.save(update_fields=["file", "step"])
        removed += 1
    named = {root / f for f in done.exclude(file="").values_list("file", flat=True)}
    folder = reports_dir()
    if folder.is_dir():
        for path in folder.rglob("*"):
            old = path.stat().st_mtime < cutoff.timestamp() if path.is_file() else False
            if old and path not in named:
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("removed %d yearly report file(s) older than %d days", removed, days)
    return removed


def reports_dir() -> Path:
    """Where generated report files live: under MEDIA_ROOT, served only through the console's
    download view (which checks the reader's scope), never as public media."""
    return Path(settings.MEDIA_ROOT) / "reports"


def _progress(job_id: int):
    from .models import ReportJob

    def update(percent: int, step: str) -> None:
        ReportJob.objects.filter(pk=job_id).update(progress=max(0, min(percent, 99)), step=step)

    return update


def compile_report(report, progress) -> None:
    """The province's report: its figures and the appendices gathered from the units'."""
    from . import yearly
    from .models import YearlyReport

    figures = yearly.build(report, progress)
    with transaction.atomic():
        locked = YearlyReport.objects.select_for_update().get(pk=report.pk)
        before = audit.snapshot(locked)
        locked.figures, locked.figures_at = figures, timezone.now()
        locked.save(update_fields=["figures", "figures_at", "updated_at"])
        audit.record(locked, ChangeAction.UPDATE, before=before, comment="Tổng hợp báo cáo")


def write_file(report, fmt: str, progress) -> str:
    """Write the report as `fmt`; returns the file's path under MEDIA_ROOT."""
    from .actions import safe_filename
    from .documents import WRITERS

    progress(20, "Chuẩn bị nội dung")
    data = WRITERS[fmt](report, progress)
    progress(95, "Lưu tệp")
    folder = reports_dir() / str(report.year)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    name = f"bao-cao-{report.year}-{safe_filename(report.reporter)}-{report.pk}-{stamp}.{fmt}"
    (folder / name).write_bytes(data)
    return str((folder / name).relative_to(settings.MEDIA_ROOT))


@task()
def run_report_job(job_id: int) -> dict:
    """Compile the province's report or write a report file, updating the job's progress."""
    from .choices import JobKind, JobStatus
    from .models import ReportJob

    job = (
        ReportJob.objects.select_related("report", "report__unit", "report__body")
        .filter(pk=job_id)
        .first()
    )
    if job is None or job.status != JobStatus.QUEUED:
        return {"job": job_id, "status": "skipped"}
    ReportJob.objects.filter(pk=job_id).update(status=JobStatus.RUNNING, step="Bắt đầu")
    progress = _progress(job_id)
    try:
        if job.kind == JobKind.COMPILE:
            compile_report(job.report, progress)
            path = ""
        else:
            path = write_file(job.report, job.fmt, progress)
    except Exception:
        log.exception("yearly report job %s failed", job_id)
        ReportJob.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED, error=FAILED, finished_at=timezone.now(), step=""
        )
        return {"job": job_id, "status": JobStatus.FAILED}
    ReportJob.objects.filter(pk=job_id).update(
        status=JobStatus.DONE, progress=100, step="Xong", file=path, finished_at=timezone.now()
    )
    return {"job": job_id, "status": JobStatus.DONE, "file": path}
