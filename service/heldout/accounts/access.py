"""Who may read which dataset: visibility (public, gated, private), terms, grants, ownership.

- ``public``: anyone, without a key.
- ``gated``: listed and described to anyone; its data (manifest, files, rows, previews) only to
  users who accepted the dataset's current ``terms_version``.
- ``private``: only named users and teams (grants), its owner and admins; hidden from everyone
  else (404, as if it did not exist).

Admins read everything. A dataset with no catalog row (committed without a catalog) is public.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.orm import Session

from heldout.accounts.roles import Principal
from heldout.accounts.users import team_ids
from heldout.catalog.datasets import has_committed
from heldout.catalog.models import (
    Dataset,
    DatasetGrant,
    Team,
    TeamMember,
    TermsAcceptance,
    User,
    iso,
)
from heldout.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from heldout.names import check_name

VISIBILITIES: Final[tuple[str, ...]] = ("public", "gated", "private")
TERMS_VERSION_MAX = 32


def find_dataset(session: Session, name: str) -> Dataset | None:
    """The catalog row of ``name`` (None when the catalog does not know it)."""
    return session.scalar(select(Dataset).where(Dataset.name == name))


def is_granted(session: Session, user: Principal, dataset: Dataset) -> bool:
    """Whether a grant names ``user`` or one of their teams."""
    teams = team_ids(session, user.id)
    clause = DatasetGrant.user_id == user.id
    if teams:
        clause = or_(clause, DatasetGrant.team_id.in_(teams))
    found = session.scalar(
        select(DatasetGrant.id).where(DatasetGrant.dataset_id == dataset.id, clause).limit(1)
    )
    return found is not None


def has_accepted_terms(session: Session, user: Principal, dataset: Dataset) -> bool:
    """Whether ``user`` accepted the dataset's current terms version."""
    found = session.scalar(
        select(TermsAcceptance.id).where(
            TermsAcceptance.dataset_id == dataset.id,
            TermsAcceptance.user_id == user.id,
            TermsAcceptance.terms_version == (dataset.terms_version or ""),
        )
    )
    return found is not None


def may_see(session: Session, user: Principal | None, dataset: Dataset | None) -> bool:
    """Whether ``user`` may know the dataset exists (list it, describe it)."""
    if dataset is None or dataset.visibility != "private":
        return True
    if user is None:
        return False
    return user.is_admin or dataset.owner_id == user.id or is_granted(session, user, dataset)


def check_read(session: Session, user: Principal | None, name: str) -> Dataset | None:
    """Raise unless ``user`` may read the *data* of dataset ``name``; returns its row.

    Private and not allowed → NotFound; gated without a key → Unauthorized; gated without an
    acceptance of the current terms → Forbidden naming the route that accepts them.
    """
    dataset = find_dataset(session, name)
    if not may_see(session, user, dataset):
        raise NotFound(f"dataset {name!r} does not exist")
    if dataset is None or dataset.visibility != "gated":
        return dataset
    if user is None:
        raise Unauthorized(
            f"dataset {name!r} is gated: send an API key of a user who accepted its terms"
        )
    if user.is_admin or dataset.owner_id == user.id:
        return dataset
    if not has_accepted_terms(session, user, dataset):
        raise Forbidden(
            f"dataset {name!r} is gated: accept its terms (version "
            f"{dataset.terms_version!r}) first: `heldout datasets terms {name} --accept`, "
            f"or POST /api/v1/datasets/{name}/terms",
            terms_version=dataset.terms_version,
        )
    return dataset


def is_owner_or_admin(user: Principal | None, dataset: Dataset | None) -> bool:
    """Whether ``user`` owns ``dataset`` or is an admin (a dataset the catalog does not know,
    or one without an owner, is the operators': admins only)."""
    if user is None:
        return False
    if user.is_admin:
        return True
    return dataset is not None and dataset.owner_id is not None and dataset.owner_id == user.id


def visible_clause(session: Session, user: Principal | None) -> ColumnElement[bool]:
    """A SQL condition on ``Dataset`` selecting the datasets ``user`` may see."""
    not_private = Dataset.visibility != "private"
    if user is None:
        return not_private
    if user.is_admin:
        return true()
    granted = exists().where(
        DatasetGrant.dataset_id == Dataset.id,
        or_(
            DatasetGrant.user_id == user.id,
            DatasetGrant.team_id.in_(
                select(TeamMember.team_id).where(TeamMember.user_id == user.id)
            ),
        ),
    )
    return or_(not_private, Dataset.owner_id == user.id, granted)


def accept_terms(session: Session, user: Principal, dataset: Dataset) -> TermsAcceptance:
    """Record that ``user`` accepts the current terms of a gated dataset (idempotent)."""
    if dataset.visibility != "gated" or not dataset.terms_version:
        raise Conflict(f"dataset {dataset.name!r} is not gated: there are no terms to accept")
    existing = session.scalar(
        select(TermsAcceptance).where(
            TermsAcceptance.dataset_id == dataset.id,
            TermsAcceptance.user_id == user.id,
            TermsAcceptance.terms_version == dataset.terms_version,
        )
    )
    if existing is not None:
        return existing
    row = TermsAcceptance(dataset_id=dataset.id, user_id=user.id,
                          terms_version=dataset.terms_version, accepted_at=datetime.now(UTC))
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except SAIntegrityError:  # accepted concurrently
        found = session.scalar(
            select(TermsAcceptance).where(
                TermsAcceptance.dataset_id == dataset.id,
                TermsAcceptance.user_id == user.id,
                TermsAcceptance.terms_version == dataset.terms_version,
            )
        )
        assert found is not None
        return found
    return row


