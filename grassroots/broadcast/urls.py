from django.urls import path

from . import views
from .console import policy, proposals, relays, shares, slots

S = "dai-truyen-thanh/<int:station_id>/"

urlpatterns = [
    path("dai-truyen-thanh/", views.station_list, name="station-list"),
    path(S, views.station_timeline_view, name="station-timeline"),
    path(S + "tuan/", slots.station_week, name="station-week"),
    path(S + "lich/moi/", slots.slot_new, name="slot-new"),
    path(S + "lich/<int:item_id>/", slots.slot_edit, name="slot-edit"),
    path(S + "lich/<int:item_id>/huy/", slots.slot_cancel, name="slot-cancel"),
    path(S + "lich/<int:item_id>/doi-lan-nay/", slots.slot_move_once, name="slot-move-once"),
    path(S + "lich/<int:item_id>/thu-tu/", slots.slot_rank, name="slot-rank"),
    path(S + "de-xuat/<int:proposal_id>/", proposals.proposal_place, name="proposal-place"),
    path(
        S + "de-xuat/<int:proposal_id>/tu-choi/",
        proposals.proposal_decline,
        name="proposal-decline",
    ),
    path(S + "quy-dinh/", policy.policy_edit, name="station-policy"),
    path("dai-truyen-thanh/de-xuat-moi/", proposals.upper_slot_new, name="upper-slot-new"),
    path("dai-truyen-thanh/bat-buoc-phat/", proposals.must_air_status, name="must-air-status"),
    path(
        "dai-truyen-thanh/chia-se/<int:share_id>/phat-tren-loa/",
        shares.share_to_station,
        name="share-to-station",
    ),
    path(
        "dai-truyen-thanh/chia-se/<int:share_id>/len-bang-tin/",
        shares.share_to_boards,
        name="share-to-boards",
    ),
    path("dai-truyen-thanh/bao-cao-phat/", views.bulletin_report, name="bulletin-airplay"),
    path("dai-truyen-thanh/nguon-tiep-song/", relays.relay_sources, name="relay-sources"),
    path(
        "dai-truyen-thanh/nguon-tiep-song/<int:source_id>/",
        relays.relay_source_edit,
        name="relay-source-edit",
    ),
    path(
        "dai-truyen-thanh/nguon-tiep-song/<int:source_id>/ngung/",
        relays.relay_source_remove,
        name="relay-source-remove",
    ),
    path("ke-hoach-chuyen-doi/", views.conversion_plan, name="conversion-plan"),
    path("ke-hoach-chuyen-doi.xlsx", views.conversion_plan_xlsx, name="conversion-plan-xlsx"),
]
