"""Template filters for after-sales terms shown on listing, purchase and contract pages."""

from django import template

from workers.quality.guarantee import describe

register = template.Library()


@register.filter
def guarantee_lines(guarantee) -> list[str]:
    """A frozen quality guarantee as short sentences (empty when there is none)."""
    return describe(guarantee)
