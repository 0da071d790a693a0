"""The noticeboard's demo step: it runs after the platform's (which made the organisations)."""

from __future__ import annotations

from localsocial.core.demo_registry import DemoContext, demo_step


@demo_step("noticeboard", order=900)
def noticeboard_demo(ctx: DemoContext) -> dict[str, int]:
    # An empty module creates nothing; it reports what the steps before it left in the context.
    return {"noticeboard organisations seen": len(ctx.organisations)}
