"""Live delivery moves from `alerts` to its own app `live`, step 1 of 2: state only.

`LiveSession` is created in this app's migration state on the table `alerts` made (0005,
0007); `alerts` 0008 removes it from its own state. Nothing touches the database here. 0002
then renames the table to this app's name.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('alerts', '0007_live_sources'),
        ('broadcast', '0010_asrun_device_started'),
        ('content', '0004_media_revision'),
        ('devices', '0004_fault_cleared'),
        ('units', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='LiveSession',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='tạo lúc')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='sửa lúc')),
                        ('title', models.CharField(max_length=200, verbose_name='tiêu đề')),
                        ('priority', models.CharField(default='normal', max_length=10, verbose_name='mức ưu tiên')),
                        ('status', models.CharField(choices=[('waiting', 'Chờ tín hiệu micro'), ('on_air', 'Đang phát trực tiếp'), ('ended', 'Đã kết thúc')], db_index=True, default='waiting', max_length=10)),
                        ('mount', models.CharField(max_length=100, unique=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='bắt đầu lúc')),
                        ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='kết thúc lúc')),
                        ('until', models.DateTimeField(verbose_name='tối đa đến')),
                        ('end_reason', models.CharField(blank=True, choices=[('stopped', 'Người phát dừng'), ('source_lost', 'Mất tín hiệu micro'), ('time_limit', 'Hết thời lượng tối đa'), ('preempted', 'Nhường phiên khẩn cấp')], max_length=20, verbose_name='lý do kết thúc')),
                        ('command_id', models.CharField(blank=True, max_length=64)),
                        ('expected_devices', models.PositiveIntegerField(default=0)),
                        ('source', models.CharField(choices=[('console', 'Micro trên máy tính, điện thoại'), ('stream', 'Tiếp sóng đài phát thanh'), ('fm', 'Tiếp sóng FM tại cụm loa'), ('device', 'Micro tại đài truyền thanh')], default='console', max_length=10, verbose_name='nguồn')),
                        ('relay_url', models.URLField(blank=True, max_length=500)),
                        ('relay_frequency', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='tần số FM (MHz)')),
                        ('area', models.ManyToManyField(related_name='live_sessions', to='units.unit')),
                        ('bulletin', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='content.bulletin')),
                        ('relay_source', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='broadcast.relaysource', verbose_name='nguồn tiếp sóng')),
                        ('source_device', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='devices.device', verbose_name='cụm loa phát micro')),
                        ('speaker', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='người nói')),
                        ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='units.unit')),
                    ],
                    options={
                        'verbose_name': 'phiên phát trực tiếp',
                        'verbose_name_plural': 'phiên phát trực tiếp',
                        'ordering': ['-created_at'],
                        'db_table': 'alerts_livesession',
                    },
                ),
            ],
        ),
    ]
