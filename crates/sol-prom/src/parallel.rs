//! Bounded parallel map: at most N calls in flight, results in input order, stop at the first
//! error.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Applies `call` to every item with at most `max_parallel` (≥ 1) calls running at once. Returns
/// the results in input order, or the error of the earliest failed item; after a failure no new
/// item starts.
pub(crate) fn map_bounded<T, R, E>(
    items: &[T],
    max_parallel: usize,
    call: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            let result = call(item);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((index, result));
        }
        done
    };
    let workers = max_parallel.clamp(1, items.len().max(1));
    let mut done: Vec<(usize, Result<R, E>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_keep_input_order_and_concurrency_stays_bounded() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<u32> = (0..12).collect();
        let squares = map_bounded(&items, 3, |x| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(10));
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<u32, ()>(x * x)
        })
        .unwrap();
        assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        // 12 items of 10 ms on 3 workers: all three run together, never a fourth.
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn the_earliest_error_wins_and_empty_input_is_fine() {
        let items = [1, 2, 3, 4];
        let result = map_bounded(&items, 1, |x| if *x >= 2 { Err(*x) } else { Ok(*x) });
        // One worker: item 2 fails and item 3 never starts.
        assert_eq!(result, Err(2));
        let none: [u8; 0] = [];
        assert_eq!(map_bounded(&none, 4, |x| Ok::<u8, ()>(*x)), Ok(vec![]));
    }
}
