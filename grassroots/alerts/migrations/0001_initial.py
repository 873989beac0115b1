"""Emergencies move from `broadcast` to `alerts` (issue 18), step 1 of 2: state only.

The three models are created in this app's migration state on the tables `broadcast` made
(0003, 0004, 0007); `broadcast` 0008 removes them from its own state. Nothing touches the
database here. 0002 then renames the tables to this app's names.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('broadcast', '0007_emergency_two_person'),
        ('content', '0004_media_revision'),
        ('devices', '0003_fleet'),
        ('units', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
            migrations.CreateModel(
                name='Emergency',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='tạo lúc')),
                    ('updated_at', models.DateTimeField(auto_now=True, verbose_name='sửa lúc')),
                    ('title', models.CharField(max_length=200, verbose_name='tiêu đề')),
                    ('text', models.TextField(blank=True, verbose_name='nội dung')),
                    ('media', models.JSONField(blank=True, default=list)),
                    ('repeat', models.PositiveSmallIntegerField(default=1, verbose_name='số lần lặp')),
                    ('expires_at', models.DateTimeField(verbose_name='hết hạn lúc')),
                    ('status', models.CharField(choices=[('awaiting', 'Chờ người thứ hai xác nhận'), ('preparing', 'Đang chuẩn bị'), ('active', 'Đang phát'), ('stopped', 'Đã dừng'), ('expired', 'Đã hết hạn'), ('failed', 'Lỗi')], default='preparing', max_length=10)),
                    ('error', models.CharField(blank=True, max_length=500)),
                    ('command_seq', models.BigIntegerField(blank=True, db_index=True, null=True)),
                    ('command_id', models.CharField(blank=True, db_index=True, max_length=64)),
                    ('sent_at', models.DateTimeField(blank=True, null=True)),
                    ('expected_devices', models.PositiveIntegerField(default=0)),
                    ('confirm_by', models.DateTimeField(blank=True, null=True, verbose_name='phải xác nhận trước')),
                    ('confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='xác nhận lúc')),
                    ('stopped_at', models.DateTimeField(blank=True, null=True)),
                    ('area', models.ManyToManyField(related_name='emergencies', to='units.unit')),
                    ('bulletin', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='content.bulletin')),
                    ('confirmed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='người thứ hai xác nhận')),
                    ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('stopped_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='units.unit')),
                ],
                options={
                    'verbose_name': 'phát khẩn cấp',
                    'verbose_name_plural': 'phát khẩn cấp',
                    'ordering': ['-created_at'],
                    'db_table': 'broadcast_emergency',
                },
            ),
            migrations.CreateModel(
                name='EmergencyPolicy',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='tạo lúc')),
                    ('updated_at', models.DateTimeField(auto_now=True, verbose_name='sửa lúc')),
                    ('two_person', models.BooleanField(default=False, verbose_name='cần người thứ hai xác nhận')),
                    ('confirm_minutes', models.PositiveSmallIntegerField(default=10, verbose_name='thời hạn xác nhận (phút)')),
                    ('unit', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='emergency_policy', to='units.unit', verbose_name='đơn vị')),
                ],
                options={
                    'verbose_name': 'quy tắc phát khẩn cấp',
                    'verbose_name_plural': 'quy tắc phát khẩn cấp',
                    'db_table': 'broadcast_emergencypolicy',
                },
            ),
            migrations.CreateModel(
                name='EmergencyAck',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('status', models.CharField(default='ok', max_length=20)),
                    ('reason', models.CharField(blank=True, default='', max_length=64)),
                    ('acked_at', models.DateTimeField()),
                    ('device', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='devices.device')),
                    ('emergency', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='acks', to='alerts.emergency')),
                ],
                options={
                    'constraints': [models.UniqueConstraint(fields=('emergency', 'device'), name='emergency_ack_once')],
                    'db_table': 'broadcast_emergencyack',
                },
            ),
            ],
        ),
    ]
