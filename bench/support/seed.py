"""
Prepare a benchmark database: migrate it, create users (each with a token) and
posts, print them as JSON. Runs in its own process, on the database and settings
module of its environment (DATABASE_URL, DJANGO_SETTINGS_MODULE).

    python -m bench.support.seed USERS POSTS [COMMENTS_PER_POST]

Comments (by the first user, 1 KB each) are numbered as the app numbers them.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta

TOKEN_TTL = timedelta(hours=2)


COMMENT_BODY = "x" * 1000


def main(users: int, posts: int, comments: int = 0) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from comments.models import Comment, Post
    from realtime.auth.tokens import issue_token

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    user_model.objects.bulk_create([user_model(username=f"bench{n}") for n in range(users)], batch_size=2000)
    created = user_model.objects.filter(username__startswith="bench").order_by("id")
    tokens = [issue_token(user, ttl=TOKEN_TTL) for user in created]
    post_ids = [Post.objects.create(title=f"Benchmark post {n}").pk for n in range(posts)]
    now, author = timezone.now(), created.first()
    for post_id in post_ids if comments else []:
        Comment.objects.bulk_create(
            (
                Comment(post_id=post_id, author=author, body=f"{n} {COMMENT_BODY}", seq=n, created_at=now)
                for n in range(1, comments + 1)
            ),
            batch_size=2000,
        )
        Post.objects.filter(pk=post_id).update(last_comment_seq=comments)
    json.dump({"tokens": tokens, "user_ids": [user.pk for user in created], "post_ids": post_ids}, sys.stdout)


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:4]))
