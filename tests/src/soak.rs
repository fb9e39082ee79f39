//! The soak: GRPO steps of the tiny preset from the shipped base model on one device, with the
//! device's memory pools read after every step. After a warm-up (shaders compiled, pools sized)
//! they must stay flat: memory that grows step after step would end a long run in the browser.
//! The test suite runs a few steps (`native_kernels.rs`); `cargo xtask soak` runs 1,000.

use aha_kernels::{DeviceMemory, device_memory};
use aha_train::RunConfig;
use burn::tensor::Device;

use crate::base_model::shipped_trainer;

/// `steps` GRPO steps on `device`; the pools' memory after each.
pub async fn grpo_memory(device: &Device, steps: usize) -> Result<Vec<DeviceMemory>, String> {
    let preset = RunConfig::named("tiny").ok_or("no tiny preset")?;
    let mut trainer = shipped_trainer(preset.grpo, &device.clone().autodiff())?;
    let mut memory = Vec::with_capacity(steps);
    for _ in 0..steps {
        trainer.step().await.map_err(|e| e.to_string())?;
        memory.push(device_memory(device).ok_or("this device has no memory pools to read")?);
    }
    Ok(memory)
}

/// Checks that every reading after the first `warmup` stays within `tolerance` (0.1 = 10%) of the
/// first one after it, in live allocations and in reserved bytes.
pub fn flat_after_warmup(memory: &[DeviceMemory], warmup: usize, tolerance: f64) -> Result<(), String> {
    let settled = memory.get(warmup..).filter(|s| s.len() >= 2).ok_or("too few steps after the warm-up")?;
    let first = settled[0];
    for (i, now) in settled.iter().enumerate() {
        for (what, base, value) in [
            ("live allocations", first.allocations, now.allocations),
            ("reserved bytes", first.bytes_reserved, now.bytes_reserved),
        ] {
            let drift = (value as f64 - base as f64).abs() / (base as f64).max(1.0);
            if drift > tolerance {
                return Err(format!(
                    "{what} moved {:.0}% from step {warmup} to step {}: {base} → {value}",
                    drift * 100.0,
                    warmup + i
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(allocations: u64, bytes_reserved: u64) -> DeviceMemory {
        DeviceMemory { allocations, bytes_in_use: 0, bytes_reserved }
    }

    #[test]
    fn growth_after_the_warm_up_is_caught() {
        let warm = [reading(10, 100), reading(50, 900), reading(50, 1000), reading(52, 1050)];
        assert_eq!(flat_after_warmup(&warm, 2, 0.1), Ok(()));
        let leak = [reading(50, 1000), reading(50, 1000), reading(50, 1200)];
        assert_eq!(
            flat_after_warmup(&leak, 0, 0.1),
            Err("reserved bytes moved 20% from step 0 to step 2: 1000 → 1200".into())
        );
        assert!(flat_after_warmup(&leak, 2, 0.1).is_err(), "one reading is not a trend");
    }
}
