from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "grassroots.kpi"
    label = "kpi"
    verbose_name = "Chỉ số, báo cáo"

    def ready(self) -> None:
        from grassroots.broadcast.asrun import recorded

        from . import rollup

        recorded.connect(rollup.asrun_recorded, dispatch_uid="kpi-asrun")
