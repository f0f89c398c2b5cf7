from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from apps.areas.models import Area
from apps.areas.selectors import area_children, area_get_visible, areas_visible_to


@login_required
def area_list(request):
    areas = areas_visible_to(user=request.user, level=request.GET.get("level") or None)
    page = Paginator(areas, 50).get_page(request.GET.get("page"))
    return render(request, "areas/list.html", {"page": page, "areas": page.object_list})


@login_required
def area_detail(request, code: str):
    try:
        area = area_get_visible(user=request.user, code=code)
    except Area.DoesNotExist:
        raise Http404 from None
    return render(request, "areas/detail.html", {"area": area, "children": area_children(area=area)})
