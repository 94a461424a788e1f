//! Free loopback ports for the control plane.
//!
//! The components take their ports as flags, so the lab has to choose them before
//! starting anything. It asks the kernel for an ephemeral port and holds the socket
//! until just before the component starts, which keeps other processes from being
//! handed the same port meanwhile. Ports handed out by this process are also
//! remembered, so parallel labs in one test binary never collide with each other.
//! The small race with other processes that remains is handled by retrying the
//! start-up (see `Lab::start`).

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Mutex;

use crate::LabError;

/// A port bound on 127.0.0.1 and held until [`Reserved::release`].
#[derive(Debug)]
pub struct Reserved {
    port: u16,
    listener: Option<TcpListener>,
}

impl Reserved {
    /// The port number.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes the socket so a component can bind the port; returns the number.
    pub fn release(mut self) -> u16 {
        self.listener.take();
        self.port
    }
}

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Reserves `n` distinct free ports on 127.0.0.1.
pub fn reserve(n: usize) -> Result<Vec<Reserved>, LabError> {
    let mut handed = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    let handed = handed.get_or_insert_with(HashSet::new);
    let mut out = Vec::with_capacity(n);
    // The kernel may offer a port this process used for an earlier lab; skip those
    // (bounded, so a pathological kernel cannot spin us forever).
    let mut attempts = 0;
    while out.len() < n {
        attempts += 1;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(LabError::io("binding a free port on 127.0.0.1"))?;
        let port = listener
            .local_addr()
            .map_err(LabError::io("reading a bound port"))?
            .port();
        if handed.contains(&port) && attempts < 1000 {
            continue;
        }
        handed.insert(port);
        out.push(Reserved {
            port,
            listener: Some(listener),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ports_are_distinct_and_bindable_after_release() {
        let ports = reserve(5).unwrap();
        let numbers: HashSet<u16> = ports.iter().map(Reserved::port).collect();
        assert_eq!(numbers.len(), 5);
        for reserved in ports {
            let port = reserved.port();
            // Held: nobody else can bind it.
            assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err());
            let port = reserved.release();
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        }
    }

    #[test]
    fn ports_are_never_handed_out_twice() {
        let first: HashSet<u16> = reserve(20)
            .unwrap()
            .into_iter()
            .map(Reserved::release)
            .collect();
        let second: HashSet<u16> = reserve(20).unwrap().iter().map(Reserved::port).collect();
        assert!(first.is_disjoint(&second));
    }
}
