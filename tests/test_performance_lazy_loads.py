"""CS-T011 for SQLAlchemy: a lazily loaded relationship read on each row of a loop over a
query's results, with the mapped classes in the project's own models module (parsed, never
imported), and the loader options and `lazy=` settings that keep it quiet."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from clearsight.checks.performance import PerformanceCheck
from clearsight.engine import analyze
from clearsight.model import Family
from clearsight.settings import Settings
from clearsight.source import SourceText

MODELS = textwrap.dedent(
    """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        addresses: Mapped[list["Address"]] = relationship(back_populates="user")
        orders = relationship("Order", lazy="selectin")
        notes = relationship("Note", lazy="select")
        groups = relationship("Group", lazy="dynamic")


    class Address(Base):
        __tablename__ = "addresses"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        user: Mapped["User"] = relationship(back_populates="addresses")
    """
)

VIEWS = textwrap.dedent(
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session, joinedload, selectinload

    from .models import Address, User


    def listing(session: Session, options):
        for user in session.scalars(select(User).where(User.id > 3)):
            print(user.addresses, user.orders, user.groups, user.id)
        for user in session.query(User).filter_by(active=True).all():
            print(user.notes)
        users = session.execute(select(User)).scalars().all()
        emails = [a.email for u in users for a in u.addresses]
        for address in session.scalars(select(Address)):
            print(address.user)
        for user in session.scalars(select(User).options(selectinload(User.addresses))):
            print(user.addresses)
        for user in session.query(User).options(joinedload(User.notes)):
            print(user.notes)
        for address in session.scalars(select(Address).options(joinedload(Address.user))):
            print(address.user)
        for user in session.query(User).options(*options):
            print(user.addresses)
        for row in session.execute(select(User)):
            print(row.addresses)
        for user in session.scalars(select(User.id)):
            print(user.addresses)
        for n in range(3):
            user = session.get(User, n)
            print(user.addresses)
        return emails
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "models.py").write_text(MODELS, encoding="utf-8")
    (package / "views.py").write_text(VIEWS, encoding="utf-8")
    return package


def reads(text: str, path: Path) -> list[tuple[int, str]]:
    source = SourceText(text, path=str(path))
    findings = analyze(source, str(path), Settings(), checks=(PerformanceCheck(),))
    return [
        (f.line + 1, f.message.split("`")[1])
        for f in findings
        if f.family is Family.PERFORMANCE and f.code == "CS-T011"
    ]


def test_lazy_relationships_read_in_loops_over_query_results(project: Path) -> None:
    assert reads(VIEWS, project / "views.py") == [
        (10, "user.addresses"),
        (12, "user.notes"),
        (14, "u.addresses"),
        (16, "address.user"),
    ]


def test_the_message_names_the_loader_option(project: Path) -> None:
    path = project / "views.py"
    source = SourceText(VIEWS, path=str(path))
    (first, *_) = analyze(source, str(path), Settings(), checks=(PerformanceCheck(),))
    assert first.code == "CS-T011"
    assert "`.options(selectinload(User.addresses))`" in first.message
    assert "N+1" in first.message


def test_flask_sqlalchemy_models_and_db_session(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()


        class Post(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            comments = db.relationship("Comment", backref="post")


        class Plain:
            comments = []
            query = None


        def feed():
            for post in Post.query.order_by(Post.id).all():
                print(post.comments)
            for post in db.session.query(Post):
                print(post.comments)
            for post in Plain.query:
                print(post.comments)
            for post in Post.query.options(db.selectinload(Post.comments)):
                print(post.comments)
        """
    )
    path = tmp_path / "app.py"
    path.write_text(code, encoding="utf-8")
    assert reads(code, path) == [(19, "post.comments"), (21, "post.comments")]


def test_a_relationship_function_that_is_not_sqlalchemy_s_is_not_followed(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from sqlalchemy import select
        from sqlalchemy.orm import Session
        from graphs import relationship


        class Node:
            edges = relationship("Edge")


        def walk(session: Session):
            for node in session.scalars(select(Node)):
                print(node.edges)
        """
    )
    path = tmp_path / "graph.py"
    path.write_text(code, encoding="utf-8")
    assert reads(code, path) == []
