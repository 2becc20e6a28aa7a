"""The list filter backend: django-filter, refusing a filter given more than once.

``?status=open&status=x`` would otherwise be read as its last value; a client that sends two
values means something the filter cannot do, so it gets a 400 naming the parameter."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            repeated = sorted(name for name in filterset_class.base_filters
                              if len(request.query_params.getlist(name)) > 1)
            if repeated:
                raise serializers.ValidationError({name: ["Give this filter once."] for name in repeated})
        return super().filter_queryset(request, queryset, view)
