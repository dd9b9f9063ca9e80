"""Per-publisher caps: open drafts (``HELDOUT_MAX_OPEN_DRAFTS_PER_USER``) and datasets owned
(``HELDOUT_MAX_DATASETS_PER_USER``). 0 turns a cap off; admins have none.

A draft is open while its lock object is in the private store with its draft id (commit,
abort and the expiry sweep all delete it). Which drafts a user started is read from the audit
log (``draft.created`` events of the last ``draft_ttl_seconds``; an older draft is either
gone or about to be swept), and each is checked against the store, so a failed publish never
holds a slot. Datasets owned are catalog rows with a committed version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from heldout.accounts.roles import Principal
from heldout.catalog.models import AuditEvent, Dataset
from heldout.config import Settings
from heldout.errors import Forbidden, HeldoutError, NotFound, RateLimited
from heldout.layout import draft_key
from heldout.storage.base import ObjectStore

DRAFT_CREATED = "draft.created"
MAX_EVENTS_SCANNED = 500


def _draft_is_open(private: ObjectStore, target: str, draft_id: str) -> bool:
    name, _, version = target.partition("@")
    try:
        state = json.loads(private.get_bytes(draft_key(name, version)))
    except (NotFound, ValueError, HeldoutError):
        return False
    return isinstance(state, dict) and state.get("draft_id") == draft_id


def open_drafts(session: Session, private: ObjectStore, user: Principal,
                ttl_seconds: int, now: datetime | None = None) -> list[str]:
    """``name@version`` of every draft ``user`` started that is still open."""
    since = (now or datetime.now(UTC)) - timedelta(seconds=ttl_seconds)
    rows = session.execute(
        select(AuditEvent.target, AuditEvent.detail)
        .where(AuditEvent.action == DRAFT_CREATED, AuditEvent.user_id == user.id,
               AuditEvent.at >= since)
        .order_by(AuditEvent.at.desc()).limit(MAX_EVENTS_SCANNED)
    ).all()
    found: list[str] = []
    for target, detail in rows:
        draft_id = (detail or {}).get("draft_id")
        if target not in found and isinstance(draft_id, str) \
                and _draft_is_open(private, target, draft_id):
            found.append(target)
    return found


def owned_datasets(session: Session, user: Principal) -> list[str]:
    """Names of the committed datasets ``user`` owns."""
    return list(session.scalars(
        select(Dataset.name).where(Dataset.owner_id == user.id,
                                   Dataset.latest_version.is_not(None))).all())


def check_publisher_quotas(session: Session, private: ObjectStore, settings: Settings,
                           user: Principal, name: str) -> None:
    """Raise before ``user`` starts a draft of ``name`` beyond a cap: 403 for a new dataset
    past the dataset cap, 429 past the open-draft cap."""
    if user.is_admin:
        return
    cap = settings.max_datasets_per_user
    if cap:
        owned = owned_datasets(session, user)
        if name not in owned and len(owned) >= cap:
            raise Forbidden(
                f"user {user.name!r} already owns {len(owned)} datasets, the most a publisher "
                f"may own (HELDOUT_MAX_DATASETS_PER_USER={cap}); add versions to one of them, "
                "or ask an admin to publish this one")
    cap = settings.max_open_drafts_per_user
    if cap:
        drafts = open_drafts(session, private, user, settings.draft_ttl_seconds)
        if len(drafts) >= cap:
            shown = ", ".join(sorted(drafts)[:5]) + (", …" if len(drafts) > 5 else "")
            raise RateLimited(
                f"user {user.name!r} has {len(drafts)} open drafts ({shown}), the most a "
                f"publisher may have (HELDOUT_MAX_OPEN_DRAFTS_PER_USER={cap}); commit or "
                "abort one first, or wait until it expires")

