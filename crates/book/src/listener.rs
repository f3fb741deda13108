//! What the engine reports as it changes the book: the listener a program turns into events.

use crate::layout::{FillEvent, Order};
use crate::order::OutReason;

/// Receives what happens to orders, so a program can emit events for indexers. Every method
/// has an empty default.
pub trait BookListener {
    /// A maker fill, after it was appended to the queue.
    fn on_fill(&mut self, _event: &FillEvent) {}
    /// A resting order left the book without being filled (the order as it was).
    fn on_out(&mut self, _order: &Order, _reason: OutReason) {}
    /// An order came to rest on the book.
    fn on_post(&mut self, _order: &Order) {}
    /// Self-trade prevention (`DecrementTake`) took `quantity` off a resting order (shown as
    /// it was before); at zero the order leaves the book with no further call.
    fn on_decrement(&mut self, _order: &Order, _quantity: u64) {}
    /// Its owner reduced a resting order in place by `quantity` (shown as it was before; it
    /// keeps its time priority). A reduction to zero is reported as `on_out(.., Cancelled)`.
    fn on_reduce(&mut self, _order: &Order, _quantity: u64) {}
}

/// A listener that ignores everything.
pub struct NoopListener;
impl BookListener for NoopListener {}
