"""Factories of the device registry."""

import factory

from grassroots.devices.models import Device


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    kind = "speaker"
    name = factory.Sequence(lambda n: f"Cụm loa số {n}")
    serial = factory.Sequence(lambda n: f"SN-{n:06d}")
    technology = "ip_4g"
    condition = "working"
    volume = 80

    @factory.lazy_attribute
    def station(self):
        from grassroots.broadcast.models import Station

        return Station.objects.filter(unit=self.unit).first()
