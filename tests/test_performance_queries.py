"""CS-T010: a database query on every pass of a loop, for Django models of the project
(parsed from its own files, never imported), SQLAlchemy sessions and DB-API cursors."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from clearsight.checks.performance import PerformanceCheck
from clearsight.engine import analyze
from clearsight.incremental import IncrementalAnalyzer
from clearsight.model import Family
from clearsight.settings import Settings
from clearsight.source import SourceText

MODELS = textwrap.dedent(
    """
    from django.db import models


    class Stamped(models.Model):
        created = models.DateTimeField(auto_now_add=True)

        class Meta:
            abstract = True


    class Author(Stamped):
        name = models.CharField(max_length=100)


    class Book(models.Model):
        title = models.CharField(max_length=200)
        author = models.ForeignKey(Author, on_delete=models.CASCADE)


    class NotAModel:
        objects = None
    """
)

VIEWS = textwrap.dedent(
    """
    from django.shortcuts import render

    from .models import Author, Book, NotAModel
    from shop.models import Book as SameBook


    def authors_with_counts(request, ids):
        rows = []
        for author in Author.objects.all():
            count = Book.objects.filter(author=author).count()
            first = SameBook.objects.get(pk=author.pk)
            rows.append((author, count, first))
        for pk in ids:
            for book in Book.objects.filter(author_id=pk):
                rows.append(book)
            NotAModel.objects.get(pk=pk)
            Book.objects.published()
            query = Book.objects.filter(pk=pk)
        for _ in range(3):
            Book.objects.count()
        total = Book.objects.count()
        return render(request, "authors.html", {"rows": rows, "total": total, "q": query})
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n", encoding="utf-8")
    app = tmp_path / "shop"
    app.mkdir()
    (app / "__init__.py").write_text("", encoding="utf-8")
    (app / "models.py").write_text(MODELS, encoding="utf-8")
    (app / "views.py").write_text(VIEWS, encoding="utf-8")
    return app


def queries(text: str, path: str) -> list[tuple[str, int]]:
    source = SourceText(text, path=path)
    findings = analyze(source, path, Settings(), checks=(PerformanceCheck(),))
    return [(f.code, f.line + 1) for f in findings if f.family is Family.PERFORMANCE]


def test_queries_on_models_of_another_file_are_found_in_loops(project: Path) -> None:
    path = str(project / "views.py")
    assert queries(VIEWS, path) == [
        ("CS-T010", 11),  # Book.objects.filter(...).count()
        ("CS-T010", 12),  # SameBook.objects.get(...), imported by its absolute name
        ("CS-T010", 15),  # a queryset iterated in the outer loop
    ]


def test_the_message_names_the_model_and_the_fix(project: Path) -> None:
    path = str(project / "views.py")
    source = SourceText(VIEWS, path=path)
    (first, *_) = analyze(source, path, Settings(), checks=(PerformanceCheck(),))
    assert "`Book.objects.filter(...).count()` runs a database query" in first.message
    assert "Book.objects.filter(pk__in=...)" in first.message
    assert "select_related()" in first.message


def test_models_in_the_same_file_and_through_an_abstract_base(tmp_path: Path) -> None:
    code = MODELS + textwrap.dedent(
        """

        def names(ids):
            return [Author.objects.get(pk=i).name for i in ids]


        def loop(ids):
            for i in ids:
                Author.objects.get(pk=i)
        """
    )
    path = str(tmp_path / "models.py")
    (tmp_path / "models.py").write_text(code, encoding="utf-8")
    # A comprehension is a loop too.
    last = len(code.splitlines())
    assert queries(code, path) == [("CS-T010", last - 5), ("CS-T010", last)]


def test_without_the_model_s_module_nothing_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "views.py"
    path.write_text(VIEWS, encoding="utf-8")
    assert queries(VIEWS, str(path)) == []


