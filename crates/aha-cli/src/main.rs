//! `aha`: Aha's training code on the command line, for scripts, benchmarks and base-model builds.
//!
//! ```text
//! aha pretrain --recipe marked-check --out web/public/base-model --metrics sft.csv
//! aha grpo --checkpoint web/public/base-model --preset default --steps 300 --metrics run.csv
//! aha distill --teacher grpo-out --student web/public/student-model --out distilled
//! aha sample --checkpoint web/public/base-model --prompt 347*5 -n 8
//! aha export --checkpoint web/public/base-model --out model.safetensors
//! aha bench --backend wgpu --out bench.json
//! ```

mod bench;
mod distill;
mod eval;
mod grpo;
mod metrics;
mod pretrain;
mod sample;

use std::path::PathBuf;
use std::process::ExitCode;

use aha_train::{Checkpoint, export_safetensors};
use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "aha", version, about = "Aha: train and sample the tiny MoE model of the R1-Zero demo")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a base model with supervised fine-tuning on the task corpus.
    Pretrain(pretrain::Args),
    /// Reinforcement learning (GRPO) from a base checkpoint, with held-out evaluations.
    Grpo(grpo::Args),
    /// Distil a teacher into a student: SFT on the teacher's right answers to training problems.
    Distill(distill::Args),
    /// Sample completions from a checkpoint.
    Sample(sample::Args),
    /// Measure a checkpoint on the held-out set: behaviour, and whether checking pays.
    Eval(eval::Args),
    /// Speed figures on one backend: SFT, sampling, and a GRPO step split into rollout and update.
    Bench(bench::Args),
    /// Export a checkpoint's weights to safetensors with Hugging Face-style names.
    Export {
        /// Checkpoint directory (model.bpk, config.json, tokenizer.json).
        #[arg(long)]
        checkpoint: PathBuf,
        /// The .safetensors file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where tensors live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (`flex`): deterministic, the reference.
    Cpu,
    /// Burn's wgpu backend on the first GPU adapter (Vulkan, Metal, DX12...).
    Wgpu,
}

impl Backend {
    pub fn device(self) -> Result<Device> {
        self.device_and_setup().map(|(device, _)| device)
    }

    /// The device and, on wgpu, the wgpu handles Burn runs on (for kernels run through wgpu
    /// directly: the bench's matmul peak).
    pub fn device_and_setup(self) -> Result<(Device, Option<burn::tensor::wgpu::WgpuSetup>)> {
        match self {
            Backend::Cpu => Ok((Device::flex(), None)),
            Backend::Wgpu => Device::wgpu_options()
                .init_with_setup()
                .map(|(device, setup)| (device, Some(setup)))
                .map_err(|e| anyhow::anyhow!("wgpu could not start: {e}")),
        }
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Pretrain(args) => pretrain::run(args),
        Command::Grpo(args) => grpo::run(args),
        Command::Distill(args) => distill::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Export { checkpoint, out } => export(&checkpoint, &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn export(checkpoint: &std::path::Path, out: &std::path::Path) -> Result<()> {
    let checkpoint = Checkpoint::load_dir(checkpoint)?;
    let model = checkpoint.load_model(&Device::flex())?;
    let bytes = export_safetensors(&model, &checkpoint.config)?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}
