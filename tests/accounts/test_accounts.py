"""Accounts on the catalog (SQLite, and PostgreSQL when configured): keys, roles, access."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from heldout.accounts import access, audit
from heldout.accounts.keys import (
    KEY_PATTERN,
    authenticate,
    create_key,
    generate_key,
    hash_secret,
    list_keys,
    mask_key,
    revoke_key,
)
from heldout.accounts.roles import Principal
from heldout.accounts.users import add_member, create_team, create_user
from heldout.catalog.datasets import record_version
from heldout.catalog.db import Catalog
from heldout.catalog.models import Dataset
from heldout.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthorized
from heldout.formats.manifest import Manifest, ShardInfo, SplitInfo


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    catalog = Catalog(database_url)
    catalog.upgrade()
    with catalog.session() as session:
        yield session
    catalog.dispose()


def principal(session: Session, name: str, role: str) -> Principal:
    user = create_user(session, name, role)
    return Principal(user.id, user.name, user.role, "x", "…")


def tiny_manifest(name: str, version: str = "1.0.0") -> Manifest:
    shard = ShardInfo(path="data/train-00000-of-00001.parquet", sha256="0" * 64, num_rows=1,
                      num_bytes=10)
    return Manifest(name=name, version=version, license="MIT", task="x", modality="image",
                    features={"id": {"_type": "Value", "dtype": "string"}},
                    splits={"train": SplitInfo.from_shards("train", [shard])})


def test_keys_are_random_well_formed_and_masked() -> None:
    keys = {generate_key()[0] for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert KEY_PATTERN.fullmatch(key)
    key = next(iter(keys))
    assert mask_key(key) == "…" + key[-4:]
    assert key[:-4] not in mask_key(key)
    assert mask_key(None) == "(none)" and mask_key("abc") == "…"


def test_key_authenticates_records_last_use_and_stops_when_revoked(session: Session) -> None:
    user = create_user(session, "carol", "participant")
    issued = create_key(session, user, "ci")
    assert issued.key not in (row.key_hash for row in list_keys(session, user))
    assert list_keys(session, user)[0].key_hash == hash_secret(issued.key)
    now = datetime.now(UTC)
    who = authenticate(session, issued.key, now=now)
    assert (who.name, who.role, who.key_prefix) == ("carol", "participant", issued.prefix)
    session.commit()
    row = list_keys(session, user)[0]
    assert row.last_used_at == now
    # Within a minute of the recorded use nothing is written (reads must not all become
    # database writes); a minute or more later the new time is recorded.
    for later in (timedelta(seconds=5), timedelta(seconds=59)):
        authenticate(session, issued.key, now=now + later)
        assert row.last_used_at == now and not session.dirty
    authenticate(session, issued.key, now=now + timedelta(seconds=60))
    assert row.last_used_at == now + timedelta(seconds=60) and session.dirty
    session.commit()
    authenticate(session, issued.key, now=now + timedelta(minutes=5))
    session.commit()
    assert list_keys(session, user)[0].last_used_at == now + timedelta(minutes=5)
    with pytest.raises(Unauthorized, match="not valid"):
        authenticate(session, issued.key[:-1] + ("a" if issued.key[-1] != "a" else "b"))
    with pytest.raises(Unauthorized, match="malformed"):
        authenticate(session, "not-a-key")
    revoke_key(session, issued.prefix)
    with pytest.raises(Unauthorized, match="revoked") as caught:
        authenticate(session, issued.key)
    assert issued.key not in str(caught.value)
    with pytest.raises(NotFound):
        revoke_key(session, "zzzzzzzzzz")


def test_disabled_user_and_bad_roles(session: Session) -> None:
    user = create_user(session, "eve", "lab")
    issued = create_key(session, user)
    user.disabled = True
    with pytest.raises(Unauthorized, match="disabled"):
        authenticate(session, issued.key)
    with pytest.raises(InvalidInput, match="role"):
        create_user(session, "mallory", "superuser")
    with pytest.raises(AlreadyExists):
        create_user(session, "eve", "lab")


def test_visibility_rules(session: Session) -> None:
    owner = principal(session, "pub", "publisher")
    admin = principal(session, "root", "admin")
    alice = principal(session, "alice", "participant")
    bob = principal(session, "bob", "participant")
    dataset = Dataset(name="pets", visibility="private", latest_version="1.0.0",
                      owner_id=owner.id)
    session.add(dataset)
    session.flush()
    for user in (None, alice, bob):
        with pytest.raises(NotFound):
            access.check_read(session, user, "pets")
    for user in (owner, admin):
        assert access.check_read(session, user, "pets") is dataset
    team = create_team(session, "red")
    from heldout.accounts.users import get_user

    add_member(session, team, get_user(session, "bob"))
    access.add_grant(session, dataset, team_id=team.id)
    assert access.check_read(session, bob, "pets") is dataset
    with pytest.raises(NotFound):
        access.check_read(session, alice, "pets")

    access.set_access(session, dataset, visibility="gated", terms_version="v1",
                      terms_text="Be nice.")
    with pytest.raises(Unauthorized):
        access.check_read(session, None, "pets")
    with pytest.raises(Forbidden, match="accept its terms"):
        access.check_read(session, alice, "pets")
    access.accept_terms(session, alice, dataset)
    access.accept_terms(session, alice, dataset)  # idempotent
    assert access.check_read(session, alice, "pets") is dataset
    assert len(access.list_acceptances(session, "pets")) == 1
    with pytest.raises(InvalidInput, match="visibility"):
        access.set_access(session, dataset, visibility="secret")
    # unknown to the catalog: public
    assert access.check_read(session, None, "elsewhere") is None


def test_publish_ownership(session: Session) -> None:
    pub = principal(session, "pub", "publisher")
    pub2 = principal(session, "pub2", "publisher")
    admin = principal(session, "root", "admin")
    alice = principal(session, "alice", "participant")
    # A draft claims nothing: anyone may start one on a free name.
    assert access.check_can_publish(session, pub, "pets") is None
    assert access.check_can_publish(session, pub2, "pets") is None
    assert access.find_dataset(session, "pets") is None
    # The first commit takes ownership.
    record_version(session, tiny_manifest("pets"), owner_id=pub.id)
    created = access.find_dataset(session, "pets")
    assert created is not None and created.owner_id == pub.id
    assert access.check_can_publish(session, pub, "pets") is created
    assert access.check_can_publish(session, admin, "pets") is created
    with pytest.raises(Forbidden, match="another publisher"):
        access.check_can_publish(session, pub2, "pets")
    with pytest.raises(Forbidden, match="role"):
        access.check_can_publish(session, alice, "other")
    # A later commit (by an admin) keeps the owner; an operator naming one replaces it.
    record_version(session, tiny_manifest("pets", "1.0.1"), owner_id=admin.id)
    assert created.owner_id == pub.id
    record_version(session, tiny_manifest("pets", "1.0.2"), owner_id=None, assign_owner=True)
    assert created.owner_id is None


def test_a_row_left_by_an_old_draft_claims_no_name(session: Session) -> None:
    squatter = principal(session, "squatter", "publisher")
    session.add(Dataset(name="pets", owner_id=squatter.id))  # what drafts used to create
    session.flush()
    pub = principal(session, "pub", "publisher")
    assert access.check_can_publish(session, pub, "pets") is not None
    record_version(session, tiny_manifest("pets"), owner_id=None)  # operator publish
    assert access.find_dataset(session, "pets").owner_id is None  # type: ignore[union-attr]
    with pytest.raises(Forbidden, match="another publisher"):
        access.check_can_publish(session, squatter, "pets")


def test_audit_log_lists_newest_first_with_filters(session: Session) -> None:
    alice = principal(session, "alice", "participant")
    audit.record(session, "dataset.files", "pets@1.0.0", user_id=alice.id, client_ip="10.0.0.1")
    audit.record(session, "dataset.download", "pets@1.0.0/data/train-00000-of-00001.parquet",
                 user_id=alice.id, client_ip="10.0.0.1", request_id="r1")
    audit.record(session, "dataset.files", "cats@2.0.0")
    items, total = audit.list_events(session, user="alice")
    assert total == 2 and items[0]["action"] == "dataset.download"
    assert items[0]["user"] == "alice" and items[0]["client_ip"] == "10.0.0.1"
    _, pets = audit.list_events(session, target_prefix="pets@")
    assert pets == 2
    page, total = audit.list_events(session, limit=1, offset=1)
    assert total == 3 and len(page) == 1
