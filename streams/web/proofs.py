"""``GET /cases/{case_id}/proof``: an entry's inclusion proof in a head the hub signed.

What ``kawal audit proof`` prints, for an institution's own systems: the JSON of
:meth:`streams.audit.heads.CaseProof.to_json`. ``?seq=`` asks for another entry of the case
than its newest (the head a receipt named), ``?tree_size=`` for a head the reader kept rather
than the latest. A proof holds hashes only (of committed bytes, never a value), as the public
view of a trail does, so every reader the trail answers gets it, and no other: an operator,
an institution party to the case, and the public only where every case is public
(``KAWAL_PUBLIC_CASES``). A case id is derived from a case number any reader can guess, and a
proof tells that the case exists and how many entries it has come to, which the trail's 401
withholds: an institution not party to it is refused alike whether the case exists or not
(:mod:`streams.web.case_audience`). A credential sent must be a good one.
"""

from __future__ import annotations

import asyncio

import faust
from faust import web

from schemas.identity import canonical_case_id
from streams.audit.case_proofs import ProofReader, UnknownEntryError, UnknownHeadError
from streams.audit.heads import NotInHeadError
from streams.audit.store import StoreError
from streams.audit.tree_log import TreeError
from streams.domain.principals import AccessRefusal
from streams.web.auth import Authenticator
from streams.web.case_audience import refusal_without_credential
from streams.web.problems import problem_response
from streams.web.query import whole_numbers
from streams.web.views import TrailReader, store_unavailable

#: The query parameters a proof takes, each a count, and the least value of each.
COUNTS = {"seq": 1, "tree_size": 1}


def register_proofs(
    app: faust.App,
    reader: ProofReader,
    auth: Authenticator,
    trails: TrailReader,
    *,
    public_cases: bool = False,
) -> None:
    """Attach ``GET /cases/{case_id}/proof`` to the worker's app.

    ``trails`` decides, as for the trail, whether an institution is party to the case.
    """

    @app.page("/cases/{case_id}/proof")
    class Proof(web.View):
        """The inclusion proof of a case's entry in a signed tree head."""

        async def get(self, request: web.Request, case_id: str) -> web.Response:
            principal = await auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return auth.refuse(self, request, principal)
            refusal = refusal_without_credential(principal, public_cases)
            if refusal is not None:
                return auth.refuse(self, request, refusal)
            counts = whole_numbers(request, COUNTS, "a proof")
            if isinstance(counts, str):
                return problem_response(self, 400, "bad_query", counts)
            case_id = canonical_case_id(case_id) or case_id  # the hub spells UUIDs one way
            try:
                refusal = await asyncio.to_thread(trails.refusal, case_id, principal, public_cases)
            except StoreError:
                return store_unavailable(self)
            if refusal is not None:  # before the proof: whether it is in a head tells nothing
                return auth.refuse(self, request, refusal)
            try:
                proof = await asyncio.to_thread(
                    reader.proof, case_id, counts["seq"], counts["tree_size"]
                )
            except (UnknownEntryError, UnknownHeadError) as exc:
                return problem_response(self, 404, "no_such_entry_or_head", str(exc))
            except NotInHeadError as exc:
                return problem_response(self, 409, "not_in_head", str(exc))
            except TreeError as exc:
                # The log is damaged, not down: what is wrong names leaves, cases and seqs.
                detail = f"the audit store's log cannot prove it: {exc}"
                return problem_response(self, 503, "store_unavailable", detail)
            except StoreError:
                return store_unavailable(self)
            if proof is None:
                return problem_response(
                    self, 404, "no_such_case", f"no case {case_id} in the audit store"
                )
            return self.json(proof.to_json())
