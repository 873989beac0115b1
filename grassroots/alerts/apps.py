from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "grassroots.alerts"
    label = "alerts"
    verbose_name = "Khẩn cấp, cảnh báo CAP"
