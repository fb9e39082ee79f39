//! Learning-rate schedule: linear warmup, then cosine decay to a floor.

use serde::{Deserialize, Serialize};

/// `lr(step)` rises linearly from `peak / warmup` to `peak` over `warmup` steps, then follows a
/// cosine from `peak` down to `peak · min_ratio` at `total` steps, and stays there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    pub peak: f64,
    pub warmup: usize,
    pub total: usize,
    pub min_ratio: f64,
}

impl LrSchedule {
    /// Constant `peak` after warmup (no decay).
    pub fn warmup_only(peak: f64, warmup: usize) -> Self {
        Self { peak, warmup, total: usize::MAX, min_ratio: 1.0 }
    }

    /// The learning rate of step `step` (0-based).
    pub fn lr(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let decay_steps = self.total.saturating_sub(self.warmup).max(1);
        let progress = ((step - self.warmup) as f64 / decay_steps as f64).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.peak * (self.min_ratio + (1.0 - self.min_ratio) * cosine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_the_floor() {
        let s = LrSchedule { peak: 1e-3, warmup: 10, total: 110, min_ratio: 0.1 };
        assert!((s.lr(0) - 1e-4).abs() < 1e-12);
        assert!((s.lr(9) - 1e-3).abs() < 1e-12);
        assert!((s.lr(10) - 1e-3).abs() < 1e-12);
        assert!((s.lr(60) - 0.55e-3).abs() < 1e-12, "{}", s.lr(60));
        assert!((s.lr(110) - 1e-4).abs() < 1e-12);
        assert!((s.lr(10_000) - 1e-4).abs() < 1e-12);
        let lrs: Vec<f64> = (10..110).map(|i| s.lr(i)).collect();
        assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
    }

    #[test]
    fn warmup_only_stays_at_peak() {
        let s = LrSchedule::warmup_only(3e-4, 5);
        assert!((s.lr(2) - 1.8e-4).abs() < 1e-12);
        assert_eq!(s.lr(5), 3e-4);
        assert_eq!(s.lr(1_000_000), 3e-4);
    }
}
