"""
The demo page at `/` (README, "The demo page"): a signed-in user watches a
post's comments live, posts comments, and sees notifications arrive, all
through the static JavaScript client (realtime/static/realtime/client.js).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from comments.models import Post


@login_required
@ensure_csrf_cookie  # the client reads it to POST to the token endpoint
def page(request: HttpRequest) -> HttpResponse:
    posts = list(Post.objects.order_by("id")[:20])
    post = _chosen_post(request, posts)
    config = {
        "postId": post.pk if post else None,
        "tokenUrl": reverse("realtime:token"),
        "username": request.user.get_username(),
    }
    return render(request, "demo/page.html", {"post": post, "posts": posts, "config": config})


def _chosen_post(request: HttpRequest, posts: list[Post]) -> Post | None:
    wanted = request.GET.get("post")
    if wanted is None:
        return posts[0] if posts else None
    try:
        return Post.objects.get(pk=int(wanted))
    except (ValueError, Post.DoesNotExist):
        raise Http404("No such post") from None
