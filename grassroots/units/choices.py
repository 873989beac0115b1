"""Kinds of administrative unit."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    NATION = "quoc_gia", _("Cả nước (hệ thống trung ương)")
    PROVINCE = "tinh", _("Tỉnh")
    CITY = "thanh_pho_tw", _("Thành phố trực thuộc trung ương")
    DISTRICT = "huyen", _("Huyện")
    TOWN = "thi_xa", _("Thị xã")
    PROVINCIAL_CITY = "thanh_pho", _("Thành phố thuộc tỉnh")
    URBAN_DISTRICT = "quan", _("Quận")
    COMMUNE = "xa", _("Xã")
    WARD = "phuong", _("Phường")
    TOWNSHIP = "thi_tran", _("Thị trấn")
    SPECIAL_ZONE = "dac_khu", _("Đặc khu")

    @classmethod
    def commune_level(cls) -> set[str]:
        return {cls.COMMUNE, cls.WARD, cls.TOWNSHIP, cls.SPECIAL_ZONE}

    @classmethod
    def from_label(cls, label: str) -> "UnitKind":
        """Map a Vietnamese type word ("Xã", "Phường", "Thành phố"...) to a kind."""
        key = label.strip().lower()
        table = {
            "tỉnh": cls.PROVINCE,
            "xã": cls.COMMUNE,
            "phường": cls.WARD,
            "thị trấn": cls.TOWNSHIP,
            "đặc khu": cls.SPECIAL_ZONE,
            "huyện": cls.DISTRICT,
            "thị xã": cls.TOWN,
            "thành phố": cls.PROVINCIAL_CITY,
            "quận": cls.URBAN_DISTRICT,
            "thành phố trung ương": cls.CITY,
        }
        if key in table:
            return table[key]
        for value in cls.values:
            if value == key:
                return cls(value)
        raise ValueError(f"Loại đơn vị không hợp lệ: {label!r}")
