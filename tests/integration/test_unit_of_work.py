"""The unit of work on PostgreSQL: in a transaction, nothing without its commit; on the
runtime's read sessions (autocommit), the audit event of a read stands once its INSERT returns,
with or without a commit, and an error after it takes nothing back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.bus.outbox import Outbox
from shared.db.engine import session_factory
from shared.db.unit_of_work import UnitOfWork
from tests.support import effects


def _events(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(effects.outbox)).scalar_one()


def test_in_a_transaction_an_event_stands_only_with_its_commit(pg_url):
    engine = effects.make_schema(pg_url)
    box = Outbox(effects.outbox, "test")
    with UnitOfWork(session_factory(engine), box) as uow:
        uow.publish("test.happened", {"n": 1})
    assert _events(engine) == 0
    with UnitOfWork(session_factory(engine), box) as uow:
        uow.publish("test.happened", {"n": 2})
        uow.commit()
    assert _events(engine) == 1


@pytest.fixture
def on_reads(pg_url):
    """The schema's engine, an outbox, and sessions on the runtime's read terms (autocommit)."""
    engine = effects.make_schema(pg_url)
    return engine, Outbox(effects.outbox, "test"), session_factory(
        engine.execution_options(isolation_level="AUTOCOMMIT"))


def test_on_autocommit_sessions_the_event_stands_once_written(on_reads):
    engine, box, reads = on_reads
    with UnitOfWork(reads, box, autocommit=True) as uow:
        uow.publish("test.happened", {"n": 1})
        assert _events(engine) == 1  # seen from another connection before the block ends
        uow.commit()
    with pytest.raises(RuntimeError), UnitOfWork(reads, box, autocommit=True) as uow:
        uow.publish("test.happened", {"n": 2})
        raise RuntimeError("the answer failed after its event")
    assert _events(engine) == 2
    with reads() as session:  # the connections went back to the pool with no transaction open
        assert session.connection().connection.driver_connection.info.transaction_status.name == "IDLE"


def test_on_autocommit_sessions_a_read_takes_one_connection_and_gives_it_back(on_reads):
    engine, box, reads = on_reads
    with UnitOfWork(reads, box, autocommit=True) as uow:
        uow.publish("test.happened", {"n": 1})
        assert uow.connection() is uow.connection()
        assert engine.pool.checkedout() == 1
        assert not uow.session.in_transaction()  # the session was not asked for a connection
        assert uow.session.connection() is uow.connection()  # and when it is, it has that one
        assert engine.pool.checkedout() == 1
    assert engine.pool.checkedout() == 0
    with pytest.raises(RuntimeError), UnitOfWork(reads, box, autocommit=True) as uow:
        uow.publish("test.happened", {"n": 2})
        raise RuntimeError("the answer failed after its event")
    assert engine.pool.checkedout() == 0 and _events(engine) == 2
    with UnitOfWork(session_factory(engine), box) as uow:  # in a transaction: the session's own
        assert uow.connection() is uow.session.connection()
