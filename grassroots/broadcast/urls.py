from django.urls import path

from . import schedule_views as sv
from . import views

S = "dai-truyen-thanh/<int:station_id>/"

urlpatterns = [
    path("dai-truyen-thanh/", views.station_list, name="station-list"),
    path(S, views.station_timeline_view, name="station-timeline"),
    path(S + "tuan/", sv.station_week, name="station-week"),
    path(S + "lich/moi/", sv.slot_new, name="slot-new"),
    path(S + "lich/<int:item_id>/", sv.slot_edit, name="slot-edit"),
    path(S + "lich/<int:item_id>/huy/", sv.slot_cancel, name="slot-cancel"),
    path(S + "lich/<int:item_id>/doi-lan-nay/", sv.slot_move_once, name="slot-move-once"),
    path(S + "lich/<int:item_id>/thu-tu/", sv.slot_rank, name="slot-rank"),
    path(S + "de-xuat/<int:proposal_id>/", sv.proposal_place, name="proposal-place"),
    path(S + "de-xuat/<int:proposal_id>/tu-choi/", sv.proposal_decline, name="proposal-decline"),
    path(S + "quy-dinh/", sv.policy_edit, name="station-policy"),
    path("dai-truyen-thanh/de-xuat-moi/", sv.upper_slot_new, name="upper-slot-new"),
    path("dai-truyen-thanh/bat-buoc-phat/", sv.must_air_status, name="must-air-status"),
    path(
        "dai-truyen-thanh/chia-se/<int:share_id>/phat-tren-loa/",
        sv.share_to_station,
        name="share-to-station",
    ),
    path(
        "dai-truyen-thanh/chia-se/<int:share_id>/len-bang-tin/",
        sv.share_to_boards,
        name="share-to-boards",
    ),
    path("dai-truyen-thanh/bao-cao-phat/", views.bulletin_report, name="bulletin-airplay"),
    path("ke-hoach-chuyen-doi/", views.conversion_plan, name="conversion-plan"),
    path("ke-hoach-chuyen-doi.xlsx", views.conversion_plan_xlsx, name="conversion-plan-xlsx"),
]
