"""Template tags for the staff admin: the queue counts on its index page."""

from django import template

from exchange.selectors.staff import staff_queues as _staff_queues

register = template.Library()


@register.simple_tag
def staff_queues():
    return _staff_queues()