def list_acceptances(
    session: Session, dataset: str | None = None, user: str | None = None
) -> list[dict[str, Any]]:
    """Recorded terms acceptances (who, which dataset, which terms version, when), newest first."""
    query = (
        select(TermsAcceptance, Dataset.name, User.name)
        .join(Dataset, Dataset.id == TermsAcceptance.dataset_id)
        .join(User, User.id == TermsAcceptance.user_id)
    )
    if dataset:
        query = query.where(Dataset.name == dataset)
    if user:
        query = query.where(User.name == user)
    rows = session.execute(query.order_by(TermsAcceptance.accepted_at.desc())).all()
    return [
        {
            "dataset": dataset_name,
            "user": user_name,
            "terms_version": row.terms_version,
            "accepted_at": iso(row.accepted_at),
        }
        for row, dataset_name, user_name in rows
    ]


def set_access(
    session: Session,
    dataset: Dataset,
    *,
    visibility: str | None = None,
    terms_version: str | None = None,
    terms_text: str | None = None,
) -> Dataset:
    """Change visibility and terms; a gated dataset must end up with a terms version and text."""
    if visibility is not None and visibility not in VISIBILITIES:
        raise InvalidInput(f"visibility {visibility!r} is not one of {', '.join(VISIBILITIES)}")
    if terms_version is not None and not 1 <= len(terms_version) <= TERMS_VERSION_MAX:
        raise InvalidInput(f"the terms version (--terms-version, or terms_version over the API) "
                           f"must be 1-{TERMS_VERSION_MAX} characters")
    new_visibility = visibility or dataset.visibility
    new_version = terms_version if terms_version is not None else dataset.terms_version
    new_text = terms_text if terms_text is not None else dataset.terms_text
    if new_visibility == "gated" and not (new_version and new_text):
        raise InvalidInput(
            f"a gated dataset needs terms: give {dataset.name!r} --terms-file (and "
            "--terms-version), or terms_text and terms_version over the API"
        )
    dataset.visibility = new_visibility
    dataset.terms_version = new_version
    dataset.terms_text = new_text
    session.flush()
    return dataset


def add_grant(
    session: Session, dataset: Dataset, *, user_id: int | None = None, team_id: int | None = None
) -> DatasetGrant:
    """Let a user or a team read a private dataset (idempotent)."""
    if (user_id is None) == (team_id is None):
        raise InvalidInput("a grant names exactly one of 'user' or 'team'")
    query = select(DatasetGrant).where(DatasetGrant.dataset_id == dataset.id)
    query = query.where(
        DatasetGrant.user_id == user_id if user_id is not None else DatasetGrant.team_id == team_id
    )
    existing = session.scalar(query)
    if existing is not None:
        return existing
    grant = DatasetGrant(dataset_id=dataset.id, user_id=user_id, team_id=team_id)
    session.add(grant)
    session.flush()
    return grant


def list_grants(session: Session, dataset: Dataset) -> list[str]:
    """Who holds a grant on ``dataset``: ``user NAME`` and ``team NAME`` entries, sorted."""
    rows = session.execute(
        select(User.name, Team.name)
        .select_from(DatasetGrant)
        .outerjoin(User, User.id == DatasetGrant.user_id)
        .outerjoin(Team, Team.id == DatasetGrant.team_id)
        .where(DatasetGrant.dataset_id == dataset.id)
    ).all()
    return sorted(f"user {u}" if u is not None else f"team {t}" for u, t in rows)


def check_can_publish(session: Session, user: Principal, name: str) -> Dataset | None:
    """Raise unless ``user`` may add versions to dataset ``name``; returns its row, if any.

    Publishers own what they first commit; they cannot add versions to another publisher's
    dataset or to one an operator published (no owner). Admins can publish anywhere. A draft
    claims nothing: a name with no committed version is free (rows left by drafts of older
    releases included), so an aborted or expired draft holds no name.
    """
    check_name(name, "dataset name")
    if not user.can_publish:
        raise Forbidden(f"user {user.name!r} has role {user.role!r}; publishing needs "
                        "role 'publisher' or 'admin'")
    dataset = find_dataset(session, name)
    if dataset is None or not has_committed(session, dataset):
        return dataset
    if user.is_admin or dataset.owner_id == user.id:
        return dataset
    raise Forbidden(f"dataset {name!r} belongs to another publisher; only its owner or an "
                    "admin may publish versions of it")


def check_can_manage(session: Session, user: Principal, name: str) -> Dataset:
    """Raise unless ``user`` may change dataset ``name`` (its owner or an admin); its row.

    Someone who may not even see it gets NotFound; someone who may read it, Forbidden.
    """
    check_name(name, "dataset name")
    dataset = find_dataset(session, name)
    if dataset is None or not may_see(session, user, dataset):
        raise NotFound(f"dataset {name!r} does not exist")
    if user.is_admin or (dataset.owner_id is not None and dataset.owner_id == user.id):
        return dataset
    raise Forbidden(f"dataset {name!r} is not yours: only its owner or an admin may change it")


def ensure_dataset(session: Session, name: str) -> Dataset:
    """The catalog row of ``name``, created (with no owner) if it has none yet."""
    check_name(name, "dataset name")
    dataset = find_dataset(session, name)
    if dataset is None:
        dataset = Dataset(name=name)
        session.add(dataset)
        session.flush()
    return dataset
