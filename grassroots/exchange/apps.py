from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "grassroots.exchange"
    label = "exchange"
    verbose_name = "Liên thông hệ thống trung ương"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from .reports import report_event

        # a step of a citizen report forwarded to us goes back to the system that sent it
        post_save.connect(report_event, sender="feedback.ReportEvent", dispatch_uid="ex-report")
