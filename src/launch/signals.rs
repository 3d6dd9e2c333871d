//! Ctrl-C, SIGTERM and SIGHUP of pymem while it works on another process: a flag that the
//! work polls, so that it ends cleanly with the target running.

use pymem::{Error, Result};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// SIGINT, SIGTERM and SIGHUP set a flag while an attach or a watch is under way (instead of
/// killing pymem half way, which could leave the target stopped); the handlers go with this
/// value.
pub struct StopOnSignals {
    pub flag: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl StopOnSignals {
    pub fn install() -> Result<StopOnSignals> {
        let flag = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for sig in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
        ] {
            let id = signal_hook::flag::register(sig, Arc::clone(&flag))
                .map_err(|e| Error::System(format!("cannot handle signals: {e}")))?;
            ids.push(id);
        }
        Ok(StopOnSignals { flag, ids })
    }
}

impl Drop for StopOnSignals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
