"""The noticeboard's generator step and its own count (``localsocial generate --notices N``)."""

from __future__ import annotations

from localsocial.core.generate.engine import GenerateContext, generator_step
from localsocial.core.generate.plan import generator_option

generator_option("notices", per_scale=500, help="Notices to pin (noticeboard test module).", minimum=1)


@generator_step("noticeboard.notices", order=900)
def notices_generate(ctx: GenerateContext) -> int:
    # Nothing to write (the module has no tables); it reports the count it was asked for and
    # that the platform's steps ran first.
    assert ctx.ids.get("organisations"), "the directory steps run before the modules'"
    return ctx.plan.count("notices")
