//! Memory of another process: one trait, and the live process as its first source (a core
//! file is the second). Every read either fills the whole buffer or fails: an unmapped or
//! unreadable address is an error, never a fault.

use std::fs::File;
use std::io::IoSliceMut;
use std::os::unix::fs::FileExt;

/// Bytes at `[addr, addr + len)` could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub addr: u64,
    pub len: usize,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes at 0x{:x} are unreadable", self.len, self.addr)
    }
}

/// The memory of a stopped (or otherwise consistent) process.
pub trait Memory: Sync {
    /// Fill `buf` from `addr`; all of it or an error.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable>;

    fn read_u64(&self, addr: u64) -> Result<u64, Unreadable> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn read_u32(&self, addr: u64) -> Result<u32, Unreadable> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn read_i32(&self, addr: u64) -> Result<i32, Unreadable> {
        Ok(self.read_u32(addr)? as i32)
    }

    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, Unreadable> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }
}

/// A live process, read with `process_vm_readv` (one system call per read, any size), or
/// through `/proc/PID/mem` where that call is not allowed (some seccomp profiles).
pub struct LiveProcess {
    pid: i32,
    mem: Option<File>,
}

impl LiveProcess {
    /// Opens the process for reading; `/proc/PID/mem` is opened too when it can be (both need
    /// ptrace permission over the process).
    pub fn open(pid: u32) -> LiveProcess {
        let mem = File::open(format!("/proc/{pid}/mem")).ok();
        LiveProcess {
            pid: pid as i32,
            mem,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Write `data` at `addr` in the process (only the remote-execution request does).
    pub fn write(&self, addr: u64, data: &[u8]) -> std::io::Result<()> {
        let remote = [nix::sys::uio::RemoteIoVec {
            base: addr as usize,
            len: data.len(),
        }];
        let local = [std::io::IoSlice::new(data)];
        match nix::sys::uio::process_vm_writev(
            nix::unistd::Pid::from_raw(self.pid),
            &local,
            &remote,
        ) {
            Ok(n) if n == data.len() => Ok(()),
            Ok(n) => Err(std::io::Error::other(format!(
                "wrote {n} of {} bytes at 0x{addr:x}",
                data.len()
            ))),
            Err(e) => Err(std::io::Error::from(e)),
        }
    }

    /// Read as much of `buf` as can be read from `addr` on, in one call: the number of bytes
    /// read (a short count stops at the first unreadable page), or `Gone` once the process
    /// has exited or been killed (its memory is no more).
    pub fn read_some(&self, addr: u64, buf: &mut [u8]) -> Result<usize, Gone> {
        Ok(match self.read_vm(addr, buf) {
            Ok(n) => n,
            Err(nix::Error::ESRCH) => return Err(Gone),
            Err(nix::Error::EFAULT) => 0,
            Err(_) => match &self.mem {
                // Page by page through the proc file, up to the first failure.
                Some(f) => {
                    let mut done = 0;
                    while done < buf.len() {
                        let end = (done + 4096).min(buf.len());
                        if f.read_exact_at(&mut buf[done..end], addr + done as u64)
                            .is_err()
                        {
                            break;
                        }
                        done = end;
                    }
                    if done == 0 && !crate::remote::proc_status::alive(self.pid as u32) {
                        return Err(Gone);
                    }
                    done
                }
                None => 0,
            },
        })
    }

    fn read_vm(&self, addr: u64, buf: &mut [u8]) -> Result<usize, nix::Error> {
        let len = buf.len();
        let remote = [nix::sys::uio::RemoteIoVec {
            base: addr as usize,
            len,
        }];
        let mut local = [IoSliceMut::new(buf)];
        nix::sys::uio::process_vm_readv(nix::unistd::Pid::from_raw(self.pid), &mut local, &remote)
    }
}

/// The process read from has exited (or was killed) while it was being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

impl Memory for LiveProcess {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable> {
        let err = Unreadable {
            addr,
            len: buf.len(),
        };
        if buf.is_empty() {
            return Ok(());
        }
        match self.read_vm(addr, buf) {
            Ok(n) if n == buf.len() => return Ok(()),
            Ok(_) => return Err(err),
            Err(nix::Error::EFAULT) | Err(nix::Error::ESRCH) => return Err(err),
            Err(_) => {}
        }
        // process_vm_readv refused (not a bad address): the proc file instead.
        match &self.mem {
            Some(f) => match f.read_exact_at(buf, addr) {
                Ok(()) => Ok(()),
                Err(_) => Err(err),
            },
            None => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_memory_and_refuses_unmapped_addresses() {
        let me = LiveProcess::open(std::process::id());
        let value: u64 = 0x1122_3344_5566_7788;
        let addr = &value as *const u64 as u64;
        assert_eq!(me.read_u64(addr).unwrap(), value);
        assert!(me.read_u64(8).is_err());
        assert!(me.read_vec(0, 16).is_err());
    }
}
