//! Reading a CPython process from outside: its memory, its interpreter's location and version,
//! and the layouts of CPython's structures, without running any code in it.
//!
//! - [`memory`]: the one trait for "memory of a stopped process", and its live source;
//! - [`image`]: a copy of a stopped process's memory (or a core's, mapped);
//! - [`core`]: ELF core files: their segments, notes and the files they name;
//! - [`maps`]: the target's memory mappings (`/proc/PID/maps`);
//! - [`process`]: finding CPython in a live process (its mappings, interpreter file and
//!   `_PyRuntime`), the entry every live read starts from;
//! - [`proc_status`]: its tracer, its threads' states, whether it is gone;
//! - [`procmem`]: its resident memory by kind of mapping (`smaps`, `pagemap`);
//! - [`binary`]: the ELF file that holds the interpreter (executable or libpython), its
//!   symbols and where it is loaded;
//! - [`layout`]: per-version offsets, generated from CPython's headers by `probe/`;
//! - [`runtime`]: `_PyRuntime`, the exact version, and the remote-debugging table that
//!   3.13+ keeps at its start.

pub mod binary;
pub mod core;
pub mod image;
pub mod layout;
pub mod maps;
pub mod memory;
pub mod proc_status;
pub mod process;
pub mod procmem;
pub mod runtime;
pub mod stop;
