//! Demultiplexes one SIP endpoint's events to the tasks that own its calls, so
//! a campaign can run many outbound calls over one socket.
//!
//! A call's events can arrive before its task has registered for them (a fast
//! 180 right after the INVITE): they are held until it does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use voxhire_sip::ua::{CallHandle, Event};

#[derive(Clone)]
pub struct CallRouter {
    inner: Arc<Mutex<Routes>>,
}

#[derive(Default)]
struct Routes {
    routes: HashMap<CallHandle, mpsc::UnboundedSender<Event>>,
    held: HashMap<CallHandle, Vec<Event>>,
}

fn call_of(ev: &Event) -> Option<CallHandle> {
    match ev {
        Event::IncomingCall { call, .. }
        | Event::Progress { call, .. }
        | Event::Answered { call, .. }
        | Event::Confirmed { call }
        | Event::Failed { call, .. }
        | Event::Cancelled { call }
        | Event::Ended { call, .. }
        | Event::RemoteSdp { call, .. } => Some(*call),
        Event::Registered { .. } | Event::Unregistered | Event::RegistrationFailed { .. } => None,
    }
}

impl CallRouter {
    /// Starts routing `events`; events of no call (registration) and of calls
    /// nobody placed (inbound INVITEs) come out of the returned receiver.
    pub fn spawn(
        mut events: mpsc::UnboundedReceiver<Event>,
    ) -> (CallRouter, mpsc::UnboundedReceiver<Event>) {
        let router = CallRouter {
            inner: Arc::new(Mutex::new(Routes::default())),
        };
        let (other_tx, other_rx) = mpsc::unbounded_channel();
        let r = router.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                match call_of(&ev) {
                    Some(call) if !matches!(ev, Event::IncomingCall { .. }) => r.deliver(call, ev),
                    _ => {
                        let _ = other_tx.send(ev);
                    }
                }
            }
        });
        (router, other_rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deliver(&self, call: CallHandle, ev: Event) {
        let mut routes = self.lock();
        match routes.routes.get(&call) {
            Some(tx) => {
                if tx.send(ev).is_err() {
                    routes.routes.remove(&call);
                }
            }
            None => routes.held.entry(call).or_default().push(ev),
        }
    }

    /// The events of `call` from now on, including any that arrived before.
    pub fn register(&self, call: CallHandle) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut routes = self.lock();
        for ev in routes.held.remove(&call).unwrap_or_default() {
            let _ = tx.send(ev);
        }
        routes.routes.insert(call, tx);
        rx
    }

    /// Stops routing `call` (its task is done).
    pub fn forget(&self, call: CallHandle) {
        let mut routes = self.lock();
        routes.routes.remove(&call);
        routes.held.remove(&call);
    }
}
