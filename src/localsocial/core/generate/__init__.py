"""The large-data generator: a fictional national dataset, fast, for benchmarks.

``--scale 1`` is about 10,000 organisations and services and 100,000 people; every count is a
ratio times the scale (see ``plan.GenerationPlan``), so ``--scale 0.01`` is a quick sample and
``--scale 10`` is a million people.

How it stays fast (``engine``):

* ids are precomputed (the next free id onwards), so that tree paths and foreign keys are known
  before a row is written and nothing is read back;
* rows are streamed: PostgreSQL receives them through ``COPY`` (psycopg 3 ``cursor.copy``),
  other databases through ``bulk_create`` in large batches;
* every generated person shares one password hash, computed once (Argon2 is slow by design);
* ``--reset`` deletes with one statement a table (``delete_fast``), not row by row.

Generated rows are marked so that ``--reset`` can find them: slugs start with ``gen-``, email
addresses end with ``@generated.invalid`` and area GSS codes start with ``E059`` or ``E069``
(instance numbers from 900000 up, which no real area uses).

Each module adds its own data by registering steps, and the numbers they generate, in its
app's ``generate.py`` (imported automatically, like ``admin.py``; the platform never imports a
module)::

    from localsocial.core.generate import (
        GenerateContext, bulk_insert, delete_fast, generator_option, generator_step,
    )

    generator_option("stories", per_scale=10_000, help="How many stories (default 10,000 times the scale).")

    def stories_reset() -> int:
        return delete_fast(Story.objects.filter(author_email__endswith="@generated.invalid"))

    @generator_step("stories.stories", order=100, reset=stories_reset)
    def stories_generate(ctx: GenerateContext) -> int:
        services, users = ctx.ids["services"], ctx.ids["users"]
        count = ctx.plan.count("stories")          # --stories N, or 10,000 times the scale
        return bulk_insert(Story, ["id", "service_id", "author_id", ...], (... rows ...))

``localsocial generate`` gets one ``--<name> N`` option per declared number (``--stories``,
``--circles``, ``--circle-members`` …).  Steps run in ``order`` (the directory and people take
10 to 60, stories 100, circles 200 and up); resets run in the reverse order, so a step's reset
runs while the rows it points at are still there.  The generator
assumes a quiet database: it takes the next free ids without locking, so it must not run while
the site is taking writes.
"""

from localsocial.core.generate.directory_steps import (
    GENERATED_EMAIL_DOMAIN,
    GENERATED_PASSWORD,
    GENERATED_SLUG_PREFIX,
)
from localsocial.core.generate.engine import (
    GenerateContext,
    GeneratorStep,
    StepTiming,
    bulk_insert,
    delete_fast,
    generate,
    generated_reset,
    generator_step,
    generator_steps,
    next_id,
    reset_sequences,
)
from localsocial.core.generate.plan import (
    GenerationPlan,
    GeneratorOption,
    generator_option,
    generator_options,
)

__all__ = [
    "GENERATED_EMAIL_DOMAIN",
    "GENERATED_PASSWORD",
    "GENERATED_SLUG_PREFIX",
    "GenerateContext",
    "GenerationPlan",
    "GeneratorOption",
    "GeneratorStep",
    "StepTiming",
    "bulk_insert",
    "delete_fast",
    "generate",
    "generated_reset",
    "generator_option",
    "generator_options",
    "generator_step",
    "generator_steps",
    "next_id",
    "reset_sequences",
]
