//! The one way data comes back from the device. Every GPU→CPU read in Aha goes through [`read`],
//! which is asynchronous (a blocking read panics on WebGPU in wasm) and counted per thread, so a
//! test can assert how many reads a rollout or a training step made.

use std::cell::Cell;

use burn::tensor::{TensorData, Transaction};

thread_local! {
    static READS: Cell<usize> = const { Cell::new(0) };
}

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("reading data back from the device failed: {0}")]
pub struct ReadbackError(pub String);

/// How a read on a lost GPU device fails: the start of its message.
pub const DEVICE_LOST: &str = "the GPU device was lost";

/// Reads every tensor registered in `transaction` back in one go (one GPU→CPU transfer).
pub async fn read(transaction: Transaction) -> Result<Vec<TensorData>, ReadbackError> {
    READS.with(|reads| reads.set(reads.get() + 1));
    transaction.execute_async().await.map_err(|e| {
        let detail = format!("{e:?}");
        // cubecl marks the device poisoned when wgpu reports it lost (the browser reset the GPU,
        // or the device was destroyed); the page recognises this wording and offers to resume.
        if detail.contains("Poison") {
            ReadbackError(format!("{DEVICE_LOST}: {detail}"))
        } else {
            ReadbackError(detail)
        }
    })
}

/// How many reads this thread has made so far (compare two calls to count a stretch of work).
pub fn reads_so_far() -> usize {
    READS.with(Cell::get)
}

/// The values of one read tensor as `T`, with a readable error.
pub fn values<T: burn::tensor::Element>(data: TensorData) -> Result<Vec<T>, ReadbackError> {
    data.try_into_vec_as::<T>().map_err(|e| ReadbackError(format!("{e:?}")))
}
