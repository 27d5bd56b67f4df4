"""
The high-water marks of many feeds in one query, for the feed checks
(realtime/feeds/checks.py), which read a thousand feeds' marks every second.

On PostgreSQL the keys go as one array parameter (`key = ANY(%s)`): Django's
`key IN (%s, %s, ...)` of a thousand parameters costs about eight times the CPU
to compile and adapt (bench/RESULTS.md, C100k: 7.1 ms against 0.84 ms a
thousand feeds), and at 100,000 idle connections that was most of their CPU.
Elsewhere, the ORM's `__in`.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Any

from django.db import connections, models, router


def marks(model: type[models.Model], key: str, mark: str, keys: Collection[Hashable]) -> dict[Any, int]:
    """{key value: mark} of the rows of `model` whose `key` field is in `keys`; one query."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        rows = model._default_manager.using(alias).filter(**{f"{key}__in": keys}).values_list(key, mark)
        return dict(rows)
    quote = connection.ops.quote_name
    key_column, mark_column = quote(column(model, key)), quote(column(model, mark))
    # Only names from the model's own metadata go into the text; the keys go as a parameter.
    sql = f"SELECT {key_column}, {mark_column} FROM {quote(model._meta.db_table)} WHERE {key_column} = ANY(%s)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(keys)])
        return dict(cursor.fetchall())


def column(model: type[models.Model], name: str) -> str:
    """The database column of the field `name` of `model` ("pk": its primary key)."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field.column
