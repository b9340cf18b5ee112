"""The portal's URLs and the floor page F, which exists only in the benchmark."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from accounts.models import Clinic
from portal.urls import handler500
from portal.urls import urlpatterns as portal_urlpatterns

FLOOR_PATH = "/bench/floor/"


@login_required
@require_GET
def floor(request):
    """F: signed in, one query of its own, the base layout with a one-line body. What any
    page costs before it does anything: session, user, middleware, audit-free layout."""
    clinics = Clinic.objects.of_member(request.user).count()
    return render(request, "bench/floor.html", {"clinics": clinics})


urlpatterns = [path(FLOOR_PATH.strip("/") + "/", floor, name="bench_floor"), *portal_urlpatterns]

__all__ = ["handler500", "urlpatterns"]
