//! Distillation in the page (the DeepSeek-R1 report's second finding, at Aha's scale): the current
//! run's policy is the teacher. It answers training problems a batch at a time; the right answers
//! are kept (aha-train's `teacher_answers`: rejection sampling with the reward's own check) and the
//! shipped student is fine-tuned on them. Beside it the same student base trains with GRPO on its
//! own, with the teacher's run config, one update of each arm at a time, and both are measured on
//! that config's held-out set with the same draws — what `cargo xtask distill` measures natively,
//! small enough to watch. Platform-independent, so it is tested natively; `bindings.rs` converts.

use aha_model::{Model, ModelConfig};
use aha_tasks::Problem;
use aha_tokenizer::CharTokenizer;
use aha_train::{
    Checkpoint, DistillConfig, DistillRun, EvalRow, GrpoRun, RunConfig, TeacherAnswers, teacher_answers,
    teacher_problems,
};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::session::{ExportedModel, RunSession, export_model};

/// Training problems the teacher answers per [`DistilSession::advance`]: a batch small enough that
/// the page shows the kept answers as they come.
const PROBLEMS_PER_BATCH: usize = 16;
/// Bounds of what the page may ask for: at most the report's 1,024 problems ×4, its 300 steps ×4.
const MAX_PROBLEMS: usize = 4096;
const MAX_STEPS: usize = 1200;

/// What the page asks for: how many training problems the teacher answers (twice each) and how many
/// updates each student arm gets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DistilOptions {
    pub problems: usize,
    pub steps: usize,
}

impl DistilOptions {
    fn validate(&self) -> Result<(), WebError> {
        if !(1..=MAX_PROBLEMS).contains(&self.problems) {
            return Err(format!("problems must be 1 to {MAX_PROBLEMS}, got {}", self.problems).into());
        }
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return Err(format!("steps must be 1 to {MAX_STEPS}, got {}", self.steps).into());
        }
        Ok(())
    }
}

/// One of the teacher's answers: a prompt and the completion it sampled.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeacherAnswer {
    pub prompt: String,
    pub completion: String,
}

impl TeacherAnswer {
    fn new((prompt, completion): (&str, &str)) -> Self {
        TeacherAnswer { prompt: prompt.to_string(), completion: completion.to_string() }
    }
}

/// Both arms measured on the held-out set after the same number of updates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ArmEvals {
    /// The student fine-tuned on the teacher's answers.
    pub distilled: EvalRow,
    /// The student trained with GRPO on its own.
    pub own: EvalRow,
}

/// What one [`DistilSession::advance`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DistilUpdate {
    /// The teacher answered a batch of training problems (two samples each): the right answers
    /// are `kept` for the student, the wrong ones `dropped`.
    Answered { kept: Vec<TeacherAnswer>, dropped: Vec<TeacherAnswer> },
    /// The student's base model on the held-out set: where both arms start (step 0).
    /// (Rows are boxed: an enum is as large as its largest variant.)
    Started { eval: Box<EvalRow> },
    /// One update of each arm: the distilled student's next-token loss on the teacher's answers,
    /// the own-GRPO arm's rollout reward, and both arms' evaluation when one is due.
    Stepped { step: usize, distil_loss: f32, own_reward: f64, eval: Option<Box<ArmEvals>> },
}

/// Where a distillation stands: the page's progress line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DistilProgress {
    pub student_parameters: usize,
    pub problems: usize,
    pub answered: usize,
    pub sampled: usize,
    pub kept: usize,
    pub steps: usize,
    pub steps_done: usize,
    pub done: bool,
}

/// A distillation of the current run's policy into the shipped student: see the module docs.
pub struct DistilSession {
    teacher: Model,
    tokenizer: CharTokenizer,
    student_base: Model,
    student_config: ModelConfig,
    device: Device,
    config: DistillConfig,
    problems: Vec<Problem>,
    answered: usize,
    answers: TeacherAnswers,
    started: bool,
    /// The student's own GRPO run, with the teacher's run config; it also holds the held-out set
    /// and the evaluation schedule both arms are measured by.
    own: GrpoRun,
    distilled: Option<DistillRun>,
}

