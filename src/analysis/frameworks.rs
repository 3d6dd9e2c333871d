//! Classes a programmer cannot give `__slots__`: framework classes whose instances must keep
//! a `__dict__` — pydantic models, SQLAlchemy-mapped classes, Django models — told by a
//! class in their MRO or an attribute their instances carry, with what each framework offers
//! instead; and the classes of the standard library and of those frameworks themselves. One
//! table each: what is added here is known to every analysis that asks.

use crate::snapshot::{ObjId, Snapshot};

pub struct Framework {
    pub name: &'static str,
    /// Its top-level packages: their own classes are not the user's to change.
    pub packages: &'static [&'static str],
    /// Classes (module.qualname) whose subclasses are the framework's.
    pub bases: &'static [&'static str],
    /// An attribute every instance carries (`_sa_instance_state`), when there is one.
    pub attribute: Option<&'static str>,
    /// What the framework offers instead of `__slots__`.
    pub instead: &'static str,
}

pub const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "pydantic",
        packages: &["pydantic", "pydantic_core"],
        bases: &["pydantic.main.BaseModel"],
        attribute: None,
        instead: "a model keeps its fields in its __dict__; for many small records, \
                  @pydantic.dataclasses.dataclass(slots=True) (Python 3.10+) validates the \
                  same way into slotted instances, or keep model_dump() tuples",
    },
    Framework {
        name: "SQLAlchemy",
        packages: &["sqlalchemy"],
        bases: &[
            "sqlalchemy.orm.decl_api.DeclarativeBase",
            "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
        ],
        attribute: Some("_sa_instance_state"),
        instead: "a mapped instance keeps its state and columns in its __dict__; select only \
                  the columns needed (session.execute(select(User.id, User.name)) gives light \
                  Row tuples), and close or expunge sessions so their identity maps let \
                  instances go",
    },
    Framework {
        name: "Django",
        packages: &["django"],
        bases: &["django.db.models.base.Model"],
        attribute: None,
        instead: "a model instance keeps its fields in its __dict__; QuerySet.values_list() \
                  or .values() give tuples or dicts instead of instances, .only() and \
                  .defer() load fewer fields, and .iterator() streams a large queryset \
                  instead of caching it",
    },
];

/// The framework of the class at `class_addr`, by the names in its `__mro__`.
pub fn by_mro(snap: &Snapshot, class_addr: u64) -> Option<&'static Framework> {
    let objs = &snap.objects;
    let class = objs.find(class_addr)?;
    let mro = objs.edge_range(class).find_map(|e| {
        let l = objs.edge_label(e)?;
        (&*snap.labels[l as usize] == ".__mro__").then(|| objs.ref_targets[e])
    })?;
    objs.refs(mro).iter().find_map(|&base: &ObjId| {
        let name = objs.name(base)?;
        FRAMEWORKS.iter().find(|f| f.bases.contains(&name))
    })
}

/// The framework whose instances carry the attribute `label` (`.name` or `['name']`).
pub fn by_attribute(label: &str) -> Option<&'static Framework> {
    let name = label
        .strip_prefix('.')
        .or_else(|| label.strip_prefix("['")?.strip_suffix("']"))?;
    FRAMEWORKS.iter().find(|f| f.attribute == Some(name))
}

/// Top-level modules of the standard library (3.8–3.15) whose classes show up in heaps.
const STDLIB: &[&str] = &[
    "_abc",
    "_asyncio",
    "_collections_abc",
    "_contextvars",
    "_frozen_importlib",
    "_frozen_importlib_external",
    "_io",
    "_pydecimal",
    "_sitebuiltins",
    "_thread",
    "_weakrefset",
    "abc",
    "argparse",
    "ast",
    "asyncio",
    "base64",
    "bdb",
    "calendar",
    "cmd",
    "codecs",
    "collections",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "csv",
    "ctypes",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "dis",
    "email",
    "encodings",
    "enum",
    "fractions",
    "ftplib",
    "functools",
    "gettext",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "imaplib",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "json",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mimetypes",
    "multiprocessing",
    "numbers",
    "opcode",
    "operator",
    "optparse",
    "os",
    "pathlib",
    "pdb",
    "pickle",
    "pkgutil",
    "platform",
    "plistlib",
    "posixpath",
    "pprint",
    "queue",
    "random",
    "re",
    "reprlib",
    "sched",
    "selectors",
    "shlex",
    "shutil",
    "signal",
    "site",
    "smtplib",
    "socket",
    "socketserver",
    "sqlite3",
    "sre_compile",
    "sre_parse",
    "ssl",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "sysconfig",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "traceback",
    "tracemalloc",
    "types",
    "typing",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "wsgiref",
    "xml",
    "xmlrpc",
    "zipfile",
    "zipimport",
    "zoneinfo",
];

/// Whether a class of `module` belongs to the standard library or to a known framework
/// itself (not to the program): `__slots__` advice there is not the user's to follow.
pub fn library_module(module: &str) -> bool {
    let top = module.split('.').next().unwrap_or(module);
    STDLIB.contains(&top) || FRAMEWORKS.iter().any(|f| f.packages.contains(&top))
}
