//! The static types the decoder knows by address, found from the interpreter's symbols: the
//! lowest layer of type knowledge, which strings and dicts need to recognise exact types.

/// Static types the decoder knows by address (from the interpreter's symbols).
#[derive(Default, Clone, Copy, Debug)]
pub struct Builtins {
    pub type_: u64,
    pub object: u64,
    pub dict: u64,
    pub odict: u64,
    pub list: u64,
    pub tuple: u64,
    pub set: u64,
    pub frozenset: u64,
    pub str_: u64,
    pub bytes: u64,
    pub bytearray: u64,
    pub int: u64,
    pub bool_: u64,
    pub float: u64,
    pub complex: u64,
    pub module: u64,
    pub function: u64,
    pub code: u64,
    pub cfunction: u64,
    pub cmethod: u64,
    pub method: u64,
    pub cell: u64,
    pub frame: u64,
    pub weakref: u64,
    pub weakproxy: u64,
    pub weakcallableproxy: u64,
    pub set_dummy: u64,
    pub none: u64,
    /// The descriptor types (method, wrapper, getset, member, classmethod).
    pub descriptors: [u64; 5],
    /// Generator, coroutine and async generator types.
    pub generators: [u64; 3],
    pub moduledef: u64,
    /// 3.15's frozendict (a dict's layout, not a dict subclass).
    pub frozendict: u64,
    /// `PyCapsule_Type`: 3.13+ capsules can declare a traversal of the data they point to.
    pub capsule: u64,
}