impl DistilSession {
    /// `teacher`'s current policy teaches the student whose checkpoint files are given. Every
    /// error is a sentence for the page.
    pub fn new(
        teacher: &RunSession,
        weights: Vec<u8>,
        config_json: &str,
        tokenizer_json: &str,
        options: &DistilOptions,
    ) -> Result<Self, WebError> {
        options.validate()?;
        let device = teacher.device().clone();
        let student = Checkpoint::from_parts(config_json, tokenizer_json, weights)?;
        if student.tokenizer.to_json()? != teacher.tokenizer().to_json()? {
            return Err(
                "the student's tokenizer is not the teacher's: it cannot read the teacher's answers".into()
            );
        }
        let student_base = student.load_model(&device)?;
        let run: &RunConfig = teacher.config();
        let config = DistillConfig::for_teacher(&run.grpo, options.steps);
        config.validate()?;
        let problems = teacher_problems(run.grpo.task, run.grpo.seed, options.problems)?;
        let own = GrpoRun::new(student_base.clone(), run.clone(), student.tokenizer.clone(), &device)?;
        Ok(Self {
            teacher: teacher.policy(),
            tokenizer: student.tokenizer,
            student_base,
            student_config: student.config,
            device,
            config,
            problems,
            answered: 0,
            answers: TeacherAnswers::default(),
            started: false,
            own,
            distilled: None,
        })
    }

