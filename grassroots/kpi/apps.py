from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "grassroots.kpi"
    label = "kpi"
    verbose_name = "Chỉ số, báo cáo"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from grassroots.broadcast.asrun import recorded

        from . import rollup

        recorded.connect(rollup.asrun_recorded, dispatch_uid="kpi-asrun")
        for model in rollup.fact_models():
            post_delete.connect(rollup.fact_deleted, sender=model, dispatch_uid=f"kpi-{model}")