def test_a_broken_models_module_is_skipped_with_the_reason_logged(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (project / "models.py").write_text("class Book(models.Model:\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="clearsight.performance"):
        assert queries(VIEWS, str(project / "views.py")) == []
    logged = [r.getMessage() for r in caplog.records]
    assert any("models in" in m and "not read" in m for m in logged)


def test_the_editor_notices_a_models_module_changed_on_disk(project: Path) -> None:
    path = str(project / "views.py")
    analyzer = IncrementalAnalyzer(path)
    _, found = analyzer.analyze(VIEWS, Settings())
    assert [f.line + 1 for f in found if f.code == "CS-T010"] == [11, 12, 15]
    models = project / "models.py"
    models.write_text(MODELS.replace("class Book(models.Model):", "class Book:"), encoding="utf-8")
    _, found = analyzer.analyze(VIEWS, Settings())
    assert [f.line + 1 for f in found if f.code == "CS-T010"] == []
    whole = analyze(SourceText(VIEWS, path=path), path, Settings())
    assert [f for f in whole if f.code == "CS-T010"] == []


def test_sqlalchemy_sessions_in_loops(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from sqlalchemy import select
        from sqlalchemy.orm import Session, sessionmaker

        SessionLocal = sessionmaker()


        def load(ids, engine, other):
            session = SessionLocal()
            for i in ids:
                session.get(User, i)
                session.query(User).filter(User.id == i).first()
            with Session(engine) as s:
                for i in ids:
                    s.scalars(select(User).where(User.id == i))
            for i in ids:
                other.query(User)
            return session.query(User).all()


        def typed(db: Session, ids):
            return [db.execute(select(User)) for i in ids] + [
                x for i in ids for x in [db.get(User, i)]]


        def api(db: Session, ids):
            while ids:
                db.execute(select(User).where(User.id == ids.pop()))
        """
    )
    assert queries(code, str(tmp_path / "app.py")) == [
        ("CS-T010", 11), ("CS-T010", 12), ("CS-T010", 15), ("CS-T010", 22), ("CS-T010", 23),
        ("CS-T010", 28),
    ]  # fmt: skip


def test_dbapi_execute_with_the_same_sql_in_a_loop(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sqlite3


        def save(rows, statements):
            connection = sqlite3.connect("app.db")
            cursor = connection.cursor()
            for row in rows:
                cursor.execute("INSERT INTO items VALUES (?, ?)", row)
                connection.execute("SELECT * FROM items WHERE id = ?", (row[0],))
            for statement in statements:
                cursor.execute(statement)
            cursor.executemany("INSERT INTO items VALUES (?, ?)", rows)
            cursor.execute("SELECT 1")
        """
    )
    found = queries(code, str(tmp_path / "app.py"))
    assert found == [("CS-T010", 9), ("CS-T010", 10)]
    source = SourceText(code.lstrip("\n"), path="app.py")
    findings = analyze(source, "app.py", Settings(), checks=(PerformanceCheck(),))
    messages = [f.message for f in findings]
    assert "executemany()" in messages[0]
    assert "WHERE key IN (...)" in messages[1]


# -- CS-T011: relations read per object of a queryset loop --------------------------------

SHELF = textwrap.dedent(
    """
    from .models import Book


    def shelf(ids):
        lines = []
        for book in Book.objects.filter(pk__in=ids):
            lines.append(book.author.name)
            lines.append(book.author_id)
        books = Book.objects.all()
        for book in books:
            lines.append(book.author)
        for book in Book.objects.select_related("author"):
            lines.append(book.author.name)
        for book in Book.objects.select_related():
            lines.append(book.author.name)
        for book in Book.objects.prefetch_related(Prefetch("author")):
            lines.append(book.author.name)
        for row in Book.objects.values("author__name"):
            lines.append(row.author)
        titles = [b.author.name for b in Book.objects.all()]
        return lines, titles
    """
)


def test_a_relation_read_in_a_loop_over_a_queryset_is_reported(project: Path) -> None:
    path = str(project / "shelf.py")
    (project / "shelf.py").write_text(SHELF, encoding="utf-8")
    assert queries(SHELF, path) == [("CS-T011", 8), ("CS-T011", 12), ("CS-T011", 21)]
    source = SourceText(SHELF, path=path)
    (first, *_) = analyze(source, path, Settings(), checks=(PerformanceCheck(),))
    assert "`book.author` loads the related object" in first.message
    assert '`.select_related("author")`' in first.message


def test_many_to_many_and_inherited_relations(tmp_path: Path) -> None:
    code = MODELS.replace(
        "class NotAModel:",
        "class Tag(models.Model):\n    name = models.CharField()\n\n\n"
        "class Tagged(Stamped):\n    tags = models.ManyToManyField(Tag)\n\n\n"
        "class Novel(Tagged):\n    pass\n\n\nclass NotAModel:",
    ) + textwrap.dedent(
        """

        def tags(ids):
            for novel in Novel.objects.all():
                print(novel.tags.all())
            for novel in Novel.objects.prefetch_related("tags"):
                print(novel.tags.all())
        """
    )
    (tmp_path / "models.py").write_text(code, encoding="utf-8")
    found = queries(code, str(tmp_path / "models.py"))
    assert found == [("CS-T011", len(code.splitlines()) - 2)]


REVERSE = textwrap.dedent(
    """
    from django.db import models


    class Author(models.Model):
        name = models.CharField(max_length=100)


    class Book(models.Model):
        author = models.ForeignKey(Author, on_delete=models.CASCADE)
        editor = models.ForeignKey("shop.Author", related_name="edited", on_delete=models.CASCADE)
        proofreader = models.ForeignKey("Author", related_name="+", on_delete=models.CASCADE)


    class Profile(models.Model):
        author = models.OneToOneField("Author", on_delete=models.CASCADE)


    class Elsewhere(models.Model):
        author = models.ForeignKey("other.Author", related_name="elsewhere", on_delete=None)


    class Base(models.Model):
        author = models.ForeignKey(Author, related_name="based", on_delete=models.CASCADE)

        class Meta:
            abstract = True
    """
)

REVERSE_READS = textwrap.dedent(
    """
    from .models import Author


    def report():
        for author in Author.objects.all():
            print(author.book_set.all())
            print(author.edited.count())
            print(author.profile.bio)
            print(author.elsewhere, author.based, author.name)
        for author in Author.objects.prefetch_related("book_set", "edited"):
            print(author.book_set.all(), author.edited.all())
        for author in Author.objects.select_related("profile"):
            print(author.profile.bio)
    """
)


def test_reverse_relations_of_the_model_s_own_module_are_reported(project: Path) -> None:
    (project / "models.py").write_text(REVERSE, encoding="utf-8")
    path = project / "report.py"
    path.write_text(REVERSE_READS, encoding="utf-8")
    source = SourceText(REVERSE_READS, path=str(path))
    findings = analyze(source, str(path), Settings(), checks=(PerformanceCheck(),))
    found = [(f.code, f.line + 1, f.message.split("`")[1]) for f in findings]
    assert found == [
        ("CS-T011", 7, "author.book_set"),
        ("CS-T011", 8, "author.edited"),
        ("CS-T011", 9, "author.profile"),
    ]
    assert '`.prefetch_related("book_set")`' in findings[0].message
    assert '`.select_related("profile")`' in findings[2].message


def test_reverse_relations_of_models_in_the_same_file(tmp_path: Path) -> None:
    code = REVERSE + textwrap.dedent(
        """

        def titles():
            return [b.id for a in Author.objects.all() for b in a.book_set.all()]
        """
    )
    path = tmp_path / "models.py"
    path.write_text(code, encoding="utf-8")
    assert queries(code, str(path)) == [("CS-T011", len(code.splitlines()))]


def test_queries_built_not_run_and_loops_over_constants_are_quiet(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from sqlalchemy.orm import Session

        TABLES = ("users", "orders")
        _MODELS = [User, Order]


        def filters(session: Session, keys, engine):
            parts = []
            for key in keys:
                parts.append(session.query(Tag.id).filter(Tag.key == key).subquery())
                parts.append(session.query(Tag).filter(Tag.key == key).exists())
                for tag in session.query(Tag).filter(Tag.key == key):
                    parts.append(tag)
                parts.append(session.query(Tag).filter(Tag.key == key).count())
            for table in TABLES:
                session.execute(f"DELETE FROM {table}")
            models = [m for m in _MODELS]
            counts = [session.query(model).count() for model in models]
            return parts, counts
        """
    )
    assert queries(code, str(tmp_path / "filters.py")) == [("CS-T010", 13), ("CS-T010", 15)]


def test_a_loop_over_tables_is_a_script_not_n_plus_one(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from sqlalchemy import Connection, insert, text


        def steps(conn: Connection, tables, rows):
            for table in tables:
                conn.execute(table.delete())
                conn.execute(text(f"DELETE FROM {table}"))
            stmt = insert(Log)
            for row in rows:
                conn.execute(stmt, row)
                conn.execute(insert(Log).values(row))
                conn.execute(_filtered(stmt))
                conn.execute(text("DELETE FROM log WHERE id = :id"), row)
        """
    )
    found = queries(code, str(tmp_path / "steps.py"))
    assert found == [("CS-T010", 11), ("CS-T010", 12), ("CS-T010", 14)]
