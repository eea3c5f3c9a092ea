"""The project's URLs plus a minimal view, so the bench's ceiling is served exactly like the shop.

The bench server runs with ``WHOLESALE_URLCONF=bench.urls``: same gunicorn, middleware and
settings as the pages measured; only the view differs.
"""

from django.http import HttpResponse
from django.urls import path

from wholesale.urls import urlpatterns as project_urlpatterns


def minimal(request):
    """The practical ceiling: a Django view that does nothing but answer."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/minimal", minimal, name="bench-minimal"),
    *project_urlpatterns,
]
