"""Layout helpers for the browser tests."""

from __future__ import annotations


def overflowing(page, width: int) -> list[str]:
    """The outermost elements that stick out past ``width`` (what makes the page scroll sideways)."""
    return page.evaluate("""(width) => {
        const out = [];
        for (const el of document.body.querySelectorAll('*')) {
            if (el.getBoundingClientRect().right <= width + 0.5) continue;
            let p = el.parentElement, inner = false;
            while (p && p !== document.body) {
                const s = getComputedStyle(p);
                if (s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') { inner = true; break; }
                p = p.parentElement;
            }
            if (!inner && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 0.5))
                out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' ' + Math.round(el.getBoundingClientRect().right));
        }
        return out;
    }""", width)
