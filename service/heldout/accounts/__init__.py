"""Accounts: users and teams, API keys, roles, dataset access (visibility, terms) and audit."""

from heldout.accounts.keys import IssuedKey, authenticate, create_key, mask_key, revoke_key
from heldout.accounts.roles import ROLES, Principal, check_role
from heldout.accounts.users import create_team, create_user, get_team, get_user, list_users

__all__ = [
    "ROLES",
    "IssuedKey",
    "Principal",
    "authenticate",
    "check_role",
    "create_key",
    "create_team",
    "create_user",
    "get_team",
    "get_user",
    "list_users",
    "mask_key",
    "revoke_key",
]
