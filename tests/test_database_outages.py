"""A database that does not answer is named by the driver's reason, not SQLAlchemy's code.

An operator woken by an outage reads "Connection refused" or "password authentication failed"
and knows where to look; ``e3q8`` (SQLAlchemy's code of every OperationalError) tells nothing.
Real PostgreSQL URLs: a port where nothing listens, the session's server with a wrong
password, and the session's server frozen (its processes stopped), which a connection attempt
gives up on within :data:`streams.sql_engines.CONNECT_SECONDS` instead of waiting for ever.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import make_url

from streams.audit.store import StoreError
from streams.audit.store_errors import engine_for
from streams.audit.tree_log import TreeLog
from streams.local.processes import free_port
from streams.sql_engines import CONNECT_SECONDS
from streams.vault.database import VaultError, check_exists, create_schema, vault_engine
from tests.postgres import PostgresServer

SECRET = "s3cret-pw"


def _nobody_listens() -> str:
    return f"postgresql+psycopg://kawal:{SECRET}@127.0.0.1:{free_port()}/kawal"


def _checked(message: str) -> None:
    assert "e3q8" not in message
    assert SECRET not in message


def test_the_vault_down_says_the_connection_was_refused() -> None:
    with pytest.raises(VaultError) as refused:
        create_schema(vault_engine(_nobody_listens()))

    assert "Connection refused" in str(refused.value)
    _checked(str(refused.value))


def test_a_wrong_vault_password_says_so(postgres: PostgresServer) -> None:
    good = make_url(postgres.create_database("vault_password"))
    url = good.set(username="nobody", password=SECRET).render_as_string(hide_password=False)

    with pytest.raises(VaultError) as refused:
        create_schema(vault_engine(url))

    # Trust authentication takes any password: the server names the missing role instead.
    assert 'role "nobody" does not exist' in str(refused.value)
    _checked(str(refused.value))


def test_the_tree_log_says_why_the_store_cannot_be_read() -> None:
    with pytest.raises(StoreError) as refused:
        TreeLog(engine_for(_nobody_listens())).size()

    assert "Connection refused" in str(refused.value)
    _checked(str(refused.value))


def _open_vault(url: str) -> None:
    check_exists(url, vault_engine(url))


def _read_tree_log(url: str) -> None:
    TreeLog(engine_for(url)).size()


@pytest.mark.parametrize("connect", [_open_vault, _read_tree_log], ids=["vault", "audit store"])
def test_a_frozen_server_is_given_up_on_within_the_connect_deadline(
    postgres: PostgresServer, connect: Callable[[str], None]
) -> None:
    url = postgres.create_database(f"frozen_{connect.__name__.strip('_')}")
    with ThreadPoolExecutor(1) as pool, postgres.frozen():
        started = time.monotonic()
        attempt = pool.submit(connect, url)
        # Far beyond the deadline: without one the attempt waits until the server thaws.
        failed = attempt.exception(timeout=4 * CONNECT_SECONDS)
        waited = time.monotonic() - started

    assert isinstance(failed, StoreError | VaultError)
    assert "connection timeout expired" in str(failed)
    assert waited < 2 * CONNECT_SECONDS
