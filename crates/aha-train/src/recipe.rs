//! Named recipes: the model and training settings that produce Aha's models.
//!
//! Recipe B ("fast guess, slow check") is the one measured to make checking emerge under GRPO
//! (issue #4 and dev/LOG.md): 3-digit × 1-digit multiplication, a guess the model cannot make
//! reliably and a column check it can, taught in three SFT stages. `marked-check`, the shipped
//! base model since issue #21, adds a verdict that compares: the guess restated digit by digit
//! beside the check's result, each digit marked same or different.

use aha_model::{ModelConfig, MoeConfig};
use aha_tasks::{CorpusMix, GuessMask, ProblemSpec, StepFormat};
use serde::{Deserialize, Serialize};

use crate::sft::{SftConfig, SftStage};

/// Everything needed to build a base model from scratch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseRecipe {
    pub name: String,
    pub model: ModelConfig,
    pub sft: SftConfig,
}

impl BaseRecipe {
    /// Names accepted by [`BaseRecipe::named`].
    pub const NAMES: [&'static str; 7] =
        ["marked-check", "split-check", "recipe-b", "no-check", "control", "tiny", "student"];

    /// A recipe by name, for `vocab_size` tokens.
    pub fn named(name: &str, vocab_size: usize) -> Option<BaseRecipe> {
        match name {
            "marked-check" => Some(marked_check(vocab_size)),
            "split-check" => Some(split_check(vocab_size)),
            "recipe-b" => Some(recipe_b(vocab_size)),
            "no-check" => Some(no_check(vocab_size)),
            "control" => Some(control(vocab_size)),
            "tiny" => Some(tiny(vocab_size)),
            "student" => Some(student(vocab_size)),
            _ => None,
        }
    }
}

/// Recipe B's base model: 2 layers, d 64, 4 heads, 4 experts top-1 (hidden 128), aux 0.01;
/// SFT 800 + 500 + 400 steps at batch 64.
pub fn recipe_b(vocab_size: usize) -> BaseRecipe {
    let stage = |steps, lr, warmup, mix| SftStage { steps, lr, warmup, mix };
    BaseRecipe {
        name: "recipe-b".into(),
        model: ModelConfig::new(vocab_size, MoeConfig::new()),
        sft: SftConfig {
            task: ProblemSpec::MUL_3X1,
            batch_size: 64,
            stages: vec![
                stage(800, 3e-3, 50, CorpusMix::RECIPE_B_STAGE1),
                // Mostly wrong guesses in skill traces: without this the check copies the guess.
                stage(500, 1e-3, 20, CorpusMix { skill_wrong_rate: 0.90, ..CorpusMix::RECIPE_B_STAGE1 }),
                // More skill traces and no loss on any guess digit: the guess stops improving, so
                // the gap between guess and check stays open.
                stage(
                    400,
                    1e-3,
                    20,
                    CorpusMix {
                        skill_fraction: 0.60,
                        skill_wrong_rate: 0.90,
                        guess_mask: GuessMask::All,
                        ..CorpusMix::RECIPE_B_STAGE1
                    },
                ),
            ],
            aux_loss_weight: 0.01,
            min_lr_ratio: 0.1,
            bucket_pool: 8,
            seed: 0,
            loss_tokens_per_row: None,
        },
    }
}

/// Aha's base model: recipe B with a check it can do reliably. Each column is written in two steps,
/// product then carry (`4*5=20+3=23`, see [`StepFormat::Split`]): recipe B's one-step columns
/// computed `d·b + carry` at once and got the ones digit wrong 10–20% of the time whenever a carry
/// came in (dev/LOG.md, 2026-11-29). Half of the skill traces' wrong guesses are far from the answer,
/// so a check that copies guess digits is wrong. The longer check needs 72 positions. Stages 2 and
/// 3 (the check skill; the guess is frozen) run 1,000 and 800 steps instead of 500 and 400: the
/// sampled check then agrees with the true answer 76% of the time instead of 57% (dev/LOG.md,
/// 2026-11-29, run X1), while guess accuracy and the natural check rate stay where they were.
pub fn split_check(vocab_size: usize) -> BaseRecipe {
    let mut recipe = recipe_b(vocab_size);
    recipe.name = "split-check".into();
    recipe.model = recipe.model.with_max_seq_len(SPLIT_CHECK_MAX_SEQ_LEN);
    for stage in &mut recipe.sft.stages {
        stage.mix.step_format = StepFormat::Split;
        stage.mix.skill_far_wrong_rate = SPLIT_CHECK_FAR_WRONG_RATE;
    }
    recipe.sft.stages[1].steps = 1000;
    recipe.sft.stages[2].steps = 800;
    recipe
}

/// Positions of the split-check model: prompt (6) + the longest completion (60) with room to spare.
pub const SPLIT_CHECK_MAX_SEQ_LEN: usize = 72;
const SPLIT_CHECK_FAR_WRONG_RATE: f64 = 0.5;

/// Aha's base model since issue #21: [`split_check`] with a verdict that compares. Measured one
/// change at a time in dev/LOG.md (2026-12-05, runs F1–F4); each change answers a failure:
/// - every trained token weighs the same in every batch (`loss_tokens_per_row`): with length
///   bucketing and a per-batch mean, a decision to answer weighed ~5× a decision to check, and the
///   base model checked 2–4% of the time although 10% of its natural traces check (now ~11%);
/// - after the check's result the guess is restated with a mark per digit, `=1735 g1=7=4x5= wait`:
///   the model did not learn to compare two 4-digit numbers, neither forty characters apart nor
///   side by side nor with the marks after them (verdict at chance); a mark written right after
///   each restated digit compares that digit with one of the result's, and then the verdict
///   (`wait` exactly when a mark is `x`) is right 99% of the time;
/// - 30% verdict traces (loss only from the restatement on, half agreeing, a quarter with a check
///   written wrong on purpose) and no verdict loss in skill traces, whose guesses are 90% wrong:
///   the verdict is learned as a comparison, not as "wait" nor as "was the guess right?".
///
/// The completion grows by 10 characters (the check path is 70): 80 positions.
pub fn marked_check(vocab_size: usize) -> BaseRecipe {
    let mut recipe = split_check(vocab_size);
    recipe.name = "marked-check".into();
    recipe.model = recipe.model.with_max_seq_len(MARKED_CHECK_MAX_SEQ_LEN);
    recipe.sft.loss_tokens_per_row = Some(20.0);
    for stage in &mut recipe.sft.stages {
        let mix = &mut stage.mix;
        mix.restate_guess = true;
        mix.compare_digits = true;
        mix.verdict_fraction = 0.30;
        mix.verdict_corrupt_rate = 0.25;
        mix.skill_verdict_masked = true;
    }
    recipe
}

/// Positions of the marked-check model: prompt (6) + the longest completion (70) with room to spare.
pub const MARKED_CHECK_MAX_SEQ_LEN: usize = 80;

/// The recipe of the shipped base model; the ablation and the control are built from it.
pub fn shipped(vocab_size: usize) -> BaseRecipe {
    marked_check(vocab_size)
}

/// The ablation: Aha's base recipe without any check trace (the same model and stages).
pub fn no_check(vocab_size: usize) -> BaseRecipe {
    let mut recipe = shipped(vocab_size);
    recipe.name = "no-check".into();
    for stage in &mut recipe.sft.stages {
        stage.mix = CorpusMix { guess_mask: stage.mix.guess_mask, ..CorpusMix::NO_CHECK };
    }
    recipe
}

/// The control: Aha's base recipe with a check exactly as reliable as the guess — every check in
/// the corpus works the columns but writes the guess as its result, and so says `ok` — so checking
/// never changes the answer, and GRPO with a right-answer reward has nothing to amplify. Same
/// model, stages and traces otherwise.
pub fn control(vocab_size: usize) -> BaseRecipe {
    let mut recipe = shipped(vocab_size);
    recipe.name = "control".into();
    for stage in &mut recipe.sft.stages {
        stage.mix.check_copy_rate = 1.0;
    }
    recipe
}

/// The distillation student (issue #25): Aha's base recipe — the same corpus, stages and seed — on
/// a narrower model of the same family, d 32 with 2 heads and experts of hidden 64 (about a
/// quarter of the parameters). Why this size: dev/LOG.md, 2026-12-07, "a student for distillation".
pub fn student(vocab_size: usize) -> BaseRecipe {
    let mut recipe = shipped(vocab_size);
    recipe.name = "student".into();
    recipe.model = ModelConfig::new(vocab_size, MoeConfig::new().with_d_expert(64))
        .with_max_seq_len(MARKED_CHECK_MAX_SEQ_LEN)
        .with_d_model(32)
        .with_n_heads(2);
    recipe
}

/// A minutes-long recipe for demos and tests: Aha's base recipe at a tenth of the steps.
pub fn tiny(vocab_size: usize) -> BaseRecipe {
    let mut recipe = shipped(vocab_size);
    recipe.name = "tiny".into();
    for stage in &mut recipe.sft.stages {
        stage.steps /= 10;
        stage.warmup /= 10;
    }
    recipe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_are_valid_and_round_trip() {
        for name in BaseRecipe::NAMES {
            let recipe = BaseRecipe::named(name, 50).unwrap();
            assert_eq!(recipe.name, name);
            recipe.model.validate().unwrap();
            recipe.sft.validate().unwrap();
            let json = serde_json::to_string(&recipe).unwrap();
            assert_eq!(serde_json::from_str::<BaseRecipe>(&json).unwrap(), recipe);
        }
        assert!(BaseRecipe::named("recipe-z", 50).is_none());
        assert_eq!(recipe_b(50).sft.total_steps(), 1700);
        assert_eq!(split_check(50).sft.total_steps(), 2600);
        assert_eq!(marked_check(50).sft.total_steps(), 2600);
        assert_eq!(control(50).model, marked_check(50).model);
        assert_eq!(student(50).sft, marked_check(50).sft, "the student learns from the same corpus");
        assert!(student(50).model.num_params() * 3 < marked_check(50).model.num_params());
        assert_eq!(no_check(50).sft.total_steps(), 2600);
        assert!(
            no_check(50)
                .sft
                .stages
                .iter()
                .all(|s| s.mix.natural_check_rate == 0.0 && s.mix.skill_fraction == 0.0)
        );
    }
}
