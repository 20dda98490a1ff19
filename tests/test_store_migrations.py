from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from upwatch.store.database import create_engine, database_url
from upwatch.store.migrate import head_revision, is_migrated, migrate
from upwatch.store.tables import Base


async def test_migrations_create_every_table_on_each_backend(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= names
    assert await is_migrated(engine)
    assert head_revision() is not None


async def test_migrating_twice_and_concurrently_is_harmless(db_url: str) -> None:
    import asyncio

    engines = [create_engine(database_url({"DATABASE_URL": db_url})) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(e) for e in engines))
        await migrate(engines[0])
        assert all([await is_migrated(e) for e in engines])
    finally:
        for e in engines:
            await e.dispose()


async def test_the_models_match_the_migrations(engine: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection)  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []
