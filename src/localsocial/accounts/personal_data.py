"""Registries through which every module takes part in "Download your data" and in erasure.

A module registers, in its ``AppConfig.ready()``:

* an **export section**: ``export_section_register("stories", fn)``, where ``fn(user)`` returns
  JSON-ready data (dicts, lists, strings, numbers, booleans, None) about that person only;
* an **eraser**: ``eraser_register("stories", fn)``, where ``fn(user)`` removes or
  pseudonymises that person's personal data in the module.  Erasers run inside the erasure's
  transaction, before the account itself is pseudonymised (so they can still read the email
  address and display name), in the order they were registered.  They must keep foreign keys
  valid: content the person wrote stays, attributed to "Former member".

Registering the same name twice replaces the earlier function, so reloading a module is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localsocial.accounts.models import User

ExportSection = Callable[["User"], Any]
Eraser = Callable[["User"], None]

_export_sections: dict[str, ExportSection] = {}
_erasers: dict[str, Eraser] = {}


def export_section_register(name: str, fn: ExportSection) -> None:
    """Add (or replace) the section ``name`` of every person's data export."""
    _export_sections[name] = fn


def eraser_register(name: str, fn: Eraser) -> None:
    """Add (or replace) the eraser ``name``, run when an account is erased."""
    _erasers[name] = fn


def export_sections() -> dict[str, ExportSection]:
    return dict(_export_sections)


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)
