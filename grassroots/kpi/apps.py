from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "grassroots.kpi"
    label = "kpi"
    verbose_name = "Chỉ số, báo cáo"
