"""Noticeboard: an empty module that exists only to prove the module contract (decision 0015).

It brings a demo step, a generator step (with its own ``--notices N`` option), an API router
with a scope, and one webhook event, each from its own file, and it plugs in by being added to
``INSTALLED_APPS`` and nothing else (``settings.py`` here does exactly that).
tests/core/test_module_plugs_in.py runs ``check.py`` in a fresh process on a fresh database
with those settings and checks that every registry found what this module brings.
"""
