# The library's first table since 0.2. Numbered 0002: databases made by 0.1 have
# `realtime.0001_initial` applied already (notifications lived in this app then,
# and the notifications app adopted its tables), so a new 0001 would be skipped there.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='TokenRevocation',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('revoked_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'token revocation',
            },
        ),
    ]
