# Notifications were part of the `realtime` app until 0.2: on a database that
# release created, this migration takes over its tables (renamed, with their
# rows) and its content types (so permissions and admin history follow)
# instead of creating new ones.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class CreateModelOrAdoptTable(migrations.CreateModel):
    """CreateModel; where an earlier release left the model's table as `old_table`, rename that table instead."""

    def __init__(self, *args, old_table, **kwargs):
        super().__init__(*args, **kwargs)
        self.old_table = old_table

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, args, {**kwargs, "old_table": self.old_table}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        if self.old_table in schema_editor.connection.introspection.table_names():
            schema_editor.alter_db_table(model, self.old_table, model._meta.db_table)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Create model {self.name}, or adopt the table {self.old_table}"


def adopt_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in ("notification", "notificationsequence"):
        if not content_type.objects.filter(app_label="notifications", model=model).exists():
            content_type.objects.filter(app_label="realtime", model=model).update(app_label="notifications")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        CreateModelOrAdoptTable(
            name='NotificationSequence',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, serialize=False, to=settings.AUTH_USER_MODEL)),
                ('last_seq', models.PositiveBigIntegerField(default=0)),
            ],
            old_table='realtime_notificationsequence',
        ),
        CreateModelOrAdoptTable(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveBigIntegerField(editable=False)),
                ('payload', models.JSONField(default=dict)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['recipient', 'id'], name='notification_recipient_id')],
                'constraints': [models.UniqueConstraint(fields=('recipient', 'seq'), name='notification_recipient_seq_unique')],
            },
            old_table='realtime_notification',
        ),
        migrations.RunPython(adopt_content_types, migrations.RunPython.noop),
    ]