    pub fn progress(&self) -> DistilProgress {
        DistilProgress {
            student_parameters: self.student_config.num_params(),
            problems: self.problems.len(),
            answered: self.answered,
            sampled: self.answers.sampled(),
            kept: self.answers.traces.len(),
            steps: self.config.steps,
            steps_done: self.own.steps_done(),
            done: self.is_done(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.own.steps_done() >= self.config.steps
    }

    /// The next piece of work: a batch of the teacher's answers until every problem is answered,
    /// then the base model's evaluation, then one update of each arm. Errors once done.
    pub async fn advance(&mut self) -> Result<DistilUpdate, WebError> {
        if self.is_done() {
            return Err("this distillation is done".into());
        }
        if self.answered < self.problems.len() {
            return self.answer_batch().await;
        }
        if !self.started {
            self.started = true;
            return Ok(DistilUpdate::Started { eval: Box::new(self.own.evaluate_base().await?) });
        }
        self.step().await
    }

    async fn answer_batch(&mut self) -> Result<DistilUpdate, WebError> {
        let end = (self.answered + PROBLEMS_PER_BATCH).min(self.problems.len());
        // Each batch its own draws: the same seed would repeat the first batch's random numbers.
        let config = DistillConfig { seed: self.config.seed ^ (self.answered as u64), ..self.config.clone() };
        let batch = self.problems[self.answered..end].to_vec();
        let answers = teacher_answers(&self.teacher, &self.tokenizer, &batch, &config, &self.device).await?;
        self.answered = end;
        let kept = answers.traces.iter().map(|t| TeacherAnswer::new((&t.prompt, &t.completion))).collect();
        let dropped = answers.rejected.iter().map(|(p, c)| TeacherAnswer::new((p, c))).collect();
        self.answers.extend(answers);
        Ok(DistilUpdate::Answered { kept, dropped })
    }

    async fn step(&mut self) -> Result<DistilUpdate, WebError> {
        if self.distilled.is_none() {
            let run = DistillRun::new(
                self.student_base.clone(),
                self.answers.clone(),
                self.config.clone(),
                self.tokenizer.clone(),
                &self.device,
            )?;
            self.distilled = Some(run);
        }
        let distilled = self.distilled.as_mut().expect("made above");
        let distil_loss = match distilled.next_step().await {
            Some(metrics) => metrics?.loss,
            None => return Err("the distilled student has taken all its steps".into()),
        };
        let own = self.own.step().await?;
        let step = self.own.steps_done();
        // The own run's schedule, and always after the last update, so both arms end measured.
        let eval = match (own.eval, self.is_done()) {
            (Some(row), _) => Some(self.evaluate_both(row).await?),
            (None, true) => {
                let row = self.own.evaluate().await?;
                Some(self.evaluate_both(row).await?)
            }
            (None, false) => None,
        };
        Ok(DistilUpdate::Stepped { step, distil_loss, own_reward: own.step.metrics.reward_mean, eval })
    }

    /// The distilled student beside the own arm's row `own`: on the same held-out problems with
    /// the same draws.
    async fn evaluate_both(&self, own: EvalRow) -> Result<Box<ArmEvals>, WebError> {
        let student = self.distilled.as_ref().expect("a step was taken").student();
        let distilled = self.own.evaluate_model(&student, own.step).await?;
        Ok(Box::new(ArmEvals { distilled, own }))
    }

    /// The distilled student as files (the student's base model before the first update).
    pub async fn export(&self) -> Result<ExportedModel, WebError> {
        let student = self.distilled.as_ref().map_or_else(|| self.student_base.clone(), DistillRun::student);
        export_model(&student, &self.student_config, &self.tokenizer).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aha_train::RunSettings;

    fn shipped(folder: &str) -> (Vec<u8>, String, String) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/public").join(folder);
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        let text = |name: &str| String::from_utf8(read(name)).unwrap();
        (read("model.bpk"), text("config.json"), text("tokenizer.json"))
    }

    /// The shipped base model as the teacher (it answers about a quarter right), tiny preset.
    fn teacher() -> RunSession {
        let (weights, config, tokenizer) = shipped("base-model");
        let settings: RunSettings = serde_json::from_str(r#"{"preset":"tiny"}"#).unwrap();
        RunSession::new(&Device::flex(), weights, &config, &tokenizer, &settings).unwrap()
    }

    fn distil(teacher: &RunSession, problems: usize, steps: usize) -> Result<DistilSession, WebError> {
        let (weights, config, tokenizer) = shipped("student-model");
        DistilSession::new(teacher, weights, &config, &tokenizer, &DistilOptions { problems, steps })
    }

    #[test]
    fn answers_then_the_base_row_then_both_arms_step_and_end_measured() {
        let teacher = teacher();
        let mut session = distil(&teacher, 20, 2).unwrap();
        let mut updates = Vec::new();
        while !session.is_done() {
            updates.push(pollster::block_on(session.advance()).unwrap());
        }
        // 20 problems: a batch of 16 and one of 4, two samples each; the right ones kept.
        let answered = |update: &DistilUpdate| match update {
            DistilUpdate::Answered { kept, dropped } => (kept.clone(), dropped.clone()),
            other => panic!("{other:?}"),
        };
        let (first, second) = (answered(&updates[0]), answered(&updates[1]));
        assert_eq!((first.0.len() + first.1.len(), second.0.len() + second.1.len()), (32, 8));
        for (answers, right) in [(&first.0, true), (&first.1, false), (&second.0, true), (&second.1, false)] {
            for answer in answers {
                let problem = Problem::parse(&answer.prompt).unwrap();
                assert!(!aha_tasks::is_held_out(&problem), "{} is held out", answer.prompt);
                let parsed = aha_tasks::parse_completion(&answer.completion);
                assert_eq!(
                    aha_tasks::is_correct(&problem, &parsed),
                    right,
                    "{}{}",
                    answer.prompt,
                    answer.completion
                );
            }
        }
        let progress = session.progress();
        assert_eq!((progress.answered, progress.sampled, progress.steps_done), (20, 40, 2));
        assert!(progress.kept > 0 && progress.kept < 40, "kept {} of 40", progress.kept);
        let DistilUpdate::Started { eval: base } = &updates[2] else { panic!("{:?}", updates[2]) };
        assert_eq!((base.step, base.problems), (0, 16));
        // The tiny preset evaluates every 5 steps; the last step is measured anyway, both arms
        // on the same problems.
        assert!(matches!(updates[3], DistilUpdate::Stepped { step: 1, eval: None, .. }));
        let DistilUpdate::Stepped { step: 2, eval: Some(evals), distil_loss, .. } = &updates[4] else {
            panic!("{:?}", updates[4])
        };
        assert!(distil_loss.is_finite());
        assert_eq!((evals.distilled.step, evals.own.step), (2, 2));
        assert_eq!((evals.distilled.problems, evals.own.problems), (16, 16));
        assert!(progress.done);
        let again = pollster::block_on(session.advance()).unwrap_err().to_string();
        assert!(again.contains("done"), "{again}");
    }

    #[test]
    fn the_student_s_base_measured_as_another_model_is_the_own_run_s_base_row() {
        // So the distilled arm's rows compare with the own arm's: same problems, same draws.
        let teacher = teacher();
        let session = distil(&teacher, 1, 1).unwrap();
        let base = pollster::block_on(session.own.evaluate_base()).unwrap();
        let same = pollster::block_on(session.own.evaluate_model(&session.student_base, 0)).unwrap();
        assert_eq!(same, base);
    }

    #[test]
    fn bad_options_are_refused_by_name() {
        let teacher = teacher();
        let error = |problems, steps| distil(&teacher, problems, steps).err().unwrap().to_string();
        assert!(error(0, 10).starts_with("problems must be 1 to 4096"), "{}", error(0, 10));
        assert!(error(10, 5000).starts_with("steps must be 1 to 1200"), "{}", error(10, 5000));
        let (weights, config, tokenizer) = shipped("student-model");
        let truncated = DistilSession::new(
            &teacher,
            weights[..100].to_vec(),
            &config,
            &tokenizer,
            &DistilOptions { problems: 4, steps: 1 },
        );
        assert!(truncated.err().unwrap().to_string().starts_with("model.bpk"));
    }
}
