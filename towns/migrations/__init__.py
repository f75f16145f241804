"""The schema's history: Alembic migrations, shipped inside the package and driven from Python.

``towns.models.db.prepare_database`` (run by ``towns server`` and ``python worker.py`` at start)
and ``towns db upgrade`` bring a database to the newest revision; no ``alembic.ini`` is needed.
A database made by ``create_all`` of a build before migrations (no ``alembic_version`` table) is
recognised by its tables and stamped with the revision it matches before it is upgraded.

Revisions (``versions/``) never import towns' models: each one spells out the tables as they
were at that revision, so it still means the same thing after the models move on.

Adding a column or a table to a model: add a revision too (``tests/models/test_migrations.py``
fails until the migrations and the models agree). Alembic drafts it from a database at head::

    python -c "from alembic import command; from towns.models.db import alembic_config, make_engine, \\
        upgrade_database; url = 'sqlite:////tmp/draft.db'; upgrade_database(make_engine(url)); \\
        command.revision(alembic_config(url=url), autogenerate=True, rev_id='0003', message='what it adds')"

Read the draft before keeping it: a revision never imports towns or sqlmodel (the draft already
spells sqlmodel's types as ``sa.String``/``sa.DateTime(timezone=True)``), name new constraints,
keep SQLite's table changes in ``op.batch_alter_table``, and give the file a name like
``0003_what_it_adds.py``.
"""
