//! The shutdown signal every loop selects on.

use tokio::sync::watch;

/// Sends the shutdown signal to every [`Shutdown`] made from it.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// Receives the shutdown signal; cheap to clone for each task.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// A trigger and a first receiver.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (ShutdownTrigger(sender), Shutdown(receiver))
}

impl ShutdownTrigger {
    /// Tells every receiver to stop.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// A new receiver.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// Waits until shutdown is triggered (or the trigger is gone); at once if it already was.
    pub async fn recv(&mut self) {
        // An error means the trigger was dropped, which also ends the program.
        let _ = self.0.wait_for(|&stop| stop).await;
    }

    /// Whether shutdown was triggered.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_receiver_hears_the_trigger_even_when_late() {
        let (trigger, mut first) = channel();
        let mut second = first.clone();
        assert!(!first.is_triggered());
        trigger.trigger();
        first.recv().await;
        second.recv().await;
        let mut late = trigger.subscribe();
        late.recv().await;
        assert!(late.is_triggered());
    }
}
