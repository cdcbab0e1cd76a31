//! The futex-bit allocator: which of the 32 bits of the futex *bitset* each
//! kernel-parked waiter of a queue sleeps on, so that a `notify_one` wakes
//! the waiter it selected and not every sleeper on the word.
//!
//! A [`Bits`] is the `extra` of the queue's waiter list, so the list lock
//! guards it: a bit is taken before its waiter is linked (or under the lock
//! that moves it to a kernel path) and released under the lock that unlinks
//! it (a notify that selects it, a cancel, a fallback to the waker path).

/// Which futex bits the linked kernel-path waiters hold.
pub(super) struct Bits {
    /// Per futex bit: how many linked kernel-path waiters hold it.
    users: [u32; 32],
    /// Bit `i` is set iff `users[i] > 0`.
    busy: u32,
    /// Next bit to share once all 32 are busy.
    rotor: u32,
}

impl Bits {
    pub(super) const fn new() -> Self {
        Self {
            users: [0; 32],
            busy: 0,
            rotor: 0,
        }
    }

    /// Picks the futex bit (a mask with one bit set) for a new kernel-path
    /// waiter: a bit no linked kernel-path waiter holds, if there is one;
    /// beyond 32 holders, bits are shared in turn (a wake then also rouses
    /// the other holders, which re-check and re-arm).
    pub(super) fn take(&mut self) -> u32 {
        let free = !self.busy;
        let index = if free != 0 {
            free.trailing_zeros()
        } else {
            self.rotor = (self.rotor + 1) % 32;
            self.rotor
        };
        self.users[index as usize] += 1;
        self.busy |= 1 << index;
        1 << index
    }

    /// Gives back a bit returned by [`take`](Self::take).
    pub(super) fn release(&mut self, mask: u32) {
        debug_assert_eq!(mask.count_ones(), 1, "not a futex bit: {mask:#x}");
        let index = mask.trailing_zeros() as usize;
        self.users[index] -= 1;
        if self.users[index] == 0 {
            self.busy &= !mask;
        }
    }

    /// A waiter holding `mask` leaves the list: gives the bit back if it
    /// holds one (`mask` is 0 for a waker-path waiter, which holds none) and
    /// returns `mask`, the bits a notifier must wake for it.
    pub(super) fn leave(&mut self, mask: u32) -> u32 {
        if mask != 0 {
            self.release(mask);
        }
        mask
    }

    /// Whether no linked waiter holds a bit.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.busy == 0 && self.users.iter().all(|&n| n == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn bits_are_distinct_until_all_32_are_held_then_shared_and_released() {
        let mut bits = Bits::new();
        let taken: Vec<u32> = (0..32).map(|_| bits.take()).collect();
        assert_eq!(taken.iter().fold(0, |all, bit| all | bit), u32::MAX);
        let shared = bits.take();
        assert_eq!(shared.count_ones(), 1);
        // The shared bit stays busy until both of its holders left.
        assert_eq!(bits.leave(shared), shared);
        bits.release(shared);
        assert_eq!(bits.take(), shared, "the only free bit");
        assert_eq!(bits.leave(0), 0, "a waker-path waiter holds no bit");
        // One holder of `shared` is left, counted in `taken`.
        for bit in taken {
            bits.release(bit);
        }
        assert_eq!(bits.busy, 0);
    }
}
