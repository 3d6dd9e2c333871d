"""Framework classes whose instances must keep a __dict__ — pydantic models, SQLAlchemy
rows loaded through a session, Django model instances — beside a plain class with the same
fields; then a snapshot, and the program checks its own objects still work.

usage: workload_frameworks.py AGENT_DIR SNAPSHOT   (pydantic, SQLAlchemy and Django on the path)
"""
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
)
django.setup()

import pydantic  # noqa: E402
import sqlalchemy  # noqa: E402
from django.db import connection, models  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

N = 2000


class Point(pydantic.BaseModel):
    x: int
    y: int
    label: str


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str]


class Article(models.Model):
    title = models.CharField(max_length=100)
    views = models.IntegerField(default=0)

    class Meta:
        app_label = "shop"


class Plain:
    def __init__(self, x, y, label):
        self.x = x
        self.y = y
        self.label = label


points = [Point(x=i, y=-i, label="p%d" % i) for i in range(N)]
plain = [Plain(i, -i, "q%d" % i) for i in range(N)]

engine = sqlalchemy.create_engine("sqlite://")
Base.metadata.create_all(engine)
session = Session(engine)
session.add_all([User(name="u%d" % i, email="u%d@example.com" % i) for i in range(N)])
session.commit()
users = session.scalars(sqlalchemy.select(User)).all()

with connection.schema_editor() as editor:
    editor.create_model(Article)
Article.objects.bulk_create([Article(title="t%d" % i, views=i) for i in range(N)])
articles = list(Article.objects.all())

pymem_agent.dump(sys.argv[2])

# The program goes on working: new rows, queries, validation.
session.add(User(name="after", email="after@example.com"))
session.commit()
assert session.scalars(sqlalchemy.select(User).where(User.name == "after")).one().email == "after@example.com"
assert Article.objects.filter(views__gte=N - 10).count() == 10
assert Point(x=1, y=2, label="z").model_dump() == {"x": 1, "y": 2, "label": "z"}
assert len(users) == N and len(articles) == N and len(points) == N
print("ok")
