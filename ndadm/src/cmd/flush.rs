//! `ndadm flush`.

use ndadm::client::Client;

use super::Failure;

/// Removes every VIP and connection of the namespace.
pub fn run(client: &Client) -> Result<(), Failure> {
    client.flush()?;
    Ok(())
}
