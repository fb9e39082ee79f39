//! Golden values: what a seed must produce on every platform. If one of these changes, every seeded
//! run and every shared workshop link changes with it — update them only on purpose.

use aha_tasks::{ProblemGenerator, ProblemSpec};

/// The first prompts of `ProblemGenerator::new(ProblemSpec::MUL_3X1, 42)`: training problems only,
/// so the draw `794*2=` (held out since issue #21) is skipped and `617*1=` comes at the end.
pub const MUL_3X1_SEED_42: [&str; 8] =
    ["713*9=", "484*6=", "359*1=", "377*8=", "556*9=", "961*5=", "755*1=", "617*1="];

/// The prompts this platform generates for [`MUL_3X1_SEED_42`].
pub fn mul_3x1_seed_42() -> Vec<String> {
    ProblemGenerator::new(ProblemSpec::MUL_3X1, 42)
        .expect("valid spec")
        .take(MUL_3X1_SEED_42.len())
        .map(|p| p.prompt())
        .collect()
}
