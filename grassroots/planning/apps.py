from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "grassroots.planning"
    label = "planning"
    verbose_name = "Thực hiện kế hoạch (kinh phí, vị trí bảng tin, kiểm tra)"
