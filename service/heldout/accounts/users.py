"""Users and teams in the catalog."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from heldout.accounts.roles import check_role
from heldout.catalog.models import Team, TeamMember, User
from heldout.errors import AlreadyExists, InvalidInput, NotFound
from heldout.names import check_name

EMAIL_MAX = 254


def create_user(session: Session, name: str, role: str, email: str | None = None) -> User:
    """Add a user; AlreadyExists if the name is taken."""
    check_name(name, "user name")
    check_role(role)
    if email is not None and ("@" not in email or len(email) > EMAIL_MAX):
        raise InvalidInput(f"email {email!r} is not an e-mail address")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AlreadyExists(f"user {name!r} already exists")
    user = User(name=name, role=role, email=email)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> User:
    """The user called ``name``, or NotFound."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"user {name!r} does not exist")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)).all())


def create_team(session: Session, name: str) -> Team:
    """Add a team; AlreadyExists if the name is taken."""
    check_name(name, "team name")
    if session.scalar(select(Team).where(Team.name == name)) is not None:
        raise AlreadyExists(f"team {name!r} already exists")
    team = Team(name=name)
    session.add(team)
    session.flush()
    return team


def get_team(session: Session, name: str) -> Team:
    """The team called ``name``, or NotFound."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(f"team {name!r} does not exist")
    return team


def list_teams(session: Session) -> list[Team]:
    """Every team, by name."""
    return list(session.scalars(select(Team).order_by(Team.name)).all())


def add_member(
    session: Session, team: Team, user: User, benchmark: str | None = None
) -> TeamMember:
    """Put ``user`` in ``team`` (for one benchmark, or generally); a user has one team per scope."""
    existing = session.scalar(
        select(TeamMember).where(
            TeamMember.user_id == user.id,
            TeamMember.benchmark.is_(None) if benchmark is None
            else TeamMember.benchmark == benchmark,
        )
    )
    if existing is not None:
        if existing.team_id == team.id:
            return existing
        scope = f"benchmark {benchmark!r}" if benchmark else "general membership"
        raise AlreadyExists(f"user {user.name!r} is already in another team for {scope}")
    member = TeamMember(team_id=team.id, user_id=user.id, benchmark=benchmark)
    session.add(member)
    session.flush()
    return member


def team_ids(session: Session, user_id: int) -> list[int]:
    """Ids of every team ``user_id`` belongs to (any scope)."""
    return list(
        session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)).all()
    )


def user_dict(user: User) -> dict[str, Any]:
    """The public JSON view of a user (no keys)."""
    return {
        "name": user.name,
        "role": user.role,
        "email": user.email,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


def team_names(session: Session, user_id: int) -> list[str]:
    """Names of every team ``user_id`` belongs to, sorted."""
    return sorted(set(session.scalars(
        select(Team.name).join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id)).all()))
