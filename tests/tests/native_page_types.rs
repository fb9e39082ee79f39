//! The page's types come from Rust: `web/src/types/boundary.d.ts` declares, in TypeScript, every
//! type the page and its Worker exchange with the wasm (`ts_rs::TS`), and `npm test` type-checks
//! the page's protocol against it (`tsc`, web/tsconfig.json). This test fails when a Rust type
//! changed and the file was not regenerated; `AHA_WRITE_TYPES=1 cargo test --workspace page_types`
//! rewrites it.
#![cfg(not(target_family = "wasm"))]

use aha_tasks::{Op, ProblemSpec, RewardConfig};
use aha_train::{
    EvalConfig, EvalRow, GrpoConfig, GrpoStepMetrics, LateEval, LossType, RunConfig, RunSettings,
    ScaleRewards,
};
use aha_web::{
    AnswerView, ArmEvals, BackendInfo, CheckGap, Completion, Correction, DistilOptions, DistilProgress,
    DistilUpdate, GenerateOptions, GroupView, ModelInfo, PretrainOptions, PretrainProgress, PretrainStep,
    PretrainUpdate, Routes, StepReport, TeacherAnswer,
};
use ts_rs::TS;

/// The declarations, in dependency order, as one module.
fn declarations() -> String {
    let declarations = [
        // What a run is: aha-tasks' task and reward, aha-train's configs and settings.
        Op::decl(),
        ProblemSpec::decl(),
        RewardConfig::decl(),
        LossType::decl(),
        ScaleRewards::decl(),
        GrpoConfig::decl(),
        LateEval::decl(),
        EvalConfig::decl(),
        RunConfig::decl(),
        RunSettings::decl(),
        // What a run reports.
        GrpoStepMetrics::decl(),
        EvalRow::decl(),
        AnswerView::decl(),
        GroupView::decl(),
        Correction::decl(),
        StepReport::decl(),
        Routes::decl(),
        // The prompt box's question and answer, the model and the backend.
        GenerateOptions::decl(),
        Completion::decl(),
        ModelInfo::decl(),
        BackendInfo::decl(),
        // A distillation into the student: what the page asks for and what it is told.
        DistilOptions::decl(),
        DistilProgress::decl(),
        TeacherAnswer::decl(),
        ArmEvals::decl(),
        DistilUpdate::decl(),
        // A base model made in the page: what the page asks for and what it is told.
        PretrainOptions::decl(),
        PretrainProgress::decl(),
        PretrainStep::decl(),
        CheckGap::decl(),
        PretrainUpdate::decl(),
    ];
    let header = "// Generated from Aha's Rust types by tests/tests/native_page_types.rs: do not edit.\n\
                  // `AHA_WRITE_TYPES=1 cargo test --workspace page_types` rewrites it.\n";
    let body: Vec<String> = declarations.iter().map(|d| format!("export {d}\n")).collect();
    format!("{header}\n{}", body.join("\n"))
}

#[test]
fn the_page_types_are_generated_from_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src/types/boundary.d.ts");
    let generated = declarations();
    if std::env::var_os("AHA_WRITE_TYPES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the Rust types: run `AHA_WRITE_TYPES=1 cargo test --workspace page_types` and commit it",
        path.display()
    );
}
