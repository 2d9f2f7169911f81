"""The caller of a request, as every domain sees them."""
from __future__ import annotations

from dataclasses import dataclass

from services.api.orgs.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    roles: frozenset[Role]
    school_id: str | None
    district_id: str

    def has_any_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_district_admin(self) -> bool:
        return Role.district_admin in self.roles

    @property
    def reviews_district(self) -> bool:
        """Moderators and district administrators see everything in their district."""
        return self.has_any_role(Role.moderator, Role.district_admin)

    @property
    def reviews_school(self) -> bool:
        """School reviewers review their own school's resources at the first of two levels."""
        return Role.school_reviewer in self.roles and self.school_id is not None
