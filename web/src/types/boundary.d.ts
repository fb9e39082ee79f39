// Generated from Aha's Rust types by tests/tests/native_page_types.rs: do not edit.
// `AHA_WRITE_TYPES=1 cargo test --workspace page_types` rewrites it.

export type Op = "add" | "sub" | "mul";

export type ProblemSpec = { op: Op, a_digits: number, b_digits: number, };

export type RewardConfig = { 
/**
 * Paid when the final answer equals the true answer.
 */
correct: number, 
/**
 * Paid for a well-formed completion whose guess and answer have the answer's width.
 */
format: number, };

export type LossType = "grpo" | "dr_grpo" | "dapo";

export type ScaleRewards = "group" | "batch" | "none";

export type GrpoConfig = { task: ProblemSpec, reward: RewardConfig, 
/**
 * B: distinct problems per step.
 */
prompts_per_step: number, 
/**
 * G: completions per problem (TRL `num_generations`).
 */
num_generations: number, max_completion_length: number, temperature: number, 
/**
 * Sample among the k most likely tokens only; 0 keeps all.
 */
top_k: number, 
/**
 * Every this many tokens, read back whether every row has finished and stop early if so (the
 * first check at the last rollout's longest completion, and a check that finds every row done
 * is the rollout's only read). 0 never checks: a rollout is then exactly one readback, always
 * `max_completion_length` decode steps. The samples are the same either way.
 */
stop_check_every: number, learning_rate: number, warmup_steps: number, 
/**
 * Weight of the KL penalty to the starting model; 0 disables it (and the reference model).
 */
beta: number, 
/**
 * PPO clip range below and (without `epsilon_high`) above 1.
 */
epsilon: number, 
/**
 * Upper clip range (DAPO's clip-higher); `None` uses `epsilon`.
 */
epsilon_high: number | null, loss_type: LossType, scale_rewards: ScaleRewards, 
/**
 * Passes over each rollout (1: on-policy, the ratio is exactly 1 at the first pass).
 */
num_iterations: number, 
/**
 * Clip each gradient tensor to this L2 norm (Burn clips per parameter tensor).
 */
max_grad_norm: number | null, 
/**
 * Weight of the MoE balance loss during RL.
 */
aux_loss_weight: number, seed: number, };

export type LateEval = { 
/**
 * The last step measured at `EvalConfig::every`.
 */
after: number, 
/**
 * Evaluate every this many steps after it; 0 never.
 */
every: number, };

export type EvalConfig = { 
/**
 * Distinct problems in the held-out set, all from the task's held-out split
 * (`aha_tasks::Split::HeldOut`), which training never draws from.
 */
problems: number, 
/**
 * Seed of the order the held-out split's problems are taken in.
 */
seed: number, 
/**
 * Evaluate every this many steps (and before the first); 0 never.
 */
every: number, 
/**
 * After this many steps, evaluate every `every_late` steps instead: the emergence run
 * measures the onset densely and the rest sparsely. `None`: `every` throughout.
 */
late?: LateEval | null, };

export type RunConfig = { preset: string, grpo: GrpoConfig, eval: EvalConfig, };

export type RunSettings = { preset: string, seed?: number, prompts_per_step?: number | null, num_generations?: number | null, learning_rate?: number | null, beta?: number | null, epsilon?: number | null, loss_type?: LossType | null, temperature?: number | null, max_completion_length?: number | null, };

export type GrpoStepMetrics = { step: number, lr: number, reward_mean: number, reward_std: number, 
/**
 * Fraction of groups in which every completion got the same reward (no learning signal).
 */
zero_variance_groups: number, accuracy: number, first_guess_accuracy: number, check_rate: number, wait_rate: number, fix_rate: number, broke_rate: number, check_accuracy: number | null, 
/**
 * Among checks: the verdict says what the comparison says (see `BehaviourStats`).
 */
verdict_accuracy: number | null, mean_length: number, mean_length_correct: number | null, mean_length_wrong: number | null, loss: number, kl: number, clip_fraction: number, entropy: number, aux_loss: number, rollout_ms: number, update_ms: number, 
/**
 * Tokens the rollout sampled (all rows, up to each row's end).
 */
sampled_tokens: number, 
/**
 * Matmul FLOPs the update ran (policy forward and backward per iteration, plus the
 * reference's and the old policy's forward passes where used), counted from the shapes by
 * [`aha_model::ModelConfig::forward_matmul_flops`]: `update_flops / update_ms` is the
 * update's achieved rate.
 */
update_flops: number, readbacks: number, 
/**
 * Updates skipped so far because the loss or a parameter came out NaN or infinite (the
 * policy and optimiser were put back as they were before that update).
 */
skipped_updates: number, };

