"""Which stored tree head keepers could keep, so the next head proves from it.

The sink reads the key registry when it starts. Between ``kawal keys revoke`` of the hub's key
and its restart it signs heads with the revoked key, and every keeper refuses them
(``hub_key_revoked``). Each head proves consistency only from the head published before it, so
a head proving from a refused one is refused too (``head_not_after_last_kept``), and so is
every later head, for ever. The last head a keeper could keep is the newest whose chain of
heads (each ``previous_size`` back) holds no head signed with a key revoked by then; the next
head proves from it.

Only heads issued since the earliest revocation of a hub key can be on such a chain, so the
walk reads those heads at most (heads come once per ``KAWAL_TREE_HEAD_SECONDS`` while entries
arrive) and none at all while no hub key was ever revoked.
"""

from __future__ import annotations

from datetime import datetime

from streams.audit.tree_log import TreeLog
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyRegistry
from streams.domain.tree_heads import SignedTreeHead


def last_keepable(tree: TreeLog, keys: KeyRegistry) -> SignedTreeHead | None:
    """The newest stored head whose chain holds no head signed with a key revoked by then.

    Raises:
        StoreError: the store cannot be read.
    """
    revoked = {
        entry.id: entry.revoked_at
        for entry in keys.entries()
        if entry.institution == HUB_INSTITUTION and entry.revoked_at is not None
    }
    head = tree.latest_head()
    if not revoked:
        return head
    since = min(revoked.values())
    while head is not None:
        refused = _first_refused(tree, head, revoked, since)
        if refused is None:
            return head
        head = tree.head_before(refused.tree_size)
    return None


def _first_refused(
    tree: TreeLog, head: SignedTreeHead, revoked: dict[str, datetime], since: datetime
) -> SignedTreeHead | None:
    """The first head on ``head``'s chain signed with a key revoked before it was issued."""
    current: SignedTreeHead | None = head
    while current is not None and current.issued_at >= since:
        revoked_at = revoked.get(current.key_id)
        if revoked_at is not None and current.issued_at >= revoked_at:
            return current
        if current.previous_size == 0:
            return None
        current = tree.head_of_size(current.previous_size)
    return None
