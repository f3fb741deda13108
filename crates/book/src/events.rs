//! The fill event ring: push (by place), read and pop (by the authority).

use crate::book::Book;
use crate::error::BookError;
use crate::layout::FillEvent;

impl<'a> Book<'a> {
    pub(crate) fn push_event(&mut self, event: &FillEvent) -> Result<(), BookError> {
        let h = &mut *self.header;
        if h.event_count >= h.event_capacity {
            return Err(BookError::EventQueueFull);
        }
        let mut pos = h.event_head + h.event_count;
        if pos >= h.event_capacity {
            pos -= h.event_capacity;
        }
        *self
            .events
            .get_mut(pos as usize)
            .ok_or(BookError::Corrupt)? = *event;
        // Below the capacity checked above; a 64-bit sequence does not wrap in practice.
        h.event_count = h.event_count.wrapping_add(1);
        h.event_seq = h.event_seq.wrapping_add(1);
        Ok(())
    }

    /// Unconsumed fill events.
    pub fn event_count(&self) -> u32 {
        self.header.event_count
    }

    /// The `i`-th unconsumed fill event, oldest first.
    pub fn event(&self, i: u32) -> Option<&FillEvent> {
        let h = &*self.header;
        if i >= h.event_count {
            return None;
        }
        let mut pos = h.event_head + i;
        if pos >= h.event_capacity {
            pos -= h.event_capacity;
        }
        self.events.get(pos as usize)
    }

    /// Drops the `n` oldest events (after the caller applied them).
    pub fn pop_events(&mut self, n: u32) -> Result<(), BookError> {
        let h = &mut *self.header;
        if n > h.event_count {
            return Err(BookError::NotEnoughEvents);
        }
        let mut head = h.event_head + n;
        if head >= h.event_capacity {
            head -= h.event_capacity;
        }
        h.event_head = head;
        h.event_count -= n;
        Ok(())
    }
}