export type EvalRow = { step: number, 
/**
 * Held-out problems evaluated (each sampled once and decoded greedily once).
 */
problems: number, sampled_acc: number, greedy_acc: number, first_guess_acc: number, check_rate: number, greedy_check_rate: number, wait_rate: number, fix_rate: number, broke_rate: number, check_accuracy: number | null, 
/**
 * The verdict says what the comparison says (`ok` exactly when the check equals the guess).
 */
verdict_accuracy: number | null, ok_when_agree: number | null, wait_when_differ: number | null, check_accuracy_after_wrong_guess: number | null, 
/**
 * A wrong guess whose check reproduced it.
 */
check_copies_guess: number | null, acc_with_check: number | null, acc_without_check: number | null, mean_len: number, };

export type AnswerView = { completion: string, reward: number, advantage: number, correct: boolean, guess_correct: boolean, checked: boolean, said_wait: boolean, 
/**
 * The verdict contradicts the comparison (`wait` on a check equal to the guess, or `ok` on
 * one that differs).
 */
verdict_wrong: boolean, fixed: boolean, broke: boolean, };

export type GroupView = { prompt: string, expected: string, answers: Array<AnswerView>, };

export type Correction = { step: number, prompt: string, completion: string, 
/**
 * The check fixed the guess, but its verdict contradicts the comparison.
 */
verdict_wrong: boolean, };

export type StepReport = { metrics: GrpoStepMetrics, group: GroupView, corrections: Array<Correction>, 
/**
 * `[layers][experts]` share of completion tokens per expert.
 */
expert_load: Array<Array<number>>, 
/**
 * The held-out evaluation, when this step completes an evaluation interval.
 */
eval: EvalRow | null, };

export type Routes = { 
/**
 * The text, a token (character) each.
 */
tokens: Array<string>, 
/**
 * `[layers][tokens]`: the expert with the largest gate (top-1 routing: the one used).
 */
experts: Array<Array<number>>, };

export type GenerateOptions = { 
/**
 * 0 (the default) is greedy.
 */
temperature?: number, top_k?: number, 
/**
 * Longest completion; default: what the model's length allows.
 */
max_new_tokens?: number, 
/**
 * Seeds the sampler, for a reproducible sample; without one each request draws anew.
 */
seed?: number, };

export type Completion = { prompt: string, completion: string, 
/**
 * The final answer if the completion is well formed.
 */
answer: string | null, expected: string, correct: boolean, checked: boolean, 
/**
 * The problem is of the shape the run trains on ([`ModelInfo::task`]): outside it, the model
 * answers something it never learned.
 */
in_task: boolean, 
/**
 * The problem is in the held-out split: no training, SFT or GRPO, ever showed it.
 */
held_out: boolean, tokens: Array<number>, logprobs: Array<number>, };

export type ModelInfo = { parameters: number, 
/**
 * The model's `config.json`.
 */
config: Record<string, unknown>, 
/**
 * The problems the run trains the model on, in words (`3-digit × 1-digit multiplication`).
 */
task: string, };

export type BackendInfo = { "kind": "webgpu", 
/**
 * The adapter's description as the browser reports it (may be empty).
 */
adapter: string, 
/**
 * The browser offered only a fallback (software) adapter, e.g. SwiftShader.
 */
fallback_adapter: boolean, 
/**
 * Why it was chosen, when that was measured (see [`calibration_ms`]).
 */
reason?: string, } | { "kind": "cpu", 
/**
 * Why the GPU is not used, in words for the page.
 */
reason: string, };

export type DistilOptions = { problems: number, steps: number, };

export type DistilProgress = { student_parameters: number, problems: number, answered: number, sampled: number, kept: number, steps: number, steps_done: number, done: boolean, };

export type TeacherAnswer = { prompt: string, completion: string, };

export type ArmEvals = { 
/**
 * The student fine-tuned on the teacher's answers.
 */
distilled: EvalRow, 
/**
 * The student trained with GRPO on its own.
 */
own: EvalRow, };

export type DistilUpdate = { "phase": "answered", kept: Array<TeacherAnswer>, dropped: Array<TeacherAnswer>, } | { "phase": "started", eval: EvalRow, } | { "phase": "stepped", step: number, distil_loss: number, own_reward: number, eval: ArmEvals | null, };

export type PretrainOptions = { recipe: string, steps?: number, seed: bigint, };

export type PretrainProgress = { recipe: string, parameters: number, steps: number, steps_done: number, stages: number, 
/**
 * Every step taken and the probe run.
 */
done: boolean, };

export type PretrainStep = { 
/**
 * Global step, 0-based.
 */
step: number, 
/**
 * The stage it belongs to, 0-based.
 */
stage: number, 
/**
 * Mean next-token loss over the step's trained tokens.
 */
loss: number, };

export type CheckGap = { 
/**
 * 0 for greedy decoding, 1 for sampling.
 */
temperature: number, with_check: number, without_check: number, 
/**
 * The guesses' accuracy (the same in both arms).
 */
guess: number, problems: number, };

export type PretrainUpdate = { "phase": "stepped", steps: Array<PretrainStep>, } | { "phase": "measured", gaps: Array<CheckGap>, };
