"""grassroots: a provincial grassroots information system (hệ thống thông tin cơ sở)."""

__version__ = "0.1.0"
