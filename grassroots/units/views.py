"""Console: the unit tree browser with accent-insensitive search."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Unit


@login_required
def tree(request):
    """Browse the tree from the user's roots down; `q` searches without diacritics."""
    visible = Unit.objects.restrict(request.user, "units.view")
    q = request.GET.get("q", "").strip()[:100]
    code = request.GET.get("code", "").strip()[:16]
    current = visible.filter(code=code, valid_to__isnull=True).first() if code else None
    if q:
        units = visible.filter(valid_to__isnull=True).search(q).order_by("depth", "name")[:200]
    elif current:
        units = current.children.filter(pk__in=visible.values("pk")).order_by("kind", "name")
    else:
        top = (
            visible.filter(valid_to__isnull=True)
            .order_by("depth")
            .values_list("depth", flat=True)
            .first()
        )
        units = (
            visible.filter(valid_to__isnull=True, depth=top).order_by("name")
            if (top is not None)
            else visible.none()
        )
    context = {
        "units": units,
        "q": q,
        "current": current,
        "ancestors": current.ancestors() if current else [],
        "predecessors": current.predecessions.select_related("predecessor")[:100]
        if current
        else [],
    }
    template = "units/_list.html" if request.headers.get("HX-Request") else "units/tree.html"
    return render(request, template, context)
