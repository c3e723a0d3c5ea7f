"""Who a streaming destination belongs to: a top-level group, or the instance.

Resolved once (from a group path, or from a destination's row) and passed on, so that the
rules that apply to both owners are written once instead of branching on a flag at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from auditwire.domain.namespaces import Group


class OwnerKind(StrEnum):
    """The two families of destinations, as GitLab's global IDs tell them apart."""

    GROUP = "group"
    INSTANCE = "instance"


@dataclass(frozen=True, slots=True)
class Owner:
    """A top-level group's destinations, or (group None) the instance's."""

    group: Group | None = None

    @classmethod
    def instance(cls) -> Owner:
        return cls(None)

    @classmethod
    def of(cls, group: Group) -> Owner:
        return cls(group)

    @property
    def kind(self) -> OwnerKind:
        return OwnerKind.INSTANCE if self.group is None else OwnerKind.GROUP

    @property
    def is_instance(self) -> bool:
        return self.group is None

    @property
    def group_id(self) -> int | None:
        return self.group.id if self.group is not None else None

    @property
    def key(self) -> int:
        """A number naming the owner in locks: the group's id, 0 for the instance."""
        return self.group.id if self.group is not None else 0
