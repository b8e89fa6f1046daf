//! A client for daemons: it connects when first used and again after a failure that is not
//! the kernel refusing a request, so that a daemon rides out the module being unloaded and
//! loaded again.

use std::sync::{Mutex, PoisonError};

use super::{Client, Error, ErrorKind};

/// A [`Client`] opened on demand and dropped when its socket may be broken.
#[derive(Default)]
pub struct ReconnectingClient {
    client: Mutex<Option<Client>>,
}

impl ReconnectingClient {
    /// A client that connects when first asked.
    pub fn new() -> ReconnectingClient {
        ReconnectingClient::default()
    }

    /// Runs `request` on the connection, opening one first if there is none. After any
    /// failure but the kernel's answer to the request, the connection is dropped and the
    /// next request opens a new one.
    pub fn with<T>(&self, request: impl FnOnce(&Client) -> Result<T, Error>) -> Result<T, Error> {
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if client.is_none() {
            *client = Some(Client::connect()?);
        }
        let result = request(client.as_ref().expect("connected above"));
        if let Err(error) = &result {
            if !matches!(error.kind(), ErrorKind::Kernel(_)) {
                *client = None;
            }
        }
        result
    }
}
